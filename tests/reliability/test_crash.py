"""A migration run killed with SIGKILL part way never leaves a lying tracking table.

After every kill, for every migration, exactly one of these holds:

(a) fully applied and recorded ``completed``;
(b) not applied at all and not recorded;
(c) recorded ``in_progress`` (dirty), with ``__switchy_migrations_statements`` naming
    exactly how many statements ran — only where the migration runs outside a
    transaction: every migration on MySQL (DDL commits there), ``transactional = false``
    ones elsewhere.

Never ``completed`` with part of its effects. Then the next ``migrate`` either goes on
(clean state) or refuses until the dirty migration is resolved by hand.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.cli_helpers import write_migration
from tests.db_helpers import run_sql
from tests.reliability.crash_driver import BASE, SLOW_AB, SLOW_C
from tests.reliability.helpers import (
    cli,
    end_orphan_sessions,
    engine_for,
    other_sessions,
    progress_rows,
    subprocess_env,
    table_names,
    tracking_rows,
    wait_until,
)

IDS = [BASE, SLOW_AB, SLOW_C]
DRIVER = Path(__file__).with_name("crash_driver.py")
SLEEP_FUNCTION = {"postgres": "pg_sleep", "mysql": "SLEEP"}


@dataclass(frozen=True)
class Effect:
    """What one statement leaves behind: a table, or one row ``id = value`` in a table."""

    table: str
    row: int | None = None


# Per migration, the effect of each statement in order (None: the slow statement, which
# leaves nothing). The SQL folder and the code migrations of crash_driver.py match these.
EFFECTS: dict[str, list[Effect | None]] = {
    BASE: [Effect("base"), Effect("base", 1)],
    SLOW_AB: [Effect("a"), None, Effect("b"), Effect("b", 2)],
    SLOW_C: [Effect("c"), Effect("c", 3), None, Effect("d")],
}


def slow_statement(kind: str, tag: str) -> str:
    """A statement running about the seconds ``crash_knob`` holds for ``tag`` (else none).

    SQLite has no sleep function: there it counts to four million per second of the knob.
    """
    knob = f"COALESCE((SELECT MAX(seconds) FROM crash_knob WHERE tag = '{tag}'), 0)"
    if kind == "sqlite":
        return (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
            f"WHERE n < 4000000 * {knob}) SELECT COUNT(*), '{tag}' FROM r;\n"
        )
    return f"SELECT {SLEEP_FUNCTION[kind]}({knob}), '{tag}';\n"


def write_sql_project(root: Path, kind: str, *, non_transactional: bool = False) -> None:
    """The three migrations as SQL folders, slow steps in the middle.

    ``non_transactional``: the second one says ``transactional = false``.
    """
    write_migration(
        root, BASE, "CREATE TABLE base (id INTEGER);\nINSERT INTO base (id) VALUES (1);\n",
        "DROP TABLE base;\n",
    )
    write_migration(
        root, SLOW_AB,
        "CREATE TABLE a (id INTEGER);\n" + slow_statement(kind, "slow_ab")
        + "CREATE TABLE b (id INTEGER);\nINSERT INTO b (id) VALUES (2);\n",
        "DROP TABLE b;\nDROP TABLE a;\n",
        "transactional = false\n" if non_transactional else None,
    )
    write_migration(
        root, SLOW_C,
        "CREATE TABLE c (id INTEGER);\nINSERT INTO c (id) VALUES (3);\n"
        + slow_statement(kind, "slow_c") + "CREATE TABLE d (id INTEGER);\n",
        "DROP TABLE d;\nDROP TABLE c;\n",
    )


def effect_holds(conn: Connection, tables: set[str], effect: Effect) -> bool:
    """Whether ``effect`` is there now; a row present more than once fails the test."""
    if effect.table not in tables:
        return False
    if effect.row is None:
        return True
    count = conn.exec_driver_sql(
        f"SELECT COUNT(*) FROM {effect.table} WHERE id = {effect.row}"
    ).scalar()
    assert count in (0, 1), f"row {effect.row} of {effect.table} inserted {count} times"
    return bool(count == 1)


State = tuple[str, int | None]  # ("completed" | "pending" | "in_progress", statements ran)


def snapshot(
    url: str,
    kind: str,
    non_transactional: frozenset[str] = frozenset(),
    effects_of: dict[str, list[Effect | None]] | None = None,
) -> dict[str, State]:
    """Check the crash invariant for every migration and return each one's state.

    ``in_progress`` is allowed only on MySQL and for the ``non_transactional`` ids.
    ``effects_of``: the migrations and their statements' effects (default: EFFECTS).
    """
    engine = engine_for(url)
    states: dict[str, State] = {}
    try:
        with engine.connect() as conn:
            rows = tracking_rows(conn)
            ids = [row.id for row in rows]
            assert len(ids) == len(set(ids)), f"duplicate tracking rows: {ids}"
            status = {row.id: row.status for row in rows}
            progress = progress_rows(conn)
            tables = table_names(conn)
            for migration_id, effects in (effects_of or EFFECTS).items():
                held = [effect_holds(conn, tables, e) if e else None for e in effects]
                real = [h for h in held if h is not None]
                recorded = status.get(migration_id)
                where = f"{migration_id}: recorded {recorded}, effects {held}, progress " \
                        f"{progress.get(migration_id)}"
                if recorded == "completed":  # (a)
                    assert all(real), f"completed with only part of its effects: {where}"
                    states[migration_id] = ("completed", None)
                elif recorded is None:  # (b)
                    assert not any(real), f"not recorded, yet partly applied: {where}"
                    states[migration_id] = ("pending", None)
                elif recorded == "in_progress":  # (c)
                    assert kind == "mysql" or migration_id in non_transactional, (
                        f"in_progress on transactional {kind}: {where}"
                    )
                    assert migration_id in progress, f"dirty without progress: {where}"
                    ran, total = progress[migration_id]
                    assert total == len(effects), where
                    # Statements before the recorded count ran; the one after it may have
                    # run (it commits before its progress can be written); later ones not.
                    for i, holds in enumerate(held):
                        if holds is None or i == ran:
                            continue
                        assert holds == (i < ran), f"progress does not match the schema: {where}"
                    states[migration_id] = ("in_progress", ran)
                else:
                    raise AssertionError(f"unexpected state after a kill: {where}")
    finally:
        engine.dispose()
    return states


def set_knob(url: str, tag: str | None = None, seconds: int = 0) -> None:
    """Make the SQL slow statement ``tag`` sleep ``seconds`` from now on (the others: 0)."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            if "crash_knob" not in table_names(conn):
                conn.exec_driver_sql("CREATE TABLE crash_knob (tag VARCHAR(20), seconds INTEGER)")
            conn.exec_driver_sql("DELETE FROM crash_knob")
            if tag is not None:
                conn.exec_driver_sql(
                    f"INSERT INTO crash_knob (tag, seconds) VALUES ('{tag}', {seconds})"
                )
    finally:
        engine.dispose()


