"""Rule over the keys of queues and topics that AWS services write to as themselves: SNS
(subscription dead-letter queues, SQS subscriptions), EventBridge (rule targets and their
dead-letter queues), CloudWatch (alarm actions), S3 (event notifications), and the alert topics
of AWS Budgets, CloudTrail and AWS Backup.

A service principal is not an IAM principal of the account: it may use a customer managed key
only if the key policy names it, and an AWS managed key (`alias/aws/sqs`, `alias/aws/sns`) never
lets it. Without that, the service's writes fail at run time and nothing in the template shows
it: undelivered alarm e-mails, dead letters and events are lost.

Fail closed: an Allow counts only when it holds in every `Fn::If` branch (a statement inside an
`Fn::If` counts in none), a Deny naming the service (or `*`) blocks whatever its condition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from secure_constructs.checks.cfn import (
    MAX_RENDERINGS,
    as_list,
    intrinsic,
    referenced_id,
    referenced_ids,
    renderings,
)
from secure_constructs.checks.condition_branches import branches
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.parameter_bounds import referenced_parameter, template_parameters
from secure_constructs.checks.rules.event_targets import (
    RULE,
    SUBSCRIPTION,
    TOPIC,
    dead_letter_target,
)
from secure_constructs.checks.rules.kms_policies import KEY_TYPES
from secure_constructs.checks.rules.policy_documents import resource_policy_statements
from secure_constructs.trigger_facts import (
    BACKUP_PRINCIPAL,
    BUDGETS_PRINCIPAL,
    CLOUDTRAIL_PRINCIPAL,
    CLOUDWATCH_PRINCIPAL,
    EVENTBRIDGE_PRINCIPAL,
    S3_PRINCIPAL,
    SERVICE_WRITER_KEY_ACTIONS,
    SNS_PRINCIPAL,
)

QUEUE = "AWS::SQS::Queue"
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
ALIAS = "AWS::KMS::Alias"
BUCKET_TYPES = ("AWS::S3::Bucket", "Custom::S3BucketNotifications")
BUDGET = "AWS::Budgets::Budget"
TRAIL = "AWS::CloudTrail::Trail"
VAULT = "AWS::Backup::BackupVault"
_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# A bucket's NotificationConfiguration names its queue `Queue` (CloudFormation) or `QueueArn`
# (the S3 API's form, which CDK's Custom::S3BucketNotifications passes on); topics the same.
_NOTIFICATIONS = (
    ("QueueConfigurations", ("Queue", "QueueArn")),
    ("TopicConfigurations", ("Topic", "TopicArn")),
)
_NAME_PROPS = {QUEUE: "QueueName", TOPIC: "TopicName"}
_NOUN = {QUEUE: "queue", TOPIC: "topic"}
_FIX = (
    "add a key policy statement for {principal} with kms:GenerateDataKey and kms:Decrypt on "
    "condition aws:SourceArn = the sender (key.add_to_resource_policy(iam.PolicyStatement("
    "principals=[iam.ServicePrincipal('{principal}')], actions=['kms:GenerateDataKey', "
    "'kms:Decrypt'], resources=['*'], conditions={{'ArnEquals': {{'aws:SourceArn': ...}}}}))) "
    "outside any Fn::If, and no Deny for it; SecureFunction's triggers and alarm e-mails add "
    "theirs to the keys they make"
)
_MANAGED_FIX = (
    "encrypt the {kind} with a customer managed key whose policy lets {principal} use it "
    "(secure_constructs.shared.security_key(stack) for what our constructs wire)"
)

Statement = Mapping[str, Any]


@dataclass(frozen=True)
class _Write:
    """A service writing, as its service principal, to the queue or topic `target` names."""

    writer: str
    path: str
    target: Any
    principal: str


@dataclass
class _KeyPolicy:
    """A key's statements, as `resource_policy_statements` reads them: the Allows that hold in
    every deploy (outside any Fn::If) and every Deny."""

    allows: list[Statement]
    denies: list[Statement]

    def missing(self, principal: str) -> list[str]:
        """The actions of SERVICE_WRITER_KEY_ACTIONS `principal` may not use: no Allow gives
        it in every branch, or a Deny may refuse it (conditions are not weighed)."""
        return [
            action
            for action in SERVICE_WRITER_KEY_ACTIONS
            if not any(_allows(s, principal, action) for s in self.allows)
            or any(_denies(s, principal, action) for s in self.denies)
        ]


@rule(
    "ServiceWriterKeyAccess",
    practice=Practice.EXECUTION_TIME,
    applies_to=(SUBSCRIPTION, TOPIC, RULE, *ALARM_TYPES, *BUCKET_TYPES, BUDGET, TRAIL, VAULT),
    granular=True,
    summary=(
        "An AWS service writes to a queue or topic whose KMS key does not let that service use it"
    ),
    explanation=(
        "SNS (to a subscription's dead-letter queue or an SQS subscriber), EventBridge (to a "
        "rule's target or dead-letter queue), CloudWatch (to an alarm's topic), S3 (to a "
        "notification's queue or topic), and AWS Budgets, CloudTrail and AWS Backup (to their "
        "notification topics) write as their service principal, which may use a "
        "customer managed key only where the key policy allows it kms:GenerateDataKey and "
        "kms:Decrypt, and may never use an AWS managed key. Otherwise every write fails at run "
        "time: the dead letters, events, alarm notifications and uploads they carry are lost, "
        "and the template looks fine."
    ),
)
def service_writer_key_access(t: Template) -> Iterator[Violation]:
    policies = _key_policies(t)
    parameters = template_parameters(t.body)
    missing: dict[tuple[str, str], list[str]] = {}
    managed_seen: set[tuple[str, str]] = set()
    for write in _writes(t):
        for branch in branches(write.target):
            target = _target_of(t, branch)
            if target is None:
                continue
            kind = _resource_type(t, target)
            props = t.resources[target].get("Properties")
            key_value = props.get("KmsMasterKeyId") if isinstance(props, Mapping) else None
            for key in _key_values(key_value, parameters):
                managed = _managed_key_violation(write, target, kind, key)
                if managed is not None:
                    if (target, write.principal) not in managed_seen:
                        managed_seen.add((target, write.principal))
                        yield managed
                    continue
                key_id = _key_of(t, key)
                if key_id is not None and policies.get(key_id, _EMPTY).missing(write.principal):
                    missing.setdefault((key_id, write.principal), []).append(write.writer)
    for (key_id, principal), writers in missing.items():
        lacking = policies.get(key_id, _EMPTY).missing(principal)
        yield Violation(
            key_id,
            "Properties/KeyPolicy",
            f"{principal} writes to queues or topics encrypted with this key "
            f"({', '.join(sorted(set(writers))[:3])}) but the key policy does not allow it "
            f"{' and '.join(lacking)} in every deploy: those writes fail",
            _FIX.format(principal=principal),
            finding_id=principal,
        )


_EMPTY = _KeyPolicy([], [])


def _key_values(value: Any, parameters: Mapping[str, Any]) -> Iterator[Any]:
    """Each key a KmsMasterKeyId can deploy with: every Fn::If branch, and a parameter's
    Default and AllowedValues (an absent branch: unencrypted, for other rules to judge)."""
    for branch in branches(value):
        declared = referenced_parameter(branch, parameters)
        if isinstance(declared, Mapping):
            yield from (
                v for v in [declared.get("Default"), *as_list(declared.get("AllowedValues"))] if v
            )
        elif branch is not None:
            yield branch


def _managed_key_violation(
    write: _Write, target: str, kind: str | None, key: Any
) -> Violation | None:
    texts = [key] if isinstance(key, str) else renderings(key)
    if not any(text.startswith("alias/aws/") or ":alias/aws/" in text for text in texts):
        return None
    noun = _NOUN.get(kind or "", "queue or topic")
    return Violation(
        target,
        "Properties/KmsMasterKeyId",
        f"{write.principal} writes to this {noun} ({write.writer}, {write.path}), which is "
        "encrypted with an AWS managed key no service principal may use",
        _MANAGED_FIX.format(kind=noun, principal=write.principal),
        finding_id=f"AwsManagedKey::{write.principal}",
    )


def _resource_type(t: Template, logical_id: str | None) -> str | None:
    resource = t.resources.get(logical_id) if logical_id else None
    type_ = resource.get("Type") if isinstance(resource, Mapping) else None
    return type_ if isinstance(type_, str) else None


def _named(
    t: Template, value: Any, types: tuple[str, ...], name_prop: Mapping[str, str]
) -> str | None:
    """The logical id of the one resource of `types` that `value` names: a reference to it
    (whole, or the one such reference inside an `Fn::Sub`/`Fn::Join` ARN), or a literal name or
    ARN ending in its literal name."""
    whole = referenced_id(value)
    if _resource_type(t, whole) in types:
        return whole
    inside = {r for r in referenced_ids(value) if _resource_type(t, r) in types}
    if len(inside) == 1:
        return inside.pop()
    if not isinstance(value, str) or not value:
        return None
    name = value.rsplit(":", 1)[-1]
    for logical_id, props in t.of_type(*types):
        field = name_prop.get(_resource_type(t, logical_id) or "")
        if field is not None and props.get(field) in (name, value):
            return logical_id
    return None


def _target_of(t: Template, value: Any) -> str | None:
    return _named(t, value, (QUEUE, TOPIC), _NAME_PROPS)


def _key_of(t: Template, key: Any) -> str | None:
    """The logical id of the template's key (or replica key) that `key` names, directly or
    through an AWS::KMS::Alias of the template; None for a key outside the template, whose
    policy cannot be read here."""
    found = _named(t, key, (*KEY_TYPES, ALIAS), {ALIAS: "AliasName"})
    if _resource_type(t, found) == ALIAS:
        props = t.resources[found].get("Properties")  # type: ignore[index]
        target = props.get("TargetKeyId") if isinstance(props, Mapping) else None
        found = _named(t, target, KEY_TYPES, {})
    return found if _resource_type(t, found) in KEY_TYPES else None


def _key_policies(t: Template) -> dict[str, _KeyPolicy]:
    """Key logical id -> its policy's statements (read once per template)."""
    policies: dict[str, _KeyPolicy] = {}
    for logical_id, type_, path, statement in resource_policy_statements(t):
        if type_ not in KEY_TYPES:
            continue
        policy = policies.setdefault(logical_id, _KeyPolicy([], []))
        effect = statement.get("Effect")
        if effect == "Deny":
            policy.denies.append(statement)
        elif effect == "Allow" and "/Fn::If/" not in path:
            policy.allows.append(statement)
    return policies


