"""Find the AWS SDK calls of a Python Lambda handler with `ast`, without running it.

The handler's module and every module of the same asset it imports (transitively) are read.
Tracked: `boto3.client/resource(...)` (also through `boto3.Session()`), their sub-resources
(`.Table(...)`, `.Bucket(...)`), `.meta.client`, paginators and waiters, module-level clients,
local variables and helper functions that return any of these (in the same asset), and the
Powertools utilities of `powertools.py`. A service name or method built at run time is reported
as unresolved.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls import powertools, sdk
from secure_constructs.audit.code_calls.mismatches import LOCAL_METHODS
from secure_constructs.audit.code_calls.model import Call, CodeAnalysis, Unresolved

_MAX_DEPTH = 12
_ENV_READERS = ("os.environ.get", "os.getenv", "os.environ.__getitem__")


@dataclass(frozen=True)
class _Obj:
    """An SDK object the code holds."""

    kind: str  # client | resource | sub | paginator | waiter | provider | session
    service: str = ""
    detail: str | None = None  # sub-resource type, operation, waiter, provider class
    env: str | None = None


@dataclass(frozen=True)
class _Env:
    """A value read from an environment variable."""

    name: str


class _Module:
    def __init__(self, name: str, path: Path, rel: str, tree: ast.Module) -> None:
        self.name, self.path, self.rel, self.tree = name, path, rel, tree
        self.imports: dict[str, str] = {}
        self.globals: dict[str, ast.expr] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for node in tree.body:
            self._top(node)

    def _top(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self.imports[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(self.name.split(".")[: -node.level])
            module = ".".join(p for p in (base, node.module or "") if p)
            for alias in node.names:
                self.imports[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Name):
                self.globals[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            self.globals[node.target.id] = node.value
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.functions[node.name] = node
        elif isinstance(node, ast.If | ast.Try):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self._top(child)


class _Asset:
    """The Python modules of one asset, read on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, _Module | None] = {}
        self.errors: list[str] = []

    def module(self, name: str) -> _Module | None:
        if name in self.modules:
            return self.modules[name]
        self.modules[name] = None
        parts = name.split(".")
        for candidate in (
            self.root.joinpath(*parts).with_suffix(".py"),
            self.root.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                rel = candidate.relative_to(self.root).as_posix()
                try:
                    tree = ast.parse(candidate.read_bytes(), filename=rel)
                except (SyntaxError, ValueError) as error:
                    self.errors.append(f"{rel} cannot be parsed: {error}")
                    return None
                except OSError as error:
                    self.errors.append(f"{rel} cannot be read: {error.strerror or error}")
                    return None
                self.modules[name] = _Module(name, candidate, rel, tree)
                break
        return self.modules[name]

    def split(self, dotted: str) -> tuple[_Module, str] | None:
        """`pkg.mod.attr` -> (the asset's module pkg.mod, "attr") when that module exists."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.module(".".join(parts[:cut]))
            if module is not None:
                return module, ".".join(parts[cut:])
        return None


class _Analyser:
    def __init__(self, asset: _Asset) -> None:
        self.asset = asset
        self.result = CodeAnalysis()
        self._returns: dict[tuple[str, str], object] = {}
        self.bindings: dict[tuple[str, str], dict[str, Any]] = {}

    # -- names -------------------------------------------------------------------------------

    def dotted(self, node: ast.expr, mod: _Module) -> str | None:
        """The canonical dotted name of a Name/Attribute chain, through the module's imports."""
        if isinstance(node, ast.Name):
            return mod.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value, mod)
            return f"{base}.{node.attr}" if base else None
        return None

    def value(
        self, node: ast.expr, mod: _Module, local: dict[str, ast.expr], depth: int = 0
    ) -> object:
        """What an expression holds: an _Obj, an _Env, a str constant, or None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in local:
                bound = local[node.id]
                if isinstance(bound, _Obj):  # a parameter bound to an SDK object by a caller
                    return bound
                return self.value(bound, mod, {}, depth + 1)
            if node.id in mod.globals:
                return self.value(mod.globals[node.id], mod, {}, depth + 1)
            target = mod.imports.get(node.id)
            split = self.asset.split(target) if target else None
            if split and split[1] in split[0].globals:
                return self.value(split[0].globals[split[1]], split[0], {}, depth + 1)
            return None
        if isinstance(node, ast.Subscript):
            if self.dotted(node.value, mod) == "os.environ":
                key = self.value(node.slice, mod, local, depth + 1)
                return _Env(key) if isinstance(key, str) else None
            return None
        if isinstance(node, ast.Attribute):
            meta = node.value
            if node.attr == "client" and isinstance(meta, ast.Attribute) and meta.attr == "meta":
                inner = self.value(meta.value, mod, local, depth + 1)
                if isinstance(inner, _Obj) and inner.kind in ("resource", "sub"):
                    return _Obj("client", inner.service)
            return None
        if isinstance(node, ast.Call):
            return self.call_value(node, mod, local, depth)
        return None

    def call_value(
        self, node: ast.Call, mod: _Module, local: dict[str, ast.expr], depth: int
    ) -> object:
        name = self.dotted(node.func, mod)
        if name in _ENV_READERS and node.args:
            key = self.value(node.args[0], mod, local, depth + 1)
            return _Env(key) if isinstance(key, str) else None
        if name in ("boto3.Session", "boto3.session.Session"):
            return _Obj("session")
        if name in ("boto3.client", "boto3.resource"):
            return self.sdk_object(name.rsplit(".", 1)[1], node, mod, local, depth)
        if name in powertools.PROVIDERS:
            arg = powertools.PROVIDER_RESOURCE_ARG.get(name)
            env = self.keyword_env(node, arg, mod, local, depth) if arg else None
            return _Obj("provider", detail=name, env=env)
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.value(func.value, mod, local, depth + 1)
            if isinstance(base, _Obj):
                return self.method_value(base, func.attr, node, mod, local, depth)
        return self.helper_return(node, mod, depth)

    def sdk_object(
        self, kind: str, node: ast.Call, mod: _Module, local: dict[str, ast.expr], depth: int
    ) -> object:
        arg = node.args[0] if node.args else _keyword(node, "service_name")
        service = self.value(arg, mod, local, depth + 1) if arg is not None else None
        if not isinstance(service, str):
            self.unresolved(
                mod, node, f"boto3.{kind}(...)", "the service name is built at run time"
            )
            return None
        return _Obj(kind, service)

    def method_value(
        self,
        base: _Obj,
        attr: str,
        node: ast.Call,
        mod: _Module,
        local: dict[str, ast.expr],
        depth: int,
    ) -> object:
        if base.kind == "session" and attr in ("client", "resource"):
            return self.sdk_object(attr, node, mod, local, depth)
        if base.kind == "resource" and attr in sdk.resource_types(base.service):
            env = self.value(node.args[0], mod, local, depth + 1) if node.args else None
            return _Obj("sub", base.service, attr, env.name if isinstance(env, _Env) else None)
        if base.kind == "client" and attr in ("get_paginator", "get_waiter") and node.args:
            name = self.value(node.args[0], mod, local, depth + 1)
            kind = "paginator" if attr == "get_paginator" else "waiter"
            return _Obj(kind, base.service, name if isinstance(name, str) else None)
        return None

    def helper_return(self, node: ast.Call, mod: _Module, depth: int) -> object:
        """What a helper function of the asset returns (its first return of an SDK object)."""
        found = self.function(node.func, mod)
        if found is None:
            return None
        where, func = found
        key = (where.name, func.name)
        if key in self._returns:
            return self._returns[key]
        self._returns[key] = None  # recursion guard
        local = _locals(func)
        result: object = None
        for child in ast.walk(func):
            if isinstance(child, ast.Return) and child.value is not None:
                result = self.value(child.value, where, local, depth + 1)
                if isinstance(result, _Obj):
                    break
        self._returns[key] = result
        return result

    def function(
        self, func: ast.expr, mod: _Module
    ) -> tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        if isinstance(func, ast.Name) and func.id in mod.functions:
            return mod, mod.functions[func.id]
        dotted = self.dotted(func, mod)
        split = self.asset.split(dotted) if dotted else None
        if split and split[1] in split[0].functions:
            return split[0], split[0].functions[split[1]]
        return None

    def keyword_env(
        self, node: ast.Call, arg: str, mod: _Module, local: dict[str, ast.expr], depth: int
    ) -> str | None:
        value = _keyword(node, arg)
        found = self.value(value, mod, local, depth + 1) if value is not None else None
        return found.name if isinstance(found, _Env) else None

    # -- calls -------------------------------------------------------------------------------

    def unresolved(self, mod: _Module, node: ast.AST, api: str, reason: str) -> None:
        entry = Unresolved(mod.rel, getattr(node, "lineno", 0), api, reason)
        if entry not in self.result.unresolved:
            self.result.unresolved.append(entry)

    def record(
        self, mod: _Module, node: ast.Call, api: str, mapping: sdk.Mapping, env: str | None
    ) -> None:
        if mapping.unresolved is not None:
            self.unresolved(mod, node, api, mapping.unresolved)
            return
        call = Call(mod.rel, node.lineno, api, mapping.actions, env)
        if call not in self.result.calls:
            self.result.calls.append(call)

    def scan(self, mod: _Module) -> None:
        for local, node in _calls_with_scope(mod.tree, mod.name, self.bindings):
            self.visit_call(node, mod, local)

    def bind(self, mod: _Module) -> None:
        """Parameters of the asset's functions that a caller passes an SDK object to
        (`_create(client, arn)`): inside the function, the parameter is that object."""
        for local, node in _calls_with_scope(mod.tree, mod.name, self.bindings):
            found = self.function(node.func, mod)
            if found is None:
                continue
            where, func = found
            params = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
            pairs = list(zip(params, node.args, strict=False))
            pairs += [(k.arg, k.value) for k in node.keywords if k.arg in params]
            for param, arg in pairs:
                value = self.value(arg, mod, local)
                if isinstance(value, _Obj):
                    self.bindings.setdefault((where.name, func.name), {})[param] = value

    def visit_call(self, node: ast.Call, mod: _Module, local: dict[str, ast.expr]) -> None:
        name = self.dotted(node.func, mod)
        if name in ("boto3.client", "boto3.resource"):
            self.sdk_object(name.rsplit(".", 1)[1], node, mod, local, 0)
            return
        if name in powertools.FUNCTIONS:
            env = self.value(node.args[0], mod, local) if node.args else None
            short = "parameters." + name.rsplit(".", 1)[1]
            self.record(
                mod,
                node,
                short,
                sdk.Mapping(powertools.FUNCTIONS[name]),
                env.name if isinstance(env, _Env) else None,
            )
            return
        if name in powertools.PERSISTENCE:
            env = self.keyword_env(node, "table_name", mod, local, 0)
            self.record(
                mod,
                node,
                "idempotency." + name.rsplit(".", 1)[1],
                sdk.Mapping(powertools.PERSISTENCE[name]),
                env,
            )
            return
        func = node.func
        if isinstance(func, ast.Call) and self.dotted(func.func, mod) is None:
            if isinstance(func.func, ast.Name) and func.func.id == "getattr" and func.args:
                base = self.value(func.args[0], mod, local)
                if isinstance(base, _Obj) and base.kind in ("client", "resource", "sub"):
                    method = self.value(func.args[1], mod, local) if len(func.args) > 1 else None
                    if not isinstance(method, str):
                        self.unresolved(
                            mod,
                            node,
                            f"getattr({base.service} {base.kind}, ...)",
                            "the method name is built at run time",
                        )
                        return
                    self.object_call(base, method, node, mod, local)
            return
        if not isinstance(func, ast.Attribute):
            return
        base = self.value(func.value, mod, local)
        if isinstance(base, _Obj):
            self.object_call(base, func.attr, node, mod, local)

    def object_call(
        self, base: _Obj, method: str, node: ast.Call, mod: _Module, local: dict[str, ast.expr]
    ) -> None:
        if method in LOCAL_METHODS:
            return
        env = base.env or self.argument_env(node, mod, local)
        if base.kind == "client":
            api = f"{base.service}.{method}"
            self.record(mod, node, api, sdk.client_call(base.service, method), env)
        elif base.kind == "resource":
            if method in sdk.resource_types(base.service):
                return  # a sub-resource is built, nothing is called yet
            api = f"{base.service} resource.{method}"
            self.record(mod, node, api, sdk.resource_call(base.service, None, method), env)
        elif base.kind == "sub":
            api = f"{base.service}.{base.detail}.{method}"
            self.record(mod, node, api, sdk.resource_call(base.service, base.detail, method), env)
        elif base.kind == "paginator" and method == "paginate":
            self.paged(base, node, mod, env)
        elif base.kind == "waiter" and method == "wait":
            self.waited(base, node, mod, env)
        elif base.kind == "provider":
            methods = powertools.PROVIDERS.get(base.detail or "", {})
            provider = (base.detail or "").rsplit(".", 1)[-1]
            if method in methods:
                self.record(mod, node, f"{provider}.{method}", sdk.Mapping(methods[method]), env)

    def paged(self, base: _Obj, node: ast.Call, mod: _Module, env: str | None) -> None:
        api = f"{base.service}.get_paginator({base.detail!r}).paginate"
        if base.detail is None:
            self.unresolved(mod, node, api, "the paginated operation is built at run time")
            return
        self.record(mod, node, api, sdk.client_call(base.service, base.detail), env)

    def waited(self, base: _Obj, node: ast.Call, mod: _Module, env: str | None) -> None:
        api = f"{base.service}.get_waiter({base.detail!r}).wait"
        operation = sdk.waiter_operation(base.service, base.detail) if base.detail else None
        if operation is None:
            self.unresolved(mod, node, api, "no such waiter, or its name is built at run time")
            return
        self.record(mod, node, api, sdk.operation_mapping(base.service, operation), env)

    def argument_env(self, node: ast.Call, mod: _Module, local: dict[str, ast.expr]) -> str | None:
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            found = self.value(keyword.value, mod, local)
            if isinstance(found, _Env):
                return found.name
        return None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _locals(func: ast.AST) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Name):
                found.setdefault(node.targets[0].id, node.value)
        elif isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    found.setdefault(item.optional_vars.id, item.context_expr)
    return found


def _calls_with_scope(
    tree: ast.Module, module: str, bindings: dict[tuple[str, str], dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], ast.Call]]:
    """Every call of the module with the local assignments of its enclosing function (and the
    SDK objects its callers pass to its parameters)."""

    def walk(node: ast.AST, local: dict[str, Any]) -> Iterator[tuple[dict[str, Any], ast.Call]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                bound = bindings.get((module, getattr(child, "name", "")), {})
                yield from walk(child, {**local, **bound, **_locals(child)})
                continue
            if isinstance(child, ast.Call):
                yield local, child
            yield from walk(child, local)

    yield from walk(tree, {})


def analyse(root: Path, handler: str) -> CodeAnalysis:
    """The SDK calls the handler `module.function` in the asset directory `root` can make."""
    module_name = handler.rsplit(".", 1)[0] if "." in handler else handler
    asset = _Asset(root)
    analyser = _Analyser(asset)
    first = asset.module(module_name)
    if first is None:
        reason = (
            asset.errors[0]
            if asset.errors
            else f"the handler module {module_name} is not in the asset"
        )
        return CodeAnalysis(not_analysed=reason)
    seen: set[str] = set()
    modules: list[_Module] = []
    todo = [first]
    while todo:
        mod = todo.pop()
        if mod.name in seen:
            continue
        seen.add(mod.name)
        analyser.result.files.append(mod.rel)
        modules.append(mod)
        for target in set(mod.imports.values()):
            for candidate in (target, target.rsplit(".", 1)[0]):
                found = asset.module(candidate)
                if found is not None:
                    todo.append(found)
                    break
    for _ in range(2):  # twice: a helper may pass on what its caller passed to it
        for mod in modules:
            analyser.bind(mod)
    for mod in modules:
        analyser.scan(mod)
    if asset.errors:
        # an imported module of the asset that cannot be parsed: its calls are unknown
        return CodeAnalysis(not_analysed="; ".join(asset.errors), files=analyser.result.files)
    analyser.result.files.sort()
    return analyser.result
