"""The demo: check, plan and migrate the example project on a fresh SQLite file.

Run with ``make demo`` (or ``python examples/demo.py`` once switchy-guard is installed).
Every step is the real command line, run as a user would type it.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from switchy_guard.cli.main import main

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "project" / "migrations"


def run(*args: str, expect: int = 0) -> int:
    """Print the command, run it, and stop the demo if its exit code is not ``expect``."""
    print(f"\n$ switchy-guard {shlex.join(args)}", flush=True)
    code = main(list(args))
    if code != 0:
        print(f"(exit code {code})", flush=True)
    if code != expect:
        raise SystemExit(code or 1)
    return code


def demo(workdir: Path) -> None:
    """The demo's steps on a database file in ``workdir``."""
    database = f"sqlite:///{workdir / 'demo.db'}"
    common = ["-m", str(MIGRATIONS), "-d", database, "--no-color"]
    print(f"Demo database: {workdir / 'demo.db'}")
    print("1. Check the migrations for hazards before anything runs (no database needed):")
    run("check", "-m", str(MIGRATIONS), "--dialect", "sqlite", "--no-color")
    print("\n   A fresh database: every migration is pending.")
    run("status", *common)
    print("\n2. The plan: what migrate would do, and to what, without changing anything:")
    run("plan", *common)
    print("\n3. Apply them (each in its own transaction, under the migration lock):")
    run("migrate", *common)
    print("\n4. The database now:")
    run("list", *common)
    run("status", *common)
    print("\n5. Roll back the newest migration, then re-apply it:")
    run("rollback", "--steps", "1", *common)
    run("migrate", *common)
    print("\n6. The same rollback under the production policy: it drops a column, so the")
    print("   gate wants a backup acknowledged (--ack-backup) and a typed confirmation")
    print("   (--confirm production); without them nothing runs (exit 1):")
    run("rollback", "--steps", "1", "--env", "production", *common, expect=1)
    print("\nDone: 4 migrations applied, one rolled back and re-applied, status clean;")
    print("the production gate refused the unconfirmed, unbacked-up rollback.")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="switchy-guard-demo-") as tmp:
        demo(Path(tmp))
    sys.exit(0)
