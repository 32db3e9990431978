"""Batched backfills: one UPDATE or DELETE run in batches by primary key.

A migration whose ``metadata.toml`` says ``backfill = { batch_size = N, pause_ms = M }``
holds one UPDATE (or DELETE) on one table, with a WHERE clause that leaves out the rows
already done (``WHERE new_col IS NULL``). The runner runs it in batches: the next
``batch_size`` primary keys after the last one done bound each batch
(``WHERE (<the WHERE>) AND pk > :last AND pk <= :upper``), and each batch commits in its
own short transaction, under a lock timeout, together with the journal row
(``<tracking table>_backfill``) that records the last key done. A run that dies (even
by SIGKILL) resumes after the journaled key.

The WHERE clause must leave out rows already done: switchy-guard cannot prove it does,
and a batch whose commit was not seen (the process died while it committed) is run
again. The table needs a single-column primary key, read from the live table.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from switchy_guard.errors import InputError, MigrationFailed
from switchy_guard.sql.backfill import BackfillStatement, NotBatchable, read_backfill

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from switchy_guard.model.plan import PlannedMigration
    from switchy_guard.runtime.lock import HeldLock
    from switchy_guard.runtime.tracking import TrackingTable
    from switchy_guard.sql.classify import Name

#: Seconds a batch waits for a row or table lock when no statement lock timeout is set:
#: a batch is short, so waiting long only queues the application behind it.
DEFAULT_LOCK_TIMEOUT = 5.0
#: Attempts of one batch that hit a lock timeout or a deadlock (each rolled back whole).
BATCH_ATTEMPTS = 5
#: Without a terminal, a progress line every this many batches.
LINE_EVERY = 10

_RETRYABLE_SQLSTATES = {"40P01", "55P03", "40001"}  # deadlock, lock timeout, serialization
_RETRYABLE_MYSQL = {1205, 1213}  # lock wait timeout, deadlock


# -- the journal --------------------------------------------------------------------

_CREATE_JOURNAL = """CREATE TABLE {t} (
    migration_id VARCHAR(255) NOT NULL PRIMARY KEY,
    up_checksum VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    last_key TEXT NULL,
    rows_done BIGINT NOT NULL,
    batches_done BIGINT NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    updated_at VARCHAR(32) NOT NULL
)"""

RUNNING, DONE = "running", "done"


@dataclass
class JournalRow:
    """Where a backfill stands: the last key done (None: none yet)."""

    migration_id: str
    up_checksum: str
    status: str
    last_key: Any
    rows_done: int
    batches_done: int


def journal_name(tracking: TrackingTable) -> str:
    """The backfill journal table beside ``tracking``."""
    return f"{tracking.name}_backfill"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _encode_key(key: Any) -> str | None:
    if key is None:
        return None
    return json.dumps(key if isinstance(key, int | str) else str(key))


def ensure_journal(conn: Connection, tracking: TrackingTable) -> None:
    """Create the journal table when absent."""
    from sqlalchemy import inspect

    name = journal_name(tracking)
    if not inspect(conn).has_table(name, schema=tracking.schema):
        conn.exec_driver_sql(_CREATE_JOURNAL.format(t=tracking.quoted(conn, name)))


def read_journal(conn: Connection, tracking: TrackingTable,
                 migration_id: str) -> JournalRow | None:
    """The journal row of ``migration_id`` (after ensure_journal), or None."""
    from sqlalchemy import text

    row = conn.execute(text(
        "SELECT migration_id, up_checksum, status, last_key, rows_done, batches_done FROM "
        f"{tracking.quoted(conn, journal_name(tracking))} WHERE migration_id = :id"
    ), {"id": migration_id}).first()
    if row is None:
        return None
    last = json.loads(row[3]) if row[3] is not None else None
    return JournalRow(row[0], row[1], row[2], last, int(row[4]), int(row[5]))


def _write_journal(conn: Connection, tracking: TrackingTable, row: JournalRow,
                   *, fresh: bool = False) -> None:
    from sqlalchemy import text

    table = tracking.quoted(conn, journal_name(tracking))
    params = {"id": row.migration_id, "sum": row.up_checksum, "status": row.status,
              "key": _encode_key(row.last_key), "rows": row.rows_done,
              "batches": row.batches_done, "now": _now()}
    if fresh:
        conn.execute(text(f"DELETE FROM {table} WHERE migration_id = :id"), params)
        conn.execute(text(
            f"INSERT INTO {table} (migration_id, up_checksum, status, last_key, rows_done, "
            "batches_done, started_at, updated_at) VALUES (:id, :sum, :status, :key, :rows, "
            ":batches, :now, :now)"), params)
        return
    conn.execute(text(
        f"UPDATE {table} SET status = :status, last_key = :key, rows_done = :rows, "
        "batches_done = :batches, updated_at = :now WHERE migration_id = :id"), params)


# -- progress -----------------------------------------------------------------------


class Progress(Protocol):
    """Shows a backfill's progress as it goes."""

    def start(self, migration_id: str, total_batches: int | None, batches: int,
              rows: int) -> None: ...

    def advance(self, batches: int, rows: int) -> None: ...

    def finish(self) -> None: ...


