"""The private network of the regulated (nist-hipaa-pci) variant.

Isolated subnets only (no internet route, no NAT), the VPC endpoints the functions need
(DynamoDB as a gateway, Secrets Manager as an interface endpoint), a security group for the
functions that may only reach HTTPS, and flow logs to an encrypted log group.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from secure_constructs import acknowledge, security_key

_DEFAULT_SG_REASON = (
    "Nothing in this stack uses the VPC's default security group: every function and endpoint "
    "has its own group with explicit rules, so no network interface gets the default group's "
    "rules. Closing it in the template needs CDK's custom-resource Lambda, which would run "
    "outside this VPC under an AWS managed policy, a wider footprint than an unused group; "
    "close default groups account-wide with Security Hub control EC2.2 instead."
)


class PrivateNetwork(Construct):
    """A VPC for the functions: isolated subnets, endpoints, flow logs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
            restrict_default_security_group=False,
        )
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
            acknowledge(self.vpc, f"{pack}-VPCDefaultSecurityGroupClosed", _DEFAULT_SG_REASON)

        self.functions_security_group = ec2.SecurityGroup(
            self,
            "FunctionsSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="The functions: no inbound; outbound HTTPS only (to the VPC endpoints)",
        )
        # The subnets have no route to the internet: HTTPS can only reach the endpoints.
        self.functions_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints"
        )
        endpoints_security_group = ec2.SecurityGroup(
            self,
            "EndpointsSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Interface endpoints: HTTPS from the functions only",
        )
        endpoints_security_group.add_ingress_rule(
            self.functions_security_group, ec2.Port.tcp(443), "HTTPS from the functions"
        )
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.vpc.add_gateway_endpoint(
            "DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[subnets]
        )
        self.vpc.add_interface_endpoint(
            "SecretsManager",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            subnets=subnets,
            private_dns_enabled=True,
            security_groups=[endpoints_security_group],
            open=False,
        )
        self._flow_logs()

    def function_options(self) -> dict[str, object]:
        """The keyword arguments that put a SecureFunction in this network."""
        return {
            "vpc": self.vpc,
            "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            "security_groups": [self.functions_security_group],
        }

    def _flow_logs(self) -> None:
        log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=security_key(self),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "FlowLogsRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="VPC flow logs: write to the flow-log group only",
        )
        # A customer-managed policy with exactly what flow logs need; the role is handed to
        # CDK without policy updates so nothing lands in an inline policy.
        iam.ManagedPolicy(
            self,
            "FlowLogsPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[log_group.log_group_arn],
                )
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                log_group, role.without_policy_updates()
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
