"""scripts/template_snapshot.py's comparison: a template that differs by one byte, is missing or
is new is reported, and --compare exits 1 (no synth here: `synthesize` is replaced)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    path = ROOT / "scripts" / "template_snapshot.py"
    spec = importlib.util.spec_from_file_location("template_snapshot", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["template_snapshot"] = module
    spec.loader.exec_module(module)
    return module


SNAPSHOT = _script()


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def test_identical_templates_compare_equal(tmp_path: Path) -> None:
    files = {"Stack.template.json": '{"Resources": {}}', "nested/A.template.json": "{}"}
    old = _write(tmp_path / "old", files)
    new = _write(tmp_path / "new", {**files, "manifest.json": "ignored", "tree.json": "x"})
    assert SNAPSHOT.compare(old, new) == []


def test_fails_when_one_byte_differs(tmp_path: Path) -> None:
    old = _write(tmp_path / "old", {"Stack.template.json": '{"A": 1}\n'})
    new = _write(tmp_path / "new", {"Stack.template.json": '{"A": 1} \n'})
    assert SNAPSHOT.compare(old, new, label="app/") == ["differs: app/Stack.template.json"]


def test_fails_when_a_template_is_missing_or_new(tmp_path: Path) -> None:
    old = _write(tmp_path / "old", {"A.template.json": "{}", "B.template.json": "{}"})
    new = _write(tmp_path / "new", {"A.template.json": "{}", "C.template.json": "{}"})
    assert SNAPSHOT.compare(old, new) == ["missing: B.template.json", "new: C.template.json"]


def test_fails_when_the_reference_holds_no_template(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    new = _write(tmp_path / "new", {})
    assert SNAPSHOT.compare(tmp_path / "old", new) == [
        f"no *.template.json under the reference folder {tmp_path / 'old'}"
    ]


def test_compare_exits_1_and_names_the_differing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = _write(tmp_path / "ref", {"sample/S.template.json": "{}"})

    def fake_synth(app: str, outdir: Path) -> None:
        _write(outdir, {"S.template.json": '{"changed": true}'})

    monkeypatch.setattr(SNAPSHOT, "synthesize", fake_synth)
    code = SNAPSHOT.main(["--compare", str(reference), "--apps", "sample"])
    assert code == 1
    assert "differs: sample/S.template.json" in capsys.readouterr().out


def test_compare_exits_0_on_identical_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _write(tmp_path / "ref", {"bench/Bench.template.json": "{}"})
    monkeypatch.setattr(
        SNAPSHOT, "synthesize", lambda app, outdir: _write(outdir, {"Bench.template.json": "{}"})
    )
    assert SNAPSHOT.main(["--compare", str(reference), "--apps", "bench"]) == 0
