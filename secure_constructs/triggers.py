"""Event triggers on a SecureFunction that stay hardened with CDK's own calls.

Three standard CDK calls leave gaps that the user cannot close by hand:

- `bucket.add_event_notification(..., s3n.LambdaDestination(fn))` creates CDK's singleton
  `BucketNotificationsHandler...` function per stack, whose role carries the AWS managed
  `AWSLambdaBasicExecutionRole` (logs on every log group of the account);
- `fn.add_event_source(SqsEventSource(queue))` creates an event source mapping that cdk-nag's
  `Serverless-LambdaEventSourceMappingDestination` flags, although an SQS mapping cannot have
  an on-failure destination (its failures go to the queue's redrive policy);
- `targets.LambdaFunction(fn, dead_letter_queue=fn.dead_letter_queue)` points EventBridge at a
  queue encrypted with the stack key, whose key policy has no statement for EventBridge.

`harden_stack(fn)` (called by every SecureFunction) adds one construct per stack whose Aspect
closes the first and third; `add_checked_source` (called by `SecureFunction.add_event_source`)
handles the second. Facts and defaults live in `secure_constructs.trigger_facts`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.dead_letters import (
    region_of,
    stack_key_queue_arns,
    struct_field,
    through_sqs_for,
)
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import ref
from secure_constructs.observability.stack import observe_queue_trigger
from secure_constructs.prop_values import is_token
from secure_constructs.role import CustomerManagedRole, attach_xray_write
from secure_constructs.shared import (
    StackIds,
    allow_service_on_key,
    per_stack,
    security_key,
    stack_of,
)
from secure_constructs.stream_bounds import refuse_unbounded_stream_source
from secure_constructs.trigger_facts import (
    BUCKET_NOTIFICATIONS_HANDLER_ID,
    EVENT_TARGET_MAX_EVENT_AGE_SECONDS,
    EVENT_TARGET_RETRY_ATTEMPTS,
    EVENTBRIDGE_DLQ_KEY_ACTIONS,
    EVENTBRIDGE_PRINCIPAL,
    QUEUE_TRIGGER_BATCH_SIZE,
    QUEUE_TRIGGER_BATCH_SIZE_RANGE,
    QUEUE_TRIGGER_MAX_CONCURRENCY,
    QUEUE_TRIGGER_MAX_CONCURRENCY_RANGE,
    SQS_DEFAULT_VISIBILITY_SECONDS,
    SQS_VISIBILITY_TIMEOUT_RATIO,
)
from secure_constructs.validation import check_number

_SQS_MAPPING_REASON = (
    "An SQS event source mapping cannot have an on-failure destination (Lambda supports "
    "DestinationConfig only for stream and Kafka sources); failed messages go to the source "
    "queue's redrive policy, which this queue has. SecureServerless::EventSourceFailureHandling "
    "checks that redrive policy in the template."
)
_HANDLER_POLICY_REASON = (
    "CDK's S3 notifications (aws-s3 BucketNotifications) attach this inline policy, one per "
    "bucket, to the role of CDK's own notifications handler, with no option for a managed "
    "policy; it grants only s3:PutBucketNotification on exactly this bucket, and the custom "
    "resource that configures the bucket depends on it, so it cannot be replaced."
)
_INLINE_POLICY_RULES = tuple(
    f"{pack}-IAMNoInlinePolicy" for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
)
SCHEDULE_TYPE = "AWS::Scheduler::Schedule"


def harden_stack(fn: lambda_.Function) -> None:
    """Create, once per stack, the construct whose Aspect hardens what CDK's trigger calls
    create, and tell it about `fn` (a SecureFunction: rule targets invoking it get bounded
    retries)."""
    hardening = per_stack(fn, StackIds.TRIGGER_HARDENING, _TriggerHardening, _TriggerHardening)
    hardening.functions.append(fn)


class _TriggerHardening(Construct):
    """A leaf of the stack (no resources) carrying the Aspect: CDK calls it once, before
    synthesis, when every bucket notification and rule target exists, and it walks the stack
    itself. An Aspect on the stack would be called back from the jsii kernel for every
    construct (about 0.3 ms each). What another Aspect adds after this one ran is not hardened
    here; the SecureServerless rules still judge it in the template."""

    def __init__(self, stack: cdk.Stack, construct_id: str) -> None:
        super().__init__(stack, construct_id)
        self._stack = stack
        self.functions: list[lambda_.Function] = []
        cdk.Aspects.of(self).add(_HardenOnce(self))

    def harden(self) -> None:
        harden_bucket_notifications_handler(self._stack)
        done: set[str] = set()
        for node in self._stack.node.find_all():
            harden = self._hardening_for(node)
            # isinstance (Python only) first: a path is a jsii round trip
            if harden is None or node.node.path in done:
                continue
            done.add(node.node.path)
            harden(node)

    def _hardening_for(self, node: IConstruct) -> Callable[[Any], None] | None:
        cls = type(node)
        if cls not in _PICKER_OF:  # by class, once, by MRO (jsii_refs.is_kind says why)
            _PICKER_OF[cls] = next((pick for base, pick in _PICKERS if base in cls.__mro__), None)
        pick = _PICKER_OF[cls]
        return None if pick is None else pick(self._stack, self.functions, node)


def _pick_policy(stack: cdk.Stack, functions: list[lambda_.Function], node: Any) -> _Hardening:
    return accept_notifications_handler_policy if node.node.id == "HandlerPolicy" else None


def _pick_rule(stack: cdk.Stack, functions: list[lambda_.Function], node: Any) -> _Hardening:
    return lambda rule: _harden_rule(stack, rule, functions)


def _pick_subscription(
    stack: cdk.Stack, functions: list[lambda_.Function], node: Any
) -> _Hardening:
    from secure_constructs.topic_triggers import allow_sns_dead_letters

    return lambda subscription: allow_sns_dead_letters(stack, subscription)


def _pick_schedule(stack: cdk.Stack, functions: list[lambda_.Function], node: Any) -> _Hardening:
    if not _is_schedule(node):
        return None
    # By type name: importing aws_scheduler for every stack costs the jsii kernel time.
    from secure_constructs.schedules import allow_scheduler_dead_letters

    return lambda schedule: allow_scheduler_dead_letters(stack, schedule)


_Hardening = Callable[[Any], None] | None
# The first base a node's class derives from picks its hardening (a rule is a CfnResource too).
_PICKERS: tuple[tuple[type, Callable[..., _Hardening]], ...] = (
    (iam.Policy, _pick_policy),
    (events.CfnRule, _pick_rule),
    (sns.CfnSubscription, _pick_subscription),
    (cdk.CfnResource, _pick_schedule),
)
_PICKER_OF: dict[type, Callable[..., _Hardening] | None] = {}


@jsii.implements(cdk.IAspect)
class _HardenOnce:
    def __init__(self, owner: _TriggerHardening) -> None:
        self._owner = owner
        self._done = False

    def visit(self, node: IConstruct) -> None:
        if node is self._owner and not self._done:
            self._done = True
            self._owner.harden()


def _harden_rule(stack: cdk.Stack, rule: events.CfnRule, functions: list[lambda_.Function]) -> None:
    bound_function_target_retries(stack, rule, functions)
    allow_eventbridge_dead_letters(stack, rule)


_SCHEDULE_JSII_TYPE = "aws-cdk-lib.aws_scheduler.CfnSchedule"
_GENERIC_JSII_TYPE = "aws-cdk-lib.CfnResource"


def _is_schedule(node: cdk.CfnResource) -> bool:
    """A Scheduler schedule, told from its class's jsii type name (Python only); a plain
    `cdk.CfnResource` (or a subclass of it) is asked its type, one jsii round trip."""
    jsii_type = getattr(type(node), "__jsii_type__", _GENERIC_JSII_TYPE)
    if jsii_type == _SCHEDULE_JSII_TYPE:
        return True
    return jsii_type == _GENERIC_JSII_TYPE and node.cfn_resource_type == SCHEDULE_TYPE


def harden_bucket_notifications_handler(stack: cdk.Stack) -> None:
    """Replace the AWS managed policy of CDK's S3 notifications handler by its own log group.

    The handler (a singleton per stack, `BucketNotificationsHandler050a...`) only calls
    s3:PutBucketNotification (granted per bucket by CDK) and writes its logs. Instead of
    `AWSLambdaBasicExecutionRole` (logs:CreateLogGroup/CreateLogStream/PutLogEvents on `*`),
    it gets a log group of its own, encrypted with the stack key and kept a year, set as its
    `LoggingConfig.LogGroup`, a customer-managed policy writing to exactly that group, and
    X-Ray tracing with the stack's X-Ray write policy (like every SecureFunction).
    """
    handler = stack.node.try_find_child(BUCKET_NOTIFICATIONS_HANDLER_ID)
    if not isinstance(handler, Construct) or handler.node.try_find_child("LogGroup") is not None:
        return
    role = handler.node.try_find_child("Role")
    resource = handler.node.default_child
    if not isinstance(role, iam.Role) or not isinstance(resource, cdk.CfnResource):
        return  # CDK changed the handler's shape: leave it to the checks (fail visible)
    cfn_role = role.node.default_child
    assert isinstance(cfn_role, iam.CfnRole)
    # On the L1 itself: cdk-nag reads the L1's properties, not the template's overrides.
    cfn_role.managed_policy_arns = None
    log_group = logs.LogGroup(
        handler,
        "LogGroup",
        log_group_name=f"/aws/lambda/{stack.stack_name}-{BUCKET_NOTIFICATIONS_HANDLER_ID[:26]}",
        retention=logs.RetentionDays.ONE_YEAR,
        encryption_key=security_key(stack),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    policy = iam.ManagedPolicy(
        handler,
        "LogsPolicy",
        description="CDK's S3 notifications handler: writes to its own log group only",
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        ],
        roles=[role],
    )
    resource.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
    # X-Ray like every function of the stack (FunctionTracing): the stack's star-only policy.
    resource.add_property_override("TracingConfig", {"Mode": "Active"})
    attach_xray_write(role)
    policy_resource = policy.node.default_child
    assert isinstance(policy_resource, cdk.CfnResource)
    resource.node.add_dependency(policy_resource)


def accept_notifications_handler_policy(policy: iam.Policy) -> None:
    """Acknowledge the compliance packs' IAMNoInlinePolicy on exactly the per-bucket inline
    policy CDK gives its S3 notifications handler (`<bucket>/Notifications/HandlerPolicy`)."""
    parent = policy.node.scope
    if parent is None or parent.node.id != "Notifications":
        return
    for rule_id in _INLINE_POLICY_RULES:
        acknowledge_made(policy, rule_id, _HANDLER_POLICY_REASON)


def allow_eventbridge_dead_letters(stack: cdk.Stack, rule: events.CfnRule) -> None:
    """Give EventBridge, for this rule only, what it needs of the stack key for its DLQs.

    AWS: "If you use a customer managed key ... to encrypt the queue, you must add the
    following to the key policy: kms:Decrypt and kms:GenerateDataKey for events.amazonaws.com
    with aws:SourceArn of the rule" (Amazon EventBridge User Guide, "Using dead-letter queues
    to process undelivered events", Granting permissions to the dead-letter queue). Only
    targets whose dead-letter queue is a queue of this stack encrypted with the stack key get
    the statement; CDK's target classes already add the queue-policy statement.
    """
    key = security_key(stack)
    queues = stack_key_queue_arns(stack, key)
    if not queues:
        return
    targets = stack.resolve(rule.targets)
    if not any(_dlq_arn(target) in queues for target in _as_list(targets)):
        return
    allow_service_on_key(
        key,
        f"AllowEventBridgeDeadLetters{rule.node.addr[:10]}",
        EVENTBRIDGE_PRINCIPAL,
        EVENTBRIDGE_DLQ_KEY_ACTIONS,
        _rule_arn(stack, rule),
    )


def _rule_arn(stack: cdk.Stack, rule: events.CfnRule) -> str:
    """The rule's ARN without referencing the rule (the key would then depend on the rule,
    which depends on the queue and function that depend on the key: a cycle). A rule without a
    name gets a deterministic one, so that its ARN is known before deployment."""
    name = rule.name
    if not name or stack.resolve(name) is None:
        name = cdk.Names.unique_resource_name(rule, max_length=64, separator="-")
        rule.name = name
    bus = rule.event_bus_name
    if bus not in (None, "default") and stack.resolve(bus) not in (None, "default"):
        name = f"{bus}/{name}"
    return stack.format_arn(
        service="events",
        resource="rule",
        resource_name=name,
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def bound_function_target_retries(
    stack: cdk.Stack, rule: events.CfnRule, secure_functions: Iterable[lambda_.Function]
) -> None:
    """Give each target of the rule that invokes a SecureFunction of this stack and sets no
    RetryPolicy a bounded one (EVENT_TARGET_RETRY_ATTEMPTS, EVENT_TARGET_MAX_EVENT_AGE_SECONDS
    in trigger_facts): EventBridge's own default retries for 24 hours, 185 times."""
    functions = {
        json.dumps(stack.resolve(f.function_arn), sort_keys=True) for f in secure_functions
    }
    for index, target in enumerate(_as_list(stack.resolve(rule.targets))):
        if not isinstance(target, Mapping) or struct_field(target, "RetryPolicy") is not None:
            continue
        if json.dumps(struct_field(target, "Arn"), sort_keys=True) in functions:
            rule.add_property_override(
                f"Targets.{index}.RetryPolicy",
                {
                    "MaximumRetryAttempts": EVENT_TARGET_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": EVENT_TARGET_MAX_EVENT_AGE_SECONDS,
                },
            )


