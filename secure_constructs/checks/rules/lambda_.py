"""Rules over AWS::Lambda resources: secrets in environment variables, timeouts, asynchronous
failure handling, alarms and public invocation.

Each rule reads the template once or twice (an index of the related resources, then one pass
over the functions), so a 500-resource template costs a few milliseconds.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.accounts import mark_own, resource_types
from secure_constructs.checks.alarm_facts import alarm_always_notifies
from secure_constructs.checks.cfn import (
    alarm_metrics,
    as_list,
    number,
    referenced_id,
    referenced_ids,
    renderings,
)
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.rules.iam import policy_documents, statements
from secure_constructs.checks.rules.plaintext_secrets import is_lambda_environment
from secure_constructs.checks.rules.policy_documents import (
    UNREADABLE_FIX,
    UNREADABLE_NOTE,
    is_everyone,
    is_unreadable,
    with_parameter_defaults,
)

FUNCTION = "AWS::Lambda::Function"
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$")
_FUNCTION_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)")

# A key identifying a function in another resource's property: ("ref", logical id) for a Ref or
# GetAtt, ("name", function name) for a literal name or ARN.
FunctionKey = tuple[str, str]


def function_keys(logical_id: str, props: Mapping[str, Any]) -> set[FunctionKey]:
    """Every way another resource of the template may name this function."""
    keys: set[FunctionKey] = {("ref", logical_id)}
    name = props.get("FunctionName")
    if isinstance(name, str):
        keys.add(("name", name))
    return keys


def function_reference(value: Any) -> FunctionKey | None:
    """The function a `FunctionName`-like property names (Ref, GetAtt, name or ARN)."""
    target = referenced_id(value)
    if target is not None:
        return ("ref", target)
    if isinstance(value, str):
        match = _FUNCTION_ARN.match(value)
        return ("name", match.group(1) if match else value.split(":", 1)[0])
    return None


_INVOCATION_TYPES = (
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Url",
    "AWS::Lambda::EventInvokeConfig",
)


def custom_resource_handlers(t: Template) -> set[str]:
    """Functions whose only job is to handle CloudFormation custom resources.

    They are the `ServiceToken` of a `Custom::*` / `AWS::CloudFormation::CustomResource` and
    nothing else invokes them (no permission, event source mapping, URL or async config names
    them): CloudFormation calls them at deploy time and reports their failures, with their
    duration, as stack events. CDK's own handlers (S3 notifications, AwsCustomResource,
    BucketDeployment) are such functions, with timeouts the user cannot change.
    """
    handlers: set[str] = set()
    for resource in t.resources.values():
        type_ = resource.get("Type") if isinstance(resource, Mapping) else None
        if not isinstance(type_, str) or not (
            type_.startswith("Custom::") or type_ == "AWS::CloudFormation::CustomResource"
        ):
            continue
        props = resource.get("Properties")
        target = referenced_id(props.get("ServiceToken")) if isinstance(props, Mapping) else None
        if target is not None:
            handlers.add(target)
    if handlers:
        for _, props in t.of_type(*_INVOCATION_TYPES):
            name = props.get("FunctionName", props.get("TargetFunctionArn"))
            key = function_reference(name)
            if key is not None and key[0] == "ref":
                handlers.discard(key[1])
        handlers -= _invoked_through_roles(t)
    return handlers


def _invoked_through_roles(t: Template) -> set[str]:
    """Functions an API Gateway integration or authorizer URI, or an identity policy allowing
    `lambda:InvokeFunction`, names (an alias or version counts for its function): a SecureApi
    route invokes through the API's invoke role, with no Lambda permission."""
    named: set[str] = set()
    for _, props in t.of_type("AWS::ApiGateway::Method", "AWS::ApiGateway::Authorizer"):
        integration = props.get("Integration")
        named.update(
            referenced_ids(integration.get("Uri") if isinstance(integration, Mapping) else None)
        )
        named.update(referenced_ids(props.get("AuthorizerUri")))
    for _, path, document in policy_documents(t):
        for _, statement in statements(path, document):
            actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
            if statement.get("Effect") == "Allow" and any(
                fnmatch.fnmatchcase("lambda:invokefunction", a.lower()) for a in actions
            ):
                named.update(referenced_ids(statement.get("Resource")))
    versions = {
        logical_id: referenced_id(props.get("FunctionName"))
        for logical_id, props in t.of_type("AWS::Lambda::Alias", "AWS::Lambda::Version")
    }
    return {versions.get(target) or target for target in named}


# --- LambdaEnvironmentSecret ----------------------------------------------------------------


