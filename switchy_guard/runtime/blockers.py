"""The sessions that held a lock a migration's statement gave up waiting for.

Asked after the statement timed out (on a connection of its own), so the answer is who
holds a lock on the tables the statement touches (PostgreSQL: ``pg_locks`` joined with
``pg_stat_activity``), or, where the tables are not known or the server does not say
who holds what (MySQL/MariaDB without ``performance_schema``), every other session with
an open transaction (``information_schema.innodb_trx`` and the process list), oldest
first. Each is described by its pid (connection id), user, application (PostgreSQL),
the age of its transaction and its last query. A server that refuses the question gets
no answer, never an error: the failure being reported matters more.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from switchy_guard.masking import mask_message

_PG_BY_TABLE = """
SELECT DISTINCT a.pid, a.usename, a.application_name,
       EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start), a.state, a.query
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> :own AND l.locktype = 'relation'
  AND l.relation = ANY(CAST(:tables AS regclass[]))
"""
_PG_OPEN = """
SELECT a.pid, a.usename, a.application_name,
       EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start), a.state, a.query
FROM pg_stat_activity a
WHERE a.pid <> :own AND a.xact_start IS NOT NULL AND a.backend_type = 'client backend'
  AND a.datname = current_database()
"""
_MYSQL_MDL = """
SELECT DISTINCT p.ID, p.USER, p.HOST, t.TIME_SECONDS, p.COMMAND, p.INFO
FROM performance_schema.metadata_locks m
JOIN performance_schema.threads th ON th.THREAD_ID = m.OWNER_THREAD_ID
JOIN information_schema.PROCESSLIST p ON p.ID = th.PROCESSLIST_ID
LEFT JOIN (SELECT trx_mysql_thread_id AS id,
                  TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS TIME_SECONDS
           FROM information_schema.INNODB_TRX) t ON t.id = p.ID
WHERE m.LOCK_STATUS = 'GRANTED' AND m.OBJECT_TYPE = 'TABLE' AND p.ID <> :own
  AND m.OBJECT_NAME IN :tables AND m.OBJECT_SCHEMA = DATABASE()
"""
_MYSQL_OPEN = """
SELECT t.trx_mysql_thread_id, p.USER, p.HOST,
       TIMESTAMPDIFF(SECOND, t.trx_started, NOW()), p.COMMAND,
       COALESCE(t.trx_query, p.INFO)
FROM information_schema.INNODB_TRX t
LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
WHERE t.trx_mysql_thread_id <> :own
"""


@dataclass(frozen=True)
class Blocker:
    """A session that held (or may have held) the lock waited for."""

    pid: int
    user: str | None
    application: str | None
    transaction_seconds: float | None
    state: str | None
    query: str | None

    def describe(self) -> str:
        """``pid 123 (user app, application psql, transaction open 12s, idle in
        transaction): LOCK TABLE users``."""
        facts = [f"user {self.user}" if self.user else "",
                 f"application {self.application}" if self.application else "",
                 f"transaction open {self.transaction_seconds:.0f}s"
                 if self.transaction_seconds is not None else "",
                 self.state or ""]
        query = " ".join((self.query or "").split())
        shown = f"pid {self.pid} ({', '.join(f for f in facts if f)})"
        return f"{shown}: {mask_message(query, limit=160)}" if query else shown


def blocking_sessions(engine: Engine, dialect: str, own_pid: int | None,
                      tables: list[str]) -> list[Blocker]:
    """The sessions holding a lock on ``tables`` (names as written, possibly
    schema-qualified), or every other session with an open transaction, oldest first.
    Empty when the server would not say."""
    try:
        with engine.connect() as conn:
            return _ask(conn, dialect, own_pid or -1, tables)
    except SQLAlchemyError:
        return []


def _ask(conn: Connection, dialect: str, own: int, tables: list[str]) -> list[Blocker]:
    rows: list[tuple[object, ...]] = []
    if dialect == "postgres":
        known = [t for t in tables if conn.execute(
            text("SELECT to_regclass(:t)"), {"t": t}).scalar() is not None]
        if known:
            rows = [tuple(r) for r in conn.execute(
                text(_PG_BY_TABLE), {"own": own, "tables": known})]
        if not rows:
            rows = [tuple(r) for r in conn.execute(text(_PG_OPEN), {"own": own})]
    elif dialect == "mysql":
        if tables:
            names = tuple(t.split(".")[-1] for t in tables)
            try:
                query = text(_MYSQL_MDL).bindparams(bindparam("tables", expanding=True))
                rows = [tuple(r) for r in conn.execute(query, {"own": own, "tables": names})]
            except SQLAlchemyError:  # performance_schema off or not readable
                conn.rollback()
        if not rows:
            rows = [tuple(r) for r in conn.execute(text(_MYSQL_OPEN), {"own": own})]
    found = [_blocker(row, dialect) for row in rows]
    return sorted(found, key=lambda b: -(b.transaction_seconds or 0))


def _blocker(row: tuple[object, ...], dialect: str) -> Blocker:
    pid, user, application, age, state, query = row
    return Blocker(
        int(str(pid)), str(user) if user else None,
        # MySQL has no application name; its client host says where the session is from.
        (str(application) or None) if dialect == "postgres" else
        (f"from {application}" if application else None),
        float(str(age)) if age is not None else None,
        str(state) if state else None, str(query) if query else None)


def backend_pid(conn: Connection, dialect: str) -> int | None:
    """This connection's server-side id (PostgreSQL pid, MySQL connection id)."""
    sql = {"postgres": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}.get(dialect)
    if sql is None:
        return None
    # The driver's cursor: SQLAlchemy's would begin a transaction the caller then has.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
    except conn.dialect.loaded_dbapi.Error:
        return None
    finally:
        cursor.close()
    return int(str(row[0])) if row else None


