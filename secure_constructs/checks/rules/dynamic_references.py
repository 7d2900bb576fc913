"""A template-wide rule: secret dynamic references outside the properties AWS designed for them.

CloudFormation resolves `{{resolve:secretsmanager:...}}` and `{{resolve:ssm-secure:...}}` into
the property that holds them. In a master-password property that is the point; anywhere else
(an output, a tag, a stage variable, a state machine definition, a custom resource's
properties) the secret's value lands where the console, Describe APIs or logs show it.

Lambda environment variables are the LambdaEnvironmentSecret rule's (rules/lambda_.py), so
`AWS::Lambda::Function` `Properties/Environment` is skipped here: one finding per leak.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.secret_patterns import dynamic_reference

# (resource type) -> property paths designed to receive a secret ("*" is any one segment).
# A dynamic reference at or below one of these paths is what AWS recommends, not a leak.
DESIGNED_FOR_SECRETS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    # A database's credentials; CDK reads the user name from the same generated secret.
    "AWS::RDS::DBInstance": (
        ("MasterUsername",),
        ("MasterUserPassword",),
        ("TdeCredentialPassword",),
    ),
    "AWS::RDS::DBCluster": (("MasterUsername",), ("MasterUserPassword",)),
    "AWS::DocDB::DBCluster": (("MasterUsername",), ("MasterUserPassword",)),
    "AWS::DocDBElastic::Cluster": (("AdminUserName",), ("AdminUserPassword",)),
    "AWS::Redshift::Cluster": (("MasterUsername",), ("MasterUserPassword",)),
    "AWS::RedshiftServerless::Namespace": (("AdminUsername",), ("AdminUserPassword",)),
    "AWS::Lightsail::Database": (("MasterUsername",), ("MasterUserPassword",)),
    "AWS::ElastiCache::ReplicationGroup": (("AuthToken",),),
    "AWS::ElastiCache::User": (("Passwords",), ("AuthenticationMode", "Passwords")),
    "AWS::MemoryDB::User": (("AuthenticationMode", "Passwords"),),
    "AWS::IAM::User": (("LoginProfile", "Password"),),
    "AWS::DirectoryService::MicrosoftAD": (("Password",),),
    "AWS::DirectoryService::SimpleAD": (("Password",),),
    "AWS::AmazonMQ::Broker": (("Users", "*", "Password"),),
    "AWS::DMS::Endpoint": (("Username",), ("Password",)),
    "AWS::OpenSearchService::Domain": (("AdvancedSecurityOptions", "MasterUserOptions"),),
    "AWS::Elasticsearch::Domain": (("AdvancedSecurityOptions", "MasterUserOptions"),),
    "AWS::SecretsManager::Secret": (("SecretString",),),
    "AWS::KinesisFirehose::DeliveryStream": (
        ("RedshiftDestinationConfiguration", "Password"),
        ("SplunkDestinationConfiguration", "HECToken"),
        ("HttpEndpointDestinationConfiguration", "EndpointConfiguration", "AccessKey"),
    ),
    "AWS::Events::Connection": (("AuthParameters",),),
    "AWS::CodePipeline::Webhook": (("AuthenticationConfiguration", "SecretToken"),),
    "AWS::CodePipeline::Pipeline": (
        ("Stages", "*", "Actions", "*", "Configuration", "OAuthToken"),
    ),
    "AWS::CodeBuild::SourceCredential": (("Token",),),
    "AWS::Amplify::App": (("AccessToken",), ("OauthToken",), ("BasicAuthConfig", "Password")),
    "AWS::Amplify::Branch": (("BasicAuthConfig", "Password"),),
    "AWS::Cognito::UserPoolIdentityProvider": (("ProviderDetails", "client_secret"),),
    "AWS::OpsWorks::App": (("AppSource", "Password"), ("SslConfiguration",)),
    "AWS::OpsWorks::Stack": (("CustomCookbooksSource", "Password"),),
    "AWS::DataSync::LocationSMB": (("Password",),),
    "AWS::DataSync::LocationObjectStorage": (("SecretKey",),),
    "AWS::AppFlow::ConnectorProfile": (("ConnectorProfileConfig", "ConnectorProfileCredentials"),),
}

# Resource properties owned by another rule of the pack (one finding per leak).
_OWNED_ELSEWHERE: Mapping[str, tuple[str, ...]] = {
    "AWS::Lambda::Function": ("Environment",),  # LambdaEnvironmentSecret
}

# Why a few well-known places are dangerous, in the finding's words.
_WHERE: tuple[tuple[str | None, tuple[str, ...], str], ...] = (
    (None, ("Outputs",), "a stack output (shown by DescribeStacks and the console)"),
    (None, ("Parameters",), "a parameter (shown with the template and the stack's parameters)"),
    (None, ("Properties", "Tags"), "a tag (readable by anyone who can list or describe tags)"),
    (
        "AWS::ApiGateway::Stage",
        ("Properties", "Variables"),
        "an API Gateway stage variable (shown by GetStage and passed to integrations)",
    ),
    (
        "AWS::ApiGatewayV2::Stage",
        ("Properties", "StageVariables"),
        "an API Gateway stage variable (shown by GetStage and passed to integrations)",
    ),
    (
        "AWS::ApiGateway::Deployment",
        ("Properties", "StageDescription", "Variables"),
        "an API Gateway stage variable (shown by GetStage and passed to integrations)",
    ),
    (
        "AWS::StepFunctions::StateMachine",
        ("Properties",),
        "a Step Functions definition (shown by DescribeStateMachine and in execution history)",
    ),
    (
        "AWS::CloudFormation::CustomResource",
        ("Properties",),
        "a custom resource's properties (sent to and often logged by its provider)",
    ),
)


@rule(
    "SecretDynamicReference",
    granular=True,
    practice=Practice.SECRETS,
    summary="A secret dynamic reference is resolved into a place that shows it",
    explanation=(
        "CloudFormation resolves {{resolve:secretsmanager:...}} and {{resolve:ssm-secure:...}} "
        "into the property that holds them. Properties designed for secrets (a database's "
        "master password, an Events connection's auth parameters, ...) keep the value hidden; "
        "anywhere else it is shown: stack outputs, tags, parameter defaults, API Gateway stage "
        "variables, Step Functions definitions, custom resource properties. Lambda environment "
        "variables are reported by LambdaEnvironmentSecret."
    ),
)
def secret_dynamic_reference(t: Template) -> Iterator[Violation]:
    """Every string holding a secret dynamic reference outside an allow-listed property."""
    fix = (
        "pass the secret's ARN (or name) instead and read the value at runtime "
        "(SecureFunction(secrets={...}), or the service's own Secrets Manager integration)"
    )
    for section in ("Outputs", "Parameters", "Mappings", "Conditions", "Rules", "Metadata"):
        entries = t.body.get(section)
        if not isinstance(entries, Mapping):
            continue
        for name, entry in entries.items():
            for path, kind in _references(entry, ()):
                where = _where(None, (section, *path)) or f"the template's {section} section"
                yield Violation(
                    str(name),
                    "/".join((section, str(name), *path)),
                    f"a {{{{resolve:{kind}:...}}}} reference is in {where}",
                    fix,
                    finding_id="/".join((section, *path)) if path else section,
                )
    for logical_id, resource in t.resources.items():
        if not isinstance(resource, Mapping):
            continue
        type_ = resource.get("Type")
        type_ = type_ if isinstance(type_, str) else ""
        for top in ("Properties", "Metadata"):
            for path, kind in _references(resource.get(top), ()):
                if top == "Properties" and (
                    _designed(type_, path) or _owned_elsewhere(type_, path)
                ):
                    continue
                full = (top, *path)
                where = _where(type_, full) or f"{type_} {'/'.join(full)}, not a secret property"
                yield Violation(
                    logical_id,
                    "/".join(full),
                    f"a {{{{resolve:{kind}:...}}}} reference is in {where}",
                    fix,
                    finding_id="/".join(full),
                )


def _references(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, kind) of every string below `value` holding a secret dynamic reference."""
    if isinstance(value, str):
        kind = dynamic_reference(value)
        if kind:
            yield path, kind
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _references(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, (*path, str(index)))


def _matches(path: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether `path` is at or below `pattern` ("*" matches one segment)."""
    return len(path) >= len(pattern) and all(
        p == "*" or p == segment for p, segment in zip(pattern, path, strict=False)
    )


def _designed(type_: str, path: Sequence[str]) -> bool:
    return any(_matches(path, pattern) for pattern in DESIGNED_FOR_SECRETS.get(type_, ()))


def _owned_elsewhere(type_: str, path: Sequence[str]) -> bool:
    return bool(path) and path[0] in _OWNED_ELSEWHERE.get(type_, ())


def _where(type_: str | None, path: Sequence[str]) -> str | None:
    for where_type, pattern, words in _WHERE:
        custom = type_ is not None and type_.startswith("Custom::")
        type_matches = (
            where_type is None
            or where_type == type_
            or (custom and where_type == "AWS::CloudFormation::CustomResource")
        )
        if type_matches and _matches(path, pattern):
            return words
    return None


RULES = (secret_dynamic_reference,)
