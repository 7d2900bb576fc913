"""The checks of `SecureApi.add_route`'s arguments: method, path, handler, request schema and
body, parameters, and the operation id derived from method and path."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from secure_constructs.api.props import MAX_INTEGRATION_TIMEOUT_SECONDS
from secure_constructs.checks.api_facts import allows_additional_properties, schema_weakness
from secure_constructs.errors import ValidationError
from secure_constructs.facts.apigateway_facts import BODY_METHODS as BODY_METHODS
from secure_constructs.validation import check_reason

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "ANY")
JSON_SCHEMA_DRAFT4 = "http://json-schema.org/draft-04/schema#"

_PATH_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
OPERATION_SEPARATOR = re.compile(r"[^A-Za-z0-9]+")


def check_method(method: Any) -> str:
    verb = method.upper() if isinstance(method, str) else method
    if verb not in METHODS:
        raise ValidationError(
            "method",
            method,
            f"one of {', '.join(METHODS)} (OPTIONS is the CORS preflight's: set "
            "cors_allow_origins)",
            "pass e.g. add_route('GET', '/items', handler)",
        )
    return str(verb)


def check_path(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValidationError(
            "path",
            path,
            "a path starting with '/', e.g. /items/{id}",
            "start the path with '/'",
        )
    if path == "/":
        return []
    segments = path[1:].split("/")
    names: set[str] = set()
    for index, segment in enumerate(segments):
        if not _PATH_SEGMENT.match(segment):
            raise ValidationError(
                "path",
                path,
                "segments of letters, digits, '.', '_', '-', or one {parameter} (a Python-style "
                "name); no empty segments or trailing '/'",
                "e.g. /items/{item_id}",
            )
        if segment.endswith("+}") and index != len(segments) - 1:
            raise ValidationError(
                "path",
                path,
                "a greedy {name+} parameter only as the last segment",
                "move it to the end, e.g. /files/{key+}",
            )
        if segment.startswith("{"):
            name = segment.strip("{}+")
            if name in names:
                raise ValidationError(
                    "path",
                    path,
                    "each path parameter name once",
                    "rename one of the parameters",
                )
            names.add(name)
    return segments


def check_handler(handler: Any) -> float | None:
    """The handler's timeout in seconds (None when unknown or a token), or a ValidationError."""
    if not (
        isinstance(handler, lambda_.FunctionBase)
        or (isinstance(handler, Construct) and hasattr(handler, "function_arn"))
    ):
        raise ValidationError(
            "handler",
            handler,
            "a Lambda function (ideally a SecureFunction)",
            "pass e.g. SecureFunction(self, 'Handler', ...)",
        )
    function: object = handler
    if isinstance(handler, lambda_.Alias):  # an alias or version runs its function's code
        function = handler.version.lambda_
    elif isinstance(handler, lambda_.Version):
        function = handler.lambda_
    seconds: float | None = getattr(function, "timeout_seconds", None)  # a SecureFunction's
    if seconds is None:
        timeout = getattr(function, "timeout", None)
        if isinstance(timeout, cdk.Duration) and not timeout.is_unresolved():
            seconds = timeout.to_seconds()
    if seconds is not None and seconds > MAX_INTEGRATION_TIMEOUT_SECONDS:
        raise ValidationError(
            "handler.timeout",
            f"{seconds:g} seconds",
            f"at most {MAX_INTEGRATION_TIMEOUT_SECONDS} seconds (API Gateway ends the "
            "integration at 29 s; the function would keep running and billing after the "
            "caller got a 504)",
            "lower the function's timeout, or make the route asynchronous (enqueue the "
            "work and return 202)",
        )
    return seconds


def check_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise ValidationError(
            "request_schema",
            schema,
            "a JSON Schema (draft-04) dict",
            "pass e.g. {'type': 'object', 'properties': {...}, 'required': [...]}",
        )
    body = dict(schema)
    declared = body.get("$schema")
    if declared is not None and declared.rstrip("#") != JSON_SCHEMA_DRAFT4.rstrip("#"):
        raise ValidationError(
            "request_schema",
            f"$schema={declared!r}",
            f"JSON Schema draft-04 ({JSON_SCHEMA_DRAFT4}), the only draft API Gateway supports",
            "remove $schema (draft-04 is assumed) and use draft-04 keywords",
        )
    import jsonschema  # only routes with a schema pay for its import

    try:
        json.dumps(body)
        jsonschema.Draft4Validator.check_schema(body)
    except (TypeError, ValueError) as error:
        raise ValidationError(
            "request_schema", body, "a JSON-serializable schema", f"fix it: {error}"
        ) from error
    except jsonschema.SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ValidationError(
            "request_schema",
            body,
            "a valid JSON Schema draft-04 document",
            f"at {where}: {error.message}",
        ) from error
    body["$schema"] = JSON_SCHEMA_DRAFT4
    return body


