"""Many processes run ``migrate`` at the same moment: each migration is applied exactly once."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_helpers import write_migration
from tests.reliability.crash_driver import SLOW_AB, SLOW_C
from tests.reliability.helpers import (
    cli,
    engine_for,
    subprocess_env,
    table_names,
    tracking_rows,
    wait_until,
)
from tests.reliability.test_crash import (
    Project,
    assert_all_applied_once,
    progress_rows_of,
    set_knob,
    write_sql_project,
)

PROCESSES = 16
MIGRATIONS = 20

# Each child imports everything first, says it is ready, waits for the go file, then runs
# exactly what `python -m switchy_guard ARGS` runs: the start-up cost is paid before the
# barrier, so all of them reach the migration lock together.
_BARRIER = """
import pathlib, runpy, sys, time
import sqlalchemy, switchy_guard.cli.main, switchy_guard.runtime.runner  # noqa: F401 - warm imports
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
sys.argv = ["switchy_guard", *sys.argv[3:]]
ready.write_text("ready")
while not go.exists():
    time.sleep(0.002)
runpy.run_module("switchy_guard", run_name="__main__", alter_sys=True)
"""


def migration_ids() -> list[str]:
    """The ids of the race's migrations, in order."""
    return [f"2024-01-01-{n:06d}_step_{n:02d}" for n in range(MIGRATIONS)]


def write_project(root: Path) -> list[str]:
    """20 migrations valid on every dialect; each adds one row to ``hits`` and a table."""
    ids = migration_ids()
    for n, migration_id in enumerate(ids):
        up = ""
        if n == 0:
            up += "CREATE TABLE hits (migration VARCHAR(64) NOT NULL);\n"
        up += (
            f"CREATE TABLE t{n:02d} (id INTEGER NOT NULL, label VARCHAR(40));\n"
            f"INSERT INTO t{n:02d} (id, label) VALUES ({n}, 'row {n}');\n"
            f"INSERT INTO hits (migration) VALUES ('{migration_id}');\n"
        )
        down = f"DROP TABLE t{n:02d};\n" + ("DROP TABLE hits;\n" if n == 0 else "")
        write_migration(root, migration_id, up, down)
    return ids


def test_sixteen_processes_migrate_at_once(tmp_path: Path, db_url: str, db_kind: str) -> None:
    """16 simultaneous ``migrate`` runs all exit 0 and apply every migration exactly once."""
    root = tmp_path / "migrations"
    ids = write_project(root)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    env = subprocess_env()
    # `python -m switchy_guard ARGS`, behind the barrier: the same ARGS after the files.
    args = cli("migrate", "-d", db_url, "-m", root, "--lock-timeout", "120")[3:]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _BARRIER, str(ready[i]), str(go), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for i in range(PROCESSES)
    ]
    try:
        wait_until(lambda: all(r.exists() for r in ready), 60, "every process to be ready")
        started = time.monotonic()
        go.write_text("go")
        outcomes = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    elapsed = time.monotonic() - started
    codes = [run.returncode for run in runs]
    failures = [(code, out, err) for code, (out, err) in zip(codes, outcomes, strict=True) if code]
    assert not failures, failures
    for _, err in outcomes:
        lines = [line for line in err.splitlines() if line.strip()]
        # Waiting for the lock may be reported; nothing else may reach stderr.
        unexpected = [line for line in lines if not re.search(r"\bwait", line, re.I)
                      or re.search(r"error|traceback|exception", line, re.I)]
        assert not unexpected, err

    # Every migration was applied by exactly one process (the runner prints each it applies).
    applied = [
        match.group(1)
        for out, _ in outcomes
        for match in re.finditer(r"^applied (\S+) \(", out, re.M)
    ]
    assert sorted(applied) == ids, applied

    engine = engine_for(db_url)
    try:
        with engine.connect() as conn:
            rows = tracking_rows(conn)
            assert [(r.id, r.status) for r in rows] == [(i, "completed") for i in ids]
            hits = [str(r[0]) for r in conn.exec_driver_sql("SELECT migration FROM hits")]
            assert sorted(hits) == ids  # one INSERT per migration: no duplicate, none missing
            assert {f"t{n:02d}" for n in range(MIGRATIONS)} <= table_names(conn)
            for n in range(MIGRATIONS):
                count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM t{n:02d}").scalar()
                assert count == 1, f"t{n:02d} holds {count} rows"
    finally:
        engine.dispose()
    assert elapsed < 60, f"the race took {elapsed:.1f} s"


def migrate_inside_slow_ab(project: Project) -> subprocess.Popen[str]:
    """Start ``migrate`` and return once it is inside the slow statement of SLOW_AB (its
    first statement applied, progress 1 of 4)."""
    run = project.cli_start("migrate", "--lock-timeout", "60")
    try:
        wait_until(lambda: progress_rows_of(project).get(SLOW_AB) == (1, 4)
                   or run.poll() is not None, 60, "the run to be inside slow_ab")
        assert run.poll() is None, run.communicate()
    except BaseException:
        if run.poll() is None:
            run.kill()
            run.wait()
        raise
    return run


def test_a_second_migrate_waits_for_a_running_one(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A migrate started while another applies a migration waits for the lock, then goes on.

    The running one is inside a ``transactional = false`` migration (its ``in_progress``
    row committed, as on MySQL for every migration): the second run must not take that live
    row for one left by a dead run. It exits 0 with nothing to do, after the first ends.
    """
    write_sql_project(tmp_path / "migrations", db_kind, non_transactional=True)
    project = Project(db_url, db_kind, tmp_path, code=False)
    set_knob(db_url, "slow_ab", 4)
    first = migrate_inside_slow_ab(project)
    try:
        second = project.cli("migrate", "--lock-timeout", "60")
        # Waiting means: when the second run ends, the first has applied everything (it
        # releases the lock after its last migration). Whether the first's process has
        # exited yet is a matter of scheduling: under load it may still be shutting down.
        if second.returncode == 0:
            assert_all_applied_once(project)
        _out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # Both must succeed: the second waits; it neither refuses nor breaks the first.
    assert (first.returncode, second.returncode) == (0, 0), (
        f"first: {err!r}; second: {second.stderr!r}"
    )
    assert "Nothing to do" in second.stdout, second.stdout
    assert_all_applied_once(project)


def test_a_migration_survives_a_concurrent_application_write(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """An application writing to the database while a migration runs does not break it.

    The migration is inside a long statement of a ``transactional = false`` migration
    when another connection writes a row (waiting for the database as writers do): the
    run must still exit 0 and apply everything exactly once.
    """
    write_sql_project(tmp_path / "migrations", db_kind, non_transactional=True)
    project = Project(db_url, db_kind, tmp_path, code=False)
    project.execute("CREATE TABLE app_writes (id INTEGER)")
    set_knob(db_url, "slow_ab", 2)
    run = migrate_inside_slow_ab(project)
    try:
        project.execute("INSERT INTO app_writes (id) VALUES (1)")  # the application writes
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, err
    assert re.findall(r"^applied (\S+)", out, re.M)[-2:] == [SLOW_AB, SLOW_C]
    assert_all_applied_once(project)
