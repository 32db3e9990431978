"""Python code migrations run end to end on SQLite: failures, state and rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from switchy_guard.discovery import CodeMigrations
from switchy_guard.errors import MigrationFailed
from switchy_guard.model.records import IN_PROGRESS, StatementProgress
from switchy_guard.model.state import MigrationStatus, progress_note
from switchy_guard.report.state import state_warnings
from switchy_guard.runtime.runner import Migrator


def test_failed_code_migration_outside_a_transaction_says_what_stays(tmp_path: Path) -> None:
    registry = CodeMigrations()

    @registry.migration("2024-01-01-000000_half_done", transactional=False)
    def half_done(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE kept (id INTEGER)")
        raise ValueError("backfill broke")

    migrator = Migrator(registry, f"sqlite:///{tmp_path / 'app.db'}")
    with pytest.raises(MigrationFailed, match="backfill broke"):
        migrator.migrate()
    (warning,) = state_warnings(migrator.state(), "sqlite")
    # Not "0 of 0 statements were applied": code has no statements to count.
    assert "0 of 0" not in warning
    assert warning == (
        "2024-01-01-000000_half_done failed: ValueError: backfill broke (its code ran "
        "outside a transaction: what it did before the failure stays applied)"
    )


def test_code_migration_left_in_progress_is_not_counted_in_statements() -> None:
    registry = CodeMigrations()
    registry.add("2024-01-01-000000_code", lambda conn: None, transactional=False)
    (migration,) = registry.load()
    entry = MigrationStatus(migration.id, IN_PROGRESS, migration, None,
                            progress=StatementProgress(migration.id, 0, 0))
    assert progress_note(entry, "sqlite") == (
        " (its code ran outside a transaction: what it did may have stayed applied)")
