"""The sample app is what users copy: it imports only the public API of secure_constructs
(names in `secure_constructs.__all__`), never a submodule's internals."""

from __future__ import annotations

import re
from pathlib import Path

import secure_constructs

TEMPLATE = Path(__file__).resolve().parents[2] / "sample_app"
# The template's files are Jinja, not always valid Python: read the import lines as text.
_SUBMODULE = re.compile(r"^\s*(?:from|import)\s+secure_constructs\.", re.MULTILINE)
_FROM_PACKAGE = re.compile(r"^\s*from\s+secure_constructs\s+import\s+(\([^)]*\)|[^\n]+)", re.M)


def _sources() -> list[Path]:
    return sorted(TEMPLATE.rglob("*.py"))


def test_the_sample_app_imports_no_submodule_of_secure_constructs() -> None:
    offenders = [
        f"{path.relative_to(TEMPLATE)}: {match.group(0).strip()}"
        for path in _sources()
        for match in _SUBMODULE.finditer(path.read_text())
    ]
    assert offenders == []


def test_every_name_the_sample_app_imports_is_exported() -> None:
    imported = {
        name.strip()
        for path in _sources()
        for match in _FROM_PACKAGE.finditer(path.read_text())
        for name in match.group(1).strip("()").replace("\n", " ").split(",")
        if name.strip()
    }
    assert {"powertools_layer", "security_key", "SecureApi"} <= imported
    assert imported <= set(secure_constructs.__all__)
    for name in imported:
        assert getattr(secure_constructs, name) is not None


def test_the_probe_sees_a_submodule_import() -> None:
    assert _SUBMODULE.search("from secure_constructs.shared import security_key\n")
    assert not _SUBMODULE.search("from secure_constructs import security_key\n")
