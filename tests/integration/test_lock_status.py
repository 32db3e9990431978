"""The lock record: a waiting run names the holder; stale locks are detected and broken."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lockstatus import lock_status
from tests.cli_helpers import run_cli, write_migration

HOLDER = """
import sys, time
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lock import migration_lock
engine = create_database_engine(sys.argv[1])
with migration_lock(engine, "__switchy_migrations", 30):
    print("held", flush=True)
    time.sleep(120)
"""


@contextmanager
def holder(url: str) -> Iterator[subprocess.Popen[str]]:
    """A process holding the migration lock (its command line carries the URL)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held", process.stderr
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def status_of(url: str) -> dict[str, object]:
    result = run_cli("lock", "status", "-d", url, "--format", "json")
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def wait_free(url: str) -> dict[str, object]:
    """Wait (a few seconds at most) until the server has noticed the holder is gone."""
    deadline = time.monotonic() + 20
    while True:
        data = status_of(url)
        if not data["held"] or time.monotonic() > deadline:
            return data
        time.sleep(0.1)


def test_a_waiting_run_and_status_name_the_holder(tmp_path: Path, db_url: str,
                                                   db_kind: str) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    with holder(db_url) as process:
        data = status_of(db_url)
        assert data["held"] is True and data["stale"] is False
        record = data["holder"]
        assert isinstance(record, dict) and record["pid"] == process.pid
        assert "s3cret-pw" not in json.dumps(data)  # the URL in its command is masked
        text = run_cli("status", "-m", root, "-d", db_url).out
        assert f"Lock: held by {record['os_user']}@{record['host']} pid {process.pid}" in text
        waited = run_cli("migrate", "-m", root, "-d", db_url, "--lock-timeout", "0.3")
        assert waited.code == 3
        assert f"pid {process.pid} since" in waited.err and "s3cret-pw" not in waited.err
        refused = run_cli("lock", "break", "-d", db_url, "--confirm", "development")
        expected = ("a live SQLite holder cannot be broken" if db_kind == "sqlite"
                    else "the holder looks alive")
        assert refused.code == 1 and expected in refused.err
        assert process.poll() is None  # nothing was done to it
    assert wait_free(db_url)["held"] is False


def test_a_killed_holder_leaves_a_stale_record_that_break_clears(tmp_path: Path,
                                                                db_url: str) -> None:
    with holder(db_url) as process:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    data = wait_free(db_url)
    assert data["held"] is False and data["stale"] is True
    text = run_cli("lock", "status", "-d", db_url).out
    assert text.startswith("STALE stale record: ") and f"pid {process.pid}" in text
    no_terminal = run_cli("lock", "break", "-d", db_url)
    assert no_terminal.code == 1 and "no terminal to confirm at" in no_terminal.err
    broken = run_cli("lock", "break", "-d", db_url, "--confirm", "development")
    assert broken.code == 0, broken.err
    assert "cleared the stale record of " in broken.out
    assert status_of(db_url) == {"held": False, "stale": False, "session": None,
                                 "holder": None, "explanation": "the migration lock is free"}
    engine = create_database_engine(db_url)
    with engine.connect() as conn:
        entries = AuditJournal("__switchy_migrations").entries(conn)
    engine.dispose()
    (refusal, entry) = entries
    assert refusal.outcome == "refused" and entry.outcome == "ok"
    assert entry.command.startswith("switchy-guard lock break") and "s3cret-pw" not in (
        entry.command + str(entry.detail))
    again = run_cli("lock", "break", "-d", db_url, "--confirm", "development")
    assert again.code == 0 and "nothing to break" in again.out


def test_break_force_ends_a_live_server_session(tmp_path: Path, db_url: str,
                                                db_kind: str) -> None:
    with holder(db_url) as process:
        forced = run_cli("lock", "break", "--force", "-d", db_url)
        if db_kind == "sqlite":
            assert forced.code == 1 and "cannot be broken" in forced.err
            return
        assert forced.code == 0, forced.err
        assert "terminated database session" in forced.out
        engine = create_database_engine(db_url)
        try:
            status = lock_status(engine, "__switchy_migrations")
            deadline = time.monotonic() + 20
            while status.held and time.monotonic() < deadline:
                time.sleep(0.1)
                status = lock_status(engine, "__switchy_migrations")
        finally:
            engine.dispose()
        assert not status.held and status.holder is None
        assert process.poll() is None or process.returncode != 0


