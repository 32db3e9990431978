"""Findings: what validators report. Data only; renderers format them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How serious a finding is, ordered info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return ("info", "warning", "error").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One problem found in a migration (see docs/design.md, "The data between rooms")."""

    code: str
    name: str
    severity: Severity
    migration: str | None
    file: str | None
    line: int | None
    column: int | None
    statement: str | None
    message: str
    hint: str | None = None
    #: ``"down"`` for a finding in a down script: it bites when the migration is rolled
    #: back (a "rollback-time" finding), not when it is applied.
    direction: str = "up"

    @property
    def rollback_time(self) -> bool:
        """Whether the finding is in a down script (it bites at rollback)."""
        return self.direction == "down"

    @property
    def label(self) -> str:
        """``SG301 drop-table``, marked ``(rollback-time)`` for a down script's finding."""
        return f"{self.code} {self.name}" + (" (rollback-time)" if self.rollback_time else "")

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape of a finding."""
        # Built by hand: dataclasses.asdict deep-copies every field, and a check of 10,000
        # migrations renders thousands of findings.
        data = {
            "code": self.code, "name": self.name, "severity": self.severity.value,
            "migration": self.migration, "file": self.file, "line": self.line,
            "column": self.column, "statement": self.statement, "message": self.message,
            "hint": self.hint,
        }
        if self.rollback_time:  # additive: an up script's finding keeps its old shape
            data["direction"] = "down"
        return data


@dataclass(frozen=True)
class CheckSummary:
    """Counts of a check run."""

    errors: int
    warnings: int
    infos: int
    migrations: int
    statements: int
    #: The dialects tried when none was given (see check_dialects); empty otherwise.
    dialects_tried: tuple[str, ...] = ()
    #: How many of the findings are rollback-time ones (in down scripts).
    rollback_time: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dialects_tried", tuple(self.dialects_tried))  # from JSON

    @property
    def dialect_note(self) -> str:
        """A line saying the dialect was unknown and which were tried, or ""."""
        if not self.dialects_tried:
            return ""
        return (f"dialect unknown (no --dialect or database URL): judged as "
                f"{', '.join(self.dialects_tried)} each read it; findings are the union\n")

    @classmethod
    def of(cls, findings: Sequence[Finding], migrations: int, statements: int) -> CheckSummary:
        """Count ``findings`` by severity."""
        count = {s: 0 for s in Severity}
        down = 0
        for finding in findings:
            count[finding.severity] += 1
            down += finding.rollback_time
        return cls(
            count[Severity.ERROR],
            count[Severity.WARNING],
            count[Severity.INFO],
            migrations,
            statements,
            rollback_time=down,
        )

    @property
    def rollback_note(self) -> str:
        """``" (N rollback-time)"`` when some findings are in down scripts, else ""."""
        return f" ({self.rollback_time} rollback-time)" if self.rollback_time else ""
