"""Refuse answers that would render a broken project, with a message that says how to fix it.

Cookiecutter renders this file with the answers, then runs it before generating anything; a
non-zero exit aborts the render and removes what was started.
"""

from __future__ import annotations

import json
import re
import sys

# The answers, rendered by cookiecutter as a JSON object inside a raw string (so that this file
# is valid Python before rendering and no answer can break out of a string literal).
CONTEXT: dict[str, object] = json.loads(r"""{{ cookiecutter | jsonify }}""")
ANSWERS = {
    name: str(CONTEXT.get(name, ""))
    for name in (
        "project_slug",
        "package_name",
        "stack_name",
        "aws_region",
        "alarm_email",
        "auth",
        "waf_profile",
        "compliance",
        "secure_constructs_requirement",
    )
}

CHOICES = {
    "auth": ("cognito", "iam"),
    "waf_profile": ("baseline", "strict"),
    "compliance": ("none", "nist-hipaa-pci"),
}

PATTERNS = {
    "project_slug": (
        r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
        "lowercase letters and digits separated by single dashes, starting with a letter "
        "(e.g. items-service)",
    ),
    "package_name": (
        r"^[a-z][a-z0-9_]*$",
        "a Python package name: lowercase letters, digits and underscores (e.g. items_service)",
    ),
    "stack_name": (
        r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
        "a CloudFormation stack name: letters, digits and dashes, starting with a letter",
    ),
    "aws_region": (r"^[a-z]{2}(-gov)?-[a-z]+-\d$", "an AWS region code such as eu-west-1"),
    # One address, no display name: local part, @, a domain with at least one dot.
    "alarm_email": (
        r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
        "one e-mail address such as ops@example.com",
    ),
}


def problems(answers: dict[str, str]) -> list[str]:
    """One line per refused answer: name, value, what is allowed."""
    found: list[str] = []
    for name, (pattern, allowed) in PATTERNS.items():
        if not re.match(pattern, answers[name]):
            found.append(f"{name}={answers[name]!r} is not allowed: {allowed}")
    for name, allowed_values in CHOICES.items():
        if answers[name] not in allowed_values:
            found.append(
                f"{name}={answers[name]!r} is not allowed: one of {', '.join(allowed_values)}"
            )
    if not answers["secure_constructs_requirement"].strip():
        found.append("secure_constructs_requirement='' is not allowed: a pip requirement")
    return found


def main() -> int:
    found = problems(ANSWERS)
    if found:
        print("ERROR: cannot generate the project:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        print(
            "Fix: answer again, or pass corrected values on the command line, e.g. "
            "`cookiecutter sample_app --no-input project_slug=items-service "
            "alarm_email=ops@example.com`.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