def _alternatives(value: Any) -> list[list[Any]]:
    """Each list of items `value` (an item, or a list of them) can deploy as, `Fn::If`
    expanded around the list and around each item (at most MAX_RENDERINGS lists; beyond
    that, an unreadable one, so a reader never takes a cut set for the whole)."""
    found: list[list[Any]] = []
    for whole in branches(value):
        combos: list[list[Any]] = [[]]
        for item in as_list(whole):
            options = branches(item)
            combos = [c + ([o] if o is not None else []) for c in combos for o in options]
            if len(combos) > MAX_RENDERINGS:
                combos = [*combos[:MAX_RENDERINGS], [None]]
        found.extend(combos)
    return found if len(found) <= MAX_RENDERINGS else [*found[:MAX_RENDERINGS], [None]]


def _texts(item: Any) -> list[str]:
    """The strings an item renders to (none when it is not readable)."""
    if isinstance(item, str):
        return [item]
    if item is None or intrinsic(item) is None:
        return []
    return renderings(item)


def _is(item: Any, expected: str) -> bool:
    texts = _texts(item)
    return bool(texts) and all(text.lower() == expected for text in texts)


def _may_be(item: Any, expected: str) -> bool:
    return item is None or not _texts(item) or any(t.lower() == expected for t in _texts(item))


