"""The stack's security promise, asserted on the synthesized template."""

from __future__ import annotations

from typing import Any

from {{ cookiecutter.package_name }}.settings import Settings
from tests.infra.conftest import Synth

SETTINGS = Settings()
API_FUNCTIONS = ("GetItem", "CreateItem", "ShareLink")
ALL_FUNCTIONS = (*API_FUNCTIONS, "RotateSigningKey", "ImportItems")


def test_synth_has_no_unacknowledged_finding(synth: Synth) -> None:
    assert synth.open_findings == []
    assert not synth.failed


def test_every_acknowledgement_has_a_reviewer_grade_reason(synth: Synth) -> None:
    assert synth.acknowledged, "the report lists acknowledged findings with reasons"
    assert all(len(reason) >= 40 for _, _, reason in synth.acknowledged)


def test_get_item_may_only_read_one_item(synth: Synth) -> None:
    assert synth.actions("GetItem", "dynamodb:") == {"dynamodb:GetItem"}
    assert synth.actions("GetItem", "secretsmanager:") == set()
    table = synth.logical_id("AWS::DynamoDB::Table", "Items/Resource")
    (statement,) = [
        s for s in synth.role_statements("GetItem") if "dynamodb:GetItem" in s["Action"]
    ]
    assert statement["Resource"] == [{"Fn::GetAtt": [table, "Arn"]}]


def test_create_item_may_only_put_items(synth: Synth) -> None:
    assert synth.actions("CreateItem", "dynamodb:") == {"dynamodb:PutItem"}
    assert synth.actions("CreateItem", "secretsmanager:") == set()


def test_table_key_is_usable_only_through_dynamodb(synth: Synth) -> None:
    for function_id in ("GetItem", "CreateItem"):
        kms = [
            s
            for s in synth.role_statements(function_id)
            if any(a.startswith("kms:") for a in s["Action"])
        ]
        table_key = [s for s in kms if "Condition" in s and "dynamodb." in str(s["Condition"])]
        assert table_key, f"{function_id} has no kms statement scoped to DynamoDB"
    read_key = {
        a
        for s in synth.role_statements("GetItem")
        if "dynamodb." in str(s.get("Condition"))
        for a in s["Action"]
    }
    assert read_key == {"kms:Decrypt"}


def test_share_link_may_only_read_the_signing_key(synth: Synth) -> None:
    assert synth.actions("ShareLink", "dynamodb:") == set()
    secret = synth.logical_id("AWS::SecretsManager::Secret", "SigningKey/Resource")
    reads = [
        s
        for s in synth.role_statements("ShareLink")
        if "secretsmanager:GetSecretValue" in s["Action"]
    ]
    assert reads and all(s["Resource"] == [{"Ref": secret}] for s in reads)
    assert synth.actions("ShareLink", "secretsmanager:") <= {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }


def test_rotation_function_touches_only_the_signing_key(synth: Synth) -> None:
    assert synth.actions("RotateSigningKey", "dynamodb:") == set()
    secret = synth.logical_id("AWS::SecretsManager::Secret", "SigningKey/Resource")
    for s in synth.role_statements("RotateSigningKey"):
        if any(a.startswith("secretsmanager:") for a in s["Action"]):
            assert s["Resource"] == [{"Ref": secret}], s
    assert "secretsmanager:GetRandomPassword" not in synth.actions(
        "RotateSigningKey", "secretsmanager:"
    )


def test_secret_rotates_every_30_days_and_is_cached_for_less(synth: Synth) -> None:
    (schedule,) = synth.resources("AWS::SecretsManager::RotationSchedule").values()
    rules = schedule["Properties"]["RotationRules"]
    assert (
        rules.get("ScheduleExpression") == "rate(30 days)"
        or rules.get("AutomaticallyAfterDays") == 30
    )
    share = synth.logical_id("AWS::Lambda::Function", "ShareLink/Resource")
    env = synth.template["Resources"][share]["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_PARAMETERS_MAX_AGE"] == "300"
    assert "SIGNING_KEY_SECRET_ARN" in env


def test_table_is_encrypted_recoverable_and_protected(synth: Synth) -> None:
    table = synth.template["Resources"][synth.logical_id("AWS::DynamoDB::Table", "Items/Resource")]
    props = table["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in props["SSESpecification"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_every_route_is_authorized(synth: Synth) -> None:
    expected = "COGNITO_USER_POOLS" if SETTINGS.auth == "cognito" else "AWS_IAM"
    methods = {
        k: v["Properties"]
        for k, v in synth.resources("AWS::ApiGateway::Method").items()
        if v["Properties"]["HttpMethod"] != "OPTIONS"
    }
    assert len(methods) == 3
    assert {m["AuthorizationType"] for m in methods.values()} == {expected}


def test_api_stage_is_behind_the_web_acl(synth: Synth) -> None:
    (association,) = synth.resources("AWS::WAFv2::WebACLAssociation").values()
    (acl_id,) = synth.resources("AWS::WAFv2::WebACL")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in synth.template["Resources"][acl_id]["Properties"]["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet"} <= groups
    if SETTINGS.waf_profile == "strict":
        assert "AWSManagedRulesBotControlRuleSet" in groups


def test_functions_are_placed_as_the_compliance_choice_requires(synth: Synth) -> None:
    for function_id in ALL_FUNCTIONS:
        fn = synth.template["Resources"][
            synth.logical_id("AWS::Lambda::Function", f"{function_id}/Resource")
        ]
        props: dict[str, Any] = fn["Properties"]
        if SETTINGS.regulated:
            assert props["VpcConfig"]["SubnetIds"], function_id
            assert props["ReservedConcurrentExecutions"] > 0, function_id
        else:
            assert "VpcConfig" not in props, function_id
    if SETTINGS.regulated:
        services = str(
            [
                e["Properties"]["ServiceName"]
                for e in synth.resources("AWS::EC2::VPCEndpoint").values()
            ]
        )
        assert "dynamodb" in services and "secretsmanager" in services
        assert synth.resources("AWS::EC2::FlowLog")
        assert synth.resources("AWS::Backup::BackupSelection")


def test_handler_code_is_bundled_with_its_hash_pinned_requirements(synth: Synth) -> None:
    fn = synth.template["Resources"][synth.logical_id("AWS::Lambda::Function", "GetItem/Resource")]
    asset = synth.outdir / fn["Metadata"]["aws:asset:path"]
    assert (asset / "get_item.py").is_file()
    assert (asset / "schemas" / "new_item.json").is_file()
    assert (asset / "requirements.txt").is_file()
    assert not (asset / "tests").exists()
