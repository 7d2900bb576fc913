"""Where `forward_logs` sends a stack's logs: a CloudWatch Logs destination of another account,
a Kinesis data stream or an Amazon Data Firehose stream (`LogDestination` and its variants).

Each variant binds itself to the stack's `LogForwarding` construct (`_bind`) and returns the
destination ARN and the exact statements of the role CloudWatch Logs assumes (none for a Logs
destination: its own access policy and role govern). See docs/log_forwarding.md.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from constructs import Construct, IConstruct

from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.defaults import LOG_STREAM_RETENTION_HOURS, LOG_STREAM_SHARD_COUNT
from secure_constructs.errors import ValidationError
from secure_constructs.facts.logs_facts import (
    ACCOUNT_PATTERN,
    DESTINATION_ARN_PATTERN,
    FIREHOSE_DIRECT_PUT,
    FIREHOSE_PUT_ACTIONS,
    KINESIS_ENCRYPTION_CONTEXT,
    KINESIS_PRODUCER_KEY_ACTIONS,
    KINESIS_PUT_ACTIONS,
    REGION_PATTERN,
)
from secure_constructs.prop_types import check_args
from secure_constructs.shared import security_key
from secure_constructs.validation import is_token_string


@dataclass(frozen=True)
class BoundLogDestination:
    """A destination bound to a stack: what every subscription filter points at.

    :param destination_arn: the filters' `DestinationArn`.
    :param statements: the role's statements; empty when CloudWatch Logs needs no role.
    :param source: the destination's own construct (its log groups are never subscribed to it:
        a Firehose stream's error log forwarded into itself would feed on its own failures).
    """

    destination_arn: str
    statements: Sequence[iam.PolicyStatement] = field(default_factory=tuple)
    source: IConstruct | None = None


class LogDestination(abc.ABC):
    """Where `forward_logs` sends every log group of a stack. Build one with a factory:

    - `LogDestination.cloudwatch_destination(arn)`: a CloudWatch Logs destination (usually of a
      central logging or SIEM account), no role;
    - `LogDestination.kinesis(stream)`: a Kinesis data stream of this account (default: a new
      one, encrypted with the stack key);
    - `LogDestination.firehose(delivery_stream)`: a Firehose stream of this account (Direct PUT).
    """

    def _check(self, stack: cdk.Stack) -> None:  # noqa: B027 (most variants have nothing to check)
        """Refuse a destination this stack cannot use, before anything is built."""

    @abc.abstractmethod
    def _bind(self, scope: Construct) -> BoundLogDestination:
        """The destination ARN and the role's statements, for the stack of `scope` (called once,
        by `forward_logs`, with the stack's `LogForwarding` construct)."""

    @staticmethod
    def cloudwatch_destination(arn: str) -> LogDestination:
        """A CloudWatch Logs destination (`AWS::Logs::Destination`), usually of another account.

        The subscription filters have no role: the destination's access policy decides who may
        subscribe and its own role writes into its stream. The destination must be in the
        stack's region (AWS requires it; checked when the stack's region is known at synth).

        :param arn: `arn:<partition>:logs:<region>:<account>:destination:<name>`.
        """
        check_args(LogDestination.cloudwatch_destination, locals())
        return _LogsDestination(arn)

    @staticmethod
    def kinesis(stream: kinesis.IStream | None = None) -> LogDestination:
        """A Kinesis data stream of this account and region.

        The role may `kinesis:PutRecord`/`kinesis:PutRecords` on exactly that stream, and, for a
        stream encrypted with a customer-managed key, `kms:GenerateDataKey` on exactly that key
        for exactly that stream (encryption context `aws:kinesis:arn`). A stream defined in the
        app must be encrypted (an UNENCRYPTED stream is refused); an imported one cannot be
        inspected at synth: import it with its `encryption_key` so the role can use the key.

        :param stream: the stream. Default: a new stream, `<stack>/SecureConstructsLogForwarding/
            Stream`, encrypted with the stack key, 1 shard (provisioned), 24 h retention.
        """
        check_args(LogDestination.kinesis, locals())
        return _KinesisDestination(stream)

    @staticmethod
    def firehose(delivery_stream: firehose.IDeliveryStream) -> LogDestination:
        """An Amazon Data Firehose stream of this account and region (Direct PUT source).

        The role may `firehose:PutRecord`/`firehose:PutRecordBatch` on exactly that stream. A
        stream defined in the app must have server-side encryption and a Direct PUT source (a
        Kinesis-sourced stream refuses PutRecord); an imported one cannot be inspected at synth.
        """
        check_args(LogDestination.firehose, locals())
        return _FirehoseDestination(delivery_stream)


