"""The impact report of ``plan``: what each migration that would run does, and to what.

For each planned migration: its statements, the objects it creates, alters and drops,
its findings (schema-aware over the plan), whether it runs in a transaction and whether
it is reversible. With a database, each destructive statement on an existing table gets
the rows it affects: counted exactly, or, for tables the database's statistics say are
large, the statistics' estimate (labelled as such); a dropped column also gets how many
of its values are not NULL.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .db import connect
from .findings import Finding
from .objects import (
    SchemaObject,
    created_objects,
    dropped_objects,
    left_behind,
    leftover_line,
    parse_script,
)
from .rowcounts import LiveTableNames, PlanNames, RowCounter, RowImpact, row_impacts
from .runner import Migrator, Plan, PlannedMigration, Strategy
from .server_version import reconcile
from .state import MigrationState

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .blockers import Blocker
    from .gate import Verdict
    from .locks_taken import LocksTaken
    from .server_version import GivenVersion
    from .sql.classify import StatementInfo
    from .validation import AllowedFinding

# The validator and the classifier are imported where a detailed report needs them: a
# run whose policy judges nothing from the plan does not pay for loading every rule.

_DESTRUCTIVE = {"drop_table", "truncate", "delete", "update"}


@dataclass
class PlannedLock:
    """The locks one statement takes; with a database, the size of each table it locks
    and the sessions that would block it right now (see :mod:`switchy_guard.locks_taken`
    and :func:`switchy_guard.blockers.conflicting_sessions`)."""

    statement: int
    taken: LocksTaken
    table_bytes: dict[str, int | None] = field(default_factory=dict)
    #: (table, session): a session holding a lock on the table that conflicts.
    blockers: list[tuple[str, Blocker]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``locks`` of a migration); queries masked."""
        from .masking import mask_message

        return {"statement": self.statement, **self.taken.to_dict(),
                "table_bytes": self.table_bytes,
                "blockers": [{"table": table, "pid": b.pid, "user": b.user,
                              "application": b.application,
                              "transaction_seconds": b.transaction_seconds,
                              "state": b.state,
                              "query": mask_message(" ".join((b.query or "").split()),
                                                    limit=160) or None}
                             for table, b in self.blockers]}


@dataclass
class MigrationImpact:
    """One planned migration, as the report shows it."""

    id: str
    transactional: bool
    reversible: bool
    statements: list[str]
    creates: list[str] = field(default_factory=list)
    alters: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rows: list[RowImpact] = field(default_factory=list)
    allowed: list[AllowedFinding] = field(default_factory=list)
    #: Rolling back: the objects its up made that its down script leaves in place.
    leaves_behind: list[SchemaObject] = field(default_factory=list)
    #: A backfill: batch_size, pause_ms, the table's live rows and the batches estimated.
    backfill: dict[str, Any] | None = None
    #: The locks each statement takes (those that lock or rewrite anything).
    locks: list[PlannedLock] = field(default_factory=list)


@dataclass
class ImpactReport:
    """The whole plan's impact."""

    direction: str
    dialect: str
    migrations: list[MigrationImpact]
    warnings: list[str]
    live: bool  # row figures come from a database
    gate: Verdict | None = None  # set once a policy has judged the plan

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {
            "direction": self.direction, "dialect": self.dialect, "live": self.live,
            "warnings": self.warnings,
            "gate": self.gate.to_dict() if self.gate else None,
            "migrations": [
                {
                    "id": m.id, "transactional": m.transactional, "reversible": m.reversible,
                    "statements": m.statements, "creates": m.creates, "alters": m.alters,
                    "drops": m.drops, "findings": [f.to_dict() for f in m.findings],
                    "allowed": [{**a.finding.to_dict(), "reason": a.reason}
                                for a in m.allowed],
                    "rows": [vars(r) for r in m.rows],
                    "locks": [lock.to_dict() for lock in m.locks],
                    **({"backfill": m.backfill} if m.backfill is not None else {}),
                    **({"leaves_behind": [
                        {"kind": o.kind, "name": o.name, "table": o.table, "schema": o.schema,
                         "message": leftover_line(o)}
                        for o in m.leaves_behind
                    ]} if self.direction == "down" else {}),
                }
                for m in self.migrations
            ],
        }


