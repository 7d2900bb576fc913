"""PythonCode.bundle: Docker-free, hash-checked, cached bundling of Python Lambda code."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from secure_constructs import PythonCode, ValidationError, bundling
from secure_constructs.bundling import _PipBundler

# A tiny pure-Python wheel from PyPI with its real sha256 (six 1.17.0, py2.py3-none-any).
SIX_PIN = (
    "six==1.17.0 \\\n"
    "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("SECURE_CONSTRUCTS_BUNDLE_CACHE", str(root))
    return root


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (src / "tests").mkdir()
    (src / "tests" / "test_app.py").write_text("")
    return src


def _bundle_to_dir(code: lambda_.Code, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """Synthesize one function with `code` and return its staged asset directory."""
    outdir = tmp_path / "out"
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "Bundle")
    lambda_.Function(
        stack, "Fn", code=code, handler="app.handler", runtime=lambda_.Runtime.PYTHON_3_14
    )
    app.synth()
    template = json.loads((outdir / "Bundle.template.json").read_text())
    (function,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    return outdir / function["Metadata"]["aws:asset:path"], function


def test_sources_are_copied_without_caches_and_tests(
    tmp_path: Path, sources: Path, cache: Path
) -> None:
    # GIVEN a requirements file with no packages (everything else comes from a layer)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# no third-party packages\n")

    # WHEN the code is bundled and synthesized
    asset, function = _bundle_to_dir(
        PythonCode.bundle(sources, requirements=requirements), tmp_path
    )

    # THEN the asset holds the sources and the requirements file, and nothing to be ignored
    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file())
    assert files == ["app.py", "pkg/__init__.py", "requirements.txt"]
    assert function["Metadata"]["aws:asset:is-bundled"] is True
    # and the bundle is now in the cache, under the asset hash
    assert len(list(cache.iterdir())) == 1


def test_asset_hash_follows_sources_and_requirements(tmp_path: Path, sources: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")

    def fingerprint() -> str:
        return _PipBundler(
            source=sources,
            requirements=requirements,
            python_version="3.14",
            platforms=("manylinux2014_aarch64",),
            exclude=("__pycache__", "tests"),
        ).fingerprint

    first = fingerprint()
    assert fingerprint() == first
    (sources / "__pycache__" / "other.pyc").write_bytes(b"ignored")
    assert fingerprint() == first, "excluded files must not change the hash"
    (sources / "app.py").write_text("def handler(event, context):\n    return {'v': 2}\n")
    second = fingerprint()
    assert second != first
    requirements.write_text(SIX_PIN)
    assert fingerprint() != second


def test_architecture_and_runtime_pick_the_wheels() -> None:
    assert bundling._platforms(lambda_.Architecture.ARM_64)[0] == "manylinux2014_aarch64"
    assert "manylinux_2_34_aarch64" in bundling._platforms(lambda_.Architecture.ARM_64)
    assert bundling._platforms(lambda_.Architecture.X86_64)[0] == "manylinux2014_x86_64"
    assert bundling._python_version(lambda_.Runtime.PYTHON_3_14) == "3.14"
    assert bundling._python_version(lambda_.Runtime.PYTHON_3_13) == "3.13"


@pytest.mark.network
def test_installs_a_pinned_wheel_for_lambda(
    tmp_path: Path, sources: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Needs PyPI (reachable in CI): pip installs a hash-pinned pure-Python wheel."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(SIX_PIN)

    asset, _ = _bundle_to_dir(PythonCode.bundle(sources, requirements=requirements), tmp_path)

    assert (asset / "six.py").is_file()
    assert (asset / "app.py").is_file()
    assert (asset / "requirements.txt").read_text() == SIX_PIN
    assert not (asset / "__pycache__").exists(), "pip must not compile for the build Python"

    # A second synth with the same inputs is served from the cache, without pip.
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran although the bundle is cached")

    monkeypatch.setattr(bundling.subprocess, "run", no_pip)
    again, _ = _bundle_to_dir(
        PythonCode.bundle(sources, requirements=requirements), tmp_path / "second"
    )
    assert (again / "six.py").is_file()


def test_fails_when_path_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^path=.*existing directory"):
        PythonCode.bundle(tmp_path / "nope")


def test_fails_when_requirements_file_is_missing(tmp_path: Path, sources: Path) -> None:
    with pytest.raises(ValidationError, match=r"^requirements=.*existing pip requirements"):
        PythonCode.bundle(sources, requirements=tmp_path / "nope.txt")


@pytest.mark.parametrize(
    "line",
    [
        "six==1.17.0",  # no hash
        "six>=1.16 --hash=sha256:" + "0" * 64,  # a range, not a pin
        "six",  # nothing at all
        "-r other.txt",  # an include this file does not pin
        "six @ https://example.com/six.whl",  # a direct URL
    ],
)
def test_fails_when_requirements_are_not_pinned_with_hashes(
    tmp_path: Path, sources: Path, line: str
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(SIX_PIN + line + "\n")
    with pytest.raises(ValidationError, match=r"^requirements=.*pinned with a hash.*line 3"):
        PythonCode.bundle(sources, requirements=requirements)


def test_fails_when_runtime_is_not_python(sources: Path) -> None:
    with pytest.raises(ValidationError, match=r"^runtime=.*Python runtime"):
        PythonCode.bundle(sources, runtime=lambda_.Runtime.NODEJS_22_X)
