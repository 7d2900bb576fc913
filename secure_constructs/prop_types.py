"""Every public prop checked against its own type annotation before CDK sees it.

Each public constructor, method and factory starts with one line,
`check_args(SecureFunction.__init__, locals())`: every argument the caller passed (a value
that is not the parameter's own default) is matched against the parameter's annotation
(`Optional`/unions, `Sequence[...]`, `Mapping[...]`, `Duration`, jsii enums, jsii interfaces
such as `IFunction` or `IKey`, the `Unpack[...]` TypedDicts of the pass-through `**options`),
then against the AWS limits in `prop_values.VALUES`. A mismatch is a `ValidationError` naming
the prop, the value, the type it must have and how to fix it, instead of typeguard's
`TypeError`, an `AttributeError` deep in the construct, a jsii stack trace or a template AWS
rejects later.

What cannot be caught here: a keyword the signature has no `**options` for (Python raises its
own `TypeError` before the body runs), and a value CDK refuses while it is being built, before
the call (`Duration.seconds(-5)` raises inside CDK's `Duration`).
"""

from __future__ import annotations

import ast
import collections.abc
import difflib
import enum
import functools
import importlib
import inspect
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from secure_constructs.errors import ValidationError
from secure_constructs.prop_values import NON_BLANK, VALUES, is_token, non_blank

__all__ = ["Problem", "check_args", "describe", "problem"]

# -- the check -----------------------------------------------------------------------------


def check_args(function: Callable[..., Any], args: Mapping[str, Any]) -> None:
    """Check the arguments of one call of `function` (its `locals()` on entry).

    An argument that is the parameter's own default is not checked (the default is ours).
    """
    for name, default, param_kind in _parameters(function):
        if name not in args:
            continue
        value = args[name]
        if value is default:
            continue
        if param_kind is inspect.Parameter.VAR_KEYWORD:
            _check_options(function, value)
            continue
        if param_kind is inspect.Parameter.VAR_POSITIONAL:
            for index, item in enumerate(value):
                _check_one(function, f"{name}[{index}]", item, _hint(function, name))
            continue
        _check_one(function, name, value, _hint(function, name), default)


def _check_one(
    function: Callable[..., Any], name: str, value: Any, hint: Any, default: Any = None
) -> None:
    found = problem(name, value, hint)
    if found is not None:
        prop, bad, expected, fix = found
        if fix is not None:
            raise ValidationError(prop, _shown(bad), expected, fix)
        example = _example(hint, default) if prop == name else None
        fix = f"pass e.g. {prop}={example}" if example else f"pass {expected}"
        raise ValidationError(
            prop,
            _shown(bad),
            f"{expected} (got {_type_name(bad)})",
            fix + ("" if _required(hint) or prop != name else ", or leave it out"),
        )
    if name in NON_BLANK:
        non_blank(name, value)
    extra = VALUES.get((function.__qualname__, name))
    if extra is not None:
        extra(name, value)


def _check_options(function: Callable[..., Any], options: Mapping[str, Any]) -> None:
    """`**options` against the TypedDict of its `Unpack[...]` annotation; keys the TypedDict
    leaves out are the construct's to refuse (or CDK's to accept) and are left alone, except
    names the parent CDK call does not take at all (a typo)."""
    typed = _typed_dict(function)
    if typed is None:
        return
    accepted = _parent_parameters(function)
    for key, value in options.items():
        if key in typed.__annotations__:
            _check_one(function, key, value, _option_hint(typed, key))
        elif accepted is not None and key not in accepted:
            known = sorted({*accepted, *(n for n, _, _ in _parameters(function))})
            close = difflib.get_close_matches(key, known, n=1)
            raise ValidationError(
                key,
                value,
                f"a prop of {function.__qualname__.split('.')[0]} or of the CDK construct it "
                "extends",
                f"did you mean {close[0]}=?" if close else "check the name (props are snake_case)",
            )


