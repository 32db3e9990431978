"""Checksum validation and bookkeeping operations on the tracking table.

Each writing operation runs under the migration lock, re-reads the state after taking
it, and records itself in the audit journal in the same transaction as its change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.engine import Connection

from switchy_guard.errors import ConfigError, Refused, check_migration_id
from switchy_guard.model.migration import Migration
from switchy_guard.model.records import COMPLETED, FAILED, IN_PROGRESS
from switchy_guard.model.state import MigrationState
from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import connect, connect_for_write
from switchy_guard.runtime.lock import HeldLock
from switchy_guard.runtime.runner import Migrator
from switchy_guard.sql.objects import SchemaObject, created_objects, describe, parse_script

Scope = Literal["pending", "include-failed", "include-in-progress", "all"]
SCOPES: tuple[Scope, ...] = ("pending", "include-failed", "include-in-progress", "all")


def scope_label(scopes: Collection[str]) -> str:
    """``include-failed+include-in-progress``: the scopes given, in SCOPES order."""
    return "+".join(s for s in SCOPES if s in scopes) or "pending"


@dataclass
class ChecksumReport:
    """Applied migrations sorted by what their checksums say."""

    verified: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No mismatch (unknown checksums are not mismatches)."""
        return not self.mismatched


@contextmanager
def _locked(migrator: Migrator) -> Iterator[tuple[HeldLock, Connection]]:
    """A connection held under the migration lock, as every writing operation needs, and
    the lock, whose :meth:`~switchy_guard.runtime.lock.HeldLock.fence` each writing
    transaction calls first: a lock broken since it was taken (``lock break --force``,
    the next run's record) then refuses the write, and nothing is recorded."""
    with migrator.locked() as held, connect(migrator.engine) as conn:
        yield held, conn


_NOTHING_WRITTEN = "nothing was recorded"


def validate_checksums(state: MigrationState) -> ChecksumReport:
    """Compare the recorded checksums of applied migrations with the current files."""
    report = ChecksumReport()
    for entry in state.entries:
        if entry.row is None or entry.state != COMPLETED:
            continue
        if entry.migration is None:
            report.missing.append(entry.id)
        elif entry.unknown_checksum:
            report.unknown.append(entry.id)
        elif entry.drift:
            report.mismatched.append((entry.id, entry.drift))
        else:
            report.verified.append(entry.id)
    return report


def mark_all_completed(
    migrator: Migrator,
    scope: Scope | Collection[Scope] = "pending",
    *,
    drop: bool = False,
    environment: str = "development",
    command: str = "mark-all-completed",
    policy: str | None = None,
    to: str | None = None,
) -> list[str]:
    """Record migrations as completed without running them; returns the ids marked.

    ``to``: a partial baseline, only the migrations up to and including this id (in run
    order); an empty or unknown id is a ConfigError, before anything is written.

    ``pending`` records migrations with no row, with the current checksums;
    ``include-failed`` and ``include-in-progress`` also turn those rows to completed
    (give both to do both); ``all`` is both of them, as in switchy-migrate. Rows already
    ``completed`` are never touched, and a failed or in-progress row is updated in place
    (its ``run_on`` and checksums kept, as switchy_schema's ``mark_all_migrations_completed``
    does), so marking never hides drift. ``drop`` first drops and recreates the tracking
    table (all history is lost), as switchy-migrate's ``--drop`` does.
    """
    scopes = {scope} if isinstance(scope, str) else set(scope)
    for unknown in sorted(scopes - set(SCOPES)):
        raise ConfigError(f"unknown scope {unknown!r} (known: {', '.join(SCOPES)})")
    tracking, migrations = migrator.tracking, migrator.migrations()
    if to is not None:
        migrations = migrations_up_to(migrations, to)
    with _locked(migrator) as (held, conn):
        if drop:
            with conn.begin():
                held.fence(conn, _NOTHING_WRITTEN)
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {tracking.quoted(conn)}")
        with conn.begin():
            tracking.ensure(conn)
        rows = tracking.read(conn)
        conn.commit()
        states = {IN_PROGRESS} if scopes & {"include-in-progress", "all"} else set()
        states |= {FAILED} if scopes & {"include-failed", "all"} else set()
        marked = [m for m in migrations if m.id not in rows or rows[m.id].status in states]
        with conn.begin():
            held.fence(conn, _NOTHING_WRITTEN)
            for migration in marked:
                if migration.id in rows:
                    tracking.set_status(conn, migration.id, COMPLETED)
                else:
                    tracking.record(conn, migration.id, COMPLETED, migration.up_checksum,
                                    migration.down_checksum)
            AuditJournal(tracking.name).record(
                conn, command, environment=environment, policy=policy,
                target=",".join(m.id for m in marked),
                detail=f"scope={scope_label(scopes)} drop={drop}"
                       + (f" to={to}" if to is not None else "")
                       + f": {len(marked)} marked completed",
            )
    return [m.id for m in marked]


