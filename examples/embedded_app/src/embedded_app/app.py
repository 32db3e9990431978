"""Start-up: bring the database schema up to date, then do the application's work.

The migrations live in ``embedded_app/migrations/<sqlite|postgres>/<id>/``, one tree per
database as MoosicBox keeps them, and are checksummed as MoosicBox's raw-SQL code
migrations (``exec-raw``), so a database the Rust tool migrated is recognised as such.
"""

from __future__ import annotations

import sys

from sqlalchemy import text

from switchy_guard import Migrator, SwitchyError

MIGRATIONS = "embedded_app:migrations"
TABLE = "__embedded_app_migrations"


def main(argv: list[str] | None = None) -> int:
    """Migrate, record a visit and print what happened."""
    args = sys.argv[1:] if argv is None else argv
    database_url = args[0] if args else "sqlite:///embedded_app.db"
    try:
        migrator = Migrator(MIGRATIONS, database_url, table=TABLE, checksum_mode="exec-raw")
        applied = migrator.migrate().done
    except SwitchyError as error:
        print(f"cannot start: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    with migrator.engine.begin() as conn:
        conn.execute(text("INSERT INTO visits (note) VALUES (:note)"), {"note": "started"})
        visits = conn.execute(text("SELECT COUNT(*) FROM visits")).scalar()
    state = migrator.state()
    print(f"applied at start-up: {applied}")
    print(f"schema: {len(state.applied())} applied, {len(state.pending())} pending")
    print(f"visits: {visits}")
    return 0
