"""Rule over the keys of queues and topics that AWS services write to as themselves: SNS
(subscription dead-letter queues, SQS subscriptions), EventBridge (rule targets and their
dead-letter queues), CloudWatch (alarm actions) and S3 (event notifications).

A service principal is not an IAM principal of the account: it may use a customer managed key
only if the key policy names it, and an AWS managed key (`alias/aws/sqs`, `alias/aws/sns`) never
lets it. Without that, the service's writes fail at run time and nothing in the template shows
it: undelivered alarm e-mails, dead letters and events are lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from secure_constructs.checks.cfn import as_list, referenced_id, renderings
from secure_constructs.checks.condition_branches import branches
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.rules.event_targets import (
    RULE,
    SUBSCRIPTION,
    TOPIC,
    dead_letter_target,
)
from secure_constructs.checks.rules.policy_documents import (
    actions_of,
    is_allow,
    principal_values,
    resource_policy_statements,
)
from secure_constructs.trigger_facts import (
    CLOUDWATCH_PRINCIPAL,
    EVENTBRIDGE_PRINCIPAL,
    S3_PRINCIPAL,
    SERVICE_WRITER_KEY_ACTIONS,
    SNS_PRINCIPAL,
)

QUEUE = "AWS::SQS::Queue"
ALARM = "AWS::CloudWatch::Alarm"
KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"
BUCKET_TYPES = ("AWS::S3::Bucket", "Custom::S3BucketNotifications")
_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
_FIX = (
    "add a key policy statement for {principal} with kms:GenerateDataKey and kms:Decrypt on "
    "condition aws:SourceArn = the sender (key.add_to_resource_policy(iam.PolicyStatement("
    "principals=[iam.ServicePrincipal('{principal}')], actions=['kms:GenerateDataKey', "
    "'kms:Decrypt'], resources=['*'], conditions={{'ArnEquals': {{'aws:SourceArn': ...}}}}))); "
    "SecureFunction's triggers and alarm e-mails add theirs to the keys they make"
)
_MANAGED_FIX = (
    "encrypt the {kind} with a customer managed key whose policy lets {principal} use it "
    "(secure_constructs.shared.security_key(stack) for what our constructs wire)"
)


@dataclass(frozen=True)
class _Write:
    """A service writing, as its service principal, to the queue or topic `target` names."""

    writer: str
    path: str
    target: Any
    principal: str


@rule(
    "ServiceWriterKeyAccess",
    practice=Practice.EXECUTION_TIME,
    applies_to=(SUBSCRIPTION, TOPIC, RULE, ALARM, *BUCKET_TYPES),
    granular=True,
    summary=(
        "An AWS service writes to a queue or topic whose KMS key does not let that service use it"
    ),
    explanation=(
        "SNS (to a subscription's dead-letter queue or an SQS subscriber), EventBridge (to a "
        "rule's target or dead-letter queue), CloudWatch (to an alarm's topic) and S3 (to a "
        "notification's queue or topic) write as their service principal, which may use a "
        "customer managed key only where the key policy allows it kms:GenerateDataKey and "
        "kms:Decrypt, and may never use an AWS managed key. Otherwise every write fails at run "
        "time: the dead letters, events, alarm notifications and uploads they carry are lost, "
        "and the template looks fine."
    ),
)
def service_writer_key_access(t: Template) -> Iterator[Violation]:
    allows = _key_allows(t)
    missing: dict[tuple[str, str], list[str]] = {}
    for write in _writes(t):
        for branch in branches(write.target):
            target = referenced_id(branch)
            kind = _resource_type(t, target)
            if target is None or kind not in (QUEUE, TOPIC):
                continue
            props = t.resources[target].get("Properties")
            key_value = props.get("KmsMasterKeyId") if isinstance(props, Mapping) else None
            for key in branches(key_value):
                yield from _judge_key(t, allows, write, target, kind, key, missing)
    for (key_id, principal), writers in missing.items():
        yield Violation(
            key_id,
            "Properties/KeyPolicy",
            f"{principal} writes to queues or topics encrypted with this key "
            f"({', '.join(sorted(set(writers))[:3])}) but the key policy does not allow it "
            f"{' and '.join(_uncovered(allows, key_id, principal))}: those writes fail",
            _FIX.format(principal=principal),
            finding_id=principal,
        )


def _judge_key(
    t: Template,
    allows: Mapping[str, list[Mapping[str, Any]]],
    write: _Write,
    target: str,
    kind: str,
    key: Any,
    missing: dict[tuple[str, str], list[str]],
) -> Iterator[Violation]:
    if key is None:
        return  # unencrypted: SqsEncryption / SNS rules of cdk-nag report it
    if any(_is_aws_managed(text) for text in renderings(key)):
        yield Violation(
            target,
            "Properties/KmsMasterKeyId",
            f"{write.principal} writes to this {_NOUN[kind]} ({write.writer}, {write.path}), "
            "which is encrypted with an AWS managed key no service principal may use",
            _MANAGED_FIX.format(kind=_NOUN[kind], principal=write.principal),
            finding_id=f"AwsManagedKey::{write.principal}",
        )
        return
    key_id = _key_of(t, key)
    if key_id is not None and _uncovered(allows, key_id, write.principal):
        missing.setdefault((key_id, write.principal), []).append(write.writer)


_NOUN = {QUEUE: "queue", TOPIC: "topic"}


def _is_aws_managed(text: str) -> bool:
    return text.startswith("alias/aws/") or ":alias/aws/" in text


def _resource_type(t: Template, logical_id: str | None) -> str | None:
    resource = t.resources.get(logical_id) if logical_id else None
    type_ = resource.get("Type") if isinstance(resource, Mapping) else None
    return type_ if isinstance(type_, str) else None


def _key_of(t: Template, key: Any) -> str | None:
    """The logical id of the template's AWS::KMS::Key that `key` names (directly, through an
    AWS::KMS::Alias resource, or by that alias's literal name); None for a key outside the
    template, whose policy cannot be read here."""
    found = referenced_id(key)
    if found is None and isinstance(key, str):
        found = next(
            (lid for lid, props in t.of_type(ALIAS) if props.get("AliasName") == key), None
        )
    kind = _resource_type(t, found)
    if kind == ALIAS:
        props = t.resources[found].get("Properties")  # type: ignore[index]
        found = referenced_id(props.get("TargetKeyId")) if isinstance(props, Mapping) else None
        kind = _resource_type(t, found)
    return found if kind == KEY else None


def _key_allows(t: Template) -> dict[str, list[Mapping[str, Any]]]:
    """Key logical id -> the Allow statements of its key policy (read once per template)."""
    allows: dict[str, list[Mapping[str, Any]]] = {}
    for logical_id, type_, _, statement in resource_policy_statements(t):
        if type_ == KEY and is_allow(statement):
            allows.setdefault(logical_id, []).append(statement)
    return allows


def _uncovered(
    allows: Mapping[str, list[Mapping[str, Any]]], key_id: str, principal: str
) -> list[str]:
    """The actions of SERVICE_WRITER_KEY_ACTIONS that no Allow statement of the key's policy
    gives `principal` (a statement with conditions counts: ResourceGrants judges those)."""
    naming = [s for s in allows.get(key_id, []) if _names(s, principal)]
    return [
        action
        for action in SERVICE_WRITER_KEY_ACTIONS
        if not any(_covers(statement, action) for statement in naming)
    ]


def _names(statement: Mapping[str, Any], principal: str) -> bool:
    if "NotPrincipal" in statement:
        return False
    values = principal_values(statement)
    services = [v.lower() for v in values.get("Service", [])]
    return "*" in values or "*" in values.get("AWS", []) or principal in services


def _covers(statement: Mapping[str, Any], action: str) -> bool:
    lowered = action.lower()
    if "NotAction" in statement:
        excluded = [str(a).lower() for a in as_list(statement.get("NotAction"))]
        return not any(fnmatchcase(lowered, pattern) for pattern in excluded)
    return any(fnmatchcase(lowered, a.lower()) for a in actions_of(statement))


def _writes(t: Template) -> Iterator[_Write]:
    yield from _sns_writes(t)
    yield from _eventbridge_writes(t)
    yield from _alarm_writes(t)
    yield from _s3_writes(t)


def _sns_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(SUBSCRIPTION):
        for redrive in branches(props.get("RedrivePolicy")):
            target = dead_letter_target(redrive)
            path = "Properties/RedrivePolicy/deadLetterTargetArn"
            yield _Write(logical_id, path, target, SNS_PRINCIPAL)
        if _is_sqs(props.get("Protocol")):
            yield _Write(logical_id, "Properties/Endpoint", props.get("Endpoint"), SNS_PRINCIPAL)
    for logical_id, props in t.of_type(TOPIC):
        for index, entry in enumerate(as_list(props.get("Subscription"))):
            if isinstance(entry, Mapping) and _is_sqs(entry.get("Protocol")):
                path = f"Properties/Subscription/{index}/Endpoint"
                yield _Write(logical_id, path, entry.get("Endpoint"), SNS_PRINCIPAL)


def _is_sqs(protocol: Any) -> bool:
    return isinstance(protocol, str) and protocol.lower() == "sqs"


def _eventbridge_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(RULE):
        for index, target in enumerate(as_list(props.get("Targets"))):
            if not isinstance(target, Mapping):
                continue
            path = f"Properties/Targets/{index}"
            yield _Write(logical_id, f"{path}/Arn", target.get("Arn"), EVENTBRIDGE_PRINCIPAL)
            dead_letters = target.get("DeadLetterConfig")
            if isinstance(dead_letters, Mapping):
                arn = dead_letters.get("Arn")
                yield _Write(logical_id, f"{path}/DeadLetterConfig/Arn", arn, EVENTBRIDGE_PRINCIPAL)


def _alarm_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(ALARM):
        for field in _ALARM_ACTIONS:
            for index, action in enumerate(as_list(props.get(field))):
                path = f"Properties/{field}/{index}"
                yield _Write(logical_id, path, action, CLOUDWATCH_PRINCIPAL)


def _s3_writes(t: Template) -> Iterator[_Write]:
    fields = (("QueueConfigurations", "Queue"), ("TopicConfigurations", "Topic"))
    for logical_id, props in t.of_type(*BUCKET_TYPES):
        config = props.get("NotificationConfiguration")
        if not isinstance(config, Mapping):
            continue
        for listed, name in fields:
            for index, entry in enumerate(as_list(config.get(listed))):
                if isinstance(entry, Mapping):
                    path = f"Properties/NotificationConfiguration/{listed}/{index}/{name}"
                    yield _Write(logical_id, path, entry.get(name), S3_PRINCIPAL)


RULES = (service_writer_key_access,)
