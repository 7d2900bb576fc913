"""The package version, in one place (pyproject.toml's `version` must equal it; a test checks)."""

__version__ = "0.1.0"