class Problem(typing.NamedTuple):
    """What does not fit: where (`environment['A']`), the value there, what it must be."""

    where: str
    value: Any
    expected: str
    fix: str | None = None  # None: "pass <expected>", with an example where one is known


def problem(prop: str, value: Any, hint: Any) -> Problem | None:
    """None if `value` fits `hint`, else (where, the offending value, what was expected)."""
    if hint is Any or hint is object:
        return None
    if hint is None or hint is type(None):
        return None if value is None else Problem(prop, value, "None")
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union_problem(prop, value, hint)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        return None if value in choices else Problem(prop, value, describe(hint))
    if origin is not None:
        return _generic_problem(prop, value, hint, origin)
    if isinstance(hint, type):
        return None if _is_instance(value, hint) else Problem(prop, value, describe(hint))
    return None  # a TypeVar, a string left unresolved, ...: nothing to hold the value to


def _union_problem(prop: str, value: Any, hint: Any) -> Problem | None:
    members = [m for m in typing.get_args(hint) if m is not type(None)]
    if value is None and len(members) < len(typing.get_args(hint)):
        return None
    found = [problem(prop, value, member) for member in members]
    if any(f is None for f in found):
        return _struct_dict_problem(prop, value, members)
    # The one member whose outer type fits (a dict for Mapping[str, str]) says what is wrong
    # inside it, e.g. environment['A']=5.
    outer = [f for m, f in zip(members, found, strict=True) if _outer_fits(value, m)]
    if len(outer) == 1 and outer[0] is not None:
        return outer[0]
    return Problem(prop, value, describe(hint))


def _struct_dict_problem(prop: str, value: Any, members: list[Any]) -> Problem | None:
    """A dict given for a jsii struct (`SubnetSelection | dict[str, Any]`) may use only the
    struct's fields: jsii would refuse a misspelt one with a deserialization error."""
    if not isinstance(value, collections.abc.Mapping):
        return None
    for member in members:
        fields = (
            getattr(member, "__jsii_name_mapping__", None) if isinstance(member, type) else None
        )
        if fields is None:
            continue
        for key in value:
            if key not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=1)
                return Problem(
                    prop,
                    key,
                    f"the fields of {_class_name(member)} ({', '.join(fields)})",
                    f"did you mean {close[0]!r}?" if close else "check the field's name",
                )
    return None


def _generic_problem(prop: str, value: Any, hint: Any, origin: Any) -> Problem | None:
    args = typing.get_args(hint)
    if origin is typing.Unpack:
        return None
    if not _outer_fits(value, hint):
        return Problem(prop, value, describe(hint))
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) and args:
        for key, item in value.items():
            where = f"{prop}[{key!r}]"
            if (found := problem(prop, key, args[0])) is not None:
                return Problem(prop, key, f"keys that are {_bare(args[0])}")
            if (found := problem(where, item, args[1])) is not None:
                return found
        return None
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            return Problem(prop, value, describe(hint))
        pairs = list(zip(args, value, strict=True))
    elif args and isinstance(value, collections.abc.Collection):
        pairs = [(args[0], item) for item in value]
    else:
        return None  # an iterator: reading it here would use it up
    for index, (item_hint, item) in enumerate(pairs):
        if (found := problem(f"{prop}[{index}]", item, item_hint)) is not None:
            return found
    return None


def _outer_fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint) or hint
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return isinstance(value, collections.abc.Mapping)
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.Iterable, set):
        if isinstance(value, str | bytes | collections.abc.Mapping):
            return False
        if origin is collections.abc.Iterable:
            return isinstance(value, collections.abc.Iterable)
        if origin is set:
            return isinstance(value, collections.abc.Set)
        return isinstance(value, list | tuple) or (
            origin is collections.abc.Sequence and isinstance(value, collections.abc.Sequence)
        )
    if origin is collections.abc.Callable:
        return callable(value)
    if isinstance(origin, type) and typing.get_origin(hint) is None:
        return _is_instance(value, origin)
    return isinstance(origin, type) and isinstance(value, origin)


