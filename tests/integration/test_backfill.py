"""Batched backfills on real databases: 100,000 rows, a SIGKILL in the middle of the run,
a resumed run, and a concurrent writer committing single-row updates throughout."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from tests.cli_helpers import run_cli, write_migration

ROWS = 100_000
BATCH = 5_000
REPO = Path(__file__).resolve().parents[2]
JOURNAL = "__switchy_migrations_backfill"


def _fill(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, "
                             "done INTEGER NOT NULL, n INTEGER NOT NULL, w INTEGER NOT NULL)")
        conn.execute(text("INSERT INTO items (id, done, n, w) VALUES (:id, 0, 0, 0)"),
                     [{"id": i} for i in range(1, ROWS + 1)])
    engine.dispose()


def _cli(url: str, root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "switchy_guard", "-d", url, "-m", str(root),
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


class Writer(threading.Thread):
    """Single-row updates of ``w``, one transaction each, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, connect_args={"timeout": 30}
                                    if url.startswith("sqlite") else {})
        self.stop = threading.Event()
        #: Set while a migrate process sets up on SQLite (see _started_batching).
        self.paused = threading.Event()
        self.committed = 0
        self.errors: list[str] = []

    def run(self) -> None:
        rng = random.Random(7)
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                if self.paused.is_set():
                    time.sleep(0.005)
                    continue
                try:
                    with conn.begin():
                        conn.execute(text("UPDATE items SET w = w + 1 WHERE id = :id"),
                                     {"id": rng.randint(1, ROWS)})
                    self.committed += 1
                except Exception as exc:  # counted, asserted empty
                    self.errors.append(str(exc).splitlines()[0])
                time.sleep(0.002)


def _started_batching(engine: Any, writer: Writer, sqlite: bool,
                      start: Callable[[], subprocess.Popen[str]],
                      after: int) -> subprocess.Popen[str]:
    """Start a migrate process. On SQLite the writer pauses until its batches run: SQLite
    has one writer at a time, and a transaction of the run's set-up that has read cannot
    take the write lock while another connection commits (SQLite answers "database is
    locked" at once there instead of waiting, to avoid a deadlock). The batches
    themselves begin IMMEDIATE and wait, so the writer commits throughout them."""
    if not sqlite:
        return start()
    writer.paused.set()
    try:
        process = start()
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            while (state := _journal(conn)) is None or state[2] <= after:
                if process.poll() is not None or time.monotonic() > deadline:
                    break
                conn.rollback()
                time.sleep(0.02)
        return process
    finally:
        writer.paused.clear()


def _journal(conn: Connection) -> tuple[str, int, int] | None:
    try:
        row = conn.execute(text(
            f"SELECT status, rows_done, batches_done FROM {JOURNAL}")).first()
    except Exception:  # not created yet
        conn.rollback()
        return None
    conn.rollback()
    return (row[0], int(row[1]), int(row[2])) if row else None


def test_backfill_survives_sigkill_and_a_concurrent_writer(db_url: str, tmp_path: Path) -> None:
    _fill(db_url)
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_fill",
                    up="UPDATE items SET n = n + 1, done = 1 WHERE done = 0;\n",
                    down="", metadata=f'backfill = {{ batch_size = {BATCH}, pause_ms = 150 }}\n'
                                      'down = "noop"\n')
    plan = run_cli("-d", db_url, "-m", root, "plan", "--format", "json")
    assert plan.code == 0, plan.err
    backfill = json.loads(plan.out)["migrations"][0]["backfill"]
    # 100,000 rows is the limit above which the statistics' estimate is used (labelled so):
    # InnoDB's is approximate.
    if backfill["rows_estimated"]:
        assert abs(backfill["rows"] - ROWS) < ROWS // 5, backfill
    else:
        assert backfill["rows"] == ROWS, backfill
    assert backfill["batches"] == -(-backfill["rows"] // BATCH)

    writer = Writer(db_url)
    writer.start()
    engine = create_engine(db_url)
    started = time.monotonic()
    sqlite = db_url.startswith("sqlite")
    try:
        killed = _started_batching(engine, writer, sqlite, lambda: _cli(db_url, root, "migrate"),
                                   after=0)
        with engine.connect() as conn:
            while (state := _journal(conn)) is None or state[2] < 4:
                assert killed.poll() is None, killed.communicate()
                assert time.monotonic() - started < 60, "no progress"
                time.sleep(0.05)
            killed.send_signal(signal.SIGKILL)
            killed.wait()
            state = _journal(conn)
            assert state is not None and state[0] == "running"
            assert 4 <= state[2] < ROWS // BATCH
            # The journal commits with its batch: what it says is done is exactly what is.
            done = conn.execute(text("SELECT COUNT(*) FROM items WHERE n = 1")).scalar()
            assert done == state[1] == state[2] * BATCH
            tracked = conn.execute(text(
                "SELECT COUNT(*) FROM __switchy_migrations WHERE status = 'completed'")).scalar()
            assert tracked == 0  # not completed: the next migrate resumes it
            conn.rollback()

        resumed = _started_batching(engine, writer, sqlite,
                                    lambda: _cli(db_url, root, "migrate"), after=state[2])
        _out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, err
        assert f"resuming after batch {state[2]}" in err
        time.sleep(0.3)  # the writer keeps committing after the backfill too
    finally:
        writer.stop.set()
        writer.join(30)
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT n, COUNT(*) FROM items GROUP BY n")).all())
        assert counts == {1: ROWS}  # every row done, none twice
        assert conn.execute(text("SELECT COUNT(*) FROM items WHERE done = 0")).scalar() == 0
        assert conn.execute(text("SELECT SUM(w) FROM items")).scalar() == writer.committed
        assert _journal(conn) == ("done", ROWS, ROWS // BATCH + 1)
        status = conn.execute(text("SELECT status FROM __switchy_migrations")).scalar()
        assert status == "completed"
    engine.dispose()
    assert writer.errors == [] and writer.committed > 100
