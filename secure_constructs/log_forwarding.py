"""SIEM forwarding: `forward_logs(stack, destination=...)` subscribes every log group of a stack
to one destination (see `log_destinations.LogDestination`).

Every `AWS::Logs::LogGroup` of the stack gets an `AWS::Logs::SubscriptionFilter`: those
secure-constructs makes (functions, API access logs, web ACL logs, CDK's S3 notifications
handler, workflows) and the user's own, including log groups added after the call. An Aspect
over `logs.CfnLogGroup` does it at synth, so a construct written later is covered without an
edit here. Not covered: log groups of nested stacks, log groups of the destination itself (its
error log forwarded into it would feed on its own failures), and log groups Lambda or API
Gateway create at run time (a function without a log group of its own, API Gateway's execution
logs): the `LogForwarding` rule reports the functions. See docs/log_forwarding.md.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct, IValidation

from secure_constructs.defaults import LOG_FORWARDING_FILTER_PATTERN
from secure_constructs.errors import ValidationError
from secure_constructs.facts.logs_facts import (
    FORWARDING_METADATA,
    LOGS_PRINCIPAL,
    MAX_FILTER_PATTERN_LENGTH,
    SOURCE_ARN_CONDITION,
    SUBSCRIPTION_FILTERS_PER_LOG_GROUP,
)
from secure_constructs.jsii_refs import is_kind
from secure_constructs.log_destinations import BoundLogDestination, LogDestination
from secure_constructs.prop_types import check_args
from secure_constructs.shared import StackIds, stack_of

FILTER_ID = "SecureConstructsForwarding"
"""The construct id of each subscription filter, a child of the `logs.CfnLogGroup` it serves."""


def forward_logs(
    scope: Construct,
    *,
    destination: LogDestination,
    filter_pattern: str = LOG_FORWARDING_FILTER_PATTERN,
) -> LogForwarding:
    """Send every log group of `scope`'s stack to `destination` (once per stack).

    Example::

        forward_logs(stack, destination=LogDestination.cloudwatch_destination(
            "arn:aws:logs:eu-west-1:111122223333:destination:central-siem"))

    :param scope: the stack (or any construct in it).
    :param destination: `LogDestination.cloudwatch_destination(arn)`, `.kinesis(stream)` or
        `.firehose(delivery_stream)`.
    :param filter_pattern: a CloudWatch Logs filter pattern, the same for every log group.
        Default: "" (every log event).
    :returns: the stack's `LogForwarding` (its `role`, `destination_arn`).
    """
    check_args(forward_logs, locals())
    if len(filter_pattern) > MAX_FILTER_PATTERN_LENGTH:
        raise ValidationError(
            "filter_pattern",
            filter_pattern,
            f"a filter pattern of at most {MAX_FILTER_PATTERN_LENGTH} characters",
            "shorten the pattern, or leave it out to forward every event",
        )
    stack = stack_of(scope)
    existing = stack.node.try_find_child(StackIds.LOG_FORWARDING)
    if existing is not None:
        raise ValidationError(
            "scope",
            stack.node.path,
            "one forward_logs call per stack (a log group takes at most "
            f"{SUBSCRIPTION_FILTERS_PER_LOG_GROUP} subscription filters, and the stack's "
            "forwarding marker names one destination)",
            "call forward_logs once; to reach a second tool, fan out from the destination "
            "(e.g. a Firehose stream reading the Kinesis stream)",
        )
    destination._check(stack)
    return LogForwarding(stack, StackIds.LOG_FORWARDING, destination, filter_pattern)


class LogForwarding(Construct):
    """A stack's log forwarding, made by `forward_logs`: the role CloudWatch Logs assumes (none
    for a CloudWatch Logs destination), the stream if one was created, the Aspect that
    subscribes each log group, and the stack's `SecureConstructs::LogForwarding` metadata.

    Attributes: `destination_arn`, `filter_pattern`, `role` (`iam.Role` or None), `policy`
    (its customer-managed policy or None).
    """

    def __init__(
        self,
        scope: cdk.Stack,
        construct_id: str,
        destination: LogDestination,
        filter_pattern: str,
    ) -> None:
        super().__init__(scope, construct_id)
        bound = destination._bind(self)
        self.destination_arn: str = bound.destination_arn
        self.filter_pattern = filter_pattern
        self.role: iam.Role | None = None
        self.policy: iam.ManagedPolicy | None = None
        if bound.statements:
            self.role, self.policy = self._role(scope, bound)
        scope.add_metadata(FORWARDING_METADATA, {"DestinationArn": self.destination_arn})
        excluded = bound.source.node.path + "/" if bound.source is not None else None
        cdk.Aspects.of(scope).add(_SubscribeLogGroups(self, scope, excluded))
        self.node.add_validation(_FilterLimit(scope))

    def _role(
        self, stack: cdk.Stack, bound: BoundLogDestination
    ) -> tuple[iam.Role, iam.ManagedPolicy]:
        # AWS's example trust: logs.amazonaws.com, StringLike aws:SourceArn on this account's
        # CloudWatch Logs ARNs in this region (the confused-deputy guard). See facts/logs_facts.
        source_arn = stack.format_arn(
            service="logs", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                LOGS_PRINCIPAL, conditions={"StringLike": {SOURCE_ARN_CONDITION: source_arn}}
            ),
            description="CloudWatch Logs forwards this stack's log groups (secure-constructs)",
        )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Lets CloudWatch Logs put this stack's log events into one stream",
            statements=list(bound.statements),
            roles=[role],
        )
        return role, policy

    def _subscribe(self, group: logs.CfnLogGroup) -> logs.CfnSubscriptionFilter:
        """The subscription filter of `group` (made once, as its child `FILTER_ID`)."""
        found = group.node.try_find_child(FILTER_ID)
        if isinstance(found, logs.CfnSubscriptionFilter):
            return found
        subscription = logs.CfnSubscriptionFilter(
            group,
            FILTER_ID,
            destination_arn=self.destination_arn,
            filter_pattern=self.filter_pattern,
            log_group_name=group.ref,
            role_arn=self.role.role_arn if self.role is not None else None,
        )
        if self.policy is not None:
            # CloudWatch Logs tests the role when the filter is created: the policy comes first.
            subscription.node.add_dependency(self.policy)
        return subscription


@jsii.implements(cdk.IAspect)
class _SubscribeLogGroups:
    """Subscribes each `logs.CfnLogGroup` of the stack (not of nested stacks, not of the
    destination's own construct) when the app is synthesized."""

    def __init__(self, forwarding: LogForwarding, stack: cdk.Stack, excluded: str | None) -> None:
        self._forwarding = forwarding
        self._stack_path = stack.node.path
        self._excluded = excluded

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, logs.CfnLogGroup):
            return
        if self._excluded is not None and node.node.path.startswith(self._excluded):
            return
        if cdk.Stack.of(node).node.path != self._stack_path:
            return  # a nested stack's log group: its own template, its own forwarding
        self._forwarding._subscribe(node)


@jsii.implements(IValidation)
class _FilterLimit:
    """A log group with more subscription filters than CloudWatch Logs allows fails the synth
    (it would fail the deployment half-way)."""

    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        counts: dict[str, list[str]] = {}
        for node in self._stack.node.find_all():
            if is_kind(node, logs.CfnSubscriptionFilter):
                name = json.dumps(self._stack.resolve(node.log_group_name), sort_keys=True)
                counts.setdefault(name, []).append(node.node.path)
        return [
            f"log group {name} has {len(paths)} subscription filters ({', '.join(paths)}); "
            f"CloudWatch Logs allows {SUBSCRIPTION_FILTERS_PER_LOG_GROUP}: remove one of yours "
            "or do not forward this stack's logs"
            for name, paths in counts.items()
            if len(paths) > SUBSCRIPTION_FILTERS_PER_LOG_GROUP
        ]