def _is_instance(value: Any, cls: type) -> bool:
    if cls is bool:
        return isinstance(value, bool)
    if cls is int:
        if isinstance(value, bool):
            return False
        if isinstance(value, float):  # a number token is a float
            return math.isfinite(value) and is_token(value)
        return isinstance(value, int)
    if cls is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return not isinstance(value, float) or math.isfinite(value)  # NaN kills jsii's kernel
    if cls is str:
        return isinstance(value, str)
    if getattr(cls, "_is_protocol", False):
        return _provides(value, cls)
    return isinstance(value, cls)


def _provides(value: Any, interface: type) -> bool:
    """A jsii interface (a typing Protocol, not runtime-checkable): declared by the value's
    class (`@jsii.implements`), or the class is the interface's proxy, or for a combined
    proxy of several interfaces, one of its parts."""
    delegates = getattr(type(value), "__name__", "") == "InterfaceDynamicProxy" and getattr(
        value, "_delegates", None
    )
    if delegates:
        return any(_class_provides(type(part), interface) for part in delegates)
    return _class_provides(type(value), interface)


provides = _provides
"""Public name of `_provides`: whether `value` provides the jsii interface `interface`."""

_PROVIDES: dict[tuple[type, type], bool] = {}


def _class_provides(cls: type, interface: type) -> bool:
    known = _PROVIDES.get((cls, interface))
    if known is None:
        known = _PROVIDES[(cls, interface)] = _declares(cls, interface)
    return known


def _declares(cls: type, interface: type) -> bool:
    proxy_of = getattr(interface, "__jsii_proxy_class__", None)
    proxy = proxy_of() if callable(proxy_of) else None
    for klass in cls.__mro__:
        if klass is interface or (proxy is not None and klass is proxy):
            return True
        for declared in klass.__dict__.get("__jsii_ifaces__", ()):
            if interface in getattr(declared, "__mro__", ()):
                return True
    return False


# -- words ---------------------------------------------------------------------------------

_EXAMPLES = {
    "Duration": "Duration.seconds(10)",
    "Code": "Code.from_asset('src')",
    "Runtime": "Runtime.PYTHON_3_14",
    "Architecture": "Architecture.ARM_64",
    "RemovalPolicy": "RemovalPolicy.RETAIN",
    "SecretValue": "SecretValue.resource_attribute(...)",
}


def describe(hint: Any) -> str:
    """The type in the user's words: 'a Duration (e.g. Duration.seconds(10))'."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is None or hint is type(None):
        return "None"
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(describe(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return f"a dict of {_bare(args[0])} to {_bare(args[1])}" if args else "a dict"
    if origin is tuple and args and args[-1] is not Ellipsis:
        return "a tuple of " + ", ".join(_bare(a) for a in args)
    if origin in (list, tuple, set, collections.abc.Sequence, collections.abc.Iterable):
        return f"a list of {_bare(args[0])}" if args else "a list"
    if origin is collections.abc.Callable:
        return "a function"
    if isinstance(hint, type):
        words = {str: "a string", bool: "True or False", int: "a whole number", float: "a number"}
        if hint in words:
            return words[hint]
        name = _class_name(hint)
        return f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"
    return str(hint)


def _example(hint: Any, default: Any) -> str | None:
    """A value of the type to paste, from the parameter's own default where it has one."""
    members = [m for m in typing.get_args(hint) if m is not type(None)] or [hint]
    for member in members:
        if not isinstance(member, type):
            continue
        if issubclass(member, enum.Enum):
            chosen = default if isinstance(default, member) else next(iter(member), None)
            return None if chosen is None else f"{member.__name__}.{chosen.name}"
        if member.__name__ in _EXAMPLES:
            return _EXAMPLES[member.__name__]
    return None


def _bare(hint: Any) -> str:
    text = describe(hint)
    return text.split(" ", 1)[1] + "s" if text.startswith(("a ", "an ")) else text


