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
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from .db import connect, create_database_engine, database_reason, dialect_of, mask_text
from .discovery import SourceSpec, as_source, load_migrations
from .errors import (
    BadMigrationId,
    ConfigError,
    InputError,
    MigrationFailed,
    Refused,
    check_migration_id,
)
from .locking import DEFAULT_LOCK_TIMEOUT, HeldLock, hold_migration_lock
from .migration import Migration, Step
from .retry import Timeouts, backoff, restore_statements, retryable, session_statements
from .state import MigrationState, MigrationStatus, dirty_cause, progress_note
from .tracking import COMPLETED, DEFAULT_TABLE, FAILED, IN_PROGRESS, TrackingTable

if TYPE_CHECKING:
    from .records import StatementProgress
    from .sql import Statement

Direction = Literal["up", "down"]


# -- strategies ---------------------------------------------------------------------


@dataclass(frozen=True)
class All:
    """Every pending migration (up) or every applied one (down)."""


@dataclass(frozen=True)
class UpTo:
    """Up: pending migrations up to and including ``id``. Down: those after ``id``."""

    id: str


@dataclass(frozen=True)
class Steps:
    """Up: the next ``n`` pending migrations. Down: the last ``n`` applied."""

    n: int


Strategy = All | UpTo | Steps


# -- plans and results --------------------------------------------------------------


@dataclass(frozen=True)
class PlannedMigration:
    """One migration the plan runs, in one direction."""

    migration: Migration
    direction: Direction
    statements: tuple[Statement, ...]
    transactional: bool
    replaces_row: bool = False
    # SQLite: how many leading and trailing statements (``PRAGMA foreign_keys = ...``) run
    # before the transaction begins and after it commits (see outside_transaction).
    outside: tuple[int, int] = (0, 0)
    # Whether it may change a session setting the runner puts back afterwards (see
    # may_change_session).
    changes_session: bool = False

    @property
    def sql_path(self) -> str | None:
        """The file the statements come from, for error reports."""
        return self.migration.up_path if self.direction == "up" else self.migration.down_path


