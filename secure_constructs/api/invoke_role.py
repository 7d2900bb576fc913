"""The role API Gateway assumes to invoke a SecureApi's functions: one role per API, its
`lambda:InvokeFunction` grants packed into customer-managed policies that stay under IAM's
size and count limits."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from secure_constructs.errors import ValidationError
from secure_constructs.validation import is_token_string

MANAGED_POLICY_MAX_CHARACTERS = 6144
"""IAM's limit on a customer-managed policy document (whitespace not counted)."""
MAX_INVOKE_POLICIES = 10
"""IAM's default quota of managed policies attached to one role (the invoke role's)."""
INVOKE_POLICY_BUDGET = MANAGED_POLICY_MAX_CHARACTERS - 200
"""Characters an invoke policy spends on function ARNs: the rest of its document,
`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction",
"Resource":[...]}]}`, is about 100 characters; the other 100 are margin."""
MAX_UNQUALIFIED_FUNCTION_ARN = len("arn::lambda::123456789012:function:") + 10 + 20 + 64
"""The longest ARN a function with a generated name can get at deploy time (129): partition
up to 10 characters (aws-us-gov), region up to 20, and Lambda's 64-character name limit, which
CloudFormation's generated names reach."""
MAX_FUNCTION_QUALIFIER = 128
"""Lambda's limit on an alias name (a version number is far shorter)."""
MAX_VERSION_QUALIFIER = 10
FUNCTIONS_PER_INVOKE_POLICY = INVOKE_POLICY_BUDGET // (MAX_UNQUALIFIED_FUNCTION_ARN + 3)
"""How many functions with generated names (unqualified ARNs) one invoke policy holds: 45.
Each ARN costs its length plus 3 (quotes and comma); aliases with long names, versions and
imported functions whose ARN is a token cost more (their longest possible ARN is counted),
literal ARNs exactly their length."""


class ApiInvokeRole(iam.Role):
    """The role API Gateway assumes to invoke the Lambda functions routed by one SecureApi.

    Trusted by `apigateway.amazonaws.com`; `grant_invoke(handler)` allows
    `lambda:InvokeFunction` on exactly the handler's ARN, in customer-managed policies created
    beside the role (the API's children `InvokePolicy`, `InvokePolicy2`, ...: their construct
    ids are part of the public contract), a new one every FUNCTIONS_PER_INVOKE_POLICY
    functions with generated names and at most MAX_INVOKE_POLICIES. `stage` depends on every
    policy: it serves requests only once the role may invoke their functions.

    The trust policy has no `aws:SourceArn` / `aws:SourceAccount` condition (AWS does not
    document API Gateway sending them when it assumes integration credentials): `iam:PassRole`
    on the role is what restricts who can make an integration use it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: IConstruct) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description=(
                "API Gateway assumes this role to invoke the Lambda functions routed "
                "by one SecureApi (secure-constructs)"
            ),
        )
        self._policy_scope = scope
        self._stage = stage
        self.policies: list[iam.ManagedPolicy] = []
        """`lambda:InvokeFunction` on the routed function ARNs, in order."""
        self._invoked_arns: set[str] = set()
        self._statement: iam.PolicyStatement | None = None
        self._characters = 0

    def grant_invoke(self, handler: lambda_.IFunction, arn: str | None = None) -> None:
        """Allow the role to invoke `handler` (its ARN `arn`, read from the handler when not
        given), once; refuse when the role's policies are full."""
        arn = handler.function_arn if arn is None else arn
        if arn in self._invoked_arns:
            return
        cost = arn_cost(handler, arn)
        statement = self._statement
        if statement is None or self._characters + cost > INVOKE_POLICY_BUDGET:
            statement = self._add_policy(handler)
        statement.add_resources(arn)
        self._characters += cost
        self._invoked_arns.add(arn)

    def _add_policy(self, handler: lambda_.IFunction) -> iam.PolicyStatement:
        if len(self.policies) >= MAX_INVOKE_POLICIES:
            raise ValidationError(
                "handler",
                handler.node.path,
                f"at most {MAX_INVOKE_POLICIES} invoke policies on the API's invoke role "
                f"(IAM's default limit of managed policies per role), i.e. about "
                f"{MAX_INVOKE_POLICIES * FUNCTIONS_PER_INVOKE_POLICY} distinct functions "
                f"with generated names ({len(self._invoked_arns)} routed so far)",
                "route more paths to the functions already behind this API, or split the "
                "routes over a second SecureApi",
            )
        statement = iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[])
        number = len(self.policies) + 1
        policy = iam.ManagedPolicy(
            self._policy_scope,
            "InvokePolicy" if number == 1 else f"InvokePolicy{number}",
            description=f"Lets API Gateway invoke the functions routed by one SecureApi ({number})",
            roles=[self],
            statements=[statement],
        )
        self._stage.node.add_dependency(policy)
        self.policies.append(policy)
        self._statement = statement
        self._characters = 0
        return statement


def arn_cost(handler: lambda_.IFunction, arn: str) -> int:
    """The most characters the handler's ARN can take in an invoke policy (quotes and comma
    included): a literal ARN its length; a token the longest ARN the handler can get at deploy."""
    if not is_token_string(arn):
        return len(arn) + 3
    if isinstance(handler, lambda_.Function):
        return MAX_UNQUALIFIED_FUNCTION_ARN + 3
    qualifier = MAX_FUNCTION_QUALIFIER  # an imported function may be an alias
    if isinstance(handler, lambda_.Version):
        qualifier = MAX_VERSION_QUALIFIER
    elif isinstance(handler, lambda_.Alias) and not cdk.Token.is_unresolved(handler.alias_name):
        qualifier = len(handler.alias_name)
    return MAX_UNQUALIFIED_FUNCTION_ARN + 1 + qualifier + 3