class LineProgress:
    """A line every ``every`` batches (logs, pipes): batches, rows, rate and ETA."""

    def __init__(self, stream: TextIO, every: int = LINE_EVERY) -> None:
        self.stream, self.every = stream, every
        self.id, self.first = "", 0
        self.total: int | None = None
        self.started = time.monotonic()
        self.batches = self.rows = self.rows_before = 0

    def start(self, migration_id: str, total_batches: int | None, batches: int,
              rows: int) -> None:
        self.id, self.total, self.first = migration_id, total_batches, batches
        self.batches, self.rows, self.rows_before = batches, rows, rows
        self.started = time.monotonic()
        resumed = f", resuming after batch {batches}" if batches else ""
        about = f"~{total_batches:,} batches" if total_batches is not None else "batches"
        self._write(f"backfill {migration_id}: {about}{resumed}")

    def advance(self, batches: int, rows: int) -> None:
        self.batches, self.rows = batches, rows
        if batches % self.every == 0:
            self._write(self.line())

    def finish(self) -> None:
        self._write(self.line() + " done")

    def line(self) -> str:
        """Where the backfill stands, its rate and the time left."""
        seconds = max(time.monotonic() - self.started, 1e-6)
        rate = (self.rows - self.rows_before) / seconds
        total = f"/{max(self.total, self.batches):,}" if self.total is not None else ""
        text = (f"backfill {self.id}: batch {self.batches:,}{total}, {self.rows:,} rows, "
                f"{rate:,.0f} rows/s")
        ran = self.batches - self.first
        if self.total is not None and ran > 0 and self.total > self.batches:
            left = (self.total - self.batches) * seconds / ran
            text += f", ETA {left:,.0f} s"
        return text

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class BarProgress:
    """A rich progress bar (a terminal): batches, rows, rate and time remaining."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(TextColumn("backfill {task.description}"), BarColumn(),
                       MofNCompleteColumn(), TextColumn("{task.fields[rows]:,} rows"),
                       TextColumn("{task.fields[rate]:,.0f} rows/s"), TimeRemainingColumn(),
                       console=Console(file=stream), transient=False)
        self.task: Any = None
        self.started = time.monotonic()
        self.rows_before = 0

    def start(self, migration_id: str, total_batches: int | None, batches: int,
              rows: int) -> None:
        self.started, self.rows_before = time.monotonic(), rows
        self.bar.start()
        self.task = self.bar.add_task(migration_id, total=total_batches, completed=batches,
                                      rows=rows, rate=0.0)

    def advance(self, batches: int, rows: int) -> None:
        rate = (rows - self.rows_before) / max(time.monotonic() - self.started, 1e-6)
        total = self.bar.tasks[0].total
        if total is not None and batches > total:
            self.bar.update(self.task, total=batches)
        self.bar.update(self.task, completed=batches, rows=rows, rate=rate)

    def finish(self) -> None:
        self.bar.update(self.task, total=self.bar.tasks[0].completed)
        self.bar.stop()


def default_progress(stream: TextIO | None = None) -> Progress:
    """A bar at a terminal, else a line every LINE_EVERY batches (stderr by default, so
    a JSON document on stdout stays whole)."""
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return BarProgress(stream) if isatty is not None and isatty() else LineProgress(stream)


# -- running ------------------------------------------------------------------------


def primary_key(conn: Connection, table: Name, dialect: str, path: str) -> str:
    """The live table's single primary-key column; InputError otherwise."""
    from sqlalchemy import inspect

    name = table.raw[-1] if dialect == "mysql" and table.raw else table.name
    schema = (table.raw[0] if dialect == "mysql" and len(table.raw) > 1 else table.schema)
    inspector = inspect(conn)
    if not inspector.has_table(name, schema=schema):
        raise InputError(f"backfill: table {table} does not exist", path=path)
    columns = inspector.get_pk_constraint(name, schema=schema).get("constrained_columns")
    if not columns:
        raise InputError(f"backfill: table {table} has no primary key; batches need a "
                         "single-column one to walk", path=path)
    if len(columns) > 1:
        raise InputError(f"backfill: table {table}'s primary key has {len(columns)} columns "
                         f"({', '.join(columns)}); batches need a single-column one",
                         path=path)
    return str(columns[0])