def _class_name(cls: type) -> str:
    module = cls.__module__
    if module.startswith("aws_cdk."):
        return f"{module.removeprefix('aws_cdk.').removeprefix('interfaces.')}.{cls.__name__}"
    return cls.__name__


def _type_name(value: Any) -> str:
    return "None" if value is None else _class_name(type(value))


def _shown(value: Any) -> Any:
    """The value, or its class name when its repr would only be `<... object at 0x...>`."""
    return type(value).__name__ if " object at 0x" in repr(value) else value


def _required(hint: Any) -> bool:
    return type(None) not in typing.get_args(hint)


# -- annotations, resolved once per parameter -------------------------------------------------


@functools.cache
def _parameters(function: Callable[..., Any]) -> tuple[tuple[str, Any, Any], ...]:
    return tuple(
        (p.name, p.default, p.kind)
        for p in inspect.signature(function).parameters.values()
        if p.name not in ("self", "cls")
    )


@functools.cache
def _hint(function: Callable[..., Any], name: str) -> Any:
    annotation = inspect.signature(function).parameters[name].annotation
    if annotation is inspect.Parameter.empty:
        return Any
    return _resolve(annotation, sys.modules[function.__module__])


@functools.cache
def _typed_dict(function: Callable[..., Any]) -> type | None:
    for name, _, param_kind in _parameters(function):
        if param_kind is inspect.Parameter.VAR_KEYWORD:
            hint = _hint(function, name)
            if typing.get_origin(hint) is typing.Unpack:
                typed: type = typing.get_args(hint)[0]
                return typed
    return None


@functools.cache
def _option_hint(typed: type, key: str) -> Any:
    """One key's annotation, resolved when the key is first passed (its module may not be
    loaded before)."""
    return _resolve(typed.__annotations__[key], sys.modules[typed.__module__])


@functools.cache
def _parent_parameters(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword names the CDK method `function` overrides accepts (None: unknown)."""
    owner_name, _, method = function.__qualname__.rpartition(".")
    owner = getattr(sys.modules[function.__module__], owner_name, None)
    if not isinstance(owner, type):
        return None
    for base in owner.__mro__[1:]:
        parent = base.__dict__.get(method)
        if parent is not None:
            keywords = inspect.signature(parent).parameters.values()
            return frozenset(p.name for p in keywords if p.kind is inspect.Parameter.KEYWORD_ONLY)
    return None


def _resolve(annotation: Any, module: types.ModuleType) -> Any:
    if isinstance(annotation, typing.ForwardRef):  # a TypedDict's keys under __future__
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return annotation
    return eval(annotation, vars(module), _Names(module))


class _Names(dict[str, Any]):
    """Names an annotation uses that its module imports only for type checkers."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__()
        self.imports = _type_checking_imports(module)

    def __missing__(self, name: str) -> Any:
        target = self.imports.get(name)
        if target is None:
            raise KeyError(name)
        module, attribute = target
        if attribute is None:
            return _LazyModule(module)
        loaded = importlib.import_module(module)
        try:
            return getattr(loaded, attribute)
        except AttributeError:
            return importlib.import_module(f"{module}.{attribute}")


class _LazyModule:
    """`aws_cdk` of `import aws_cdk.aws_lambda`: submodules imported when first named."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self._name)
        try:
            found = getattr(module, attribute)
        except AttributeError:
            importlib.import_module(f"{self._name}.{attribute}")
            return _LazyModule(f"{self._name}.{attribute}")
        return _LazyModule(found.__name__) if isinstance(found, types.ModuleType) else found


@functools.cache
def _type_checking_imports(module: types.ModuleType) -> dict[str, tuple[str, str | None]]:
    """alias -> (module, attribute or None) of the module's `if TYPE_CHECKING:` imports."""
    path = getattr(module, "__file__", None)
    if path is None:
        return {}
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            continue
        for statement in ast.walk(node):
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        found[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        found[top] = (top, None)
            elif isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    found[alias.asname or alias.name] = (statement.module, alias.name)
    return found
