"""Server-version-aware rules: the version (``--server-version`` or the live server's)
reaches the rules through validate(); None (unknown) keeps today's findings."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

SETUP = "CREATE TABLE users (id int);\n"


def _codes(sql: str, dialect: str, version: tuple[int, ...] | None) -> list[tuple[str, str]]:
    migrations = [Migration("2024-01-01-000000_a", SETUP, "", "a", "b", noop_down=True),
                  Migration("2024-01-02-000000_b", sql, "", "a", "b", noop_down=True)]
    result = validate(migrations, dialect, plan_ids={"2024-01-02-000000_b"},
                      server_version=version)
    return [(f.code, f.message) for f in result.findings if f.code in ("SG408", "SG409")]


@pytest.mark.parametrize(("version", "found"), [
    (None, False), ((15, 4), False), ((11, 0), False), ((10, 23), True), ((9, 6, 24), True),
])
def test_constant_default_rewrites_before_postgres_11(version: tuple[int, ...] | None,
                                                      found: bool) -> None:
    codes = _codes("ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0;\n", "postgres",
                   version)
    assert bool(codes) is found
    if found:
        assert "before PostgreSQL 11" in codes[0][1] and codes[0][0] == "SG408"


def test_null_default_is_no_rewrite_before_11() -> None:
    assert _codes("ALTER TABLE users ADD COLUMN n int DEFAULT NULL;\n", "postgres", (10, 5)) \
        == []


@pytest.mark.parametrize(("sql", "version", "found"), [
    ("ALTER TABLE users ADD COLUMN note text;\n", None, False),
    ("ALTER TABLE users ADD COLUMN note text;\n", (8, 0, 36), False),
    ("ALTER TABLE users ADD COLUMN note text;\n", (8, 0, 11), True),
    ("ALTER TABLE users ADD COLUMN note text;\n", (5, 7, 44), True),
    ("ALTER TABLE users ADD COLUMN note text;\n", (10, 11, 6), False),
    ("ALTER TABLE users ADD COLUMN note text;\n", (10, 2, 40), True),
    ("ALTER TABLE users ADD COLUMN note text AFTER id;\n", (10, 3, 39), True),
    ("ALTER TABLE users ADD COLUMN note text AFTER id;\n", (10, 4, 0), False),
    ("ALTER TABLE users ADD COLUMN note text FIRST;\n", (8, 0, 28), True),
])
def test_instant_add_column_by_mysql_and_mariadb_version(
        sql: str, version: tuple[int, ...] | None, found: bool) -> None:
    codes = _codes(sql, "mysql", version)
    assert bool(codes) is found, codes
    if found:
        assert codes[0][0] == "SG409" and "not instant" in codes[0][1]
        assert ("MariaDB" if version and version[0] >= 10 else "MySQL") in codes[0][1]
