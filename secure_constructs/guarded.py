"""The stack's shared key, alarm topic and terminal queues, which refuse to be opened at the call.

Every construct of a stack shares them: one grant to `*` on the key exposes every secret, log
group, queue and topic it encrypts. Each public `grant_*` and `add_to_resource_policy` is
judged in Python before CDK sees it, with the rules' judgement (`open_grants`), so the user gets
a `ValidationError` on the line that asked for it and nothing is added.

CDK's own code reaches these objects too (`topic.grants.publish(...)`, a queue of the user's
encrypted with the stack key calling `key.grant(...)`, `iam.Grant.add_to_principal_or_resource
(resource=key)`): jsii then calls the same overrides back, and the same refusal fires there;
jsii delivers it to the user as a `RuntimeError` carrying the same message and naming the
user's line (an exception cannot cross jsii with its type). A statement added to the policy
document itself, past every method, fails the synth through the resource's own validation;
so does a hand-made topic or queue policy naming the resource; an L1 override, read in the
synthesized template, fails it too (`guarded_template`).
"""

from __future__ import annotations

import sys
import traceback
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import constructs
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from secure_constructs import guarded_template
from secure_constructs.checks.policy_facts import has_source_condition
from secure_constructs.errors import ValidationError
from secure_constructs.jsii_refs import same
from secure_constructs.open_grants import (
    KEY_ADMIN_ACTIONS,
    refuse_open_body,
    refuse_open_grantee,
    refuse_open_statement,
)

# Frames in these packages are not the user's code (the user's line is named in a refusal
# that jsii calls back from CDK's own code).
_LIBRARY_DIRS = tuple(
    str(Path(module.__file__).resolve().parent)
    for name in ("jsii", "aws_cdk", "constructs", "secure_constructs")
    if (module := sys.modules.get(name)) is not None and module.__file__
)


def _called_by_cdk() -> bool:
    """Whether jsii called the override back from CDK's own code (a jsii frame is on the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("jsii"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _user_line() -> str:
    """`file:line (code)` of the innermost frame of the user's code, or '' when none."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename and not str(Path(frame.filename).resolve()).startswith(_LIBRARY_DIRS):
            return f" (called from {frame.filename}:{frame.lineno}: {(frame.line or '').strip()})"
    return ""


def _call(resource: Construct, method: str, argument: str) -> str:
    name = f"{resource.node.id}.{method}({argument})"
    return name + _user_line() if _called_by_cdk() else name


def _named(error: ValidationError, resource: Construct, method: str, argument: str) -> Exception:
    """The refusal again, naming the call (worked out only when refusing: it costs frames)."""
    call = _call(resource, method, argument)
    return ValidationError(call, error.value, error.allowed, error.fix)


def _grantee(
    resource: Construct,
    method: str,
    grantee: iam.IGrantable,
    shared: str,
    key_actions: Sequence[str] | None = None,
) -> None:
    try:
        refuse_open_grantee(resource, method, grantee, shared=shared, key_actions=key_actions)
    except ValidationError as error:
        raise _named(error, resource, method, "grantee") from None


def _statement(resource: Construct, statement: iam.PolicyStatement, shared: str) -> None:
    method = "add_to_resource_policy"
    key = isinstance(resource, GuardedKey)
    try:
        refuse_open_statement(resource, method, statement, shared=shared, key=key)
    except ValidationError as error:
        raise _named(error, resource, method, "statement") from None


def _scope_service_statement(resource: Construct, statement: iam.PolicyStatement) -> None:
    """Give a statement for service principals only, with no source condition, the condition
    `aws:SourceAccount` = this account (in place, before CDK adds it).

    CDK's own targets add such statements to our shared resources: `targets.SnsTopic` grants
    events.amazonaws.com sns:Publish on the topic and kms:Decrypt/GenerateDataKey* on its key,
    `s3n.SqsDestination`/`SnsDestination` grant s3.amazonaws.com the key. Without a source
    condition the service would act for any account's rule or bucket (the confused deputy:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html); EventBridge and S3
    send aws:SourceAccount with the calls they make for a resource (Amazon EventBridge User
    Guide, "Using resource-based policies for Amazon EventBridge"). ResourcePolicyServiceSource
    flags what is left unscoped.
    """
    if statement.frozen:
        return  # already part of a document: ResourcePolicyServiceSource judges it
    body = cdk.Stack.of(resource).resolve(statement.to_statement_json())
    if not isinstance(body, dict) or body.get("Effect", "Allow") != "Allow":
        return
    principal = body.get("Principal")
    if not (isinstance(principal, dict) and set(principal) == {"Service"}):
        return
    if has_source_condition(body.get("Condition")):
        return
    statement.add_condition("StringEquals", {"aws:SourceAccount": cdk.Stack.of(resource).account})


