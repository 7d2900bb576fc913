"""Where each resource type keeps its resource-based policy, and which policy-named properties
are not one.

A path is the property names from `Properties` to the policy document; `EACH` steps into every
item of a list (DynamoDB global table replicas), `JSON` parses a string (built by `Fn::Join`
too) as JSON and goes on inside it (CDK's Custom::OpenSearchAccessPolicy passes the domain's
access policy inside its SDK call). Names are checked against the CloudFormation resource
schemas cfn-lint bundles (tests/checks/test_resource_policy_coverage.py fails when a schema adds
a policy-named property that neither table lists).
"""

from __future__ import annotations

EACH = "[]"
"""A path step into every item of a list."""
JSON = "{}"
"""A path step that parses a JSON string and goes on inside it."""

_CDK_SDK_CALL = ("parameters", "AccessPolicies")

RESOURCE_POLICY_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::KMS::Key": (("KeyPolicy",),),
    "AWS::KMS::ReplicaKey": (("KeyPolicy",),),
    "AWS::PaymentCryptography::Key": (("Policy",),),
    "AWS::SecretsManager::ResourcePolicy": (("ResourcePolicy",),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument",),),
    "AWS::SNS::TopicInlinePolicy": (("PolicyDocument",),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument",),),
    "AWS::SQS::QueueInlinePolicy": (("PolicyDocument",),),
    "AWS::S3::BucketPolicy": (("PolicyDocument",),),
    "AWS::S3::AccessPoint": (("Policy",),),
    "AWS::S3::MultiRegionAccessPointPolicy": (("Policy",),),
    "AWS::S3Express::BucketPolicy": (("PolicyDocument",),),
    "AWS::S3Express::AccessPoint": (("Policy",),),
    "AWS::S3ObjectLambda::AccessPointPolicy": (("PolicyDocument",),),
    "AWS::S3Outposts::AccessPoint": (("Policy",),),
    "AWS::S3Outposts::BucketPolicy": (("PolicyDocument",),),
    "AWS::S3Tables::TableBucketPolicy": (("ResourcePolicy",),),
    "AWS::S3Tables::TablePolicy": (("ResourcePolicy",),),
    "AWS::S3Vectors::VectorBucketPolicy": (("Policy",),),
    "AWS::S3Files::FileSystemPolicy": (("Policy",),),
    # a REST API defined by an OpenAPI body (SAM's Auth.ResourcePolicy, an imported definition)
    # holds it in the x-amazon-apigateway-policy extension
    # (https://docs.aws.amazon.com/apigateway/latest/developerguide/openapi-extensions-policy.html)
    "AWS::ApiGateway::RestApi": (("Policy",), ("Body", "x-amazon-apigateway-policy")),
    "AWS::ApiGateway::DomainNameV2": (("Policy",),),
    "AWS::Logs::ResourcePolicy": (("PolicyDocument",),),
    "AWS::Logs::Destination": (("DestinationPolicy",),),
    "AWS::Logs::DeliveryDestination": (("DeliveryDestinationPolicy", "DeliveryDestinationPolicy"),),
    "AWS::Logs::LogGroup": (("ResourcePolicyDocument",),),
    "AWS::Events::EventBus": (("Policy",),),
    "AWS::EventsV2::ResourcePolicy": (("PolicyDocument",),),
    "AWS::EventSchemas::RegistryPolicy": (("Policy",),),
    "AWS::ECR::Repository": (("RepositoryPolicyText",),),
    "AWS::ECR::PublicRepository": (("RepositoryPolicyText",),),
    "AWS::ECR::RegistryPolicy": (("PolicyText",),),
    "AWS::ECR::RepositoryCreationTemplate": (("RepositoryPolicy",),),
    "AWS::DynamoDB::Table": (
        ("ResourcePolicy", "PolicyDocument"),
        ("StreamSpecification", "ResourcePolicy", "PolicyDocument"),
    ),
    "AWS::DynamoDB::GlobalTable": (
        ("Replicas", EACH, "ResourcePolicy", "PolicyDocument"),
        ("Replicas", EACH, "ReplicaStreamSpecification", "ResourcePolicy", "PolicyDocument"),
    ),
    "AWS::Kinesis::ResourcePolicy": (("ResourcePolicy",),),
    "AWS::Lambda::ResourcePolicy": (("PolicyDocument",),),
    "AWS::EFS::FileSystem": (("FileSystemPolicy",),),
    "AWS::OpenSearchService::Domain": (("AccessPolicies",),),
    "AWS::Elasticsearch::Domain": (("AccessPolicies",),),
    # CDK's opensearchservice.Domain(access_policies=...) writes the policy through an SDK call
    # (updateDomainConfig), not the domain's AccessPolicies
    "Custom::OpenSearchAccessPolicy": (
        ("Create", JSON, *_CDK_SDK_CALL),
        ("Update", JSON, *_CDK_SDK_CALL),
    ),
    "AWS::OSIS::Pipeline": (("ResourcePolicy", "Policy"),),
    "AWS::Backup::BackupVault": (("AccessPolicy",),),
    "AWS::Backup::LogicallyAirGappedBackupVault": (("AccessPolicy",),),
    "AWS::CodeArtifact::Domain": (("PermissionsPolicyDocument",),),
    "AWS::CodeArtifact::Repository": (("PermissionsPolicyDocument",),),
    "AWS::Glue::ResourcePolicy": (("PolicyInJson",),),
    "AWS::SSM::ResourcePolicy": (("Policy",),),
    "AWS::VpcLattice::AuthPolicy": (("Policy",),),
    "AWS::VpcLattice::ResourcePolicy": (("Policy",),),
    "AWS::MSK::ClusterPolicy": (("Policy",),),
    "AWS::CloudTrail::ResourcePolicy": (("ResourcePolicy",),),
    "AWS::APS::ResourcePolicy": (("PolicyDocument",),),
    "AWS::Bedrock::ResourcePolicy": (("PolicyDocument",),),
    "AWS::Bedrock::KnowledgeBasePolicy": (("PolicyDocument",),),
    "AWS::BedrockAgentCore::ResourcePolicy": (("Policy",),),
    "AWS::DSQL::Cluster": (("PolicyDocument",),),
    "AWS::Lex::ResourcePolicy": (("Policy",),),
    "AWS::MediaPackageV2::ChannelPolicy": (("Policy",),),
    "AWS::MediaPackageV2::OriginEndpointPolicy": (("Policy",),),
    "AWS::MediaStore::Container": (("Policy",),),
    "AWS::MediaTailor::ChannelPolicy": (("Policy",),),
    "AWS::Oam::Sink": (("Policy",),),
    "AWS::RUM::AppMonitor": (("ResourcePolicy", "PolicyDocument"),),
    "AWS::Redshift::Cluster": (("NamespaceResourcePolicy",),),
    "AWS::RedshiftServerless::Namespace": (("NamespaceResourcePolicy",),),
    "AWS::SageMaker::ModelPackageGroup": (("ModelPackageGroupPolicy",),),
    "AWS::SMSVOICE::ResourcePolicy": (("PolicyDocument",),),
    "AWS::XRay::ResourcePolicy": (("PolicyDocument",),),
    "AWS::AIOps::InvestigationGroup": (("InvestigationGroupPolicy",),),
}
"""Resource type -> every path to a resource-based policy document it holds."""

_IDENTITY = "an identity policy (what its holder may do), read by the IAM rules"
_SESSION = "a session policy: it only narrows what an assumed role may do"
_CONFIG = "a configuration setting named 'policy' (retention, retry, scaling, TLS ...), no grant"
_ENDPOINT = (
    "a VPC endpoint / Verified Access policy: it limits what passes through the endpoint and "
    "grants nothing by itself"
)
_OTHER_LANGUAGE = (
    "not an IAM policy document (its own rule language): not read yet, see README 'Not done yet'"
)

NOT_RESOURCE_POLICIES: dict[str, str] = {
    # identity policies and trust (read by the IAM and trust rules)
    "AWS::IAM::GroupPolicy.PolicyDocument": _IDENTITY,
    "AWS::IAM::ManagedPolicy.PolicyDocument": _IDENTITY,
    "AWS::IAM::Policy.PolicyDocument": _IDENTITY,
    "AWS::IAM::RolePolicy.PolicyDocument": _IDENTITY,
    "AWS::IAM::UserPolicy.PolicyDocument": _IDENTITY,
    "AWS::IAM::Role.AssumeRolePolicyDocument": "a trust policy, read by TrustPolicyOpen",
    "AWS::Serverless::Function.AssumeRolePolicyDocument": "a trust policy SAM copies to the role",
    "AWS::Serverless::Api.Policy": "SAM's Auth policy: read in the RestApi's OpenAPI body",
    "AWS::SSO::PermissionSet.InlinePolicy": _IDENTITY,
    "AWS::Serverless::Function.Policies": "SAM's policies for the function's role: " + _IDENTITY,
    "AWS::Serverless::StateMachine.Policies": "SAM's policies for the machine's role: " + _IDENTITY,
    "AWS::Events::ApiDestination.ArnForPolicy": "an ARN output to use in a policy, no policy",
    "AWS::Events::Connection.ArnForPolicy": "an ARN output to use in a policy, no policy",
    "AWS::EKS::Cluster.UpgradePolicy": _CONFIG,
    "AWS::IoT::Policy.PolicyDocument": "an IoT policy attached to certificates (an identity)",
    "AWS::EKS::PodIdentityAssociation.Policy": _SESSION,
    "AWS::RolesAnywhere::Profile.SessionPolicy": _SESSION,
    "AWS::Transfer::User.Policy": _SESSION,
    "AWS::ODB::OdbNetwork.KmsPolicyDocument": "a policy ODB applies to its own service access",
    "AWS::ODB::OdbNetwork.S3PolicyDocument": "a policy ODB applies to its own service access",
    "AWS::ODB::OdbNetwork.StsPolicyDocument": "a policy ODB applies to its own service access",
    "AWS::EC2::VPCEndpoint.PolicyDocument": _ENDPOINT,
    "AWS::EC2::VerifiedAccessEndpoint.PolicyDocument": _ENDPOINT,
    "AWS::EC2::VerifiedAccessGroup.PolicyDocument": _ENDPOINT,
    "AWS::OpenSearchServerless::AccessPolicy.Policy": _OTHER_LANGUAGE,
    "AWS::OpenSearchServerless::SecurityPolicy.Policy": "encryption/network settings",
    "AWS::OpenSearchServerless::LifecyclePolicy.Policy": _CONFIG,
    "AWS::NetworkManager::CoreNetwork.PolicyDocument": "a network routing document",
    "AWS::NetworkFirewall::FirewallPolicy.FirewallPolicy": "firewall rule groups",
    "AWS::SecurityHub::ConfigurationPolicy.ConfigurationPolicy": "Security Hub settings",
    "AWS::Logs::AccountPolicy.PolicyDocument": "a data protection / subscription setting",
    "AWS::Logs::LogGroup.DataProtectionPolicy": "masks sensitive data; grants nothing",
    "AWS::SNS::Topic.DataProtectionPolicy": "masks sensitive data; grants nothing",
    "AWS::SNS::Topic.ArchivePolicy": _CONFIG,
    "AWS::SNS::Subscription.DeliveryPolicy": _CONFIG,
    "AWS::SNS::Subscription.FilterPolicy": "which messages the subscriber gets",
    "AWS::SNS::Subscription.RedrivePolicy": _CONFIG,
    "AWS::SNS::Subscription.ReplayPolicy": _CONFIG,
    "AWS::SQS::Queue.RedriveAllowPolicy": "which queues may use it as a DLQ",
    "AWS::SQS::Queue.RedrivePolicy": _CONFIG,
    "AWS::SSM::Parameter.Policies": "parameter expiration/notification settings",
    "AWS::Cognito::UserPool.Policies": "password and sign-in settings",
    "AWS::Lambda::CodeSigningConfig.CodeSigningPolicies": _CONFIG,
    "AWS::Lambda::Version.RuntimePolicy": _CONFIG,
    "AWS::ECR::Repository.LifecyclePolicy": _CONFIG,
    "AWS::ECR::RepositoryCreationTemplate.LifecyclePolicy": _CONFIG,
    "AWS::EFS::FileSystem.BackupPolicy": _CONFIG,
    "AWS::MediaStore::Container.LifecyclePolicy": _CONFIG,
    "AWS::MediaStore::Container.MetricPolicy": _CONFIG,
    "AWS::Omics::SequenceStore.S3AccessPolicy": _OTHER_LANGUAGE,
    "AWS::Kendra::Index.UserContextPolicy": _CONFIG,
    "AWS::ResilienceHub::ResiliencyPolicy.Policy": "recovery objectives",
    "AWS::WorkSpacesWeb::BrowserSettings.BrowserPolicy": "browser settings",
    "AWS::WorkSpacesWeb::BrowserSettings.WebContentFilteringPolicy": "browser settings",
    "AWS::Transfer::WebApp.WebAppEndpointPolicy": _CONFIG,
    "AWS::Comprehend::DocumentClassifier.ModelPolicy": _OTHER_LANGUAGE,
    "AWS::Comprehend::EntityRecognizer.ModelPolicy": _OTHER_LANGUAGE,
}
"""`Type.Property` -> why a policy-named property holds no resource-based policy (or is read
elsewhere)."""
CONFIGURATION_SUFFIXES = (
    "SecurityPolicy",
    "LifecyclePolicy",
    "RetentionPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "ScalingPolicy",
    "TerminationPolicy",
    "ProtectionPolicy",
    "LimitPolicy",
    "RetryPolicy",
    "WaitPolicy",
    "SslPolicy",
    "TlsPolicy",
    "NotificationPolicy",
    "BackupPolicy",
    "MaintenancePolicy",
    "ImpairmentPolicy",
    "InstancesPolicy",
    "ReusePolicy",
    "ChangePolicy",
    "RecrawlPolicy",
    "DeploymentPolicies",
    "LoggingPolicy",
    "DrainingPolicy",
    "FairsharePolicy",
    "QuotaSharePolicy",
    "DefaultPolicy",
    "AuthorizationPolicy",
    "PropagationPolicy",
    "CreationLimitPolicy",
)
"""Property name endings that are settings named 'policy' (TLS, lifecycle, scaling, retry ...),
never a grant: the coverage test does not ask for them one by one."""
