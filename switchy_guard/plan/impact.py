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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchy_guard.model.findings import Finding
from switchy_guard.model.plan import Plan, PlannedMigration
from switchy_guard.model.server_version import reconcile
from switchy_guard.model.state import MigrationState
from switchy_guard.plan.rowcounts import PlanNames, RowImpact, row_impacts
from switchy_guard.runtime import live as live_db
from switchy_guard.runtime.db import connect
from switchy_guard.runtime.live import RowCounter, read_live_table_names
from switchy_guard.sql.objects import (
    SchemaObject,
    created_objects,
    dropped_objects,
    left_behind,
    leftover_line,
    parse_script,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from switchy_guard.check.pipeline import AllowedFinding
    from switchy_guard.model.migration import Migration
    from switchy_guard.model.server_version import GivenVersion
    from switchy_guard.model.verdict import Verdict
    from switchy_guard.runtime.blockers import Blocker
    from switchy_guard.sql.classify import StatementInfo
    from switchy_guard.sql.locks import LocksTaken

# The validator and the classifier are imported where a detailed report needs them: a
# run whose policy judges nothing from the plan does not pay for loading every rule.

_DESTRUCTIVE = {"drop_table", "truncate", "delete", "update"}


@dataclass
class PlannedLock:
    """The locks one statement takes; with a database, the size of each table it locks
    and the sessions that would block it right now (see :mod:`switchy_guard.sql.locks`
    and :func:`switchy_guard.runtime.blockers.conflicting_sessions`)."""

    statement: int
    taken: LocksTaken
    table_bytes: dict[str, int | None] = field(default_factory=dict)
    #: (table, session): a session holding a lock on the table that conflicts.
    blockers: list[tuple[str, Blocker]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``locks`` of a migration); queries masked."""
        from switchy_guard.masking import mask_message

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


def report_of(plan: Plan, migrations: Sequence[Migration], engine: Engine,
              warnings: list[str], *, live: bool = True, findings: bool = True,
              objects: bool = True, applied: Collection[str] = (),
              server_version: GivenVersion | None = None) -> ImpactReport:
    """The impact report of ``plan``, a plan of ``migrations`` (every migration of the
    source, in order) on the database of ``engine``: each step's statements, objects,
    findings and (``live``) the rows and locks it would touch there. ``findings=False``
    and ``objects=False`` leave out what costs a pass over every statement. ``applied``:
    for a rollback plan, the ids applied now (their up scripts are the schema its down
    scripts run over). The rules and the lock report judge by the live server's version;
    a ``server_version`` given (``--server-version``, the setting) that contradicts it is
    a warning of the report (see model/server_version.py)."""
    dialect = plan.dialect
    planned_ids = {step.migration.id for step in plan.steps}
    by_migration: dict[str, list[Finding]] = {}
    allowed: dict[str, list[AllowedFinding]] = {}
    tables = None
    version: tuple[int, ...] | None = None
    if findings:
        from switchy_guard.check.pipeline import validate, validate_rollback

        with connect(engine) as conn:
            # Which tables the plan surely makes new: those the database has not got.
            tables = read_live_table_names(conn)
            conn.rollback()
            version, warning = reconcile(server_version, dialect,
                                         live_db.live_server_version(conn))
        warnings += [warning] if warning else []
        if plan.direction == "down":
            result = validate_rollback(list(migrations), dialect,
                                       applied=set(applied), plan=plan.ids, live=tables,
                                       server_version=version)
        else:
            result = validate(list(migrations), dialect, plan_ids=planned_ids,
                              live=tables, server_version=version)
        for finding in result.findings:
            by_migration.setdefault(finding.migration or "", []).append(finding)
        for item in result.allowed:
            allowed.setdefault(item.finding.migration or "", []).append(item)
    if not objects:
        return ImpactReport(plan.direction, plan.dialect, [
            MigrationImpact(step.migration.id, step.transactional, step.migration.reversible,
                            [s.text for s in step.statements],
                            leaves_behind=_leaves_behind(step, dialect))
            for step in plan.steps
        ], warnings, live=False)
    impacts = []
    with connect(engine) as conn:
        counter = RowCounter(conn) if live else None
        names = PlanNames(counter, tables) if counter is not None else None
        for step in plan.steps:
            impact = _impact_of(step, dialect, counter, names,
                                by_migration.get(step.migration.id, []), version)
            impact.allowed = allowed.get(step.migration.id, [])
            impacts.append(impact)
        conn.rollback()
        if counter is not None:
            _live_locks(conn, dialect, impacts)
            conn.rollback()
    if counter is not None:
        warnings = warnings + list(dict.fromkeys(counter.problems))
    return ImpactReport(plan.direction, plan.dialect, impacts, warnings,
                        live=counter is not None)


def _live_locks(conn: Connection, dialect: str, impacts: list[MigrationImpact]) -> None:
    """Each locked table's size and the sessions holding a conflicting lock on it now
    (asked once per table and mode)."""
    from switchy_guard.runtime.blockers import conflicting_sessions, table_bytes
    from switchy_guard.sql.locks import mdl_requested

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
    from switchy_guard.sql.locks import NONE, locks_taken
    from switchy_guard.sql.parse import parse_statements

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


def rollback_warnings(plan: Plan, state: MigrationState) -> list[str]:
    """What a rollback plan's report warns of: the plan's own warnings (but ``--force``
    advice), changed down scripts of the migrations it rolls back, and the dependents
    rolled back before what they depend on."""
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
    return warnings