def _principal_names(statement: Statement, principal: str, every: bool) -> bool:
    """Whether the statement's Principal names `principal` (or everyone): in every branch
    (`every`, for an Allow) or in any (for a Deny, where an unreadable value counts)."""
    if "NotPrincipal" in statement:
        return not every  # a NotPrincipal Allow is never counted; a NotPrincipal Deny may block
    test = _is if every else _may_be
    verdicts = []
    for branch in branches(statement.get("Principal")):
        if branch == "*":
            verdicts.append(True)
            continue
        if not isinstance(branch, Mapping):
            verdicts.append(not every)
            continue
        kinds = (("Service", principal), ("AWS", "*"))
        found = [
            [
                any(test(item, expected) for item in alternative)
                for alternative in _alternatives(branch.get(kind))
            ]
            for kind, expected in kinds
            if kind in branch
        ]
        verdicts.append(any(all(f) if every else any(f) for f in found if f))
    return all(verdicts) if every else any(verdicts)


def _action_lists(statement: Statement, field: str) -> list[list[Any]]:
    return _alternatives(statement.get(field))


def _matches(item: Any, action: str, every: bool) -> bool:
    texts = _texts(item)
    if not texts:
        return not every
    hits = [fnmatchcase(action.lower(), text.lower()) for text in texts]
    return all(hits) if every else any(hits)


def _allows(statement: Statement, principal: str, action: str) -> bool:
    """Whether the Allow gives `principal` `action` in every branch."""
    if not _principal_names(statement, principal, every=True):
        return False
    if "NotAction" in statement:
        # Every branch's NotAction must be readable and leave the action out.
        return all(
            all(_texts(item) for item in listed)
            and not any(_matches(i, action, False) for i in listed)
            for listed in _action_lists(statement, "NotAction")
        )
    return all(
        any(_matches(i, action, True) for i in listed)
        for listed in _action_lists(statement, "Action")
    )


