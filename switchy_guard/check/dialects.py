"""``check`` without a dialect: judged under every dialect, the findings united.

A CI job may run ``check`` with neither ``--dialect`` nor a database URL. The same text
reads differently per server (``/*! DROP TABLE users */`` is code to MariaDB and a
comment elsewhere; ``SELECT 1--1; DROP TABLE users;`` is one statement to PostgreSQL and
SQLite, two to MariaDB; ``DROP TABLE [users]`` names a table only in SQLite), so no one
reading is safe to guess: the migrations are checked as SQLite, PostgreSQL and MariaDB
read them, and every finding of any is reported once. A finding that only some dialects
give says which; the summary names the dialects tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from switchy_guard.model.findings import CheckSummary, Finding

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport

#: The dialects a check without one is judged under, in this order.
DIALECTS = ("sqlite", "postgres", "mysql")
_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mysql": "MySQL/MariaDB"}


def check_every_dialect(run: Callable[[str], CheckReport]) -> CheckReport:
    """The union of ``run(dialect)`` over :data:`DIALECTS` (identical findings once)."""
    from switchy_guard.check.report import CheckReport

    reports = [run(dialect) for dialect in DIALECTS]
    seen: dict[Finding, list[str]] = {}
    for dialect, report in zip(DIALECTS, reports, strict=True):
        for finding in report.findings:
            seen.setdefault(finding, []).append(dialect)
    findings = [
        finding if len(dialects) == len(DIALECTS) else replace(
            finding, message=f"{finding.message} (as {', '.join(_NAMES[d] for d in dialects)}"
                             " reads it)")
        for finding, dialects in seen.items()
    ]
    findings.sort(key=lambda f: (f.migration or "", f.file or "", f.line or 0))
    summary = CheckSummary.of(findings, max(r.summary.migrations for r in reports),
                              max(r.summary.statements for r in reports))
    allowed = list({a: None for r in reports for a in r.allowed})  # each once, in order
    return CheckReport(findings, replace(summary, dialects_tried=DIALECTS), allowed)
