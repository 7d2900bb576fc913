"""The permissions report renders ARNs as the template writes them: `${AWS::Partition}`, names
where the template sets one, `<LogicalId>` where CloudFormation generates it, one form per
resource type from `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Fn::Join`, and cross-stack references
(`Fn::ImportValue`, `Fn::GetStackOutput`) followed into the other stacks of the assembly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.cli import resolvers
from secure_constructs.audit.permissions import Principal, permissions
from secure_constructs.audit.sources import load
from tests.audit.helpers import ASSEMBLY, ORDERS_YAML, SHARED_YAML, run

P = "arn:${AWS::Partition}:"
RA = ":${AWS::Region}:${AWS::AccountId}:"


def _role(resource: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "x:Y", "Resource": resource}]
                    },
                }
            ]
        },
    }


def _principals(*paths: Path) -> dict[str, Principal]:
    inputs = load(paths)
    report = permissions(inputs.stacks, resolvers(inputs.stacks))
    return {p.logical_id: p for p in report.principals}


def _rendered(tmp_path: Path, resource: Any, others: dict[str, Any]) -> tuple[str, ...]:
    template = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {"R": _role(resource), **others},
    }
    path = tmp_path / "app.json"
    path.write_text(json.dumps(template))
    (grant,) = _principals(path)["R"].grants
    return grant.resources


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        ("AWS::SQS::Queue", {}, f"{P}sqs{RA}<X>"),
        ("AWS::SQS::Queue", {"QueueName": "jobs"}, f"{P}sqs{RA}jobs"),
        ("AWS::SNS::Topic", {}, f"{P}sns{RA}<X>"),
        ("AWS::SecretsManager::Secret", {"Name": "db"}, f"{P}secretsmanager{RA}secret:db"),
        ("AWS::DynamoDB::Table", {}, f"{P}dynamodb{RA}table/<X>"),
        ("AWS::DynamoDB::GlobalTable", {}, f"{P}dynamodb{RA}table/<X>"),  # TableV2
        ("AWS::Lambda::Function", {}, f"{P}lambda{RA}function:<X>"),
        ("AWS::KMS::Key", {}, f"{P}kms{RA}key/<X>"),
        ("AWS::S3::Bucket", {}, f"{P}s3:::<X>"),
        ("AWS::S3::Bucket", {"BucketName": "logs"}, f"{P}s3:::logs"),
        ("AWS::IAM::Role", {"RoleName": "ops"}, f"{P}iam::${{AWS::AccountId}}:role/ops"),
        ("AWS::Logs::LogGroup", {}, f"{P}logs{RA}log-group:<X>:*"),
        ("AWS::StepFunctions::StateMachine", {}, f"{P}states{RA}stateMachine:<X>"),
        ("AWS::Kinesis::Stream", {}, f"{P}kinesis{RA}stream/<X>"),
        ("AWS::Events::EventBus", {"Name": "orders"}, f"{P}events{RA}event-bus/orders"),
        ("AWS::SSM::Parameter", {"Name": "/app/url"}, f"{P}ssm{RA}parameter/app/url"),
        ("AWS::Custom::Thing", {}, "<X.Arn>"),  # a format the report does not know
    ],
)
def test_get_att_arn_of_each_common_type(
    tmp_path: Path, resource_type: str, props: dict[str, Any], expected: str
) -> None:
    others = {"X": {"Type": resource_type, "Properties": props}}
    assert _rendered(tmp_path, {"Fn::GetAtt": ["X", "Arn"]}, others) == (expected,)


@pytest.mark.parametrize(
    "resource_type", ["AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::IAM::ManagedPolicy"]
)
def test_ref_of_a_type_whose_ref_is_its_arn_renders_the_same_arn(
    tmp_path: Path, resource_type: str
) -> None:
    others = {"X": {"Type": resource_type}}
    by_ref = _rendered(tmp_path, {"Ref": "X"}, others)
    assert by_ref == _rendered(tmp_path, {"Fn::GetAtt": ["X", "Arn"]}, others)
    assert by_ref[0].startswith(P) and by_ref[0].endswith("<X>")


def test_ref_renders_names_urls_parameters_and_pseudo_parameters_as_written(
    tmp_path: Path,
) -> None:
    queue = {"Q": {"Type": "AWS::SQS::Queue"}}
    assert _rendered(tmp_path, {"Ref": "Q"}, queue) == (
        "https://sqs.${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/<Q>",
    )
    assert _rendered(tmp_path, {"Ref": "Stage"}, {}) == ("${Stage}",)
    assert _rendered(tmp_path, {"Ref": "AWS::Partition"}, {}) == ("${AWS::Partition}",)


def test_sub_and_join_keep_the_partition_and_name_generated_resources(tmp_path: Path) -> None:
    bucket = {"B": {"Type": "AWS::S3::Bucket"}}
    sub = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}/reports/${Stage}/*"}
    assert _rendered(tmp_path, sub, bucket) == (f"{P}s3:::<B>/reports/${{Stage}}/*",)
    join = {
        "Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]],
    }
    assert _rendered(tmp_path, join, bucket) == (f"{P}s3:::<B>/*",)
    cdk_join = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "B"}]]}
    assert _rendered(tmp_path, cdk_join, bucket) == (f"{P}s3:::<B>",)


def test_a_name_set_by_an_intrinsic_is_the_name_and_split_keeps_placeholders(
    tmp_path: Path,
) -> None:
    table = {
        "T": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-items"}},
        }
    }
    arn = {"Fn::GetAtt": ["T", "Arn"]}
    assert _rendered(tmp_path, arn, table) == (f"{P}dynamodb{RA}table/${{AWS::StackName}}-items",)
    # CDK's Fn::Select/Fn::Split over an ARN never cuts ${AWS::Partition} apart
    select = {"Fn::Select": [1, {"Fn::Split": [":", arn]}]}
    assert _rendered(tmp_path, select, table) == ("${AWS::Partition}",)
    name = {"Fn::Select": [1, {"Fn::Split": ["/", arn]}]}
    assert _rendered(tmp_path, name, table) == ("${AWS::StackName}-items",)


def test_an_alias_arn_is_its_function_arn_and_alias_name(tmp_path: Path) -> None:
    others = {
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Live": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {"FunctionName": {"Ref": "Fn"}, "Name": "live"},
        },
    }
    assert _rendered(tmp_path, {"Ref": "Live"}, others) == (f"{P}lambda{RA}function:<Fn>:live",)


# -- cross-stack references -------------------------------------------------------------------


def _assembly(tmp_path: Path, consumer_resource: Any, *, stack_name: str = "Producer") -> Path:
    """A cloud assembly of two stacks: Producer exports its queue's ARN and outputs it."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    producer = {
        "Resources": {"Q63C6E3AB": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "ExportsOutputFnGetAttQ63C6E3ABArnA626E96F": {
                "Value": {"Fn::GetAtt": ["Q63C6E3AB", "Arn"]},
                "Export": {"Name": "Producer:ExportsOutputFnGetAttQ63C6E3ABArnA626E96F"},
            },
            "PublishOutputFnGetAttQ63C6E3ABArnEB28ABAC": {
                "Value": {"Fn::GetAtt": ["Q63C6E3AB", "Arn"]}
            },
        },
    }
    consumer = {"Resources": {"R": _role(consumer_resource)}}
    artifacts = {}
    for artifact, body in (("Producer", producer), ("Consumer", consumer)):
        (out / f"{artifact}.template.json").write_text(json.dumps(body))
        artifacts[artifact] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/eu-west-1",
            "properties": {
                "templateFile": f"{artifact}.template.json",
                "stackName": stack_name if artifact == "Producer" else artifact,
            },
        }
    (out / "manifest.json").write_text(json.dumps({"version": "41.0.0", "artifacts": artifacts}))
    return out