def check_body(verb: str, schema: Mapping[str, Any] | None, reason: str | None) -> None:
    if reason is not None:
        # The reason becomes an acknowledgement: checked here, under this prop's name, with
        # the same test acknowledge() and the audit apply (a token is refused too).
        check_reason(
            "unvalidated_body_reason",
            reason,
            about="the request body cannot be validated by a JSON Schema (e.g. a binary upload)",
        )
        if schema is not None:
            raise ValidationError(
                "unvalidated_body_reason",
                reason,
                "only on a route without request_schema",
                "remove unvalidated_body_reason (the schema validates the body)",
            )
        if verb not in BODY_METHODS:
            raise ValidationError(
                "unvalidated_body_reason",
                reason,
                f"only on {', '.join(sorted(BODY_METHODS))} routes",
                "remove it: the route takes no body",
            )
    if schema is not None and verb in ("GET", "HEAD"):
        raise ValidationError(
            "request_schema",
            "<schema>",
            "only on routes that take a body (GET and HEAD requests have none)",
            "remove request_schema, or declare query_parameters",
        )
    if verb in BODY_METHODS and schema is None and reason is None:
        raise ValidationError(
            "request_schema",
            None,
            f"a JSON Schema for every {verb} route (API Gateway validates the body before the "
            "function runs)",
            "pass request_schema={...}, or unvalidated_body_reason='why the body cannot be "
            "validated'",
        )


def check_parameters(prop: str, parameters: Mapping[str, bool] | None) -> dict[str, bool]:
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise ValidationError(
            prop, parameters, "a dict of name -> required", f"pass e.g. {prop}={{'limit': False}}"
        )
    for name, required in parameters.items():
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise ValidationError(prop, name, "names of letters, digits and -_.", "rename it")
        if not isinstance(required, bool):
            raise ValidationError(
                prop, {name: required}, "True (required) or False (optional)", "pass a bool"
            )
    return dict(parameters)


def operation_id(verb: str, segments: Sequence[str]) -> str:
    words = [verb.lower()]
    for segment in segments:
        words.extend(w for w in OPERATION_SEPARATOR.split(segment) if w)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def check_schema_strength(schema: Mapping[str, Any] | None, reason: str | None) -> None:
    """Refuse a request schema that accepts any object, and undeclared properties unless
    `additional_properties_reason` says why."""
    if reason is not None:
        check_reason(
            "additional_properties_reason",
            reason,
            about="clients may send body properties the schema does not declare",
        )
    if schema is None:
        if reason is not None:
            raise ValidationError(
                "additional_properties_reason",
                reason,
                "only on a route with request_schema",
                "remove additional_properties_reason",
            )
        return
    weakness = schema_weakness(schema)
    if weakness is not None:
        raise ValidationError(
            "request_schema",
            dict(schema),
            'a schema that describes the body: "type": "object" with the properties it '
            f"takes (this one validates nothing: {weakness})",
            "pass e.g. {'type': 'object', 'properties': {'name': {'type': 'string'}}, "
            "'required': ['name'], 'additionalProperties': False}; for a body no schema can "
            "describe, unvalidated_body_reason='...' instead",
        )
    allows = allows_additional_properties(schema)
    if allows and reason is None:
        raise ValidationError(
            "request_schema",
            "additionalProperties not false",
            'a schema with "additionalProperties": False (JSON Schema lets undeclared '
            "properties through by default, so a client can smuggle fields the function may "
            "trust)",
            "add 'additionalProperties': False, or pass additional_properties_reason='why "
            "undeclared properties must be accepted'",
        )
    if not allows and reason is not None:
        raise ValidationError(
            "additional_properties_reason",
            reason,
            "only with a schema that allows additional properties",
            "remove additional_properties_reason (the schema already refuses them)",
        )
