"""SecureApi's guards against ordinary CDK calls that would bypass its promise: extra stages
made beside its own, and HTTP integrations added by hand (node validations, run at synth).

The request-schema strength check (`route_props.check_schema_strength`) judges with
`checks.api_facts`, which the SecureServerless rules use too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import constructs
import jsii
from aws_cdk import aws_apigateway as apigateway
from constructs import IConstruct

from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import is_kind

if TYPE_CHECKING:
    import aws_cdk as cdk

STAGE_FIX = (
    "remove it: a stage made with apigateway.Stage or apigateway.Deployment(stage_name=...) gets "
    "none of SecureApi's protections (web ACL, throttling, access logs, X-Ray). For another "
    "environment, create another SecureApi(stage_name='beta', ...) (ideally in its own stack)"
)


def guard_api(
    api: apigateway.RestApi, own_stage: apigateway.Stage, acknowledge_certificate: Any
) -> None:
    """Add a validation to `api`: no stage but its own, no plain-http integration; and
    `acknowledge_certificate()` (the stage's client-certificate acknowledgements) only when
    every method integrates Lambda, an AWS service or a MOCK, once all methods exist."""

    def validate() -> list[str]:
        stack: cdk.Stack = api.stack
        own = stack.resolve(api.rest_api_id)
        nodes = stack.node.find_all()  # one walk, shared by both checks
        http = _http_methods(stack, own, nodes)
        if not http:
            acknowledge_certificate()
        return [*_foreign_stages(api, own_stage, own, nodes), *_plain_http_methods(http)]

    api.node.add_validation(_Validation(validate))


@jsii.implements(constructs.IValidation)
class _Validation:
    """A node validation from a function (jsii needs an object with `validate`)."""

    def __init__(self, check: Any) -> None:
        self._check = check

    def validate(self) -> list[str]:
        result: list[str] = self._check()
        return result


def _foreign_stages(
    api: apigateway.RestApi, own_stage: apigateway.Stage, own: Any, nodes: list[IConstruct]
) -> list[str]:
    stack = api.stack
    own_stage_path = own_stage.node.path + "/Resource"
    errors = []
    for node in nodes:
        if is_kind(node, apigateway.CfnStage):
            if node.node.path == own_stage_path or stack.resolve(node.rest_api_id) != own:
                continue
            errors.append(_stage_error(api, node, f"stage {node.stage_name!r}"))
        elif is_kind(node, apigateway.CfnDeployment) and node.stage_name:
            if stack.resolve(node.rest_api_id) != own:
                continue
            errors.append(_stage_error(api, node, f"a Deployment's stage_name {node.stage_name!r}"))
    return errors


def _stage_error(api: IConstruct, node: IConstruct, what: str) -> str:
    return str(
        ValidationError(
            "stage",
            f"{what} at {node.node.path}",
            f"only SecureApi's own stage on {api.node.path}",
            STAGE_FIX,
        )
    )


def _http_methods(
    stack: cdk.Stack, own: Any, nodes: list[IConstruct]
) -> list[tuple[apigateway.CfnMethod, Any]]:
    """(method, integration URI) of every HTTP / HTTP_PROXY integration on the API: each
    `CfnMethod` of the stack and its nested stacks whose RestApiId is the API's, whether
    `add_route`, a resource's `add_method` or a hand-made L1 created it. Their rendered
    properties (plain maps) are resolved in one round trip; `cfn.integration` is a struct jsii
    would read field by field."""
    methods = [n for n in nodes if is_kind(n, apigateway.CfnMethod)]
    rendered = stack.resolve([m._cfn_properties for m in methods])
    found = []
    for method, properties in zip(methods, rendered, strict=True):
        if not isinstance(properties, Mapping) or properties.get("restApiId") != own:
            continue
        integration = properties.get("integration")
        if not isinstance(integration, Mapping):
            continue
        if str(integration.get("type", "")).upper() in ("HTTP", "HTTP_PROXY"):
            found.append((method, integration.get("uri")))
    return found


def _plain_http_methods(http: list[tuple[apigateway.CfnMethod, Any]]) -> list[str]:
    errors = []
    for method, uri in http:
        if isinstance(uri, str) and uri.strip().lower().startswith("http://"):
            errors.append(
                str(
                    ValidationError(
                        "integration",
                        f"{uri} on {method.node.path.removesuffix('/Resource')}",
                        "https:// HTTP integrations only (http:// sends every request, "
                        "Authorization header included, in clear text)",
                        "use an https:// URI or a VPC link; for a Lambda backend use "
                        "SecureApi.add_route",
                    )
                )
            )
    return errors
