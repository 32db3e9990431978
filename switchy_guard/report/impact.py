"""The impact report of ``plan`` as text and as Markdown (a pull-request comment)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchy_guard.sql.objects import leftover_line

if TYPE_CHECKING:
    from switchy_guard.model.verdict import Verdict
    from switchy_guard.plan.impact import ImpactReport, PlannedLock
    from switchy_guard.plan.rowcounts import RowImpact


#: Report-wide warnings shown at most in the Markdown report (the text report has all).
_MD_WARNINGS = 20


def _backfill_text(backfill: dict[str, Any]) -> str:
    size = f"{backfill['batch_size']:,}"
    if backfill["batches"] is None:
        return (f"   backfill: batches of {size} rows on {backfill['table']} (rows unknown: "
                "the table is not there yet)")
    rows = _counted(backfill["rows"], "row")
    return (f"   backfill: ~{backfill['batches']:,} batches of {size} rows on "
            f"{backfill['table']} ({'~' if backfill['rows_estimated'] else ''}{rows} live), "
            f"{backfill['pause_ms']} ms apart")


def _rows_text(row: RowImpact) -> str:
    if row.rows is None:
        return "unknown"
    count = _counted(row.rows, "row")
    if row.estimate:
        count = f"~{count} (estimate from statistics)"
    if row.non_null is not None:
        count += f", {_counted(row.non_null, 'non-NULL value')}"
    return count


def _counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def render_text(report: ImpactReport) -> str:
    """The report for people."""
    lines = [f"Plan: {len(report.migrations)} migration(s) to "
             f"{'apply' if report.direction == 'up' else 'roll back'} on {report.dialect}"
             + ("" if report.live else " (no database: row figures unknown)")]
    lines += [f"warning: {w}" for w in report.warnings]
    for number, m in enumerate(report.migrations, 1):
        mode = "in a transaction" if m.transactional else "statement by statement"
        if m.backfill is not None:
            mode = "in batches, each a transaction of its own"
        reversible = "reversible" if m.reversible else "IRREVERSIBLE"
        lines.append(f"{number}. {m.id} ({mode}; {reversible})")
        for statement in m.statements:
            first, *rest = statement.splitlines() or [""]
            lines.append(f"   > {first}" + (" ..." if rest else ""))
        for label, items in (("creates", m.creates), ("alters", m.alters), ("drops", m.drops)):
            if items:
                lines.append(f"   {label}: {', '.join(items)}")
        if m.backfill is not None:
            lines.append(_backfill_text(m.backfill))
        for row in m.rows:
            lines.append(f"   data: statement {row.statement} {row.what} on {row.table}: "
                         f"{_rows_text(row)}")
        lines += _lock_lines(m.locks)
        for finding in m.findings:
            lines.append(f"   {finding.severity.value} {finding.label}: {finding.message}")
        for item in m.allowed:
            lines.append(f"   allowed {item.finding.label}: {item.reason}")
        lines += [f"   warning: {leftover_line(o)}" for o in m.leaves_behind]
    if not report.migrations:
        lines.append("Nothing to do.")
    if report.gate is not None:
        lines += _gate_lines(report.gate)
    return "\n".join(lines) + "\n"


def _lock_lines(locks: list[PlannedLock]) -> list[str]:
    lines = []
    for planned in locks:
        sizes = ", ".join(f"{table} {_size(size)}" for table, size in planned.table_bytes.items()
                          if size is not None)
        lines.append(f"   lock: statement {planned.statement}: {planned.taken.describe()}"
                     + (f" [size: {sizes}]" if sizes else ""))
        lines += [f"      would wait for {blocker.describe()} (a conflicting lock on {table})"
                  for table, blocker in planned.blockers]
    return lines


def _size(size: int) -> str:
    """``8,192 bytes``, ``1.5 MB``."""
    if size < 1024:
        return f"{size:,} bytes"
    scaled = float(size)
    for unit in ("kB", "MB", "GB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GB":
            break
    return f"{scaled:,.1f} {unit}"


def _gate_lines(verdict: Verdict) -> list[str]:
    lines = [f"Gate: policy {verdict.policy} (chosen by {verdict.chosen_by}): "
             + ("REFUSED" if verdict.refused else "allowed")]
    for check in verdict.checks:
        where = f" [{check.migration}]" if check.migration else ""
        lines.append(f"   {check.outcome:<8} {check.check}{where}: {check.reason}")
    return lines


def render_markdown(report: ImpactReport, *, limit: int | None = None) -> str:
    """The report as a pull-request comment of at most ``limit`` characters (check's
    bound): a summary first (counts, report warnings, the gate's verdict, findings by rule
    and severity), then one row per migration, the most severe first (``#`` is its place
    in the run). When not all rows fit, the last line says how many were left out and how
    to see them all."""
    from switchy_guard.report.findings import MARKDOWN_LIMIT, fit_comment, md_clip, md_counts

    findings = [f for m in report.migrations for f in m.findings]
    counts = {s: sum(f.severity == s for f in findings) for s in {f.severity for f in findings}}
    summary = ", ".join(f"{n} {s.value}(s)" for s, n in sorted(counts.items(),
                                                              key=lambda kv: -kv[0].rank))
    head = [f"### switchy-guard plan: {len(report.migrations)} migration(s) on "
            f"{report.dialect}", "",
            f"{'Apply' if report.direction == 'up' else 'Roll back'}: "
            f"{sum(not m.reversible for m in report.migrations)} irreversible; "
            f"findings: {summary or 'none'}; "
            f"{sum(len(m.allowed) for m in report.migrations)} allowed (with a reason)."
            + ("" if report.live else " No database: row figures unknown."), ""]
    head += [f"- warning: {md_clip(w)}" for w in report.warnings[:_MD_WARNINGS]]
    if len(report.warnings) > _MD_WARNINGS:
        head.append(f"- {len(report.warnings) - _MD_WARNINGS} more warning(s): see the "
                    "text report")
    gate_cells: dict[str, list[str]] = {}
    if report.gate is not None:
        verdict, *checks = _gate_lines(report.gate)
        head += ["", f"**{verdict}**"]
        for check, line in zip(report.gate.checks, checks, strict=True):
            if check.migration is None:
                head.append(f"- {md_clip(line.strip())}")
            else:
                gate_cells.setdefault(check.migration, []).append(
                    f"{check.outcome} {check.check}")
    if findings:
        head += ["", *md_counts(findings)]
    head += ["", "| # | migration | transaction | reversible | creates | alters | drops | "
                 "data | findings | gate |", "|---:|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for number, m in enumerate(report.migrations, 1):
        data = "; ".join(f"{r.what} on {r.table}: {_rows_text(r)}" for r in m.rows)
        found = "; ".join(f"{f.severity.value} `{f.code}` {f.name}"
                          + (" (rollback-time)" if f.rollback_time else "") for f in m.findings)
        gate = gate_cells.get(m.id, [])
        cells = [m.id, "yes" if m.transactional else "no", "yes" if m.reversible else "**no**",
                 ", ".join(m.creates), ", ".join(m.alters), ", ".join(m.drops), data, found,
                 "; ".join(gate)]
        worst = max((f.severity.rank for f in m.findings), default=0)
        refused = any(g.startswith("refused") for g in gate)
        rows.append(((not refused, -worst, m.reversible, number),
                     f"| {number} | " + " | ".join(md_clip(c) for c in cells) + " |"))
    command = ("switchy-guard plan" if report.direction == "up"
               else "switchy-guard rollback --plan")
    return fit_comment(head, [row for _, row in sorted(rows)], noun="migration",
                       see_all=f"`{command} --format text` (or `--format json`) with the "
                               "same arguments", limit=limit or MARKDOWN_LIMIT)