def _dlq_arn(target: Any) -> str | None:
    if not isinstance(target, Mapping):
        return None
    config = struct_field(target, "DeadLetterConfig")
    if not isinstance(config, Mapping):
        return None
    arn = struct_field(config, "Arn")
    return None if arn is None else json.dumps(arn, sort_keys=True)


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _redrive_of(queue: sqs.IQueue) -> sqs.DeadLetterQueue | None:
    """The redrive setting of a queue made in this app (three round trips), or None."""
    return queue.dead_letter_queue if isinstance(queue, sqs.Queue) else None


def _accept_queue_mappings(mappings: Iterable[lambda_.EventSourceMapping]) -> None:
    for mapping in mappings:
        acknowledge_made(
            mapping,
            "Serverless::Serverless-LambdaEventSourceMappingDestination",
            _SQS_MAPPING_REASON,
        )


def add_queue_trigger(
    fn: lambda_.Function,
    queue: sqs.IQueue,
    *,
    timeout_seconds: float | None,
    batch_size: int = QUEUE_TRIGGER_BATCH_SIZE,
    max_concurrency: int = QUEUE_TRIGGER_MAX_CONCURRENCY,
) -> lambda_.EventSourceMapping:
    """The checked SQS trigger behind `SecureFunction.add_queue_trigger` (see its docstring)."""
    from aws_cdk.aws_lambda_event_sources import SqsEventSource

    redrive = _redrive_of(queue)
    if redrive is None:
        raise ValidationError(
            "queue",
            queue.node.path if isinstance(queue, Construct) else queue,
            "an sqs.Queue made in this app with a redrive policy (dead_letter_queue=), so that "
            "failing messages leave the queue",
            "create it with sqs.Queue(..., dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, "
            "max_receive_count=3)); the function's own fn.dead_letter_queue may serve as dlq",
        )
    _check_range("batch_size", batch_size, QUEUE_TRIGGER_BATCH_SIZE_RANGE)
    _check_range("max_concurrency", max_concurrency, QUEUE_TRIGGER_MAX_CONCURRENCY_RANGE)
    cfn_queue = queue.node.default_child
    assert isinstance(cfn_queue, sqs.CfnQueue)
    visibility = cfn_queue.visibility_timeout
    visibility = SQS_DEFAULT_VISIBILITY_SECONDS if visibility is None else visibility
    if timeout_seconds is not None and not is_token(visibility):
        needed = SQS_VISIBILITY_TIMEOUT_RATIO * timeout_seconds
        if visibility < needed:
            raise ValidationError(
                "queue",
                f"visibility timeout {visibility:g} s",
                f"at least {SQS_VISIBILITY_TIMEOUT_RATIO}x the function timeout "
                f"({needed:g} s; AWS's guidance, so a message is not processed twice)",
                f"create the queue with visibility_timeout=Duration.seconds({needed:g})",
            )
    source = SqsEventSource(
        queue,
        batch_size=batch_size,
        max_concurrency=max_concurrency,
        report_batch_item_failures=True,
    )
    (mapping,) = _add_queue_source(fn, source, queue, redrives=True)
    observe_queue_trigger(fn, queue, redrive.queue)  # its row on the stack dashboard
    return mapping


