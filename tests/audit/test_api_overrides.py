"""`secure-constructs audit` flags the hand-written equivalents of every SecureApi bypass of
issue 14 (fixtures/templates/api_overrides.yaml), with the same rules the synth runs."""

from __future__ import annotations

import pytest

from secure_constructs.audit.report import audit
from secure_constructs.audit.sources import load
from tests.audit.helpers import TEMPLATES, run

TEMPLATE = TEMPLATES / "api_overrides.yaml"


def test_every_bypass_in_a_hand_written_template_is_an_open_finding() -> None:
    findings = {(f.rule_name, f.logical_id) for f in audit(load([TEMPLATE])).open_findings()}
    expected = {
        ("ApiRequestValidation", "PostEmptyModel"),  # the Empty model accepts anything
        ("ApiRequestValidation", "PutOpenModel"),  # {"type": "object"} alone
        ("ApiMethodAuthorization", "GetLegacy"),  # Fn::If can resolve to NONE
        ("ApiMethodAuthorization", "OptionsLambda"),  # OPTIONS exempt only as MOCK
        ("ApiMethodAuthorization[GET /orders]", "Spec"),  # OpenAPI Body without security
        ("ApiHttpIntegration[PlainHttp]", "GetLegacy"),
        ("ApiHttpIntegration[ExternalHost]", "GetLegacy"),
        ("ApiHttpIntegration[ExternalHost]", "Spec"),
        ("ApiLambdaTimeout[Fn]", "Authorizer"),  # 25 s > the 10 s authorizer limit
        ("ApiStageThrottling", "Beta"),  # a stage made by a Deployment's StageName
        ("ApiStageWafRules[WebACL]", "Beta"),
        ("ApiDataTrace[/* *]", "Beta"),
        ("ApiStageTracing", "Beta"),
        ("FunctionTracing", "Fn"),
        ("LogGroupEncryption", "Logs"),
    }
    assert expected <= findings, sorted(expected - findings)


def test_the_audit_fails_on_them(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "audit", TEMPLATE)
    assert result.code == 1
    assert "ApiDataTrace" in result.out and "ApiHttpIntegration" in result.out
