"""Using switchy-guard from Python: migrate, inspect, roll back.

    python examples/basic_usage.py [DATABASE_URL]

Without a URL it uses a temporary SQLite file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from switchy_guard import Hooks, Migrator, Steps

MIGRATIONS = Path(__file__).resolve().parent / "project" / "migrations"


def run(database_url: str) -> list[str]:
    """Apply the example migrations, roll one back, and return the applied ids."""
    applied: list[str] = []
    hooks = Hooks(after_each=lambda planned, seconds: applied.append(planned.migration.id))
    migrator = Migrator(MIGRATIONS, database_url, hooks=hooks)

    state = migrator.state()
    print(f"pending before: {[m.id for m in state.pending()]}")

    migrator.migrate()
    print(f"applied: {applied}")

    migrator.rollback(Steps(1))
    state = migrator.state()
    print(f"after rolling back one: {len(state.applied())} applied, {len(state.pending())} pending")

    migrator.migrate()
    return [entry.id for entry in migrator.state().applied()]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(run(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(run(f"sqlite:///{Path(tmp) / 'example.db'}"))
