"""Verbs that only read never create a SQLite file for a path that does not exist."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_cli, write_migration


def test_read_only_verbs_do_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    database = tmp_path / "mistyped.db"
    url = f"sqlite:///{database}"
    for args in (["status"], ["list"], ["validate"], ["plan"], ["migrate", "--dry-run"],
                 ["rollback", "--all", "--plan"], ["lock", "status"],
                 ["status", "--format", "json"]):
        result = run_cli(*args, "-m", root, "-d", url)
        assert result.code == 0, (args, result)
        assert result.err == (f"warning: {database} does not exist: read as an empty "
                              "database, and not created (migrate creates it)\n"), args
        assert not database.exists(), args
        assert not list(tmp_path.glob("mistyped.db*")), args
    status = run_cli("status", "-m", root, "-d", url, "--format", "json")
    assert json.loads(status.out)["summary"]["completed"] == 0
    assert run_cli("migrate", "-m", root, "-d", url).code == 0  # a writing verb creates it
    assert database.exists()
    after = run_cli("status", "-m", root, "-d", url)
    assert after.err == "" and "0 pending" in after.out


def test_check_with_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    database = tmp_path / "mistyped.db"
    result = run_cli("check", "-m", root, "-d", f"sqlite:///{database}", "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out)["summary"]["migrations"] == 1  # the one pending
    assert not list(tmp_path.glob("mistyped.db*"))


def test_verbs_for_a_migrated_database_refuse_a_missing_sqlite_file(tmp_path: Path) -> None:
    """rollback, retry, mark-failed, mark-all-completed, adopt-checksums and lock break on
    a mistyped path: one error line, exit 2, and no new database holding a made-up
    history. (mark-completed may start a new database: skipping a migration there.)"""
    a = "2024-01-01-000000_create_a"
    root = tmp_path / "migrations"
    write_migration(root, a, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    database = tmp_path / "mistyped.db"
    url = f"sqlite:///{database}"
    for args in (["rollback", "--all"], ["retry", a, "--force"],
                 ["mark-failed", a, "--force"],
                 ["mark-all-completed", "--force"], ["adopt-checksums", "--force"],
                 ["lock", "break", "--force"]):
        result = run_cli(*args, "-m", root, "-d", url)
        assert result.code == 2, (args, result)
        verb = " ".join(args[:2]) if args[0] == "lock" else args[0]  # 'lock break'
        assert result.err == (f"error: {database} does not exist: '{verb}' works on a "
                              "database migrate has set up (is the path right?)\n"), args
        assert not list(tmp_path.glob("mistyped.db*")), args


def test_a_missing_file_named_by_a_sqlite_uri_is_not_created_either(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_create_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    database = tmp_path / "mistyped.db"
    for url in (f"sqlite:///file:{database}?uri=true",
                f"sqlite:///file://{database}?uri=true&cache=shared"):
        result = run_cli("status", "-m", root, "-d", url)
        assert result.code == 0, (url, result)
        assert result.err.startswith(f"warning: {database} does not exist"), result
        assert not list(tmp_path.glob("mistyped.db*")), url
    assert run_cli("lock", "break", "--force", "-m", root, "-d",
                   f"sqlite:///file:{database}?uri=true").code == 2
    assert not list(tmp_path.glob("mistyped.db*"))
