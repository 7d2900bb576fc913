"""Least privilege proven from the code: the AWS calls a Python function's code can make,
held against what its role grants (`secure-constructs permissions`, rule CodeGrantsMatch).

Modules: `assets` (where the code is), `parse` (the calls, with `ast`), `sdk` and
`mismatches` (calls -> IAM actions, from botocore's models and the Service Authorization
Reference), `powertools`, `grants` (the role's statements), `platform` (what Lambda itself uses,
CDK's grant bundles), `compare`, `render`, `baseline`.
"""

from secure_constructs.audit.code_calls.compare import FunctionCheck, check_stacks
from secure_constructs.audit.code_calls.model import Call, CodeAnalysis, Unresolved
from secure_constructs.audit.code_calls.parse import analyse

__all__ = ["Call", "CodeAnalysis", "FunctionCheck", "Unresolved", "analyse", "check_stacks"]
