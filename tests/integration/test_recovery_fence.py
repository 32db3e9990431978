"""Recovery verbs' tracking writes are fenced like a run's: a verb whose lock was broken
after it took it (``lock break --force``, or on SQLite the lock file deleted and the lock
taken by another run) refuses, exit 1, and writes nothing: no tracking row, no
checksum, no audit entry, no dropped table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from switchy_guard.model.plan import UpTo
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lock import migration_lock
from switchy_guard.runtime.runner import Migrator
from tests.integration.recovery_fence_driver import FIRST, migrations
from tests.integration.test_lock_fence import break_the_lock
from tests.reliability.helpers import TABLE, engine_for, subprocess_env, wait_until

DRIVER = Path(__file__).with_name("recovery_fence_driver.py")


def _snapshot(url: str, verb: str) -> tuple[list[tuple[str, ...]], int]:
    """The tracking rows (id, status, checksums, reason) and the audit journal's entries
    of ``verb`` (the lock break has its own)."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            rows = [tuple(str(v) for v in r) for r in conn.exec_driver_sql(
                f"SELECT id, status, up_checksum, down_checksum, failure_reason FROM {TABLE} "
                "ORDER BY id")]
            audit = 0
            if inspect(conn).has_table(f"{TABLE}_audit"):
                audit = conn.execute(text(f"SELECT COUNT(*) FROM {TABLE}_audit WHERE command = "
                                          ":verb"), {"verb": verb}).scalar_one()
    finally:
        engine.dispose()
    return rows, int(audit)


@pytest.mark.parametrize("verb", ["mark-completed", "mark-failed", "mark-all-completed",
                                  "mark-all-completed-drop", "adopt-checksums"])
def test_a_recovery_write_after_the_lock_was_broken_refuses_and_writes_nothing(
        tmp_path: Path, db_url: str, db_kind: str, verb: str) -> None:
    # One migration applied; for adopt-checksums its checksums unknown (64 zeros).
    migrator = Migrator(migrations(), db_url)
    migrator.migrate(UpTo(FIRST))
    if verb == "adopt-checksums":
        with migrator.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE {TABLE} SET up_checksum = '{'0' * 64}', "
                                 f"down_checksum = '{'0' * 64}'")
    migrator.engine.dispose()
    before = _snapshot(db_url, verb)

    markers = tmp_path / "markers"
    markers.mkdir()
    run = subprocess.Popen([sys.executable, str(DRIVER), db_url, verb], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**subprocess_env(), "FENCE_MARKERS": str(markers)})
    try:
        wait_until(lambda: (markers / "inside").exists() or run.poll() is not None, 60,
                   "the verb to hold the lock")
        assert run.poll() is None, run.communicate()
        break_the_lock(db_url, db_kind)
        engine = create_database_engine(db_url)
        try:  # another run takes the lock (and its record) and lets it go
            with migration_lock(engine, TABLE, 30, "another run"):
                pass
        finally:
            engine.dispose()
        (markers / "release").write_text("go")
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 1, (out, err)
    assert "written" not in out
    assert len(err.splitlines()) == 1, err
    assert "was broken while this run held it" in err and "nothing was recorded" in err, err
    assert _snapshot(db_url, verb) == before