def migrations_up_to(migrations: Sequence[Migration], to: str) -> list[Migration]:
    """The migrations in run order up to and including ``to`` (ConfigError when it is
    empty or names none of them)."""
    if not to.strip():
        raise ConfigError("--to needs a migration id (it is empty)")
    ids = [m.id for m in migrations]
    if to not in ids:
        raise ConfigError(f"--to names an unknown migration {to!r}")
    return list(migrations[:ids.index(to) + 1])


def adopt_checksums(
    migrator: Migrator,
    ids: Sequence[str] = (),
    *,
    environment: str = "development",
    command: str = "adopt-checksums",
    policy: str | None = None,
) -> list[str]:
    """Record the current checksums for rows that hold unknown ones (64 zeros).

    ``ids`` limits it to those migrations; naming one whose checksums are known (or
    that is not applied) is refused, so real drift is never papered over this way.
    """
    tracking = migrator.tracking
    migrations = migrator.migrations()
    for migration_id in ids:
        check_migration_id("ids", migration_id, {m.id for m in migrations})
    with _locked(migrator) as (held, conn):
        with conn.begin():
            held.fence(conn, _NOTHING_WRITTEN)
            tracking.ensure(conn)  # a legacy table gets its checksum columns first
        state = MigrationState(migrations, tracking.read(conn))
        conn.commit()
        unknown = {e.id: e for e in state.entries if e.unknown_checksum and e.migration}
        for migration_id in ids:
            if migration_id not in unknown:
                raise Refused(
                    f"{migration_id} has no unknown checksums to adopt (only rows holding 64 "
                    "zeros can be adopted)"
                )
        chosen = [unknown[i] for i in ids] if ids else list(unknown.values())
        with conn.begin():
            held.fence(conn, _NOTHING_WRITTEN)
            for entry in chosen:
                assert entry.migration is not None
                tracking.set_checksums(conn, entry.id, entry.migration.up_checksum,
                                       entry.migration.down_checksum)
            AuditJournal(tracking.name).record(
                conn, command, environment=environment, policy=policy,
                target=",".join(e.id for e in chosen),
                detail=f"adopted the current checksums of {len(chosen)} migration(s)",
            )
    return [e.id for e in chosen]


def mark(
    migrator: Migrator,
    migration_id: str,
    status: Literal["completed", "failed"],
    *,
    reason: str | None = None,
    environment: str = "development",
    command: str = "mark",
    policy: str | None = None,
    force: bool = False,
) -> str:
    """Record one migration as ``completed`` or ``failed`` without running it; returns
    the state it had before (``pending`` when it had no row).

    The migration must exist in the sources (found before the row is touched). As in
    switchy_schema's ``mark_migration_completed``: an existing row is updated in place
    (its ``run_on`` and the checksums it ran with kept, never duplicated), and marking a
    ``completed`` row completed changes nothing, so it cannot hide drift. A migration
    with no row is recorded with the current checksums.

    Marking one completed first checks that the tables, columns, indexes and views its
    up script creates exist on the database: when some are missing it is refused
    (Refused, naming them), unless ``force``, and the override is journaled.
    """
    tracking = migrator.tracking
    migrations = migrator.migrations()
    check_migration_id("migration_id", migration_id, {m.id for m in migrations})
    migration = next(m for m in migrations if m.id == migration_id)
    with _locked(migrator) as (held, conn):
        with conn.begin():
            tracking.ensure(conn)
        rows = tracking.read(conn)
        conn.commit()
        previous = rows[migration_id].status if migration_id in rows else "pending"
        missing: list[SchemaObject] = []
        if status == COMPLETED and previous != COMPLETED:
            missing = missing_objects(conn, migration, migrator.dialect)
            conn.rollback()
            if missing and not force:
                raise Refused(
                    f"cannot mark {migration_id} completed: what its up creates is missing "
                    f"from the database: {describe(missing, 10)} (apply it with migrate, or "
                    "pass --force to record it anyway)")
        forced = (f" (--force: missing {describe(missing, 10)})" if missing else "")
        reason = reason if status == FAILED else None
        with conn.begin():
            held.fence(conn, _NOTHING_WRITTEN)
            if previous == "pending":
                tracking.record(conn, migration_id, status, migration.up_checksum,
                                migration.down_checksum, reason)
            elif previous != COMPLETED or status != COMPLETED:
                tracking.set_status(conn, migration_id, status, reason)
            unchanged = " (already completed: unchanged)" if previous == status == COMPLETED \
                else ""
            AuditJournal(tracking.name).record(
                conn, command, environment=environment, policy=policy, target=migration_id,
                detail=f"{previous} -> {status}{unchanged}{forced}"
                + (f": {reason}" if reason else ""),
            )
    return previous


