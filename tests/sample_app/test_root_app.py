"""The root cdk.json synthesizes what the template renders with its defaults, not a twin."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.sample_app.conftest import REPO, VARIANTS, render


def _root_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("root_app", REPO / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the synth only runs under __main__
    return module


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and "cdk.out" not in p.parts
    }


def test_root_cdk_json_runs_the_root_app() -> None:
    assert json.loads((REPO / "cdk.json").read_text())["app"] == "python app.py"


def test_root_app_renders_the_template_with_its_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root_app = _root_app()
    monkeypatch.setattr(root_app, "RENDER_DIR", tmp_path / "sample-app")
    project = root_app.render_sample_app()
    assert project.parent == tmp_path / "sample-app"
    # Byte for byte what the library tests render with the default answers. A render of its
    # own: the shared `rendered` projects get caches written into them by the tests that run
    # the generated project, which made this comparison depend on test order.
    expected = render(tmp_path / "expected", VARIANTS["defaults"])
    assert _tree(project) == _tree(expected)
