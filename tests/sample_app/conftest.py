"""Render the cookiecutter sample app into temporary directories, once per test session (and per
xdist worker), pointing secure-constructs at this checkout."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "sample_app"

# A covering set, not the full product: every value of every choice appears at least once.
VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "iam-strict-regulated": {
        "auth": "iam",
        "waf_profile": "strict",
        "compliance": "nist-hipaa-pci",
    },
}


def render(output_dir: Path, answers: Mapping[str, str]) -> Path:
    """The generated project directory (no prompts; secure-constructs from this checkout)."""
    context = {"secure_constructs_requirement": f"-e {REPO}", **answers}
    return Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=context
        )
    )


def project_env() -> dict[str, str]:
    """The environment of a generated project's commands: this venv, Node 22 from npm."""
    env = dict(os.environ)
    bin_dirs = [str(REPO / "node_modules" / ".bin"), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*bin_dirs, env.get("PATH", "")])
    env["JSII_NODE"] = str(REPO / "node_modules" / ".bin" / "node")
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    # The generated tests run in their own pytest, not as part of this session's xdist.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`rendered(variant)`: the project rendered with that variant's answers (cached)."""
    cache: dict[str, Path] = {}

    def get(variant: str) -> Path:
        if variant not in cache:
            cache[variant] = render(tmp_path_factory.mktemp(variant), VARIANTS[variant])
        return cache[variant]

    return get
