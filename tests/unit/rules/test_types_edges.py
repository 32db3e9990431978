"""Type changes at their edges (rules/types.py): how each dialect reads a declared type,
which changes may lose a value (SG308), which rewrite the table on PostgreSQL (SG405) or
copy it on MySQL/MariaDB (SG409), per dialect, at the boundaries the servers document:

- integer ranges (signed and unsigned), MySQL's BIT(M) (an M-bit unsigned value) and YEAR
  (1901-2155); float mantissas (PostgreSQL's float is double, real single; MySQL's FLOAT is
  single, REAL double; FLOAT(p) is single up to p = 24); decimal precision and scale;
- text lengths (MySQL's TINYTEXT/TEXT/MEDIUMTEXT/LONGTEXT and the BLOBs of the same sizes),
  VARCHAR's one- and two-byte length classes (255 bytes; 63 characters in any character set,
  256 and more in every one); fractional seconds; ENUM labels and SET members (storage
  of 1, 2, 3, 4 or 8 bytes);
- PostgreSQL's binary-coercible changes (varchar widened, varchar ↔ text, numeric precision
  up at the same scale, more fractional seconds, cidr → inet, varbit widened), timestamp ↔
  timestamptz in the catalog only under a UTC session.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules.types import (
    ColumnType,
    TypeChange,
    is_lossy,
    is_narrowing,
    is_safe_widening,
    is_same_type,
    parse_type,
    rewrites,
    type_change,
)
from tests.unit.rules.helpers import found

P, M, S = "postgres", "mysql", "sqlite"
INF = math.inf


def _t(family: str, size: float, name: str, **kw: object) -> ColumnType:
    return ColumnType(family, size, name=name, **kw)  # type: ignore[arg-type]


# -- how a declared type is read ---------------------------------------------------------

PARSED = [
    # integers: every spelling, its bits; unsigned, zerofill and signed read off
    ("tinyint", P, _t("int", 8, "tinyint")), ("int1", P, _t("int", 8, "int1")),
    ("smallint", P, _t("int", 16, "smallint")), ("int2", P, _t("int", 16, "int2")),
    ("smallserial", P, _t("int", 16, "smallserial")), ("serial2", P, _t("int", 16, "serial2")),
    ("mediumint", M, _t("int", 24, "mediumint")), ("int3", M, _t("int", 24, "int3")),
    ("int", P, _t("int", 32, "int")), ("INTEGER", P, _t("int", 32, "integer")),
    ("int4", P, _t("int", 32, "int4")), ("serial", P, _t("int", 32, "serial")),
    ("serial4", P, _t("int", 32, "serial4")), ("bigint", P, _t("int", 64, "bigint")),
    ("int8", P, _t("int", 64, "int8")), ("bigserial", P, _t("int", 64, "bigserial")),
    ("serial8", P, _t("int", 64, "serial8")),
    ("INT UNSIGNED", M, _t("int", 32, "int", unsigned=True)),
    ("int(11) unsigned zerofill", M, _t("int", 32, "int", unsigned=True)),
    ("bigint signed", M, _t("int", 64, "bigint")),
    ("`int`", M, _t("int", 32, "int")),
    ("year", M, _t("int", 8, "year", unsigned=True)),
    # bits: PostgreSQL's bit(n) is a padded string of n bits, MySQL's BIT(M) an M-bit number
    ("bit", P, _t("bits", 1, "bit", fixed=True)), ("bit(8)", P, _t("bits", 8, "bit", fixed=True)),
    ("bit varying", P, _t("bits", INF, "bit varying")),
    ("varbit(5)", P, _t("bits", 5, "varbit")),
    ("bit(8)", M, _t("int", 8, "bit", unsigned=True)),
    ("BIT", M, _t("int", 1, "bit", unsigned=True)),
    # floats: mantissa bits
    ("double", M, _t("float", 53, "double")),
    ("double precision", P, _t("float", 53, "double precision")),
    ("float8", P, _t("float", 53, "float8")),
    ("binary_double", P, _t("float", 53, "binary_double")),
    ("float4", P, _t("float", 24, "float4")), ("binary_float", P, _t("float", 24, "binary_float")),
    ("real", P, _t("float", 24, "real")), ("real", M, _t("float", 53, "real")),
    ("float", P, _t("float", 53, "float")), ("float", M, _t("float", 24, "float")),
    ("float(24)", P, _t("float", 24, "float")), ("float(25)", M, _t("float", 53, "float")),
    ("float(1)", M, _t("float", 24, "float")),
    # decimals: precision and scale (PostgreSQL's bare numeric: any; MySQL's: (10, 0))
    ("numeric", P, _t("decimal", INF, "numeric", scale=INF)),
    ("numeric", None, _t("decimal", INF, "numeric", scale=INF)),
    ("decimal", M, _t("decimal", 10, "decimal")),
    ("numeric(10, 2)", P, _t("decimal", 10, "numeric", scale=2)),
    ("decimal(5)", M, _t("decimal", 5, "decimal")),
    ("dec(4,1)", M, _t("decimal", 4, "dec", scale=1)),
    ("fixed(3)", M, _t("decimal", 3, "fixed")),
    ("number(6,2)", P, _t("decimal", 6, "number", scale=2)),
    # text: MySQL's text types hold so many bytes; elsewhere unbounded
    ("tinytext", M, _t("text", 255, "tinytext")), ("text", M, _t("text", 65535, "text")),
    ("mediumtext", M, _t("text", 16777215, "mediumtext")),
    ("longtext", M, _t("text", 4294967295, "longtext")),
    ("long", M, _t("text", 16777215, "long")),
    ("long varchar", M, _t("text", 16777215, "long varchar")),
    ("text", P, _t("text", INF, "text")), ("tinytext", P, _t("text", INF, "tinytext")),
    ("mediumtext", S, _t("text", INF, "mediumtext")),
    ("longtext", None, _t("text", INF, "longtext")),
    ("citext", P, _t("text", INF, "citext")), ("clob", P, _t("text", INF, "clob")),
    ("clob(100)", S, _t("text", INF, "clob")),  # SQLite keeps no length: a CLOB is unbounded
    ("long", P, _t("other:long", 0, "long")),
    ("varchar", P, _t("text", INF, "varchar")), ("VARCHAR(20)", M, _t("text", 20, "varchar")),
    ('"varchar"(20)', P, _t("text", 20, "varchar")),
    ("character varying(5)", P, _t("text", 5, "character varying")),
    ("nvarchar(5)", M, _t("text", 5, "nvarchar")),
    ("national varchar(5)", M, _t("text", 5, "national varchar")),
    ("varchar2(5)", P, _t("text", 5, "varchar2")),
    ("nchar varchar(5)", M, _t("text", 5, "nchar varchar")),
    ("national character varying(5)", M, _t("text", 5, "national character varying")),
    ("string", S, _t("text", INF, "string")), ("varchar(max)", P, _t("text", INF, "varchar")),
    ("char", P, _t("text", 1, "char", fixed=True)),
    ("char(10)", M, _t("text", 10, "char", fixed=True)),
    ("character(3)", P, _t("text", 3, "character", fixed=True)),
    ("nchar(2)", M, _t("text", 2, "nchar", fixed=True)),
    ("national char(2)", M, _t("text", 2, "national char", fixed=True)),
    ("national character(2)", M, _t("text", 2, "national character", fixed=True)),
    ("bpchar", P, _t("text", 1, "bpchar", fixed=True)),
    # enums: MySQL's ENUM and SET list their labels; PostgreSQL's are types of the history
    ("enum('a', 'b')", M, _t("enum", 0, "enum", labels=("a", "b"))),
    ("SET('x','y')", M, _t("enum", 0, "set", labels=("x", "y"))),
    ("enum('a')", P, _t("enum", 0, "enum", labels=("a",))),
    ("set('x')", P, _t("other:set", 0, "set")),
    ("mood", P, _t("other:mood", 0, "mood")),
    # times: fractional-second digits (PostgreSQL: 6 unless said; MySQL: 0)
    ("timestamp", P, _t("timestamp", 6, "timestamp")),
    ("timestamp(3)", P, _t("timestamp", 3, "timestamp")),
    ("timestamp", M, _t("timestamptz", 0, "timestamp")),
    ("timestamp(3)", M, _t("timestamptz", 3, "timestamp")),
    ("timestamp(0)", P, _t("timestamp", 0, "timestamp")),
    ("date", P, _t("date", 0, "date")), ("date", M, _t("date", 0, "date")),
    ("time", P, _t("time", 6, "time")), ("time", M, _t("time", 0, "time")),
    ("time(3)", M, _t("time", 3, "time")),
    ("time without time zone", P, _t("time", 6, "time without time zone")),
    ("timetz", P, _t("timetz", 6, "timetz")), ("time(2) with time zone", P,
                                                _t("timetz", 2, "time with time zone")),
    ("timestamp without time zone", P, _t("timestamp", 6, "timestamp without time zone")),
    ("timestamptz", P, _t("timestamptz", 6, "timestamptz")),
    ("timestamp(3) with time zone", P, _t("timestamptz", 3, "timestamp with time zone")),
    ("datetime", M, _t("timestamp", 0, "datetime")),
    ("datetime(6)", M, _t("timestamp", 6, "datetime")),
    ("interval", P, _t("interval", 6, "interval")),
    # the rest: families of their own, sizes when written
    ("bool", P, _t("bool", 0, "bool")), ("boolean", M, _t("bool", 0, "boolean")),
    ("uuid", P, _t("uuid", 0, "uuid")), ("json", P, _t("json", 0, "json")),
    ("jsonb", P, _t("json", 0, "jsonb")), ("cidr", P, _t("inet", 0, "cidr")),
    ("inet", P, _t("inet", 0, "inet")), ("bytea", P, _t("bytes", INF, "bytea")),
    ("tinyblob", M, _t("bytes", 255, "tinyblob")), ("blob", M, _t("bytes", 65535, "blob")),
    ("mediumblob", M, _t("bytes", 16777215, "mediumblob")),
    ("longblob", M, _t("bytes", 4294967295, "longblob")),
    ("blob", S, _t("bytes", INF, "blob")),
    ("binary", M, _t("bytes", 1, "binary")), ("binary(16)", M, _t("bytes", 16, "binary")),
    ("varbinary(10)", M, _t("bytes", 10, "varbinary")),
    ("int[]", P, _t("other:int[]", 0, "int[]")),
    ("geometry", M, _t("other:geometry", 0, "geometry")),
]


@pytest.mark.parametrize(("text", "dialect", "expected"), PARSED)
def test_parse_type_reads_each_spelling_as_its_dialect_does(
        text: str, dialect: str | None, expected: ColumnType) -> None:
    assert parse_type(text, dialect) == expected


def test_parse_type_reads_the_enum_types_of_the_history() -> None:
    enums: dict[str, tuple[str, ...] | None] = {"mood": ("ok", "sad"), "vague": None}
    assert parse_type("mood", P, enums) == _t("enum", 0, "mood", labels=("ok", "sad"))
    assert parse_type("vague", P, enums) == _t("enum", 0, "vague")
    assert parse_type("other", P, enums) == _t("other:other", 0, "other")


def test_a_parsed_type_is_a_value() -> None:
    column = parse_type("varchar(10)", P)
    assert {column, parse_type("VARCHAR( 10 )", P)} == {column}
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.size = 20  # type: ignore[misc]
    change = type_change("int", "bigint", P)
    assert {change, type_change("int4", "int8", P)} == {change}
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.lossy = True  # type: ignore[misc]


# -- may a value be lost? (SG308) ---------------------------------------------------------

LOSSY = [
    # integer ranges: a wider one, or a signed one into an unsigned one of any width
    ("smallint", "int", P, False), ("int", "smallint", P, True), ("bigint", "int8", P, False),
    ("int", "int", M, False), ("tinyint unsigned", "tinyint", M, True),
    ("tinyint", "tinyint unsigned", M, True), ("tinyint unsigned", "smallint", M, False),
    ("int unsigned", "bigint", M, False), ("int unsigned", "int", M, True),
    ("bigint unsigned", "bigint", M, True), ("mediumint unsigned", "int", M, False),
    ("int", "bigint unsigned", M, True), ("smallint unsigned", "mediumint", M, False),
    # MySQL's BIT(M): an M-bit unsigned number
    ("bit(8)", "bit(16)", M, False), ("bit(8)", "bit(4)", M, True), ("bit(8)", "tinyint", M, True),
    ("bit(7)", "tinyint", M, False), ("int", "bit(8)", M, True), ("bit", "bit(2)", M, False),
    ("bit(25)", "float", M, True), ("bit(24)", "float", M, False),
    ("bit(53)", "double", M, False), ("bit(54)", "double", M, True),
    # MySQL's YEAR: 1901-2155
    ("year", "smallint", M, False), ("year", "tinyint unsigned", M, True),
    ("tinyint unsigned", "year", M, True), ("smallint", "year", M, True),
    ("year", "year", M, False), ("year", "varchar(4)", M, False), ("year", "varchar(3)", M, True),
    # integers into floats: the magnitude's bits against the mantissa's
    ("int", "float", P, False), ("int", "real", P, True), ("int", "float(24)", P, True),
    ("int", "float(25)", P, False), ("smallint", "real", P, False),
    ("mediumint", "float", M, False),
    ("mediumint unsigned", "float", M, False), ("int unsigned", "float", M, True),
    ("int unsigned", "double", M, False), ("bigint", "double precision", P, True),
    ("int", "float", M, True), ("int", "real", M, False),
    # integers into decimals: digits before the point
    ("int", "numeric", P, False), ("int", "numeric(10)", P, False), ("int", "numeric(9)", P, True),
    ("int", "numeric(12,2)", P, False), ("int", "numeric(12,3)", P, True),
    ("smallint", "decimal(5,0)", M, False), ("smallint", "decimal(4,0)", M, True),
    ("bigint", "numeric(19)", P, False), ("bigint", "numeric(18)", P, True),
    ("int unsigned", "decimal(10)", M, False), ("tinyint unsigned", "decimal(3)", M, False),
    ("int", "decimal", M, False), ("bigint", "decimal", M, True),
    # decimals into integers: a fraction, or too many digits; a sign into an unsigned one
    ("numeric(9,0)", "int", P, False), ("numeric(10,0)", "int", P, True),
    ("numeric(9,1)", "int", P, True), ("numeric(18)", "bigint", P, False),
    ("numeric(19)", "bigint", P, True), ("numeric(4)", "smallint", P, False),
    ("numeric(5)", "smallint", P, True), ("numeric", "bigint", P, True),
    ("decimal(5)", "int unsigned", M, True), ("decimal", "bigint", M, False),
    # decimals: integer digits and scale
    ("numeric(10,2)", "numeric(11,2)", P, False), ("numeric(10,2)", "numeric(10,2)", P, False),
    ("numeric(10,2)", "numeric(10,3)", P, True), ("numeric(10,2)", "numeric(11,3)", P, False),
    ("numeric(10,2)", "numeric(12,1)", P, True), ("numeric(10,2)", "numeric(9,2)", P, True),
    ("numeric(10,2)", "numeric", P, False), ("numeric", "numeric(1000,500)", P, True),
    ("decimal", "decimal(10,0)", M, False), ("decimal(10,2)", "decimal", M, True),
    # decimals into floats: 6 digits survive single precision, 15 double
    ("numeric(6,2)", "real", P, False), ("numeric(7,2)", "real", P, True),
    ("numeric(15,2)", "double precision", P, False), ("numeric(16,2)", "double precision", P, True),
    ("decimal(6)", "float", M, False), ("decimal(7)", "float", M, True),
    ("decimal(15)", "double", M, False), ("decimal(16)", "float(25)", M, True),
    ("numeric(6)", "float(24)", P, False), ("numeric(7)", "float(24)", P, True),
    # floats: mantissa bits; into a decimal or an integer: always
    ("real", "double precision", P, False), ("double precision", "real", P, True),
    ("float", "double", M, False), ("double", "float", M, True),
    ("float(24)", "float(25)", M, False),
    ("real", "numeric(30,10)", P, True), ("float", "bigint", P, True), ("real", "int", M, True),
    # booleans into integers keep 0 and 1; anything else into a boolean does not
    ("boolean", "int", P, False), ("bool", "smallint", P, False), ("int", "boolean", P, True),
    ("boolean", "tinyint unsigned", M, False),
    ("varchar(5)", "boolean", P, True), ("uuid", "boolean", P, True),
    # text lengths
    ("varchar(10)", "varchar(10)", P, False), ("varchar(10)", "varchar(9)", P, True),
    ("varchar(10)", "varchar(11)", P, False), ("varchar", "varchar(10)", P, True),
    ("varchar(10)", "text", P, False), ("text", "varchar", P, False),
    ("char(10)", "char(9)", P, True),
    ("text", "tinytext", M, True), ("tinytext", "varchar(255)", M, False),
    ("tinytext", "varchar(254)", M, True), ("text", "varchar(65535)", M, False),
    ("mediumtext", "text", M, True), ("longtext", "mediumtext", M, True),
    ("varchar(16777215)", "mediumtext", M, False), ("long", "mediumtext", M, False),
    ("text", "varchar(10)", P, True), ("varchar(300)", "tinytext", M, True),
    # into text: the longest value's characters
    ("int", "varchar(11)", P, False), ("int", "varchar(10)", P, True),
    ("int unsigned", "varchar(10)", M, False), ("int unsigned", "varchar(9)", M, True),
    ("smallint", "varchar(6)", P, False), ("smallint", "varchar(5)", P, True),
    ("bigint", "varchar(20)", P, False), ("bigint", "varchar(19)", P, True),
    ("tinyint", "varchar(4)", M, False), ("tinyint", "varchar(3)", M, True),
    ("numeric(10,2)", "varchar(12)", P, False), ("numeric(10,2)", "varchar(11)", P, True),
    ("real", "varchar(24)", P, False), ("real", "varchar(23)", P, True),
    ("boolean", "varchar(5)", P, False), ("boolean", "varchar(4)", P, True),
    ("uuid", "varchar(36)", P, False), ("uuid", "varchar(35)", P, True),
    ("date", "varchar(10)", P, False), ("date", "varchar(9)", P, True),
    ("enum('ab','abcd')", "varchar(4)", M, False), ("enum('ab','abcd')", "varchar(3)", M, True),
    ("mood", "varchar(1000)", P, True),  # not an enum of the history: its values unknown
    ("timestamp", "varchar(100)", P, True), ("json", "text", P, False), ("uuid", "text", P, False),
    ("bytea", "varchar(1000)", P, True),
    # text into anything else must parse
    ("text", "int", P, True), ("varchar(3)", "smallint", P, True), ("text", "uuid", P, True),
    ("text", "date", P, True), ("text", "json", P, True), ("text", "bytea", P, True),
    # bytes: lengths, MySQL's BLOBs as their TEXT sizes
    ("varbinary(10)", "varbinary(20)", M, False), ("varbinary(20)", "varbinary(10)", M, True),
    ("varbinary(10)", "blob", M, False), ("longblob", "tinyblob", M, True),
    ("blob", "mediumblob", M, False), ("mediumblob", "blob", M, True),
    ("tinyblob", "varbinary(255)", M, False), ("blob", "varbinary(255)", M, True),
    ("binary(16)", "binary(8)", M, True), ("binary", "binary(2)", M, False),
    ("bytea", "bytea", P, False),
    # bits (PostgreSQL): lengths
    ("bit varying(5)", "bit varying(10)", P, False), ("bit varying(10)", "bit varying(5)", P, True),
    ("bit(8)", "bit(8)", P, False), ("bit varying", "bit varying(64)", P, True),
    # enums: labels kept; a named enum of unknown labels into another
    ("enum('a','b')", "enum('a','b','c')", M, False), ("enum('a','b')", "enum('b','a')", M, False),
    ("enum('a','b')", "enum('a')", M, True), ("enum('a','b')", "enum('a','c')", M, True),
    ("set('a','b')", "set('a','b','c')", M, False), ("set('a','b','c')", "set('a','b')", M, True),
    ("enum('a','b')", "set('a','b')", M, False), ("set('a','b')", "enum('a','b')", M, True),
    ("set('a')", "enum('a')", M, False),
    ("int", "enum('1','2')", M, True), ("varchar(1)", "enum('a')", M, True),
    # times: fractional seconds; timestamp <-> timestamptz; dates into timestamps
    ("timestamp(3)", "timestamp(6)", P, False), ("timestamp(6)", "timestamp(5)", P, True),
    ("timestamp(3)", "timestamp(3)", P, False), ("time(3)", "time(2)", P, True),
    ("time", "time(6)", P, False), ("interval", "interval(3)", P, True),
    ("timestamp", "timestamptz", P, False), ("timestamptz", "timestamp", P, False),
    ("timestamp(3)", "timestamptz(2)", P, True), ("timestamp(3)", "timestamptz(3)", P, False),
    ("timestamptz(6)", "timestamp(5)", P, True), ("time", "timetz", P, False),
    ("timetz", "time", P, False), ("time(4)", "timetz(3)", P, True),
    ("timetz(2)", "time(3)", P, False),
    ("date", "timestamp", P, False), ("date", "timestamptz", P, False),
    ("timestamp", "date", P, True),
    ("timestamptz", "time", P, True), ("time", "timestamp", P, True), ("interval", "time", P, True),
    ("date", "time", P, True), ("date", "interval", P, True),
    ("datetime", "datetime(6)", M, False), ("datetime(6)", "datetime", M, True),
    ("datetime", "timestamp", M, True), ("date", "timestamp", M, True),
    ("timestamp", "datetime", M, False), ("timestamp", "timestamp(6)", M, False),
    ("date", "datetime", M, False), ("timestamp(3)", "datetime(2)", M, True),
    ("datetime", "timestamp", P, False),
    ("datetime", "timestamptz", M, False),  # MySQL has no timestamptz: not its TIMESTAMP
    # unknown families: not called lossy (SG405 still reports the change)
    ("geometry", "point", M, False), ("geometry", "geometry", M, False),
    ("int[]", "bigint[]", P, False), ("json", "uuid", P, False),
    ("int", "uuid", P, False), ("uuid", "json", P, False), ("date", "int", P, True),
    ("int", "date", P, False), ("inet", "cidr", P, False),
    # no cast between them: the change fails before a row changes (SG405 still reports it)
    ("varbit(10)", "real", P, False), ("numeric(10,2)", "uuid", P, False),
    ("real", "uuid", P, False), ("double precision", "date", P, False),
    # a boolean is 0 or 1 (MySQL: TINYINT(1)): any decimal keeps it
    ("boolean", "decimal(5)", M, False),
]


@pytest.mark.parametrize(("old", "new", "dialect", "lossy"), LOSSY)
def test_is_lossy_at_the_boundaries(old: str, new: str, dialect: str, lossy: bool) -> None:
    assert is_lossy(old, new, dialect) is lossy
    assert is_narrowing(old, new, dialect) is lossy


@pytest.mark.parametrize(
    ("old", "new", "enums", "lossy"),
    [
        ("mood", "mood2", {"mood": ("ok", "sad"), "mood2": ("ok", "sad", "meh")}, False),
        ("mood", "mood2", {"mood": ("ok", "sad"), "mood2": ("ok",)}, True),
        ("mood", "mood2", {"mood": None, "mood2": ("ok",)}, True),
        ("mood", "mood2", {"mood": ("ok",), "mood2": None}, True),
        ("mood", "mood", {"mood": None}, False),
        ("text", "mood", {"mood": ("ok",)}, True),
        ("mood", "varchar(3)", {"mood": ("ok", "sad")}, False),
        ("mood", "varchar(2)", {"mood": ("ok", "sad")}, True),
        # labels unknown: PostgreSQL's labels are at most 63 bytes
        ("mood", "varchar(63)", {"mood": None}, False),
        ("mood", "varchar(62)", {"mood": None}, True),
    ],
)
def test_is_lossy_knows_the_enum_types_of_the_history(
        old: str, new: str, enums: dict[str, tuple[str, ...] | None], lossy: bool) -> None:
    assert is_lossy(old, new, P, enums) is lossy


def test_a_sign_is_lost_into_an_unsigned_number_of_any_family() -> None:
    assert parse_type("decimal(5,2) unsigned", M) == _t("decimal", 5, "decimal", scale=2,
                                                         unsigned=True)
    assert parse_type("double unsigned", M) == _t("float", 53, "double", unsigned=True)
    assert is_lossy("decimal(5,2)", "decimal(6,2) unsigned", M)
    assert is_lossy("int", "decimal(20) unsigned", M)
    assert is_lossy("float", "double unsigned", M)
    assert not is_lossy("decimal(5,2) unsigned", "decimal(6,2) unsigned", M)
    assert not is_lossy("decimal(5) unsigned", "int unsigned", M)
    assert not is_lossy("int unsigned", "decimal(10) unsigned", M)
    assert not is_lossy("decimal(5) unsigned", "decimal(6)", M)
    assert is_lossy("varchar(5)", "int unsigned", M)  # text must parse anyway
    assert is_lossy("date", "int unsigned", M)  # a date is no integer


# -- rewritten (PostgreSQL) or copied (MySQL/MariaDB)? -------------------------------------

def _labels(count: int, kind: str = "enum") -> str:
    return f"{kind}(" + ",".join(f"'v{n}'" for n in range(count)) + ")"


REWRITES = [
    # restated types (another spelling of the same type): nothing changes
    ("INTEGER", "int4", P, "no"), ("int8", "bigint", P, "no"), ("int2", "smallint", P, "no"),
    ("bool", "boolean", P, "no"), ("character varying(10)", "varchar( 10 )", P, "no"),
    ("character(5)", "char(5)", P, "no"), ("bpchar(5)", "char(5)", P, "no"),
    ("float8", "double precision", P, "no"), ("double", "double precision", P, "no"),
    ("float4", "real", P, "no"), ("timestamp without time zone", "timestamp", P, "no"),
    ("timestamp with time zone", "timestamptz", P, "no"),
    ("time without time zone", "time", P, "no"), ("time with time zone", "timetz", P, "no"),
    ("varbit(4)", "bit varying(4)", P, "no"), ("int", "int", M, "no"),
    ('"varbit"(5)', "varbit(5)", P, "no"), ('"varchar"(5)', "varchar(5)", P, "no"),
    ('"numeric"(5)', "numeric(5)", P, "no"), ('"timestamp"(3)', "timestamp(3)", P, "no"),
    ('"timestamp"(3)', "timestamptz(3)", P, "unless-utc"),
    ("char(10)", "char(10)", M, "no"), ("varchar(300)", "varchar(300)", M, "no"),
    # PostgreSQL: text lengths (varchar widened or into text: binary coercible; CHAR padded)
    ("varchar(10)", "varchar(11)", P, "no"), ("varchar(11)", "varchar(10)", P, "yes"),
    ("varchar", "text", P, "no"), ("text", "varchar", P, "no"), ("text", "varchar(10)", P, "yes"),
    ("varchar(10)", "text", None, "no"), ("text", "citext", P, "no"),
    ("char(10)", "char(11)", P, "yes"), ("char(10)", "varchar(10)", P, "yes"),
    ("varchar(10)", "char(10)", P, "yes"), ("char(10)", "text", P, "yes"),
    # numeric: precision up at the same scale, or into an unconstrained numeric
    ("numeric(10,2)", "numeric(11,2)", P, "no"), ("numeric(10,2)", "numeric(10, 2)", P, "no"),
    ("numeric(10,2)", "numeric(9,2)", P, "yes"), ("numeric(10,2)", "numeric(11,3)", P, "yes"),
    ("numeric(10,2)", "numeric(11,1)", P, "yes"), ("numeric(10,2)", "numeric", P, "no"),
    ("numeric", "numeric(1000,2)", P, "yes"), ("numeric(5)", "numeric(5,0)", P, "no"),
    ("int", "numeric", P, "yes"),
    # times: more fractional seconds in the catalog; timestamp <-> timestamptz unless UTC
    ("timestamp(3)", "timestamp(4)", P, "no"), ("timestamp(4)", "timestamp(3)", P, "yes"),
    ("timestamp", "timestamp(6)", P, "no"), ("timestamp(6)", "timestamp(5)", P, "yes"),
    ("time(3)", "time(6)", P, "no"), ("interval", "interval(3)", P, "yes"),
    ("timetz(2)", "timetz(3)", P, "no"),
    ("timestamp", "timestamptz", P, "unless-utc"), ("timestamptz", "timestamp", P, "unless-utc"),
    ("timestamp(3)", "timestamptz(3)", P, "unless-utc"),
    ("timestamp(3)", "timestamptz(6)", P, "unless-utc"),
    ("timestamp(6)", "timestamptz(5)", P, "yes"), ("timestamptz(3)", "timestamp(2)", P, "yes"),
    ("timestamp", "timestamptz", None, "unless-utc"),
    ("time", "timetz", P, "yes"), ("date", "timestamp", P, "yes"),
    ("date", "timestamptz", P, "yes"),
    # cidr -> inet is binary coercible, not back; varbit widened in the catalog; bit(n) padded
    ("cidr", "inet", P, "no"), ("inet", "cidr", P, "yes"),
    ("varbit(5)", "varbit(6)", P, "no"), ("varbit(6)", "varbit(5)", P, "yes"),
    ("bit varying", "bit varying(10)", P, "yes"), ("bit varying(5)", "bit varying", P, "no"),
    ("bit(5)", "bit(6)", P, "yes"), ("bit(5)", "varbit(6)", P, "yes"),
    ("varbit(5)", "bit(6)", P, "yes"),
    # everything else rewrites
    ("int", "bigint", P, "yes"), ("int", "bigint", None, "yes"), ("json", "jsonb", P, "yes"),
    ("real", "double precision", P, "yes"), ("uuid", "text", P, "yes"),
    ("int[]", "bigint[]", P, "yes"), ("bool", "int", P, "yes"), ("bytea", "text", P, "yes"),
    # MySQL/MariaDB: VARCHAR widened within its length-byte class, in any character set:
    # up to 63 characters (252 bytes in utf8mb4) or from 256 characters (256 bytes in latin1)
    ("varchar(10)", "varchar(20)", M, "no"), ("varchar(10)", "varchar(63)", M, "no"),
    ("varchar(10)", "varchar(64)", M, "yes"), ("varchar(63)", "varchar(64)", M, "yes"),
    ("varchar(64)", "varchar(100)", M, "yes"), ("varchar(255)", "varchar(256)", M, "yes"),
    ("varchar(256)", "varchar(257)", M, "no"), ("varchar(256)", "varchar(65535)", M, "no"),
    ("varchar(300)", "varchar(299)", M, "yes"), ("varchar(20)", "varchar(10)", M, "yes"),
    ("`varchar`(10)", "varchar(10)", M, "no"), ("`varchar`(10)", "varchar(11)", M, "no"),
    ("varchar(10)", "text", M, "yes"), ("varchar(10)", "tinytext", M, "yes"),
    ("varchar(300)", "text", M, "yes"), ("varchar(300)", "mediumtext", M, "yes"),
    ("varchar", "varchar(10)", M, "yes"),
    ("tinytext", "text", M, "yes"), ("text", "mediumtext", M, "yes"),
    ("tinytext", "varchar(300)", M, "yes"), ("char(10)", "char(20)", M, "yes"),
    ("char(10)", "varchar(20)", M, "yes"), ("varchar(10)", "char(20)", M, "yes"),
    # ENUM and SET: members added at the end, storage unchanged
    ("enum('a','b')", "enum('a','b','c')", M, "no"),
    ("enum('a','b')", "enum('a','c','b')", M, "yes"),
    ("enum('a','b')", "enum('a')", M, "yes"), ("enum('a','b')", "enum('a','b')", M, "no"),
    ("enum", "enum('a')", M, "yes"),  # labels unknown
    ("enum('a','b')", "set('a','b','c')", M, "yes"), ("set('a','b')", "set('a','b','c')", M, "no"),
    (_labels(254), _labels(255), M, "no"), (_labels(255), _labels(256), M, "yes"),
    (_labels(256), _labels(300), M, "no"), (_labels(1), _labels(255), M, "no"),
    (_labels(7, "set"), _labels(8, "set"), M, "no"),
    (_labels(8, "set"), _labels(9, "set"), M, "yes"),
    (_labels(9, "set"), _labels(16, "set"), M, "no"),
    (_labels(16, "set"), _labels(17, "set"), M, "yes"),
    (_labels(17, "set"), _labels(24, "set"), M, "no"),
    (_labels(24, "set"), _labels(25, "set"), M, "yes"),
    (_labels(25, "set"), _labels(32, "set"), M, "no"),
    (_labels(32, "set"), _labels(33, "set"), M, "yes"),
    (_labels(33, "set"), _labels(64, "set"), M, "no"),
    # every other change copies the table
    ("int", "bigint", M, "yes"), ("int unsigned", "int", M, "yes"),
    ("datetime", "datetime(6)", M, "yes"),
    ("decimal(10,2)", "decimal(12,2)", M, "yes"), ("varchar(10)", "int", M, "yes"),
    ("timestamp", "timestamptz", M, "yes"),
]


@pytest.mark.parametrize(("old", "new", "dialect", "rewrite"), REWRITES)
def test_rewrites_at_the_boundaries(old: str, new: str, dialect: str | None,
                                    rewrite: str) -> None:
    assert rewrites(old, new, dialect) == rewrite
    change = type_change(old, new, dialect)
    assert change == TypeChange(is_lossy(old, new, dialect), rewrite)


def test_rewrites_knows_the_enum_types_of_the_history() -> None:
    enums: dict[str, tuple[str, ...] | None] = {"mood": ("ok",), "mood2": ("ok", "sad")}
    assert rewrites("mood", "mood2", P, enums) == "yes"
    assert type_change("mood2", "mood", P, enums) == TypeChange(True, "yes")
    assert type_change("mood", "mood2", P, enums) == TypeChange(False, "yes")


@pytest.mark.parametrize(
    ("old", "new", "dialect", "safe"),
    [
        (None, "text", P, False), (None, "varchar(10)", M, False), (None, "text", None, False),
        ("varchar(10)", "varchar(20)", P, True), ("varchar(10)", "text", None, True),
        ("int", "bigint", P, False), ("timestamp", "timestamptz", P, False),
        ("numeric(10,2)", "numeric(12,2)", P, True), ("char(10)", "varchar(20)", P, False),
        # MySQL: a text type widened (copied or not: SG409 says), or changed in place
        ("varchar(10)", "varchar(500)", M, True), ("varchar(10)", "varchar(10)", M, True),
        ("char(10)", "varchar(10)", M, True), ("text", "longtext", M, True),
        ("varchar(20)", "varchar(10)", M, False), ("longtext", "text", M, False),
        ("int", "text", M, False), ("enum('a')", "enum('a','b')", M, True),
        ("enum('a','b')", "enum('b','a')", M, False), ("int", "bigint", M, False),
        ("int", "int", M, True),
    ],
)
def test_is_safe_widening(old: str | None, new: str, dialect: str | None, safe: bool) -> None:
    assert is_safe_widening(old, new, dialect) is safe


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("int4", "INTEGER", True), ("int", "integer", True), ("int8", "bigint", True),
        ("int2", "smallint", True), ("bool", "boolean", True),
        ("character varying(10)", "VARCHAR (10)", True), ("character(2)", "char(2)", True),
        ("float8", "double precision", True), ("double", "float8", True), ("float4", "real", True),
        ("decimal(10,2)", "numeric(10, 2)", True), ("decimal", "numeric", True),
        ("timestamp without time zone", "timestamp", True),
        ("timestamp with time zone", "timestamptz", True),
        ("time without time zone", "time", True), ("time with time zone", "timetz", True),
        ("bpchar", "char", True), ("varbit", "bit varying", True),
        ("Numeric ( 10 , 2 )", "numeric(10,2)", True), ("varchar(10)", "varchar(11)", False),
        ("int", "bigint", False), ("numeric(10,2)", "numeric", False), ("text", "varchar", False),
        ("int", "int(11)", False), (None, "int", False),
    ],
)
def test_is_same_type_knows_the_spellings_of_one_type(old: str | None, new: str,
                                                     same: bool) -> None:
    assert is_same_type(old, new) is same


# -- through the validator: the finding, its line and message -------------------------------

def _found(base: str, sql: str, dialect: str) -> list[tuple[str, int | None, str]]:
    """(code, line, message) of the type findings of ``sql``, planned after ``base``."""
    first = Migration("2024-01-01-000000_base", base, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                     up_path="case/up.sql")
    result = validate([first, case], dialect, plan_ids={case.id})
    return [(f.code, f.line, f.message) for f in result.findings
            if f.code in ("SG308", "SG405", "SG409")]


def _lossy(table: str, column: str, old: str, new: str) -> str:
    return (f"changes {table}.{column} from {old} to {new}: values that do not fit are "
            "rejected, cut or rounded")


def _rewritten(table: str, column: str, old: str, new: str) -> str:
    return (f"changes the type of {table}.{column} to {new} from {old}: the table is "
            "rewritten under an exclusive lock")


def _copied(table: str, column: str) -> str:
    return f"MODIFY/CHANGE of {column} makes MySQL/MariaDB copy {table} while blocking writes"


SET7 = "set('a', 'b', 'c', 'd', 'e', 'f', 'g')"
SET8 = "set('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')"
SET9 = "set('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i')"


def test_a_set_given_a_ninth_member_is_copied_its_storage_grows() -> None:
    """SET values take 1, 2, 3, 4 or 8 bytes (up to 8, 16, 24, 32, 64 members): the ninth
    member changes the storage, and the MySQL manual's in-place rule does not hold (it said
    in place, as for an ENUM's 255 labels)."""
    base = f"CREATE TABLE t (id int, s {SET8})"
    assert _found(base, f"SELECT 1;\nALTER TABLE t MODIFY s {SET9}", M) == [
        ("SG405", 2, _rewritten("t", "s", SET8, SET9)), ("SG409", 2, _copied("t", "s"))]
    assert _found(f"CREATE TABLE t (id int, s {SET7})",
                  f"ALTER TABLE t MODIFY s {SET8}", M) == []