def _objects(info: StatementInfo, impact: MigrationImpact) -> None:
    table = str(info.table) if info.table else "?"
    if info.kind == "create_table":
        impact.creates.append(f"table {table}")
    elif info.kind == "create_index":
        impact.creates.append(f"index {info.index or '(unnamed)'} on {table}")
    elif info.kind == "create_other":
        kind = info.object_type or "object"
        impact.creates.append(f"{kind} {info.table}" if info.table else kind)
    elif info.kind == "drop_table":
        impact.drops.extend(f"table {t}" for t in info.tables)
    elif info.kind == "drop_index":
        impact.drops.append(f"index {info.index}")
    elif info.kind in ("drop_other", "drop_schema"):
        impact.drops.extend(f"{info.object_type} {name}" for name in info.tables or (table,))
    elif info.kind == "alter_table":
        for action in info.actions:
            if action.kind == "drop_column":
                impact.drops.append(f"column {table}.{action.column}")
            elif action.kind == "add_column":
                impact.alters.append(f"{table}: add column {action.column}")
            else:
                target = f" {action.column}" if action.column else ""
                impact.alters.append(f"{table}: {action.kind.replace('_', ' ')}{target}")
    elif info.kind in ("rename_table", "truncate", "delete", "update"):
        impact.alters.append(f"{table}: {info.kind.replace('_', ' ')}")


def rollback_report(migrator: Migrator, strategy: Strategy, *, force: bool = True,
                    state: MigrationState | None = None,
                    detailed: bool = True,
                    server_version: GivenVersion | None = None) -> ImpactReport:
    """The impact of what ``rollback`` would do: down scripts in order, their findings
    (rollback-time ones), what they drop, the rows that would be lost, changed down
    scripts and the dependents rolled back too.

    Migrations without a down script make it raise Refused, naming them, as rollback does.
    With ``force=False`` it also refuses what rollback refuses without ``--force``.
    ``detailed=False`` leaves out the findings, as :func:`impact_report` does for a
    policy that judges none of them. ``server_version``: as for :func:`impact_report`.
    """
    state = state or migrator.state()
    plan = migrator.plan_rollback(strategy, force=force, state=state)
    ids = set(plan.ids)
    warnings = [w for w in plan.warnings if not w.startswith("--force:")]
    for entry in state.drifted():
        if entry.id in ids:
            warnings.append(
                f"{entry.id}: {' and '.join(entry.drift)} script changed since it was applied"
                " (rollback refuses it without --force)"
            )
    for step in plan.steps:
        dependents = [s.migration.id for s in plan.steps
                      if step.migration.id in s.migration.depends_on]
        if dependents:
            warnings.append(f"{step.migration.id} is needed by {', '.join(dependents)}, "
                            "rolled back before it")
    # The down scripts are judged as migrate judges up scripts: the same rules (over the
    # schema the applied migrations left), the same objects and live row counts.
    return _report(migrator, plan, warnings, findings=detailed,
                   applied=[e.id for e in state.applied()], server_version=server_version)


def impact_report(
    migrator: Migrator,
    strategy: Strategy | None = None,
    *,
    live: bool = True,
    detailed: bool = True,
    state: MigrationState | None = None,
    server_version: GivenVersion | None = None,
    **plan_options: bool,
) -> ImpactReport:
    """The impact of what ``migrate`` would do with ``strategy``; ``plan_options``
    (``force``, ``retry_failed``, ``require_checksum_validation``) as for ``migrate``.

    ``detailed=False`` leaves out what costs a pass over every statement (findings, the
    objects touched, row counts): for a gate whose policy judges none of it.
    The rules and the lock report judge by the live server's version; a
    ``server_version`` given (``--server-version``, the setting) that contradicts it is
    a warning of the report (see server_version.py).
    """
    plan = migrator.plan(strategy, state=state, **plan_options)
    warnings = list(plan.warnings)
    if live and detailed:  # another tool's history; a CREATE of an object that exists
        from .adoption import plan_warnings

        warnings += plan_warnings(migrator, plan, (state or migrator.state()).rows)
    return _report(migrator, plan, warnings, live=live and detailed,
                   findings=detailed, objects=detailed, server_version=server_version)


