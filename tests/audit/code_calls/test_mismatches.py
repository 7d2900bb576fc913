"""The table of SDK methods whose IAM action differs from their name: one test per entry, and
every action in it exists in the Service Authorization Reference."""

from __future__ import annotations

import pytest

from secure_constructs.audit.code_calls import sdk
from secure_constructs.audit.code_calls.mismatches import MISMATCHES

EXPECTED = {
    ("s3", "list_objects"): {"s3:ListBucket"},
    ("s3", "list_objects_v2"): {"s3:ListBucket"},
    ("s3", "list_object_versions"): {"s3:ListBucketVersions"},
    ("s3", "head_bucket"): {"s3:ListBucket"},
    ("s3", "head_object"): {"s3:GetObject"},
    ("s3", "delete_objects"): {"s3:DeleteObject"},
    ("s3", "copy_object"): {"s3:GetObject", "s3:PutObject"},
    ("s3", "create_multipart_upload"): {"s3:PutObject"},
    ("s3", "upload_part"): {"s3:PutObject"},
    ("s3", "complete_multipart_upload"): {"s3:PutObject"},
    ("s3", "list_multipart_uploads"): {"s3:ListBucketMultipartUploads"},
    ("s3", "list_parts"): {"s3:ListMultipartUploadParts"},
    ("s3", "upload_file"): {"s3:PutObject", "s3:AbortMultipartUpload"},
    ("s3", "upload_fileobj"): {"s3:PutObject", "s3:AbortMultipartUpload"},
    ("s3", "download_file"): {"s3:GetObject"},
    ("s3", "download_fileobj"): {"s3:GetObject"},
    ("s3", "copy"): {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"},
    ("dynamodb", "batch_writer"): {"dynamodb:BatchWriteItem"},
    ("sqs", "send_message_batch"): {"sqs:SendMessage"},
    ("sqs", "delete_message_batch"): {"sqs:DeleteMessage"},
    ("sqs", "change_message_visibility_batch"): {"sqs:ChangeMessageVisibility"},
    ("sns", "publish_batch"): {"sns:Publish"},
    ("lambda", "invoke"): {"lambda:InvokeFunction"},
    ("lambda", "invoke_with_response_stream"): {"lambda:InvokeFunction"},
    ("apigatewaymanagementapi", "post_to_connection"): {"execute-api:ManageConnections"},
    ("apigatewaymanagementapi", "get_connection"): {"execute-api:ManageConnections"},
    ("apigatewaymanagementapi", "delete_connection"): {"execute-api:ManageConnections"},
}


def test_every_entry_has_a_test() -> None:
    assert set(EXPECTED) == set(MISMATCHES)


@pytest.mark.parametrize(("service", "method"), sorted(EXPECTED))
def test_mismatch_maps_to_existing_actions(service: str, method: str) -> None:
    mapping = sdk.client_call(service, method)
    assert set(mapping.actions) == EXPECTED[(service, method)]
    for action in mapping.actions:
        prefix, name = action.split(":")
        assert sdk.iam_action(prefix, name) == action, f"{action} is not in the SAR"


@pytest.mark.parametrize(
    ("service", "method", "action"),
    [
        ("dynamodb", "put_item", "dynamodb:PutItem"),
        ("secretsmanager", "get_secret_value", "secretsmanager:GetSecretValue"),
        ("cloudwatch", "put_metric_data", "cloudwatch:PutMetricData"),  # endpoint "monitoring"
        ("stepfunctions", "start_execution", "states:StartExecution"),
        ("sqs", "receive_message", "sqs:ReceiveMessage"),
        ("events", "put_events", "events:PutEvents"),
    ],
)
def test_the_rest_comes_from_the_data(service: str, method: str, action: str) -> None:
    assert sdk.client_call(service, method).actions == (action,)
