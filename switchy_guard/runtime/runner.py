"""The runner: turns ordered migrations and the tracking state into a plan and applies it.

Transactions: on SQLite and PostgreSQL a migration's statements and its tracking row
share one transaction, so a failure leaves the schema untouched; the row is written as
``completed`` at the end of that transaction (a reader never sees the ``in_progress``
row of a transactional migration, so none is written). A migration marked
``transactional = false``, one holding a statement that cannot run in a transaction
(``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ...), and every migration on MySQL/MariaDB
(DDL commits implicitly there) run statement by statement: an ``in_progress`` row is
committed first, and ``<table>_statements`` records how many statements ran, so a
failure says exactly what was applied.

This module plans (what runs, in which order, and what is refused) and drives the run
(lock, hooks, one migration after another); how each migration's statements reach the
database is :mod:`switchy_guard.runtime.execute`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from switchy_guard.discovery import SourceSpec, as_source, load_migrations
from switchy_guard.errors import (
    BadMigrationId,
    ConfigError,
    InputError,
    MigrationFailed,
    Refused,
    SwitchyError,
    check_migration_id,
)
from switchy_guard.model.migration import Migration
from switchy_guard.model.plan import (
    All,
    Direction,
    Plan,
    PlannedMigration,
    RunResult,
    Steps,
    Strategy,
    UpTo,
)
from switchy_guard.model.state import MigrationState, MigrationStatus, dirty_cause, progress_note
from switchy_guard.runtime.db import connect, create_database_engine, dialect_of
from switchy_guard.runtime.execute import (
    Executor,
    first_line,
    foreign_keys_restored,
    may_change_session,
    reset_session,
)
from switchy_guard.runtime.lock import DEFAULT_LOCK_TIMEOUT, HeldLock, hold_migration_lock
from switchy_guard.runtime.retry import Timeouts
from switchy_guard.runtime.tracking import COMPLETED, DEFAULT_TABLE, TrackingTable
from switchy_guard.sql.execution import (
    controls_transaction,
    needs_autocommit,
    outside_transaction,
)

if TYPE_CHECKING:
    from switchy_guard.model.records import StatementProgress
    from switchy_guard.sql import Statement


# -- hooks --------------------------------------------------------------------------


@dataclass
class Hooks:
    """Callbacks around a run. Each is optional.

    ``before_all(plan)``, ``before_each(planned)``, ``after_each(planned, seconds)``,
    ``on_error(planned, error)``, ``after_all(result)``. A hook that raises stops the run.
    """

    before_all: Callable[[Plan], None] | None = None
    before_each: Callable[[PlannedMigration], None] | None = None
    after_each: Callable[[PlannedMigration, float], None] | None = None
    on_error: Callable[[PlannedMigration, MigrationFailed], None] | None = None
    after_all: Callable[[RunResult], None] | None = None
    #: ``on_retry(planned, attempt, reason, pause)``: attempt ``attempt`` (1-based) gave
    #: up on a lock (``reason``), and is tried again after ``pause`` seconds.
    on_retry: Callable[[PlannedMigration, int, str, float], None] | None = None


class Migrator:
    """Applies and rolls back the migrations of ``source`` on ``database``.

    ``source`` is a source object, a folder path, ``package:subdir`` for migrations
    shipped inside a package, or a list of those. ``database`` is a URL or an Engine.
    ``checksum_mode`` (``file`` or ``exec-raw``) says how folder and package sources hash
    their scripts (see :mod:`switchy_guard.model.checksum`).
    """

    def __init__(
        self,
        source: SourceSpec,
        database: str | URL | Engine,
        *,
        table: str = DEFAULT_TABLE,
        hooks: Hooks | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        checksum_mode: str = "file",
        timeouts: Timeouts | None = None,
    ) -> None:
        self.source = as_source(source, checksum_mode=checksum_mode)
        self.tracking = TrackingTable(table)
        self.engine = database if isinstance(database, Engine) else create_database_engine(database)
        self.dialect = dialect_of(self.engine.url)
        self.hooks = hooks or Hooks()
        self.lock_timeout = lock_timeout
        #: The migrations' own lock and statement timeouts and lock retries (retry.py).
        self.timeouts = timeouts or Timeouts()
        self._migrations: list[Migration] | None = None
        self._split: dict[tuple[str, str], tuple[Statement, ...]] = {}

    # -- reading ------------------------------------------------------------------

    def migrations(self) -> list[Migration]:
        """The source's migrations for this database, in run order (read once)."""
        if self._migrations is None:
            self._migrations = load_migrations(self.source, self.dialect)
        return self._migrations

    def state(self) -> MigrationState:
        """The current state: one query for the rows (none written)."""
        migrations = self.migrations()
        with connect(self.engine) as conn:
            return self._read_state(conn, migrations)

    def _read_state(self, conn: Connection, migrations: list[Migration]) -> MigrationState:
        rows = self.tracking.read(conn)
        dirty = any(row.status != COMPLETED for row in rows.values())
        progress = self.tracking.read_progress(conn) if dirty else {}
        conn.commit()
        return MigrationState(migrations, rows, progress)

    # -- planning -----------------------------------------------------------------

    def plan(
        self,
        strategy: Strategy | None = None,
        *,
        retry_failed: bool = False,
        force: bool = False,
        require_checksum_validation: bool = False,
        state: MigrationState | None = None,
        from_start: bool = False,
    ) -> Plan:
        """What ``migrate`` would run. Raises Refused when the state forbids running.

        ``require_checksum_validation`` refuses any drift even with ``force``, and rows
        whose checksums are unknown (they cannot be validated). A failed migration that
        ran statement by statement and left some applied is re-run (``retry_failed``)
        only with ``from_start``: a re-run starts at its first statement, so the person
        says those were undone.
        """
        state = state or self.state()
        strategy = strategy or All()
        warnings: list[str] = []
        if require_checksum_validation:
            unverifiable = [e.id for e in state.applied() if e.unknown_checksum]
            if state.drifted() or unverifiable:
                changed = [e.id for e in state.drifted()]
                raise Refused(
                    "checksum validation failed: "
                    + "; ".join(part for part in (
                        f"changed since applied: {', '.join(changed)}" if changed else "",
                        f"unknown checksums (adopt them with adopt-checksums): "
                        f"{', '.join(unverifiable)}" if unverifiable else "",
                    ) if part)
                )
        for entry in state.in_progress():
            if not force:
                raise Refused(
                    f"migration {entry.id} is in_progress: {dirty_cause(entry)}"
                    f"{progress_note(entry, self.dialect)}; check the schema, then mark it "
                    "completed or failed, or re-run with --force"
                )
            warnings.append(f"--force: re-running {entry.id}, left in_progress")
        self._check_drift(state.drifted(), force, warnings)
        failed = {e.id for e in state.failed() if e.migration is not None}
        if failed and not retry_failed:
            first = next(e for e in state.failed() if e.migration is not None)
            reason = (first.row.failure_reason if first.row else None) or "no reason recorded"
            progress = _left_applied(first)
            if progress is not None:
                # Run statement by statement: what ran stayed, and a retry starts over.
                raise Refused(
                    f"migration {first.id} failed earlier ({first_line(reason)}) after "
                    f"{progress.statements_applied} of {progress.statements_total} statements"
                    " were applied, which stay applied; a re-run starts from its first "
                    "statement: undo those by hand, fix it and re-run with --retry-failed "
                    "--from-start, or finish it by hand and mark it completed"
                )
            raise Refused(
                f"migration {first.id} failed earlier ({first_line(reason)}); fix it and "
                "re-run with --retry-failed"
            )
        for entry in state.missing():
            warnings.append(f"{entry.id} is recorded in the database but missing from the sources")
        rerun = failed | ({e.id for e in state.in_progress()} if force else set())
        rerun |= {m.id for m in state.pending() if m.repeatable}  # changed since it ran
        candidates = [m for m in state.migrations if m.id not in state.rows or m.id in rerun]
        selected = self._select_up(candidates, state.migrations, strategy)
        if not from_start:
            _refuse_partial_reruns(state, {m.id for m in selected} & failed)
        steps = tuple(self._planned(m, "up", replaces_row=m.id in state.rows) for m in selected)
        return Plan("up", self.dialect, steps, tuple(warnings))

    def _select_up(
        self, candidates: list[Migration], ordered: list[Migration], strategy: Strategy
    ) -> list[Migration]:
        check_strategy(strategy, ordered)
        if isinstance(strategy, Steps):
            return candidates[: strategy.n]
        if isinstance(strategy, UpTo):
            position = {m.id: i for i, m in enumerate(ordered)}
            limit = position[strategy.id]
            return [m for m in candidates if position[m.id] <= limit]
        return candidates

    def migrate_refusal(self, state: MigrationState | None = None, *,
                        require_checksum_validation: bool = False) -> str | None:
        """Why a plain ``migrate`` would refuse to run now, in the planner's own words,
        or None when it would run (or have nothing to do). Asked of the planner itself,
        so ``status`` and ``migrate`` cannot disagree; only when a row could block, so a
        clean state reads no script."""
        state = state or self.state()
        troubled = state.failed() or state.in_progress() or state.drifted() or (
            require_checksum_validation and any(e.unknown_checksum for e in state.applied()))
        if not troubled:
            return None
        try:
            self.plan(state=state, require_checksum_validation=require_checksum_validation)
        except Refused as refused:
            return refused.one_line()
        except SwitchyError:
            # A pending script migrate would refuse (check names it): not the state's
            # doing, and no reason for status to fail.
            return None
        return None

    def plan_rollback(
        self,
        strategy: Strategy,
        *,
        force: bool = False,
        state: MigrationState | None = None,
    ) -> Plan:
        """What ``rollback`` would run, newest applied first. Raises before anything runs."""
        state = state or self.state()
        check_strategy(strategy, state.migrations)
        warnings: list[str] = []
        for entry in state.in_progress():
            if not force:
                raise Refused(
                    f"migration {entry.id} is in_progress: {dirty_cause(entry)}"
                    f"{progress_note(entry, self.dialect)}; resolve it before rolling back, "
                    "or use --force"
                )
            warnings.append(f"--force: rolling back past {entry.id}, left in_progress")
        # Repeatable migrations (Flyway's) are not undone: a rollback undoes versions.
        applied = [e for e in _missing_placed_by_id(state.applied())
                   if e.migration is None or not e.migration.repeatable]
        if isinstance(strategy, Steps):
            chosen = applied[max(0, len(applied) - strategy.n) :] if strategy.n else []
        elif isinstance(strategy, UpTo):
            _check_rollback_target(strategy.id, state)
            position = {m.id: i for i, m in enumerate(state.migrations)}
            cut = position[strategy.id]
            chosen = [e for e in applied if
                      (position[e.id] > cut if e.id in position else e.id > strategy.id)]
        else:
            chosen = applied
        missing = [e.id for e in chosen if e.migration is None]
        if missing:
            raise Refused(
                "cannot roll back migrations missing from the sources: " + ", ".join(missing)
            )
        irreversible = [e.migration for e in chosen if e.migration and not e.migration.reversible]
        if irreversible:
            raise Refused(irreversible_refusal(irreversible, self.dialect))
        self._check_drift([e for e in chosen if e.drift], force, warnings)
        steps = tuple(self._planned(e.migration, "down") for e in reversed(chosen) if e.migration)
        return Plan("down", self.dialect, steps, tuple(warnings))

    def _check_drift(
        self, drifted: list[MigrationStatus], force: bool, warnings: list[str]
    ) -> None:
        if not drifted:
            return
        names = ", ".join(f"{e.id} ({'+'.join(e.drift)})" for e in drifted)
        if not force:
            raise Refused(
                f"applied migrations changed since they ran (checksum mismatch): {names}; "
                "restore the files, or re-run with --force"
            )
        warnings.append(f"--force: ignoring checksum mismatch of {names}")

    def _planned(
        self, migration: Migration, direction: Direction, *, replaces_row: bool = False
    ) -> PlannedMigration:
        key = (migration.id, direction)
        statements = self._split.get(key)
        step = migration.up if direction == "up" else migration.down
        if statements is None:  # a gated run plans twice: split each script once
            from switchy_guard.sql import (
                split_statements,  # not imported by the verbs that only read
            )

            statements = (tuple(split_statements(step, self.dialect))
                          if isinstance(step, str) else ())
            self._split[key] = statements
        transactional = (
            migration.transactional and self.dialect != "mysql"
            and not any(needs_autocommit(s.text, self.dialect) for s in statements)
        )
        outside = outside_transaction(statements) if self.dialect == "sqlite" else (0, 0)
        if outside is None:
            transactional, outside = False, (0, 0)
        if transactional:
            _refuse_transaction_control(migration, direction, statements, self.dialect)
        return PlannedMigration(migration, direction, statements, transactional, replaces_row,
                                outside if transactional else (0, 0),
                                may_change_session(self.dialect, step, statements))

    # -- running ------------------------------------------------------------------

    def migrate(
        self,
        strategy: Strategy | None = None,
        *,
        dry_run: bool = False,
        retry_failed: bool = False,
        force: bool = False,
        require_checksum_validation: bool = False,
        approved: Collection[str] | None = None,
        lock: bool | HeldLock = True,
        from_start: bool = False,
    ) -> RunResult:
        """Apply pending migrations under the migration lock.

        ``dry_run`` writes nothing (not even the tracking table) and returns the plan.
        ``approved``: the ids a gate let through; if the plan made after taking the lock
        holds any other, nothing runs (Refused). ``lock=False`` runs without the lock; a
        HeldLock is one the caller holds already. Before each migration the run checks it
        still holds the lock, and stops (LockLost) if it was broken meanwhile; each
        tracking write checks the lock's fencing token in its own transaction, so the
        migration under way rolls back, or stops before its next statement (LockLost).
        """
        def planned(state: MigrationState | None) -> Plan:
            return self.plan(
                strategy, retry_failed=retry_failed, force=force,
                require_checksum_validation=require_checksum_validation, state=state,
                from_start=from_start,
            )

        if dry_run:
            return RunResult(planned(None), True)
        migrations = self.migrations()
        with self.locked(lock) as held, connect(self.engine) as conn:
            with conn.begin():
                self.tracking.ensure(conn)
            # Re-read after taking the lock: the previous holder may have applied some.
            state = self._read_state(conn, migrations)
            plan = planned(state)
            _check_approved(plan, approved)
            return self._run(conn, plan, held)

    def rollback(
        self,
        strategy: Strategy,
        *,
        dry_run: bool = False,
        force: bool = False,
        approved: Collection[str] | None = None,
        lock: bool | HeldLock = True,
    ) -> RunResult:
        """Roll back applied migrations, newest first, under the migration lock
        (``approved`` and ``lock`` as for :meth:`migrate`)."""
        if dry_run:
            return RunResult(self.plan_rollback(strategy, force=force), True)
        migrations = self.migrations()
        with self.locked(lock) as held, connect(self.engine) as conn:
            state = self._read_state(conn, migrations)
            plan = self.plan_rollback(strategy, force=force, state=state)
            _check_approved(plan, approved)
            return self._run(conn, plan, held)

    def locked(self, lock: bool | HeldLock = True) -> AbstractContextManager[HeldLock]:
        """The migration lock of this database and table: taken when ``lock`` is True,
        none when False, ``lock`` itself when the caller holds it already."""
        if isinstance(lock, HeldLock):
            return nullcontext(lock)
        if not lock:
            return nullcontext(HeldLock(""))
        return hold_migration_lock(self.engine, self.tracking.name, self.lock_timeout)

    def _run(self, conn: Connection, plan: Plan, held: HeldLock) -> RunResult:
        self.tracking.pin_schema(conn)
        conn.commit()
        executor = Executor(self.engine, self.dialect, self.tracking, self.timeouts,
                            self.hooks, held)
        try:
            with executor.timeouts_restored(conn, run=True):
                return self._run_pinned(conn, plan, executor)
        finally:
            self.tracking.unpin_schema()
            if conn.dialect.name == "postgresql":
                # Once per run: a SET the migrations' text does not show (inside a
                # function they call) must not go back to the pool with the connection.
                with contextlib.suppress(DBAPIError):
                    conn.rollback()
                    reset_session(conn)
                    conn.commit()

    def _run_pinned(self, conn: Connection, plan: Plan, executor: Executor) -> RunResult:
        held = executor.held
        started = time.perf_counter()
        result = RunResult(plan, False)
        if self.hooks.before_all:
            self.hooks.before_all(plan)
        for planned in plan.steps:
            held.verify(f"{planned.migration.id} (those before it were done)")
            if self.hooks.before_each:
                self.hooks.before_each(planned)
            step_started = time.perf_counter()
            try:
                with foreign_keys_restored(conn, planned.changes_session):
                    if planned.migration.backfill is not None and planned.direction == "up":
                        from switchy_guard.runtime.backfill import run as run_backfill

                        # Batches of their own transactions, each fenced; the statement
                        # lock timeout when the run has one (else the backfill default).
                        run_backfill(conn, planned, self.tracking, held,
                                     lock_timeout=self.timeouts.statement_lock_timeout)
                    elif planned.transactional:
                        executor.apply_in_transaction(conn, planned)
                    else:
                        executor.apply_statement_by_statement(conn, planned)
            except MigrationFailed as error:
                if self.hooks.on_error:
                    self.hooks.on_error(planned, error)
                raise
            result.done.append(planned.migration.id)
            if self.hooks.after_each:
                self.hooks.after_each(planned, time.perf_counter() - step_started)
        result.seconds = time.perf_counter() - started
        if self.hooks.after_all:
            self.hooks.after_all(result)
        return result


