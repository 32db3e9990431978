"""Rollbacks and retries are judged like migrations, on real databases: the down scripts
that will run go through the same rules (anonymous blocks and dynamic SQL too), their
rollback-time findings need an allow and a backup under the production policy, the live
rows they would lose are counted, and a refusal changes nothing and is journaled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import Result, run_cli, write_migration
from tests.db_helpers import journal_entries, tables

A = "2024-01-01-000000_create_users"
B = "2024-01-02-000000_create_posts"
PROD = ("--env", "production", "--confirm", "production")
SEED = ("CREATE TABLE users (id INTEGER PRIMARY KEY, nick VARCHAR(20));\n"
        "INSERT INTO users (id, nick) VALUES (1, 'a'), (2, 'b'), (3, NULL);\n")
# MariaDB commits DDL implicitly (SG601 on every multi-statement migration there): not
# what these tests are about.
MYSQL_DDL = '[[allow]]\nrule = "non-transactional-ddl"\nreason = "seed re-run by hand"\n'


def users_project(root: Path, down: str, *, metadata: str | None = MYSQL_DDL) -> None:
    """One migration creating ``users`` with three rows, its down script ``down``."""
    write_migration(root, A, SEED, down, metadata=metadata)


def user_count(url: str) -> int:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one())
    finally:
        engine.dispose()


def rollback_outcomes(url: str) -> list[str]:
    return [e.outcome for e in journal_entries(url)
            if e.command.startswith("switchy-guard rollback")]


def status_of(root: Path, url: str, migration_id: str) -> str:
    migrator = Migrator(root, url)
    try:
        row = migrator.state().rows.get(migration_id)
        return row.status if row else "pending"
    finally:
        migrator.engine.dispose()


def assert_refused_for_the_down(result: Result, rule: str) -> None:
    """Exit 1 naming the rollback-time finding, the verdict shown first."""
    assert result.code == 1, result.err
    assert f"{rule} (rollback-time)" in result.err
    assert "only with an allow and a reason" in result.err
    assert "Gate: policy production" in result.out and "REFUSED" in result.out


@pytest.mark.only_on("postgres")
def test_a_do_block_down_that_drops_a_table_is_refused_in_production(
        tmp_path: Path, db_url: str) -> None:
    """The issue's example: the DROP TABLE hidden in a DO block's EXECUTE ran with only
    --confirm, no allow and no backup asked for."""
    root = tmp_path / "m"
    users_project(root, "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;\n", metadata=None)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    plan = run_cli("rollback", "--all", "--plan", *common, "--env", "production")
    assert plan.code == 0, plan.err
    assert "drops: table users" in plan.out
    assert "drop table on users: 3 rows" in plan.out
    assert "SG301 drop-table (rollback-time)" in plan.out and "REFUSED" in plan.out

    refused = run_cli("rollback", "--all", *common, *PROD)
    assert_refused_for_the_down(refused, "SG301 drop-table")
    assert "needs a backup" in refused.err
    assert user_count(db_url) == 3 and status_of(root, db_url, A) == "completed"

    # metadata.toml is not checksummed: an allow added there changes no applied script.
    (root / A / "metadata.toml").write_text(
        '[[allow]]\nrule = "drop-table"\nreason = "the first migration"\n')
    no_backup = run_cli("rollback", "--all", *common, *PROD)
    assert no_backup.code == 1 and "needs a backup" in no_backup.err
    assert "only with an allow" not in no_backup.err  # the allow covers the block's DROP
    assert user_count(db_url) == 3
    done = run_cli("rollback", "--all", *common, *PROD, "--ack-backup")
    assert done.code == 0, done.err
    assert "users" not in tables(db_url)
    assert rollback_outcomes(db_url)[-3:] == ["refused", "refused", "ok"]


def test_a_drop_table_down_needs_an_allow_and_a_backup_in_production(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    users_project(root, "DROP TABLE users;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    refused = run_cli("rollback", "--all", *common, *PROD, "--ack-backup")
    assert_refused_for_the_down(refused, "SG301 drop-table")
    assert "drop table on users: 3 rows" in refused.out
    assert user_count(db_url) == 3 and status_of(root, db_url, A) == "completed"
    assert rollback_outcomes(db_url) == ["refused"]

    # An allow in metadata.toml covers the down script too.
    (root / A / "metadata.toml").write_text(
        MYSQL_DDL + '[[allow]]\nrule = "drop-table"\nreason = "first migration"\n')
    no_backup = run_cli("rollback", "--all", *common, *PROD)
    assert no_backup.code == 1 and "needs a backup" in no_backup.err
    assert "only with an allow" not in no_backup.err
    done = run_cli("rollback", "--all", *common, *PROD, "--ack-backup")
    assert done.code == 0, done.err
    assert "users" not in tables(db_url)
    assert rollback_outcomes(db_url) == ["refused", "refused", "ok"]


def test_a_delete_down_is_refused_and_its_rows_counted(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    users_project(root, "DROP TABLE users;\n")
    write_migration(root, B, "INSERT INTO users (id, nick) VALUES (4, 'd');\n",
                    "DELETE FROM users;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    plan = run_cli("rollback", "--steps", "1", "--plan", *common, "--env", "production",
                   "--format", "json")
    assert plan.code == 0, plan.err
    report = json.loads(plan.out)
    (migration,) = report["migrations"]
    assert migration["id"] == B
    (finding,) = [f for f in migration["findings"] if f["code"] == "SG305"]
    assert finding["direction"] == "down" and finding["file"].endswith("down.sql")
    assert migration["rows"][0]["rows"] == 4
    assert report["gate"]["refused"] is True
    refused = run_cli("rollback", "--steps", "1", *common, *PROD, "--ack-backup")
    assert_refused_for_the_down(refused, "SG305 delete-without-where")
    assert "delete every row on users: 4 rows" in refused.out
    assert user_count(db_url) == 4 and status_of(root, db_url, B) == "completed"
    # Development shows the finding and lets it run.
    done = run_cli("rollback", "--steps", "1", *common)
    assert done.code == 0, done.err
    assert user_count(db_url) == 0 and status_of(root, db_url, B) == "pending"


@pytest.mark.only_on("mysql")
def test_a_mariadb_compound_block_down_is_judged(tmp_path: Path, db_url: str) -> None:
    """MariaDB's BEGIN NOT ATOMIC, the DO block's twin: its EXECUTE IMMEDIATE runs."""
    root = tmp_path / "m"
    users_project(root, "BEGIN NOT ATOMIC\n  EXECUTE IMMEDIATE 'TRUNCATE TABLE users';\n"
                        "END;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    refused = run_cli("rollback", "--all", *common, *PROD, "--ack-backup")
    assert_refused_for_the_down(refused, "SG304 truncate")
    assert "truncate on users: 3 rows" in refused.out
    assert user_count(db_url) == 3


def test_retry_of_a_failed_destructive_migration_is_judged_like_migrate(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    users_project(root, "DROP TABLE users;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    write_migration(root, B, "DELETE FROM nowhere;\n", "SELECT 1;\n")
    assert run_cli("migrate", *common).code == 1  # B failed
    (root / B / "up.sql").write_text("DELETE FROM users;\n")
    refused = run_cli("retry", B, *common, *PROD, "--ack-backup")
    assert refused.code == 1
    assert "SG305 delete-without-where" in refused.err
    # The person sees what migrate shows: the findings, the rows and the verdict.
    assert "delete every row on users: 3 rows" in refused.out
    assert "Gate: policy production" in refused.out
    assert status_of(root, db_url, B) == "failed" and user_count(db_url) == 3
    (root / B / "metadata.toml").write_text(
        '[[allow]]\nrule = "delete-without-where"\nreason = "users are re-imported"\n')
    no_backup = run_cli("retry", B, *common, *PROD)
    assert no_backup.code == 1 and "needs a backup" in no_backup.err
    done = run_cli("retry", B, *common, *PROD, "--ack-backup")
    assert done.code == 0, done.err
    assert status_of(root, db_url, B) == "completed" and user_count(db_url) == 0


def test_rollback_to_a_migration_that_is_not_applied_is_refused(tmp_path: Path,
                                                                db_url: str) -> None:
    root = tmp_path / "m"
    users_project(root, "DROP TABLE users;\n")
    write_migration(root, B, "SELECT 1;\n", "SELECT 1;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", "--to", A, *common).code == 0
    for extra in ((), ("--plan",)):
        result = run_cli("rollback", "--to", B, *extra, *common)
        assert result.code == 2, result.err
        assert result.error_lines == [
            f"error: --to: migration {B!r} is pending, not applied: rollback --to keeps an "
            "applied migration"]
    assert status_of(root, db_url, A) == "completed" and user_count(db_url) == 3