@jsii.implements(constructs.IValidation)
class _PolicyCheck:
    """At synth, the resource's policy judged again: a statement added past the refusing
    methods (`key.policy.add_statements(...)`, `topic's Policy.document.add_statements(...)`)
    fails the synth, with apply_checks or without."""

    def __init__(self, resource: Construct, document: Callable[[], Any], shared: str) -> None:
        self._resource = resource
        self._document = document
        self._shared = shared

    def validate(self) -> list[str]:
        call = f"{self._resource.node.id} policy statement"
        return _judged(self._resource, self._shared, call, self._document())


def _judged(resource: Construct, shared: str, call: str, document: Any) -> list[str]:
    """The refusal of every statement of `document` that opens `resource`, as error texts."""
    if document is None:
        return []
    body = cdk.Stack.of(resource).resolve(document)
    errors = []
    for statement in body.get("Statement", []) if isinstance(body, dict) else []:
        try:
            key = isinstance(resource, GuardedKey)
            refuse_open_body(resource, call, statement, shared, key=key)
        except ValidationError as error:
            fix = (
                "remove the statement added to the policy document directly (past "
                f"grant_* and add_to_resource_policy, which refuse it); {error.fix}"
            )
            errors.append(str(ValidationError(error.prop, error.value, error.allowed, fix)))
    return errors


@jsii.implements(constructs.IValidation)
class _PoliciesNaming:
    """At synth, every topic or queue policy L1 of the stack that names one of its guarded
    topics or queues (`sns.TopicPolicy(topics=[topic])`, `sqs.CfnQueuePolicy`,
    `sns.CfnTopicInlinePolicy`), whoever made it, judged as that resource's own policy: one
    walk of the stack for all of them. The walk covers the stack's nested stacks, whose
    policies the stack's template plugin does not read."""

    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack
        self._guarded: list[tuple[Construct, Callable[[], Any], str]] = []

    @classmethod
    def watch(cls, resource: Construct, ref: Callable[[], Any], shared: str) -> None:
        """Judge the policies naming `resource` (`ref()`: its Ref) at synth."""
        stack = cdk.Stack.of(resource)
        check = _NAMING.get(stack)
        if check is None:
            check = _NAMING[stack] = cls(stack)
            stack.node.add_validation(check)
        check._guarded.append((resource, ref, shared))

    def validate(self) -> list[str]:
        stack = self._stack
        policies = [
            found
            for node in stack.node.find_all()  # by class first: no jsii call for other nodes
            if (found := _named_resources(node)) is not None
        ]
        # Every resource's Ref and every policy's targets resolved in one round trip.
        refs, *resolved = stack.resolve(
            [[ref() for _, ref, _ in self._guarded], *(targets for _, targets in policies)]
        )
        errors = []
        for (resource, _, shared), own in zip(self._guarded, refs, strict=True):
            naming = [
                node
                for (node, _), targets in zip(policies, resolved, strict=True)
                if any(t == own for t in targets)
            ]
            own_policy = resource.node.try_find_child("Policy") if naming else None
            for node in naming:
                if own_policy is not None and same(node.node.scope, own_policy):
                    continue  # the resource's own policy: judged by its _PolicyCheck
                call = f"{node.node.path} (names {resource.node.id})"
                errors.extend(_judged(resource, shared, call, node.policy_document))
        return errors


# stack -> its _PoliciesNaming (a miss, e.g. another proxy of the stack, only adds a second one)
_NAMING: weakref.WeakKeyDictionary[cdk.Stack, _PoliciesNaming] = weakref.WeakKeyDictionary()

_Policy = (
    sns.CfnTopicPolicy | sns.CfnTopicInlinePolicy | sqs.CfnQueuePolicy | sqs.CfnQueueInlinePolicy
)
_TARGETS: tuple[tuple[type, Callable[[Any], list[Any]]], ...] = (
    (sns.CfnTopicPolicy, lambda node: list(node.topics)),
    (sns.CfnTopicInlinePolicy, lambda node: [node.topic_arn]),
    (sqs.CfnQueuePolicy, lambda node: list(node.queues)),
    (sqs.CfnQueueInlinePolicy, lambda node: [node.queue]),
)
# node class -> how to read its targets (None: not a topic or queue policy), a user's subclass
# of an L1 included: four isinstance checks per node of the stack cost more than the walk (and
# the MRO, not isinstance: jsii_refs.is_kind says why).
_TARGETS_OF: dict[type, Callable[[Any], list[Any]] | None] = {}


def _named_resources(node: constructs.IConstruct) -> tuple[_Policy, list[Any]] | None:
    """A topic/queue policy L1 with the topics or queues it names; None for any other node."""
    cls = type(node)
    if cls not in _TARGETS_OF:
        _TARGETS_OF[cls] = next((read for base, read in _TARGETS if base in cls.__mro__), None)
    read = _TARGETS_OF[cls]
    return None if read is None else (cast(_Policy, node), read(node))