LINGERING = """
import os, sys, time
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lock import migration_lock
engine = create_database_engine(sys.argv[1])
with migration_lock(engine, "__switchy_migrations", 30):
    child = os.fork()
    if child == 0:  # keeps a copy of the lock connection's socket open: the session lingers
        time.sleep(120)
        os._exit(0)
    print(child, flush=True)
    time.sleep(120)
"""


def test_a_dead_holder_whose_session_lingers_is_stale(tmp_path: Path, db_url: str,
                                                      db_kind: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", LINGERING, db_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    try:
        os.kill(process.pid, signal.SIGKILL)  # the recorded pid dies...
        process.wait(timeout=10)
        data = status_of(db_url)
        assert data["stale"] is True
        if db_kind == "sqlite":
            # ...and with it the file lock (fcntl locks are not inherited by a fork).
            assert data["held"] is False
            return
        # ...but its database session lives on in the forked copy of the socket.
        assert data["held"] is True and "whose process is gone" in str(data["explanation"])
        broken = run_cli("lock", "break", "-d", db_url, "--confirm", "development")
        assert broken.code == 0, broken.err
        assert "terminated database session" in broken.out
        assert wait_free(db_url)["held"] is False
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_lock_held_without_a_record_or_with_another_holders_record(db_url: str,
                                                                     db_kind: str) -> None:
    """A lock taken by something that left no record (an older switchy-guard), and a
    record that names another session than the one holding the lock."""
    from filelock import FileLock
    from sqlalchemy import text

    from switchy_guard.runtime.lock import advisory_key, lock_name, sqlite_lock_path
    from switchy_guard.runtime.lockrecord import LockRecord

    engine = create_database_engine(db_url)
    conn = engine.connect()
    file_lock = None
    try:
        if db_kind == "sqlite":
            path = sqlite_lock_path(engine)
            assert path is not None
            file_lock = FileLock(str(path))
            file_lock.acquire()
        elif db_kind == "postgres":
            conn.execute(text("SELECT pg_advisory_lock(:key)"),
                         {"key": advisory_key("__switchy_migrations")})
        else:
            conn.execute(text("SELECT GET_LOCK(:name, 0)"),
                         {"name": lock_name(conn, "__switchy_migrations")})
        conn.commit()
        bare = status_of(db_url)
        assert bare["held"] is True and bare["stale"] is False and bare["holder"] is None
        assert "left no record" in str(bare["explanation"])
        if db_kind != "sqlite":  # only servers say which session holds the lock
            with engine.connect() as other:
                LockRecord("__switchy_migrations").write(other, "old run", session="1")
            mismatch = status_of(db_url)
            assert mismatch["held"] is True and mismatch["stale"] is False
            assert "is an older holder's" in str(mismatch["explanation"])
    finally:
        if file_lock is not None:
            file_lock.release()
        conn.close()  # ends the session, and the server lock with it
        engine.dispose()
    assert wait_free(db_url)["held"] is False


def _lose_the_lock(engine: Engine, db_kind: str) -> None:
    """What a colleague might do while this process holds the lock: ``lock break
    --force`` (servers), or delete the SQLite lock file, which frees it for the next run."""
    from switchy_guard.runtime.lock import sqlite_lock_path
    from switchy_guard.runtime.lockstatus import break_lock

    if db_kind == "sqlite":
        path = sqlite_lock_path(engine)
        assert path is not None
        path.unlink()
        return
    assert "terminated database session" in break_lock(engine, "__switchy_migrations",
                                                       force=True)
    deadline = time.monotonic() + 20  # the server ends the session a moment later
    while lock_status(engine, "__switchy_migrations").held and time.monotonic() < deadline:
        time.sleep(0.05)


def _stopped_at(first: str, second: str, db_kind: str) -> str:
    """What a run says when its lock is lost just before ``first`` (see above)."""
    if db_kind == "sqlite":
        return f"stopped before {second}"
    if db_kind == "mysql":  # every migration runs statement by statement there
        return f"was broken while this run held it .*: stopped before {first}: nothing"
    return f"was broken while this run held it .*: {first} was undone with its transaction"


def test_a_lock_broken_while_its_run_waits_or_runs_stops_that_run(tmp_path: Path,
                                                                  db_url: str,
                                                                  db_kind: str) -> None:
    """Another run may take a lock broken under this one: this one must apply nothing
    more (it used to go on and apply everything, lock or no lock)."""
    from sqlalchemy import inspect

    from switchy_guard.errors import Refused
    from switchy_guard.gates.policy import load_policies
    from switchy_guard.gates.run import GateOptions, gated_run
    from switchy_guard.model.plan import All
    from switchy_guard.runtime.runner import Hooks, Migrator

    root = tmp_path / "m"
    first, second = "2024-01-01-000000_a", "2024-01-02-000000_b"
    write_migration(root, first, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, second, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    migrator = Migrator(root, db_url)
    engine = create_database_engine(db_url)
    choice = load_policies(None).choose("production", None)

    def ask(question: str) -> str:  # a person at the prompt, while the lock is broken
        _lose_the_lock(engine, db_kind)
        return "production\n"

    try:
        with pytest.raises(Refused, match=r"lock.* was lost while this run held it .*: "
                                          r"stopped before anything was applied"):
            gated_run(migrator, "up", All(), GateOptions(choice, ask=ask))
        assert not {"a", "b"} & set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            entry = AuditJournal("__switchy_migrations").entries(conn)[-1]
        assert entry.outcome == "refused" and "was lost" in str(entry.detail)
        # Its record is left alone (it could be the next holder's): stale, or cleared by
        # the break.
        after = lock_status(engine, "__switchy_migrations")
        assert not after.held and (after.stale or after.holder is None)

        # Lost during the run: on a server the migration under way is fenced off (its
        # transaction rolls back; on MySQL it stops before its first statement). A
        # deleted SQLite lock file leaves the record's token this run's until another
        # run takes the lock: the migration under way finishes; the next never starts.
        migrator.hooks = Hooks(before_each=lambda planned: _lose_the_lock(engine, db_kind)
                               if planned.migration.id == first else None)
        with pytest.raises(Refused, match=_stopped_at(first, second, db_kind)):
            gated_run(migrator, "up", All(), GateOptions(choice, confirm="production"))
        assert migrator.state().rows.keys() == ({first} if db_kind == "sqlite" else set())
        assert ("a" in inspect(engine).get_table_names()) == (db_kind == "sqlite")
        assert "b" not in inspect(engine).get_table_names()
    finally:
        migrator.engine.dispose()
        engine.dispose()


def test_the_library_run_stops_when_its_own_lock_is_lost(tmp_path: Path, db_url: str,
                                                         db_kind: str) -> None:
    """Migrator.migrate() takes the lock itself: losing it mid-run stops the run too."""
    from switchy_guard.runtime.lock import LockLost
    from switchy_guard.runtime.runner import Hooks, Migrator

    root = tmp_path / "m"
    first, second = "2024-01-01-000000_a", "2024-01-02-000000_b"
    write_migration(root, first, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, second, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    engine = create_database_engine(db_url)
    migrator = Migrator(root, db_url, hooks=Hooks(
        before_each=lambda planned: _lose_the_lock(engine, db_kind)
        if planned.migration.id == first else None))
    try:
        with pytest.raises(LockLost, match=_stopped_at(first, second, db_kind)):
            migrator.migrate()
        assert migrator.state().rows.keys() == ({first} if db_kind == "sqlite" else set())
    finally:
        migrator.engine.dispose()
        engine.dispose()
