"""The audit CLI must stay fast and work on any template: it never loads aws_cdk or jsii."""

from __future__ import annotations

import subprocess
import sys

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
