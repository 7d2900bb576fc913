"""The data model of the SecureServerless pack: rules, findings and the template they read.

Rules are pure functions over a synthesized CloudFormation template (a plain dict), so they run
the same inside `cdk synth` (through the validation plugin) and in `secure-constructs audit` on
any template, CDK or not.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secure_constructs.defaults import CHECKS_MAX_TIMEOUT_SECONDS

PACK_NAME = "SecureServerless"


class Severity(enum.Enum):
    """How bad a finding is. Errors fail the synth; warnings are reported only."""

    ERROR = "error"
    WARNING = "warning"


class Practice(enum.Enum):
    """The eight practices of docs/DESIGN (least privilege ... stay current)."""

    LEAST_PRIVILEGE = "least privilege"
    DEPENDENCIES = "dependencies"
    INPUT_VALIDATION = "input validation"
    SECRETS = "secrets"
    MONITORING = "monitoring"
    EXECUTION_TIME = "execution time"
    API_PROTECTION = "API protection"
    CURRENCY = "stay current"


@dataclass(frozen=True)
class Finding:
    """One violation of one rule by one resource.

    `finding_id` makes the finding granular (e.g. `Resource::*`), so that a user can acknowledge
    exactly one thing: the acknowledgement id is then `SecureServerless::Rule[finding_id]`.
    """

    rule_id: str
    logical_id: str
    path: str
    message: str
    fix: str
    severity: Severity = Severity.ERROR
    finding_id: str | None = None

    @property
    def granular_id(self) -> str:
        """The rule id, with the finding id in brackets when there is one."""
        return f"{self.rule_id}[{self.finding_id}]" if self.finding_id else self.rule_id


@dataclass(frozen=True)
class CheckOptions:
    """Options of the SecureServerless pack (set through `apply_checks`)."""

    max_timeout_seconds: int = CHECKS_MAX_TIMEOUT_SECONDS
    code_grants_error: bool = False  # CodeGrantsMatch findings are errors, not warnings
    accounts: frozenset[str] = frozenset()
    """Literal account ids known to be the template's own account (the stack's env account at
    synth, `audit --account`). Default: none, so a literal account id in a policy is another
    account (fail closed); `${AWS::AccountId}` is always this account."""


@dataclass
class Template:
    """A CloudFormation template with the lookups rules need."""

    body: Mapping[str, Any]
    path: Path | None = None
    assembly_dir: Path | None = None
    options: CheckOptions = field(default_factory=CheckOptions)
    _index: tuple[tuple[int, int], dict[str, list[tuple[int, str]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        res = self.body.get("Resources")
        return res if isinstance(res, Mapping) else {}

    def of_type(self, *types: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(logical id, properties) of every resource of the given types, in template order.

        The resources are indexed by type once (52 rules asked each a scan of every resource).
        Rules only read a template, and nothing in the package changes a body once a Template
        is made; each resource found is read again (an entry whose type changed is skipped),
        and the index is rebuilt when the resources are replaced or their count changes."""
        resources = self.resources
        index = self._type_index(resources)
        if len(types) == 1:
            found = index.get(types[0], [])
        else:
            found = sorted(entry for t in set(types) for entry in index.get(t, []))
        for _, logical_id in found:
            resource = resources.get(logical_id)
            if isinstance(resource, Mapping) and resource.get("Type") in types:
                props = resource.get("Properties")
                yield logical_id, props if isinstance(props, Mapping) else {}

    def _type_index(
        self, resources: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, list[tuple[int, str]]]:
        """Type -> [(position, logical id)] of the template's resources."""
        key = (id(resources), len(resources))
        if self._index is None or self._index[0] != key:
            index: dict[str, list[tuple[int, str]]] = {}
            for position, (logical_id, resource) in enumerate(resources.items()):
                type_ = resource.get("Type") if isinstance(resource, Mapping) else None
                if isinstance(type_, str):
                    index.setdefault(type_, []).append((position, logical_id))
            self._index = (key, index)
        return self._index[1]

    def condition_of(self, logical_id: str) -> Any:
        """The resource's `Condition` attribute (None when it has none, or does not exist)."""
        resource = self.resources.get(logical_id)
        return resource.get("Condition") if isinstance(resource, Mapping) else None

    def exists_with(self, protector: str, protected: str) -> bool:
        """Whether resource `protector` (an alarm, a subscription filter, an async config, a
        web ACL association) exists whenever resource `protected` does.

        CloudFormation creates a resource with a `Condition` only when the condition is true, so
        a conditional protector counts only if it has no condition, the very condition of the
        resource it protects, or a condition that is true in every deployment (see
        `condition_always_true`). Anything else may leave the protected resource bare: fail
        closed.
        """
        condition = self.condition_of(protector)
        if condition is None or condition == self.condition_of(protected):
            return True
        return isinstance(condition, str) and condition_always_true(self.body, condition)