def add_mapping(fn: lambda_.Function, source: lambda_.IEventSource) -> lambda_.EventSourceMapping:
    """`fn.add_event_source(source)` as a SecureFunction does it (`add_checked_source`),
    returning the one mapping it made."""
    (mapping,) = add_checked_source(fn, source)
    return mapping


def add_checked_source(
    fn: lambda_.Function, source: lambda_.IEventSource
) -> list[lambda_.EventSourceMapping]:
    """CDK's `Function.add_event_source`, then: a DynamoDB or Kinesis source without bounded
    failure handling is refused (`stream_bounds.refuse_unbounded_stream_source`) and an SQS
    mapping whose queue redrives is accepted (cdk-nag's mapping-destination rule is
    acknowledged on it; an imported queue keeps the finding, since nothing here can prove its
    redrive policy). The mappings it made."""
    from aws_cdk.aws_lambda_event_sources import SqsEventSource

    if isinstance(source, SqsEventSource):
        queue = source.queue
        return _add_queue_source(fn, source, queue, redrives=_redrive_of(queue) is not None)
    mappings = added_mappings(fn, lambda: lambda_.Function.add_event_source(fn, source))
    if mappings:
        refuse_unbounded_stream_source(source, mappings)
    return mappings


def _add_queue_source(
    fn: lambda_.Function, source: lambda_.IEventSource, queue: sqs.IQueue, *, redrives: bool
) -> list[lambda_.EventSourceMapping]:
    """An SQS source (`source`, reading `queue`) added to `fn` as `add_checked_source` does:
    the key grant kept to SQS (`_queue_key_through_sqs`), the mapping accepted when `redrives`.
    The queue and its redrive setting are passed in, each read once by the caller."""
    with _queue_key_through_sqs(fn, queue):
        mappings = added_mappings(fn, lambda: lambda_.Function.add_event_source(fn, source))
    if redrives:
        _accept_queue_mappings(mappings)
    return mappings