@rule(
    "LambdaEnvironmentSecret",
    granular=True,
    practice=Practice.SECRETS,
    applies_to=(FUNCTION,),
    summary="A Lambda environment variable holds a secret",
    explanation=(
        "Environment variables are shown in the Lambda console and returned by "
        "GetFunctionConfiguration to anyone with read access, and literal values sit in the "
        "template and in source control. A {{resolve:secretsmanager:...}} or "
        "{{resolve:ssm-secure:...}} reference is resolved by CloudFormation into the variable, "
        "so the secret ends up in the same place. Pass the secret's ARN instead and read the "
        "value at runtime."
    ),
)
def lambda_environment_secret(t: Template) -> Iterator[Violation]:
    """A variable whose value (or any part of it) looks like a credential."""
    from secure_constructs.checks.secret_scan import scan

    reported: set[tuple[str, str]] = set()
    for finding in scan(t.body):
        path = finding.path
        if not (is_lambda_environment(path, t) and len(path) >= 6 and path[4] == "Variables"):
            continue
        logical_id, name = path[1], path[5]
        if (logical_id, name) in reported:
            continue  # one finding per variable (Fn::If branches)
        reported.add((logical_id, name))
        yield Violation(
            logical_id,
            f"Properties/Environment/Variables/{name}",
            f"environment variable {name} ({'.'.join(path)}) holds {finding.reason}",
            f"use SecureFunction(secrets={{'{_secret_key(name)}': secret}}): the "
            f"function gets {_secret_key(name)}_SECRET_ARN and read access to exactly "
            "that secret, and reads the value at runtime",
            finding_id=name,
        )


def _secret_key(name: str) -> str:
    for suffix in ("_PASSWORD", "_SECRET", "_TOKEN", "_API_KEY"):
        if name.upper().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# --- LambdaTimeout --------------------------------------------------------------------------


@rule(
    "LambdaTimeout",
    practice=Practice.EXECUTION_TIME,
    applies_to=(FUNCTION,),
    summary="A Lambda function has no explicit timeout, or one above the cap",
    explanation=(
        "A timeout bounds what one invocation can cost and how long a stuck call holds a "
        "concurrency slot; an explicit one is a decision someone made (and the duration alarm "
        "is derived from it). The cap (default 60 s, apply_checks(max_timeout=...)) keeps "
        "long-running work out of request paths: it belongs in Step Functions or a queue."
    ),
)
def lambda_timeout(t: Template) -> Iterator[Violation]:
    """Timeout missing, or a literal number of seconds above `options.max_timeout_seconds`.

    Custom-resource handlers are skipped: CloudFormation waits up to an hour for them.
    """
    cap = t.options.max_timeout_seconds
    handlers = custom_resource_handlers(t)
    for logical_id, props in t.of_type(FUNCTION):
        if logical_id in handlers:
            continue
        timeout = props.get("Timeout")
        if timeout is None:
            yield Violation(
                logical_id,
                "Properties/Timeout",
                "no explicit Timeout (Lambda's default of 3 s is nobody's decision)",
                "set timeout=Duration.seconds(10) (SecureFunction's default), as short as the "
                "work allows",
            )
            continue
        seconds = number(timeout)
        if seconds is not None and seconds > cap:
            yield Violation(
                logical_id,
                "Properties/Timeout",
                f"Timeout is {seconds:g} s, above the cap of {cap} s",
                f"set timeout=Duration.seconds({cap}) or less; move long work to Step Functions "
                "or a queue, or raise the cap with apply_checks(app, max_timeout=...)",
            )


# --- LambdaAsyncFailureHandling -------------------------------------------------------------


