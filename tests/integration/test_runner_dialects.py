"""The runner on SQL that only one database speaks, as a new user would write it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from switchy_guard import MigrationFailed, Migrator

A = "2024-01-01-000000_first"


def write(root: Path, migration_id: str, up: str, down: str | None = None,
          metadata: str | None = None) -> None:
    folder = root / migration_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "up.sql").write_text(up, encoding="utf-8")
    if down is not None:
        (folder / "down.sql").write_text(down, encoding="utf-8")
    if metadata is not None:
        (folder / "metadata.toml").write_text(metadata, encoding="utf-8")


def tables(migrator: Migrator) -> set[str]:
    with migrator.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@pytest.mark.only_on("mysql")
def test_a_procedure_failing_after_a_select_fails_its_own_call(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A CALL returns the procedure's SELECT results first and its error after them: the
    error belongs to the CALL, not to the statement after it (nor to closing the cursor,
    which left the migration in_progress and exited as if the database were down)."""
    root = tmp_path / "m"
    write(root, A,
          "CREATE TABLE users (id INT PRIMARY KEY, n INT);\n"
          "DELIMITER //\n"
          "CREATE PROCEDURE boom()\n"
          "BEGIN\n"
          "  SELECT COUNT(*) FROM users;\n"
          "  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom inside';\n"
          "END//\n"
          "DELIMITER ;\n"
          "CALL boom();\n"
          "CREATE TABLE after_call (id INT);\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    error = info.value
    assert "boom inside" in error.reason
    assert error.line == 9 and error.statement == "CALL boom()"
    assert (error.applied_statements, error.total_statements) == (2, 4)
    assert migrator.state().rows[A].status == "failed"
    assert "after_call" not in tables(migrator)
