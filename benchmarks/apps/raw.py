"""(b) The same resources as (c), written by hand with plain aws-cdk-lib and nothing more.

Derived from secure_constructs' code and (c)'s synthesized template: same resources, same
properties, same policy statements, same acknowledgements (through CDK's own
`Validations.of(c).acknowledge`), so the checked synth has the same findings to process.
The function's role is handed to `lambda_.Function` as `without_policy_updates()`, so the
grants CDK would otherwise add to an inline policy are written out explicitly in the
customer-managed policy, the way a careful hand-written stack does it.
"""

from benchmarks.apps import probe

probe.start()

import json  # noqa: E402

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_apigateway as apigateway  # noqa: E402
from aws_cdk import aws_cloudwatch as cloudwatch  # noqa: E402
from aws_cdk import aws_cloudwatch_actions as cw_actions  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk import aws_lambda_destinations as destinations  # noqa: E402
from aws_cdk import aws_lambda_event_sources as event_sources  # noqa: E402
from aws_cdk import aws_logs as logs  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402
from aws_cdk import aws_sqs as sqs  # noqa: E402
from aws_cdk import aws_wafv2 as wafv2  # noqa: E402
from constructs import Construct  # noqa: E402

from benchmarks.apps import common  # noqa: E402

probe.mark("imported")

TERMINAL_DLQ = (
    "This queue is the terminal dead-letter queue and on-failure destination of the stack's "
    "functions; its depth alarm pages a person, and a dead-letter queue of a dead-letter queue "
    "only moves the problem."
)
STAR_ONLY = (
    "Holds only actions that AWS supports solely on Resource '*' (X-Ray "
    "PutTraceSegments/PutTelemetryRecords and, for a VPC function, the EC2 network-interface "
    "actions Lambda needs); no other statement can land in this policy."
)


SQS_MAPPING = (
    "An SQS event source mapping cannot have an on-failure destination (Lambda supports "
    "DestinationConfig only for stream and Kafka sources); failed messages go to the source "
    "queue's redrive policy, which this queue has. SecureServerless::EventSourceFailureHandling "
    "checks that redrive policy in the template."
)


def ack(construct: object, rule: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


app = cdk.App(outdir=common.OUTDIR, context=common.CONTEXT)
stack = cdk.Stack(app, "Bench")

key = kms.Key(
    stack,
    "SecureConstructsKey",
    description="secure-constructs: encrypts this stack's logs, queues, topics and secrets",
    enable_key_rotation=True,
    removal_policy=cdk.RemovalPolicy.RETAIN,
)
key.add_to_resource_policy(
    iam.PolicyStatement(
        sid="AllowCloudWatchLogsOfThisAccount",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:DescribeKey",
        ],
        resources=["*"],
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            }
        },
    )
)
key.add_to_resource_policy(
    iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsToPublish",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
    )
)
topic = sns.Topic(
    stack,
    "SecureConstructsAlarmTopic",
    display_name="secure-constructs alarms",
    master_key=key,
    enforce_ssl=True,
)
xray = iam.ManagedPolicy(
    stack,
    "SecureConstructsXRayWritePolicy",
    description=(
        "X-Ray trace upload for the stack's functions (no resource-level permissions exist)"
    ),
    statements=[
        iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
        )
    ],
)
ack(xray, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", STAR_ONLY)
alarm_action = cw_actions.SnsAction(topic)
code = lambda_.Code.from_inline("def handler(event, context):\n    return {'ok': True}\n")
minute = cdk.Duration.minutes(1)


def alarm(scope: object, cid: str, metric: cloudwatch.IMetric, threshold: float, text: str) -> None:
    cloudwatch.Alarm(
        scope,
        cid,
        metric=metric,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=text,
    ).add_alarm_action(alarm_action)


five = cdk.Duration.minutes(5)
monitoring = Construct(stack, "SecureConstructsMonitoring")
dashboard = cloudwatch.Dashboard(monitoring, "Dashboard")


def graph(title: str, left: list, right: list | None = None, **extra: object) -> object:
    return cloudwatch.GraphWidget(
        title=title, left=left, right=right or [], width=6, height=6, **extra
    )


def row(heading: str, widgets: list) -> None:
    dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"### {heading}", width=24, height=1))
    dashboard.add_widgets(*widgets)