@dataclass
class _Run:
    """One backfill under way."""

    conn: Connection
    planned: PlannedMigration
    tracking: TrackingTable
    held: HeldLock
    statement: BackfillStatement
    pk: str
    quoted_table: str
    lock_timeout: float

    @property
    def id(self) -> str:
        return self.planned.migration.id


def run(conn: Connection, planned: PlannedMigration, tracking: TrackingTable,
        held: HeldLock, *, lock_timeout: float | None = None,
        progress: Progress | None = None) -> None:
    """Run the backfill migration ``planned`` on the runner's connection ``conn``, batch
    by batch, resuming after the key its journal holds; record it completed at the end
    (in the last batch's transaction). A batch that hits a lock timeout or a deadlock is
    rolled back and retried (BATCH_ATTEMPTS in all); any other failure records the
    migration failed (the journal keeps its place: ``--retry-failed`` resumes) and raises
    MigrationFailed."""
    from switchy_guard.runtime.db import connection_dialect

    migration = planned.migration
    assert migration.backfill is not None
    dialect = connection_dialect(conn)
    path = migration.up_path or migration.source or migration.id
    try:
        statement = read_backfill(migration, dialect)
    except NotBatchable as why:
        raise InputError(f"backfill cannot be batched: {why}", path=path) from None
    with conn.begin():
        pk = primary_key(conn, statement.table, dialect, path)
        ensure_journal(conn, tracking)
    if pk.lower() in statement.assigns:
        raise InputError(f"backfill cannot be batched: it sets the primary key {pk}, "
                         "which the batches walk", path=path)
    preparer = conn.dialect.identifier_preparer
    table = statement.table
    name = table.raw[-1] if dialect == "mysql" and table.raw else table.name
    schema = table.raw[0] if dialect == "mysql" and len(table.raw) > 1 else table.schema
    quoted = (f"{preparer.quote_schema(schema)}." if schema else "") + preparer.quote(name)
    state = _Run(conn, planned, tracking, held, statement, preparer.quote(pk), quoted,
                 DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout)
    with _SessionLockTimeout(conn, dialect, state.lock_timeout):
        _walk(state, progress or default_progress())


def _walk(state: _Run, progress: Progress) -> None:
    migration = state.planned.migration
    spec = migration.backfill
    assert spec is not None
    conn = state.conn
    with conn.begin():
        journal = read_journal(conn, state.tracking, migration.id)
        if (journal is None or journal.status != RUNNING
                or journal.up_checksum != migration.up_checksum):
            # A new run, one after a rollback, or an up changed since: from the start
            # (the WHERE leaves out what an earlier run did).
            journal = JournalRow(migration.id, migration.up_checksum, RUNNING, None, 0, 0)
            state.held.fence(conn, f"stopped before {migration.id}: nothing of it was run")
            _write_journal(conn, state.tracking, journal, fresh=True)
        total = _total_batches(conn, state, journal, spec.batch_size)
    progress.start(migration.id, total, journal.batches_done, journal.rows_done)
    while True:
        finished = _batch(state, journal, spec.batch_size)
        progress.advance(journal.batches_done, journal.rows_done)
        if finished:
            break
        if spec.pause_ms:
            time.sleep(spec.pause_ms / 1000)
    progress.finish()


