"""Loading templates and cloud assemblies, and every kind of bad input (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_constructs.audit.sources import InputError, load
from tests.audit.helpers import (
    ASSEMBLY,
    ORDERS_JSON,
    ORDERS_YAML,
    TEMPLATES,
    assert_one_line_error,
    run,
)

MINIMAL = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def test_yaml_short_tags_decode_to_the_same_template_as_the_json() -> None:
    yaml_body = load([ORDERS_YAML]).stacks[0].body
    json_body = load([ORDERS_JSON]).stacks[0].body
    assert json.loads(json.dumps(yaml_body)) == json_body
    role = yaml_body["Resources"]["OrdersFunction"]["Properties"]["Role"]
    assert role == {"Fn::GetAtt": ["OrdersRole", "Arn"]}
    table = yaml_body["Resources"]["OrdersTable"]["Properties"]["TableName"]
    assert table == {"Fn::Sub": "orders-${Stage}"}


def test_a_directory_of_templates_loads_each_template_and_skips_other_json(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "not-a-template"}')
    (tmp_path / "api.template.json").write_text(json.dumps(MINIMAL))
    (tmp_path / "notes.yaml").write_text("just: notes\n")
    stacks = load([tmp_path]).stacks
    assert [s.name for s in stacks] == ["api"]


def test_a_cloud_assembly_brings_acknowledgements_logical_ids_and_the_validation_report() -> None:
    inputs = load([ASSEMBLY])
    (stack,) = inputs.stacks
    assert stack.name == "AuditFixture"
    assert stack.logical_id_of("AuditFixture/NightlyExport") == "NightlyExportB8EB8125"
    acks = {(a.rule_id, a.at) for a in inputs.acknowledgements}
    assert ("SecureServerless::LambdaTimeout", "AuditFixture/NightlyExport") in acks
    assert ("AwsSolutions::AwsSolutions-IAM4", "AuditFixture/NightlyExport") in acks
    assert {"AwsSolutions", "Serverless", "SecureServerless"} <= inputs.plugins_run
    open_nag = [r for r in inputs.plugin_results if r.acknowledged_id is None]
    assert ("AwsSolutions", "AwsSolutions-SMG4") in {(r.pack, r.rule_name) for r in open_nag}


def test_nested_stack_templates_of_an_assembly_are_audited_too(tmp_path: Path) -> None:
    for name in ("manifest.json", "AuditFixture.template.json", "AuditFixture.metadata.json"):
        (tmp_path / name).write_bytes((ASSEMBLY / name).read_bytes())
    nested = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}
    (tmp_path / "AuditFixtureWorkers1A2B3C4D.nested.template.json").write_text(json.dumps(nested))
    names = [s.name for s in load([tmp_path]).stacks]
    assert names == ["AuditFixture", "AuditFixtureWorkers1A2B3C4D"]


def test_same_named_templates_are_told_apart_by_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for sub in ("a", "b"):
        (tmp_path / sub / "app.json").write_text(json.dumps(MINIMAL))
    names = [
        s.name for s in load([tmp_path / "a" / "app.json", tmp_path / "b" / "app.json"]).stacks
    ]
    assert len(set(names)) == 2


# -- bad input -------------------------------------------------------------------------------


def test_fails_when_the_path_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.json"
    for command in ("audit", "permissions", "cost"):
        assert_one_line_error(run(capsys, command, missing), str(missing), "no such file")


def test_fails_when_a_directory_is_no_assembly_and_holds_no_templates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "package.json").write_text('{"name": "x"}')
    result = run(capsys, "audit", tmp_path)
    assert_one_line_error(result, "not a cloud assembly", "holds no CloudFormation templates")


def test_fails_when_a_file_is_neither_json_nor_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"Resources": {')
    assert_one_line_error(run(capsys, "audit", broken_json), "not valid JSON")
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("Resources:\n  Topic: [unclosed\n")
    assert_one_line_error(run(capsys, "audit", broken_yaml), "not valid JSON or YAML")


def test_fails_when_a_file_is_binary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "template.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    assert_one_line_error(run(capsys, "cost", binary), "not a text file")


def test_fails_when_a_file_is_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n")
    assert_one_line_error(run(capsys, "audit", empty), "empty")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"name": "my-package", "version": "1.0.0"}', "no Resources mapping"),
        ("- just\n- a list\n", "top level is not a mapping"),
        ('{"Resources": {"Topic": {"Properties": {}}}}', "resource Topic has no Type"),
        ('{"Resources": ["not", "a", "mapping"]}', "no Resources mapping"),
    ],
)
def test_fails_when_a_file_is_not_a_cloudformation_template(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "thing.yaml"
    path.write_text(content)
    assert_one_line_error(run(capsys, "permissions", path), "not a CloudFormation template", why)


def test_fails_when_a_file_is_unreadable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(MINIMAL))
    original = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert_one_line_error(run(capsys, "audit", path), "cannot read", "Permission denied")


def test_fails_when_the_format_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(run(capsys, "audit", ORDERS_JSON, "--format", "pdf"), "--format", "pdf")
    assert_one_line_error(run(capsys, "cost", ORDERS_JSON, "--format", "sarif"), "--format")
    assert_one_line_error(run(capsys, "audit", ORDERS_JSON, "--fail-on", "sometimes"), "--fail-on")


def test_fails_when_the_command_or_the_paths_are_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert_one_line_error(run(capsys, "inspect", ORDERS_JSON), "inspect")
    assert_one_line_error(run(capsys, "audit"), "PATH")
    assert_one_line_error(run(capsys))


def test_fails_when_the_assembly_manifest_is_broken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    assert_one_line_error(run(capsys, "audit", tmp_path), "manifest", "not valid JSON")
    (tmp_path / "manifest.json").write_text('{"version": "55.0.0"}')
    assert_one_line_error(run(capsys, "audit", tmp_path), "not a cloud assembly manifest")


def test_fails_when_the_assembly_names_a_missing_template(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.json"}}
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(run(capsys, "audit", tmp_path), "App.json", "cannot read")


def test_fails_when_the_validation_report_is_not_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("manifest.json", "AuditFixture.template.json", "AuditFixture.metadata.json"):
        (tmp_path / name).write_bytes((ASSEMBLY / name).read_bytes())
    (tmp_path / "validation-report.json").write_text('{"title": "something else"}')
    assert_one_line_error(run(capsys, "audit", tmp_path), "not a CDK validation report")


def test_fails_when_the_output_cannot_be_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "report.sarif"
    result = run(capsys, "audit", ORDERS_JSON, "--format", "sarif", "--output", target)
    assert_one_line_error(result, "cannot write the report")


def test_fails_when_max_timeout_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(run(capsys, "audit", ORDERS_JSON, "--max-timeout", "0"), "--max-timeout")


def test_load_refuses_an_empty_path_list() -> None:
    with pytest.raises(InputError, match="no PATH"):
        load([])


def test_directory_listing_of_the_fixture_templates_loads_every_template() -> None:
    names = sorted(s.uri.rsplit("/", 1)[-1] for s in load([TEMPLATES]).stacks)
    assert names == [
        "api_overrides.yaml",
        "function.yaml",
        "orders.json",
        "orders.yaml",
        "shared.yaml",
        "waf_bypasses.yaml",
        "workflow_bad.yaml",
        "workflow_ok.yaml",
    ]  # sam/ too


def test_yaml_short_forms_dates_and_key_lines_read_as_cloudformation_does() -> None:
    from secure_constructs.audit.sources import parse_template_text

    body = parse_template_text(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Role: !GetAtt FnRole.Arn\n      Name: !Sub '${AWS::StackName}-fn'\n"
        "      Both: !If [C, !Ref A, !Join ['', [a, !Ref B]]]\n      Version: 2012-10-17\n"
        "      When: !Condition IsProd\n",
        "t.yaml",
    )
    props = body["Resources"]["Fn"]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["FnRole", "Arn"]}
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-fn"}
    assert props["Both"] == {"Fn::If": ["C", {"Ref": "A"}, {"Fn::Join": ["", ["a", {"Ref": "B"}]]}]}
    assert props["Version"] == "2012-10-17"
    assert props["When"] == {"Condition": "IsProd"}
    (key,) = body["Resources"]
    assert key.start_mark.line == 1  # SARIF points at the resource's line


@pytest.mark.parametrize(
    "text",
    [
        "Resources:\n  A: {Type: AWS::SNS::Topic}\n  A: {Type: AWS::SNS::Topic}\n",
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Type: AWS::SQS::Queue\n",
    ],
)
def test_fails_when_a_yaml_key_is_given_twice(text: str) -> None:
    from secure_constructs.audit.sources import parse_template_text

    with pytest.raises(InputError, match=r"Duplicate found 'A'|Duplicate found 'Type'"):
        parse_template_text(text, "t.yaml")
