"""Findings no reason can justify (a rule's `never_acceptable`, e.g. ApiHttpIntegration
[PlainHttp]): `acknowledge` refuses them, the synth report offers no acknowledge call and keeps
them fatal, and the audit honours no acknowledgement of them, in CDK metadata or a template."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway

from secure_constructs.checks import acknowledge
from secure_constructs.checks.packs import qualify_rule_id
from secure_constructs.checks.registry import NEVER_ACCEPTABLE, RULES
from secure_constructs.errors import ValidationError
from tests.audit.helpers import run
from tests.synth import synth

PLAIN = "ApiHttpIntegration[PlainHttp]"
REASON = "The legacy backend speaks only plain http inside the partner network for this year"


def test_the_table_comes_from_the_rules_metadata() -> None:
    assert PLAIN in NEVER_ACCEPTABLE
    assert RULES["ApiHttpIntegration"].never_acceptable == ("PlainHttp",)
    # A rule's other findings stay acceptable with a reason.
    assert qualify_rule_id("ApiHttpIntegration[ExternalHost]") == (
        "SecureServerless::ApiHttpIntegration[ExternalHost]"
    )


@pytest.mark.parametrize("rule_id", [PLAIN, f"SecureServerless::{PLAIN}"])
def test_fails_when_a_never_acceptable_finding_is_acknowledged(rule_id: str) -> None:
    resource = cdk.CfnResource(cdk.Stack(), "Method", type="AWS::ApiGateway::Method")
    with pytest.raises(ValidationError, match=r"^rule_id=.*never acceptable"):
        acknowledge(resource, rule_id, REASON)


def _plain_http_method(stack: cdk.Stack) -> None:
    api = apigateway.RestApi(stack, "Api", deploy=False)
    api.root.add_method("GET", apigateway.HttpIntegration("http://legacy.example.com/x"))


@pytest.mark.synth
def test_the_synth_report_offers_no_acknowledgement_for_it() -> None:
    result = synth(_plain_http_method)
    assert result.failed
    report = json.loads((result.outdir / "validation-report.json").read_text())
    ours = [
        v
        for p in report["pluginReports"]
        if p["pluginName"] == "SecureServerless"
        for v in p["violations"]
    ]
    (plain,) = [v for v in ours if v["ruleName"] == PLAIN]
    assert plain["severity"] == "fatal"
    assert "acknowledge(" not in plain["suggestedFix"]
    assert "No acknowledgement accepts" in plain["suggestedFix"]
    # The other finding of the same method still offers its call.
    (external,) = [v for v in ours if v["ruleName"] == "ApiHttpIntegration[ExternalHost]"]
    assert "Only if truly unavoidable: acknowledge(" in external["suggestedFix"]


TEMPLATE = """
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: legacy}
  Legacy:
    Type: AWS::ApiGateway::Method
    Metadata:
      secure-constructs:
        acknowledge:
          - id: SecureServerless::ApiHttpIntegration[PlainHttp]
            reason: %s
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: GET
      AuthorizationType: AWS_IAM
      Integration:
        Type: HTTP_PROXY
        IntegrationHttpMethod: GET
        Uri: http://legacy.example.com/x
"""


def test_the_audit_honours_no_acknowledgement_of_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE % json.dumps(REASON))
    result = run(capsys, "audit", path, "--format", "json")
    out = json.loads(result.out)
    (plain,) = [f for f in out["findings"] if f["rule"] == PLAIN]
    assert plain["acknowledged"] is False
    (ack,) = out["acknowledgements"]
    assert ack["matched"] == 0
    assert result.code == 1