def _child_document(resource: Construct) -> Callable[[], Any]:
    def document() -> Any:
        policy = resource.node.try_find_child("Policy")
        return getattr(policy, "document", None)

    return document


_KEY = "the stack's KMS key encrypts every secret, log group, queue and topic of the stack"
_TOPIC = "the stack's alarm topic carries the alarms of every construct of the stack"
_QUEUE = "this dead-letter queue holds the failed events of every construct of the stack"


class GuardedKey(kms.Key):
    """`kms.Key` whose grants and key-policy statements refuse `*` and unconditioned accounts.

    :param shared: what the key protects, said in every refusal. Default: the stack key's
        sentence (it encrypts every secret, log group, queue and topic of the stack).
    """

    _shared: str = _KEY  # until __init__ sets it: CDK's constructor may call back first

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: str = _KEY, **props: Any
    ) -> None:
        super().__init__(scope, construct_id, **props)
        self._shared = shared
        cfn = self.node.default_child
        assert isinstance(cfn, kms.CfnKey)
        self.node.add_validation(_PolicyCheck(self, lambda: cfn.key_policy, shared))
        guarded_template.register(self, shared, key=True)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        _statement(self, statement, self._shared)
        _scope_service_statement(self, statement)
        return super().add_to_resource_policy(statement, allow_no_op)

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        _grantee(self, "grant", grantee, self._shared, actions)
        return super().grant(grantee, *actions)

    def grant_admin(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_admin", grantee, self._shared, KEY_ADMIN_ACTIONS)
        return super().grant_admin(grantee)

    def grant_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_decrypt", grantee, self._shared)
        return super().grant_decrypt(grantee)

    def grant_encrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_encrypt", grantee, self._shared)
        return super().grant_encrypt(grantee)

    def grant_encrypt_decrypt(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_encrypt_decrypt", grantee, self._shared)
        return super().grant_encrypt_decrypt(grantee)

    def grant_generate_mac(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_generate_mac", grantee, self._shared)
        return super().grant_generate_mac(grantee)

    def grant_verify_mac(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_verify_mac", grantee, self._shared)
        return super().grant_verify_mac(grantee)

    def grant_sign(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_sign", grantee, self._shared)
        return super().grant_sign(grantee)

    def grant_verify(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_verify", grantee, self._shared)
        return super().grant_verify(grantee)

    def grant_sign_verify(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_sign_verify", grantee, self._shared)
        return super().grant_sign_verify(grantee)


class GuardedTopic(sns.Topic):
    """`sns.Topic` whose grants and topic-policy statements refuse `*` and unconditioned
    accounts."""

    def __init__(self, scope: Construct, construct_id: str, **props: Any) -> None:
        super().__init__(scope, construct_id, **props)
        self.node.add_validation(_PolicyCheck(self, _child_document(self), _TOPIC))
        _PoliciesNaming.watch(self, lambda: self.topic_arn, _TOPIC)
        guarded_template.register(self, _TOPIC)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToResourcePolicyResult:
        _statement(self, statement, _TOPIC)
        _scope_service_statement(self, statement)
        return super().add_to_resource_policy(statement)

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_publish", grantee, _TOPIC)
        return super().grant_publish(grantee)

    def grant_subscribe(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_subscribe", grantee, _TOPIC)
        return super().grant_subscribe(grantee)

    def grant_on_key(self, grantee: iam.IGrantable, *actions: str) -> iam.GrantOnKeyResult:
        _grantee(self, "grant_on_key", grantee, _TOPIC)
        return super().grant_on_key(grantee, *actions)


class GuardedQueue(sqs.Queue):
    """`sqs.Queue` whose grants and queue-policy statements refuse `*` and unconditioned
    accounts."""

    def __init__(self, scope: Construct, construct_id: str, **props: Any) -> None:
        super().__init__(scope, construct_id, **props)
        self.node.add_validation(_PolicyCheck(self, _child_document(self), _QUEUE))
        _PoliciesNaming.watch(self, lambda: self.queue_url, _QUEUE)
        guarded_template.register(self, _QUEUE)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToResourcePolicyResult:
        _statement(self, statement, _QUEUE)
        _scope_service_statement(self, statement)
        return super().add_to_resource_policy(statement)

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        _grantee(self, "grant", grantee, _QUEUE)
        return super().grant(grantee, *actions)

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_send_messages", grantee, _QUEUE)
        return super().grant_send_messages(grantee)

    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_consume_messages", grantee, _QUEUE)
        return super().grant_consume_messages(grantee)

    def grant_purge(self, grantee: iam.IGrantable) -> iam.Grant:
        _grantee(self, "grant_purge", grantee, _QUEUE)
        return super().grant_purge(grantee)

    def grant_on_key(self, grantee: iam.IGrantable, *actions: str) -> iam.GrantOnKeyResult:
        _grantee(self, "grant_on_key", grantee, _QUEUE)
        return super().grant_on_key(grantee, *actions)