_PG_INVALID = """
SELECT n.nspname, c.relname, t.relname
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = i.indrelid
WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
"""


def invalid_indexes(engine: Engine) -> list[str]:
    """PostgreSQL: the INVALID indexes (``schema.index on table``) a failed or
    interrupted ``CREATE INDEX CONCURRENTLY`` left: they slow every write and serve no
    read. Empty on other databases, or when the catalog cannot be read."""
    if engine.dialect.name != "postgresql":
        return []
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(_PG_INVALID)).all()
    except SQLAlchemyError:
        return []
    return [f"{schema}.{index} on {table}" for schema, index, table in rows]


# -- before a run: who would block a statement's lock right now --------------------------

_PG_CONFLICTING = """
SELECT DISTINCT a.pid, a.usename, a.application_name,
       EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start), a.state, a.query
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.pid <> pg_backend_pid() AND l.locktype = 'relation'
  AND l.relation = CAST(:table AS regclass) AND l.mode = ANY(:modes)
"""
_MYSQL_CONFLICTING = _MYSQL_MDL.replace(
    "m.OBJECT_NAME IN :tables", "m.OBJECT_NAME = :table AND m.LOCK_TYPE IN :types")


def _pg_mode_name(mode: str) -> str:
    """``SHARE ROW EXCLUSIVE`` as pg_locks spells it: ``ShareRowExclusiveLock``."""
    return "".join(word.capitalize() for word in mode.split()) + "Lock"


def conflicting_sessions(conn: Connection, dialect: str, table: str,
                         wanted: str | list[str]) -> list[Blocker]:
    """The other sessions holding (or queued for) a lock on ``table`` that conflicts with
    ``wanted``: a PostgreSQL lock mode (``ACCESS EXCLUSIVE``), or the MySQL/MariaDB
    metadata lock types asked for. Where MySQL/MariaDB do not say who holds what
    (performance_schema off), every other session with an open transaction, since any of
    them may. Oldest transaction first; empty where the server would not say (SQLite, a
    table not there yet, a catalog not readable)."""
    from switchy_guard.sql.locks import MDL_CONFLICTS, PG_CONFLICTS

    rows: list[tuple[object, ...]] = []
    try:
        if dialect == "postgres" and isinstance(wanted, str):
            if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                return []
            modes = [_pg_mode_name(m) for m in PG_CONFLICTS.get(wanted, frozenset())]
            rows = [tuple(r) for r in conn.execute(
                text(_PG_CONFLICTING), {"table": table, "modes": modes})]
        elif dialect == "mysql":
            types = sorted(set().union(*(MDL_CONFLICTS.get(t, frozenset())
                                         for t in ([wanted] if isinstance(wanted, str)
                                                   else wanted))))
            rows = _mysql_conflicting(conn, table.split(".")[-1], types)
    except SQLAlchemyError:
        conn.rollback()
        return []
    found = [_blocker(row, dialect) for row in rows]
    return sorted(found, key=lambda b: -(b.transaction_seconds or 0))


def _mysql_conflicting(conn: Connection, table: str,
                       types: list[str]) -> list[tuple[object, ...]]:
    own = conn.execute(text("SELECT CONNECTION_ID()")).scalar()
    try:
        # Off (MariaDB's default), its tables are there and empty: no rows would prove
        # nothing. The metadata lock instrument must be on too (MariaDB: off by default).
        recorded = conn.execute(text(_MDL_RECORDED)).scalar()
        if recorded:
            query = text(_MYSQL_CONFLICTING).bindparams(bindparam("types", expanding=True))
            return [tuple(r) for r in conn.execute(
                query, {"own": own, "table": table, "types": types or ["EXCLUSIVE"]})]
    except SQLAlchemyError:  # performance_schema not readable
        conn.rollback()
    # A transaction with no client session behind it (the server's own) blocks no DDL.
    return [tuple(r) for r in conn.execute(text(_MYSQL_OPEN), {"own": own}) if r[1]]


_MDL_RECORDED = """
SELECT @@performance_schema AND EXISTS (
  SELECT 1 FROM performance_schema.setup_instruments
  WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES')
"""


_SIZE = {
    "postgres": "SELECT CASE WHEN to_regclass(:t) IS NOT NULL "
                "THEN pg_total_relation_size(to_regclass(:t)) END",
    "mysql": "SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES "
             "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :name",
}


def table_bytes(conn: Connection, dialect: str, table: str) -> int | None:
    """The table's size on disk with its indexes (PostgreSQL ``pg_total_relation_size``,
    MySQL/MariaDB ``data_length + index_length``); None when not known."""
    sql = _SIZE.get(dialect)
    if sql is None:
        return None
    schema, _, name = table.rpartition(".")
    try:
        value = conn.execute(text(sql), {"t": table, "schema": schema or None,
                                         "name": name}).scalar()
    except SQLAlchemyError:
        conn.rollback()
        return None
    return int(str(value)) if value is not None else None