# Shown in Consumer, Producer's ${AWS::Region} and ${AWS::AccountId} would read as Consumer's: the
# manifest's environment of Producer says them.
QUEUE_OF_PRODUCER = f"{P}sqs:eu-west-1:111111111111:<Producer/Q63C6E3AB>"


def test_import_value_of_another_stack_of_the_assembly_is_followed(tmp_path: Path) -> None:
    imported = {"Fn::ImportValue": "Producer:ExportsOutputFnGetAttQ63C6E3ABArnA626E96F"}
    (grant,) = _principals(_assembly(tmp_path, imported))["R"].grants
    assert grant.resources == (QUEUE_OF_PRODUCER,)
    assert "unresolved resource" not in grant.flags


def test_get_stack_output_weak_reference_is_followed_by_the_manifest_stack_name(
    tmp_path: Path,
) -> None:
    weak = {
        "Fn::GetStackOutput": {
            "StackName": "prod-producer",
            "Region": "eu-west-1",
            "OutputName": "PublishOutputFnGetAttQ63C6E3ABArnEB28ABAC",
        }
    }
    path = _assembly(tmp_path, weak, stack_name="prod-producer")
    (grant,) = _principals(path)["R"].grants
    assert grant.resources == (QUEUE_OF_PRODUCER,)
    assert "unresolved resource" not in grant.flags


