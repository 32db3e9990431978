"""The version another tool gives each migration, as adoption matches them."""

from __future__ import annotations

import pytest

from switchy_guard.model.migration import Migration
from switchy_guard.runtime.adoption import OtherHistory, _key, plan_adoption, tool_version


@pytest.mark.parametrize(("tool", "migration_id", "version"), [
    ("diesel", "2024-01-10-090000_create_users", "20240110090000"),
    ("diesel", "00000000000000_diesel_initial_setup", "00000000000000"),
    ("golang-migrate", "2024-01-10-090000_create_users", "20240110090000"),
    ("golang-migrate", "000001_create_users", "000001"),
    ("goose", "00001_create_users", "00001"),
    ("sqlx", "20240101120000_create_users", "20240101120000"),
    ("dbmate", "20240101120000_create_users", "20240101120000"),
    ("flyway", "V1.1__create_users", "1.1"),
    ("flyway", "V2_0_1__fix", "2.0.1"),
    ("flyway", "2024-01-10-090000_create_users", "20240110090000"),
    ("golang-migrate", "init_users", None),
    ("alembic", "2024-01-10-090000_create_users", None),
])
def test_tool_version(tool: str, migration_id: str, version: str | None) -> None:
    assert tool_version(tool, migration_id) == version


def test_versions_compare_as_the_tool_compares_them() -> None:
    assert _key("golang-migrate", "000001") == _key("golang-migrate", "1")
    assert _key("flyway", "1.1.0") == _key("flyway", "1.1") != _key("flyway", "1.10")
    assert _key("diesel", "0001") != _key("diesel", "1")  # Diesel matches the text


def _migration(migration_id: str) -> Migration:
    return Migration(migration_id, "SELECT 1", None, "0" * 64, "0" * 64)


def test_two_migrations_with_one_version_are_refused_by_name() -> None:
    migrations = [_migration("000001_a"), _migration("1_b"), _migration("000002_c")]
    history = OtherHistory("goose", "goose_db_version", applied=["1", "2"])
    adoption = plan_adoption(history, migrations)
    assert adoption.refusals == ["version 1 matches 2 migrations here (000001_a, 1_b)"]


def test_golang_migrate_adopts_every_migration_up_to_its_version() -> None:
    migrations = [_migration(f"00000{n}_m{n}") for n in (1, 2, 3)]
    adoption = plan_adoption(OtherHistory("golang-migrate", "schema_migrations", up_to="2"),
                             migrations)
    assert adoption.adopt == ["000001_m1", "000002_m2"] and not adoption.refusals
