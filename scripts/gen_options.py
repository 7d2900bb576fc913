"""Regenerate secure_constructs/_options.py: the typed pass-through options of the constructs.

Each construct passes the keyword arguments it does not declare on to its aws-cdk-lib L2. As
`**options: Any` a typo such as `memory_sise=512` would pass mypy; as
`**options: Unpack[FunctionOptions]` it is a type error. This script writes one TypedDict per
construct with exactly the L2's keyword arguments (with the types of the installed aws-cdk-lib)
minus those the construct declares itself, sets in its `super().__init__` call, or refuses.
The construct sources are read with `ast` (not imported), so the script also works when the
generated module is missing. tests/constructs/test_options.py fails when the installed
aws-cdk-lib and the generated module differ.

Usage: python scripts/gen_options.py [--check]
"""

from __future__ import annotations

import ast
import collections.abc
import importlib
import inspect
import re
import subprocess
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "secure_constructs" / "_options.py"


@dataclass(frozen=True)
class Spec:
    """One TypedDict: the L2 callable, the construct method that passes options on to it."""

    name: str
    l2: str  # "module:Class.method"
    module: str  # the construct's source module, dotted, e.g. "function" or "api.rest_api"
    cls: str
    method: str = "__init__"
    refusal_tables: tuple[str, ...] = ()  # module-level tuples/dicts of refused names
    tables_module: str | None = None  # where the refusal tables live. Default: `module`
    refused: tuple[str, ...] = ()  # names refused in code rather than in a table
    extra: tuple[str, ...] = field(default=())


SPECS = (
    Spec(
        "FunctionOptions",
        "aws_cdk.aws_lambda:Function.__init__",
        "function",
        "SecureFunction",
        refusal_tables=("_FIXED_OPTIONS",),
        tables_module="function_props",
        refused=("role", "log_retention_role", "log_retention_retry_options"),
        # CDK refuses it beside the system_log_level_v2 that SecureFunction sets.
        extra=("system_log_level",),
    ),
    Spec(
        "FunctionUrlOptions",
        "aws_cdk.aws_lambda:Function.add_function_url",
        "function",
        "SecureFunction",
        method="add_function_url",
    ),
    Spec(
        "UserPoolOptions",
        "aws_cdk.aws_cognito:UserPool.__init__",
        "user_pool",
        "SecureUserPool",
        refusal_tables=("_FIXED",),
    ),
    Spec(
        "SecretOptions",
        "aws_cdk.aws_secretsmanager:Secret.__init__",
        "secret",
        "SecureSecret",
        refused=("secret_string_beta1",),
    ),
    Spec(
        "ApiOptions",
        "aws_cdk.aws_apigateway:RestApi.__init__",
        "api.rest_api",
        "SecureApi",
        refusal_tables=("_FIXED_OPTIONS",),
        tables_module="api.props",
    ),
    Spec(
        "StateMachineOptions",
        "aws_cdk.aws_stepfunctions:StateMachine.__init__",
        "workflow.state_machine",
        "SecureStateMachine",
        refusal_tables=("_FIXED_OPTIONS",),
    ),
    Spec(
        "LambdaInvokeOptions",
        "aws_cdk.aws_stepfunctions_tasks:LambdaInvoke.__init__",
        "workflow.lambda_task",
        "SecureLambdaInvoke",
        refusal_tables=("_FIXED_OPTIONS",),
    ),
)
_SKIP = {"self", "scope", "id"}


def l2_callable(spec: Spec) -> typing.Any:
    module_name, path = spec.l2.split(":")
    obj: typing.Any = importlib.import_module(module_name)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def l2_params(spec: Spec) -> list[str]:
    """The L2's keyword arguments (the ones a construct could pass through)."""
    return [n for n in inspect.signature(l2_callable(spec)).parameters if n not in _SKIP]


def _method(tree: ast.Module, spec: Spec) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == spec.cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == spec.method:
                    return item
    raise SystemExit(f"{spec.cls}.{spec.method} not found in {_source(spec.module)}")


def _table_names(tree: ast.Module, table: str) -> set[str]:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == table for t in targets):
            value = node.value
            elements = value.keys if isinstance(value, ast.Dict) else getattr(value, "elts", [])
            return {e.value for e in elements if isinstance(e, ast.Constant)}
    raise SystemExit(f"refusal table {table} not found")