def anomaly_alarm(scope: Construct, cid: str, metrics: list, label: str, text: str) -> None:
    ids = [f"m{n}" for n in range(len(metrics))]
    total = ids[0] if len(ids) == 1 else f"SUM([{', '.join(ids)}])"
    queries = [
        {
            "Id": "band",
            "Expression": "ANOMALY_DETECTION_BAND(traffic, 3)",
            "Label": "expected range",
            "ReturnData": True,
        },
        {
            "Id": "traffic",
            "Expression": f"IF({total} >= 100, {total}, 0)",
            "Label": label,
            "ReturnData": True,
        },
    ]
    for query_id, (namespace, metric_name, dims) in zip(ids, metrics, strict=True):
        queries.append(
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric_name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            }
        )
    scope = Construct(scope, cid)
    cfn = cloudwatch.CfnAlarm(
        scope,
        "Resource",
        alarm_description=text,
        comparison_operator="GreaterThanUpperThreshold",
        evaluation_periods=3,
        datapoints_to_alarm=3,
        threshold_metric_id="band",
        treat_missing_data="notBreaching",
        actions_enabled=True,
        alarm_actions=[topic.topic_arn],
    )
    cfn.add_property_override("Metrics", queries)


ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "xrayTraceId": "$context.xrayTraceId",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "principalId": "$context.authorizer.principalId",
    "cognitoSub": "$context.authorizer.claims.sub",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "errorMessage": "$context.error.message",
    "errorResponseType": "$context.error.responseType",
    "authorizerError": "$context.authorizer.error",
    "wafResponseCode": "$context.wafResponseCode",
    "webAclArn": "$context.webaclArn",
}
CACHE_OFF = (
    "Stage caching stays off by default: API Gateway's cache key does not include the caller, so "
    "cached authenticated responses can leak across users. Turn it on with SecureApi(cache="
    "ApiCache(...)), which encrypts the cache and puts the Authorization header in every "
    "method's cache key."
)
NO_CLIENT_CERT = (
    "A stage client certificate authenticates API Gateway to HTTP backends; every SecureApi "
    "route integrates a Lambda function, which API Gateway invokes through the Lambda API with "
    "SigV4 under a resource policy scoped to the method, so a certificate would never be "
    "presented (and would expire unrotated after a year)."
)
LOG_PREFIXES = (
    "The account-level API Gateway CloudWatch role writes execution logs to "
    "API-Gateway-Execution-Logs_<rest api id>/<stage> groups, whose names API Gateway derives "
    "from ids known only at deploy time, and SecureApi access logs to API-Gateway-Access-Logs_* "
    "groups; the role is shared by every API of the account and region, so it is scoped to "
    "these two name prefixes rather than to named log groups."
)
NOT_COGNITO = (
    "Every caller of this method is authorized by IAM (SigV4-signed requests, execute-api:Invoke "
    "granted per caller); AwsSolutions-COG4 asks for a Cognito user pool authorizer "
    "specifically, which this route's callers do not use."
)
validator: apigateway.RequestValidator | None = None


def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def account_logging() -> apigateway.CfnAccount:
    scope = Construct(stack, "SecureConstructsApiGatewayAccount")
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="API Gateway account-level CloudWatch role (secure-constructs)",
    )
    arns = [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{prefix}{suffix}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for prefix in ("API-Gateway-Execution-Logs_", "API-Gateway-Access-Logs_")
        for suffix in ("*", "*:log-stream:*")
    ]
    policy = iam.ManagedPolicy(
        scope,
        "Policy",
        description="Lets API Gateway write execution and SecureApi access logs",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=arns,
            )
        ],
    )
    account = apigateway.CfnAccount(scope, "Resource", cloud_watch_role_arn=role.role_arn)
    account.node.add_dependency(policy)
    for child in (role, policy, account):
        child.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    for prefix in ("API-Gateway-Execution-Logs_", "API-Gateway-Access-Logs_"):
        for suffix in ("*", "*:log-stream:*"):
            ack(
                policy,
                "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:"
                f"<AWS::Region>:<AWS::AccountId>:log-group:{prefix}{suffix}]",
                LOG_PREFIXES,
            )
    return account


