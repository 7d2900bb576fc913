"""The typed pass-through options (secure_constructs/_options.py) match the installed aws-cdk-lib,
and a misspelt option is a type error in user code."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest

from secure_constructs import _options

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_options.py"
    spec = importlib.util.spec_from_file_location("gen_options", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_options"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GEN = _generator()
SPECS = {spec.name: spec for spec in GEN.SPECS}


def _construct_params(spec: typing.Any) -> set[str]:
    module = importlib.import_module(f"secure_constructs.{spec.module}")
    method = getattr(getattr(module, spec.cls), spec.method)
    return {
        name
        for name, p in inspect.signature(method).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def test_the_generated_module_matches_the_installed_aws_cdk_lib() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_options.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "secure_constructs/_options.py is stale for the installed aws-cdk-lib or the constructs: "
        f"run `python scripts/gen_options.py`\n{result.stdout}{result.stderr}"
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_prop_of_the_l2_is_passed_through_or_handled_by_the_construct(name: str) -> None:
    # GIVEN the TypedDict, the construct's own parameters and what it sets or refuses
    spec = SPECS[name]
    typed = set(getattr(_options, name).__annotations__)
    own = _construct_params(spec)
    handled = GEN.not_passed_through(spec)
    l2 = set(GEN.l2_params(spec))
    # THEN together they are exactly the L2's keyword arguments: a prop aws-cdk-lib adds (or
    # removes) fails here until the module is regenerated
    assert typed | own | handled == l2 | own, (
        f"{name}: not covered {sorted(l2 - typed - own - handled)}, "
        f"gone from {spec.l2} {sorted(typed - l2)}"
    )
    # AND nothing the construct declares, sets or refuses is offered as a pass-through option
    assert not typed & (own | handled), sorted(typed & (own | handled))
    assert typed, f"{name} passes nothing through"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_option_has_the_type_of_the_l2_prop(name: str) -> None:
    spec = SPECS[name]
    l2_hints = typing.get_type_hints(GEN.l2_callable(spec))
    ours = typing.get_type_hints(getattr(_options, name), localns=GEN.runtime_namespace())
    for prop, hint in ours.items():
        assert GEN.render_type(hint, set()) == GEN.render_type(l2_hints[prop], set()), prop


def test_function_options_leave_out_what_secure_function_refuses_or_sets() -> None:
    keys = set(_options.FunctionOptions.__annotations__)
    assert {"role", "logging_format", "dead_letter_queue_enabled", "log_retention_role"}.isdisjoint(
        keys
    )
    assert {"memory_size", "timeout", "tracing", "on_failure"}.isdisjoint(keys)
    assert {"vpc", "layers", "description", "reserved_concurrent_executions"} <= keys


_SNIPPET = """\
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction

stack = cdk.Stack()
code = lambda_.Code.from_inline("def handler(event, context):\\n    return None")
SecureFunction(stack, "Good", code=code, handler="index.handler", memory_size=512, description="x")
SecureFunction(stack, "Typo", code=code, handler="index.handler", memory_sise=512)
SecureFunction(stack, "WrongType", code=code, handler="index.handler", description=5)
SecureFunction(stack, "Refused", code=code, handler="index.handler", logging_format=None)
"""


@pytest.mark.slow
def test_a_misspelt_option_is_a_mypy_error_in_user_code(tmp_path: Path) -> None:
    # GIVEN user code calling SecureFunction, checked like an app's own `mypy --strict app.py`
    app = tmp_path / "app.py"
    app.write_text(_SNIPPET)
    env = {**os.environ, "MYPYPATH": str(ROOT), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "user-code"),  # .mypy_cache is git-ignored
            str(app),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = {int(m.group(1)) for e in errors if (m := re.search(r"app\.py:(\d+):", e))}
    # THEN the typo, the wrong type and the refused option are errors; the correct call is not
    assert lines == {9, 10, 11}, result.stdout + result.stderr
    assert any('"memory_sise"' in e for e in errors), errors
