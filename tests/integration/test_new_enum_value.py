"""SG605 on a real PostgreSQL server: a value ALTER TYPE ... ADD VALUE adds cannot be
used in the transaction that added it ('unsafe use of new value'), so the rule's example
fails there, nothing of it applied, and its fix (the use in the next migration) runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.discovery.directory import DirectoryMigrations
from switchy_guard.errors import MigrationFailed
from switchy_guard.rules import get_rule
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import write_migration

TYPE = ("CREATE TYPE mood AS ENUM ('ok');\n"
        "CREATE TABLE settings (id int PRIMARY KEY, default_mood mood);\n"
        "INSERT INTO settings VALUES (1, 'ok');\n")
ADD = "ALTER TYPE mood ADD VALUE 'ecstatic';\n"
USE = "UPDATE settings SET default_mood = 'ecstatic' WHERE id = 1;\n"


def _mood(migrator: Migrator) -> tuple[str, list[str]]:
    with migrator.engine.connect() as conn:
        mood = conn.exec_driver_sql("SELECT default_mood::text FROM settings").scalar_one()
        labels = conn.exec_driver_sql(
            "SELECT enumlabel FROM pg_enum WHERE enumtypid = 'mood'::regtype "
            "ORDER BY enumsortorder").scalars().all()
    return mood, list(labels)


@pytest.mark.only_on("postgres")
def test_adding_and_using_a_value_in_one_migration_fails_and_the_rule_says_so(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_type", TYPE, "DROP TABLE settings;\nDROP TYPE mood;\n")
    write_migration(root, "2024-01-02-000000_add_and_use", ADD + USE, "SELECT 1;\n")
    findings = validate(DirectoryMigrations(root).load(), "postgres").findings
    assert [(f.migration, f.line) for f in findings if f.code == "SG605"] == [
        ("2024-01-02-000000_add_and_use", 2)]
    migrator = Migrator(root, db_url)
    try:
        with pytest.raises(MigrationFailed, match="unsafe use of new value"):
            migrator.migrate()
        # The migration's transaction rolled back: neither the value nor the update.
        assert _mood(migrator) == ("ok", ["ok"])
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("postgres")
def test_the_fix_uses_the_value_in_the_next_migration(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_type", TYPE, "DROP TABLE settings;\nDROP TYPE mood;\n")
    write_migration(root, "2024-01-02-000000_add", ADD, "SELECT 1;\n")
    write_migration(root, "2024-01-03-000000_use", USE, "SELECT 1;\n")
    findings = validate(DirectoryMigrations(root).load(), "postgres").findings
    assert "SG605" not in {f.code for f in findings}
    migrator = Migrator(root, db_url)
    try:
        migrator.migrate()
        assert _mood(migrator) == ("ecstatic", ["ok", "ecstatic"])
    finally:
        migrator.engine.dispose()


def test_the_rules_example_is_the_failing_migration_above() -> None:
    rule = get_rule("SG605")
    assert rule is not None and rule.example.startswith(ADD.strip())