def condition_always_true(body: Mapping[str, Any], name: str, depth: int = 0) -> bool:
    """Whether condition `name` of the template is true in every deployment: only what literals
    decide (`Fn::Equals` of two equal literals, `Fn::Not` of a condition that is always false,
    `Fn::And` / `Fn::Or` of such, `Condition` naming another); a parameter or a pseudo
    parameter makes it undecidable, so False."""
    conditions = body.get("Conditions")
    expression = conditions.get(name) if isinstance(conditions, Mapping) else None
    return _literal_truth(body, expression, depth) is True


def _literal_truth(body: Mapping[str, Any], expression: Any, depth: int) -> bool | None:
    """True/False when literals alone decide a condition expression, else None."""
    if depth > 20 or not isinstance(expression, Mapping) or len(expression) != 1:
        return None
    ((function, args),) = expression.items()
    if function == "Condition" and isinstance(args, str):
        conditions = body.get("Conditions")
        nested = conditions.get(args) if isinstance(conditions, Mapping) else None
        return _literal_truth(body, nested, depth + 1)
    if not isinstance(args, list):
        return None
    if function == "Fn::Equals" and len(args) == 2:
        literal = all(isinstance(a, str | int | float | bool) for a in args)
        return str(args[0]) == str(args[1]) if literal else None
    values = [_literal_truth(body, a, depth + 1) for a in args]
    if function == "Fn::Not" and len(values) == 1 and values[0] is not None:
        return not values[0]
    if function == "Fn::And":
        return False if False in values else (True if None not in values else None)
    if function == "Fn::Or":
        return True if True in values else (False if None not in values else None)
    return None


@dataclass(frozen=True)
class Violation:
    """What a rule function yields; the rule adds its id and severity to make a Finding."""

    logical_id: str
    path: str
    message: str
    fix: str
    finding_id: str | None = None
    severity: Severity | None = None


Check = Callable[[Template], Iterable[Violation]]


def resource_violations(
    t: Template,
    types: tuple[str, ...],
    where: str,
    fix: str,
    problem: Callable[[Mapping[str, Any]], str | None],
) -> Iterator[Violation]:
    """One violation at `where` for each resource of `types` whose properties have a problem.

    `problem(props)` returns what is wrong (the finding's message) or None: the one shape of a
    rule that judges each resource on its own.
    """
    for logical_id, props in t.of_type(*types):
        message = problem(props)
        if message is not None:
            yield Violation(logical_id, where, message, fix)


@dataclass(frozen=True)
class Rule:
    """A rule of the pack: its metadata and the pure function that checks a template."""

    rule_id: str
    practice: Practice
    severity: Severity
    summary: str
    explanation: str
    check: Check
    applies_to: tuple[str, ...] = ()
    """The CloudFormation resource types the rule inspects; () means every template."""
    applies_if: Callable[[Template], bool] | None = None
    """A narrower test than the types, e.g. "a function with a local asset" (None: none)."""
    granular: bool = False
    """Every finding carries a finding id, so a bare acknowledgement would match none of them
    (`acknowledge` refuses the bare id of such a rule)."""
    never_acceptable: tuple[str, ...] = ()
    """Finding ids no reason can justify (e.g. `PlainHttp`): `acknowledge` refuses them, the
    synth report offers no acknowledge call, and the audit honours no acknowledgement of them."""

    def __call__(self, template: Template) -> Iterable[Violation]:
        """The rule's check itself: a rule module's rules stay plain functions of a template."""
        return self.check(template)

    def applies(self, template: Template) -> bool:
        """Whether the template holds anything this rule inspects (else a pass is vacuous)."""
        if self.applies_to and not any(True for _ in template.of_type(*self.applies_to)):
            return False
        return self.applies_if is None or self.applies_if(template)

    def run(self, template: Template) -> list[Finding]:
        """Every finding of this rule in the template."""
        return [
            Finding(
                rule_id=self.rule_id,
                logical_id=v.logical_id,
                path=v.path,
                message=v.message,
                fix=v.fix,
                severity=v.severity or self.severity,
                finding_id=v.finding_id,
            )
            for v in self.check(template)
        ]


def rule(
    rule_id: str,
    *,
    practice: Practice,
    summary: str,
    explanation: str,
    severity: Severity = Severity.ERROR,
    applies_to: tuple[str, ...] = (),
    applies_if: Callable[[Template], bool] | None = None,
    granular: bool = False,
    never_acceptable: tuple[str, ...] = (),
) -> Callable[[Check], Rule]:
    """Make a check function a rule of the pack, with its metadata (nothing is registered:
    the module lists its rules in `RULES`, and `checks.rules.PACK` concatenates those).

    `applies_to` names the CloudFormation resource types the rule inspects (default: it reads
    the whole template, so it always applies); `applies_if` narrows that further. The audit's
    scorecard says "n/a" for a practice none of whose rules applies to a stack, instead of a
    vacuous "pass". `granular=True` says every finding carries a finding id; `never_acceptable`
    names the finding ids no acknowledgement may accept.
    """

    def make(check: Check) -> Rule:
        return Rule(
            rule_id,
            practice,
            severity,
            summary,
            explanation,
            check,
            applies_to,
            applies_if,
            granular,
            never_acceptable,
        )

    return make