@rule(
    "LambdaAsyncFailureHandling",
    granular=True,
    practice=Practice.EXECUTION_TIME,
    applies_to=(FUNCTION,),
    summary="Asynchronous invocations have unbounded retries or event age, or nowhere to fail to",
    explanation=(
        "Any function can be invoked asynchronously (S3, SNS, EventBridge, or "
        "InvocationType=Event). Without an EventInvokeConfig Lambda retries twice and keeps "
        "events for six hours, and an event that still fails is dropped without a trace. Bound "
        "MaximumRetryAttempts and MaximumEventAgeInSeconds explicitly and send failures to an "
        "on-failure destination or a dead-letter queue that someone watches."
    ),
)
def lambda_async_failure_handling(t: Template) -> Iterator[Violation]:
    """Per function: retries bounded, event age bounded, failures kept (destination or DLQ).

    Custom-resource handlers are skipped: a failure fails the deployment that invoked them.
    """
    configs: dict[FunctionKey, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for config_id, props in t.of_type("AWS::Lambda::EventInvokeConfig"):
        key = function_reference(props.get("FunctionName"))
        if key is not None:
            configs[key].append((config_id, props))
    fix = (
        "use SecureFunction (retry_attempts=2, max_event_age=1 hour and an SQS dead-letter "
        "queue as on-failure destination by default), or fn.configure_async_invoke("
        "retry_attempts=..., max_event_age=..., on_failure=SqsDestination(queue))"
    )
    handlers = custom_resource_handlers(t)
    for logical_id, props in t.of_type(FUNCTION):
        if logical_id in handlers:
            continue
        listed = [c for key in function_keys(logical_id, props) for c in configs.get(key, [])]
        found = [c for c in listed if t.exists_with(c[0], logical_id)]
        for field, what in (
            ("MaximumRetryAttempts", "retry attempts"),
            ("MaximumEventAgeInSeconds", "maximum event age"),
        ):
            if any(config.get(field) is not None for _, config in found):
                continue
            if found:  # the finding sits on the config, which CDK nests under the function
                owner, path = found[0][0], f"Properties/{field}"
                message = f"the EventInvokeConfig of {logical_id} does not set {field}"
            else:
                owner, path = logical_id, "Properties"
                message = f"no AWS::Lambda::EventInvokeConfig bounds the {what}" + (
                    f" ({listed[0][0]} has a Condition the function does not share)"
                    if listed
                    else ""
                )
            yield Violation(owner, path, message, fix, finding_id=field)
        has_dlq = _has(props, "DeadLetterConfig", "TargetArn")
        has_destination = any(
            _has(config, "DestinationConfig", "OnFailure", "Destination") for _, config in found
        )
        if not (has_dlq or has_destination):
            yield Violation(
                logical_id,
                "Properties/DeadLetterConfig",
                "failed asynchronous events are dropped: no on-failure destination and no "
                "dead-letter queue",
                fix,
                finding_id="OnFailure",
            )


def _has(props: Mapping[str, Any], *path: str) -> bool:
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping):
            return False
        value = value.get(key)
    return value not in (None, "", [], {})


# --- LambdaAlarms ---------------------------------------------------------------------------

_ALARMED_METRICS = ("Errors", "Throttles")