def build_api() -> apigateway.RestApi:
    global validator
    api = apigateway.RestApi(
        stack,
        "Api",
        cloud_watch_role=False,
        deploy=True,
        deploy_options=apigateway.StageOptions(
            stage_name="prod",
            tracing_enabled=True,
            cache_cluster_enabled=False,
            description="secure-constructs stage prod",
        ),
        endpoint_types=[apigateway.EndpointType.REGIONAL],
    )
    stage = api.deployment_stage
    cfn_stage: apigateway.CfnStage = stage.node.default_child  # type: ignore[assignment]
    access_logs = logs.LogGroup(
        api,
        "AccessLogs",
        log_group_name="API-Gateway-Access-Logs_"
        + cdk.Names.unique_resource_name(api, max_length=200, separator="-"),
        retention=logs.RetentionDays.ONE_YEAR,
        encryption_key=key,
    )
    cfn_stage.access_log_setting = apigateway.CfnStage.AccessLogSettingProperty(
        destination_arn=access_logs.log_group_arn,
        format=json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":")),
    )
    cfn_stage.method_settings = [
        apigateway.CfnStage.MethodSettingProperty(
            http_method="*",
            resource_path="/*",
            logging_level="ERROR",
            data_trace_enabled=False,
            metrics_enabled=True,
            throttling_rate_limit=100.0,
            throttling_burst_limit=200,
            caching_enabled=False,
        )
    ]
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        ack(stage, f"{pack}::{pack}-APIGWCacheEnabledAndEncrypted", CACHE_OFF)
    for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        ack(stage, f"{pack}::{pack}-APIGWSSLEnabled", NO_CLIENT_CERT)
    stage.node.add_dependency(account_logging())
    validator = api.add_request_validator(
        "RequestValidator",
        request_validator_name="body-and-parameters",
        validate_request_body=True,
        validate_request_parameters=True,
    )

    waf = Construct(api, "WebAcl")
    waf_name = cdk.Names.unique_resource_name(waf, max_length=128, separator="-")
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerSourceIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=1000, evaluation_window_sec=300
                )
            ),
            visibility_config=visibility("RateLimitPerSourceIp"),
        )
    ]
    for priority, group in enumerate(
        (
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesSQLiRuleSet",
        ),
        start=1,
    ):
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=visibility(group),
            )
        )
    web_acl = wafv2.CfnWebACL(
        waf,
        "Resource",
        name=waf_name,
        scope="REGIONAL",
        description="secure-constructs WafProfile.baseline",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=rules,
        visibility_config=visibility(waf_name),
    )
    waf_logs = logs.LogGroup(
        waf,
        "LogGroup",
        log_group_name="aws-waf-logs-"
        + cdk.Names.unique_resource_name(waf, max_length=100, separator="-"),
        retention=logs.RetentionDays.ONE_YEAR,
        encryption_key=key,
    )
    wafv2.CfnLoggingConfiguration(
        waf,
        "Logging",
        resource_arn=web_acl.attr_arn,
        log_destination_configs=[waf_logs.log_group_arn],
        redacted_fields=[
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
            for header in ("authorization", "cookie")
        ],
    )
    alarm(
        waf,
        "BlockedRequestsAlarm",
        cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name="BlockedRequests",
            dimensions_map={"WebACL": waf_name, "Region": stack.region, "Rule": "ALL"},
            statistic="Sum",
            period=cdk.Duration.minutes(5),
        ),
        100,
        "The web ACL blocked more than 100 requests in 5 minutes (an attack, or a false "
        "positive locking out users)",
    )

    def waf_metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name=name,
            dimensions_map={"WebACL": waf_name, "Region": stack.region, "Rule": "ALL"},
            statistic="Sum",
            period=five,
        )

    def blocked_rate() -> cloudwatch.MathExpression:
        total = "FILL(allowed, 0) + FILL(blocked, 0)"
        return cloudwatch.MathExpression(
            expression=f"IF({total} >= 50, FILL(blocked, 0) / ({total}), 0)",
            using_metrics={
                "blocked": waf_metric("BlockedRequests"),
                "allowed": waf_metric("AllowedRequests"),
            },
            period=five,
            label="blocked rate",
        )

    alarm(
        waf,
        "BlockedRateAlarm",
        blocked_rate(),
        0.1,
        "The web ACL blocked more than 10% of requests in 5 minutes (at least 50 requests): an "
        "attack, or a false positive locking out users",
    )
    wafv2.CfnWebACLAssociation(
        api, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=web_acl.attr_arn
    )
    alarm(
        api,
        "ServerErrorAlarm",
        api.metric_server_error(period=minute, statistic="Sum"),
        0,
        "The API returned 5XX errors",
    )
    alarm(
        api,
        "ClientErrorRateAlarm",
        api.metric_client_error(period=cdk.Duration.minutes(5), statistic="Average"),
        0.05,
        "More than 5% of requests in 5 minutes ended in a 4XX (probing, broken clients, or WAF / "
        "authorizer rejections)",
    )
    alarm(
        api,
        "LatencyAlarm",
        api.metric_latency(period=minute, statistic="p99"),
        8000,
        "p99 latency above 80% of the longest integration timeout",
    )
    anomaly_alarm(
        api,
        "RequestsAnomalyAlarm",
        [("AWS/ApiGateway", "Count", {"ApiName": api.rest_api_name})],
        "requests",
        "The API received far more (or fewer) requests than the anomaly model expects from its "
        "history (a surge: abuse, scraping, a denial of service)",
    )
    denial_ns = "SecureConstructs/ApiGateway/Denials"
    logs.MetricFilter(
        api,
        "DenialsFilter",
        log_group=access_logs,
        filter_pattern=logs.FilterPattern.all(
            logs.FilterPattern.any(
                logs.FilterPattern.string_value("$.status", "=", "401"),
                logs.FilterPattern.string_value("$.status", "=", "403"),
            ),
            logs.FilterPattern.string_value("$.errorResponseType", "!=", "WAF_FILTERED"),
        ),
        metric_namespace=denial_ns,
        metric_name=api.rest_api_id,
        metric_value="1",
        unit=cloudwatch.Unit.COUNT,
    )

    def denials() -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=denial_ns,
            metric_name=api.rest_api_id,
            statistic="Sum",
            period=five,
            label="denials (401/403)",
        )

    def denial_rate() -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(
            expression="IF(requests >= 20, FILL(denials, 0) / requests, 0)",
            using_metrics={
                "denials": denials(),
                "requests": api.metric_count(period=five, statistic="Sum"),
            },
            period=five,
            label="denial rate",
        )

    alarm(
        api,
        "DenialRateAlarm",
        denial_rate(),
        0.1,
        "More than 10% of requests in 5 minutes were refused by authorization (401/403, at "
        "least 20 requests): credential stuffing, token probing, or a client with broken "
        "credentials",
    )
    row(
        f"API {api.node.path}",
        [
            graph(
                "Requests / WAF allowed, blocked",
                [api.metric_count(period=minute, statistic="Sum")],
                [waf_metric("AllowedRequests"), waf_metric("BlockedRequests")],
            ),
            graph(
                "4XX / 5XX",
                [
                    api.metric_client_error(period=minute, statistic="Sum"),
                    api.metric_server_error(period=minute, statistic="Sum"),
                ],
            ),
            graph(
                "p99 latency (ms)",
                [
                    api.metric_latency(period=minute, statistic="p99"),
                    api.metric_integration_latency(period=minute, statistic="p99"),
                ],
            ),
            graph("Denial / blocked rate", [denial_rate(), blocked_rate()], [denials()]),
        ],
    )
    return api