def test_a_set_into_an_enum_of_its_members_is_lossy() -> None:
    """A SET value of several members ('a,b') is no ENUM label: SG308 was silent."""
    found_ = _found("CREATE TABLE t (id int, s SET('a','b'))",
                    "ALTER TABLE t MODIFY s ENUM('a','b')", M)
    assert ("SG308", 1, _lossy("t", "s", "set('a', 'b')", "enum('a', 'b')")) in found_
    assert all(code != "SG308" for code, _, _ in _found(
        "CREATE TABLE t (id int, s ENUM('a','b'))", "ALTER TABLE t MODIFY s SET('a','b')", M))


@pytest.mark.parametrize(
    ("column", "old", "new", "lossy"),
    [
        # MySQL's YEAR holds 1901-2155: a TINYINT UNSIGNED (0-255) cuts them (SG308 was silent)
        ("y", "year", "tinyint unsigned", True), ("y", "year", "smallint", False),
        # LONGBLOB into TINYBLOB cuts values (SG308 was silent); VARBINARY(10) fits a BLOB
        # (SG308 fired)
        ("b", "longblob", "tinyblob", True), ("v", "varbinary(10)", "blob", False),
        # BIT(8) into BIT(4): values from 16 do not fit (SG308 was silent)
        ("f", "bit(8)", "bit(4)", True), ("f", "bit(8)", "bit(9)", False),
        # a negative DECIMAL into an UNSIGNED one (SG308 was silent)
        ("d", "decimal(5, 2)", "decimal(6, 2) unsigned", True),
        ("d", "decimal(5, 2)", "decimal(6, 2)", False),
    ],
)
def test_sg308_on_mysql_types_at_their_ranges(column: str, old: str, new: str,
                                              lossy: bool) -> None:
    base = ("CREATE TABLE t (id int, y YEAR, b LONGBLOB, v VARBINARY(10), f BIT(8), "
            "d DECIMAL(5,2))")
    found_ = _found(base, f"SELECT 1;\nALTER TABLE t MODIFY {column} {new}", M)
    # (the statement reader writes "decimal(6, 2)unsigned": the new type is not pinned)
    head, tail = _lossy("t", column, old, "|").split("|")
    assert [(code, line) for code, line, message in found_ if code == "SG308"
            and message.startswith(head) and message.endswith(tail)] == [("SG308", 2)] * lossy
    assert [(code, line) for code, line, _ in found_ if code != "SG308"] == [
        ("SG405", 2), ("SG409", 2)]
    assert ("SG409", 2, _copied("t", column)) in found_


