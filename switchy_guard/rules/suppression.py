"""Suppressions: ``-- switchy-guard: allow <rule> -- <reason>`` and metadata ``allow``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, Rule

ALLOW_WITHOUT_REASON = Rule(
    code="SG900", name="allow-without-reason", severity=Severity.ERROR, dialects=ALL,
    summary="A suppression comment without a reason.",
    why="A suppression is a decision someone made; without the why, the next reader cannot "
        "tell a considered exception from a silenced warning. It does not suppress anything.",
    instead="Write the reason after a second --.",
    example="-- switchy-guard: allow drop-column\nALTER TABLE users DROP COLUMN legacy_name;",
    fixed="-- switchy-guard: allow drop-column -- unused since v2.3, backed up\n"
          "ALTER TABLE users DROP COLUMN legacy_name;",
)

UNUSED_ALLOW = Rule(
    code="SG901", name="unused-allow", severity=Severity.INFO, dialects=ALL,
    summary="An allow that matches no finding.",
    why="Stale suppressions hide nothing today but would silence a future problem unseen.",
    instead="Remove it, or fix the rule name.",
    example="-- switchy-guard: allow drop-table -- cleanup\nSELECT 1;",
    fixed="SELECT 1;",
)

RULES = (ALLOW_WITHOUT_REASON, UNUSED_ALLOW)

_ALLOW = re.compile(r"^switchy-guard:\s*allow\s+([\w\-, ]+?)(?:\s+--\s*(.*))?$", re.IGNORECASE)
_SPACES = re.compile(" {2,}")


@dataclass
class Allowance:
    """One allowed rule (code or name) with its reason; ``used`` once it matched."""

    rule: str
    reason: str
    line: int | None
    used: bool = False


def parse_allow_comment(comment: str) -> tuple[list[str], str] | None:
    """Rules and reason of a suppression comment, or None when it is not one."""
    # Runs of spaces are made one first: against a long run the lazy rule list and
    # ``\s+--`` tried every split of it (quadratic; 100,000 spaces took 20 s).
    match = _ALLOW.match(_SPACES.sub(" ", comment.strip()))
    if match is None:
        return None
    rules = [r for r in re.split(r"[\s,]+", match.group(1)) if r]
    return rules, (match.group(2) or "").strip()
