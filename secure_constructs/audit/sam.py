"""SAM templates: transformed offline with aws-sam-translator, so every rule judges the result.

`AWS::Serverless-2016-10-31` is translated with the library SAM itself uses, with the managed
policy map and the policy templates it bundles: no network, no AWS credentials, no boto session
(a stand-in region, us-east-1, fills the pseudo parameters; it changes no rule's verdict).
A template that cannot be translated offline (a SAR application, an invalid document) and one
that uses another transform (AWS::LanguageExtensions, a macro) is refused with a clear error:
it is not evaluated, never passed. The generated resources keep a map back to the SAM resource
they came from (MyFnRole -> MyFn), so findings name what the author wrote.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.rules.transforms import SAM_TRANSFORM

_REGION = "us-east-1"


class TransformError(Exception):
    """The template cannot be evaluated: a transform we do not or cannot run offline."""


def transforms(body: Mapping[str, Any]) -> list[str]:
    """The template's `Transform` names (a string or a list; `{Name: ...}` for macros)."""
    raw = body.get("Transform")
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    names = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("Name")
        names.append(str(item))
    return names


def translate(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the CloudFormation template, generated logical id -> SAM logical id).

    Raises TransformError for a transform other than SAM, a SAR application, or a SAM error.
    """
    names = transforms(body)
    others = [n for n in names if n != SAM_TRANSFORM]
    if others:
        raise TransformError(
            f"not evaluated: it uses the transform {', '.join(others)}, which secure-constructs "
            "cannot expand offline; audit the processed template instead (the CloudFormation "
            "console's 'View processed template', or `aws cloudformation get-template "
            "--template-stage Processed`)"
        )
    resources = body.get("Resources")
    resources = resources if isinstance(resources, Mapping) else {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") if isinstance(resource, Mapping) else None
        location = props.get("Location") if isinstance(props, Mapping) else None
        if resource.get("Type") == "AWS::Serverless::Application" and isinstance(location, Mapping):
            raise TransformError(
                f"not evaluated: {logical_id} is a Serverless Application Repository "
                "application, which SAM can only expand by calling AWS (the network); audit the "
                "packaged template (`sam package`) or the application's own template"
            )
    translated = _run_translator(copy.deepcopy(dict(body)))
    return translated, origins(resources, translated.get("Resources") or {})


def origins(sam: Mapping[str, Any], translated: Mapping[str, Any]) -> dict[str, str]:
    """Generated logical id -> the SAM resource it came from (the longest id it starts with)."""
    serverless = sorted(
        (i for i, r in sam.items() if str(r.get("Type", "")).startswith("AWS::Serverless::")),
        key=len,
        reverse=True,
    )
    found: dict[str, str] = {}
    for logical_id in translated:
        for sam_id in serverless:
            if logical_id.startswith(sam_id):
                found[logical_id] = sam_id
                break
        else:
            for implicit, event_type in _IMPLICIT_APIS.items():
                if logical_id.startswith(implicit) and logical_id not in sam:
                    owner = _first_with_event(sam, event_type)
                    if owner is not None:  # the function whose events made the implicit API
                        found[logical_id] = owner
    return found


_IMPLICIT_APIS = {"ServerlessRestApi": "Api", "ServerlessHttpApi": "HttpApi"}


def _first_with_event(sam: Mapping[str, Any], event_type: str) -> str | None:
    for logical_id, resource in sam.items():
        props = resource.get("Properties") if isinstance(resource, Mapping) else None
        events = props.get("Events") if isinstance(props, Mapping) else None
        if isinstance(events, Mapping) and any(
            isinstance(e, Mapping) and e.get("Type") == event_type for e in events.values()
        ):
            return str(logical_id)
    return None


class _OfflineRegion:
    """What the translator reads from a boto session (the region), without a session."""

    region_name = _REGION


def _run_translator(body: dict[str, Any]) -> dict[str, Any]:
    # aws-sam-translator (and boto3 through it) is slow to import: only SAM input pays for it.
    from samtranslator.parser.parser import Parser
    from samtranslator.public.exceptions import InvalidDocumentException
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    ArnGenerator.BOTO_SESSION_REGION_NAME = _REGION  # never ask boto3 for a region
    translator = Translator(
        managed_policy_map=None,  # the translator's bundled map is used
        sam_parser=Parser(),
        boto_session=_OfflineRegion(),  # type: ignore[arg-type]
    )
    try:
        result: dict[str, Any] = translator.translate(sam_template=body, parameter_values={})
    except InvalidDocumentException as error:
        causes = "; ".join(str(getattr(c, "message", c)) for c in error.causes) or str(error)
        raise TransformError(f"not evaluated: the SAM transform failed: {causes}") from None
    except Exception as error:  # any other failure of the transform fails closed, too
        raise TransformError(f"not evaluated: the SAM transform failed: {error!r}") from None
    return result
