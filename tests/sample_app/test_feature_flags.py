"""The root app and the sample app set the same CDK feature flags: the pinned CLI's `cdk init`
recommendations, with one documented exception (README, "Quick start")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CDK_JSON = REPO / "sample_app" / "{{cookiecutter.project_slug}}" / "cdk.json"
KEPT_OLD = {"@aws-cdk/core:enablePartitionLiterals": False}


def context(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text(encoding="utf-8"))["context"])


def test_the_sample_app_sets_the_root_apps_flags() -> None:
    root = context(REPO / "cdk.json")
    assert len(root) > 80
    assert context(SAMPLE_CDK_JSON) == root
    for flag, value in KEPT_OLD.items():
        assert root[flag] is value


@pytest.mark.slow
def test_the_flags_are_the_pinned_cli_init_recommendations(tmp_path: Path) -> None:
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():  # the repo's own set-up installs it; CI runs `npm ci` first
        cdk_path = shutil.which("cdk")
        assert cdk_path, "the pinned CDK CLI is not installed (npm ci)"
        cdk = Path(cdk_path)
    app = tmp_path / "flags"
    app.mkdir()
    subprocess.run(
        [str(cdk), "init", "app", "--language", "python", "--generate-only"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    expected = {**context(app / "cdk.json"), **KEPT_OLD}
    assert context(REPO / "cdk.json") == expected
