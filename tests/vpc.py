"""The tests' own VPC: the scaffolding a function needs to be checked under NIST/HIPAA/PCI.

Findings on this VPC are the test's, not the library's, so acknowledging them here is fine.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from secure_constructs import acknowledge
from secure_constructs.checks.nag_rules import NAG_RULE_IDS
from secure_constructs.shared import security_key


def compliant_vpc(stack: cdk.Stack) -> ec2.Vpc:
    """The test's own VPC: private isolated subnets, flow logs to an encrypted log group."""
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
        restrict_default_security_group=False,
    )
    flow_logs = logs.LogGroup(
        stack,
        "FlowLogs",
        retention=logs.RetentionDays.ONE_YEAR,
        encryption_key=security_key(stack),
    )
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
    return vpc


def acknowledge_test_vpc(stack: cdk.Stack) -> None:
    """Findings on the test's own VPC scaffolding (not the library's resources)."""
    reason = "Test scaffolding: the VPC is the test's own, not part of the library's promise."
    vpc = stack.node.find_child("Vpc")
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        if f"{pack}-VPCDefaultSecurityGroupClosed" in NAG_RULE_IDS[pack]:
            acknowledge(vpc, f"{pack}-VPCDefaultSecurityGroupClosed", reason)
        acknowledge(vpc, f"{pack}-IAMNoInlinePolicy", reason)