def test_postgres_findings_of_type_changes() -> None:
    base = "CREATE TABLE t (id int, c timestamp, n numeric(10,2), v varchar(10))"
    sql = ("ALTER TABLE t ALTER COLUMN c TYPE timestamptz;\n"
           "ALTER TABLE t ALTER COLUMN n TYPE numeric(12,2), ALTER COLUMN v TYPE varchar(5);\n"
           "ALTER TABLE t ALTER COLUMN id TYPE bigint")
    assert _found(base, sql, P) == [
        ("SG405", 1, "changes the type of t.c to timestamptz from timestamp: the table is "
                     "rewritten under an exclusive lock unless the session's TimeZone is UTC "
                     "(PostgreSQL 12+; say SET TIME ZONE 'UTC' first in this migration)"),
        ("SG308", 2, _lossy("t", "v", "varchar(10)", "varchar(5)")),
        ("SG405", 2, _rewritten("t", "v", "varchar(10)", "varchar(5)")),
        ("SG405", 3, _rewritten("t", "id", "int", "bigint")),
    ]


def test_the_users_table_of_the_edge_tests() -> None:
    assert found("ALTER TABLE users ALTER COLUMN name TYPE varchar(100)", P, "SG405") == []
    assert found("SELECT 1;\nALTER TABLE users ALTER COLUMN name TYPE varchar(49)", P,
                 "SG308") == [(2, _lossy("users", "name", "varchar(50)", "varchar(49)"))]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a label with parentheses: the type is not read as an ENUM at all
        ("enum('small (s)','large (l)')", "enum('small (s)')"),
        # a label with a comma: read as two labels, so 'a,b' seems kept
        ("enum('a,b','c')", "enum('a','b','c')"),
        # a doubled quote inside a label, beside a comma
        ("enum('it''s, ok','x')", "enum('it''s','ok','x')"),
    ],
)
def test_enum_labels_with_parentheses_or_commas_lose_what_they_lose(old: str, new: str) -> None:
    assert is_lossy(old, new, M)
    assert not is_lossy(old, old, M)


