"""The log groups resources of a template write to, as they name them.

A function's `LoggingConfig.LogGroup` (a name), a state machine's
`LoggingConfiguration.Destinations[].CloudWatchLogsLogGroup.LogGroupArn`, an API stage's access
log `DestinationArn` and a WAF logging configuration's `LogDestinationConfigs` (ARNs) may name a
log group the template does not define; the LogForwarding rule then asks for a subscription
filter on that name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, as_list, referenced_ids, renderings

_LOG_GROUP_ARN = re.compile(r"^arn:[^:]*:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$")


@dataclass(frozen=True)
class LogWrite:
    """One property of a resource naming the log group it writes to."""

    logical_id: str
    path: str
    value: Any
    is_arn: bool


def _function(props: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    logging = props.get("LoggingConfig")
    if isinstance(logging, Mapping) and logging.get("LogGroup") not in (None, ""):
        yield "Properties/LoggingConfig/LogGroup", logging["LogGroup"], False


def _state_machine(props: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    logging = props.get("LoggingConfiguration")
    destinations = logging.get("Destinations") if isinstance(logging, Mapping) else None
    for i, destination in enumerate(as_list(destinations)):
        group = (
            destination.get("CloudWatchLogsLogGroup") if isinstance(destination, Mapping) else None
        )
        if isinstance(group, Mapping) and group.get("LogGroupArn") not in (None, ""):
            path = f"Properties/LoggingConfiguration/Destinations/{i}/CloudWatchLogsLogGroup"
            yield path, group["LogGroupArn"], True


def _stage(props: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    for key in ("AccessLogSetting", "AccessLogSettings"):  # REST (v1) and HTTP/WebSocket (v2)
        setting = props.get(key)
        if isinstance(setting, Mapping) and setting.get("DestinationArn") not in (None, ""):
            yield f"Properties/{key}/DestinationArn", setting["DestinationArn"], True


def _waf_logging(props: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    for i, destination in enumerate(as_list(props.get("LogDestinationConfigs"))):
        yield f"Properties/LogDestinationConfigs/{i}", destination, True


WRITERS: Mapping[str, Callable[[Mapping[str, Any]], Iterator[tuple[str, Any, bool]]]] = {
    "AWS::Lambda::Function": _function,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::ApiGateway::Stage": _stage,
    "AWS::ApiGatewayV2::Stage": _stage,
    "AWS::WAFv2::LoggingConfiguration": _waf_logging,
}
"""Resource type -> the (path, value, whether the value is an ARN) naming its log groups."""


def log_writes(resources: Mapping[str, Any]) -> Iterator[LogWrite]:
    """Every property of the template naming a log group its resource writes to."""
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        writer = WRITERS.get(resource.get("Type"))  # type: ignore[arg-type]
        props = resource.get("Properties")
        if writer is None or not isinstance(props, Mapping):
            continue
        for path, value, is_arn in writer(props):
            yield LogWrite(logical_id, path, value, is_arn)


def defined_in(write: LogWrite, resources: Mapping[str, Any]) -> bool:
    """Whether the value refers to a resource of the template (a log group, judged as one; a
    Firehose stream or bucket, not a log group at all)."""
    return any(target in resources for target in referenced_ids(write.value))


def group_names(write: LogWrite) -> set[str] | None:
    """The literal log group names the value can name; None when a rendering is not readable
    (a parameter, an import); an ARN of something else (a Firehose stream) names none."""
    names: set[str] = set()
    for rendering in renderings(write.value):
        if not write.is_arn:
            name = rendering
        else:
            match = _LOG_GROUP_ARN.match(rendering)
            if match is None:
                if rendering.startswith("arn:") and ":logs:" not in rendering:
                    continue  # a Firehose stream or an S3 bucket: no log group
                return None
            name = match.group(1)
        if not name or UNKNOWN in name:
            return None
        names.add(name)
    return names if renderings(write.value) else None
