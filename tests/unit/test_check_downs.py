"""check reads down.sql: a down's hazards are rollback-time findings, its ordinary
reversal of the up is none (issue 15), and a Diesel-shaped history gives no noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import switchy_guard.check.parallel as parallel
from switchy_guard.check.run import run_check
from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.model.findings import Finding
from tests.cli_helpers import run_cli, write_migration


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(home))
    return home


def check(root: Path, dialect: str = "postgres") -> list[Finding]:
    return run_check(str(root), dialect, use_cache=False, jobs=1).findings


def downs(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in findings if f.rollback_time]


# A down that undoes exactly what its up did: nothing to report.
REVERSALS = [
    ("CREATE TABLE users (id INT PRIMARY KEY, name TEXT);\n"
     "CREATE INDEX users_name ON users (name);\n", "DROP INDEX users_name;\nDROP TABLE users;\n"),
    ("CREATE TABLE IF NOT EXISTS tags (id INT);\nINSERT INTO tags VALUES (1);\n",
     "DROP TABLE tags;\n"),
    ("ALTER TABLE accounts ADD COLUMN email TEXT;\n", "ALTER TABLE accounts DROP COLUMN email;\n"),
    ("CREATE VIEW active AS SELECT 1 AS one;\nCREATE SEQUENCE counter;\n",
     "DROP VIEW active;\nDROP SEQUENCE counter;\n"),
    ("CREATE SCHEMA reporting;\n", "DROP SCHEMA reporting CASCADE;\n"),
    ("ALTER TABLE accounts RENAME COLUMN name TO full_name;\n",
     "ALTER TABLE accounts RENAME COLUMN full_name TO name;\n"),
    ("ALTER TABLE accounts RENAME TO customers;\n", "ALTER TABLE customers RENAME TO accounts;\n"),
]


@pytest.mark.parametrize(("up", "down"), REVERSALS)
def test_a_down_undoing_its_up_is_no_finding(tmp_path: Path, up: str, down: str) -> None:
    write_migration(tmp_path / "m", "2024-01-01-000000_a", up, down)
    assert downs(check(tmp_path / "m")) == []


# A down doing what its up did not do: found, as a rollback-time finding of the rule.
EXTRA = [
    ("CREATE TABLE posts (id INT);\n", "DROP TABLE posts;\nDROP TABLE users;\n", "SG301",
     "drops table users"),
    ("ALTER TABLE users ADD COLUMN email TEXT;\n", "ALTER TABLE users DROP COLUMN name;\n",
     "SG302", "drops column users.name"),
    ("CREATE TABLE posts (id INT);\n", "DROP TABLE posts;\nDELETE FROM users;\n", "SG305",
     "deletes every row of users"),
    ("CREATE TABLE posts (id INT);\n", "TRUNCATE users;\nDROP TABLE posts;\n", "SG304",
     "empties table users"),
    # Another dialect's syntax (SQL Server) that nothing here can classify.
    ("CREATE TABLE posts (id INT);\n", "EXEC sp_rename 'posts', 'old_posts';\n", "SG603",
     "cannot classify"),
    ("SELECT 1;\n", "DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'users'); END $$;\n", "SG603",
     "builds at run time"),
    ("CREATE INDEX accounts_name ON accounts (name);\n", "DROP FUNCTION purge();\n", "SG307",
     "drops function purge"),
]


@pytest.mark.parametrize(("up", "down", "code", "message"), EXTRA)
def test_what_a_down_does_beyond_its_up_is_a_rollback_time_finding(
        tmp_path: Path, up: str, down: str, code: str, message: str) -> None:
    write_migration(tmp_path / "m", "2024-01-01-000000_a", up, down)
    found = [f for f in check(tmp_path / "m") if f.rollback_time]
    assert [f.code for f in found] == [code]
    assert message in found[0].message
    assert found[0].file == f"{tmp_path}/m/2024-01-01-000000_a/down.sql"
    assert found[0].line is not None


def test_an_index_on_an_older_table_still_locks_it_when_dropped(tmp_path: Path) -> None:
    # The up's index is on a table it did not create: its DROP INDEX at rollback locks
    # that table like any other (only indexes of the up's own tables are reversal).
    write_migration(tmp_path / "m", "2024-01-01-000000_a",
                    "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
                    "DROP INDEX users_email;\n")
    assert [code for code, _ in downs(check(tmp_path / "m"))] == ["SG401"]


def test_a_down_changes_nothing_the_later_ups_are_judged_by(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE t (c TEXT);\n", "DROP TABLE t;\n")
    write_migration(root, "2024-01-02-000000_b", "SELECT 1;\n",
                    "ALTER TABLE t ALTER COLUMN c TYPE VARCHAR(5);\n")
    write_migration(root, "2024-01-03-000000_c",
                    "ALTER TABLE t ALTER COLUMN c TYPE VARCHAR(100);\n", "SELECT 1;\n")
    found = [(f.code, f.migration, f.rollback_time) for f in check(root) if f.code == "SG308"]
    # b's down narrows text; c's up narrows text too (the down's varchar(5) never ran).
    assert found == [("SG308", "2024-01-02-000000_b", True),
                     ("SG308", "2024-01-03-000000_c", False)]


def test_allows_cover_the_down_and_a_metadata_allow_used_there_is_used(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "SELECT 1;\n", "DROP TABLE users;\n",
                    'allow = [{ rule = "drop-table", reason = "users restored from backup" }]\n')
    write_migration(root, "2024-01-02-000000_b", "SELECT 1;\n",
                    "-- switchy-guard: allow SG305 -- the cache table only\nDELETE FROM cache;\n")
    assert check(root) == []


def test_fail_on_and_the_summary_count_rollback_time_findings(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "SELECT 1;\n", "UPDATE users SET a = 1;\n")
    text = run_cli("-m", root, "--dialect", "postgres", "check", "--no-cache")
    assert text.code == 0  # a warning; --fail-on error by default
    assert "0 error(s), 1 warning(s), 0 note(s) (1 rollback-time) in 1 migration(s)" in text.out
    assert run_cli("-m", root, "--dialect", "postgres", "check", "--no-cache",
                   "--fail-on", "warning").code == 1
    report = json.loads(run_cli("-m", root, "--dialect", "postgres", "check", "--no-cache",
                                "--format", "json").out)
    assert report["summary"]["rollback_time"] == 1


def test_check_gate_judges_what_migrate_runs(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "SELECT 1;\n", "DROP TABLE users;\n")
    result = run_cli("-m", root, "--dialect", "postgres", "--env", "production", "check",
                     "--no-cache", "--gate", "--fail-on", "warning")
    assert result.code == 1  # --fail-on still counts it
    assert "1 rollback-time finding(s) not judged here" in result.err
    assert "would refuse" not in result.err


UPS_AND_DOWNS = [
    ("2024-01-01-000000_create_users",
     "CREATE TABLE users (id INT PRIMARY KEY, name TEXT, bio TEXT);\n", "DROP TABLE users;\n"),
    ("2024-01-01-000001_add_email", "ALTER TABLE users ADD COLUMN email TEXT;\n",
     "ALTER TABLE users DROP COLUMN email;\nALTER TABLE users DROP COLUMN bio;\n"),
    ("2024-01-01-000002_wide", "ALTER TABLE users ALTER COLUMN name TYPE TEXT;\n",
     "SELECT 1;\n"),
    # Second half: the down narrows a column whose type the first half taught.
    ("2024-01-02-000000_x", "SELECT 1;\n",
     "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(3);\n"),
    ("2024-01-02-000001_y", "CREATE TABLE y (id INT);\n", "DROP TABLE y;\nDELETE FROM users;\n"),
    ("2024-01-02-000002_z", "SELECT 1;\n", "FROBNICATE users;\n"),
]


def test_two_processes_and_the_cache_report_the_downs_as_one_process_does(
        tmp_path: Path) -> None:
    root = tmp_path / "m"
    for migration_id, up, down in UPS_AND_DOWNS:
        write_migration(root, migration_id, up, down)
    one = run_check(str(root), "postgres", use_cache=False, jobs=1)
    assert sorted(code for code, _ in downs(one.findings)) == [
        "SG302", "SG305", "SG308", "SG405", "SG603"]
    two = parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2)
    assert two is not None
    assert two.findings == one.findings
    first = run_check(str(root), "postgres", jobs=1)
    cached = run_check(str(root), "postgres", jobs=1)
    assert first.findings == cached.findings == one.findings
    assert cached.summary == one.summary and one.summary.rollback_time == 5


@pytest.mark.parametrize("layout", ["golang-migrate", "sqlx"])
def test_a_file_layout_in_two_processes_reports_the_downs_as_one_process_does(
        tmp_path: Path, layout: str) -> None:
    root = tmp_path / "m"
    root.mkdir()
    for number, (migration_id, up, down) in enumerate(UPS_AND_DOWNS, start=1):
        name = f"{number:03d}_{migration_id.partition('_')[2]}"
        (root / f"{name}.up.sql").write_text(up)
        (root / f"{name}.down.sql").write_text(down)
    source = DirectoryMigrations(root, layout=layout)
    one = run_check(source, "postgres", use_cache=False, jobs=1)
    assert sorted(code for code, _ in downs(one.findings)) == [
        "SG302", "SG305", "SG308", "SG405", "SG603"]
    two = parallel.check_in_two(DirectoryMigrations(root, layout=layout), "postgres",
                                min_folders=2)
    assert two is not None
    assert two.findings == one.findings
    assert {f.file for f in two.findings if f.rollback_time} >= {
        f"{root}/004_x.down.sql", f"{root}/005_y.down.sql"}


def _diesel_history(root: Path) -> Path:
    """A Diesel-shaped history: a postgresql/ tree, its initial setup folder, hyphens in
    names, the comments Diesel writes into a new down.sql."""
    tree = root / "migrations"
    setup_up = (
        "-- This file was automatically created by Diesel to setup helper functions\n"
        "CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\n"
        "BEGIN\n"
        "    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n"
        "                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\n"
        "END;\n$$ LANGUAGE plpgsql;\n\n"
        "CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\n"
        "BEGIN\n    NEW.updated_at := current_timestamp;\n    RETURN NEW;\nEND;\n"
        "$$ LANGUAGE plpgsql;\n")
    setup_down = (
        "-- This file was automatically created by Diesel to setup helper functions\n"
        "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\n"
        "DROP FUNCTION IF EXISTS diesel_set_updated_at();\n")
    generated = "-- This file should undo anything in `up.sql`\n"
    write_migration(tree / "postgresql", "00000000000000_diesel_initial_setup", setup_up,
                    setup_down)
    write_migration(tree / "postgresql", "2020-01-01-000000_create-users",
                    "CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n"
                    "CREATE INDEX users_name ON users (name);\n",
                    generated + "DROP INDEX users_name;\nDROP TABLE users;\n")
    write_migration(tree / "postgresql", "2020-01-02-000000_Add-Posts",
                    "CREATE TABLE posts (id SERIAL PRIMARY KEY, user_id INT NOT NULL);\n",
                    generated + "DROP TABLE posts;\n")
    write_migration(tree / "postgresql", "2020-01-03-000000_add-email",
                    "ALTER TABLE users ADD COLUMN email TEXT;\n",
                    generated + "ALTER TABLE users DROP COLUMN email;\n")
    write_migration(tree / "postgresql", "2020-01-04-000000_retire-posts", "SELECT 1;\n",
                    generated + "DROP TABLE posts;\n")  # the up never made posts
    write_migration(tree / "postgresql", "2020-01-05-000000_empty-down", "SELECT 1;\n",
                    generated)
    write_migration(tree / "sqlite", "2020-01-01-000000_create-users",
                    "CREATE TABLE users (id INTEGER PRIMARY KEY);\n", "DROP TABLE users;\n")
    return tree


def test_a_diesel_history_has_no_naming_noise_and_its_down_finding_is_labelled(
        tmp_path: Path) -> None:
    tree = _diesel_history(tmp_path)
    base = ["-m", str(tree), "--dialect", "postgres", "check", "--no-cache"]
    report = json.loads(run_cli(*base, "--format", "json").out)
    codes = [(f["code"], f["migration"], f.get("direction")) for f in report["findings"]]
    assert codes == [("SG301", "2020-01-04-000000_retire-posts", "down")]
    assert report["summary"]["rollback_time"] == 1
    text = run_cli(*base)
    assert text.code == 1
    assert "SG301 drop-table (rollback-time)" in text.out
    assert "2020-01-04-000000_retire-posts/down.sql:2:1" in text.out
    sarif = json.loads(run_cli(*base, "--format", "sarif").out)
    (result,) = sarif["runs"][0]["results"]
    assert result["properties"] == {"direction": "down"}
    assert "rollback-time" in result["message"]["text"].lower()
    github = run_cli(*base, "--format", "github").out
    assert "rollback-time" in github and "down.sql" in github
    markdown = run_cli(*base, "--format", "markdown").out
    assert "(rollback-time)" in markdown and "(1 rollback-time)" in markdown
