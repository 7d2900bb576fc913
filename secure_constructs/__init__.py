"""secure-constructs: hardened serverless patterns for AWS CDK v2, proven at synth."""

from secure_constructs.checks import Compliance, acknowledge, apply_checks
from secure_constructs.errors import ValidationError
from secure_constructs.function import SecureFunction
from secure_constructs.role import LambdaExecutionRole

__all__ = [
    "Compliance",
    "LambdaExecutionRole",
    "SecureFunction",
    "ValidationError",
    "acknowledge",
    "apply_checks",
]
