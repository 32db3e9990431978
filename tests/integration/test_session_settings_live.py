"""The migrations' own timeouts reach each migration's transaction on PostgreSQL as one
``set_config`` round trip (bench/session_bench.py), for that transaction only: what a
migration sees, and what the session keeps afterwards, read from a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.retry import Timeouts, pg_set_config
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import write_migration

SEEN = ("INSERT INTO seen SELECT '{id}', current_setting('lock_timeout'), "
        "current_setting('statement_timeout');\n")


@pytest.mark.only_on("postgres")
def test_each_migration_sees_its_timeouts_and_the_session_keeps_none(tmp_path: Path,
                                                                     db_url: str) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_seen",
                    "CREATE TABLE seen (id text, lock_wait text, statement text);\n"
                    + SEEN.format(id="a"))
    write_migration(root, "2024-01-02-000000_again", SEEN.format(id="b"))
    write_migration(root, "2024-01-03-000000_outside", SEEN.format(id="c"),
                    metadata="transactional = false\n")
    migrator = Migrator(str(root), db_url, timeouts=Timeouts(5, 90, 0))
    migrator.migrate()
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT * FROM seen ORDER BY id").all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("a", "5s", "90s"), ("b", "5s", "90s"),
                                        ("c", "5s", "90s")]
    with migrator.engine.connect() as conn:  # the runner's pool: nothing left behind
        after = conn.exec_driver_sql("SELECT current_setting('lock_timeout'), "
                                     "current_setting('statement_timeout')").one()
    assert tuple(after) == ("0", "0")


def test_one_statement_sets_both_or_nothing() -> None:
    assert pg_set_config(Timeouts(None, None, 3)) is None
    assert pg_set_config(Timeouts(1.5, None, None), local=True) == (
        "SELECT set_config('lock_timeout', '1500ms', true)")
    assert pg_set_config(Timeouts(5, 90, None)) == (
        "SELECT set_config('lock_timeout', '5000ms', false), "
        "set_config('statement_timeout', '90000ms', false)")
