"""The shared key, topic and queue judged once more in the synthesized template.

The construct validation (`guarded._PolicyCheck`) reads the construct tree, which does not see an
L1 override (`add_property_override("KeyPolicy.Statement.1", ...)`, `add_override(...)`) nor a
policy resource written by hand with a raw reference or a literal ARN. This CDK validation
plugin, registered once per stack for its guarded resources, reads the template CDK wrote
(overrides applied) and judges with the same judgement (`open_grants`): the resource's own
KeyPolicy, and every AWS::SNS::TopicPolicy / TopicInlinePolicy / AWS::SQS::QueuePolicy /
QueueInlinePolicy whose topics or queues reference it, or name it by a literal ARN (a queue
by its URL) or by an ARN pattern that covers it. A statement that opens it fails the synth
("fatal": no acknowledgement silences it), with apply_checks or without.
"""

from __future__ import annotations

import fnmatch
import json
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import Construct

from secure_constructs.checks.cfn import UNKNOWN, as_list, reference, renderings
from secure_constructs.checks.policy_facts import has_wildcard, is_wildcard_only
from secure_constructs.errors import ValidationError
from secure_constructs.open_grants import refuse_open_body

PLUGIN_NAME = "SecureConstructsSharedResources"

# Policy resource type -> the properties naming the topics or queues it applies to.
_POLICY_TARGETS: dict[str, tuple[str, ...]] = {
    "AWS::SNS::TopicPolicy": ("Topics",),
    "AWS::SNS::TopicInlinePolicy": ("TopicArn",),
    "AWS::SQS::QueuePolicy": ("Queues",),
    "AWS::SQS::QueueInlinePolicy": ("Queue",),
}


def _references(value: Any, logical_id: str) -> bool:
    """Whether `value` holds a Ref or Fn::GetAtt to `logical_id` (anywhere inside)."""
    if isinstance(value, list):
        return any(_references(v, logical_id) for v in value)
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] == logical_id:
            return True
        if isinstance(att, str) and att.split(".", 1)[0] == logical_id:
            return True
        return any(_references(v, logical_id) for v in value.values())
    return False


# Resource type of a guarded resource -> (ARN service, name property).
_ARN_PARTS: dict[str, tuple[str, str]] = {
    "AWS::SNS::Topic": ("sns", "TopicName"),
    "AWS::SQS::Queue": ("sqs", "QueueName"),
}
# A queue policy names its queues by URL: https://sqs.<region>.amazonaws.com/<account>/<name>
# (or the legacy https://<region>.queue.amazonaws.com/...).
_QUEUE_URL = re.compile(
    r"^https?://(?:sqs\.([^./]+)|([^./]+)\.queue)\.amazonaws\.com(?:\.cn)?/([^/]+)/([^/]+)/?$"
)


def own_arn_pattern(stack: cdk.Stack, resource: Any) -> str | None:
    """The ARN the guarded topic or queue `resource` (its template entry) will have, with `*`
    for what synth does not know: the partition, an env-agnostic stack's region or account,
    and a name CloudFormation generates (no TopicName/QueueName), so any literal name may be
    it (fail closed)."""
    parts = _ARN_PARTS.get(resource.get("Type", "")) if isinstance(resource, dict) else None
    if parts is None:
        return None
    service, name_prop = parts
    name = (resource.get("Properties") or {}).get(name_prop)
    region, account = (
        "*" if cdk.Token.is_unresolved(v) else v for v in (stack.region, stack.account)
    )
    return f"arn:*:{service}:{region}:{account}:{name if isinstance(name, str) else '*'}"


def _as_arns(value: Any, resources: Any) -> list[str]:
    """Every literal (or partly literal) ARN a Topics/Queues value can render to, a queue URL
    as its ARN, a deploy-time part as `*`. A whole Ref/GetAtt to a resource of the template
    names it by reference (`_references` judges those); one to a parameter may be anything."""
    arns = []
    for item in as_list(value):
        named = reference(item)
        if named is not None and named.logical_id in resources:
            continue
        for text in renderings(item):
            text = text.replace(UNKNOWN, "*")
            url = _QUEUE_URL.match(text)
            if url:
                region = url.group(1) or url.group(2)
                text = f"arn:*:sqs:{region}:{url.group(3)}:{url.group(4)}"
            arns.append(text)
    return arns


def _field_meets(a: str, b: str) -> bool:
    """Whether two ARN fields (IAM wildcards `*`/`?` in either) can name the same value."""
    if a == b or fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a):
        return True
    return has_wildcard(a) and has_wildcard(b)  # two patterns: assume they meet (fail closed)


def names_by_arn(value: Any, pattern: str | None, resources: Any = ()) -> bool:
    """Whether a Topics/TopicArn/Queues/Queue value names the resource whose ARN is `pattern`
    by a literal ARN or URL, or by an ARN pattern with wildcards that covers it (a value known
    only at deploy time, like a parameter, may: fail closed). `resources` are the template's
    logical ids (a reference to one of them is no ARN of ours)."""
    if pattern is None:
        return False
    own = pattern.split(":", 5)
    for arn in _as_arns(value, resources):
        if is_wildcard_only(arn):
            return True
        fields = arn.split(":", 5)
        if (
            len(fields) == 6
            and fields[0] == "arn"
            and all(_field_meets(a, b) for a, b in zip(fields[1:], own[1:], strict=True))
        ):
            return True
    return False


