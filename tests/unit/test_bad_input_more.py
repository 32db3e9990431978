"""More bad input (issue 14, section 7): each is one line naming the file and the
problem, exit 2, nothing applied and nothing created; before, each was a traceback or a
silent wrong result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from switchy_guard.config import resolve_settings
from switchy_guard.discovery.remote import RemoteMigrations
from switchy_guard.errors import ConfigError, InputError
from tests.cli_helpers import run_cli, write_migration
from tests.unit.conftest import GOOD
from tests.unit.test_cli_bad_input import assert_nothing_applied, assert_one_error


def _every_verb(root: Path, database: Path, *fragments: str) -> None:
    """check and migrate both stop with exit 2 and one line; nothing applied."""
    for verb in (["check", "--no-cache"], ["migrate", "-d", f"sqlite:///{database}"]):
        result = run_cli(*verb, "-m", root)
        assert result.code == 2, (verb, result.out, result.err)
        assert_one_error(result.error_lines, *fragments)
    assert_nothing_applied(database)


@pytest.mark.parametrize("where", ["root", "folder", "file"])
def test_a_symlink_loop(root: Path, database: Path, where: str) -> None:
    if where == "root":  # two links pointing at each other, beside the migrations
        os.symlink(root / "loop2", root / "loop1")
        os.symlink(root / "loop1", root / "loop2")
        looped = root / "loop1"
    elif where == "folder":  # a link to itself inside a migration folder
        looped = root / GOOD / "self"
        os.symlink(looped, looped)
    else:  # up.sql itself is the loop
        looped = root / "2024-01-02-000000_b" / "up.sql"
        looped.parent.mkdir()
        os.symlink(looped, looped)
    _every_verb(root, database, f"{looped}: symlink loop")


def test_deeply_nested_metadata(root: Path, database: Path) -> None:
    write_migration(root, "2024-01-02-000000_b",
                    metadata="description = " + "[" * 5000 + "]" * 5000 + "\n")
    _every_verb(root, database,
                f"{root}/2024-01-02-000000_b/metadata.toml: invalid TOML: nested too deeply")


def test_deeply_nested_config_and_policy(root: Path, database: Path, tmp_path: Path) -> None:
    (tmp_path / "switchy-guard.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        resolve_settings({}, environ={}, cwd=tmp_path)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "production.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}", "--env",
                     "production", "--policy-dir", policies)
    assert result.code == 2, result.err
    assert_one_error(result.error_lines, "production.toml", "nested too deeply")
    assert_nothing_applied(database)


def test_deeply_nested_remote_index(tmp_path: Path) -> None:
    # The cached copy of an index (offline) goes through the same parser as a fetched one.
    deep = b"[" * 100_000 + b"]" * 100_000
    source = RemoteMigrations("https://example.invalid/index.json", cache_dir=tmp_path / "c",
                              offline=True)
    source._read_index = lambda: deep  # type: ignore[method-assign]
    with pytest.raises(InputError, match="not valid JSON: nested too deeply"):
        source.load()


def test_a_name_that_is_not_utf8(root: Path, database: Path) -> None:
    bad = os.fsdecode(b"2024-01-02-000000_caf\xe9")
    write_migration(root, bad, "CREATE TABLE b (id INTEGER);\n")
    _every_verb(root, database, f"{root}/2024-01-02-000000_caf\\xe9: the name is not valid "
                "UTF-8 (byte 21: b'\\xe9')")


def test_a_file_name_that_is_not_utf8(root: Path, database: Path) -> None:
    (root / GOOD / os.fsdecode(b"\xffup.sql")).write_text("DROP TABLE a;\n")
    _every_verb(root, database, f"{root}/{GOOD}/\\xffup.sql: the name is not valid UTF-8")


def test_a_hidden_file_that_is_not_utf8_is_ignored(root: Path) -> None:
    (root / os.fsdecode(b".swap\xff")).write_text("")
    for _ in range(2):  # the second run reads the check cache
        result = run_cli("check", "-m", root)
        assert result.code == 0, result.err


def test_empty_dialects(root: Path, database: Path) -> None:
    # It made the migration run on no database at all, silently.
    write_migration(root, "2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);\n",
                    metadata="dialects = []\n")
    _every_verb(root, database, "2024-01-02-000000_b/metadata.toml: 'dialects' is empty")


@pytest.mark.parametrize(("sql", "line", "column"), [
    (b"CREATE TABLE b (id INTEGER);\nSELECT 1\x00; DROP TABLE a;\n", 2, 9),
    (b"-- a comment\x00 hiding nothing\nSELECT 1;\n", 1, 13),
    (b"\x00", 1, 1),
])
def test_a_nul_character(root: Path, database: Path, sql: bytes, line: int, column: int) -> None:
    write_migration(root, "2024-01-02-000000_b", sql)
    _every_verb(root, database, f"{root}/2024-01-02-000000_b/up.sql:{line}: a NUL character",
                f"at column {column}")


def test_a_nul_character_in_a_down_script(root: Path, database: Path) -> None:
    folder = write_migration(root, "2024-01-02-000000_b", "SELECT 1;\n")
    (folder / "down.sql").write_bytes(b"SELECT 1;\n\nDROP\x00 TABLE b;\n")
    _every_verb(root, database, "2024-01-02-000000_b/down.sql:3: a NUL character")


def test_sqlite_folder_that_does_not_exist(root: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir"
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{missing}/app.db")
    assert result.code == 2
    assert_one_error(result.error_lines, f"{missing} does not exist (the folder of the "
                     "SQLite database")
    assert not (tmp_path / "missing").exists()  # the lock file made every folder


def test_sqlite_folder_that_does_not_exist_through_the_library(root: Path,
                                                               tmp_path: Path) -> None:
    from switchy_guard.runtime.runner import Migrator

    with pytest.raises(ConfigError, match="does not exist"):
        Migrator(root, f"sqlite:///{tmp_path}/missing/app.db").migrate()
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(("content", "problem"), [
    ("lock_timeout = inf\n", "the lock timeout must be 0 or more seconds (a finite number)"),
    ("remote_timeout = inf\n", "'remote_timeout' must be more than 0 seconds"),
    ("remote_timeout = -1\n", "'remote_timeout' must be more than 0 seconds"),
    ("remote_timeout = 0\n", "'remote_timeout' must be more than 0 seconds"),
    ("remote_timeout = nan\n", "'remote_timeout' must be more than 0 seconds"),
    ("migrations_dir = []\n", "'migrations_dir' is an empty list"),
    ("migrations_dir = ''\n", "is an empty name"),
])
def test_bad_settings(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "switchy-guard.toml").write_text(content)
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        resolve_settings({}, environ={}, cwd=tmp_path)


def test_empty_migrations_dir_on_the_command_line(database: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # "" read the current folder as the migrations
    write_migration(tmp_path, GOOD, "CREATE TABLE a (id INTEGER);\n")
    result = run_cli("migrate", "-m", "", "-d", f"sqlite:///{database}")
    assert result.code == 2
    assert_one_error(result.error_lines, "is an empty name")
    assert_nothing_applied(database)


def test_infinite_lock_timeout_flag_and_policy(root: Path, database: Path,
                                               tmp_path: Path) -> None:
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}",
                     "--lock-timeout", "inf")
    assert result.code == 2
    assert_one_error(result.error_lines, "argument --lock-timeout: must be a finite number")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "development.toml").write_text("lock_timeout = inf\n")
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}",
                     "--policy-dir", policies)
    assert result.code == 2
    assert_one_error(result.error_lines, "development.toml", "'lock_timeout' must be")
    assert_nothing_applied(database)


def test_an_index_file_nested_json_is_not_a_crash_in_the_cache(tmp_path: Path) -> None:
    from switchy_guard.discovery.cachefiles import read_private_json, write_private

    path = tmp_path / "cache" / "x.json"
    write_private(path, b"[" * 100_000 + b"]" * 100_000)
    assert read_private_json(path) is None
    write_private(path, json.dumps({"a": 1}).encode())
    assert read_private_json(path) == {"a": 1}
