"""The package as a user gets it: version, licence metadata, and a wheel that installs and imports
in a clean virtualenv (no dev extras, nothing from this checkout on the path)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

import secure_constructs

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_the_pyproject_version() -> None:
    assert secure_constructs.__version__ == PYPROJECT["project"]["version"]


def test_licence_is_spdx_apache_with_its_full_text() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "LICENSE" in PYPROJECT["project"]["license-files"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text
    # PEP 639 `license` strings need setuptools 77.
    assert any(r.startswith("setuptools>=77") for r in PYPROJECT["build-system"]["requires"])


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
@pytest.mark.network
def test_the_wheel_installs_and_imports_in_a_clean_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        # sdist, then the wheel built from the sdist: what `make dist` does
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    # e.g. setuptools deprecated `license = { text = ... }`
    assert "deprecat" not in (build.stdout + build.stderr).lower(), build.stdout[-3000:]
    (wheel,) = dist.glob("secure_constructs-*.whl")
    (sdist,) = dist.glob("secure_constructs-*.tar.gz")
    assert sdist.name == f"secure_constructs-{secure_constructs.__version__}.tar.gz"
    assert wheel.name.startswith(f"secure_constructs-{secure_constructs.__version__}-")

    # The clean venv borrows this venv's already-downloaded dependencies (a .pth file), so the
    # test checks our wheel's contents and entry point, not PyPI's speed.
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "borrowed-deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")

    probe = (
        "import secure_constructs, secure_constructs.checks.rules, pathlib; "
        "print(secure_constructs.__version__); print(secure_constructs.__file__); "
        "print((pathlib.Path(secure_constructs.__file__).parent / 'py.typed').is_file())"
    )
    result = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    version, location, typed = result.stdout.split()
    assert version == secure_constructs.__version__
    assert location.startswith(site), "imported from the checkout, not the installed wheel"
    assert typed == "True"
    cli = subprocess.run(
        [str(target / "bin" / "secure-constructs"), "--version"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    assert cli.stdout.strip() == f"secure-constructs {secure_constructs.__version__}", cli.stderr


def test_docs_link_only_files_that_exist_and_no_placeholder_urls() -> None:
    pages = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken, placeholders = [], []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if (
                not target.startswith(("http://", "https://"))
                and not (page.parent / target).exists()
            ):
                broken.append(f"{page.name} -> {target}")
        placeholders += [f"{page.name}: {u}" for u in re.findall(r"https?://\S*<owner>\S*", text)]
    assert broken == [] and placeholders == []
    assert "DESIGN.md" not in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / "SECURITY.md").is_file() and (ROOT / "LICENSE").is_file()