def running_statement(url: str, kind: str, tag: str) -> Callable[[], bool]:
    """A probe: is the slow statement tagged ``tag`` running on the server right now?"""
    if kind == "postgres":
        sql = (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE :pattern"
        )
    else:
        sql = (
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID() AND INFO LIKE :pattern"
        )
    engine = engine_for(url)

    def probe() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(text(sql), {"pattern": f"%'{tag}'%"}).scalar())

    return probe


@dataclass
class Project:
    """One database and its migrations, and how to run and kill runs on it."""

    url: str
    kind: str
    tmp: Path
    code: bool

    @property
    def source(self) -> str:
        """What runs migrate from: the SQL folder, or ``code`` (crash_driver.py's)."""
        return "code" if self.code else str(self.tmp / "migrations")

    @property
    def markers(self) -> Path:
        """Where the driver writes its markers."""
        folder = self.tmp / "markers"
        folder.mkdir(exist_ok=True)
        return folder

    def driver(self, pause: str, slow: str = "", sleep: float = 0) -> subprocess.Popen[str]:
        """Start crash_driver.py in a process of its own (code step ``slow`` sleeps)."""
        env = subprocess_env(
            SWITCHY_CRASH_MARKERS=str(self.markers), SWITCHY_CRASH_SLOW=slow,
            SWITCHY_CRASH_SLEEP=str(sleep),
        )
        return subprocess.Popen(
            [sys.executable, str(DRIVER), self.url, self.source, pause],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``python -m switchy_guard ARGS -d URL -m DIR`` to the end."""
        return subprocess.run(
            cli(*args, "-d", self.url, "-m", self.source), capture_output=True, text=True,
            env=subprocess_env(), timeout=120, check=False,
        )

    def cli_start(self, *args: str) -> subprocess.Popen[str]:
        """Start ``python -m switchy_guard ARGS -d URL -m DIR`` without waiting."""
        return subprocess.Popen(
            cli(*args, "-d", self.url, "-m", self.source), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=subprocess_env(),
        )

    def migrate_rest(self) -> list[str]:
        """Run the next migrate to the end (the CLI; the driver for code migrations)."""
        if self.code:
            run = self.driver("none")
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        else:
            done = self.cli("migrate", "--lock-timeout", "30")
            assert done.returncode == 0, done.stderr
            assert "error" not in done.stderr.lower(), done.stderr
            out = done.stdout
        return re.findall(r"^applied (\S+)", out, re.M)

    def kill(self, run: subprocess.Popen[str]) -> None:
        """SIGKILL ``run``, then let the server end what the dead client left running."""
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL
        end_orphan_sessions(self.url, self.kind)

    def execute(self, *statements: str) -> None:
        """Run statements by hand, as an operator fixing the schema would."""
        run_sql(self.url, *statements)


@pytest.fixture
def project(db_url: str, db_kind: str, tmp_path: Path) -> Project:
    """A fresh database and the crash migrations for it (a knob of 0 s to start with).

    SQL migrations on PostgreSQL and MySQL; Python ones on SQLite, whose transaction hides
    the slow step from other connections (the code writes a marker file instead).
    """
    code = db_kind == "sqlite"
    if not code:
        write_sql_project(tmp_path / "migrations", db_kind)
        set_knob(db_url)
    return Project(db_url, db_kind, tmp_path, code)


def assert_all_applied_once(project: Project) -> None:
    """Every migration completed, each effect there exactly once."""
    assert snapshot(project.url, project.kind) == {i: ("completed", None) for i in IDS}


def kill_while_paused(project: Project, pause: str) -> None:
    """Start a run that pauses at ``pause`` (no migration running) and SIGKILL it there."""
    run = project.driver(pause)
    marker = project.markers / "paused"
    wait_until(lambda: marker.exists() or run.poll() is not None, 60, f"the pause {pause}")
    assert run.poll() is None, run.communicate()
    project.kill(run)


def kill_in_slow_step(project: Project, tag: str) -> None:
    """Start a run and SIGKILL it while the slow statement ``tag`` runs."""
    if project.code:
        run = project.driver("none", slow=tag, sleep=60)
        marker = project.markers / tag
        wait_until(lambda: marker.exists() or run.poll() is not None, 60, f"the step {tag}")
    else:
        set_knob(project.url, tag, 60)
        run = project.cli_start("migrate", "--lock-timeout", "30")
        probe = running_statement(project.url, project.kind, tag)
        wait_until(lambda: probe() or run.poll() is not None, 60, f"the statement {tag}")
    assert run.poll() is None, run.communicate()
    project.kill(run)
    if not project.code:
        set_knob(project.url)


@pytest.mark.parametrize("pause", ["before_all", f"before:{SLOW_AB}"])
def test_killed_between_migrations_resumes(project: Project, pause: str) -> None:
    """Killed before a migration starts: a clean state, and the next run applies the rest once."""
    kill_while_paused(project, pause)
    states = snapshot(project.url, project.kind)
    first_pending = 0 if pause == "before_all" else 1
    assert states == {
        i: ("completed", None) if n < first_pending else ("pending", None)
        for n, i in enumerate(IDS)
    }
    assert project.migrate_rest() == IDS[first_pending:]
    assert_all_applied_once(project)


def test_killed_during_a_slow_statement(project: Project) -> None:
    """Killed inside a migration (after its first DDL): rolled back, or dirty with its progress.

    SQLite and PostgreSQL: nothing of it remains and the next run applies it once. MySQL:
    ``in_progress`` with 1 of 4 statements recorded (table a exists, b does not); the next
    ``migrate`` refuses naming it, until a is dropped by hand and ``migrate --force`` re-runs it.
    """
    kill_in_slow_step(project, "slow_ab")
    states = snapshot(project.url, project.kind)
    if project.kind != "mysql":
        assert states == {BASE: ("completed", None), SLOW_AB: ("pending", None),
                          SLOW_C: ("pending", None)}
        assert project.migrate_rest() == [SLOW_AB, SLOW_C]
        assert_all_applied_once(project)
        return
    assert states == {BASE: ("completed", None), SLOW_AB: ("in_progress", 1),
                      SLOW_C: ("pending", None)}
    refused = project.cli("migrate", "--lock-timeout", "30")
    assert refused.returncode == 1, refused
    assert "in_progress" in refused.stderr and SLOW_AB in refused.stderr, refused.stderr
    assert "1 of 4 statements" in refused.stderr, refused.stderr
    assert snapshot(project.url, project.kind) == states  # the refusal changed nothing
    project.execute("DROP TABLE a")  # undo what ran, by hand
    forced = project.cli("migrate", "--force", "--lock-timeout", "30")
    assert forced.returncode == 0, forced.stderr
    assert re.findall(r"^applied (\S+)", forced.stdout, re.M) == [SLOW_AB, SLOW_C]
    assert_all_applied_once(project)
    assert progress_rows_of(project) == {}


def test_killed_during_a_later_migration(project: Project) -> None:
    """Killed in the third migration: the first two stay completed, the third is clean or dirty.

    MySQL: ``in_progress`` with 2 of 4 statements (c and its row exist, d does not); after
    finishing it by hand (CREATE TABLE d) and ``mark-completed --force``, migrate goes on.
    """
    kill_in_slow_step(project, "slow_c")
    states = snapshot(project.url, project.kind)
    if project.kind != "mysql":
        assert states == {BASE: ("completed", None), SLOW_AB: ("completed", None),
                          SLOW_C: ("pending", None)}
        assert project.migrate_rest() == [SLOW_C]
        assert_all_applied_once(project)
        return
    assert states == {BASE: ("completed", None), SLOW_AB: ("completed", None),
                      SLOW_C: ("in_progress", 2)}
    refused = project.cli("migrate", "--lock-timeout", "30")
    assert refused.returncode == 1, refused
    assert "in_progress" in refused.stderr and SLOW_C in refused.stderr, refused.stderr
    assert "2 of 4 statements" in refused.stderr, refused.stderr
    project.execute("CREATE TABLE d (id INTEGER)")  # finish what was left, by hand
    marked = project.cli("mark-completed", SLOW_C, "--force")
    assert marked.returncode == 0, marked.stderr
    assert_all_applied_once(project)
    after = project.cli("migrate", "--lock-timeout", "30")
    assert after.returncode == 0, after.stderr
    assert "Nothing to do" in after.stdout
    assert_all_applied_once(project)


def progress_rows_of(project: Project) -> dict[str, tuple[int, int]]:
    """The statement-progress table's rows."""
    engine = engine_for(project.url)
    try:
        with engine.connect() as conn:
            return progress_rows(conn)
    finally:
        engine.dispose()


def test_killed_in_a_non_transactional_migration(db_url: str, db_kind: str, tmp_path: Path) -> None:
    """A ``transactional = false`` migration killed part way is dirty, its progress exact.

    On every database: ``in_progress`` with 1 of 4 statements (a exists, b does not). The
    next migrate refuses; ``mark-failed`` turns the refusal into "failed earlier"; once a is
    dropped by hand, ``migrate --retry-failed --from-start`` applies it and the rest
    exactly once.
    """
    write_sql_project(tmp_path / "migrations", db_kind, non_transactional=True)
    project = Project(db_url, db_kind, tmp_path, code=False)
    set_knob(db_url, "slow_ab", 60)
    run = project.cli_start("migrate", "--lock-timeout", "30")
    engine = engine_for(db_url)

    def one_statement_ran() -> bool:
        with engine.connect() as conn:
            return progress_rows(conn).get(SLOW_AB) == (1, 4)

    try:
        wait_until(lambda: one_statement_ran() or run.poll() is not None, 60, "progress 1 of 4")
    finally:
        engine.dispose()
    assert run.poll() is None, run.communicate()
    project.kill(run)
    set_knob(db_url)
    dirty = frozenset({SLOW_AB})
    states = snapshot(db_url, db_kind, dirty)
    assert states == {BASE: ("completed", None), SLOW_AB: ("in_progress", 1),
                      SLOW_C: ("pending", None)}
    refused = project.cli("migrate", "--lock-timeout", "30")
    assert refused.returncode == 1, refused
    assert "in_progress" in refused.stderr and "1 of 4 statements" in refused.stderr, refused
    marked = project.cli("mark-failed", SLOW_AB, "--reason", "killed part way", "--force")
    assert marked.returncode == 0, marked.stderr
    still = project.cli("migrate", "--lock-timeout", "30")
    assert still.returncode == 1 and "failed earlier" in still.stderr, still
    # A re-run starts at the first statement: refused until what ran is undone.
    unsaid = project.cli("migrate", "--retry-failed", "--lock-timeout", "30")
    assert unsaid.returncode == 1 and "--from-start" in unsaid.stderr, unsaid
    project.execute("DROP TABLE a")  # undo what ran, by hand
    retried = project.cli("migrate", "--retry-failed", "--from-start", "--lock-timeout", "30")
    assert retried.returncode == 0, retried.stderr
    assert re.findall(r"^applied (\S+)", retried.stdout, re.M) == [SLOW_AB, SLOW_C]
    assert_all_applied_once(project)


BOUNDARY = "2024-01-02-000000_boundary"
BOUNDARY_EFFECTS: dict[str, list[Effect | None]] = {
    BASE: EFFECTS[BASE],
    BOUNDARY: [Effect("a"), Effect("slowt"), Effect("b")],
}


def slow_create(kind: str) -> str:
    """A slow statement with an effect: it creates table slowt (knob ``boundary``)."""
    knob = "COALESCE((SELECT MAX(seconds) FROM crash_knob WHERE tag = 'boundary'), 0)"
    if kind == "postgres":
        return f"CREATE TABLE slowt AS SELECT 1 AS x FROM pg_sleep({knob});\n"
    if kind == "mysql":
        return f"CREATE TABLE slowt AS SELECT SLEEP({knob}) AS x;\n"
    return (
        "CREATE TABLE slowt AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
        f"FROM r WHERE n < 4000000 * {knob}) SELECT COUNT(*) AS x FROM r;\n"
    )


def hold_progress_table(conn: Connection, kind: str) -> None:
    """Lock the progress table from ``conn``: the runner's next progress write waits."""
    if kind == "postgres":
        conn.exec_driver_sql(
            "LOCK TABLE __switchy_migrations_statements IN ACCESS EXCLUSIVE MODE"
        )
    else:
        conn.exec_driver_sql("LOCK TABLES __switchy_migrations_statements WRITE")


def progress_write_waits(url: str, kind: str) -> Callable[[], bool]:
    """A probe: is a session waiting to write the progress table?"""
    if kind == "postgres":
        sql = (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE :pattern"
        )
    else:
        sql = (
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID() AND STATE LIKE 'Waiting for table%' "
            "AND INFO LIKE :pattern"
        )
    engine = engine_for(url)

    def probe() -> bool:
        with engine.connect() as conn:
            pattern = "%__switchy_migrations_statements%"
            return bool(conn.execute(text(sql), {"pattern": pattern}).scalar())

    return probe


def session_id(conn: Connection, kind: str) -> int:
    """The server's id of ``conn``'s session."""
    sql = "SELECT pg_backend_pid()" if kind == "postgres" else "SELECT CONNECTION_ID()"
    return int(conn.exec_driver_sql(sql).scalar_one())


def end_sessions_but(url: str, kind: str, keep: int) -> None:
    """End every session on the database but ``keep`` (and the one doing it)."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            def others() -> list[int]:
                conn.commit()  # a fresh view of the server's session list
                return [pid for pid in other_sessions(conn, kind) if pid != keep]

            for pid in others():
                if kind == "postgres":
                    conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                else:
                    conn.exec_driver_sql(f"KILL {pid}")
            wait_until(lambda: not others(), 20, "the dead client's sessions to end")
    finally:
        engine.dispose()


def test_killed_at_a_statement_boundary(db_url: str, db_kind: str, tmp_path: Path) -> None:
    """Progress names exactly the statements that ran, even for a kill right after one.

    A ``transactional = false`` migration: CREATE TABLE a; CREATE TABLE slowt AS <slow>;
    CREATE TABLE b. SQLite: killed inside the slow CREATE, which leaves nothing (1 of 3
    recorded, a exists, slowt does not). PostgreSQL and MySQL: killed after the slow CREATE
    committed, before its progress was written (a lock on the progress table holds that
    write back, as a kill at that instant would): the record must still say what ran —
    2 of 3, or at least not claim 1 when slowt exists.
    """
    root = tmp_path / "migrations"
    write_migration(
        root, BASE, "CREATE TABLE base (id INTEGER);\nINSERT INTO base (id) VALUES (1);\n",
        "DROP TABLE base;\n",
    )
    write_migration(
        root, BOUNDARY,
        "CREATE TABLE a (id INTEGER);\n" + slow_create(db_kind) + "CREATE TABLE b (id INTEGER);\n",
        "DROP TABLE b;\nDROP TABLE slowt;\nDROP TABLE a;\n",
        "transactional = false\n",
    )
    project = Project(db_url, db_kind, tmp_path, code=False)
    set_knob(db_url, "boundary", 60 if db_kind == "sqlite" else 1)
    run = project.cli_start("migrate", "--lock-timeout", "30")
    engine = engine_for(db_url)
    holder = engine.connect()
    try:
        def one_statement_ran() -> bool:
            with engine.connect() as conn:
                return progress_rows(conn).get(BOUNDARY) == (1, 3)

        wait_until(lambda: one_statement_ran() or run.poll() is not None, 60, "progress 1 of 3")
        assert run.poll() is None, run.communicate()
        if db_kind != "sqlite":
            hold_progress_table(holder, db_kind)  # the slow CREATE is running (1 s)
            probe = progress_write_waits(db_url, db_kind)
            wait_until(lambda: probe() or run.poll() is not None, 30, "the progress write")
            assert run.poll() is None, run.communicate()
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        assert run.returncode == -signal.SIGKILL
        if db_kind != "sqlite":
            # The dead client's progress UPDATE never arrived: end its sessions (the
            # waiting UPDATE with them) before the lock is released.
            end_sessions_but(db_url, db_kind, session_id(holder, db_kind))
    finally:
        if db_kind == "mysql":
            holder.exec_driver_sql("UNLOCK TABLES")
        holder.rollback()
        holder.close()
        engine.dispose()
    end_orphan_sessions(db_url, db_kind)
    set_knob(db_url)
    states = snapshot(db_url, db_kind, frozenset({BOUNDARY}), BOUNDARY_EFFECTS)
    # 1 of 3 recorded everywhere; on PostgreSQL/MySQL statement 2 did commit before the
    # kill, so the report must name it as possibly applied, never as not applied.
    assert states == {BASE: ("completed", None), BOUNDARY: ("in_progress", 1)}
    engine = engine_for(db_url)
    try:
        with engine.connect() as conn:
            assert ("slowt" in table_names(conn)) == (db_kind != "sqlite")
    finally:
        engine.dispose()
    refused = project.cli("migrate")
    assert refused.returncode == 1
    assert "1 of 3 statements had been applied" in refused.stderr
    assert "may have been applied when the run died: 2. `CREATE TABLE slowt" in refused.stderr


def test_killed_during_a_rollback_leaves_it_dirty(
    db_url: str, db_kind: str, tmp_path: Path
) -> None:
    """A rollback run statement by statement killed after its first statement: the
    migration is half rolled back. It stayed ``completed`` (status: no dirty rows,
    migrate: nothing to do, while table b was gone). Now it is ``in_progress``, the
    report names the down statements that ran, and migrate and rollback refuse."""
    root = tmp_path / "migrations"
    write_migration(
        root, BASE, "CREATE TABLE base (id INTEGER);\nINSERT INTO base (id) VALUES (1);\n",
        "DROP TABLE base;\n",
    )
    write_migration(
        root, SLOW_AB, "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\n",
        "DROP TABLE b;\n" + slow_statement(db_kind, "down") + "DROP TABLE a;\n",
        "transactional = false\n",
    )
    project = Project(db_url, db_kind, tmp_path, code=False)
    set_knob(db_url)
    assert project.migrate_rest() == [BASE, SLOW_AB]
    set_knob(db_url, "down", 60)
    run = project.cli_start("rollback", "--steps", "1", "--lock-timeout", "30")
    engine = engine_for(db_url)

    def one_statement_ran() -> bool:
        with engine.connect() as conn:
            return progress_rows(conn).get(SLOW_AB) == (1, 3)

    try:
        wait_until(lambda: one_statement_ran() or run.poll() is not None, 60, "progress 1 of 3")
    finally:
        engine.dispose()
    assert run.poll() is None, run.communicate()
    project.kill(run)
    set_knob(db_url)
    engine = engine_for(db_url)
    try:
        with engine.connect() as conn:
            assert {row.id: row.status for row in tracking_rows(conn)} == {
                BASE: "completed", SLOW_AB: "in_progress"}
            tables = table_names(conn)
            assert "a" in tables and "b" not in tables
    finally:
        engine.dispose()
    status = project.cli("status")
    assert f"{SLOW_AB} is in_progress: its rollback (died)" in status.stdout, status.stdout
    assert "1 of 3 down.sql statements had been applied: 1. `DROP TABLE b`" in status.stdout
    refused = project.cli("migrate", "--lock-timeout", "30")
    assert refused.returncode == 1 and f"{SLOW_AB} is in_progress" in refused.stderr, refused
    refused = project.cli("rollback", "--steps", "1", "--lock-timeout", "30")
    assert refused.returncode == 1 and f"{SLOW_AB} is in_progress" in refused.stderr, refused
