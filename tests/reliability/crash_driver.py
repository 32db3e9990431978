"""A migration run to be killed: ``python crash_driver.py URL SOURCE PAUSE``.

``SOURCE`` is a migrations folder, or ``code`` for the Python migrations below (SQLite has
no sleep function, so there the slow step is Python). ``PAUSE`` is ``none``,
``before_all`` or ``before:<id>``: the run writes the marker ``paused`` in
``$SWITCHY_CRASH_MARKERS`` at that point and then waits to be killed. The code migrations
write the marker ``<name>`` once their first statement ran; the one named
``$SWITCHY_CRASH_SLOW`` then sleeps ``$SWITCHY_CRASH_SLEEP`` seconds. Each migration the
run applies is printed as ``applied <id>``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy.engine import Connection

from switchy_guard.discovery import CodeMigrations
from switchy_guard.model.plan import Plan, PlannedMigration
from switchy_guard.runtime.runner import Hooks, Migrator

BASE = "2024-01-01-000000_base"
SLOW_AB = "2024-01-02-000000_slow_ab"
SLOW_C = "2024-01-03-000000_slow_c"


def _marker(name: str) -> None:
    folder = os.environ.get("SWITCHY_CRASH_MARKERS")
    if folder:
        (Path(folder) / name).write_text(str(os.getpid()), encoding="utf-8")


def _slow(name: str) -> None:
    if os.environ.get("SWITCHY_CRASH_SLOW") == name:
        time.sleep(float(os.environ.get("SWITCHY_CRASH_SLEEP", "0")))


def slow_ab(conn: Connection) -> None:
    """CREATE TABLE a; <slow>; CREATE TABLE b; INSERT INTO b."""
    conn.exec_driver_sql("CREATE TABLE a (id INTEGER)")
    _marker("slow_ab")
    _slow("slow_ab")
    conn.exec_driver_sql("CREATE TABLE b (id INTEGER)")
    conn.exec_driver_sql("INSERT INTO b (id) VALUES (2)")


def slow_c(conn: Connection) -> None:
    """CREATE TABLE c; INSERT INTO c; <slow>; CREATE TABLE d."""
    conn.exec_driver_sql("CREATE TABLE c (id INTEGER)")
    conn.exec_driver_sql("INSERT INTO c (id) VALUES (3)")
    _marker("slow_c")
    _slow("slow_c")
    conn.exec_driver_sql("CREATE TABLE d (id INTEGER)")


def code_migrations() -> CodeMigrations:
    """The same three migrations as the SQL folder, with the slow steps in Python."""
    registry = CodeMigrations("crash")
    registry.add_sql(BASE, "CREATE TABLE base (id INTEGER);\nINSERT INTO base (id) VALUES (1);\n")
    registry.add(SLOW_AB, slow_ab)
    registry.add(SLOW_C, slow_c)
    return registry


def main(argv: list[str]) -> int:
    """Migrate ``URL`` from ``SOURCE``, pausing (to be killed) where ``PAUSE`` says."""
    url, source, pause = argv

    def hold(where: str) -> None:
        _marker("paused")
        print(f"paused {where}", flush=True)
        time.sleep(600)

    def before_all(plan: Plan) -> None:
        if pause == "before_all":
            hold("before_all")

    def before_each(planned: PlannedMigration) -> None:
        if pause == f"before:{planned.migration.id}":
            hold(pause)

    migrator = Migrator(
        code_migrations() if source == "code" else source,
        url,
        hooks=Hooks(before_all=before_all, before_each=before_each),
        lock_timeout=60,
    )
    result = migrator.migrate()
    for migration_id in result.done:
        print(f"applied {migration_id}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
