"""The check report cache: hits on unchanged trees, misses on any change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import switchy_guard.check_cache as check_cache
import switchy_guard.validation as validation
from switchy_guard.check import run_check
from tests.cli_helpers import run_cli, write_migration


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(home))
    return home


def age(root: Path, seconds: float = 60) -> None:
    """Make every entry older than the racy window."""
    past = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    write_migration(folder, "2024-01-01-000000_a", "DROP TABLE users;\n", "SELECT 1;\n")
    age(folder)
    return folder


def forbid_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline ran although the report was cached")

    monkeypatch.setattr(validation, "validate", fail)


def test_second_check_of_unchanged_files_is_served_from_the_cache(
    root: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    first = run_check(str(root), "postgres")
    assert [f.code for f in first.findings] == ["SG301"]
    assert list(cache_home.glob("check-*.json"))
    forbid_validation(monkeypatch)
    second = run_check(str(root), "postgres")
    assert second == first


def test_a_changed_file_misses(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_check(str(root), "postgres")
    (root / "2024-01-01-000000_a" / "up.sql").write_text("SELECT 1;\n")
    age(root)
    assert run_check(str(root), "postgres").findings == []


def test_dialect_and_code_changes_miss(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_check(str(root), "postgres")
    assert check_cache.CheckCache(str(root), "sqlite").load() is None
    monkeypatch.setattr(check_cache, "code_digest", lambda: "another rule set")
    assert check_cache.CheckCache(str(root), "postgres").load() is None


def test_racy_trees_are_not_cached(root: Path, cache_home: Path) -> None:
    (root / "2024-01-01-000000_a" / "up.sql").write_text("DROP TABLE users;\n")  # mtime now
    run_check(str(root), "postgres")
    assert not list(cache_home.glob("check-*.json"))


def test_no_cache_flag_and_unwritable_cache(root: Path, cache_home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("check", "-m", root, "--dialect", "postgres", "--no-cache").code == 1
    assert not cache_home.exists()
    cache_home.write_text("a file where the folder should be")
    assert run_cli("check", "-m", root, "--dialect", "postgres").code == 1


def test_corrupt_cache_is_ignored(root: Path, cache_home: Path) -> None:
    run_check(str(root), "postgres")
    (cached,) = cache_home.glob("check-*.json")
    cached.write_text("{not json")
    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]


def test_check_without_a_database_does_not_import_sqlalchemy(root: Path) -> None:
    from tests.cli_helpers import run_without_sqlalchemy

    out = run_without_sqlalchemy("check", "-m", root, "--dialect", "postgres", "--no-cache")
    assert "SG301" in out
