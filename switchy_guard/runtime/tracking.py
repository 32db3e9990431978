"""The switchy_schema tracking table, and switchy-guard's statement-progress table.

The tracking table keeps exactly the columns the Rust switchy_schema writes (README.md,
"Tracking table"), so both tools can share a database. Extra state lives in tables of its
own beside it: ``<table>_statements`` records how many statements of a migration that runs
outside a transaction have been applied, so a failure says exactly what ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError, InputError
from switchy_guard.masking import mask_text
from switchy_guard.model.checksum import UNKNOWN_CHECKSUM
from switchy_guard.model.records import (
    COMPLETED,
    DEFAULT_TABLE,
    FAILED,
    IN_PROGRESS,
    STATUSES,
    StatementProgress,
    TrackingRow,
    format_time,
    progress_problem,
    row_problem,
    validate_table_name,
)
from switchy_guard.runtime.db import access_refused, connection_dialect, table_columns
from switchy_guard.runtime.reasons import database_reason

_CREATE = {
    "sqlite": """CREATE TABLE {t} (
    id TEXT NOT NULL,
    run_on TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
    finished_on TEXT NULL,
    up_checksum VARCHAR(64) NOT NULL,
    down_checksum VARCHAR(64) NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT NULL
)""",
    "postgres": """CREATE TABLE {t} (
    id TEXT NOT NULL,
    run_on TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    finished_on TIMESTAMP WITH TIME ZONE NULL,
    up_checksum VARCHAR(64) NOT NULL,
    down_checksum VARCHAR(64) NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT NULL
)""",
    "mysql": """CREATE TABLE {t} (
    id TEXT NOT NULL,
    run_on DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_on DATETIME NULL,
    up_checksum VARCHAR(64) NOT NULL,
    down_checksum VARCHAR(64) NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT NULL
)""",
}

_NOW = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%f', 'now')",
    "postgres": "clock_timestamp()",
    "mysql": "NOW()",
}

_DATETIME_TYPE = {"sqlite": "TEXT", "postgres": "TIMESTAMP WITH TIME ZONE", "mysql": "DATETIME"}

# Columns an older tracking table may lack, added as switchy_schema's
# upgrade_existing_table adds them: unknown checksums, legacy rows completed.
_UPGRADE_COLUMNS = {
    "finished_on": "{datetime} NULL",
    "up_checksum": f"VARCHAR(64) NOT NULL DEFAULT '{UNKNOWN_CHECKSUM}'",
    "down_checksum": f"VARCHAR(64) NOT NULL DEFAULT '{UNKNOWN_CHECKSUM}'",
    "status": "TEXT NOT NULL DEFAULT 'completed'",
    "failure_reason": "TEXT NULL",
}

_CREATE_PROGRESS = """CREATE TABLE {t} (
    migration_id VARCHAR(255) NOT NULL PRIMARY KEY,
    statements_applied INTEGER NOT NULL,
    statements_total INTEGER NOT NULL,
    direction VARCHAR(4) NOT NULL DEFAULT 'up'
)"""


# Whether the tracking table (:t) is a view, as the database resolves the name.
_VIEW_QUERY = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = :t COLLATE NOCASE",
    "postgres": "SELECT relkind IN ('v', 'm') FROM pg_catalog.pg_class WHERE oid = to_regclass(:t)",
    # information_schema compares names ignoring case; the server does so only with
    # lower_case_table_names set.
    "mysql": "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
             "AND table_name = :t AND table_type = 'VIEW' AND "
             "(@@lower_case_table_names <> 0 OR BINARY table_name = BINARY :t)",
}


def is_missing_table(error: DBAPIError) -> bool:
    """Whether a failed query failed because its table does not exist (PostgreSQL
    SQLSTATE 42P01, MySQL/MariaDB error 1146, SQLite "no such table")."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "42P01":
        return True
    args = getattr(orig, "args", ())
    if args and args[0] == 1146:
        return True
    return "no such table" in str(orig)


