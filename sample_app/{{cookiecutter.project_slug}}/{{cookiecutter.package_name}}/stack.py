"""The service: an API behind WAF and an authorizer, three least-privilege functions, a table
and a rotated signing key.

    client -> WAF -> API Gateway (authorizer, request validation, throttling)
        GET  /items/{id}        -> GetItem    may only GetItem on the table
        POST /items             -> CreateItem may only PutItem on the table
        GET  /items/{id}/share  -> ShareLink  may only read the signing-key secret (cached)
    Secrets Manager -> RotateSigningKey (every 30 days) -> the signing-key secret
    SQS ItemImports (redrive to the DLQ after 3 receives) -> ImportItems may only PutItem
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from secure_constructs import (
    ApiAuth,
    LogDestination,
    PythonCode,
    SecretRotation,
    SecretsCache,
    SecureApi,
    SecureFunction,
    SecureSecret,
    SecureUserPool,
    WafProfile,
    acknowledge,
    forward_logs,
    powertools_layer,
    security_key,
)

from {{ cookiecutter.package_name }}.network import PrivateNetwork
from {{ cookiecutter.package_name }}.settings import (
    FUNCTION_REQUIREMENTS,
    FUNCTIONS_DIR,
    NEW_ITEM_SCHEMA,
    Settings,
)

ROTATION_INTERVAL = cdk.Duration.days(30)
SECRET_CACHE_MAX_AGE = cdk.Duration.minutes(5)
RESERVED_CONCURRENCY = 10
IMPORT_TIMEOUT_SECONDS = 10  # SecureFunction's default timeout
_BACKUP_POLICY_REASON = (
    "AWS Backup's service role needs AWS's own backup policy "
    "(AWSBackupServiceRolePolicyForBackup), which AWS keeps in step with what each service's "
    "backup API requires; the role can be assumed only by backup.amazonaws.com."
)


def load_schema() -> dict[str, Any]:
    """The NewItem JSON Schema, read from the file the handler validates with."""
    schema: dict[str, Any] = json.loads(NEW_ITEM_SCHEMA.read_text(encoding="utf-8"))
    return schema


class ItemsServiceStack(cdk.Stack):
    """Everything the service needs, secure by default (see README.md, "Security controls")."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings = settings or Settings()
        self.key: kms.Key = security_key(self)
        self.network = PrivateNetwork(self, "Network") if settings.regulated else None

        self.table = dynamodb.Table(
            self,
            "Items",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if settings.regulated:
            self._backup_plan()

        code = PythonCode.bundle(FUNCTIONS_DIR, requirements=FUNCTION_REQUIREMENTS)
        # Powertools for AWS Lambda (Python) for SecureFunction's runtime and architecture; its
        # ARN is read at deploy time from AWS's public SSM parameter.
        powertools = powertools_layer(self, "PowertoolsLayer")

        table_env = {"TABLE_NAME": self.table.table_name}
        self.get_item = self._function(
            "GetItem", code, "get_item.handler", environment=table_env, layers=[powertools]
        )
        self._allow_table(self.get_item, "dynamodb:GetItem", key_actions=["kms:Decrypt"])

        self.create_item = self._function(
            "CreateItem", code, "create_item.handler", environment=table_env, layers=[powertools]
        )
        self._allow_table(
            self.create_item,
            "dynamodb:PutItem",
            key_actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        )

        self.rotate_signing_key = self._function(
            "RotateSigningKey", code, "rotate_signing_key.handler", layers=[powertools]
        )
        self.signing_key = SecureSecret(
            self,
            "SigningKey",
            description="HMAC key that signs item share links",
            rotation=SecretRotation.function(
                self.rotate_signing_key, every=ROTATION_INTERVAL, random_password=False
            ),
        )
        # Powertools caches the key in memory for 5 minutes (less than the rotation interval).
        self.share_link = self._function(
            "ShareLink",
            code,
            "share_link.handler",
            secrets={"SIGNING_KEY": self.signing_key},
            secrets_cache=SecretsCache.powertools(max_age=SECRET_CACHE_MAX_AGE),
        )

        # An event path: other systems drop NewItems on a queue; poison messages go to the
        # function's dead-letter queue after three receives (its depth alarm pages a person).
        self.import_items = self._function(
            "ImportItems", code, "import_items.handler", environment=table_env, layers=[powertools]
        )
        self._allow_table(
            self.import_items,
            "dynamodb:PutItem",
            key_actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        )
        self.imports = sqs.Queue(
            self,
            "ItemImports",
            encryption_master_key=self.key,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(6 * IMPORT_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.import_items.dead_letter_queue, max_receive_count=3
            ),
        )
        self.import_items.add_queue_trigger(self.imports)

        self.api = SecureApi(self, "Api", auth=self._auth(), waf=self._waf())
        self.api.add_route("GET", "/items/{id}", self.get_item)
        self.api.add_route("POST", "/items", self.create_item, request_schema=load_schema())
        self.api.add_route("GET", "/items/{id}/share", self.share_link)

        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API")
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "ImportQueueUrl", value=self.imports.queue_url)

        # SIEM integration: every log group of the stack (functions, API access log, web ACL
        # log) subscribed to the destination in settings, when there is one.
        if settings.log_destination_arn:
            forward_logs(self, destination=self._log_destination())

    # -- pieces ---------------------------------------------------------------------------

    def _function(
        self,
        construct_id: str,
        code: lambda_.Code,
        handler: str,
        *,
        environment: dict[str, str] | None = None,
        **options: Any,
    ) -> SecureFunction:
        """A SecureFunction with Powertools settings, the alarm e-mail and, in the regulated
        variant, the private network and reserved concurrency."""
        if self.network is not None:
            options.update(self.network.function_options())
            options["reserved_concurrent_executions"] = RESERVED_CONCURRENCY
        return SecureFunction(
            self,
            construct_id,
            code=code,
            handler=handler,
            environment={
                "POWERTOOLS_SERVICE_NAME": self.settings.service_name,
                "POWERTOOLS_METRICS_NAMESPACE": self.settings.service_name,
                **(environment or {}),
            },
            alarm_emails=[self.settings.alarm_email],
            **options,
        )

    def _allow_table(
        self, function: SecureFunction, action: str, *, key_actions: list[str]
    ) -> None:
        """Exactly one table action, and the key only when DynamoDB uses it for this table."""
        self.table.grant(function, action)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=key_actions,
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}
                },
            )
        )

    def _auth(self) -> ApiAuth:
        if self.settings.auth == "iam":
            return ApiAuth.iam()
        self.user_pool = SecureUserPool(self, "Users")
        self.user_pool_client = self.user_pool.add_client(
            "WebClient",
            auth_flows={"user_srp": True},
            generate_secret=False,
            prevent_user_existence_errors=True,
        )
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        return ApiAuth.cognito(self.user_pool)

    def _waf(self) -> WafProfile:
        return (
            WafProfile.strict() if self.settings.waf_profile == "strict" else WafProfile.baseline()
        )

    def _log_destination(self) -> LogDestination:
        arn = self.settings.log_destination_arn
        if self.settings.log_destination_service == "kinesis":
            return LogDestination.kinesis(kinesis.Stream.from_stream_arn(self, "SiemStream", arn))
        if self.settings.log_destination_service == "firehose":
            return LogDestination.firehose(
                firehose.DeliveryStream.from_delivery_stream_arn(self, "SiemFirehose", arn)
            )
        return LogDestination.cloudwatch_destination(arn)

    def _backup_plan(self) -> None:
        vault = backup.BackupVault(
            self,
            "BackupVault",
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        plan = backup.BackupPlan(self, "BackupPlan", backup_vault=vault)
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Daily35Days",
                schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                delete_after=cdk.Duration.days(35),
            )
        )
        selection = plan.add_selection(
            "Items", resources=[backup.BackupResource.from_dynamo_db_table(self.table)]
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            _BACKUP_POLICY_REASON,
        )
        acknowledge(
            selection,
            "SecureServerless::IAMManagedPolicy[Policy::AWSBackupServiceRolePolicyForBackup]",
            _BACKUP_POLICY_REASON,
        )