def _missing_placed_by_id(applied: list[MigrationStatus]) -> list[MigrationStatus]:
    """Applied migrations in run order, those missing from the sources placed where
    their ids sort (ids order a run; see ordering.py), not all after the newest: a
    rollback then refuses only when it would have to undo one of them."""
    ordered = [e for e in applied if e.migration is not None]
    for entry in (e for e in applied if e.migration is None):
        at = next((i for i, e in enumerate(ordered) if e.id > entry.id), len(ordered))
        ordered.insert(at, entry)
    return ordered


def _refuse_transaction_control(
    migration: Migration, direction: Direction, statements: tuple[Statement, ...], dialect: str
) -> None:
    """A migration run in the runner's transaction must not end it: on PostgreSQL a COMMIT
    made what came before it permanent, so a later failure left it applied while the
    migration was recorded as failed with nothing applied (SQLite refuses BEGIN)."""
    control = next((s for s in statements if controls_transaction(s.text, dialect)), None)
    if control is None:
        return
    path = migration.up_path if direction == "up" else migration.down_path
    raise InputError(
        f"`{first_line(control.text)[:40]}` would end or nest the transaction migration "
        f"{migration.id} runs in; remove it, or set transactional = false in its "
        "metadata.toml to run it statement by statement (nothing was run)",
        path=f"{path}:{control.line}" if path else None,
    )


