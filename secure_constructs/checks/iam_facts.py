"""Facts about IAM that both the constructs and the rules rely on (pure Python, no CDK).

`STAR_ONLY_ACTIONS` is the explicit allow-list of actions that AWS supports only on
`Resource: "*"`: granting them on anything narrower makes them fail, so a `*` resource on
exactly these actions is not a least-privilege finding. Keep it short and commented.
"""

from __future__ import annotations

STAR_ONLY_ACTIONS: frozenset[str] = frozenset(
    {
        # AWS X-Ray: trace upload has no resource-level permissions.
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        # The network-interface actions Lambda needs to attach a function to a VPC
        # (the content of AWSLambdaVPCAccessExecutionRole); EC2 Describe* calls and the
        # ENI management Lambda performs on the function's behalf accept only "*".
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        # Secrets Manager: GetRandomPassword has no resource type (it touches no secret); a
        # SecretRotation.function rotation function calls it to make the new value.
        "secretsmanager:GetRandomPassword",
    }
)

# The two star-only action sets every traced function / every VPC function needs. Each is one
# customer-managed policy per stack, attached to every role that needs it.
XRAY_WRITE_ACTIONS: tuple[str, ...] = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
VPC_NETWORK_INTERFACE_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)

# CDK's grant_* methods use a few action wildcards; the role of a SecureFunction expands them
# into the explicit actions the services use (AwsSolutions-IAM5 flags action wildcards).
ACTION_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "kms:GenerateDataKey*": ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
}
