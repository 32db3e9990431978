"""The check report cache: hits on unchanged trees, misses on any change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import switchy_guard.check.cache as check_cache
import switchy_guard.check.pipeline as validation
from switchy_guard.check.run import run_check
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


def test_an_edit_within_the_same_timestamp_tick_is_seen(root: Path, cache_home: Path) -> None:
    up = root / "2024-01-01-000000_a" / "up.sql"
    up.write_text("DROP TABLE users;\n")  # modified just now: racy
    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]
    stat = up.stat()
    up.write_text("SELECT 123456789;\n")  # the same size, and the same mtime below
    os.utime(up, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert up.stat().st_size == stat.st_size
    assert run_check(str(root), "postgres").findings == []


def test_same_content_with_new_timestamps_is_served_from_the_cache(
    root: Path, monkeypatch: pytest.MonkeyPatch, cache_home: Path
) -> None:
    """A fresh checkout (new mtimes, another listing order) of the same files hits."""
    first = run_check(str(root), "postgres")
    age(root, seconds=30)
    forbid_validation(monkeypatch)
    assert run_check(str(root), "postgres") == first


def test_a_fresh_copy_reads_every_file_and_an_edit_reads_only_that_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migration(root, "2024-01-02-000000_b", "SELECT 2;\n", "SELECT 3;\n")
    age(root)
    run_check(str(root), "postgres")
    opened: list[str] = []
    real = check_cache._sha256_of
    monkeypatch.setattr(check_cache, "_sha256_of", lambda path: opened.append(path) or real(path))
    edited = root / "2024-01-02-000000_b" / "up.sql"
    edited.write_text("SELECT 22;\n")
    past = time.time() - 30
    os.utime(edited, (past, past))
    run_check(str(root), "postgres")
    assert [Path(p).relative_to(root).as_posix() for p in opened] == ["2024-01-02-000000_b/up.sql"]
    for index in check_cache.cache_dir().glob("*.index.json"):
        index.unlink()
    opened.clear()
    age(root, seconds=20)
    forbid_validation(monkeypatch)
    run_check(str(root), "postgres")
    assert len(opened) == 4


def test_a_content_change_behind_an_unchanged_report_misses(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_check(str(root), "postgres")
    (root / "2024-01-01-000000_a" / "down.sql").write_text("SELECT 2;\n")
    age(root, seconds=30)
    assert check_cache.CheckCache(str(root), "postgres").load() is None
    (root / "2024-01-01-000000_a" / "down.sql").write_text("SELECT 1;\n")
    age(root, seconds=40)
    assert check_cache.CheckCache(str(root), "postgres").load() is not None


def test_no_cache_flag_and_unwritable_cache(root: Path, cache_home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("check", "-m", root, "--dialect", "postgres", "--no-cache").code == 1
    assert not cache_home.exists()
    cache_home.write_text("a file where the folder should be")
    assert run_cli("check", "-m", root, "--dialect", "postgres").code == 1


def test_corrupt_cache_is_ignored(root: Path, cache_home: Path) -> None:
    run_check(str(root), "postgres")
    for cached in cache_home.glob("check-*.json"):  # the report and the index of hashes
        cached.write_text("{not json")
    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]


def test_check_without_a_database_does_not_import_sqlalchemy(root: Path) -> None:
    from tests.cli_helpers import run_without_sqlalchemy

    out = run_without_sqlalchemy("check", "-m", root, "--dialect", "postgres", "--no-cache")
    assert "SG301" in out


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_first_check_hashes_the_files_it_read_without_reading_them_again(
    root: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    import switchy_guard.check.parallel as parallel_check

    monkeypatch.setattr(parallel_check, "MIN_FOLDERS", 2)
    for day in range(2, 6):
        write_migration(root, f"2024-01-0{day}-000000_m{day}", f"SELECT {day};\n", "SELECT 0;\n")
    (root / "README.md").write_text("not a migration\n")
    age(root)
    opened: list[str] = []
    real = check_cache._sha256_of
    monkeypatch.setattr(check_cache, "_sha256_of", lambda path: opened.append(path) or real(path))
    first = run_check(str(root), "postgres", jobs=jobs)
    assert [Path(p).name for p in opened] == ["README.md"]
    age(root, seconds=30)  # new mtimes: only the content key can answer
    forbid_validation(monkeypatch)
    assert run_check(str(root), "postgres", jobs=jobs) == first


def test_a_cache_file_someone_else_could_have_written_is_never_read(
    root: Path, cache_home: Path, tmp_path: Path
) -> None:
    """A report rewritten with its findings removed, in a cache folder another user may
    write to (a shared SWITCHY_CACHE_DIR), made check and check --gate pass a DROP TABLE.
    Such a file (writable by others, or a link to elsewhere) is never read now, and the
    cache folder and files are this user's alone."""
    import json
    import stat

    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    (report,) = [p for p in cache_home.iterdir() if not p.name.endswith(".index.json")]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    data = json.loads(report.read_text())
    data["report"]["findings"] = []
    data["report"]["summary"]["errors"] = 0
    forged = json.dumps(data)
    report.write_text(forged)
    report.chmod(0o666)
    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]
    elsewhere = tmp_path / "forged.json"
    elsewhere.write_text(forged)
    elsewhere.chmod(0o600)
    report.unlink()
    report.symlink_to(elsewhere)
    assert [f.code for f in run_check(str(root), "postgres").findings] == ["SG301"]