def check_strategy(strategy: Strategy, migrations: list[Migration]) -> None:
    """Raise ConfigError for a strategy that cannot apply to ``migrations`` (an empty,
    blank or unknown ``--to`` id: BadMigrationId; steps below 1, as 0 would run nothing),
    before anything touches the database."""
    if isinstance(strategy, Steps) and strategy.n < 1:
        raise ConfigError(f"--steps: must be 1 or more (got {strategy.n}): 0 would run "
                          "nothing")
    if isinstance(strategy, UpTo):
        check_migration_id("--to", strategy.id, {m.id for m in migrations})


def _check_rollback_target(migration_id: str, state: MigrationState) -> None:
    """``rollback --to ID`` keeps ID applied: one that is not (pending, failed) names no
    point of the history to go back to."""
    entry = state.get(migration_id)
    if entry is None or entry.state != COMPLETED:
        now = entry.state if entry else "unknown"
        raise BadMigrationId("--to", migration_id, f"migration {migration_id!r} is {now}, "
                             "not applied: rollback --to keeps an applied migration")


def _check_approved(plan: Plan, approved: Collection[str] | None) -> None:
    if approved is None:
        return
    unapproved = [i for i in plan.ids if i not in approved]
    if unapproved:
        raise Refused(
            "the plan changed while waiting for the lock: "
            f"{', '.join(unapproved)} was not in the plan the gate approved; nothing was "
            "run, plan and run again"
        )


