"""Findings: what validators report. Data only; renderers format them."""

from __future__ import annotations

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
