"""What a live database holds, as plain data: its table names, and the facts ``check -d``
reads (both read by the runtime, handed down to the validators)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from switchy_guard.model.records import StatementProgress, TrackingRow
    from switchy_guard.sql.classify import Name


class LiveTableNames:
    """The tables (and views) of a live database, read in one query: which names a
    plan's CREATE TABLE would find taken (see rules.base.NewTables).

    An unqualified name is looked up in the schema a CREATE TABLE of it would create in
    (PostgreSQL's current_schema(), MySQL's current database) and, on SQLite, in every
    attached database; MySQL and SQLite names whatever their case. When the database
    cannot be read, every name may exist."""


    def __init__(self, dialect: str, rows: list[tuple[str, str, bool]] | None) -> None:
        self.dialect = dialect
        self.known = rows is not None
        self._by_schema: dict[str, set[str]] = {}
        self._default: set[str] = set()
        for schema, name, default in rows or ():
            self._by_schema.setdefault(self._fold(schema), set()).add(self._fold(name))
            if default:
                self._default.add(self._fold(name))

    def _fold(self, name: str) -> str:
        return name if self.dialect == "postgres" else name.lower()


    def may_exist(self, name: Name) -> bool:
        """Whether the database has, or may have, the table ``name``."""
        if not self.known:
            return True
        if name.schema is None:
            return self._fold(name.name) in self._default
        return self._fold(name.name) in self._by_schema.get(self._fold(name.schema), ())


@dataclass(frozen=True)
class DatabaseFacts:
    """What ``check -d`` reads of a live database, once: the tracking table's rows, the
    statement progress of migrations run outside a transaction, and the table names."""

    rows: dict[str, TrackingRow]
    progress: dict[str, StatementProgress]
    live: LiveTableNames
    #: The server's version (None: not read), which the version-aware rules judge by.
    server_version: tuple[int, ...] | None = None


class DatabaseReader(Protocol):
    """A database ``check`` may read (built by runtime.facts, handed in by the caller so
    that the validators never open a connection themselves)."""

    #: The database's dialect ("postgres", "mysql", "sqlite").
    dialect: str

    def read(self) -> DatabaseFacts:
        """Read the facts (raises DatabaseUnavailable when the database cannot be read)."""