def missing_objects(conn: Connection, migration: Migration,
                    dialect: str | None) -> list[SchemaObject]:
    """The tables, columns, indexes and views ``migration``'s up script creates that the
    database behind ``conn`` lacks (names compared ignoring case). Other objects
    (functions, types, ...) and a Python up are not checked."""
    if not isinstance(migration.up, str):
        return []
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    inspector = inspect(conn)
    missing: list[SchemaObject] = []

    def names(kind: str, schema: str | None, table: str | None = None) -> set[str]:
        try:
            if kind == "table":
                found = inspector.get_table_names(schema)
            elif kind == "view":
                found = inspector.get_view_names(schema)
                if conn.dialect.name == "postgresql":
                    found += inspector.get_materialized_view_names(schema)
            elif kind == "column":
                found = [c["name"] for c in inspector.get_columns(table or "", schema)]
            else:
                found = [i["name"] or "" for i in inspector.get_indexes(table or "", schema)]
        except SQLAlchemyError:  # no such schema or table
            return set()
        return {name.casefold() for name in found}

    for obj in created_objects(parse_script(migration.up, dialect)):
        kind = "view" if obj.kind == "materialized view" else obj.kind
        if kind in ("table", "view"):
            present = names(kind, obj.schema)
        elif kind in ("column", "index") and obj.table:
            schema, _, table = obj.table.rpartition(".")
            if any(m.kind == "table" and m.name.casefold() == table.casefold()
                   for m in missing):
                continue  # named through its table
            present = names(kind, schema or None, table)
        else:
            continue
        if obj.name.casefold() not in present:
            missing.append(obj)
    return missing


def check_retryable(migrator: Migrator, migration_id: str) -> None:
    """Refuse (Refused, saying why) a retry of ``migration_id`` unless it is the one failed
    migration and nothing pending sorts before it (a retry would apply that too)."""
    state = migrator.state()
    row = state.rows.get(migration_id)
    if row is None or row.status != FAILED:
        now = row.status if row else "pending"
        raise Refused(f"{migration_id} is {now}; only a failed migration can be retried")
    others = [e.id for e in state.failed() if e.id != migration_id]
    if others:
        raise Refused(f"other migrations failed too ({', '.join(others)}); "
                      "retry them first")
    # A retry runs up to this migration: anything pending before it would run too.
    order = {m.id: position for position, m in enumerate(state.migrations)}
    before = [m.id for m in state.pending() if order[m.id] < order[migration_id]]
    if before:
        raise Refused(f"pending migrations sort before {migration_id} "
                      f"({', '.join(before)}), and a retry would apply them too; apply "
                      f"them first (migrate --to {before[-1]})")


def retry(
    migrator: Migrator,
    migration_id: str,
    *,
    environment: str = "development",
    command: str = "retry",
    policy: str | None = None,
    from_start: bool = False,
) -> list[str]:
    """Re-run one failed migration (its row is replaced only when it succeeds or fails anew).

    Unlike switchy-migrate, the migration is found in the sources before anything is
    touched, and only a ``failed`` row can be retried. Through the policy's gates (as
    ``migrate`` runs): :func:`switchy_guard.gates.run.gated_retry`.
    """
    from switchy_guard.model.plan import UpTo

    check_migration_id("migration_id", migration_id, {m.id for m in migrator.migrations()})
    check_retryable(migrator, migration_id)
    try:
        done = migrator.migrate(UpTo(migration_id), retry_failed=True,
                                from_start=from_start).done
        outcome, detail = "ok", f"applied {', '.join(done)}"
        return done
    except Exception as error:
        outcome, detail = "failed", str(error)
        raise
    finally:
        with connect_for_write(migrator.engine) as conn, conn.begin():
            AuditJournal(migrator.tracking.name).record(
                conn, command, environment=environment, policy=policy, target=migration_id,
                outcome=outcome, detail=detail,
            )
