"""CDK's own stream event sources (`DynamoEventSource`, `KinesisEventSource`) on a SecureFunction
must bound their failures: `refuse_unbounded_stream_source` judges the mapping CDK made."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_lambda as lambda_

from secure_constructs.errors import ValidationError
from secure_constructs.shared import stack_of

_STREAM_FIX = (
    "use fn.add_stream_trigger(table_or_stream) (on-failure queue, bounded retries and record "
    "age, bisect on error), or pass on_failure=, retry_attempts= and max_record_age= to the "
    "event source"
)


def refuse_unbounded_stream_source(
    source: lambda_.IEventSource, mappings: Iterable[lambda_.EventSourceMapping]
) -> None:
    """Refuse CDK's own stream event source when its mapping has no failure handling.

    Checked on the mapping CDK just made (its L1 properties), so whatever way the source was
    configured, the same three properties are judged as `SecureServerless::
    EventSourceFailureHandling` judges them in the template.
    """
    from aws_cdk.aws_lambda_event_sources import StreamEventSource

    if not isinstance(source, StreamEventSource):
        return
    for mapping in mappings:
        cfn = mapping.node.default_child
        assert isinstance(cfn, lambda_.CfnEventSourceMapping)
        stack = stack_of(mapping)
        config = stack.resolve(cfn.destination_config)
        missing = [
            name
            for name, value in (
                ("on_failure", (config or {}).get("onFailure")),
                ("retry_attempts", cfn.maximum_retry_attempts),
                ("max_record_age", cfn.maximum_record_age_in_seconds),
            )
            if value is None or value == -1
        ]
        if missing:
            raise ValidationError(
                missing[0],
                None,
                "a stream event source with an on-failure destination, a bounded number of "
                f"retries and a maximum record age (missing: {', '.join(missing)}): otherwise "
                "a failing batch blocks its shard until the records expire, and is then lost",
                _STREAM_FIX,
            )
