"""Type changes per dialect: which lose data (SG308), which rewrite the table (SG405),
which copy it on MySQL (SG409); and volatile defaults (SG408) of the history's functions."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules.types import PAIRS, type_change

P, M = "postgres", "mysql"


@pytest.mark.parametrize(("old", "new", "dialect", "lossy", "rewrite"), PAIRS)
def test_the_pairs_table(old: str, new: str, dialect: str, lossy: bool, rewrite: str) -> None:
    assert type_change(old, new, dialect) == (type_change(old, new, dialect).__class__(
        lossy, rewrite))  # type: ignore[arg-type]


def codes(base: str, sql: str, dialect: str) -> set[str]:
    """Codes of ``sql`` in a migration after one (``base``) that made the tables."""
    first = Migration("2024-01-01-000000_base", base, "", "a", "b", noop_down=True)
    second = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    # No plan: each migration is linted on its own, the schema model still learns.
    found = validate([first, second], dialect).findings
    return {f.code for f in found if f.migration == second.id} - {"SG601"}


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


FUNCTIONS = (
    "CREATE FUNCTION vol() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n"
    "CREATE FUNCTION stab() RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 1; END $$;\n"
    "CREATE FUNCTION imm() RETURNS int IMMUTABLE LANGUAGE sql AS $$ SELECT 1 $$;\n"
    "CREATE FUNCTION inl() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT 1 $$;\n"
    "CREATE FUNCTION inl_clock() RETURNS timestamptz LANGUAGE sql VOLATILE AS\n"
    "  $$ SELECT clock_timestamp() $$;\n"
    "CREATE FUNCTION counted() RETURNS int LANGUAGE sql VOLATILE AS\n"
    "  'SELECT count(*)::int FROM pg_class';\n"
    "CREATE TABLE t (id int);\n"
)


@pytest.mark.parametrize(
    ("default", "volatile"),
    [
        ("vol()", True),
        ("stab()", False),
        ("imm()", False),
        ("inl()", False),  # inlined: SELECT 1 is a constant (measured: no rewrite)
        ("inl_clock()", True),  # inlined, but clock_timestamp() is volatile
        ("counted()", True),  # FROM: not inlined, declared VOLATILE
        ("coalesce(vol(), 0)", True),
        ("'vol()'", False),
        ("unknown_fn()", False),  # not in the history: not known to be volatile
    ],
)
def test_sg408_knows_the_historys_volatile_functions(default: str, volatile: bool) -> None:
    found = codes(FUNCTIONS, f"ALTER TABLE t ADD COLUMN d int DEFAULT {default}", P)
    assert ("SG408" in found) is volatile


def test_alter_and_drop_function_update_what_is_known() -> None:
    base = FUNCTIONS + "ALTER FUNCTION vol() STABLE;\nALTER FUNCTION stab() VOLATILE;\n"
    assert "SG408" not in codes(base, "ALTER TABLE t ADD COLUMN d int DEFAULT vol()", P)
    assert "SG408" in codes(base, "ALTER TABLE t ADD COLUMN d int DEFAULT stab()", P)
    dropped = FUNCTIONS + "DROP FUNCTION vol();\n"
    assert "SG408" not in codes(dropped, "ALTER TABLE t ADD COLUMN d int DEFAULT vol()", P)
