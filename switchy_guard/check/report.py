"""What a ``check`` returns: its findings, their counts, and the findings allowed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from switchy_guard.model.findings import CheckSummary, Finding, Severity

if TYPE_CHECKING:
    from switchy_guard.check.pipeline import AllowedFinding


@dataclass(frozen=True)
class CheckReport:
    """The findings of a check and their counts."""

    findings: list[Finding]
    summary: CheckSummary
    #: Findings an ``allow`` with a reason suppressed (SARIF shows them as suppressed).
    allowed: list[AllowedFinding] = field(default_factory=list)
    #: Warning lines for stderr (a given server version the live server contradicts);
    #: not cached: only a check without a database is.
    notes: list[str] = field(default_factory=list)

    def fails(self, fail_on: Severity) -> bool:
        """Whether any finding is at or above ``fail_on``."""
        return any(f.severity.rank >= fail_on.rank for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what the cache keeps)."""
        return {"findings": [f.to_dict() for f in self.findings],
                "summary": asdict(self.summary),
                "allowed": [{**a.finding.to_dict(), "reason": a.reason}
                            for a in self.allowed]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """The inverse of :meth:`to_dict`."""
        from switchy_guard.check.pipeline import AllowedFinding

        def finding(f: dict[str, Any]) -> Finding:
            return Finding(**{**f, "severity": Severity(f["severity"])})

        allowed = [AllowedFinding(finding({k: v for k, v in a.items() if k != "reason"}),
                                  a["reason"]) for a in data.get("allowed", ())]
        return cls([finding(f) for f in data["findings"]], CheckSummary(**data["summary"]),
                   allowed)
