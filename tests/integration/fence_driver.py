"""A migrate run whose migration waits part way: ``python fence_driver.py URL MODE``.

``MODE`` is ``tx`` (the waiting migration runs in a transaction where the database
allows it) or ``sbs`` (``transactional = false``: statement by statement). The first
migration creates ``hits``; the second (``GATED``) inserts one row naming this process
into it. With ``$FENCE_MARKERS`` set, the second writes the marker ``inside`` there and
waits until the file ``release`` appears in that folder (60 s at most) before finishing.
Like the command line, it prints ``applied <id>`` for each migration applied and exits
with the error's exit code and its one line on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from switchy_guard.discovery import CodeMigrations
from switchy_guard.errors import SwitchyError
from switchy_guard.runtime.runner import Migrator

BASE = "2024-01-01-000000_hits"
GATED = "2024-01-02-000000_gated"


def _wait_for_release() -> None:
    folder = os.environ.get("FENCE_MARKERS")
    if not folder:
        return
    (Path(folder) / "inside").write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + 60
    while not (Path(folder) / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def gated(conn: Connection) -> None:
    """INSERT one row into hits, waiting (see above) before or after it.

    On a server the row is inserted first, so the run holds an uncommitted (or, statement
    by statement, committed) change while its lock is broken. SQLite allows one writer:
    there it waits first, so the next run is not kept waiting behind this one's write.
    """
    insert = text("INSERT INTO hits (run) VALUES (:run)")
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        conn.execute(insert, {"run": str(os.getpid())})
    _wait_for_release()
    if sqlite:
        conn.execute(insert, {"run": str(os.getpid())})


def migrations(mode: str) -> CodeMigrations:
    """The two migrations of this driver."""
    registry = CodeMigrations("fence")
    registry.add_sql(BASE, "CREATE TABLE hits (run VARCHAR(40) NOT NULL);\n")
    registry.add(GATED, gated, transactional=mode == "tx")
    return registry


def main(argv: list[str]) -> int:
    """Migrate ``URL`` (see the module's docstring)."""
    url, mode = argv
    migrator = Migrator(migrations(mode), url, lock_timeout=60)
    try:
        result = migrator.migrate()
    except SwitchyError as error:
        print(f"error: {error.one_line()}", file=sys.stderr, flush=True)
        return error.exit_code
    finally:
        migrator.engine.dispose()
    for migration_id in result.done:
        print(f"applied {migration_id}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
