"""ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) cannot run in a
transaction block: the runner runs its migration without one, and SG402 says so when the
migration holds other statements."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.runtime.runner import Migrator
from switchy_guard.sql.execution import needs_autocommit
from tests.cli_helpers import write_migration

DETACH = "ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY"


def test_detach_concurrently_needs_autocommit_and_others_do_not() -> None:
    assert needs_autocommit(DETACH, "postgres")
    assert not needs_autocommit("ALTER TABLE measurements DETACH PARTITION m_2020", "postgres")
    assert not needs_autocommit("ALTER TABLE concurrently ADD COLUMN x int", "postgres")


def test_sg402_names_the_statements_that_lose_their_transaction() -> None:
    migration = Migration("2024-01-01-000000_a", f"SELECT 1;\n{DETACH};", "", "a", "b",
                          noop_down=True)
    codes = [f.code for f in validate([migration], "postgres").findings]
    assert "SG402" in codes
    alone = Migration("2024-01-01-000000_a", f"{DETACH};", "", "a", "b", noop_down=True)
    assert "SG402" not in {f.code for f in validate([alone], "postgres").findings}


@pytest.mark.only_on("postgres")
def test_a_detach_concurrently_migration_runs_outside_a_transaction(tmp_path: Path,
                                                                  db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_parts",
                    "CREATE TABLE measurements (at date NOT NULL) PARTITION BY RANGE (at);\n"
                    "CREATE TABLE measurements_2020 PARTITION OF measurements\n"
                    "    FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');\n",
                    "DROP TABLE measurements_2020;\nDROP TABLE measurements;\n")
    write_migration(root, "2024-01-02-000000_detach", f"{DETACH};\n",
                    "ALTER TABLE measurements ATTACH PARTITION measurements_2020\n"
                    "    FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');\n")
    migrator = Migrator(root, db_url)
    try:
        assert migrator.migrate().done == ["2024-01-01-000000_parts", "2024-01-02-000000_detach"]
        with migrator.engine.connect() as conn:
            attached = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'measurements'::regclass"
            ).scalar()
        assert attached == 0
    finally:
        migrator.engine.dispose()
