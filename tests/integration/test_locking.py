"""The migration lock: concurrent runs apply each migration exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from switchy_guard.errors import ConfigError, LockTimeout
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lock import migration_lock
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

PROCESSES = 6


def project(root: Path, count: int = 5) -> list[str]:
    ids = []
    for n in range(count):
        migration_id = f"2024-01-0{n + 1}-000000_step_{n}"
        # Each migration takes a moment, so the runs really overlap.
        write_migration(
            root, migration_id,
            f"CREATE TABLE t{n} (id INTEGER);\nINSERT INTO t{n} (id) VALUES ({n});\n",
            f"DROP TABLE t{n};\n",
        )
        ids.append(migration_id)
    return ids


def test_concurrent_migrate_applies_each_migration_once(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    ids = project(root)
    command = [sys.executable, "-m", "switchy_guard", "-q", "migrate", "-m", str(root),
               "-d", db_url, "--lock-timeout", "120"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)]
    outcomes = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, outcomes
    engine = create_engine(create_database_engine(db_url).url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, status FROM __switchy_migrations ORDER BY id"
        ).fetchall()
        assert [tuple(r) for r in rows] == [(i, "completed") for i in ids]
        for n in range(len(ids)):
            assert conn.exec_driver_sql(f"SELECT COUNT(*) FROM t{n}").scalar() == 1
    engine.dispose()


def test_lock_timeout_names_the_problem(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, 1)
    engine = create_database_engine(db_url)
    migrator = Migrator(root, db_url, lock_timeout=0.3)
    with migration_lock(engine, "__switchy_migrations", timeout=1):
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=r"is held by \S+@\S+ pid \d+ since ") as info:
            migrator.migrate()
        assert info.value.exit_code == 3
        assert f"pid {os.getpid()} " in str(info.value)  # the holder is this test
        assert 0.25 <= time.monotonic() - started < 10
    assert migrator.migrate().done  # free again once released
    engine.dispose()


def test_lock_is_per_tracking_table(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, 1)
    engine = create_database_engine(db_url)
    with migration_lock(engine, "__switchy_migrations", timeout=1):
        other = Migrator(root, db_url, table="__other_migrations", lock_timeout=0.5)
        if engine.dialect.name == "sqlite":
            # SQLite's lock is per database file, whatever the table.
            with pytest.raises(LockTimeout):
                other.migrate()
        else:
            assert other.migrate().done
    engine.dispose()


def test_a_lock_timeout_that_is_not_a_number_is_one_error_line(tmp_path: Path,
                                                                db_url: str) -> None:
    """nan passed every 'at least 0' check: filelock then crashed with a traceback, and a
    server lock would have waited forever."""
    root = tmp_path / "m"
    project(root, 1)
    result = run_cli("migrate", "-m", root, "-d", db_url, "--lock-timeout", "nan")
    assert result.code == 2, result.err
    assert result.error_lines == [  # refused where the flags are read
        "error: argument --lock-timeout: must be 0 or more (see: switchy-guard migrate --help)"]
    with pytest.raises(ConfigError, match="not nan"):
        Migrator(root, db_url, lock_timeout=float("nan")).migrate()
    engine = create_database_engine(db_url)
    assert "t0" not in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.only_on("sqlite")
def test_a_sqlite_uri_filename_shares_the_lock_of_its_file(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sqlite:///file:app.db?uri=true`` (a SQLite URI filename) locked
    ``file:app.db.switchy-lock``, a lock of its own (an absolute ``file:/...`` one even
    made a ``file:`` folder tree in the working directory): a run spelled that way did
    not wait for a run holding the plain path's lock."""
    root = tmp_path / "m"
    project(root, 1)
    path = Path(db_url.removeprefix("sqlite:///"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    engine = create_database_engine(db_url)
    spellings = (f"sqlite:///file:{path}?uri=true", f"sqlite:///file://{path}?uri=true",
                 f"sqlite:///file:{path.name}?mode=rw&uri=true")
    with migration_lock(engine, "__switchy_migrations", timeout=1):
        for url in spellings:
            if not url.startswith(f"sqlite:///file:{path.name}"):
                result = run_cli("migrate", "-m", root, "-d", url, "--lock-timeout", "0.2")
            else:  # relative to the working directory
                monkeypatch.chdir(path.parent)
                result = run_cli("migrate", "-m", root, "-d", url, "--lock-timeout", "0.2")
                monkeypatch.chdir(work)
            assert result.code == 3, (url, result)
            assert "lock" in result.err and f"pid {os.getpid()} " in result.err, result
    assert list(work.iterdir()) == []
    assert "t0" not in inspect(engine).get_table_names()
    assert run_cli("migrate", "-m", root, "-d", spellings[0]).code == 0
    assert "t0" in inspect(engine).get_table_names()
    engine.dispose()


def test_two_paths_to_one_sqlite_file_share_its_lock(tmp_path: Path) -> None:
    """A deploy folder's symlink to a shared database file (current/app.db ->
    shared/app.db) had a lock file of its own: two runs through two paths both went on."""
    root = tmp_path / "m"
    project(root, 1)
    shared = tmp_path / "shared" / "app.db"
    shared.parent.mkdir()
    shared.touch()
    links = []
    for release in ("r1", "r2"):
        (tmp_path / release).mkdir()
        links.append(tmp_path / release / "app.db")
        links[-1].symlink_to(shared)
    engine = create_database_engine(f"sqlite:///{links[0]}")
    other = Migrator(root, f"sqlite:///{links[1]}", lock_timeout=0.2)
    with migration_lock(engine, "__switchy_migrations", timeout=1), \
            pytest.raises(LockTimeout):
        other.migrate()
    engine.dispose()


def test_a_lock_record_that_cannot_be_written_is_reported_as_itself(tmp_path: Path,
                                                                     db_url: str) -> None:
    """A lock record table of another shape: the write fails, and on PostgreSQL the
    release that followed failed on the aborted transaction and hid the cause."""
    from sqlalchemy.exc import DBAPIError

    engine = create_database_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE __switchy_migrations_lock (something INTEGER)")
    try:
        with pytest.raises(DBAPIError) as info, \
                migration_lock(engine, "__switchy_migrations", timeout=1):
            pass
        assert "aborted" not in str(info.value)
        assert "host" in str(info.value) or "os_user" in str(info.value), info.value
        # The lock was released: it can be taken again at once.
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE __switchy_migrations_lock")
        with migration_lock(engine, "__switchy_migrations", timeout=1):
            pass
    finally:
        engine.dispose()
