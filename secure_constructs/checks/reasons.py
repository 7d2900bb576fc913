"""What makes an acknowledgement reason reviewable (pure Python; used at synth and by audit).

The same test refuses a weak reason in `acknowledge()` at construction time and flags one in
`secure-constructs audit`, so a synth never accepts what the audit later calls a problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_BOILERPLATE = re.compile(
    r"^(n/?a|none|todo|tbd|fixme|ok|okay|fine|yes|ignore[d]?|suppress(ed)?|accepted|approved|"
    r"by design|as designed|false positive|not applicable|not needed|needed|required|"
    r"known issue|will fix later|fix later|temporary|temp|test(ing)?|wip|reason|"
    r"cdk managed resource|managed by cdk)\W*$",
    re.IGNORECASE,
)
MIN_REASON_WORDS = 4
MIN_REASON_LENGTH = 10


def reason_problem(reason: str, descriptions: Iterable[str] = ()) -> str | None:
    """Why `reason` would not convince a reviewer (None when it might)."""
    text = " ".join(reason.split())
    if not text:
        return "empty reason"
    if _BOILERPLATE.match(text) or text.lower().startswith(("todo", "fixme", "tbd")):
        return f"boilerplate reason: {text!r}"
    if len(text) < MIN_REASON_LENGTH or len(text.split()) < MIN_REASON_WORDS:
        return f"reason too short to review: {text!r}"
    if text.lower() in {d.lower() for d in descriptions}:
        return "the reason only repeats the rule's description"
    return None