@pytest.mark.parametrize(("text", "base", "labels"), [
    ("ENUM('small (s)', 'large (l)')", "enum", ("small (s)", "large (l)")),
    ("enum('a,b','c')", "enum", ("a,b", "c")),
    ("SET('x)', 'y(')", "set", ("x)", "y(")),
    ("enum('a\\',b', 'c')", "enum", ("a\\',b", "c")),
    ("enum('x\\'', 'y,z')", "enum", ("x\\'", "y,z")),
    ("enum('', 'a,b')", "enum", ("", "a,b")),
    ('ENUM("small", "large")', "enum", ("small", "large")),  # MySQL's double quotes
    ("enum('it''s, ok', 'x')", "enum", ("it''s, ok", "x")),
    ("timestamp(3) with time zone", "timestamp with time zone", ()),
])
def test_enum_labels_are_read_at_the_commas_outside_quotes(
        text: str, base: str, labels: tuple[str, ...]) -> None:
    column = parse_type(text, M)
    if not labels:
        assert (column.family, column.name, column.size) == ("timestamptz", base, 3)
        return
    assert (column.family, column.name, column.labels) == ("enum", base, labels)


@pytest.mark.parametrize(("text", "family"), [
    ("varchar(", "other:varchar("),  # not closed
    ("enum('a", "other:enum('a"),
])
def test_an_unreadable_argument_list_is_an_unknown_type(text: str, family: str) -> None:
    assert parse_type(text, M).family == family
