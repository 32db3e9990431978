"""The gate's verdict as plain data: which policy applied, and each check that allowed
or refused a run (built by gates.evaluate, shown by the reports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "allowed", "refused", "required", "warning"]


@dataclass(frozen=True)
class GateCheck:
    """One check of the gate."""

    check: str
    outcome: Outcome
    reason: str
    migration: str | None = None


@dataclass
class Verdict:
    """Which policy applied, and each check that allowed or refused the run."""

    policy: str
    environment: str
    chosen_by: str
    policy_file: str | None
    checks: list[GateCheck] = field(default_factory=list)
    destructive: bool = False

    @property
    def refused(self) -> bool:
        """Whether any check refused the run."""
        return any(c.outcome == "refused" for c in self.checks)

    def refusals(self) -> list[GateCheck]:
        """The checks that refused the run."""
        return [c for c in self.checks if c.outcome == "refused"]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (``gate`` in the plan report)."""
        return {
            "policy": self.policy, "environment": self.environment,
            "chosen_by": self.chosen_by, "policy_file": self.policy_file,
            "refused": self.refused, "destructive": self.destructive,
            "checks": [vars(c) for c in self.checks],
        }

    def summary(self) -> str:
        """One line: the refusals, or that the gate lets the run through."""
        refusals = self.refusals()
        if not refusals:
            required = [c.check for c in self.checks if c.outcome == "required"]
            return (f"policy {self.policy} ({self.chosen_by}): allowed"
                    + (f", once it has: {', '.join(required)}" if required else ""))
        return f"policy {self.policy} ({self.chosen_by}) refused: " + "; ".join(
            f"{c.migration + ': ' if c.migration else ''}{c.check}: {c.reason}" for c in refusals
        )
