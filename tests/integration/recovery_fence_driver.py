"""A recovery verb that waits once it holds the migration lock:
``python recovery_fence_driver.py URL VERB``.

``VERB`` is ``mark-completed``, ``mark-failed``, ``mark-all-completed``,
``mark-all-completed-drop`` or ``adopt-checksums``, run on the migrations of
:data:`MIGRATIONS` (the lock taken by the verb itself, as on the command line). Under
the lock taken, before anything is read or written, it writes the marker ``inside`` into
``$FENCE_MARKERS`` and waits (60 s at most) for the file ``release`` there, then goes on.
Like the command line, it exits with the error's exit code and its one line on stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from switchy_guard.discovery import CodeMigrations
from switchy_guard.errors import SwitchyError
from switchy_guard.runtime.lock import HeldLock
from switchy_guard.runtime.recovery import adopt_checksums, mark, mark_all_completed
from switchy_guard.runtime.runner import Migrator

FIRST = "2024-01-01-000000_first"
SECOND = "2024-01-02-000000_second"


def migrations() -> CodeMigrations:
    """Two SQL migrations; the second creates nothing, so mark-completed's check of
    what it creates passes and the write itself meets the fence."""
    registry = CodeMigrations("recovery-fence")
    registry.add_sql(FIRST, "CREATE TABLE first_t (id INTEGER);\n")
    registry.add_sql(SECOND, "UPDATE first_t SET id = 2 WHERE id = 1;\n")
    return registry


def _pause_once_locked(migrator: Migrator) -> None:
    take = migrator.locked
    folder = Path(os.environ["FENCE_MARKERS"])

    @contextmanager
    def locked_then_wait(lock: bool | HeldLock = True) -> Iterator[HeldLock]:
        with take(lock) as held:
            (folder / "inside").write_text(str(os.getpid()), encoding="utf-8")
            deadline = time.monotonic() + 60
            while not (folder / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            yield held

    migrator.locked = locked_then_wait  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> int:
    """Run ``VERB`` on ``URL`` (see the module's docstring)."""
    url, verb = argv
    # As the command line does: the pool's note on the broken lock session is not ours.
    logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
    migrator = Migrator(migrations(), url, lock_timeout=60)
    _pause_once_locked(migrator)
    try:
        if verb in ("mark-completed", "mark-failed"):
            mark(migrator, SECOND, "completed" if verb == "mark-completed" else "failed",
                 reason="by hand", command=verb)
        elif verb.startswith("mark-all-completed"):
            mark_all_completed(migrator, "all", drop=verb.endswith("-drop"), command=verb)
        else:
            adopt_checksums(migrator, command=verb)
    except SwitchyError as error:
        print(f"error: {error.one_line()}", file=sys.stderr, flush=True)
        return error.exit_code
    finally:
        migrator.engine.dispose()
    print("written", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
