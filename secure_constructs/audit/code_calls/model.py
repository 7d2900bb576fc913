"""What the code analysis finds: calls with their IAM actions, and what it could not resolve."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One AWS SDK call in the code, with the IAM actions it needs."""

    file: str  # relative to the asset
    line: int
    api: str  # e.g. "dynamodb.Table.put_item", "parameters.get_secret"
    actions: tuple[str, ...]
    env: str | None = None  # the environment variable naming the resource it acts on

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Unresolved:
    """A call the analysis saw but could not map to actions, and why (never guessed)."""

    file: str
    line: int
    api: str
    reason: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class CodeAnalysis:
    """The calls of one function's code, or why its code was not analysed."""

    calls: list[Call] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    not_analysed: str | None = None  # the reason, when the code could not be analysed

    @property
    def analysed(self) -> bool:
        return self.not_analysed is None