def _total_batches(conn: Connection, state: _Run, journal: JournalRow,
                   batch_size: int) -> int | None:
    """Batches this run is expected to take in all (those done included), from the live
    row count (the statistics' estimate for a big table)."""
    rows = live_rows(conn, state.statement.table)
    if rows is None:
        return None
    # The last batch is the one that finds fewer keys than a batch: rows // size + 1.
    return max(journal.batches_done + 1, rows // batch_size + 1)


def live_rows(conn: Connection, table: Name) -> int | None:
    """The table's rows (an estimate for a big table), None when unknown."""
    from switchy_guard.runtime.live import RowCounter

    counter = RowCounter(conn)
    live = counter.live(counter.key(table))
    if live is None:
        return None
    return counter.rows(live)[0]


def _batch(state: _Run, journal: JournalRow, batch_size: int) -> bool:
    """Run the next batch (retried on lock timeouts and deadlocks); True when it was the
    last one, and the migration is recorded completed."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            with state.conn.begin():
                return _batch_once(state, journal, batch_size)
        except DBAPIError as exc:
            if attempt == BATCH_ATTEMPTS or not _retryable(exc):
                _fail(state, journal, exc, attempt)
            # Capped exponential backoff with jitter: the holder gets time to finish.
            time.sleep(min(2.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")  # pragma: no cover


def _batch_once(state: _Run, journal: JournalRow, batch_size: int) -> bool:
    conn, pk = state.conn, state.pk
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    _set_local_lock_timeout(conn, state.lock_timeout)
    cursor = conn.connection.cursor()
    try:
        lower = journal.last_key
        where = f" WHERE {pk} > {mark}" if lower is not None else ""
        cursor.execute(f"SELECT {pk} FROM {state.quoted_table}{where} ORDER BY {pk} "
                       f"LIMIT 1 OFFSET {batch_size - 1}",
                       (lower,) if lower is not None else ())
        found = cursor.fetchone()
        upper = found[0] if found is not None else None
        params = tuple(k for k in (lower, upper) if k is not None)
        cursor.execute(state.statement.batched(pk, lower is not None, upper is not None,
                                               mark), params)
        changed = max(cursor.rowcount, 0)
    finally:
        cursor.close()
    migration = state.planned.migration
    batch = JournalRow(journal.migration_id, journal.up_checksum,
                       RUNNING if upper is not None else DONE, upper if upper is not None
                       else journal.last_key, journal.rows_done + changed,
                       journal.batches_done + 1)
    state.held.fence(conn, f"batch {batch.batches_done} of {migration.id} was rolled back; "
                           f"the {journal.batches_done} before it stay applied (the journal "
                           "keeps the place: a re-run resumes after them)")
    _write_journal(conn, state.tracking, batch)
    if upper is None:
        from switchy_guard.runtime.tracking import COMPLETED

        state.tracking.record(conn, migration.id, COMPLETED, migration.up_checksum,
                              migration.down_checksum, replace=True)
    journal.last_key, journal.rows_done = batch.last_key, batch.rows_done
    journal.batches_done, journal.status = batch.batches_done, batch.status
    return upper is None


def _retryable(exc: Any) -> bool:
    """A lock timeout or a deadlock (the batch was rolled back whole)."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in _RETRYABLE_MYSQL:
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def _fail(state: _Run, journal: JournalRow, exc: Any, attempts: int) -> None:
    from switchy_guard.runtime.reasons import database_reason
    from switchy_guard.runtime.tracking import FAILED

    migration = state.planned.migration
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    reason = (f"{database_reason(exc)}{tries} [batch {journal.batches_done + 1}; "
              f"{journal.batches_done} batches ({journal.rows_done:,} rows) before it stay "
              "applied, and a run with --retry-failed resumes after them]")
    with state.conn.begin():
        state.held.fence(state.conn, f"{migration.id} failed and was not recorded as failed "
                                     f"({reason})")
        state.tracking.record(state.conn, migration.id, FAILED, migration.up_checksum,
                              migration.down_checksum, reason, replace=True)
    raise MigrationFailed(migration.id, reason, path=migration.up_path,
                          line=state.statement.line, statement=state.statement.text) from None


def _set_local_lock_timeout(conn: Connection, seconds: float) -> None:
    """PostgreSQL: the lock timeout of this batch's transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(1, round(seconds * 1000))}ms'")


class _SessionLockTimeout:
    """MySQL/MariaDB: the session's lock waits bounded for the backfill (whole seconds,
    1 at least); SQLite: its busy timeout, writing transactions begun IMMEDIATE (a
    batch reads its keys, then writes). Put back afterwards."""

    def __init__(self, conn: Connection, dialect: str, seconds: float) -> None:
        self.conn, self.dialect, self.seconds = conn, dialect, seconds
        self.saved: Any = None

    def __enter__(self) -> None:
        conn = self.conn
        if self.dialect == "mysql":
            self.saved = conn.exec_driver_sql(
                "SELECT @@SESSION.innodb_lock_wait_timeout, @@SESSION.lock_wait_timeout").one()
            whole = max(1, math.ceil(self.seconds))
            conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {whole}, "
                                 f"lock_wait_timeout = {whole}")
        elif self.dialect == "sqlite":
            self.saved = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, round(self.seconds * 1000))}")
            conn.info["switchy_immediate_before_backfill"] = conn.info.get("switchy_immediate")
            conn.info["switchy_immediate"] = True
        conn.commit()

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy.exc import DBAPIError

        conn = self.conn
        try:
            conn.rollback()
            if self.dialect == "mysql" and self.saved is not None:
                conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = "
                                     f"{int(self.saved[0])}, lock_wait_timeout = "
                                     f"{int(self.saved[1])}")
            elif self.dialect == "sqlite":
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(self.saved or 0)}")
                conn.info["switchy_immediate"] = conn.info.pop(
                    "switchy_immediate_before_backfill", None)
            conn.commit()
        except DBAPIError:  # a connection that broke: it goes back to the pool unused
            pass


__all__ = [
    "BATCH_ATTEMPTS",
    "DEFAULT_LOCK_TIMEOUT",
    "BarProgress",
    "LineProgress",
    "Progress",
    "default_progress",
    "live_rows",
    "primary_key",
    "run",
]
