"""Powertools for AWS Lambda (Python) utilities that call AWS, and the actions they need.

From Powertools' documentation: Parameters ("IAM permissions" table: ssm:GetParameter,
ssm:GetParameters, ssm:GetParametersByPath, secretsmanager:GetSecretValue, dynamodb:GetItem,
dynamodb:Query, appconfig:GetLatestConfiguration + StartConfigurationSession) and Idempotency
(the DynamoDB persistence layer needs GetItem, PutItem, UpdateItem and DeleteItem on its table).
The Batch utility returns partial failures to Lambda and calls no AWS API itself.
"""

from __future__ import annotations

_PARAMS = "aws_lambda_powertools.utilities.parameters"

# Canonical function name -> actions. The first argument names the resource.
FUNCTIONS: dict[str, tuple[str, ...]] = {
    f"{_PARAMS}.get_secret": ("secretsmanager:GetSecretValue",),
    f"{_PARAMS}.set_secret": ("secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"),
    f"{_PARAMS}.get_parameter": ("ssm:GetParameter",),
    f"{_PARAMS}.get_parameters": ("ssm:GetParametersByPath",),
    f"{_PARAMS}.get_parameters_by_name": ("ssm:GetParameters", "ssm:GetParameter"),
    f"{_PARAMS}.set_parameter": ("ssm:PutParameter",),
    f"{_PARAMS}.get_app_config": (
        "appconfig:StartConfigurationSession",
        "appconfig:GetLatestConfiguration",
    ),
}
for _name in list(FUNCTIONS):
    # the same functions under their defining modules
    short = _name.rsplit(".", 1)[1]
    module = {"get_secret": "secrets", "set_secret": "secrets", "get_app_config": "appconfig"}.get(
        short, "ssm"
    )
    FUNCTIONS[f"{_PARAMS}.{module}.{short}"] = FUNCTIONS[_name]

# Provider classes: method -> actions; `resource_arg` is the constructor keyword naming a table.
PROVIDERS: dict[str, dict[str, tuple[str, ...]]] = {
    f"{_PARAMS}.SecretsProvider": {"get": ("secretsmanager:GetSecretValue",)},
    f"{_PARAMS}.SSMProvider": {
        "get": ("ssm:GetParameter",),
        "get_multiple": ("ssm:GetParametersByPath",),
        "get_parameters_by_name": ("ssm:GetParameters", "ssm:GetParameter"),
        "set": ("ssm:PutParameter",),
    },
    f"{_PARAMS}.DynamoDBProvider": {
        "get": ("dynamodb:GetItem",),
        "get_multiple": ("dynamodb:Query",),
    },
    f"{_PARAMS}.AppConfigProvider": {
        "get": ("appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"),
    },
}
# Provider constructors whose keyword names the resource their methods act on.
PROVIDER_RESOURCE_ARG = {f"{_PARAMS}.DynamoDBProvider": "table_name"}

_IDEMPOTENCY = "aws_lambda_powertools.utilities.idempotency"
# Constructing these is what grants are needed for: they act on the table they are given.
PERSISTENCE: dict[str, tuple[str, ...]] = {
    f"{_IDEMPOTENCY}.DynamoDBPersistenceLayer": (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
}
for _name in list(PERSISTENCE):
    PERSISTENCE[f"{_IDEMPOTENCY}.persistence.dynamodb.DynamoDBPersistenceLayer"] = PERSISTENCE[
        _name
    ]

# Utilities known to make no AWS call (so their use is not "unresolved").
NO_CALLS_PREFIXES = (
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.validation",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
)
