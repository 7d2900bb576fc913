"""Every default and AWS limit lives in one place (secure_constructs.defaults and
secure_constructs.facts), and constructs and rules read the very same objects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

from secure_constructs import (
    api,
    auth,
    defaults,
    function,
    function_props,
    secret,
    secrets_cache,
    waf,
)
from secure_constructs.checks import model
from secure_constructs.checks.rules import apigateway as api_rules
from secure_constructs.facts import apigateway_facts, lambda_facts, prices

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_facts_load_no_aws_cdk() -> None:
    """The rules and the CLI import them: they must not start jsii."""
    code = (
        "import json, sys\n"
        "import secure_constructs.defaults, secure_constructs.facts.lambda_facts\n"
        "import secure_constructs.facts.apigateway_facts, secure_constructs.facts.prices\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('aws_cdk', 'jsii')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_constructs_and_rules_share_the_api_gateway_limits() -> None:
    assert api.MAX_INTEGRATION_TIMEOUT_SECONDS is apigateway_facts.MAX_INTEGRATION_TIMEOUT_SECONDS
    assert api_rules.MAX_INTEGRATION_SECONDS is apigateway_facts.MAX_INTEGRATION_TIMEOUT_SECONDS
    assert api.BODY_METHODS is api_rules.BODY_METHODS is apigateway_facts.BODY_METHODS
    assert api.MAX_CACHE_TTL_SECONDS is auth.MAX_CACHE_TTL_SECONDS
    assert api_rules.LAMBDA_DEFAULT_TIMEOUT_SECONDS is lambda_facts.DEFAULT_TIMEOUT_SECONDS


def test_the_pack_and_the_function_share_the_lambda_limits_and_cap() -> None:
    assert function_props.MAX_TIMEOUT_SECONDS is lambda_facts.MAX_TIMEOUT_SECONDS
    assert model.CheckOptions().max_timeout_seconds == defaults.CHECKS_MAX_TIMEOUT_SECONDS
    assert lambda_facts.ASYNC_RETRY_RANGE[1] == defaults.FUNCTION_RETRY_ATTEMPTS


def test_the_web_acl_prices_are_the_cli_price_table() -> None:
    assert waf.FIXED is prices.FIXED


def test_a_function_given_nothing_gets_the_documented_defaults() -> None:
    stack = cdk.Stack()
    function.SecureFunction(
        stack, "Fn", code=lambda_.Code.from_inline("def h(e, c): pass"), handler="index.h"
    )
    template = assertions.Template.from_stack(stack).to_json()
    (props,) = (
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    )
    assert props["Timeout"] == defaults.FUNCTION_TIMEOUT_SECONDS
    assert props["MemorySize"] == defaults.FUNCTION_MEMORY_MB
    assert props["Runtime"] == "python3.14"
    (config,) = (
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    )
    assert config["MaximumRetryAttempts"] == defaults.FUNCTION_RETRY_ATTEMPTS
    assert config["MaximumEventAgeInSeconds"] == defaults.FUNCTION_MAX_EVENT_AGE_SECONDS
    (logs,) = (
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    )
    assert logs["RetentionInDays"] == 365  # defaults.LOG_RETENTION, RetentionDays.ONE_YEAR


def test_the_secret_and_cache_defaults_come_from_defaults() -> None:
    cache = secrets_cache.SecretsCache.extension()
    assert cache.ttl_seconds == defaults.SECRETS_CACHE_TTL_SECONDS
    rotation = secret.SecretRotation.hosted(secretsmanager.HostedRotation.mysql_single_user())
    assert rotation.interval is not None
    assert rotation.interval.to_days() == defaults.ROTATION_DAYS
