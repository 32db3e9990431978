"""The type-change table (rules/types.py) and SG405/SG408/SG409 against the real servers:
PostgreSQL rewrites a table when its pg_class.relfilenode changes; MariaDB copies it when
it refuses ALGORITHM=INSTANT, NOCOPY and INPLACE; a lossy change really loses a value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules.types import rewrites
from switchy_guard.runtime.db import create_database_engine


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    engine = create_database_engine(db_url)
    engine = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _relfilenode(conn: Connection) -> int:
    return int(conn.execute(text("SELECT relfilenode FROM pg_class WHERE relname = 't'"))
               .scalar_one())


def _pg_rewritten(conn: Connection, setup: str, change: str, timezone: str = "UTC") -> bool:
    conn.execute(text("DROP TABLE IF EXISTS t"))
    for statement in setup.split(";\n"):
        conn.execute(text(statement))
    conn.execute(text(f"SET TIME ZONE '{timezone}'"))
    before = _relfilenode(conn)
    conn.execute(text(change))
    return _relfilenode(conn) != before


def _sg(setup: str, change: str, dialect: str) -> set[str]:
    base = Migration("2024-01-01-000000_base", setup, "", "a", "b")
    case = Migration("2024-01-02-000000_case", change, "", "a", "b")
    return {f.code for f in validate([base, case], dialect).findings
            if f.migration == case.id}


PG_PAIRS = [
    ("char(10)", "text"), ("char(10)", "varchar(20)"), ("varchar(10)", "varchar(20)"),
    ("varchar(10)", "text"), ("int", "bigint"), ("numeric(10,2)", "numeric(12,2)"),
    ("numeric(10,2)", "numeric(12,4)"), ("timestamp(3)", "timestamp(6)"), ("json", "jsonb"),
    ("timestamp", "timestamptz"), ("timestamptz", "timestamp"),
]


@pytest.mark.only_on("postgres")
@pytest.mark.parametrize(("old", "new"), PG_PAIRS)
def test_postgres_rewrites_what_the_table_says(conn: Connection, old: str, new: str) -> None:
    setup = f"CREATE TABLE t (c {old})"
    change = f"ALTER TABLE t ALTER COLUMN c TYPE {new}"
    expected = rewrites(old, new, "postgres")
    in_utc = _pg_rewritten(conn, setup, change, "UTC")
    elsewhere = _pg_rewritten(conn, setup, change, "Europe/Berlin")
    # Measured on PostgreSQL 15: timestamp <-> timestamptz is rewritten unless the
    # session's TimeZone has a fixed zero offset.
    assert (in_utc, elsewhere) == {"no": (False, False), "yes": (True, True),
                                   "unless-utc": (False, True)}[expected]
    assert ("SG405" in _sg(setup, change, "postgres")) is elsewhere


@pytest.mark.only_on("postgres")
@pytest.mark.parametrize(
    ("function", "rewritten"),
    [
        ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$",
         True),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 1; END $$",
         False),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT 1 $$", False),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql VOLATILE AS "
         "$$ SELECT extract(epoch FROM clock_timestamp())::int $$", True),
    ],
)
def test_postgres_volatile_default_rewrites_as_sg408_says(conn: Connection, function: str,
                                                          rewritten: bool) -> None:
    conn.execute(text("DROP TABLE IF EXISTS t"))
    conn.execute(text("DROP FUNCTION IF EXISTS f()"))
    conn.execute(text(function))
    setup = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1)"
    change = "ALTER TABLE t ADD COLUMN d int DEFAULT f()"
    assert _pg_rewritten(conn, setup, change) is rewritten
    assert ("SG408" in _sg(function + ";\n" + setup, change, "postgres")) is rewritten


@pytest.mark.only_on("postgres")
def test_postgres_int_to_double_keeps_every_value_and_to_real_does_not(
        conn: Connection) -> None:
    values = conn.execute(text(
        "SELECT 2147483647::int::float::numeric, 2147483647::int::real::numeric")).one()
    assert values[0] == 2147483647
    assert values[1] != 2147483647
    setup = "CREATE TABLE t (c int)"
    assert "SG308" not in _sg(setup, "ALTER TABLE t ALTER COLUMN c TYPE float", "postgres")
    assert "SG308" in _sg(setup, "ALTER TABLE t ALTER COLUMN c TYPE real", "postgres")


def _mysql_copies(conn: Connection, old: str, new: str) -> bool:
    for algorithm in ("INSTANT", "NOCOPY", "INPLACE"):
        conn.execute(text("DROP TABLE IF EXISTS t"))
        conn.execute(text(f"CREATE TABLE t (id int PRIMARY KEY, c {old}) ENGINE=InnoDB "
                          "DEFAULT CHARSET=latin1"))
        try:
            conn.execute(text(f"ALTER TABLE t MODIFY c {new}, ALGORITHM={algorithm}"))
        except Exception:  # the server refuses that algorithm
            continue
        return False
    return True


@pytest.mark.only_on("mysql")
@pytest.mark.parametrize(
    ("old", "new"),
    [("VARCHAR(10)", "VARCHAR(20)"), ("VARCHAR(300)", "VARCHAR(500)"),
     ("VARCHAR(255)", "VARCHAR(500)"), ("INT", "BIGINT"), ("CHAR(10)", "VARCHAR(10)"),
     ("ENUM('a','b')", "ENUM('a','b','c')"), ("ENUM('a','b')", "ENUM('c','a','b')"),
     # a SET's ninth member takes a second byte: copied; its eighth does not
     ("SET('a','b','c','d','e','f','g')", "SET('a','b','c','d','e','f','g','h')"),
     ("SET('a','b','c','d','e','f','g','h')", "SET('a','b','c','d','e','f','g','h','i')")],
)
def test_mariadb_copies_what_the_table_says(conn: Connection, old: str, new: str) -> None:
    copies = _mysql_copies(conn, old, new)
    assert copies is (rewrites(old, new, "mysql") == "yes")
    sql = f"ALTER TABLE t MODIFY c {new}"
    assert ("SG409" in _sg(f"CREATE TABLE t (c {old})", sql, "mysql")) is copies


@pytest.mark.only_on("mysql")
def test_mariadb_int_to_float_rounds_and_sg308_says_so(conn: Connection) -> None:
    conn.execute(text("DROP TABLE IF EXISTS t"))
    conn.execute(text("CREATE TABLE t (c INT)"))
    conn.execute(text("INSERT INTO t VALUES (2147483647)"))
    conn.execute(text("ALTER TABLE t MODIFY c FLOAT"))
    assert conn.execute(text("SELECT CAST(c AS DECIMAL(20, 0)) FROM t")).scalar_one() \
        != 2147483647
    assert "SG308" in _sg("CREATE TABLE t (c INT)", "ALTER TABLE t MODIFY c FLOAT", "mysql")
    assert "SG308" not in _sg("CREATE TABLE t (c INT)", "ALTER TABLE t MODIFY c DOUBLE",
                              "mysql")


@pytest.mark.only_on("mysql")
@pytest.mark.parametrize(
    ("old", "value", "new"),
    [("YEAR", "2024", "TINYINT UNSIGNED"), ("LONGBLOB", "REPEAT('x', 300)", "TINYBLOB"),
     ("BIT(8)", "b'11111111'", "BIT(4)"), ("DECIMAL(5,2)", "-1.5", "DECIMAL(6,2) UNSIGNED"),
     ("SET('a','b')", "'a,b'", "ENUM('a','b')")],
)
def test_mariadb_loses_a_value_where_sg308_says(conn: Connection, old: str, value: str,
                                                new: str) -> None:
    """The server rejects (strict mode) or changes the value: SG308 was silent on each."""
    conn.execute(text("DROP TABLE IF EXISTS t"))
    conn.execute(text(f"CREATE TABLE t (c {old})"))
    conn.execute(text(f"INSERT INTO t VALUES ({value})"))
    before = conn.execute(text("SELECT HEX(c) FROM t")).scalar_one()
    try:
        conn.execute(text(f"ALTER TABLE t MODIFY c {new}"))
        after = conn.execute(text("SELECT HEX(c) FROM t")).scalar_one()
    except Exception:  # rejected: the migration fails midway
        after = None
    assert after != before
    assert "SG308" in _sg(f"CREATE TABLE t (c {old})", f"ALTER TABLE t MODIFY c {new}", "mysql")