def test_a_reference_to_a_stack_not_given_stays_unresolved(tmp_path: Path) -> None:
    weak = {"Fn::GetStackOutput": {"StackName": "Elsewhere", "OutputName": "Out"}}
    (grant,) = _principals(_assembly(tmp_path, weak))["R"].grants
    assert grant.resources == ("<unresolved Fn::GetStackOutput Elsewhere.Out>",)
    assert "unresolved resource" in grant.flags


def test_cdk_cross_region_reference_is_followed_to_the_export_writer(tmp_path: Path) -> None:
    path_name = "/cdk/exports/Consumer/Produceruseast1FnGetAttQ63C6E3ABArnE2104D7A"
    out = _assembly(tmp_path, {"Fn::GetAtt": ["ExportsReader8B249524", path_name]})
    producer = json.loads((out / "Producer.template.json").read_text())
    producer["Resources"]["ExportsWriter"] = {
        "Type": "Custom::CrossRegionExportWriter",
        "Properties": {
            "WriterProps": {"exports": {path_name: {"Fn::GetAtt": ["Q63C6E3AB", "Arn"]}}}
        },
    }
    (out / "Producer.template.json").write_text(json.dumps(producer))
    consumer = json.loads((out / "Consumer.template.json").read_text())
    consumer["Resources"]["ExportsReader8B249524"] = {"Type": "Custom::CrossRegionExportReader"}
    (out / "Consumer.template.json").write_text(json.dumps(consumer))
    (grant,) = _principals(out)["R"].grants
    assert grant.resources == (QUEUE_OF_PRODUCER,)


def test_import_value_across_two_template_files_is_followed() -> None:
    role = _principals(ORDERS_YAML, SHARED_YAML)["OrdersRole"]
    (grant,) = [g for g in role.grants if g.action == "sns:Publish"]
    assert grant.resources == (f"{P}sns{RA}shared-alarms",)


# -- honest report ------------------------------------------------------------------------------


def test_flag_count_counts_the_flagged_lines_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["sqs:Send*", "sqs:Receive*", "sqs:Delete*"],
        "Resource": "*",
    }
    role = _role("*")
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] = [statement]
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"Resources": {"R": role}}))
    text = run(capsys, "permissions", path).out
    assert "role R  [1 flagged]" in text
    assert text.count("! wildcard action") == 1


def _naked(text: str, logical_ids: list[str]) -> list[str]:
    """Logical ids shown outside `<...>` on the report's resource and principal lines."""
    lines = [
        line
        for line in text.splitlines()
        if line.strip().startswith(("on ", "when "))
        or (line.startswith("    ") and ": " in line)  # a principal of a resource policy
    ]
    bare = re.sub(r"<[^<>]*>", "", "\n".join(lines))
    return [lid for lid in logical_ids if re.search(rf"\b{re.escape(lid)}\b", bare)]


def test_no_logical_id_poses_as_a_name_in_the_assembly_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = run(capsys, "permissions", ASSEMBLY).out
    (template,) = ASSEMBLY.glob("*.template.json")
    logical_ids = list(json.loads(template.read_text())["Resources"])
    assert _naked(text, logical_ids) == []
    assert "unresolved" not in text.split("code against grants")[0].replace(
        "<unresolved ...>: not determined", ""
    )
    assert "arn:aws:" not in text  # the template writes ${AWS::Partition}: so does the report