def _super_keywords(method: ast.FunctionDef, name: str) -> set[str]:
    """Keyword arguments of the `super().<name>(...)` call (set by the construct itself)."""
    for node in ast.walk(method):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == name
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
        ):
            return {k.arg for k in node.keywords if k.arg is not None}
    raise SystemExit(f"no super().{name}(...) call in {method.name}")


def _source(module: str) -> Path:
    return ROOT / "secure_constructs" / f"{module.replace('.', '/')}.py"


def not_passed_through(spec: Spec) -> set[str]:
    """Names the construct declares, sets itself or refuses: not part of its options."""
    tree = ast.parse(_source(spec.module).read_text())
    method = _method(tree, spec)
    names = {a.arg for a in method.args.kwonlyargs}
    names |= _super_keywords(method, spec.method)
    tables = (
        tree if spec.tables_module is None else ast.parse(_source(spec.tables_module).read_text())
    )
    for table in spec.refusal_tables:
        names |= _table_names(tables, table)
    return names | set(spec.refused) | set(spec.extra)


def render_type(tp: typing.Any, modules: set[str]) -> str:
    """Source text of a resolved annotation, with fully qualified aws-cdk-lib names."""
    if tp is type(None):
        return "None"
    if tp is typing.Any:
        return "typing.Any"
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(render_type(a, modules) for a in typing.get_args(tp))
    if origin is not None:
        names = {
            collections.abc.Sequence: "collections.abc.Sequence",
            collections.abc.Mapping: "collections.abc.Mapping",
            dict: "dict",
            list: "list",
        }
        if origin not in names:
            raise SystemExit(f"cannot render {tp!r}")
        modules.add("collections.abc")
        return f"{names[origin]}[{', '.join(render_type(a, modules) for a in typing.get_args(tp))}]"
    if isinstance(tp, type):
        if tp.__module__ == "builtins":
            return tp.__name__
        modules.add(tp.__module__)
        return f"{tp.__module__}.{tp.__qualname__}"
    raise SystemExit(f"cannot render {tp!r}")


def runtime_namespace() -> dict[str, typing.Any]:
    """The names the generated annotations use, to resolve them with typing.get_type_hints."""
    text = TARGET.read_text()
    for module in set(re.findall(r"^    import (\S+)$", text, re.M)):
        importlib.import_module(module)
    import aws_cdk

    return {"aws_cdk": aws_cdk, "collections": collections, "typing": typing}


def generate() -> str:
    modules: set[str] = set()
    classes = []
    for spec in SPECS:
        hints = typing.get_type_hints(l2_callable(spec))
        excluded = not_passed_through(spec)
        lines = [
            f"class {spec.name}(typing.TypedDict, total=False):",
            f'    """What {spec.cls}.{spec.method} passes on to `{spec.l2.replace(":", ".")}`."""',
            "",
        ]
        for name in l2_params(spec):
            if name not in excluded:
                lines.append(f"    {name}: {render_type(hints[name], modules)}")
        classes.append("\n".join(lines))
    # Under TYPE_CHECKING: importing a construct must not load the aws_cdk modules of the
    # others (tests/test_imports.py); the annotations stay strings at runtime.
    stdlib = sorted(m for m in modules if not m.startswith("aws_cdk"))
    cdk = sorted(m for m in modules if m.startswith("aws_cdk"))
    imports = "import typing\n\nif typing.TYPE_CHECKING:\n"
    imports += "".join(f"    import {m}\n" for m in stdlib) + "\n"
    imports += "".join(f"    import {m}\n" for m in cdk)
    header = (
        '"""Typed pass-through options of the constructs (`**options: Unpack[...]`).\n\n'
        "Generated by scripts/gen_options.py from the installed aws-cdk-lib; do not edit.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n\nfrom __future__ import annotations\n\n"
    )
    return header + imports + "\n\n" + "\n\n\n".join(classes) + "\n"


def main() -> int:
    text = generate()
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != formatted:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python scripts/gen_options.py")
            return 1
        return 0
    TARGET.write_text(formatted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
