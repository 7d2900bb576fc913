"""The event path: SQS ItemImports -> ImportItems, with failures bounded and kept."""

from __future__ import annotations

from tests.infra.conftest import Synth


def test_import_queue_redrives_to_the_dead_letter_queue_after_three_receives(
    synth: Synth,
) -> None:
    queue = synth.logical_id("AWS::SQS::Queue", "ItemImports/Resource")
    dlq = synth.logical_id("AWS::SQS::Queue", "SecureConstructsDeadLetterQueue/Resource")
    props = synth.template["Resources"][queue]["Properties"]
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": 3,
    }
    key = synth.logical_id("AWS::KMS::Key", "SecureConstructsKey/Resource")
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}


def test_import_queue_hides_a_message_for_six_function_timeouts(synth: Synth) -> None:
    queue = synth.logical_id("AWS::SQS::Queue", "ItemImports/Resource")
    function = synth.logical_id("AWS::Lambda::Function", "ImportItems/Resource")
    timeout = synth.template["Resources"][function]["Properties"]["Timeout"]
    visibility = synth.template["Resources"][queue]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * timeout


def test_import_mapping_reports_item_failures_with_bounded_concurrency(synth: Synth) -> None:
    (mapping,) = synth.resources("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    function = synth.logical_id("AWS::Lambda::Function", "ImportItems/Resource")
    queue = synth.logical_id("AWS::SQS::Queue", "ItemImports/Resource")
    assert props["FunctionName"] == {"Ref": function}
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_import_items_may_only_put_items_and_read_its_queue(synth: Synth) -> None:
    assert synth.actions("ImportItems", "dynamodb:") == {"dynamodb:PutItem"}
    assert synth.actions("ImportItems", "secretsmanager:") == set()
    queue = synth.logical_id("AWS::SQS::Queue", "ItemImports/Resource")
    receive = [
        s for s in synth.role_statements("ImportItems") if "sqs:ReceiveMessage" in s["Action"]
    ]
    assert receive and all(s["Resource"] == [{"Fn::GetAtt": [queue, "Arn"]}] for s in receive)
