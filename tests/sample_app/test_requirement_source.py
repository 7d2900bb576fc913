"""The template never makes a project install secure-constructs by name from a package index.

The name is not ours on any public index: a bare `secure-constructs>=0.1` in a rendered project
would install whatever someone uploads under it (dependency confusion). By default the project
points at this checkout with a direct reference, which pip installs without asking an index.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from packaging.requirements import InvalidRequirement, Requirement

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "sample_app"
OUR_NAME = re.compile(r"^secure[-_.]constructs$", re.I)


def index_requirements(project: Path) -> list[str]:
    """Every requirement of secure-constructs in the project that an index could satisfy."""
    found: list[str] = []
    for path in sorted(project.rglob("*")):
        if not path.is_file() or path.suffix not in (".txt", ".in", ".toml", ".cfg", ".py"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.split(" #", 1)[0].strip().strip("\"',")
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if OUR_NAME.match(requirement.name) and requirement.url is None:
                found.append(f"{path.relative_to(project)}: {line.strip()}")
    return found


def render_defaults(output_dir: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir)))


def test_the_default_requirement_is_this_checkout(tmp_path: Path) -> None:
    project = render_defaults(tmp_path)
    lines = (project / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"secure-constructs @ {REPO.as_uri()}" in lines
    assert index_requirements(project) == []


def test_the_default_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cookiecutter sample_app` from the checkout's root, as the README says (a relative path).
    monkeypatch.chdir(REPO)
    project = render_defaults(tmp_path)
    requirement = Requirement(
        next(
            line
            for line in (project / "requirements.txt").read_text(encoding="utf-8").splitlines()
            if line.startswith("secure-constructs")
        )
    )
    assert requirement.url == REPO.as_uri()
    assert Path(requirement.url.removeprefix("file://")).joinpath("pyproject.toml").is_file()
    assert os.path.isabs(requirement.url.removeprefix("file://"))


@pytest.mark.parametrize("variant", ["iam", "nist-hipaa-pci"])
def test_no_variant_names_an_index_requirement(tmp_path: Path, variant: str) -> None:
    answers = {"auth": "iam"} if variant == "iam" else {"compliance": variant}
    project = Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path), extra_context=answers)
    )
    assert index_requirements(project) == []


def test_the_detector_finds_a_bare_index_requirement(tmp_path: Path) -> None:
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(tmp_path),
            extra_context={"secure_constructs_requirement": "secure-constructs>=0.1,<0.2"},
        )
    )
    assert index_requirements(project) == ["requirements.txt: secure-constructs>=0.1,<0.2"]
