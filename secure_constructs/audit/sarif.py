"""SARIF 2.1.0 for GitHub code scanning: one run per tool (ours, each cdk-nag pack).

Results point at the template file (line of the resource) and carry the JSON pointer of the
resource as a logical location; acknowledged findings are suppressed results with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from secure_constructs.audit.report import AuditFinding, AuditReport, RuleInfo
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.registry import PACK_NAME

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_SECURITY_SEVERITY = {"error": "7.0", "warning": "4.0", "info": "1.0"}
_NAG_URI = "https://github.com/cdklabs/cdk-nag/blob/main/RULES.md"


def to_sarif(report: AuditReport) -> dict[str, Any]:
    lines = _LineIndex()
    runs = []
    for tool, rules in report.rules.items():
        results = [f for f in report.findings if f.tool == tool]
        used = sorted({f.rule_id for f in results} | (set(rules) if tool == PACK_NAME else set()))
        index = {rule_id: i for i, rule_id in enumerate(used)}
        driver: dict[str, Any] = {"name": tool}
        if tool != PACK_NAME:
            driver["informationUri"] = _NAG_URI
        driver["rules"] = [_rule(rule_id, rules.get(rule_id)) for rule_id in used]
        runs.append(
            {
                "tool": {"driver": driver},
                "columnKind": "utf16CodeUnits",
                "results": [_result(f, index[f.rule_id], lines) for f in results],
            }
        )
    for run in runs[:1]:  # files that were not evaluated: the run did not succeed on them
        run["invocations"] = [_invocation(report.file_errors)]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}


def _invocation(file_errors: list[str]) -> dict[str, Any]:
    notifications = []
    for error in file_errors:
        path, _, why = error.partition(": ")
        notifications.append(
            {
                "level": "error",
                "message": {"text": f"not evaluated: {why or error}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}}}],
            }
        )
    return {"executionSuccessful": not file_errors, "toolExecutionNotifications": notifications}


def _rule(rule_id: str, info: RuleInfo | None) -> dict[str, Any]:
    summary = info.summary if info else rule_id
    explanation = info.explanation if info else summary
    severity = info.severity if info else "warning"
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": re.sub(r"[^A-Za-z0-9]", "", rule_id) or rule_id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": explanation},
        "help": {"text": explanation, "markdown": f"**{rule_id}**: {explanation}"},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": {
            "tags": ["security", "cloudformation"]
            + ([info.practice.value] if info and info.practice else []),
            "security-severity": _SECURITY_SEVERITY[severity],
        },
    }
    return rule


def _result(f: AuditFinding, rule_index: int, lines: _LineIndex) -> dict[str, Any]:
    message = f.message.rstrip()
    if f.fix:
        message = f"{message}{'' if message.endswith(('.', '!', '?')) else '.'} Fix: {f.fix}"
    text = message
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVELS[f.severity],
        "message": {"text": text or f.rule_name},
        "locations": [_location(f, lines)],
        "partialFingerprints": {
            "resource/v1": f"{f.stack_name}/{f.logical_id or f.construct_path}/{f.rule_name}"
        },
        "properties": {
            "granularRule": f.rule_name,
            "stack": f.stack_name,
            "logicalId": f.logical_id,
            "constructPath": f.construct_path,
            "jsonPointer": f.pointer,
        },
    }
    if f.acknowledgement is not None:
        result["suppressions"] = [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": f.acknowledgement.reason,
                "properties": {
                    "acknowledgedId": f.acknowledgement.rule_id,
                    "acknowledgedAt": f.acknowledgement.at,
                },
            }
        ]
    return result


def _location(f: AuditFinding, lines: _LineIndex) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if f.stack is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": f.stack.uri},
            "region": {"startLine": lines.line(f.stack, f.logical_id)},
        }
    if f.pointer or f.construct_path:
        location["logicalLocations"] = [
            {
                "name": f.logical_id or f.construct_path,
                "fullyQualifiedName": f.pointer or f.construct_path,
                "kind": "resource",
            }
        ]
    return location


class _LineIndex:
    """1-based line of each resource in its template file (computed once per template)."""

    def __init__(self) -> None:
        self._lines: dict[int, dict[str, int]] = {}

    def line(self, stack: StackSource, logical_id: str | None) -> int:
        if logical_id is None:
            return 1
        table = self._lines.get(id(stack))
        if table is None:
            table = self._lines[id(stack)] = _resource_lines(stack)
        return table.get(logical_id, 1)


_JSON_KEY = re.compile(r'^([ \t]*)"((?:[^"\\]|\\.)+)"[ \t]*:', re.MULTILINE)


def _resource_lines(stack: StackSource) -> dict[str, int]:
    resources = stack.body.get("Resources")
    marks: dict[str, int] = {}
    if isinstance(resources, Mapping):  # cfn-lint's YAML keys know where they start
        for logical_id in resources:
            mark = getattr(logical_id, "start_mark", None)
            if mark is not None and hasattr(mark, "line"):
                marks[str(logical_id)] = int(mark.line) + 1
    if marks or not stack.text:
        return marks
    text = stack.text
    start = max(text.find('"Resources"'), 0)
    wanted = set(resources) if isinstance(resources, Mapping) else set()
    newlines = text.count("\n", 0, start)
    previous = start
    indent: str | None = None
    for match in _JSON_KEY.finditer(text, start + 1):
        key = match.group(2)
        if indent is None and key in wanted:
            indent = match.group(1)  # the first key inside Resources is a logical id
        if key in wanted and key not in marks and match.group(1) == indent:
            newlines += text.count("\n", previous, match.start())
            previous = match.start()
            marks[key] = newlines + 1
            if len(marks) == len(wanted):
                break
    return marks