def _queue_key_through_sqs(
    fn: lambda_.Function, queue: sqs.IQueue
) -> contextlib.AbstractContextManager[None]:
    """For an SQS source on a queue with a customer managed key: CDK's binding grants the role
    kms:Decrypt on the whole key (`queue.grant_consume_messages`), which for the stack key is
    every log group, queue, topic and secret of the stack; the grant is kept to SQS reading
    this queue (`dead_letters.through_sqs_for`)."""
    role = getattr(fn, "execution_role", None)
    if not isinstance(role, CustomerManagedRole):
        return contextlib.nullcontext()
    key = queue.encryption_master_key
    if key is None:
        return contextlib.nullcontext()
    conditions = through_sqs_for(queue.queue_arn, region_of(stack_of(fn)))
    return _scoped_to(role, _granted_key_arns(key), conditions)


@contextlib.contextmanager
def _scoped_to(
    role: CustomerManagedRole, key_arns: list[str], conditions: dict[str, Any]
) -> Iterator[None]:
    with contextlib.ExitStack() as scopes:
        for key_arn in key_arns:
            scopes.enter_context(role.key_use_scoped(key_arn, conditions))
        yield


def _granted_key_arns(key: Any) -> list[str]:
    """The ARNs a grant on the queue's key may name: the key's own, and for a `kms.Alias` (or
    an alias imported with its target) the target key's, on which CDK's alias grants land. An
    alias imported by name alone has no target to read (CDK's grants on it are dropped)."""
    arns = [key.key_arn]
    try:
        target = getattr(key, "alias_target_key", None)
    except RuntimeError:  # Alias.from_alias_name: "Cannot access aliasTargetKey ..."
        target = None
    if target is not None:
        arns.append(target.key_arn)
    return arns


def added_mappings(
    fn: lambda_.Function, add: Callable[[], None]
) -> list[lambda_.EventSourceMapping]:
    """The event source mappings `add()` made under `fn`, told from the children before by
    their jsii object reference (read in Python; each child's id cost two round trips). A
    child without one counts as new, so nothing made is missed."""
    seen = {ref(child) for child in fn.node.children} - {None}
    add()
    return [
        c
        for c in fn.node.children
        if ref(c) not in seen and isinstance(c, lambda_.EventSourceMapping)
    ]


def _check_range(prop: str, value: object, bounds: tuple[int, int]) -> None:
    check_number(prop, value, *bounds, whole=True, tokens=False)