api = build_api() if common.API else None
if api is not None:
    invoke_role = iam.Role(
        api,
        "InvokeRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description=(
            "API Gateway assumes this role to invoke the Lambda functions routed by one "
            "SecureApi (secure-constructs)"
        ),
    )
# One dead-letter queue per stack for every function, with one depth alarm.
dlq = sqs.Queue(
    stack,
    "SecureConstructsDeadLetterQueue",
    encryption=sqs.QueueEncryption.KMS,
    encryption_master_key=key,
    enforce_ssl=True,
    retention_period=cdk.Duration.days(14),
)
ack(dlq, "Serverless::Serverless-SQSRedrivePolicy", TERMINAL_DLQ)


def queue_trigger(i: int, fn: lambda_.Function, policy: iam.ManagedPolicy) -> sqs.Queue:
    """The queue and mapping of fn.add_queue_trigger, and the grants CDK's SqsEventSource would
    have added to a mutable role (the role is imported immutable, so they are written here)."""
    jobs = sqs.Queue(
        stack,
        f"Jobs{i}",
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=cdk.Duration.seconds(60),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=3),
    )
    before = {c.node.id for c in fn.node.children}
    fn.add_event_source(
        event_sources.SqsEventSource(
            jobs, batch_size=10, max_concurrency=2, report_batch_item_failures=True
        )
    )
    policy.add_statements(
        iam.PolicyStatement(
            actions=[
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            resources=[jobs.queue_arn],
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"sqs.{stack.region}.amazonaws.com",
                    "kms:EncryptionContext:aws:sqs:arn": jobs.queue_arn,
                }
            },
        ),
    )
    for child in fn.node.children:
        if child.node.id not in before:
            ack(child, "Serverless::Serverless-LambdaEventSourceMappingDestination", SQS_MAPPING)
    return jobs


