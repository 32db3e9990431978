"""Migrations written in Python, or raw SQL registered from code.

>>> registry = CodeMigrations()
>>> @registry.migration("2024-01-01-000000_create_users", down=lambda conn: None)
... def create_users(conn):
...     conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY)")
>>> registry.add_sql("2024-01-02-000000_add_email",
...                  "ALTER TABLE users ADD COLUMN email TEXT",
...                  "ALTER TABLE users DROP COLUMN email")
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import TypeVar

from switchy_guard.errors import InputError
from switchy_guard.model.checksum import EMPTY_CHECKSUM, callable_checksum, exec_raw_checksum
from switchy_guard.model.migration import DIALECTS, Migration, MigrationCallable

F = TypeVar("F", bound=MigrationCallable)


class CodeMigrations:
    """A registry of code migrations, usable as a source like the others."""

    def __init__(self, label: str = "code") -> None:
        self._label = label
        self._migrations: list[Migration] = []

    def __repr__(self) -> str:
        return f"CodeMigrations({len(self._migrations)} migrations)"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return self._label

    def add(
        self,
        migration_id: str,
        up: MigrationCallable | None,
        down: MigrationCallable | None = None,
        *,
        description: str | None = None,
        depends_on: Sequence[str] = (),
        dialects: Sequence[str] | None = None,
        transactional: bool = True,
        checksum: str | None = None,
    ) -> Migration:
        """Register a Python migration; ``up``/``down`` take a SQLAlchemy Connection.

        ``checksum`` overrides the up digest (see :mod:`switchy_guard.model.checksum`).
        """
        for step in (up, down):
            if step is not None and not callable(step):
                raise InputError("up and down must be callables", path=migration_id)
        if checksum is not None:
            # It goes into the tracking table's VARCHAR(64) column: anything else fails
            # there, after the migration ran (MySQL commits DDL as it goes).
            checksum = checksum.lower()
            if len(checksum) != 64 or checksum.strip(string.hexdigits.lower()):
                raise InputError(
                    "checksum must be a SHA-256 in hex (64 characters)", path=migration_id
                )
        return self._register(
            Migration(
                id=migration_id,
                up=up,
                down=down,
                up_checksum=checksum or callable_checksum(up),
                down_checksum=callable_checksum(down) if down else EMPTY_CHECKSUM,
                description=description,
                depends_on=tuple(depends_on),
                dialects=tuple(dialects) if dialects is not None else None,
                transactional=transactional,
                source=f"{self._label}:{migration_id}",
            )
        )

    def add_sql(
        self,
        migration_id: str,
        up: str,
        down: str | None = None,
        *,
        description: str | None = None,
        depends_on: Sequence[str] = (),
        dialects: Sequence[str] | None = None,
        transactional: bool = True,
    ) -> Migration:
        """Register a raw-SQL migration, checksummed as switchy_schema does (EXEC_RAW)."""
        return self._register(
            Migration(
                id=migration_id,
                up=up,
                down=down,
                up_checksum=exec_raw_checksum(up),
                down_checksum=exec_raw_checksum(down) if down is not None else EMPTY_CHECKSUM,
                description=description,
                depends_on=tuple(depends_on),
                dialects=tuple(dialects) if dialects is not None else None,
                transactional=transactional,
                source=f"{self._label}:{migration_id}",
            )
        )

    def migration(
        self,
        migration_id: str,
        *,
        down: MigrationCallable | None = None,
        description: str | None = None,
        depends_on: Sequence[str] = (),
        dialects: Sequence[str] | None = None,
        transactional: bool = True,
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add`; the decorated function is the up step."""

        def register(func: F) -> F:
            self.add(
                migration_id,
                func,
                down,
                description=description or (func.__doc__ or "").strip() or None,
                depends_on=depends_on,
                dialects=dialects,
                transactional=transactional,
            )
            return func

        return register

    def _register(self, migration: Migration) -> Migration:
        if not migration.id or not migration.id.strip():
            raise InputError("a migration id must not be empty", path=self._label)
        if migration.dialects is not None:
            unknown = [d for d in migration.dialects if d not in DIALECTS]
            if unknown:
                raise InputError(f"unknown dialect {unknown[0]!r}", path=migration.id)
        self._migrations.append(migration)
        return migration

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Every registered migration, as the other sources return them: the caller
        filters by dialect, so a dependency on another database's migration holds."""
        return list(self._migrations)