def _report(migrator: Migrator, plan: Plan, warnings: list[str], *, live: bool = True,
            findings: bool = True, objects: bool = True,
            applied: Collection[str] = (),
            server_version: GivenVersion | None = None) -> ImpactReport:
    """``applied``: for a rollback plan, the ids applied now (their up scripts are the
    schema its down scripts run over)."""
    planned_ids = {step.migration.id for step in plan.steps}
    by_migration: dict[str, list[Finding]] = {}
    allowed: dict[str, list[AllowedFinding]] = {}
    tables = None
    version: tuple[int, ...] | None = None
    if findings:
        from .validation import validate, validate_rollback

        with connect(migrator.engine) as conn:
            # Which tables the plan surely makes new: those the database has not got.
            tables = LiveTableNames.read(conn)
            conn.rollback()
            version, warning = reconcile(server_version, migrator.dialect,
                                         live_server_version(conn))
        warnings += [warning] if warning else []
        if plan.direction == "down":
            result = validate_rollback(migrator.migrations(), migrator.dialect,
                                       applied=set(applied), plan=plan.ids, live=tables,
                                       server_version=version)
        else:
            result = validate(migrator.migrations(), migrator.dialect, plan_ids=planned_ids,
                              live=tables, server_version=version)
        for finding in result.findings:
            by_migration.setdefault(finding.migration or "", []).append(finding)
        for item in result.allowed:
            allowed.setdefault(item.finding.migration or "", []).append(item)
    if not objects:
        return ImpactReport(plan.direction, plan.dialect, [
            MigrationImpact(step.migration.id, step.transactional, step.migration.reversible,
                            [s.text for s in step.statements],
                            leaves_behind=_leaves_behind(step, migrator.dialect))
            for step in plan.steps
        ], warnings, live=False)
    impacts = []
    with connect(migrator.engine) as conn:
        counter = RowCounter(conn) if live else None
        names = PlanNames(counter, tables) if counter is not None else None
        for step in plan.steps:
            impact = _impact_of(step, migrator.dialect, counter, names,
                                by_migration.get(step.migration.id, []), version)
            impact.allowed = allowed.get(step.migration.id, [])
            impacts.append(impact)
        conn.rollback()
        if counter is not None:
            _live_locks(conn, migrator.dialect, impacts)
            conn.rollback()
    if counter is not None:
        warnings = warnings + list(dict.fromkeys(counter.problems))
    return ImpactReport(plan.direction, plan.dialect, impacts, warnings,
                        live=counter is not None)


def live_server_version(conn: Connection) -> tuple[int, ...] | None:
    """The connected server's version (MariaDB's from 10, MySQL's 5 to 9: see
    :mod:`switchy_guard.locks_taken`); None for SQLite, whose version the rules ignore."""
    if conn.dialect.name == "sqlite":
        return None
    info = conn.dialect.server_version_info
    numbers = tuple(n for n in (info or ()) if isinstance(n, int))
    return numbers or None


def _live_locks(conn: Connection, dialect: str, impacts: list[MigrationImpact]) -> None:
    """Each locked table's size and the sessions holding a conflicting lock on it now
    (asked once per table and mode)."""
    from .blockers import conflicting_sessions, table_bytes
    from .locks_taken import mdl_requested

    sizes: dict[str, int | None] = {}
    asked: dict[tuple[str, str], list[Blocker]] = {}
    for impact in impacts:
        for planned in impact.locks:
            for lock in planned.taken.locks:
                if lock.table is None:
                    continue
                if lock.table not in sizes:
                    sizes[lock.table] = table_bytes(conn, dialect, lock.table)
                planned.table_bytes[lock.table] = sizes[lock.table]
                key = (lock.table, lock.mode)
                if key not in asked:
                    wanted = lock.mode if dialect != "mysql" else mdl_requested(lock)
                    asked[key] = conflicting_sessions(conn, dialect, lock.table, wanted)
                planned.blockers += [(lock.table, b) for b in asked[key]]


