"""Facts about IAM that both the constructs and the rules rely on (pure Python, no CDK).

`STAR_ONLY_ACTIONS` is the explicit allow-list of actions that AWS supports only on
`Resource: "*"`: granting them on anything narrower makes them fail, so a `*` resource on
exactly these actions is not a least-privilege finding. Keep it short and commented.
"""

from __future__ import annotations

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
    }
)

# CDK's grant_* methods use a few action wildcards; the role of a SecureFunction expands them
# into the explicit actions the services use (AwsSolutions-IAM5 flags action wildcards).
ACTION_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "kms:GenerateDataKey*": ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
}
