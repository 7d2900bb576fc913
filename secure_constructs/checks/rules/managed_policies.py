"""IAMManagedPolicy: AWS managed policies attached to a role, user or group.

AWS managed policies are written for every account, so they grant on `Resource: "*"` (every
table, every log group, every bucket); `AmazonDynamoDBFullAccess` lets a function delete any
table in the account. A SAM template attaches them by name (`Policies: [AmazonDynamoDBFullAccess]`,
and SAM's own `AWSLambdaBasicExecutionRole`), which the translator turns into
`ManagedPolicyArns`; a plain template names their ARNs. Their documents are not in the template,
so no rule reading policy statements sees what they grant: this rule names each one.
SAM policy templates (`DynamoDBCrudPolicy: {TableName: ...}`) expand into inline policies,
which the statement rules (IAMWildcard ...) judge instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from secure_constructs.checks.cfn import UNKNOWN, as_list, renderings
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule

PRINCIPAL_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
# `arn:<partition>:iam::aws:policy/<path/>Name`: the account `aws` owns AWS managed policies.
_AWS_MANAGED = re.compile(r"^arn:[^:]*:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
# Policies granting every action of a service, or of the account: an error, not a warning.
_FULL_ACCESS = re.compile(r"FullAccess|^AdministratorAccess|^PowerUserAccess")
DEPLOY_TIME = "DeployTimeName"
"""The finding id's name for an AWS managed policy named by a parameter: an error (fail closed,
it can be AdministratorAccess)."""


def aws_managed_policy(arn: object) -> str | None:
    """The name of the AWS managed policy an ARN (literal, Sub or Join) names, else None."""
    for text in renderings(arn):
        match = _AWS_MANAGED.match(text)
        if match:
            return match.group("name")
    return None


@rule(
    "IAMManagedPolicy",
    practice=Practice.LEAST_PRIVILEGE,
    applies_to=PRINCIPAL_TYPES,
    granular=True,
    summary="A role, user or group has an AWS managed policy attached (error for full-access "
    "and administrator policies)",
    explanation=(
        'AWS managed policies are written for every account: they grant on Resource "*", so a '
        "function with AmazonDynamoDBFullAccess can read and delete every table of the account, "
        "and AWSLambdaBasicExecutionRole lets it write to any log group. Their documents are "
        "not in the template, so no statement rule sees them. Full-access, administrator and "
        "power-user policies are errors; other AWS managed policies (read-only, execution "
        "roles) are warnings. SAM's Policies names become such ARNs after the transform."
    ),
)
def iam_managed_policy(t: Template) -> Iterator[Violation]:
    """Every AWS managed policy in a principal's ManagedPolicyArns."""
    for logical_id, props in t.of_type(*PRINCIPAL_TYPES):
        for index, arn in enumerate(as_list(props.get("ManagedPolicyArns"))):
            name = aws_managed_policy(arn)
            if name is None:
                continue  # a customer-managed policy: its statements are judged where defined
            chosen_later = UNKNOWN in name  # `.../policy/${Param}`: it may be any of them
            if chosen_later:
                name = DEPLOY_TIME
            full = chosen_later or _FULL_ACCESS.search(name) is not None
            yield Violation(
                logical_id,
                f"Properties/ManagedPolicyArns/{index}",
                (
                    "an AWS managed policy named only at deploy time is attached (it can be "
                    "AdministratorAccess)"
                    if chosen_later
                    else f"the AWS managed policy {name} is attached"
                    + (" (every action of its service, on every resource)" if full else "")
                )
                + ": it grants on every resource of its kind in the account",
                "replace it with a policy naming the actions and the resources: in CDK a "
                "grant_* call (table.grant_read_write_data(fn)); in SAM a policy template "
                "(DynamoDBCrudPolicy: {TableName: !Ref Table}) or a Statement with named ARNs",
                finding_id=f"Policy::{name}",
                severity=Severity.ERROR if full else Severity.WARNING,
            )


RULES = (iam_managed_policy,)
