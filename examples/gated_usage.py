"""Running migrations through the gates from Python, as the command line does.

    python examples/gated_usage.py [DATABASE_URL]

Without a URL it uses a temporary SQLite file. Under the shipped production policy an
unconfirmed run is refused (nothing applied); confirmed, with a backup acknowledged, it
runs. Both are recorded in the audit journal.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from switchy_guard import GateOptions, Migrator, Refused, UpTo, gated_run, load_policies
from switchy_guard.plan.impact import ImpactReport
from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import connect

MIGRATIONS = Path(__file__).resolve().parent / "project" / "migrations"
TARGET = "2024-01-12-090000_seed_users"


def show(report: ImpactReport) -> None:
    """Print the gate's verdict on the plan."""
    assert report.gate is not None
    print(f"verdict: {report.gate.summary()}")


def run(database_url: str) -> list[str]:
    """Refused without confirmation, then applied with it; the journal's outcomes."""
    migrator = Migrator(MIGRATIONS, database_url)
    choice = load_policies(None).choose("production", None)
    try:
        gated_run(migrator, "up", UpTo(TARGET), GateOptions(choice), show=show)
    except Refused as refused:
        print(f"refused: {refused}")
    confirmed = GateOptions(choice, confirm="production", ack_backup=True,
                            command="examples/gated_usage.py")
    done = gated_run(migrator, "up", UpTo(TARGET), confirmed, show=show).done
    print(f"applied: {done}")
    with connect(migrator.engine) as conn:
        outcomes = [entry.outcome for entry in AuditJournal("__switchy_migrations").entries(conn)]
    print(f"journal: {outcomes}")
    return outcomes


if __name__ == "__main__":
    if len(sys.argv) > 1:
        run(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'example.db'}")
