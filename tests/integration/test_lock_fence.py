"""The fenced migration lock: a run whose lock is broken mid-migration commits nothing more.

``lock break --force`` ends the holder's lock session, but its migrations run on another
connection: the migration under way used to commit anyway, after the next run had
applied it too (two rows inserted, two ``completed`` rows, both runs exiting 0). Each
run's fencing token in the lock record is now checked inside every transaction that
records what it did.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lock import migration_lock, sqlite_lock_path
from switchy_guard.runtime.lockrecord import LockRecord
from tests.cli_helpers import run_cli, write_migration
from tests.integration.fence_driver import BASE, GATED
from tests.integration.test_lock_status import holder, status_of, wait_free
from tests.reliability.helpers import (
    TABLE,
    cli,
    engine_for,
    progress_rows,
    subprocess_env,
    tracking_rows,
    wait_until,
)

DRIVER = Path(__file__).with_name("fence_driver.py")


def hits(conn: Connection) -> list[str]:
    """The ``run`` of every row of ``hits`` (one per application of the gated migration)."""
    return [str(row[0]) for row in conn.exec_driver_sql("SELECT run FROM hits")]


def break_the_lock(url: str, db_kind: str) -> None:
    """Take the lock from its live holder: ``lock break --force`` on a server. SQLite
    refuses to break a live holder; there the lock file is deleted by hand, which lets
    the next run lock a new one."""
    if db_kind == "sqlite":
        engine = create_database_engine(url)
        path = sqlite_lock_path(engine)
        engine.dispose()
        assert path is not None
        path.unlink()
        return
    broken = run_cli("lock", "break", "--force", "-d", url)
    assert broken.code == 0, broken.err
    assert "terminated database session" in broken.out


@pytest.mark.parametrize("mode", ["tx", "sbs"])
def test_a_run_broken_mid_migration_commits_nothing_and_the_next_run_applies_once(
    tmp_path: Path, db_url: str, db_kind: str, mode: str
) -> None:
    """Run A is inside a migration when its lock is broken; run B then migrates.

    In a transaction (SQLite, PostgreSQL): B applies it; A's transaction rolls back at
    its tracking write and A exits 1 saying its lock was broken. Statement by statement
    (``transactional = false``; every migration on MySQL): what A ran stays, its row
    stays ``in_progress``, so B refuses, and A records nothing more. Either way the
    migration took effect once, and at most one ``completed`` row exists.
    """
    markers = tmp_path / "markers"
    markers.mkdir()
    env = subprocess_env()
    first = subprocess.Popen([sys.executable, str(DRIVER), db_url, mode], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**env, "FENCE_MARKERS": str(markers)})
    try:
        wait_until(lambda: (markers / "inside").exists() or first.poll() is not None, 60,
                   "run A to be inside the gated migration")
        assert first.poll() is None, first.communicate()
        break_the_lock(db_url, db_kind)
        second = subprocess.run([sys.executable, str(DRIVER), db_url, mode], text=True,
                                capture_output=True, env=env, timeout=120, check=False)
        (markers / "release").write_text("go")
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    engine = engine_for(db_url)
    try:
        with engine.connect() as conn:
            rows = [(row.id, row.status) for row in tracking_rows(conn)]
            applied_by = hits(conn)
    finally:
        engine.dispose()

    assert first.returncode == 1, (out, err)
    assert "was broken while this run held it" in err, err
    assert f"applied {GATED}" not in out
    if db_kind != "sqlite":  # who broke it, from the audit journal
        assert "(by lock break of " in err, err
    in_transaction = mode == "tx" and db_kind != "mysql"
    if in_transaction:
        assert second.returncode == 0, second.stderr
        assert f"applied {GATED}" in second.stdout
        assert f"{GATED} was undone with its transaction" in err, err
        assert rows == [(BASE, "completed"), (GATED, "completed")]
        # One row: B's (A's was rolled back with its transaction).
        assert len(applied_by) == 1 and applied_by != [str(first.pid)], applied_by
    else:
        assert second.returncode == 1 and "is in_progress" in second.stderr, second.stderr
        assert f"{GATED} ran outside a transaction and stays applied; its row stays " \
               "in_progress" in err, err
        assert rows == [(BASE, "completed"), (GATED, "in_progress")]
        assert applied_by == [str(first.pid)]


@pytest.mark.only_on("postgres", "mysql")
def test_a_statement_by_statement_run_stops_before_its_next_statement(
    tmp_path: Path, db_url: str
) -> None:
    """A ``transactional = false`` migration whose lock is broken while a statement runs
    stops before the next one and says how many ran; the next run refuses the
    ``in_progress`` row instead of running them again."""
    root = tmp_path / "m"
    steps = "2024-01-01-000000_steps"
    write_migration(
        root, steps,
        "INSERT INTO hits (run) VALUES ('first');\n"
        "UPDATE gate SET n = n + 1 WHERE n >= 0;\n"
        "INSERT INTO hits (run) VALUES ('third');\n",
        metadata="transactional = false\n",
    )
    engine = engine_for(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hits (run VARCHAR(40) NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE gate (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO gate (n) VALUES (0)")
    gate = engine.connect()
    run = None
    try:
        gate.exec_driver_sql("UPDATE gate SET n = 10")  # row locked: statement 2 waits
        run = subprocess.Popen(cli("-q", "migrate", "-m", root, "-d", db_url,
                                   "--lock-timeout", "60"),
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=subprocess_env())

        def inside() -> bool:
            with engine.connect() as conn:
                return progress_rows(conn).get(steps) == (1, 3) or run.poll() is not None

        wait_until(inside, 60, "the run to wait in statement 2")
        assert run.poll() is None, run.communicate()
        broken = run_cli("lock", "break", "--force", "-d", db_url)
        assert broken.code == 0, broken.err
        gate.rollback()  # statement 2 goes on
        out, err = run.communicate(timeout=60)
    finally:
        gate.close()
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
    try:
        assert run.returncode == 1, (out, err)
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err  # no traceback
        assert ("was broken while this run held it (by lock break of " in err
                and f"stopped {steps} after 2 of 3 statements, which stay applied; its row "
                "stays in_progress" in err), err
        with engine.connect() as conn:
            assert hits(conn) == ["first"]  # statement 3 never ran
            assert [(r.id, r.status) for r in tracking_rows(conn)] == [(steps, "in_progress")]
        again = run_cli("migrate", "-m", root, "-d", db_url)
        assert again.code == 1 and f"migration {steps} is in_progress" in again.err, again.err
    finally:
        engine.dispose()


def test_lock_break_stale_only_needs_no_terminal_and_spares_a_live_holder(
    tmp_path: Path, db_url: str
) -> None:
    """``--stale-only``: a free lock and a dead holder's record are cleared without a
    terminal or --force (exit 0, journaled); a live holder is refused (exit 1)."""
    engine = create_database_engine(db_url)
    with engine.begin() as conn:  # a database migrate has set up (the file exists)
        conn.exec_driver_sql("CREATE TABLE app (id INTEGER)")
    engine.dispose()

    free = run_cli("lock", "break", "--stale-only", "-d", db_url)
    assert free.code == 0 and "nothing to break" in free.out, free.err

    with holder(db_url) as process:
        live = run_cli("lock", "break", "--stale-only", "-d", db_url)
        assert live.code == 1, live
        assert len(live.error_lines) == 1 and ("holder looks alive" in live.err
                                               or "cannot be broken" in live.err), live.err
        assert process.poll() is None
        assert status_of(db_url)["held"] is True
        both = run_cli("lock", "break", "--stale-only", "--force", "-d", db_url)
        assert both.code == 2 and "contradict" in both.err, both.err
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert wait_free(db_url)["stale"] is True
    stale = run_cli("lock", "break", "--stale-only", "-d", db_url, "--format", "json")
    assert stale.code == 0, stale.err
    assert json.loads(stale.out)["message"].startswith("cleared the stale record of ")
    assert status_of(db_url)["holder"] is None

    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            outcomes = [(e.outcome, "--stale-only" in e.command)
                        for e in AuditJournal(TABLE).entries(conn)]
    finally:
        engine.dispose()
    assert outcomes == [("ok", True), ("refused", True), ("ok", True)]


def test_a_break_never_deletes_a_newer_holders_record(db_url: str) -> None:
    """The record is cleared by the token that was seen: a run that took the lock since
    keeps its record (and with it the right to record its migrations)."""
    engine = create_database_engine(db_url)
    record = LockRecord(TABLE)
    try:
        with migration_lock(engine, TABLE, timeout=5):
            with engine.connect() as conn:
                current = record.read(conn)
                assert current is not None and current.token
                assert not record.clear(conn, "a token seen before this holder's")
                after = record.read(conn)
                assert after is not None and after.token == current.token
                conn.rollback()
            # Never printed: only its holder has a use for it.
            assert current.token not in json.dumps(status_of(db_url))
    finally:
        engine.dispose()


def test_an_older_releases_lock_record_gains_the_token(db_url: str) -> None:
    """A ``<table>_lock`` made before the token existed is given the column, and a
    record an older release left (no token) is still cleared on release of the next."""
    engine = create_database_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE TABLE {TABLE}_lock (os_user VARCHAR(255) NOT NULL, host VARCHAR(255) "
                "NOT NULL, pid INTEGER NOT NULL, command VARCHAR(255) NOT NULL, since "
                "VARCHAR(40) NOT NULL, session VARCHAR(64) NULL)")
            conn.exec_driver_sql(f"INSERT INTO {TABLE}_lock VALUES ('old', 'h', 1, 'c', 's', "
                                 "NULL)")
        with engine.connect() as conn:
            old = LockRecord(TABLE).read(conn)
            conn.rollback()
        assert old is not None and old.token is None
        with migration_lock(engine, TABLE, timeout=5), engine.connect() as conn:
            mine = LockRecord(TABLE).read(conn)
            conn.rollback()
            assert mine is not None and mine.token and mine.pid == os.getpid()
        with engine.connect() as conn:
            assert LockRecord(TABLE).read(conn) is None
    finally:
        engine.dispose()