@dataclass(frozen=True)
class Plan:
    """What a run would do, in order."""

    direction: Direction
    dialect: str
    steps: tuple[PlannedMigration, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        """The migration ids, in run order."""
        return [step.migration.id for step in self.steps]


@dataclass
class RunResult:
    """What a run did."""

    plan: Plan
    dry_run: bool
    done: list[str] = field(default_factory=list)
    seconds: float = 0.0


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


# Statements PostgreSQL or SQLite refuse inside a transaction block. Words may be
# separated by comments too (CREATE /* why */ INDEX CONCURRENTLY); the splitter has
# already taken off the comments before a statement.
_GAP = r"(?:\s|/\*.*?\*/|--[^\n]*(?:\n|$))+"
_NEEDS_AUTOCOMMIT = re.compile(
    r"""^(?:
        (?:create|drop)~(?:unique~)?index~concurrently
      | reindex\b.*\bconcurrently
      | vacuum\b
      | (?:create|drop)~database\b
      | alter~system\b
      | create~tablespace\b
      | pragma~(?:\w+\.)?journal_mode\b
    )""".replace("~", _GAP),
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def needs_autocommit(statements: tuple[Statement, ...]) -> bool:
    """Whether any statement cannot run inside a transaction."""
    return any(_NEEDS_AUTOCOMMIT.match(s.text) for s in statements)


# BEGIN, COMMIT and the like end or nest the transaction the runner wraps a migration in
# (savepoints do not, so ROLLBACK TO stays allowed).
_CONTROLS_TRANSACTION = re.compile(
    r"""^\s*(?:begin|start\s+transaction|commit|end|abort
              |rollback(?!\s+(?:work\s+|transaction\s+)?to\b))\b""",
    re.IGNORECASE | re.VERBOSE,
)


# SQLite ignores this one inside a transaction ("a no-op"), without an error.
_SETS_FOREIGN_KEYS = re.compile(r"^\s*pragma\s+(?:\w+\.)?foreign_keys\s*[=(]", re.IGNORECASE)
# PostgreSQL: a SET or RESET statement, set_config() anywhere (pg_dump empties the
# search_path), or a DO block mentioning SET or RESET. UPDATE ... SET and ALTER ... SET
# do not count: matching them cost a RESET ALL (and psycopg's DEALLOCATE ALL) for every
# migration with an UPDATE, 250 round trips in the 1,000-migration bench corpus.
_MAY_SET_SESSION = re.compile(r"^\s*(?:set|reset)\b|set_config|^\s*do\b.*\b(?:set|reset)\b",
                              re.IGNORECASE | re.DOTALL)


def may_change_session(dialect: str, step: Step | None,
                       statements: tuple[Statement, ...]) -> bool:
    """Whether running ``step`` may change a session setting the runner puts back after
    the migration: ``PRAGMA foreign_keys`` on SQLite; on PostgreSQL a SET (in the SQL's
    text: a function called that sets one with is_local = false is not seen, and the
    runner's own tables stay found, being named by schema during a run) or Python code,
    which cannot be read. Deciding it once per plan keeps ``RESET ALL`` off every
    migration that cannot need it: it cost 0.1-0.19 s per 1,000 migrations."""
    if dialect == "postgres" and step is not None and not isinstance(step, str):
        return True
    pattern = {"sqlite": _SETS_FOREIGN_KEYS, "postgres": _MAY_SET_SESSION}.get(dialect)
    return pattern is not None and any(pattern.search(s.text) for s in statements)


def outside_transaction(statements: tuple[Statement, ...]) -> tuple[int, int] | None:
    """SQLite: the leading and trailing ``PRAGMA foreign_keys = ...`` statements, counted.

    SQLite's table rebuild is ``PRAGMA foreign_keys = OFF``, then the rebuild in a
    transaction, then ``PRAGMA foreign_keys = ON``; inside the transaction the pragmas
    would silently do nothing. So the leading ones run before BEGIN and the trailing ones
    after COMMIT. None when one sits between other statements: the migration then runs
    statement by statement, where it takes effect where it is written."""
    sets = [bool(_SETS_FOREIGN_KEYS.match(s.text)) for s in statements]
    first = next((i for i, is_pragma in enumerate(sets) if not is_pragma), len(sets))
    last = next((i for i, is_pragma in enumerate(reversed(sets)) if not is_pragma), 0)
    if any(sets[first:len(sets) - last]):
        return None
    return first, last


class Migrator:
    """Applies and rolls back the migrations of ``source`` on ``database``.

    ``source`` is a source object, a folder path, ``package:subdir`` for migrations
    shipped inside a package, or a list of those. ``database`` is a URL or an Engine.
    ``checksum_mode`` (``file`` or ``exec-raw``) says how folder and package sources hash
    their scripts (see :mod:`switchy_guard.checksum`).
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
        # The lock of the run under way, whose fence guards each tracking write (see _run).
        self._held = HeldLock("")

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
                    f"migration {first.id} failed earlier ({_first_line(reason)}) after "
                    f"{progress.statements_applied} of {progress.statements_total} statements"
                    " were applied, which stay applied; a re-run starts from its first "
                    "statement: undo those by hand, fix it and re-run with --retry-failed "
                    "--from-start, or finish it by hand and mark it completed"
                )
            raise Refused(
                f"migration {first.id} failed earlier ({_first_line(reason)}); fix it and "
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
            from .sql import split_statements  # not imported by the verbs that only read

            statements = (tuple(split_statements(step, self.dialect))
                          if isinstance(step, str) else ())
            self._split[key] = statements
        transactional = (
            migration.transactional and self.dialect != "mysql" and not needs_autocommit(statements)
        )
        outside = outside_transaction(statements) if self.dialect == "sqlite" else (0, 0)
        if outside is None:
            transactional, outside = False, (0, 0)
        if transactional:
            _refuse_transaction_control(migration, direction, statements)
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
        self._held = held
        try:
            with self._timeouts_restored(conn, run=True):
                return self._run_pinned(conn, plan, held)
        finally:
            self._held = HeldLock("")
            self.tracking.unpin_schema()
            if conn.dialect.name == "postgresql":
                # Once per run: a SET the migrations' text does not show (inside a
                # function they call) must not go back to the pool with the connection.
                with contextlib.suppress(DBAPIError):
                    conn.rollback()
                    _reset_session(conn)
                    conn.commit()

    def _run_pinned(self, conn: Connection, plan: Plan, held: HeldLock) -> RunResult:
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
                with _foreign_keys_restored(conn, planned):
                    if planned.migration.backfill is not None and planned.direction == "up":
                        from .backfill import run as run_backfill

                        # Batches of their own transactions, each fenced; the statement
                        # lock timeout when the run has one (else the backfill default).
                        run_backfill(conn, planned, self.tracking, held,
                                     lock_timeout=self.timeouts.statement_lock_timeout)
                    elif planned.transactional:
                        self._apply_in_transaction(conn, planned)
                    else:
                        self._apply_statement_by_statement(conn, planned)
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

    def _finish(self, conn: Connection, planned: PlannedMigration) -> None:
        migration = planned.migration
        total = len(planned.statements)
        self._held.fence(conn, _rolled_back(planned) if planned.transactional
                         else _left_in_progress(planned, total, total))
        if planned.direction == "down":
            self.tracking.remove(conn, migration.id)
        elif not planned.transactional:
            self.tracking.set_status(conn, migration.id, COMPLETED)
        else:
            self.tracking.record(
                conn,
                migration.id,
                COMPLETED,
                migration.up_checksum,
                migration.down_checksum,
                replace=planned.replaces_row,
            )

    def _apply_in_transaction(self, conn: Connection, planned: PlannedMigration) -> None:
        before, after = planned.outside
        statements = planned.statements
        end = len(statements) - after
        try:
            if before:
                with _autocommit(conn) as auto:
                    self._execute(auto, planned, statements[:before])
            attempt = 1
            while True:
                try:
                    with conn.begin():
                        self._set_timeouts(conn, local=True)
                        self._execute(conn, planned, statements[before:end])
                        if planned.changes_session:
                            _reset_session(conn)
                        self._finish(conn, planned)
                    break
                except _StepError as failure:  # rolled back: nothing of it applied
                    if not self._may_retry(conn, planned, failure, attempt):
                        raise
                    attempt += 1
            if after:
                with _autocommit(conn) as auto:
                    self._execute(auto, planned, statements[end:])
        except _StepError as failure:
            error = failure.as_migration_failed(planned)
            if planned.direction == "up":
                with conn.begin():
                    self._held.fence(conn, f"{planned.migration.id} failed and was not "
                                           f"recorded as failed ({error.one_line()})")
                    self.tracking.record(
                        conn,
                        planned.migration.id,
                        FAILED,
                        planned.migration.up_checksum,
                        planned.migration.down_checksum,
                        error.reason,
                        replace=True,
                    )
            raise error from None

    def _apply_statement_by_statement(self, conn: Connection, planned: PlannedMigration) -> None:
        migration = planned.migration
        total = len(planned.statements)
        up = planned.direction == "up"
        with conn.begin():
            self._held.fence(conn, f"stopped before {migration.id}: nothing of it was applied")
            self.tracking.ensure_progress(conn)
            if up:
                self.tracking.record(
                    conn,
                    migration.id,
                    IN_PROGRESS,
                    migration.up_checksum,
                    migration.down_checksum,
                    replace=True,
                )
            else:
                # A rollback that dies or fails part way leaves it neither applied nor
                # rolled back: dirty, so nothing takes it for completed (or re-runs its up).
                self.tracking.set_status(conn, migration.id, IN_PROGRESS)
            self.tracking.set_progress(conn, migration.id, 0, total, planned.direction)
        try:
            with _autocommit(conn) as auto, self._timeouts_restored(auto, run=False):
                self._set_timeouts(auto)
                self._execute(auto, planned, progress=conn)
                if _in_transaction(auto):  # leaving the block rolls it back
                    raise _StepError(_LeftOpen(), None, total, total)
        except _StepError as failure:
            error = failure.as_migration_failed(planned, statement_by_statement=True)
            with conn.begin():
                self._held.fence(conn, f"{migration.id} failed, its row stays in_progress, "
                                       f"not recorded as failed ({error.one_line()})")
                self.tracking.set_status(conn, migration.id, FAILED if up else IN_PROGRESS,
                                         error.reason)
            raise error from None
        with conn.begin():
            self._finish(conn, planned)
            self.tracking.clear_progress(conn, migration.id)

    def _execute(
        self,
        conn: Connection,
        planned: PlannedMigration,
        statements: tuple[Statement, ...] | None = None,
        *,
        progress: Connection | None = None,
    ) -> None:
        """Run the step's statements on ``conn``; with ``progress``, record after each one
        how many ran, on that connection: the runner's own session when ``conn`` is
        another, so what a migration does to its session (``LOCK TABLES``, which refuses
        every table it does not name; the search_path) cannot get in the way."""
        step: Step | None = (
            planned.migration.up if planned.direction == "up" else planned.migration.down
        )
        if callable(step):
            try:
                step(conn)
            except Exception as exc:
                raise _StepError(exc, None, 0, 0) from exc
            return
        total = len(planned.statements)
        statements = planned.statements if statements is None else statements
        if not statements:
            return
        # Migration SQL goes to the driver's cursor of this (SQLAlchemy-managed) connection:
        # same transaction, without SQLAlchemy's per-statement execution machinery, which
        # was most of the runner's overhead over the raw floor (bench/README.md).
        driver_error = conn.dialect.loaded_dbapi.Error
        cursor = conn.connection.cursor()
        # Statements that stay applied whatever happens next: not those inside a
        # transaction the migration opened, which a failure rolls back.
        kept = 0
        try:
            for done, statement in enumerate(statements):
                attempt = 1
                while True:
                    try:
                        self._run_statement(conn, cursor, statement)
                        break
                    except driver_error as exc:
                        opened = progress is not None and _in_transaction(conn)
                        applied = kept if opened else done
                        failure = _StepError(exc, statement, applied, total)
                        # Run on its own (not in a transaction, ours or the migration's),
                        # a statement that timed out did not apply: only it is retried.
                        if (progress is None or opened
                                or not self._may_retry(conn, planned, failure, attempt)):
                            raise failure from exc
                        attempt += 1
                if progress is None:
                    continue
                settled = not _in_transaction(conn)
                if settled:
                    kept = done + 1
                # The fence stops the run before its next statement once its lock was
                # broken (the transaction the migration opened, if any, rolls back).
                if progress is conn:
                    self.tracking.set_progress(conn, planned.migration.id, done + 1, total)
                    self._held.fence(conn, _left_in_progress(planned, kept, total))
                elif settled:
                    # (Inside a transaction the migration opened, nothing is applied
                    # until its COMMIT: the count waits for it.)
                    with progress.begin():
                        self._held.fence(progress, _left_in_progress(planned, kept, total))
                        self.tracking.set_progress(progress, planned.migration.id, done + 1,
                                                   total)
        finally:
            cursor.close()


    # -- timeouts and retries (retry.py) -------------------------------------------

    def _set_timeouts(self, conn: Connection, *, local: bool = False) -> None:
        """PostgreSQL: put the statement lock and statement timeouts in force on
        ``conn``, for the transaction (``local``) or the session (its RESET ALL ends
        them). MySQL/MariaDB and SQLite: see :meth:`_timeouts_restored`."""
        if not self.timeouts.active or self.dialect != "postgres":
            return
        for sql in session_statements(self.dialect, self.timeouts, local=local):
            conn.exec_driver_sql(sql)

    @contextmanager
    def _timeouts_restored(self, conn: Connection, *, run: bool) -> Iterator[None]:
        """MySQL/MariaDB (each migration's connection) and SQLite (the ``run``'s one
        connection): the timeouts for the session, and its own settings put back
        afterwards (on PostgreSQL, the transaction or RESET ALL ends them)."""
        if not self.timeouts.active or self.dialect != ("sqlite" if run else "mysql"):
            yield
            return
        mariadb = _is_mariadb(conn)
        # The driver's cursor: on SQLite, SQLAlchemy's would begin a transaction.
        cursor = conn.connection.cursor()
        try:
            busy = 30000
            if self.dialect == "sqlite":
                cursor.execute("PRAGMA busy_timeout")
                row = cursor.fetchone()
                busy = int(row[0]) if row else busy
            for sql in session_statements(self.dialect, self.timeouts, mariadb=mariadb):
                cursor.execute(sql)
        finally:
            cursor.close()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                cursor = conn.connection.cursor()
                try:
                    for sql in restore_statements(self.dialect, self.timeouts,
                                                  mariadb=mariadb, sqlite_busy_ms=busy):
                        cursor.execute(sql)
                finally:
                    cursor.close()

    def _run_statement(self, conn: Connection, cursor: Any, statement: Statement) -> None:
        """Run one statement; on PostgreSQL a ``CREATE/DROP INDEX CONCURRENTLY`` runs
        without the lock timeout (it waits for older transactions by design, holding
        up no reader or writer), after dropping the INVALID index an earlier failed
        ``CREATE INDEX CONCURRENTLY`` of that name left."""
        concurrent = (self.dialect == "postgres" and "CONCURRENTLY" in statement.text.upper()
                      and _concurrent_index(statement.text))
        if concurrent:
            _drop_invalid_index(cursor, concurrent)
            if self.timeouts.statement_lock_timeout:
                cursor.execute("SET lock_timeout = 0")
        try:
            cursor.execute(statement.text)
            _drain(cursor)
        finally:
            if concurrent and self.timeouts.statement_lock_timeout and not _in_transaction(conn):
                cursor.execute(session_statements(self.dialect, self.timeouts)[0])

    def _may_retry(self, conn: Connection, planned: PlannedMigration, failure: _StepError,
                   attempt: int) -> bool:
        """After attempt ``attempt`` failed: when it gave up on a lock and attempts are
        left, report it (on_retry), pause and say True. Otherwise False, the failure
        told how many attempts were made and, for a lock, which sessions held it."""
        kind = retryable(failure.exc, self.dialect)
        if kind is None:
            return False
        attempts = self.timeouts.attempts
        if attempt < attempts:
            pause = backoff(attempt, self.timeouts)
            if self.hooks.on_retry:
                self.hooks.on_retry(planned, attempt, f"{kind}: {failure.reason()}", pause)
            time.sleep(pause)
            return True
        failure.note = f"{kind} on attempt {attempt} of {attempts} ({self.timeouts.describe()})"
        blockers = self._blockers(conn, failure)
        if blockers:
            failure.note += "; held by " + "; ".join(b.describe() for b in blockers[:5])
        return False

    def _blockers(self, conn: Connection, failure: _StepError) -> list[Any]:
        from .blockers import backend_pid, blocking_sessions

        tables: list[str] = []
        if failure.statement is not None:
            from .sql.classify import classify

            info = classify(failure.statement.text, self.dialect)
            tables = [str(t) for t in ((info.table,) if info.table else ()) + info.tables]
        with contextlib.suppress(DBAPIError):
            if _in_transaction(conn) or conn.in_transaction():
                conn.rollback()
        return blocking_sessions(self.engine, self.dialect, backend_pid(conn, self.dialect),
                                 tables)


def _is_mariadb(conn: Connection) -> bool:
    return bool(getattr(conn.dialect, "is_mariadb", False))


def _concurrent_index(text: str) -> str | None:
    """The index a ``CREATE INDEX CONCURRENTLY`` makes, quoted, else None."""
    from .sql.classify import classify

    info = classify(text, "postgres")
    index = info.index
    if info.kind != "create_index" or not info.concurrently or index is None:
        return None
    parts = (index.schema, index.name) if index.schema else (index.name,)
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _drop_invalid_index(cursor: Any, name: str) -> None:
    """Drop index ``name`` when it is INVALID (what a failed ``CREATE INDEX
    CONCURRENTLY`` leaves), concurrently: the retry then builds it afresh."""
    cursor.execute("SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE NOT i.indisvalid AND c.oid = to_regclass(%s)", (name,))
    if cursor.fetchone() is None:
        return
    cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


@contextmanager
def _foreign_keys_restored(conn: Connection, planned: PlannedMigration) -> Iterator[None]:
    """SQLite: a migration's ``PRAGMA foreign_keys`` lasts for that migration only, so
    the next one runs as it would on its own, whether or not they run in one go."""
    if conn.dialect.name != "sqlite" or not planned.changes_session:
        yield
        return
    cursor = conn.connection.cursor()
    try:
        enabled = int(cursor.execute("PRAGMA foreign_keys").fetchone()[0])
    finally:
        cursor.close()
    try:
        yield
    finally:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys = {enabled}")
        finally:
            cursor.close()


def _rolled_back(planned: PlannedMigration) -> str:
    """What a lost lock did to a migration run in a transaction (see HeldLock.fence)."""
    what = "its rollback" if planned.direction == "down" else "it"
    return (f"{planned.migration.id} was undone with its transaction: nothing of {what} "
            "was applied or recorded")


def _left_in_progress(planned: PlannedMigration, applied: int, total: int) -> str:
    """What a lost lock left of a migration run statement by statement."""
    migration_id = planned.migration.id
    if total == 0:  # Python code, or an empty script
        ran = f"{migration_id} ran outside a transaction and stays applied"
    else:
        ran = (f"stopped {migration_id} after {applied} of {total} statements, which stay "
               "applied")
    return (f"{ran}; its row stays in_progress (check the schema, then mark it completed "
            "or failed)")


def _drain(cursor: Any) -> None:
    """Read every result a statement returned, so its errors surface here.

    An unread SQLite result keeps its read lock (the progress write after it would fail).
    A MySQL ``CALL`` returns one result per SELECT in the procedure and then its status:
    a procedure that fails after a SELECT reports the error only when those results are
    read, which PyMySQL otherwise does on the next statement (blaming it) or when the
    cursor closes (outside any statement)."""
    while True:
        if cursor.description is not None:
            cursor.fetchall()
        nextset = getattr(cursor, "nextset", None)
        if nextset is None or not nextset():
            return


@contextmanager
def _autocommit(conn: Connection) -> Iterator[Connection]:
    """A connection on which every statement commits on its own."""
    if conn.dialect.name == "sqlite":
        # The engine's begin hook skips BEGIN while this flag is set (see db.py).
        conn.info["switchy_autocommit"] = True
        try:
            yield conn
        except BaseException:
            # A transaction the migration opened and did not finish is not committed
            # (as the other databases drop it with their connection).
            conn.rollback()
            raw = conn.connection.dbapi_connection
            if raw is not None and raw.in_transaction:
                raw.rollback()
            raise
        else:
            conn.commit()
        finally:
            conn.info.pop("switchy_autocommit", None)
        return
    with conn.engine.connect() as other:
        other.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield other
        finally:
            if not _in_transaction(other):
                _reset_session(other)


def _reset_session(conn: Connection) -> None:
    """PostgreSQL: settings a migration SET for the session (pg_dump output empties the
    search_path) end with it, so the next migration runs as it would on its own, and
    the pooled connection goes back as it came. ``RESET ALL`` keeps the values the
    connection was opened with."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("RESET ALL")


def _in_transaction(conn: Connection) -> bool:
    """Whether the migration's own statements left a transaction open (a BEGIN without
    its COMMIT) on this autocommit connection."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        return bool(raw.in_transaction)
    if conn.dialect.name == "postgresql":
        return int(raw.info.transaction_status) != 0  # psycopg: not IDLE
    return bool(getattr(raw, "server_status", 0) & 1)  # MySQL: SERVER_STATUS_IN_TRANS


class _LeftOpen(Exception):
    """The migration ended inside a transaction it opened."""

    def __str__(self) -> str:
        return ("the migration ended inside a transaction it opened (a BEGIN without its "
                "COMMIT), which was rolled back: end it with COMMIT")


def _missing_placed_by_id(applied: list[MigrationStatus]) -> list[MigrationStatus]:
    """Applied migrations in run order, those missing from the sources placed where
    their ids sort (ids order a run; see ordering.py), not all after the newest: a
    rollback then refuses only when it would have to undo one of them."""
    ordered = [e for e in applied if e.migration is not None]
    for entry in (e for e in applied if e.migration is None):
        at = next((i for i, e in enumerate(ordered) if e.id > entry.id), len(ordered))
        ordered.insert(at, entry)
    return ordered


class _StepError(Exception):
    """A statement or callable failed; carries what is needed for the report."""

    def __init__(
        self, exc: BaseException, statement: Statement | None, applied: int, total: int
    ) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.statement = statement
        self.applied = applied
        self.total = total
        #: How many attempts were made and who held the lock, when it was a lock.
        self.note = ""

    def reason(self) -> str:
        exc = self.exc
        if isinstance(exc, DBAPIError | _LeftOpen) or self.statement is not None:
            return database_reason(exc)  # the database's own words, or ours
        text = f"{type(exc).__name__}: {exc}"
        from .masking import cut  # a huge message is not stored, nor printed, whole

        return cut(mask_text(_first_line(text.strip()) or type(exc).__name__))

    def as_migration_failed(
        self, planned: PlannedMigration, *, statement_by_statement: bool = False
    ) -> MigrationFailed:
        reason = self.reason()
        if self.note:
            reason = f"{reason} ({self.note})"
        if self.statement is not None:
            excerpt = _first_line(self.statement.text)
            reason = f"{reason} [statement {self.statement.index + 1}: {excerpt[:120]}]"
        partial = statement_by_statement and self.statement is not None
        return MigrationFailed(
            planned.migration.id,
            reason,
            path=planned.sql_path,
            line=self.statement.line if self.statement else None,
            statement=self.statement.text if self.statement else None,
            applied_statements=self.applied if partial else None,
            total_statements=self.total if partial else None,
        )


def _refuse_transaction_control(
    migration: Migration, direction: Direction, statements: tuple[Statement, ...]
) -> None:
    """A migration run in the runner's transaction must not end it: on PostgreSQL a COMMIT
    made what came before it permanent, so a later failure left it applied while the
    migration was recorded as failed with nothing applied (SQLite refuses BEGIN)."""
    control = next((s for s in statements if _CONTROLS_TRANSACTION.match(s.text)), None)
    if control is None:
        return
    path = migration.up_path if direction == "up" else migration.down_path
    raise InputError(
        f"`{_first_line(control.text)[:40]}` would end or nest the transaction migration "
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


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


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
        from .rules.naming import empty_down_message

        parts += [f"{m.id}: {empty_down_message(m, dialect)}" for m in empty]
    return f"cannot roll back: {'; '.join(parts)} (nothing was rolled back)"

