"""Error classes. Each carries the exit code the command line maps it to.

Exit codes (docs/cli.md lists them with these classes): 0 ok; 1 findings or a gate
refused; 2 bad usage, configuration or input; 3 the database or the lock could not be
reached in time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class SwitchyError(Exception):
    """Base of every error switchy-guard raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line, naming the file first when there is one."""
        text = self.message.replace("\r", " ").replace("\n", " ")
        line = f"{self.path}: {text}" if self.path else text
        # A file name that is not UTF-8 holds lone surrogates: shown as \xff, never a
        # second error while printing this one.
        try:
            return line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file name holds: shown as \udXXX
            return line.encode("utf-8", "backslashreplace").decode("utf-8")


class InputError(SwitchyError):
    """Bad migration input: unreadable file, bad metadata, duplicate id, cycle, ..."""


class ConfigError(SwitchyError):
    """Bad configuration or usage: unknown option, invalid table name, unknown id."""


class BadMigrationId(ConfigError, ValueError):
    """An id argument that names no migration it could mean: empty, blank, unknown to the
    sources, or (``rollback --to``) not applied. Never read as "every migration".

    ``argument`` names the argument as the caller spelled it (``--to``, ``retry``, ...).
    """

    def __init__(self, argument: str, migration_id: str, problem: str) -> None:
        self.argument = argument
        self.migration_id = migration_id
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


def check_migration_id(argument: str, migration_id: str, known: Iterable[str]) -> None:
    """Raise BadMigrationId unless ``migration_id`` is one of ``known`` (an empty or
    blank id never is)."""
    if not migration_id.strip():
        raise BadMigrationId(argument, migration_id, f"no migration {migration_id!r}: an "
                             "empty id names none (give a migration id)")
    if migration_id not in known:
        raise BadMigrationId(argument, migration_id, f"unknown migration id {migration_id!r}"
                             " (no migration of that id in the sources)")


class DatabaseUnavailable(SwitchyError):
    """The database could not be reached."""

    exit_code = 3


class SourceUnavailable(SwitchyError):
    """A remote migration source could not be reached (or refused access)."""

    exit_code = 3


class LockTimeout(SwitchyError):
    """The migration lock was not acquired in time."""

    exit_code = 3


class Refused(SwitchyError):
    """A safety check refused to go on (dirty state, checksum drift, failed row, ...)."""

    exit_code = 1


class MigrationFailed(SwitchyError):
    """A migration's statements failed; the database's own message is kept."""

    exit_code = 1

    def __init__(
        self,
        migration_id: str,
        reason: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        statement: str | None = None,
        applied_statements: int | None = None,
        total_statements: int | None = None,
    ) -> None:
        self.migration_id = migration_id
        self.reason = reason
        self.line = line
        self.statement = statement
        self.applied_statements = applied_statements
        self.total_statements = total_statements
        where = f"{path}:{line}" if path and line else (str(path) if path else None)
        parts = [f"migration {migration_id} failed"]
        if where:
            parts.append(f"at {where}")
        message = " ".join(parts) + f": {reason}"
        if applied_statements is not None and total_statements is not None:
            message += (
                f" ({applied_statements} of {total_statements} statements were applied"
                " before the failure and were not rolled back)"
            )
        self.file = str(path) if path is not None else None  # the base's path prefixes
        super().__init__(message)

    def to_dict(self) -> dict[str, object]:
        """The failure as JSON: which migration, where, why, and how far it got."""
        return {
            "id": self.migration_id, "reason": self.reason, "file": self.file,
            "line": self.line, "statement": self.statement,
            "statements_applied": self.applied_statements,
            "statements_total": self.total_statements,
        }


class BadServerVersion(ConfigError):
    """A ``--server-version`` or ``server_version`` setting that is not a version, or
    that names another server than the dialect checked (``mysql-8.0`` with PostgreSQL)."""
