"""What makes an acknowledgement reason reviewable (pure Python; used at synth and by audit).

The same test refuses a weak reason in every `reason=` of the library (`acknowledge()`,
`ApiAuth.none`, `SecretRotation.none`, `add_route(unvalidated_body_reason=)`) at construction
time and flags one in `secure-constructs audit`, so a synth never accepts what the audit later
calls a problem. Phrases are matched as whole words ("prefix" is not "fix", "the test function"
is not a deferral).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_BOILERPLATE = re.compile(
    r"^(n/?a|none|todo|tbd|fixme|ok|okay|fine|yes|ignore[d]?|suppress(ed)?|accepted|approved|"
    r"by design|as designed|false positive|not applicable|not needed|needed|required|"
    r"known issue|will fix later|fix later|temporary|temp|test(ing)?|wip|reason|"
    r"cdk managed resource|managed by cdk)\W*$",
    re.IGNORECASE,
)

# Deferral and placeholder phrasing: the reason says the risk is not dealt with yet, not why it
# is acceptable. Each pattern is matched on whole words of the lower-cased reason.
_DEFERRALS: tuple[tuple[str, str], ...] = (
    (r"for now", "for now"),
    (r"(?:will|to|we'll|gonna|going to|must|should|need to)\s+(?:be\s+)?(?:fix|fixed)", "will fix"),
    (
        r"(?:fix|fixed|address|addressed|revisit|revisited|handle|handled|clean up|sort out|"
        r"change|changed|remove|removed|tighten|tightened|look at|deal with)"
        r"(?:\s+(?:it|this|that|them))?\s+later",
        "... later",
    ),
    (r"later\s+(?:sprint|release|iteration|version|phase|pr|ticket)", "later sprint"),
    (r"temporar(?:y|ily)|temp", "temporary"),
    (
        r"until\s+(?:the\s+)?next\s+(?:sprint|release|iteration|week|month|quarter|year|"
        r"version|deploy|deployment|milestone|review|audit|pi)|until\s+(?:we|someone|the team)",
        "until next ...",
    ),
    (
        r"for\s+(?:the\s+|a\s+|our\s+|this\s+)?(?:demo|poc|hackathon|prototype|spike)",
        "for the demo",
    ),
    (r"todo|fixme|tbd|tbc|wip|xxx|placeholder|lorem ipsum", "a placeholder"),
    (r"n/a|n\.a\.", "n/a"),
    (r"(?:just|only)\s+(?:a\s+)?(?:quick\s+)?hack|quick\s+fix|workaround\s+for\s+now", "a hack"),
    (r"will\s+(?:revisit|address|tighten|follow up)|follow[- ]up\s+(?:ticket|pr|later)", "later"),
    (
        r"(?:ignore|silence|suppress|suppressing|mute)\s+(?:this|it|the)\s+(?:warning|finding|error)",
        "only silences the finding",
    ),
    (
        r"(?:silenc|suppress|mut)(?:e|es|ed|ing)?\s+(?:the\s+)?(?:linter|checks?|cdk-nag|nag|"
        r"rules?|scanner|tool|pipeline)|(?:silenced|suppressed|muted)\s+because",
        "only silences the check",
    ),
    (
        r"(?:so|so that|to make|in order that)\s+(?:the\s+)?(?:pipeline|build|deploy|deployment|"
        r"ci|synth|linter|checks?)\s+(?:passes|pass|goes green|go green|is green|succeeds|works)",
        "only to make the pipeline pass",
    ),
    (
        r"(?:to be\s+|will be\s+)?remediat(?:e|ed|ion)\s+(?:in|by|later|next|after|once)",
        "remediation later",
    ),
    (
        r"until\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?(?:completes?|is complete|is done|finishes|"
        r"is finished|lands|ships|is merged|is migrated|goes live)|until\s+q[1-4]",
        "until ...",
    ),
    (
        r"(?:sign[- ]off|approval|review|fix|decision)\s+(?:is\s+)?pending|"
        r"pending\s+(?:a\s+|the\s+)?(?:security\s+)?(?:sign[- ]off|approval|review|fix|decision)",
        "pending",
    ),
    (r"(?:do not|don't|dont|doesn't|does not)\s+care", "does not care"),
    (r"won'?t\s*fix|wontfix", "won't fix"),
    (
        r"known\s+issue|tracked\s+(?:in|as|by|under)\s+(?:jira|a\s+ticket|ticket|issue|#|[a-z]+-\d+)",
        "a known issue tracked elsewhere",
    ),
    (
        r"(?:requires|needs)\s+(?:this|that|the)\s+(?:configuration|setting|permission|access)"
        r"\s+(?:in order\s+)?to\s+(?:function|work|run|operate)(?:\s+correctly|\s+properly)?",
        "says it is needed, not why",
    ),
)
_DEFERRAL = re.compile(
    "|".join(
        rf"(?P<d{i}>(?<![\w/]){pattern}(?![\w/]))" for i, (pattern, _) in enumerate(_DEFERRALS)
    )
)

# Words that say nothing about why a risk is acceptable: a reason made mostly of them is filler.
_FILLER_WORDS = (
    "a an the this that these those it its is are was be been to of for in on at by and or as "
    "with so we i our it's ok okay fine yes yeah needed need required require necessary "
    "ignore ignored suppress suppressed suppressing accepted accept approved whatever stuff "
    "thing things etc blah foo bar baz test testing just really very here there please "
    "finding findings warning error rule reason"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_KEYBOARD_RUNS = (
    "qwer", "asdf", "sdfg", "dfgh", "fghj", "ghjk", "hjkl", "zxcv", "xcvb", "cvbn", "vbnm",
    "uiop", "jkl;",
)  # fmt: skip
_URL = re.compile(r"\b\w+://\S+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'_:.*/-]*[A-Za-z0-9*]|[A-Za-z0-9]")

MIN_REASON_WORDS = 4
MIN_REASON_LENGTH = 10
MIN_DISTINCT_WORDS = 4
"""Distinct words that are not filler (articles, "needed", "ok", ...)."""


def reason_problem(reason: str, descriptions: Iterable[str] = ()) -> str | None:
    """Why `reason` would not convince a reviewer (None when it might).

    Refused: empty or boilerplate text, deferral or placeholder phrasing ("for now", "will fix",
    "temporary", "until next sprint", "for the demo", TODO, FIXME, n/a, tbd), fewer than
    `MIN_REASON_WORDS` words or `MIN_REASON_LENGTH` characters, fewer than `MIN_DISTINCT_WORDS`
    distinct words that are not filler, keyboard mash, and a copy of the rule's description.
    """
    if not isinstance(reason, str):
        return "not a string"
    problem = _text_problem(reason)
    if problem is None and " ".join(reason.split()).lower() in {d.lower() for d in descriptions}:
        return "the reason only repeats the rule's description"
    return problem


@functools.lru_cache(maxsize=512)
def _text_problem(reason: str) -> str | None:
    """`reason_problem` but for the description: a pure function of the text, cached (the
    library's own reasons are checked once per construct, and their words are many)."""
    text = " ".join(reason.split())
    if not text:
        return "empty reason"
    if _BOILERPLATE.match(text):
        return f"boilerplate reason: {text!r}"
    deferral = _deferral(text)
    if deferral:
        return f"deferral or placeholder phrasing ({deferral}): say why the risk is acceptable"
    tokens = _WORD.findall(_URL.sub(" link ", text))
    words = [w.lower() for w in tokens]
    if len(text) < MIN_REASON_LENGTH or len(words) < MIN_REASON_WORDS:
        return f"reason too short to review: {text!r}"
    mash = [w for w in tokens if w.islower() and _is_mash(w)]  # not acronyms (HTTPS, SQS)
    if mash:
        return f"keyboard mash or placeholder words ({', '.join(dict.fromkeys(mash))})"
    distinct = {w for w in words if w not in _FILLER}
    if len(distinct) < MIN_DISTINCT_WORDS:
        return (
            f"too few distinct words ({len(distinct)} besides filler; at least "
            f"{MIN_DISTINCT_WORDS}): say what the resource does and why the risk is acceptable"
        )
    if max(words.count(w) for w in distinct) * 2 > len(words) and len(words) < 12:
        return "repeated words"
    return None


def _deferral(text: str) -> str | None:
    match = _DEFERRAL.search(text.lower())
    if match is None or match.lastgroup is None:
        return None
    return _DEFERRALS[int(match.lastgroup[1:])][1]


def _is_mash(word: str) -> bool:
    """A lower-case token no language would write: keyboard runs, 3 same letters, no vowel."""
    if not word.isalpha():
        return False
    if any(run in word for run in _KEYBOARD_RUNS) or re.search(r"(.)\1\1", word):
        return True
    return len(word) >= 5 and not re.search(r"[aeiouy]", word)
