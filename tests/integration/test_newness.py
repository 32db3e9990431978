"""A CREATE TABLE IF NOT EXISTS of a table that holds rows makes nothing new, on every
database: check -d, plan and the production gate all see the rows a DELETE then takes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import run_cli, write_migration

SEED, PURGE = "2024-01-01-000000_users", "2024-01-02-000000_purge"
ROWS = 3
# MySQL commits DDL at once: the seed mixes DDL and rows on purpose.
ALLOW_MIXED = ('[[allow]]\nrule = "non-transactional-ddl"\n'
               'reason = "MySQL: a half-applied step is re-run by hand"\n')
CREATE = "CREATE TABLE IF NOT EXISTS {t} (id INTEGER PRIMARY KEY, email VARCHAR(50));\n"


def project(root: Path, url: str) -> None:
    """``users`` with rows (applied), then a pending migration that "creates" it again
    with IF NOT EXISTS and deletes every row."""
    values = ", ".join(f"({n}, 'u{n}@example.com')" for n in range(1, ROWS + 1))
    write_migration(root, SEED, CREATE.format(t="users")
                    + f"INSERT INTO users (id, email) VALUES {values};\n",
                    "DROP TABLE users;\n", metadata=ALLOW_MIXED)
    assert run_cli("migrate", "-m", root, "-d", url).code == 0
    write_migration(root, PURGE, CREATE.format(t="users") + "DELETE FROM users;\n",
                    "SELECT 1;\n", metadata=ALLOW_MIXED)


def count(url: str, table: str = "users") -> int:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


def test_if_not_exists_of_a_table_with_rows_is_refused_and_counted(tmp_path: Path,
                                                                  db_url: str) -> None:
    root = tmp_path / "m"
    project(root, db_url)
    check = run_cli("check", "-m", root, "-d", db_url, "--no-cache")
    assert check.code == 1 and "SG305 delete-without-where" in check.out, check.out
    plan = json.loads(run_cli("plan", "-m", root, "-d", db_url, "--format", "json").out)
    (purge,) = plan["migrations"]
    assert "SG305" in {f["code"] for f in purge["findings"]}
    assert [(r["table"], r["what"], r["rows"]) for r in purge["rows"]] == [
        ("users", "delete every row", ROWS)]
    refused = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                      "--confirm", "production", "--ack-backup")
    assert refused.code == 1
    assert "SG305 delete-without-where" in refused.err
    assert count(db_url) == ROWS  # nothing was deleted


def test_if_not_exists_of_an_absent_table_is_new(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, db_url)
    write_migration(root, PURGE, CREATE.format(t="scratch") + "DELETE FROM scratch;\n",
                    "DROP TABLE scratch;\n", metadata=ALLOW_MIXED)
    check = run_cli("check", "-m", root, "-d", db_url, "--no-cache")
    assert "SG305" not in check.out, check.out
    plan = json.loads(run_cli("plan", "-m", root, "-d", db_url, "--format", "json").out)
    (scratch,) = plan["migrations"]
    assert "SG305" not in {f["code"] for f in scratch["findings"]}
    assert scratch["rows"] == []
    # Without the database no one can say it is absent: it is not new.
    alone = run_cli("check", "-m", root, "--dialect", plan["dialect"], "--no-cache")
    assert "SG305 delete-without-where" in alone.out


def test_a_table_made_by_an_earlier_pending_migration_that_exists_live_is_not_new(
        tmp_path: Path, db_url: str) -> None:
    """The tracking table says the seed is pending, yet ``users`` is there with rows."""
    root = tmp_path / "m"
    project(root, db_url)
    other = tmp_path / "fresh"
    write_migration(other, SEED, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
                    "DROP TABLE users;\n")
    write_migration(other, PURGE, "DELETE FROM users;\n", "SELECT 1;\n")
    table = ["--migration-table", "other_tracking"]
    check = run_cli("check", "-m", other, "-d", db_url, *table, "--no-cache")
    assert "SG305 delete-without-where" in check.out, check.out
    plan = json.loads(run_cli("plan", "-m", other, "-d", db_url, *table,
                              "--format", "json").out)
    purge = plan["migrations"][1]
    assert "SG305" in {f["code"] for f in purge["findings"]}
    assert [r["rows"] for r in purge["rows"]] == [ROWS]