functions = []
invocations: list = []
for i in range(common.N):
    name = f"Fn{i}"
    role = iam.Role(
        stack,
        f"{name}ServiceRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Execution role of one SecureFunction (customer-managed policies only)",
    )
    log_group = logs.LogGroup(
        stack, f"{name}LogGroup", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key
    )
    policy = iam.ManagedPolicy(
        role,
        "Policy",
        description="Resource-scoped permissions of one function (grant_* lands here)",
        roles=[role],
        statements=[
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[dlq.queue_arn]),
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"sqs.{stack.region}.amazonaws.com",
                        "kms:EncryptionContext:aws:sqs:arn": dlq.queue_arn,
                    }
                },
            ),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
        ],
    )
    xray.attach_to_role(role)
    fn = lambda_.Function(
        stack,
        name,
        code=code,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        memory_size=256,
        timeout=cdk.Duration.seconds(10),
        environment_encryption=key,
        role=role.without_policy_updates(),
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
        tracing=lambda_.Tracing.ACTIVE,
        retry_attempts=2,
        max_event_age=cdk.Duration.hours(1),
        dead_letter_queue=dlq,
        on_failure=destinations.SqsDestination(dlq),
    )
    fn.node.default_child.node.add_dependency(policy, role)  # as CDK does for its own grants
    functions.append(fn)
    alarm(
        fn,
        "HealthAlarm",
        cloudwatch.MathExpression(
            expression="MAX([errors, throttles, slow])",
            using_metrics={
                "errors": fn.metric_errors(period=minute, statistic="Sum"),
                "throttles": fn.metric_throttles(period=minute, statistic="Sum"),
                "slow": cloudwatch.MathExpression(
                    expression="IF(duration > 8000, 1, 0)",
                    using_metrics={"duration": fn.metric_duration(period=minute, statistic="p99")},
                    period=minute,
                    label="p99 duration above 8000 ms",
                ),
            },
            period=minute,
            label="errors, throttles or slow",
        ),
        0,
        "The function reported errors, was throttled, or its p99 duration was above 8000 ms "
        "(80% of its timeout); the value is the errors or throttles count of the minute, or 1 "
        "for the duration",
    )
    if i == 0:
        alarm(
            dlq,
            "NotEmptyAlarm",
            dlq.metric_approximate_number_of_messages_visible(period=minute, statistic="Maximum"),
            0,
            "Failed asynchronous events are waiting in the dead-letter queue (the on-failure "
            "records name the function in requestContext.functionArn)",
        )
    jobs = queue_trigger(i, fn, policy) if common.TRIGGER == "queue" else None
    # Cold starts: the report record's initDurationMs, one metric named after the function.
    init_ns = "SecureConstructs/Lambda/InitDuration"
    logs.MetricFilter(
        fn,
        "ColdStartFilter",
        log_group=log_group,
        filter_pattern=logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.type", "=", "platform.report"),
            logs.FilterPattern.number_value("$.record.metrics.initDurationMs", ">=", 0),
        ),
        metric_namespace=init_ns,
        metric_name=fn.function_name,
        metric_value="$.record.metrics.initDurationMs",
        unit=cloudwatch.Unit.MILLISECONDS,
    )
    invocations.append(("AWS/Lambda", "Invocations", {"FunctionName": fn.function_name}))
    row(
        f"Function {fn.node.path}",
        [
            graph(
                "Invocations / cold starts",
                [fn.metric_invocations(period=minute, statistic="Sum")],
                [
                    cloudwatch.Metric(
                        namespace=init_ns,
                        metric_name=fn.function_name,
                        statistic="SampleCount",
                        period=five,
                        label="cold starts",
                    )
                ],
            ),
            graph(
                "Errors / throttles",
                [
                    fn.metric_errors(period=minute, statistic="Sum"),
                    fn.metric_throttles(period=minute, statistic="Sum"),
                ],
            ),
            graph(
                "p99 duration vs timeout (ms)",
                [fn.metric_duration(period=minute, statistic="p99")],
                [
                    cloudwatch.Metric(
                        namespace=init_ns,
                        metric_name=fn.function_name,
                        statistic="p99",
                        period=five,
                        unit=cloudwatch.Unit.MILLISECONDS,
                        label="p99 init duration",
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=10000, label="timeout"),
                    cloudwatch.HorizontalAnnotation(value=8000, label="duration alarm"),
                ],
            ),
            graph(
                "Dead-letter queue depth",
                [
                    dlq.metric_approximate_number_of_messages_visible(
                        period=minute, statistic="Maximum"
                    )
                ],
            ),
        ],
    )
    if jobs is not None:
        row(
            f"Queue trigger {jobs.node.path} -> {fn.node.path}",
            [
                graph(
                    "Messages waiting",
                    [jobs.metric_approximate_number_of_messages_visible(period=minute)],
                ),
                graph(
                    "Age of the oldest message (s)",
                    [
                        jobs.metric_approximate_age_of_oldest_message(
                            period=minute, statistic="Maximum"
                        )
                    ],
                ),
                graph(
                    "Redrive queue depth",
                    [
                        dlq.metric_approximate_number_of_messages_visible(
                            period=minute, statistic="Maximum"
                        )
                    ],
                ),
            ],
        )
    if api is not None:
        # API Gateway invokes the functions as one role; at most 45 ARNs per policy.
        if i % 45 == 0:
            number = i // 45 + 1
            invoke = iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[])
            policy = iam.ManagedPolicy(
                api,
                "InvokePolicy" if number == 1 else f"InvokePolicy{number}",
                description=(
                    f"Lets API Gateway invoke the functions routed by one SecureApi ({number})"
                ),
                roles=[invoke_role],
                statements=[invoke],
            )
            api.deployment_stage.node.add_dependency(policy)
        invoke.add_resources(fn.function_arn)
        method = api.root.resource_for_path(f"/fn{i}").add_method(
            "GET",
            apigateway.Integration(
                type=apigateway.IntegrationType.AWS_PROXY,
                integration_http_method="POST",
                uri=stack.format_arn(
                    service="apigateway",
                    account="lambda",
                    resource="path",
                    resource_name=f"2015-03-31/functions/{fn.function_arn}/invocations",
                    arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                ),
                options=apigateway.IntegrationOptions(credentials_role=invoke_role),
            ),
            request_validator=validator,
            api_key_required=False,
            operation_name=f"getFn{i}",
            authorization_type=apigateway.AuthorizationType.IAM,
        )
        ack(method, "AwsSolutions::AwsSolutions-COG4", NOT_COGNITO)

if common.WORKFLOW:
    from benchmarks.apps.workflow_raw_parts import add_workflow

    add_workflow(stack, functions, key, alarm)
# The stack's invocation anomaly alarms: one per 10 functions (CloudWatch's metric-math limit).
for start in range(0, len(invocations), 10):
    number = start // 10 + 1
    anomaly_alarm(
        monitoring,
        "InvocationsAnomalyAlarm" if number == 1 else f"InvocationsAnomalyAlarm{number}",
        invocations[start : start + 10],
        "invocations of the stack's functions",
        "The stack's functions were invoked far more (or less) than the anomaly model expects "
        "from their history (a surge: abuse, scraping, a retry storm)"
        + ("" if number == 1 else f" (group {number})"),
    )

common.register_checks(app)
probe.mark("constructed")
result = common.synth(app)
probe.finish(result)