@rule(
    "LambdaAlarms",
    granular=True,
    practice=Practice.MONITORING,
    applies_to=(FUNCTION,),
    summary="A Lambda function has no Errors or Throttles alarm with an enabled alarm action",
    explanation=(
        "Errors and throttles are the two signals that a function is failing its callers. An "
        "alarm without an alarm action changes colour in a console nobody watches; it must "
        "have one (an SNS topic, a pager integration). Whether the topic has a subscriber is "
        "not checked: subscriptions are often made outside the template."
    ),
)
def lambda_alarms(t: Template) -> Iterator[Violation]:
    """Per function and metric (Errors, Throttles): an alarm with enabled alarm actions.

    Custom-resource handlers are skipped: their errors are the deployment's stack events.
    """
    alarmed: dict[FunctionKey, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    silent: dict[FunctionKey, dict[str, str]] = defaultdict(dict)
    for alarm_id, props in t.of_type("AWS::CloudWatch::Alarm"):
        notifies = alarm_always_notifies(props, t.body)
        for key, metric in _lambda_metrics(props):
            if notifies:
                alarmed[key][metric].append(alarm_id)
            else:
                silent[key].setdefault(metric, alarm_id)
    handlers = custom_resource_handlers(t)
    for logical_id, props in t.of_type(FUNCTION):
        if logical_id in handlers:
            continue
        keys = function_keys(logical_id, props)
        for metric in _ALARMED_METRICS:
            alarms = [a for k in keys for a in alarmed.get(k, {}).get(metric, [])]
            if any(t.exists_with(a, logical_id) for a in alarms):
                continue
            quiet = next((silent[k][metric] for k in keys if metric in silent.get(k, {})), None)
            message = (
                f"the {metric} alarm {alarms[0]} has a Condition the function does not share "
                "(it may not exist when the function does)"
                if alarms
                else f"the {metric} alarm {quiet} has no enabled AlarmActions"
                if quiet
                else f"no AWS::CloudWatch::Alarm on the AWS/Lambda {metric} metric of this function"
            )
            yield Violation(
                logical_id,
                "Properties",
                message,
                "use SecureFunction (one alarm on Errors, Throttles and p99 Duration, and a "
                "dead-letter queue alarm, to the stack's alarm topic by default; alarm_topic= / "
                "alarm_emails=), or "
                f"secure_constructs.monitoring.alarm(..., metric=fn.metric_{metric.lower()}(), "
                "topic=...)",
                finding_id=metric,
            )


def _lambda_metrics(props: Mapping[str, Any]) -> Iterator[tuple[FunctionKey, str]]:
    """(function, metric name) of every AWS/Lambda metric an alarm watches, math included."""
    for metric in alarm_metrics(props):
        if metric.get("Namespace") != "AWS/Lambda":
            continue
        name = metric.get("MetricName")
        if name not in _ALARMED_METRICS:
            continue
        for dimension in as_list(metric.get("Dimensions")):
            if isinstance(dimension, Mapping) and dimension.get("Name") == "FunctionName":
                key = function_reference(dimension.get("Value"))
                if key is not None:
                    yield key, name


# --- LambdaPublicAccess ---------------------------------------------------------------------


@rule(
    "LambdaPublicAccess",
    practice=Practice.API_PROTECTION,
    applies_to=("AWS::Lambda::Url", "AWS::Lambda::Permission"),
    summary="A Lambda function can be invoked by anyone",
    explanation=(
        "A function URL with AuthType NONE, or a resource-based permission for Principal '*', "
        "lets anyone on the internet invoke the function and run up its bill. A permission for "
        "an AWS service principal without SourceArn or SourceAccount lets that service invoke "
        "it on behalf of any account (the confused-deputy problem)."
    ),
)
def lambda_public_access(t: Template) -> Iterator[Violation]:
    """Function URLs without auth; permissions for everyone or for an unscoped service."""
    for logical_id, props in t.of_type("AWS::Lambda::Url"):
        auth = renderings(with_parameter_defaults(t, props.get("AuthType")))
        if any(text.strip() == "NONE" for text in auth):
            yield Violation(
                logical_id,
                "Properties/AuthType",
                "the function URL has AuthType NONE: anyone can invoke the function",
                _URL_FIX,
            )
        elif any(is_unreadable(text) for text in auth):
            yield Violation(
                logical_id,
                "Properties/AuthType",
                "the function URL's AuthType cannot be read from the template (an import, an SSM "
                "parameter's value, a mapping it lacks ...), so it may be NONE",
                "write AuthType: AWS_IAM in the template; " + _URL_FIX,
            )
    types = resource_types(t.body)
    for logical_id, props in t.of_type("AWS::Lambda::Permission"):
        yield from _public_permission(t, logical_id, props, types)


_URL_FIX = (
    "use SecureFunction.add_function_url() (AWS_IAM auth), or put the function behind "
    "SecureApi (WAF, throttling, an authorizer)"
)


def _public_permission(
    t: Template, logical_id: str, props: Mapping[str, Any], types: Mapping[str, str]
) -> Iterator[Violation]:
    principal = props.get("Principal")
    if isinstance(principal, Mapping) and principal.get("AWS") == "*":
        principal = "*"
    # An intrinsic that renders to "*" (either Fn::If branch, a parameter's Default, a
    # mapping's value) too; one that cannot be read at all may be "*".
    texts = renderings(mark_own(with_parameter_defaults(t, principal), types))
    everyone = principal == "*" or any(is_everyone(text) for text in texts)
    pinned = bool(props.get("PrincipalOrgID"))
    if everyone and not pinned:
        yield Violation(
            logical_id,
            "Properties/Principal",
            "the permission lets any principal ('*') invoke the function",
            _PERMISSION_FIX,
        )
        return
    if any(is_unreadable(text) for text in texts) and not pinned:
        yield Violation(
            logical_id,
            "Properties/Principal",
            f"the permission's principal {UNREADABLE_NOTE}",
            f"{UNREADABLE_FIX}; {_PERMISSION_FIX}",
        )
        return
    rendered = renderings(principal)
    service = rendered[0] if len(rendered) == 1 else ""
    if _SERVICE_PRINCIPAL.match(service) and not (
        props.get("SourceArn") or props.get("SourceAccount")
    ):
        yield Violation(
            logical_id,
            "Properties/SourceArn",
            f"the permission lets {service} invoke the function on behalf of any account "
            "(no SourceArn or SourceAccount)",
            "pass source_arn= (the bucket, topic, rule or API that invokes it) and "
            "source_account= to fn.add_permission(...)",
        )


_PERMISSION_FIX = (
    "grant invoke to a named principal (fn.grant_invoke(iam.AccountPrincipal(...))), to a "
    "service with source_arn=, or scope it with principal_org_id="
)

RULES = (
    lambda_environment_secret,
    lambda_timeout,
    lambda_async_failure_handling,
    lambda_alarms,
    lambda_public_access,
)
