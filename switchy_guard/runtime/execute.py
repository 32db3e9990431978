"""Execute: how a planned migration's statements reach the database.

The runner (:mod:`switchy_guard.runtime.runner`) decides what runs in which order; this
module runs one planned migration: in one transaction with its tracking row, or statement
by statement on an _autocommit connection with its progress recorded after each one;
with the run's lock and statement timeouts in force (:mod:`switchy_guard.runtime.retry`),
a statement that gave up on a lock retried, and the session settings a migration changed
put back. Which statements need _autocommit or control a transaction is read from
:mod:`switchy_guard.sql.execution`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import MigrationFailed
from switchy_guard.masking import mask_text
from switchy_guard.model.migration import Step
from switchy_guard.runtime.lock import HeldLock
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.retry import (
    Timeouts,
    backoff,
    pg_set_config,
    restore_statements,
    retryable,
    session_statements,
)
from switchy_guard.runtime.tracking import COMPLETED, FAILED, IN_PROGRESS, TrackingTable
from switchy_guard.sql.execution import may_set_session

if TYPE_CHECKING:
    from switchy_guard.model.plan import PlannedMigration
    from switchy_guard.runtime.runner import Hooks
    from switchy_guard.sql import Statement


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
    return any(may_set_session(dialect, s.text) for s in statements)


@dataclass
class Executor:
    """Runs the planned migrations of one run on ``engine`` (a ``dialect`` database),
    writing their rows to ``tracking``; each tracking write is fenced by ``held``, the
    run's lock. ``timeouts`` are the migrations' own; ``hooks.on_retry`` hears of each
    retry."""

    engine: Engine
    dialect: str
    tracking: TrackingTable
    timeouts: Timeouts
    hooks: Hooks
    held: HeldLock

    def _finish(self, conn: Connection, planned: PlannedMigration) -> None:
        migration = planned.migration
        total = len(planned.statements)
        self.held.fence(conn, _rolled_back(planned) if planned.transactional
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

    def apply_in_transaction(self, conn: Connection, planned: PlannedMigration) -> None:
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
                            reset_session(conn)
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
                    self.held.fence(conn, f"{planned.migration.id} failed and was not "
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

    def apply_statement_by_statement(self, conn: Connection, planned: PlannedMigration) -> None:
        migration = planned.migration
        total = len(planned.statements)
        up = planned.direction == "up"
        with conn.begin():
            self.held.fence(conn, f"stopped before {migration.id}: nothing of it was applied")
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
            with _autocommit(conn) as auto, self.timeouts_restored(auto, run=False):
                self._set_timeouts(auto)
                self._execute(auto, planned, progress=conn)
                if _in_transaction(auto):  # leaving the block rolls it back
                    raise _StepError(_LeftOpen(), None, total, total)
        except _StepError as failure:
            error = failure.as_migration_failed(planned, statement_by_statement=True)
            with conn.begin():
                self.held.fence(conn, f"{migration.id} failed, its row stays in_progress, "
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
                    self.held.fence(conn, _left_in_progress(planned, kept, total))
                elif settled:
                    # (Inside a transaction the migration opened, nothing is applied
                    # until its COMMIT: the count waits for it.)
                    with progress.begin():
                        self.held.fence(progress, _left_in_progress(planned, kept, total))
                        self.tracking.set_progress(progress, planned.migration.id, done + 1,
                                                   total)
        finally:
            cursor.close()

    # -- timeouts and retries (retry.py) -------------------------------------------

    def _set_timeouts(self, conn: Connection, *, local: bool = False) -> None:
        """PostgreSQL: put the statement lock and statement timeouts in force on
        ``conn``, for the transaction (``local``) or the session (its RESET ALL ends
        them). MySQL/MariaDB and SQLite: see :meth:`timeouts_restored`."""
        if not self.timeouts.active or self.dialect != "postgres":
            return
        sql = pg_set_config(self.timeouts, local=local)
        if sql is None:
            return
        # One statement on the driver's cursor, as the migration's own: two SET LOCAL
        # through SQLAlchemy cost 0.2-0.3 s per 1,000 migrations (bench/session_bench.py).
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    @contextmanager
    def timeouts_restored(self, conn: Connection, *, run: bool) -> Iterator[None]:
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
        from switchy_guard.runtime.blockers import backend_pid, blocking_sessions

        tables: list[str] = []
        if failure.statement is not None:
            from switchy_guard.sql.classify import classify

            info = classify(failure.statement.text, self.dialect)
            tables = [str(t) for t in ((info.table,) if info.table else ()) + info.tables]
        with contextlib.suppress(DBAPIError):
            if _in_transaction(conn) or conn.in_transaction():
                conn.rollback()
        return blocking_sessions(self.engine, self.dialect, backend_pid(conn, self.dialect),
                                 tables)


def _is_mariadb(conn: Connection) -> bool:
    return bool(getattr(conn.dialect, "_is_mariadb", False))


def _concurrent_index(text: str) -> str | None:
    """The index a ``CREATE INDEX CONCURRENTLY`` makes, quoted, else None."""
    from switchy_guard.sql.classify import classify

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
def foreign_keys_restored(conn: Connection, changes_session: bool) -> Iterator[None]:
    """SQLite: a migration's ``PRAGMA foreign_keys`` lasts for that migration only, so
    the next one runs as it would on its own, whether or not they run in one go."""
    if conn.dialect.name != "sqlite" or not changes_session:
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
                reset_session(other)


def reset_session(conn: Connection) -> None:
    """PostgreSQL: settings a migration SET for the session (pg_dump output empties the
    search_path) end with it, so the next migration runs as it would on its own, and
    the pooled connection goes back as it came. ``RESET ALL`` keeps the values the
    connection was opened with."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("RESET ALL")


def _in_transaction(conn: Connection) -> bool:
    """Whether the migration's own statements left a transaction open (a BEGIN without
    its COMMIT) on this _autocommit connection."""
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
        from switchy_guard.masking import cut  # a huge message is not stored, nor printed, whole

        return cut(mask_text(first_line(text.strip()) or type(exc).__name__))

    def as_migration_failed(
        self, planned: PlannedMigration, *, statement_by_statement: bool = False
    ) -> MigrationFailed:
        reason = self.reason()
        if self.note:
            reason = f"{reason} ({self.note})"
        if self.statement is not None:
            excerpt = first_line(self.statement.text)
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


def first_line(text: str) -> str:
    """The first line of ``text``, stripped ("" for blank text)."""
    return text.strip().splitlines()[0] if text.strip() else ""