def _impact_of(step: PlannedMigration, dialect: str, counter: RowCounter | None,
               names: PlanNames | None, findings: list[Finding],
               server_version: tuple[int, ...] | None = None) -> MigrationImpact:
    impact = MigrationImpact(
        step.migration.id, step.transactional, step.migration.reversible,
        [s.text for s in step.statements], findings=findings,
    )
    from .locks_taken import NONE, locks_taken
    from .validation import parse_statements

    # The statements an anonymous block (DO, BEGIN NOT ATOMIC) runs count as the block's
    # own: its EXECUTE 'DROP TABLE t' drops t as surely as a DROP TABLE outside it.
    number = 0
    parsed = parse_statements(step.statements, dialect)
    impact.leaves_behind = _leaves_behind(step, dialect, [info for _, info in parsed])
    for statement, info in parsed:
        if statement.block is None:
            number += 1
        _objects(info, impact)
        taken = locks_taken(statement.text, info, dialect, server_version)
        if taken.locks or taken.effect != NONE:
            impact.locks.append(PlannedLock(number, taken))
        if counter is None or names is None:
            continue
        if step.migration.backfill is not None and step.direction == "up":
            impact.backfill = _backfill_estimate(step, info, counter)
        if info.kind in _DESTRUCTIVE | {"alter_table"}:
            impact.rows.extend(row_impacts(number, info, counter, names))
        names.observe(info)
    return impact


def _backfill_estimate(step: PlannedMigration, info: StatementInfo,
                       counter: RowCounter) -> dict[str, Any]:
    """A backfill's batches: ceil(live rows / batch_size), from the live row count (the
    statistics' estimate for a big table); rows None when the table is not there yet."""
    spec = step.migration.backfill
    assert spec is not None
    rows, estimate = None, False
    table = counter.live(counter.key(info.table)) if info.table is not None else None
    if table is not None:
        rows, estimate, _ = counter.rows(table)
    return {"batch_size": spec.batch_size, "pause_ms": spec.pause_ms,
            "table": str(info.table), "rows": rows, "rows_estimated": estimate,
            "batches": None if rows is None else math.ceil(rows / spec.batch_size)}


def _backfill_text(backfill: dict[str, Any]) -> str:
    size = f"{backfill['batch_size']:,}"
    if backfill["batches"] is None:
        return (f"   backfill: batches of {size} rows on {backfill['table']} (rows unknown: "
                "the table is not there yet)")
    rows = _counted(backfill["rows"], "row")
    return (f"   backfill: ~{backfill['batches']:,} batches of {size} rows on "
            f"{backfill['table']} ({'~' if backfill['rows_estimated'] else ''}{rows} live), "
            f"{backfill['pause_ms']} ms apart")


def _leaves_behind(step: PlannedMigration, dialect: str | None,
                   down: list[StatementInfo] | None = None) -> list[SchemaObject]:
    """Rolling back ``step``: what its up made that its down script does not drop."""
    migration = step.migration
    if step.direction != "down" or not isinstance(migration.up, str) or callable(
            migration.down):
        return []
    if down is None:
        down = parse_script(migration.down or "", dialect)
    return left_behind(created_objects(parse_script(migration.up, dialect)),
                       dropped_objects(down))


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


#: Report-wide warnings shown at most in the Markdown report (the text report has all).
_MD_WARNINGS = 20


def render_markdown(report: ImpactReport, *, limit: int | None = None) -> str:
    """The report as a pull-request comment of at most ``limit`` characters (check's
    bound): a summary first (counts, report warnings, the gate's verdict, findings by rule
    and severity), then one row per migration, the most severe first (``#`` is its place
    in the run). When not all rows fit, the last line says how many were left out and how
    to see them all."""
    from .report.findings import MARKDOWN_LIMIT, fit_comment, md_clip, md_counts

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