def _denies(statement: Statement, principal: str, action: str) -> bool:
    """Whether the Deny may refuse `principal` `action` (in any branch, whatever its
    condition)."""
    if not _principal_names(statement, principal, every=False):
        return False
    if "NotAction" in statement:
        # It refuses what no item of its NotAction surely leaves out.
        return any(
            not any(_matches(i, action, True) for i in listed)
            for listed in _action_lists(statement, "NotAction")
        )
    return any(
        any(_matches(i, action, False) for i in listed)
        for listed in _action_lists(statement, "Action")
    )


def _writes(t: Template) -> Iterator[_Write]:
    yield from _sns_writes(t)
    yield from _eventbridge_writes(t)
    yield from _alarm_writes(t)
    yield from _s3_writes(t)
    yield from _alert_writes(t)


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    """(index, item) of every item a list property can deploy with, in any Fn::If branch."""
    for listed in _alternatives(value):
        yield from enumerate(listed)


def _maps(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every object `value` can deploy as (Fn::If branches)."""
    for branch in branches(value):
        if isinstance(branch, Mapping):
            yield branch


def _sns_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(SUBSCRIPTION):
        for redrive in branches(props.get("RedrivePolicy")):
            target = dead_letter_target(redrive)
            path = "Properties/RedrivePolicy/deadLetterTargetArn"
            yield _Write(logical_id, path, target, SNS_PRINCIPAL)
        if any(_may_be(p, "sqs") for p in branches(props.get("Protocol"))):
            yield _Write(logical_id, "Properties/Endpoint", props.get("Endpoint"), SNS_PRINCIPAL)
    for logical_id, props in t.of_type(TOPIC):
        for index, item in _items(props.get("Subscription")):
            for entry in _maps(item):
                if any(_may_be(p, "sqs") for p in branches(entry.get("Protocol"))):
                    path = f"Properties/Subscription/{index}/Endpoint"
                    yield _Write(logical_id, path, entry.get("Endpoint"), SNS_PRINCIPAL)


def _eventbridge_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(RULE):
        for index, item in _items(props.get("Targets")):
            for target in _maps(item):
                path = f"Properties/Targets/{index}"
                yield _Write(logical_id, f"{path}/Arn", target.get("Arn"), EVENTBRIDGE_PRINCIPAL)
                for dead_letters in _maps(target.get("DeadLetterConfig")):
                    arn = dead_letters.get("Arn")
                    at = f"{path}/DeadLetterConfig/Arn"
                    yield _Write(logical_id, at, arn, EVENTBRIDGE_PRINCIPAL)


def _alarm_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(*ALARM_TYPES):
        for field in _ALARM_ACTIONS:
            for index, action in _items(props.get(field)):
                path = f"Properties/{field}/{index}"
                yield _Write(logical_id, path, action, CLOUDWATCH_PRINCIPAL)


def _s3_writes(t: Template) -> Iterator[_Write]:
    for logical_id, props in t.of_type(*BUCKET_TYPES):
        for config in _maps(props.get("NotificationConfiguration")):
            for listed, names in _NOTIFICATIONS:
                for index, item in _items(config.get(listed)):
                    for entry in _maps(item):
                        for name in names:
                            if name in entry:
                                path = (
                                    f"Properties/NotificationConfiguration/{listed}/{index}/{name}"
                                )
                                yield _Write(logical_id, path, entry[name], S3_PRINCIPAL)


def _alert_writes(t: Template) -> Iterator[_Write]:
    """Budget alerts, CloudTrail's log-file notifications and backup vault events."""
    for logical_id, props in t.of_type(BUDGET):
        for index, item in _items(props.get("NotificationsWithSubscribers")):
            for entry in _maps(item):
                for at, subscriber in _items(entry.get("Subscribers")):
                    for sub in _maps(subscriber):
                        if any(_may_be(k, "sns") for k in branches(sub.get("SubscriptionType"))):
                            path = (
                                f"Properties/NotificationsWithSubscribers/{index}/Subscribers/{at}"
                            )
                            yield _Write(logical_id, path, sub.get("Address"), BUDGETS_PRINCIPAL)
    for logical_id, props in t.of_type(TRAIL):
        if "SnsTopicName" in props:
            topic = props["SnsTopicName"]
            yield _Write(logical_id, "Properties/SnsTopicName", topic, CLOUDTRAIL_PRINCIPAL)
    for logical_id, props in t.of_type(VAULT):
        for notifications in _maps(props.get("Notifications")):
            topic = notifications.get("SNSTopicArn")
            path = "Properties/Notifications/SNSTopicArn"
            yield _Write(logical_id, path, topic, BACKUP_PRINCIPAL)


RULES = (service_writer_key_access,)
