"""Jinja globals for the template: where secure-constructs comes from by default.

Cookiecutter imports this module from the template's directory (`_extensions` in
cookiecutter.json), so `__file__` is inside the checkout (or the clone cookiecutter made of it)
whatever the working directory. The default requirement is that checkout as a direct
reference, `secure-constructs @ file:///...`: pip installs exactly those files and never asks a
package index for the name, so nobody's upload to a public index can satisfy it (dependency
confusion). Point it at a release once one exists (`secure_constructs_requirement=...`).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

CHECKOUT = Path(__file__).resolve().parent.parent


class SecureConstructsSource(Extension):
    """Adds `secure_constructs_checkout`, the direct reference to this checkout."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["secure_constructs_checkout"] = (
            f"secure-constructs @ {CHECKOUT.as_uri()}"
        )
