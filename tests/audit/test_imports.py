"""The audit CLI must stay fast and work on any template: it never loads aws_cdk or jsii."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import secure_constructs


def _loaded_after(statement: str) -> set[str]:
    code = (
        f"import sys\n{statement}\n"
        "print(' '.join(m for m in ('aws_cdk', 'jsii', 'cdk_nag') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_importing_the_audit_cli_does_not_load_aws_cdk() -> None:
    assert _loaded_after("import secure_constructs.audit.cli") == set()


def test_running_every_command_does_not_load_aws_cdk() -> None:
    """The rules run too (they are imported on first use): they must stay pure as well."""
    fixtures = Path(__file__).resolve().parent / "fixtures"
    calls = "\n".join(
        f"main({args!r})"
        for args in (
            ["audit", str(fixtures / "assembly"), "--format", "html", "--fail-on", "never"],
            ["audit", str(fixtures / "templates" / "orders.json"), "--format", "sarif"],
            ["permissions", str(fixtures / "assembly")],
            ["cost", str(fixtures / "assembly")],
        )
    )
    statement = (
        "import contextlib, io\nfrom secure_constructs.audit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        + "\n".join(f"    {line}" for line in calls.splitlines())
    )
    assert _loaded_after(statement) == set()


def test_importing_the_checks_engine_does_not_load_aws_cdk() -> None:
    assert _loaded_after("import secure_constructs.checks.engine") == set()


def test_top_level_re_exports_still_resolve() -> None:
    from secure_constructs import (
        Compliance,
        LambdaExecutionRole,
        SecureFunction,
        ValidationError,
        acknowledge,
        apply_checks,
    )

    assert SecureFunction.__name__ == "SecureFunction"
    assert LambdaExecutionRole.__name__ == "LambdaExecutionRole"
    assert issubclass(ValidationError, ValueError)
    assert callable(acknowledge) and callable(apply_checks)
    assert Compliance.HIPAA.value == "HIPAA.Security"
    assert set(secure_constructs.__all__) >= {
        "Compliance",
        "LambdaExecutionRole",
        "SecureFunction",
        "ValidationError",
        "acknowledge",
        "apply_checks",
    }
    for name in secure_constructs.__all__:
        assert getattr(secure_constructs, name) is not None
