"""A plan's CREATE of an object the live database already has (a table another tool
made, a view left over): said before the run, once, in the plan's warnings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from switchy_guard.runtime.adoption import detect, other_tool_notes, text_of
from switchy_guard.runtime.db import connect, connection_dialect

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from switchy_guard.model.plan import Plan
    from switchy_guard.model.records import TrackingRow
    from switchy_guard.runtime.runner import Migrator


class LiveObjects:
    """Names of the live database's tables, views, indexes and sequences (read once),
    in the default schema: which names a plan's CREATE would find taken."""

    _QUERIES = {
        "postgres": "SELECT c.relname, CASE WHEN c.relkind IN ('i', 'I') THEN 'index' "
                    "WHEN c.relkind = 'S' THEN 'sequence' WHEN c.relkind IN ('v', 'm') "
                    "THEN 'view' ELSE 'table' END, '' FROM pg_catalog.pg_class c "
                    "WHERE c.relnamespace = current_schema()::regnamespace "
                    "AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I', 'S')",
        "mysql": "SELECT TABLE_NAME, CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' "
                 "END, '' FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                 "UNION SELECT DISTINCT INDEX_NAME, 'index', TABLE_NAME FROM "
                 "information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
        "sqlite": "SELECT name, type, '' FROM sqlite_master "
                  "WHERE type IN ('table', 'view', 'index', 'trigger')",
    }

    def __init__(self, dialect: str, rows: Iterable[tuple[str, str, str]]) -> None:
        self.dialect = dialect
        self.names: dict[tuple[str, str], str] = {}
        for name, kind, owner in rows:
            self.names[self._key(name, kind, owner)] = kind

    def _fold(self, name: str) -> str:
        return name if self.dialect == "postgres" else name.lower()

    def _key(self, name: str, kind: str, owner: str = "") -> tuple[str, str]:
        # Tables, views and sequences share one namespace; on PostgreSQL and SQLite
        # index names do too; MySQL's index names are per table.
        if kind == "index" and self.dialect == "mysql":
            return (self._fold(owner), self._fold(name))
        return ("", self._fold(name))

    @classmethod
    def read(cls, conn: Connection) -> LiveObjects:
        """The objects of the database ``conn`` is connected to (none when unreadable)."""
        dialect = connection_dialect(conn)
        query = cls._QUERIES.get(dialect)
        if query is None:
            return cls(dialect, [])
        try:
            with conn.begin_nested():
                rows = conn.exec_driver_sql(query).all()
        except DBAPIError:
            return cls(dialect, [])
        return cls(dialect, [(text_of(r[0]), text_of(r[1]), text_of(r[2] or "")) for r in rows])

    def has(self, name: str, kind: str, owner: str = "") -> str | None:
        """The kind of the live object a CREATE of ``name`` would collide with."""
        return self.names.get(self._key(name, kind, owner))

    def forget(self, name: str, kind: str, owner: str = "") -> None:
        self.names.pop(self._key(name, kind, owner), None)

    def add(self, name: str, kind: str, owner: str = "") -> None:
        self.names[self._key(name, kind, owner)] = kind


_CREATED_KINDS = {"view": "view", "materialized": "view", "sequence": "sequence",
                  "trigger": "trigger"}


def existing_creates(plan: Plan, live: LiveObjects) -> list[str]:
    """Warnings for each CREATE in ``plan`` of an object the live database already has
    (a database migrated by something else), naming the object and the migration.

    Objects the plan drops or renames away before creating them anew are not named; a
    CREATE ... IF NOT EXISTS or CREATE OR REPLACE does not fail, and is not named either.
    Only names in the default schema (unqualified, or qualified with it) are checked.
    """
    from switchy_guard.sql.parse import parse_statements

    warnings = []
    for step in plan.steps:
        for _, info in parse_statements(step.statements, plan.dialect):
            created = _created(info)
            if created is not None:
                name, kind, owner = created
                found = live.has(name, kind, owner)
                if found is not None:
                    warnings.append(
                        f"{step.migration.id} creates {kind} {name}, but the database already "
                        f"has a {found} {name} (migrated by another tool?): migrate would fail "
                        "there; adopt the other tool's history, or mark the migration completed")
                live.add(name, kind, owner)
            _observe(info, live)
    return warnings


def _created(info: Any) -> tuple[str, str, str] | None:
    if info.if_exists or info.or_replace or info.temporary or info.via:
        return None
    if info.kind == "create_table" and info.table and not info.table.schema:
        return info.table.name, "table", ""
    if info.kind == "create_index" and info.index and not info.index.schema:
        return info.index.name, "index", info.table.name if info.table else ""
    kind = _CREATED_KINDS.get(info.object_type or "")
    if info.kind == "create_other" and kind and info.table and not info.table.schema:
        return info.table.name, kind, ""
    return None


def _observe(info: Any, live: LiveObjects) -> None:
    """Follow the plan's drops and renames: the name is free again after them."""
    if info.kind == "drop_table":
        for name in info.tables:
            live.forget(name.name, "table")
    elif info.kind == "drop_index" and info.index:
        live.forget(info.index.name, "index", info.table.name if info.table else "")
    elif info.kind == "drop_other":
        for name in info.tables or ((info.table,) if info.table else ()):
            live.forget(name.name, _CREATED_KINDS.get(info.object_type or "", "table"))
    elif info.kind == "rename_table" and info.table:
        live.forget(info.table.name, "table")
        if info.new_name is not None:
            live.add(info.new_name.name, "table")


def plan_warnings(migrator: Migrator, plan: Plan, rows: dict[str, TrackingRow]) -> list[str]:
    """``plan``'s warnings about a database another tool migrated: what that tool's
    table records, and each CREATE of an object the database already has."""
    with connect(migrator.engine) as conn:
        try:
            histories = detect(conn)
            live = LiveObjects.read(conn)
        finally:
            conn.rollback()
    planned = {step.migration.id for step in plan.steps}
    notes = other_tool_notes(histories, migrator.migrations(), rows, planned)
    return notes + existing_creates(plan, live)