class TrackingTable:
    """Reads and writes the tracking table named ``name`` (validated)."""

    def __init__(self, name: str = DEFAULT_TABLE) -> None:
        self.name = validate_table_name(name)
        self.progress_name = f"{self.name}_statements"
        # PostgreSQL schema the tables are named by while a run is pinned (see pin_schema).
        self.schema: str | None = None
        self._progress_ready = False  # ensure_progress done in this run

    def quoted(self, conn: Connection, name: str | None = None) -> str:
        """The table name (or ``name``) quoted for this connection's dialect (qualified
        by the pinned schema, if any)."""
        preparer = conn.dialect.identifier_preparer
        quoted = preparer.quote(name or self.name)
        if self.schema is None:
            return quoted
        return f"{preparer.quote_schema(self.schema)}.{quoted}"

    def pin_schema(self, conn: Connection) -> None:
        """PostgreSQL: name the tables by the schema the tracking table is in now, so the
        runner's own writes still find them after a migration changed the search_path
        (pg_dump output empties it). ``unpin_schema`` ends that."""
        self.schema = None
        self._progress_ready = False  # a new run: the table may have gone meanwhile
        if connection_dialect(conn) != "postgres":
            return
        self.schema = conn.execute(
            text("SELECT coalesce((SELECT n.nspname FROM pg_catalog.pg_class c "
                 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.oid = to_regclass(:t)), current_schema())"),
            {"t": self.quoted(conn)},
        ).scalar()

    def unpin_schema(self) -> None:
        """Name the tables unqualified again (by the session's search_path)."""
        self.schema = None

    # -- schema -------------------------------------------------------------------

    def exists(self, conn: Connection) -> bool:
        """Whether the tracking table exists."""
        return bool(inspect(conn).has_table(self.name))

    def ensure(self, conn: Connection) -> None:
        """Create the table when absent; upgrade the legacy ``name``/``run_on`` form, and
        finish an upgrade that stopped half-way (switchy_schema's ``ensure_table_exists``
        does both: any of the newer columns that is missing is added)."""
        dialect = connection_dialect(conn)
        columns = self._columns(conn)
        if columns is None:
            conn.exec_driver_sql(_CREATE[dialect].format(t=self.quoted(conn)))
            return
        self._check_compatible(columns)
        if not {"id", *_UPGRADE_COLUMNS} <= columns:
            self._upgrade_legacy(conn, dialect, columns)

    def _upgrade_legacy(self, conn: Connection, dialect: str, columns: set[str]) -> None:
        table = self.quoted(conn)
        if "id" not in columns:
            conn.exec_driver_sql(f"ALTER TABLE {table} RENAME COLUMN name TO id")
        for column in _UPGRADE_COLUMNS:
            if column not in columns:
                definition = _UPGRADE_COLUMNS[column].format(datetime=_DATETIME_TYPE[dialect])
                if column == "status" and dialect == "mysql":
                    # A TEXT column takes a default only as an expression on MySQL 8.
                    definition = definition.replace("'completed'", "('completed')")
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        if "finished_on" not in columns:  # legacy rows are completed runs
            conn.exec_driver_sql(
                f"UPDATE {table} SET finished_on = run_on WHERE finished_on IS NULL")

    # -- reading ------------------------------------------------------------------

    def read(self, conn: Connection) -> dict[str, TrackingRow]:
        """The whole state in one query: the newest row of each migration id.

        Call it outside a transaction holding other work: when the table is missing the
        transaction is rolled back. Several rows for one id (left by switchy_schema's
        re-run fault) resolve to the newest: rows come ordered by ``run_on``, the last
        one wins.
        """
        try:
            result = conn.exec_driver_sql(
                "SELECT id, run_on, finished_on, up_checksum, down_checksum, status, "
                f"failure_reason FROM {self.quoted(conn)} ORDER BY run_on"
            )
            rows = self._checked_rows(result)
        except DBAPIError as exc:
            # One query in the common case. The failed statement aborts the transaction on
            # PostgreSQL: roll it back. Decide from the error itself: checking for the
            # table afterwards races with another process creating it meanwhile.
            conn.rollback()
            if is_missing_table(exc):
                return {}
            if access_refused(exc):  # a table an admin made, not granted to this user
                raise ConfigError(f"cannot read the migration tracking table {self.name!r}: "
                                  f"{database_reason(exc)}") from None
            columns = self._columns(conn)
            if columns is None or columns >= {"id", *_UPGRADE_COLUMNS}:
                raise
            return self._read_older(conn, columns)
        self._refuse_view(conn)
        return rows

    def _checked_rows(self, result: Iterable[Sequence[Any]]) -> dict[str, TrackingRow]:
        """The rows by id, every one checked first: a hand-edited row (an unknown status,
        a NULL id) refuses the run, naming the row, instead of being misread."""
        rows: dict[str, TrackingRow] = {}
        for number, values in enumerate(result, 1):
            row = TrackingRow(*values)
            problem = row_problem(row)
            if problem is not None:
                which = (f"row {row.id!r}" if isinstance(row.id, str) and row.id.strip()
                         else f"row {number} (in run_on order, run_on {format_time(row.run_on)})")
                raise InputError(f"migration tracking table {self.name!r}, {which}: {problem}; "
                                 "nothing was run (fix or delete the row)")
            rows[row.id] = row
        return rows

    def _refuse_view(self, conn: Connection) -> None:
        """Refuse a tracking table that is a view: its rows are not what the runner
        writes (an insert into it lands elsewhere, or fails half-way through a run)."""
        dialect = connection_dialect(conn)
        query = _VIEW_QUERY.get(dialect)
        if query is None:
            return
        name = self.quoted(conn) if dialect == "postgres" else self.name
        if conn.execute(text(query), {"t": name}).scalar():
            raise InputError(f"migration tracking table {self.name!r} is a view, not a table: "
                             "nothing was run (is --migration-table right?)")

    def _columns(self, conn: Connection) -> set[str] | None:
        """The table's column names (lowercase), None when it does not exist."""
        return table_columns(conn, self.name, self.quoted(conn))

    def _check_compatible(self, columns: set[str]) -> None:
        if "run_on" not in columns or not columns & {"id", "name"}:
            raise ConfigError(
                f"migration tracking table {self.name!r} has an incompatible schema (it "
                "needs run_on and id, or the legacy name): is --migration-table right?"
            )

    def _read_older(self, conn: Connection, columns: set[str]) -> dict[str, TrackingRow]:
        """Read a legacy (``name``/``run_on``) or half-upgraded table as the upgrade
        (``ensure``) will leave it, without changing it: read-only verbs never write."""
        self._check_compatible(columns)
        zeros = f"'{UNKNOWN_CHECKSUM}'"
        select = {
            "id": "id" if "id" in columns else "name",
            "run_on": "run_on",
            "finished_on": "finished_on" if "finished_on" in columns else "run_on",
            "up_checksum": "up_checksum" if "up_checksum" in columns else zeros,
            "down_checksum": "down_checksum" if "down_checksum" in columns else zeros,
            "status": "status" if "status" in columns else f"'{COMPLETED}'",
            "failure_reason": "failure_reason" if "failure_reason" in columns else "NULL",
        }
        result = conn.exec_driver_sql(
            f"SELECT {', '.join(select.values())} FROM {self.quoted(conn)} ORDER BY run_on"
        )
        rows = self._checked_rows(result)
        self._refuse_view(conn)
        return rows

    def read_progress(self, conn: Connection) -> dict[str, StatementProgress]:
        """Statement progress of migrations that ran outside a transaction."""
        inspector = inspect(conn)
        if not inspector.has_table(self.progress_name):
            return {}
        # A table written before rollbacks were recorded has no direction: all 'up'.
        columns = {c["name"].lower() for c in inspector.get_columns(self.progress_name)}
        direction = "direction" if "direction" in columns else "'up'"
        result = conn.exec_driver_sql(
            f"SELECT migration_id, statements_applied, statements_total, {direction} FROM "
            f"{self.quoted(conn, self.progress_name)}"
        )
        progress = {}
        for values in result:
            entry = StatementProgress(*values)
            problem = progress_problem(entry)
            if problem is not None:
                raise InputError(f"statement progress table {self.progress_name!r}, row "
                                 f"{entry.migration_id!r}: {problem}; nothing was run (fix "
                                 "or delete the row)")
            progress[entry.migration_id] = entry
        return progress

    # -- writing ------------------------------------------------------------------

    def remove(self, conn: Connection, migration_id: str) -> None:
        """Delete every row of ``migration_id``."""
        conn.execute(text(f"DELETE FROM {self.quoted(conn)} WHERE id = :id"), {"id": migration_id})

    def record(
        self,
        conn: Connection,
        migration_id: str,
        status: str,
        up_checksum: str,
        down_checksum: str,
        failure_reason: str | None = None,
        *,
        replace: bool = False,
    ) -> None:
        """Insert the row of ``migration_id`` with ``status``.

        ``replace`` deletes its earlier rows first, so a re-run never leaves a duplicate.
        A finished status (completed, failed) also sets ``finished_on``.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if replace:
            self.remove(conn, migration_id)
        dialect = connection_dialect(conn)
        now = _NOW[dialect]
        finished = now if status != IN_PROGRESS else "NULL"
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        # run_on is given explicitly: a table upgraded from the legacy form has no default.
        # One row per migration is the runner's hot path: it goes to the driver's cursor
        # of this connection (same transaction) with the driver's own placeholders.
        sql = (
            f"INSERT INTO {self.quoted(conn)} (id, run_on, finished_on, up_checksum, "
            "down_checksum, status, failure_reason) "
            f"VALUES ({mark}, {now}, {finished}, {mark}, {mark}, {mark}, {mark})"
        )
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, (migration_id, up_checksum, down_checksum, status,
                                 mask_text(failure_reason) if failure_reason else None))
        finally:
            cursor.close()

    def set_status(
        self, conn: Connection, migration_id: str, status: str, failure_reason: str | None = None
    ) -> None:
        """Move the row of ``migration_id`` to ``status`` (finished_on set when final)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        finished = _NOW[connection_dialect(conn)] if status != IN_PROGRESS else "NULL"
        conn.execute(
            text(
                f"UPDATE {self.quoted(conn)} SET status = :status, finished_on = {finished}, "
                "failure_reason = :reason WHERE id = :id"
            ),
            {"id": migration_id, "status": status,
             "reason": mask_text(failure_reason) if failure_reason else None},
        )

    def set_checksums(
        self, conn: Connection, migration_id: str, up_checksum: str, down_checksum: str
    ) -> None:
        """Record new checksums for ``migration_id`` (adopting the current files)."""
        conn.execute(
            text(
                f"UPDATE {self.quoted(conn)} SET up_checksum = :up, down_checksum = :down "
                "WHERE id = :id"
            ),
            {"id": migration_id, "up": up_checksum, "down": down_checksum},
        )

    def set_progress(self, conn: Connection, migration_id: str, applied: int, total: int,
                     direction: str | None = None) -> None:
        """Record that ``applied`` of ``total`` statements of a migration ran; ``direction``
        (``up`` or ``down``: which script) when the run starts, kept by later counts."""
        table = self.quoted(conn, self.progress_name)
        params = {"id": migration_id, "applied": applied, "total": total,
                  "direction": direction or "up"}
        updated = conn.execute(
            text(
                f"UPDATE {table} SET statements_applied = :applied, "
                "statements_total = :total"
                + (", direction = :direction" if direction else "")
                + " WHERE migration_id = :id"
            ),
            params,
        )
        if updated.rowcount == 0:
            conn.execute(
                text(
                    f"INSERT INTO {table} (migration_id, statements_applied, statements_total, "
                    "direction) VALUES (:id, :applied, :total, :direction)"
                ),
                params,
            )

    def ensure_progress(self, conn: Connection) -> None:
        """Create the statement-progress table when absent; give one from an earlier
        release its ``direction`` column (its rows were all written by ``up`` runs)."""
        if self._progress_ready:  # looked at once per run, not per migration
            return
        inspector = inspect(conn)
        table = self.quoted(conn, self.progress_name)
        if not inspector.has_table(self.progress_name, schema=self.schema):
            conn.exec_driver_sql(_CREATE_PROGRESS.format(t=table))
        elif "direction" not in {c["name"].lower() for c in inspector.get_columns(
                self.progress_name, schema=self.schema)}:
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD COLUMN direction VARCHAR(4) NOT NULL DEFAULT 'up'"
            )
        self._progress_ready = True

    def clear_progress(self, conn: Connection, migration_id: str) -> None:
        """Forget the statement progress of ``migration_id`` (after ensure_progress)."""
        conn.execute(
            text(f"DELETE FROM {self.quoted(conn, self.progress_name)} WHERE migration_id = :id"),
            {"id": migration_id},
        )


__all__ = [
    "COMPLETED",
    "DEFAULT_TABLE",
    "FAILED",
    "IN_PROGRESS",
    "STATUSES",
    "StatementProgress",
    "TrackingRow",
    "TrackingTable",
    "format_time",
    "validate_table_name",
]