@dataclass(frozen=True)
class _Guarded:
    """One guarded resource (the stack's key, alarm topic or a terminal queue) and the sentence
    that says what it protects."""

    resource: Construct
    shared: str
    key: bool

    def judge(self, path: Path, resources: dict[str, Any]) -> Iterator[cdk.PolicyViolation]:
        """Its own KeyPolicy (a key) and every topic/queue policy of the template naming it."""
        default = self.resource.node.default_child
        logical_id = cdk.Stack.of(self.resource).resolve(
            default.logical_id if isinstance(default, cdk.CfnElement) else ""
        )
        pattern = own_arn_pattern(cdk.Stack.of(self.resource), resources.get(logical_id))
        for other_id, other in resources.items():
            if not isinstance(other, dict):
                continue
            props = other.get("Properties") or {}
            if other_id == logical_id and self.key:
                yield from self._judge(path, other_id, "KeyPolicy", props.get("KeyPolicy"))
            targets = _POLICY_TARGETS.get(other.get("Type", ""), ())
            if any(
                _references(props.get(t), logical_id)
                or names_by_arn(props.get(t), pattern, resources)
                for t in targets
            ):
                yield from self._judge(
                    path, other_id, "PolicyDocument", props.get("PolicyDocument")
                )

    def _judge(
        self, path: Path, logical_id: str, prop: str, document: Any
    ) -> Iterator[cdk.PolicyViolation]:
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        for index, statement in enumerate(statements if isinstance(statements, list) else []):
            where = f"{logical_id}.Properties.{prop}.Statement.{index}"
            try:
                refuse_open_body(self.resource, where, statement, self.shared, key=self.key)
            except ValidationError as error:
                yield self.violation(str(path), logical_id, str(error), where)

    def violation(
        self, path: str, logical_id: str, message: str, where: str = ""
    ) -> cdk.PolicyViolation:
        return cdk.PolicyViolation(
            rule_name=f"{PLUGIN_NAME}-{self.resource.node.id}",
            description=(
                f"the stack's shared {self.resource.node.id} is opened in the template: {message}"
            ),
            fix=(
                "remove the override or the hand-written policy statement; grant through the "
                "resource's grant_* methods, which refuse what would open it"
            ),
            severity="fatal",
            violating_resources=[
                cdk.PolicyViolatingResource(
                    resource_logical_id=logical_id,
                    template_path=path,
                    locations=[where] if where else [],
                )
            ],
        )


@jsii.implements(cdk.IPolicyValidationPlugin)
class SharedResourcePolicies:
    """Judges the final policies of the guarded resources of one stack in its template (read
    once for all of them)."""

    def __init__(self, resource: Construct, shared: str, *, key: bool) -> None:
        self._stack = cdk.Stack.of(resource)
        self._guarded: list[_Guarded] = []
        self.add(resource, shared, key=key)

    def add(self, resource: Construct, shared: str, *, key: bool) -> None:
        """Judge `resource` too (a resource of the same stack)."""
        self._guarded.append(_Guarded(resource, shared, key))

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str | None:
        return None

    @property
    def rule_ids(self) -> list[str] | None:
        return None

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        stack = self._stack
        top = stack
        while top.nested_stack_parent is not None:  # a NestedStack has no artifact of its own
            top = top.nested_stack_parent
        paths = [
            Path(t.template_path)
            for t in context.stack_templates
            if t.stack_construct_path == top.node.path
        ]
        violations: list[cdk.PolicyViolation] = []
        if not paths:
            problem = "its stack's template was not synthesized"
            violations.extend(g.violation("", "", problem) for g in self._guarded)
        for path in paths:
            # CDK writes a nested stack's template (its `template_file`) as a file asset of the
            # top-level stack, in the same assembly folder; a missing one fails closed.
            nested = stack.nested_stack_parent is not None
            template = path.parent / stack.template_file if nested else path
            violations.extend(self._judge_template(template))
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)

    def _judge_template(self, path: Path) -> Iterator[cdk.PolicyViolation]:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problem = f"its template {path.name} cannot be read: {error}"
            for guarded in self._guarded:
                yield guarded.violation(str(path), "", problem)
            return
        resources = body.get("Resources", {}) if isinstance(body, dict) else {}
        resources = resources if isinstance(resources, dict) else {}
        for guarded in self._guarded:
            yield from guarded.judge(path, resources)


# Only a shortcut: a miss (another Python proxy of the same stack) registers a second plugin for
# that stack, which judges its own resources the same way; no resource is ever left unjudged.
_PLUGINS: weakref.WeakKeyDictionary[cdk.Stack, SharedResourcePolicies] = weakref.WeakKeyDictionary()


def register(resource: Construct, shared: str, *, key: bool = False) -> None:
    """Judge `resource`'s final policies in its stack's synthesized template: one plugin per
    stack judges all of its guarded resources."""
    stack = cdk.Stack.of(resource)
    plugin = _PLUGINS.get(stack)
    if plugin is not None:
        plugin.add(resource, shared, key=key)
        return
    plugin = SharedResourcePolicies(resource, shared, key=key)
    _PLUGINS[stack] = plugin
    cdk.Validations.of(stack).add_plugins(plugin)