class _LogsDestination(LogDestination):
    def __init__(self, arn: str) -> None:
        match = DESTINATION_ARN_PATTERN.fullmatch(arn)
        if is_token_string(arn):
            match = None  # a token can hide anything: the ARN must be readable at synth
        if match is None:
            raise ValidationError(
                "arn",
                arn,
                "a CloudWatch Logs destination ARN, arn:<partition>:logs:<region>:<account>:"
                "destination:<name>, written out (not a token)",
                "pass the ARN the destination's account gave you, e.g. "
                "'arn:aws:logs:eu-west-1:111122223333:destination:central-siem'",
            )
        if not REGION_PATTERN.fullmatch(match["region"]):
            raise ValidationError(
                "arn",
                arn,
                f"an ARN whose region is a region name (got {match['region']!r})",
                "write the destination's region, e.g. eu-west-1",
            )
        if not ACCOUNT_PATTERN.fullmatch(match["account"]):
            raise ValidationError(
                "arn",
                arn,
                f"an ARN whose account is 12 digits (got {match['account']!r})",
                "write the destination account's id",
            )
        self.arn = arn
        self.region = match["region"]

    def _check(self, stack: cdk.Stack) -> None:
        region = stack.region
        if not cdk.Token.is_unresolved(region) and region != self.region:
            raise ValidationError(
                "destination",
                self.arn,
                f"a destination in the stack's region {region} (CloudWatch Logs subscribes a log "
                "group only to a destination of its own region)",
                "ask the destination's account for a destination in this region (it may point "
                "at a stream in any region)",
            )

    def _bind(self, scope: Construct) -> BoundLogDestination:
        return BoundLogDestination(self.arn)


_STACK_KEY_REASON = (
    "The stream carries the events of log groups encrypted with the stack's customer-managed "
    "key; under the AWS managed aws/kinesis key anyone with kinesis:GetRecords could read them "
    "without any key permission, so the stream keeps the stack key and its consumers need "
    "kms:Decrypt on it, as the log groups' readers do."
)


class _KinesisDestination(LogDestination):
    def __init__(self, stream: kinesis.IStream | None) -> None:
        self.stream = stream

    def _check(self, stack: cdk.Stack) -> None:
        if self.stream is not None:
            _refuse_unencrypted_stream(self.stream)

    def _bind(self, scope: Construct) -> BoundLogDestination:
        stream = self.stream
        if stream is None:
            stream = kinesis.Stream(
                scope,
                "Stream",
                encryption=kinesis.StreamEncryption.KMS,
                encryption_key=security_key(scope),
                shard_count=LOG_STREAM_SHARD_COUNT,
                retention_period=cdk.Duration.hours(LOG_STREAM_RETENTION_HOURS),
            )
            acknowledge_made(stream, "AwsSolutions-KDS3", _STACK_KEY_REASON)
        statements = [
            iam.PolicyStatement(actions=list(KINESIS_PUT_ACTIONS), resources=[stream.stream_arn])
        ]
        key = stream.encryption_key
        if key is not None:
            statements.append(
                iam.PolicyStatement(
                    actions=list(KINESIS_PRODUCER_KEY_ACTIONS),
                    resources=[key.key_arn],
                    conditions={"StringEquals": {KINESIS_ENCRYPTION_CONTEXT: stream.stream_arn}},
                )
            )
        return BoundLogDestination(stream.stream_arn, statements, stream)


def _refuse_unencrypted_stream(stream: kinesis.IStream) -> None:
    cfn = stream.node.default_child
    if not isinstance(cfn, kinesis.CfnStream):
        return  # imported: nothing to read at synth
    # CDK writes StreamEncryption for KMS and MANAGED (MANAGED as a region condition): only
    # UNENCRYPTED leaves it out.
    if cfn.stream_encryption is None:
        raise ValidationError(
            "stream",
            stream.node.path,
            "an encrypted Kinesis stream (logs carry caller identities and errors)",
            "create it with encryption=kinesis.StreamEncryption.KMS, encryption_key="
            "secure_constructs.security_key(self), or leave stream out to get such a stream",
        )


class _FirehoseDestination(LogDestination):
    def __init__(self, delivery_stream: firehose.IDeliveryStream) -> None:
        self.delivery_stream = delivery_stream

    def _check(self, stack: cdk.Stack) -> None:
        _refuse_unfit_delivery_stream(self.delivery_stream)

    def _bind(self, scope: Construct) -> BoundLogDestination:
        stream = self.delivery_stream
        statements = [
            iam.PolicyStatement(
                actions=list(FIREHOSE_PUT_ACTIONS), resources=[stream.delivery_stream_arn]
            )
        ]
        return BoundLogDestination(stream.delivery_stream_arn, statements, stream)


def _refuse_unfit_delivery_stream(stream: firehose.IDeliveryStream) -> None:
    cfn = stream.node.default_child
    if not isinstance(cfn, firehose.CfnDeliveryStream):
        return  # imported: nothing to read at synth
    source = cfn.delivery_stream_type
    if source not in (None, FIREHOSE_DIRECT_PUT):
        raise ValidationError(
            "delivery_stream",
            stream.node.path,
            f"a Direct PUT Firehose stream (this one's source is {source}, which refuses "
            "CloudWatch Logs' PutRecord)",
            "create the delivery stream without a source, or forward to its source Kinesis "
            "stream with LogDestination.kinesis(stream)",
        )
    if cfn.delivery_stream_encryption_configuration_input is None:
        raise ValidationError(
            "delivery_stream",
            stream.node.path,
            "a Firehose stream with server-side encryption (logs carry caller identities and "
            "errors)",
            "create it with encryption=firehose.StreamEncryption.customer_managed_key("
            "secure_constructs.security_key(self))",
        )
