"""Type changes per dialect: which lose data (SG308), which rewrite the table (SG405),
which copy it on MySQL (SG409). Volatile defaults (SG408) are in test_volatility.py."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules.types import Rewrite, type_change
from tests.unit.rules.helpers import S, findings_for
from tests.unit.rules.helpers import codes_after as codes

P, M = "postgres", "mysql"

#: Type pairs and what each does, per dialect: (old, new, dialect, lossy, rewrite).
#: Rewrites measured on PostgreSQL 15.18 (relfilenode) and MariaDB 10.11 (ALGORITHM
#: accepted); tests/integration/test_type_rewrites.py measures the key ones again.
PAIRS: tuple[tuple[str, str, str, bool, Rewrite], ...] = (
    ("timestamp", "timestamptz", "postgres", False, "unless-utc"),
    ("timestamptz", "timestamp", "postgres", False, "unless-utc"),
    ("timestamp(3)", "timestamp(6)", "postgres", False, "no"),
    ("timestamp(6)", "timestamp(0)", "postgres", True, "yes"),
    ("timestamp", "date", "postgres", True, "yes"),
    ("date", "timestamp", "postgres", False, "yes"),
    ("int", "bigint", "postgres", False, "yes"),
    ("smallint", "int", "postgres", False, "yes"),
    ("int", "float", "postgres", False, "yes"),
    ("int", "double precision", "postgres", False, "yes"),
    ("int", "real", "postgres", True, "yes"),  # 2147483647::real = 2147480000 (measured)
    ("bigint", "double precision", "postgres", True, "yes"),  # 2^53 + 1 rounds
    ("bigint", "int", "postgres", True, "yes"),
    ("int", "numeric", "postgres", False, "yes"),
    ("int", "numeric(9)", "postgres", True, "yes"),
    ("numeric(10,2)", "numeric(12,2)", "postgres", False, "no"),
    ("numeric(10,2)", "numeric", "postgres", False, "no"),
    ("numeric(10,2)", "numeric(12,4)", "postgres", False, "yes"),
    ("numeric(10,2)", "numeric(11,4)", "postgres", True, "yes"),
    ("numeric(10,2)", "numeric(10,0)", "postgres", True, "yes"),
    ("numeric(9,0)", "int", "postgres", False, "yes"),
    ("numeric(10,2)", "int", "postgres", True, "yes"),
    ("float", "int", "postgres", True, "yes"),
    ("double precision", "real", "postgres", True, "yes"),
    ("text", "int", "postgres", True, "yes"),
    ("text", "varchar(10)", "postgres", True, "yes"),
    ("text", "varchar", "postgres", False, "no"),
    ("varchar", "text", "postgres", False, "no"),
    ("varchar(10)", "varchar(20)", "postgres", False, "no"),
    ("varchar(10)", "text", "postgres", False, "no"),
    ("varchar(20)", "varchar(10)", "postgres", True, "yes"),
    ("char(10)", "text", "postgres", False, "yes"),
    ("char(10)", "varchar(20)", "postgres", False, "yes"),
    ("char(10)", "char(20)", "postgres", False, "yes"),
    ("varchar(10)", "char(20)", "postgres", False, "yes"),
    ("int", "text", "postgres", False, "yes"),
    ("bigint", "varchar(10)", "postgres", True, "yes"),
    ("text", "uuid", "postgres", True, "yes"),
    ("uuid", "text", "postgres", False, "yes"),
    ("json", "jsonb", "postgres", False, "yes"),
    ("cidr", "inet", "postgres", False, "no"),
    ("bit varying(5)", "bit varying(10)", "postgres", False, "no"),
    ("int", "boolean", "postgres", True, "yes"),
    ("int", "int unsigned", "mysql", True, "yes"),
    ("int unsigned", "bigint", "mysql", False, "yes"),
    ("int", "bigint", "mysql", False, "yes"),
    ("tinyint", "smallint", "mysql", False, "yes"),
    ("bigint", "int", "mysql", True, "yes"),
    ("int", "double", "mysql", False, "yes"),
    ("int", "real", "mysql", False, "yes"),  # MySQL's REAL is DOUBLE
    ("int", "float", "mysql", True, "yes"),  # 2147483647 became 2147483648 (measured)
    ("decimal(10,2)", "decimal(12,2)", "mysql", False, "yes"),
    ("decimal", "int", "mysql", True, "yes"),  # DECIMAL is DECIMAL(10, 0)
    ("varchar(10)", "varchar(20)", "mysql", False, "no"),
    ("varchar(10)", "varchar(63)", "mysql", False, "no"),
    ("varchar(300)", "varchar(500)", "mysql", False, "no"),
    ("varchar(255)", "varchar(500)", "mysql", False, "yes"),  # latin1: 1 → 2 length bytes
    ("varchar(20)", "varchar(10)", "mysql", True, "yes"),
    ("varchar(10)", "text", "mysql", False, "yes"),
    ("text", "mediumtext", "mysql", False, "yes"),
    ("longtext", "text", "mysql", True, "yes"),
    ("char(10)", "varchar(10)", "mysql", False, "yes"),
    ("enum('a','b')", "enum('a','b','c')", "mysql", False, "no"),
    ("enum('a','b')", "enum('c','a','b')", "mysql", False, "yes"),
    ("enum('a','b')", "enum('a')", "mysql", True, "yes"),
    ("varchar(10)", "enum('a','b')", "mysql", True, "yes"),
    ("datetime", "timestamp", "mysql", True, "yes"),  # TIMESTAMP: 1970-2038 only
    ("timestamp", "datetime", "mysql", False, "yes"),
)


@pytest.mark.parametrize(("old", "new", "dialect", "lossy", "rewrite"), PAIRS)
def test_the_pairs_table(old: str, new: str, dialect: str, lossy: bool, rewrite: str) -> None:
    assert type_change(old, new, dialect) == (type_change(old, new, dialect).__class__(
        lossy, rewrite))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dialect", "old", "new"),
    [
        (P, "timestamp", "timestamptz"),
        (P, "timestamp without time zone", "timestamp with time zone"),
        (P, "int", "float"),
        (P, "integer", "double precision"),
        (P, "int", "bigint"),
        (M, "INT", "DOUBLE"),
        (M, "INT", "BIGINT"),
        (M, "DATETIME", "DATETIME(6)"),
    ],
)
def test_sg308_is_quiet_on_changes_that_lose_nothing(dialect: str, old: str, new: str) -> None:
    alter = ("ALTER TABLE t ALTER COLUMN c TYPE {}" if dialect == P
             else "ALTER TABLE t MODIFY c {}").format(new)
    found = codes(f"CREATE TABLE t (id int, c {old})", alter, dialect)
    assert "SG308" not in found
    assert "SG405" in found or "SG409" in found  # still a rewrite or copy


@pytest.mark.parametrize(
    ("dialect", "old", "new"),
    [
        (P, "text", "varchar(10)"),
        (P, "bigint", "int"),
        (P, "numeric(10,2)", "numeric(10,0)"),
        (P, "numeric(10,2)", "numeric(11,4)"),
        (P, "float", "int"),
        (P, "double precision", "bigint"),
        (P, "text", "mood"),  # an enum type of the history
        (P, "text", "integer"),
        (P, "timestamptz", "date"),
        (M, "TEXT", "ENUM('a','b')"),
        (M, "INT", "FLOAT"),  # single precision: 2147483647 becomes 2147483648 (measured)
        (M, "BIGINT", "INT"),
        (M, "DATETIME", "TIMESTAMP"),  # 1970-2038 only
        (M, "ENUM('a','b','c')", "ENUM('a','b')"),
    ],
)
def test_sg308_fires_on_lossy_changes(dialect: str, old: str, new: str) -> None:
    base = f"CREATE TABLE t (id int, c {old})"
    if dialect == P:
        base = "CREATE TYPE mood AS ENUM ('ok', 'sad');\n" + base
    alter = ("ALTER TABLE t ALTER COLUMN c TYPE {}" if dialect == P
             else "ALTER TABLE t MODIFY c {}").format(new)
    assert "SG308" in codes(base, alter, dialect)


@pytest.mark.parametrize("dialect", [P, M])
def test_an_unknown_old_type_is_sg405_only(dialect: str) -> None:
    alter = ("ALTER TABLE legacy ALTER COLUMN c TYPE varchar(10)" if dialect == P
             else "ALTER TABLE legacy MODIFY c VARCHAR(10)")
    found = codes("CREATE TABLE t (id int)", alter, dialect)
    assert "SG308" not in found
    assert "SG405" in found


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        ("char(10)", "text", True),
        ("char(10)", "varchar(20)", True),
        ("varchar(10)", "varchar(20)", False),
        ("varchar(10)", "text", False),
        ("numeric(10,2)", "numeric(14,2)", False),
        ("timestamp(3)", "timestamp(6)", False),
        ("int", "bigint", True),
    ],
)
def test_sg405_follows_the_measured_rewrites(old: str, new: str, rewrites: bool) -> None:
    found = codes(f"CREATE TABLE t (c {old})", f"ALTER TABLE t ALTER COLUMN c TYPE {new}", P)
    assert ("SG405" in found) is rewrites


def test_timestamp_to_timestamptz_rewrites_unless_the_session_is_utc() -> None:
    base = "CREATE TABLE t (c timestamp)"
    alter = "ALTER TABLE t ALTER COLUMN c TYPE timestamptz"
    assert "SG405" in codes(base, alter, P)
    assert "SG405" not in codes(base, "SET TIME ZONE 'UTC';\n" + alter, P)
    assert "SG405" not in codes(base, "SET timezone = 'Etc/UTC';\n" + alter, P)
    assert "SG405" in codes(base, "SET TIME ZONE 'Europe/London';\n" + alter, P)
    assert "SG405" in codes(base, "SET TIME ZONE 'UTC';\nSET TIME ZONE 'Europe/Berlin';\n"
                            + alter, P)


@pytest.mark.parametrize(
    ("old", "new", "copies"),
    [
        ("VARCHAR(10)", "VARCHAR(20)", False),
        ("VARCHAR(300)", "VARCHAR(500)", False),
        ("VARCHAR(255)", "VARCHAR(500)", True),
        ("ENUM('a','b')", "ENUM('a','b','c')", False),
        ("ENUM('a','b')", "ENUM('c','a','b')", True),
        ("INT", "BIGINT", True),
    ],
)
def test_sg409_follows_mysql_in_place_changes(old: str, new: str, copies: bool) -> None:
    found = codes(f"CREATE TABLE t (c {old})", f"ALTER TABLE t MODIFY c {new}", M)
    assert ("SG409" in found) is copies


@pytest.mark.parametrize(
    ("dialect", "sql", "codes"),
    [
        # A rename that restates the column's type (vaultwarden's MySQL history) changes
        # no type: MySQL renames in place, without copying the table.
        (M, "ALTER TABLE devices CHANGE COLUMN type atype INTEGER NOT NULL", {"SG501"}),
        (M, "ALTER TABLE devices CHANGE COLUMN `key` akey TEXT", {"SG501", "SG503"}),
        (M, "ALTER TABLE devices MODIFY type INT NOT NULL", set()),
        (M, "ALTER TABLE devices MODIFY `key` TEXT CHARACTER SET latin1 NOT NULL", {"SG409"}),
        # Negative values do not fit an unsigned int: rejected (SG308).
        (M, "ALTER TABLE devices MODIFY type INT UNSIGNED NOT NULL", {"SG308", "SG405", "SG409"}),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE int4", set()),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE integer USING type + 1", {"SG405"}),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE bigint", {"SG405"}),
    ],
)
def test_restating_a_columns_type_is_no_type_change(dialect: str, sql: str,
                                                     codes: set[str]) -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE devices (uuid CHAR(36) NOT NULL "
                     "PRIMARY KEY, type INTEGER NOT NULL, `key` TEXT NOT NULL)".replace(
                         "`", "`" if dialect == M else '"'), "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    found = validate([base, migration], dialect, plan_ids={migration.id}).findings
    assert {f.code for f in found} - {"SG601"} == codes


@pytest.mark.parametrize("dialect", [P, M, S, None])
def test_a_type_length_of_thousands_of_digits_is_read_not_a_crash(dialect: str | None) -> None:
    """int() refuses more than 4,300 digits: the type comparison raised ValueError."""
    huge = "9" * 5000
    assert "SG308" not in findings_for(
        f"ALTER TABLE users ALTER COLUMN email TYPE varchar({huge})", dialect)
    assert "SG308" in findings_for(
        f"ALTER TABLE users ALTER COLUMN email TYPE varchar(10);\n"
        f"ALTER TABLE users ALTER COLUMN id TYPE numeric({huge}, {huge})", dialect)