def _left_applied(entry: MigrationStatus) -> StatementProgress | None:
    """The progress of a failed up run statement by statement that left some applied."""
    progress = entry.progress
    if progress and progress.statements_applied and progress.direction == "up":
        return progress
    return None


def _refuse_partial_reruns(state: MigrationState, rerun: set[str]) -> None:
    """Refused when a failed migration about to be re-run left statements applied."""
    for entry in state.failed():
        progress = _left_applied(entry)
        if entry.id in rerun and progress is not None:
            raise Refused(
                f"migration {entry.id} failed after {progress.statements_applied} of "
                f"{progress.statements_total} statements were applied, which stay applied; a "
                "re-run starts from its first statement and would run them again: undo them "
                "by hand and re-run with --from-start, or finish it by hand and mark it "
                "completed"
            )


def irreversible_refusal(migrations: Sequence[Migration], dialect: str | None = None) -> str:
    """Why a rollback past ``migrations`` (irreversible ones) is refused, naming each:
    those without a down script, and those whose empty down would undo nothing, with
    what it would leave and how to declare a deliberate no-op."""
    missing = [m.id for m in migrations if m.irreversible == "missing"]
    empty = [m for m in migrations if m.irreversible == "empty"]
    parts = []
    if missing:
        parts.append("no down script for " + ", ".join(missing))
    if empty:
        from switchy_guard.rules.naming import empty_down_message

        parts += [f"{m.id}: {empty_down_message(m, dialect)}" for m in empty]
    return f"cannot roll back: {'; '.join(parts)} (nothing was rolled back)"

