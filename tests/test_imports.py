"""Importing SecureFunction and SecureApi loads only the aws_cdk modules they need.

The benchmark's import target (issue 7: at most 1.10x the import of the aws_cdk modules these
constructs need) depends on it: every unused aws_cdk submodule or library costs import time
in every user's synth. Each check runs in a fresh interpreter, since this test process has
already imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Loaded only by the code paths that use them: SecureUserPool (aws_cognito), SecureSecret
# (aws_secretsmanager), the Powertools secrets cache (aws_ssm), code signing (aws_signer),
# apply_checks (cdk_nag), routes with a JSON schema (jsonschema) and the first secret scan
# (detect_secrets, imported when a value is first judged).
NOT_NEEDED = (
    "aws_cdk.aws_cognito",
    "aws_cdk.aws_secretsmanager",
    "aws_cdk.aws_ssm",
    "aws_cdk.aws_signer",
    "cdk_nag",
    "jsonschema",
    "detect_secrets",
)


def _loaded_after(statement: str) -> set[str]:
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {NOT_NEEDED!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_function_and_api_loads_no_unneeded_module() -> None:
    loaded = _loaded_after("import secure_constructs.function, secure_constructs.api")

    assert loaded == set(), f"imported at module level by secure_constructs: {sorted(loaded)}"


def test_the_probe_sees_a_module_that_is_loaded() -> None:
    """The check above can fail: the user pool's module does load aws_cognito."""
    loaded = _loaded_after("import secure_constructs.user_pool")

    assert "aws_cdk.aws_cognito" in loaded


def test_user_pool_exports_resolve_from_the_package() -> None:
    loaded = _loaded_after(
        "from secure_constructs import ResourceServerScopes, SecureUserPool\n"
        "assert SecureUserPool.__module__ == 'secure_constructs.user_pool'\n"
        "assert ResourceServerScopes.__module__ == 'secure_constructs.user_pool'"
    )

    assert "aws_cdk.aws_cognito" in loaded


def test_submodules_load_on_first_use_after_a_bare_import() -> None:
    """`secure_constructs.monitoring.alarm(...)`, as docs/RULES.md writes it, works."""
    code = (
        "import sys, secure_constructs\n"
        "assert 'secure_constructs.monitoring' not in sys.modules\n"
        "assert callable(secure_constructs.monitoring.alarm)\n"
        "assert not hasattr(secure_constructs, 'no_such_module')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _typeguard_loaded_after(statement: str) -> bool:
    code = f"import sys\n{statement}\nprint('typeguard' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_importing_function_and_api_makes_no_type_checked_jsii_call() -> None:
    """No construct, Duration or other jsii object is made with arguments at import time: jsii
    loads typeguard (and with it asyncio, unittest.mock: about 70 ms) on the first type-checked
    call, which belongs to the user's first construct, not to `import secure_constructs`. (A
    call without arguments, such as reading a static property, loads no typeguard and is not
    seen here.)"""
    assert not _typeguard_loaded_after("import secure_constructs.function, secure_constructs.api")


def test_the_typeguard_probe_sees_a_jsii_call() -> None:
    """The check above can fail: one Duration made is seen."""
    assert _typeguard_loaded_after("import aws_cdk\naws_cdk.Duration.minutes(1)")
