"""Which Lambda runtime a construct uses when the user names none: the newest Python runtime
this aws-cdk-lib knows. SecureFunction, the secrets cache and PythonCode bundling share it."""

from __future__ import annotations

import functools
import re

from aws_cdk import aws_lambda as lambda_

__all__ = ["latest_python_runtime"]


@functools.cache
def latest_python_runtime() -> lambda_.Runtime:
    """The newest Python runtime this aws-cdk-lib knows (PYTHON_3_14 with aws-cdk-lib 2.275)."""
    versions = [
        (int(match.group(1)), name)
        for name in dir(lambda_.Runtime)
        if (match := re.fullmatch(r"PYTHON_3_(\d+)", name))
    ]
    runtime: lambda_.Runtime = getattr(lambda_.Runtime, max(versions)[1])
    return runtime
