"""Column type changes: which lose data (SG308), which rewrite or copy the table (SG405,
SG409), per dialect.

``type_change(old, new, dialect)`` answers both questions for one ``ALTER COLUMN ... TYPE``
(MySQL: ``MODIFY``/``CHANGE``). The answers follow the PostgreSQL and MariaDB manuals
and were measured on PostgreSQL 15 (``pg_class.relfilenode`` changes when a table is
rewritten) and MariaDB 10.11 (which ``ALGORITHM`` the server accepts); the ``PAIRS``
table of tests/unit/rules/test_types.py is that record, and checks each row.

*Lossy* means a value the column holds may be rejected (the migration fails midway),
cut, rounded or clipped: narrower lengths, precision, scale or fractional seconds; a
wider integer into a narrower one (or a signed number into an unsigned one; MySQL's
BIT(M) is an M-bit unsigned number, its YEAR 1901-2155); a number with a
fraction or too many digits into an integer; an integer into a float whose mantissa is
too short for it (MySQL's FLOAT is single precision: ``int`` → ``FLOAT`` rounds
2147483647 to 2147483648, measured; PostgreSQL's ``float`` is double precision: exact);
text into anything but text (values must parse: integers, enums, uuids, json, ...);
an enum losing labels, a SET into an ENUM; a timestamp into a date or a time.
Converting between ``timestamp`` and ``timestamptz`` loses nothing (the session's
TimeZone interprets the values), nor does ``int`` → ``bigint``, ``int`` → double
precision, varchar widening.
A pair this module does not know (two types of no family it models) is not called
lossy: the rewrite rule still reports the change.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

#: Whether a type change rewrites (PostgreSQL) or copies (MySQL) the table: ``yes``,
#: ``no``, or ``unless-utc`` (PostgreSQL 12+: timestamp ↔ timestamptz is done in the
#: catalog only when the session's TimeZone has a fixed offset of zero).
Rewrite = Literal["yes", "no", "unless-utc"]

_INT_BITS = {
    "tinyint": 8, "int1": 8, "smallint": 16, "int2": 16, "smallserial": 16, "serial2": 16,
    "mediumint": 24, "int3": 24, "int": 32, "integer": 32, "int4": 32, "serial": 32,
    "serial4": 32, "bigint": 64, "int8": 64, "bigserial": 64, "serial8": 64,
}
_UNBOUNDED = math.inf
#: MySQL's text types hold at most so many bytes (counted here as characters).
_MYSQL_TEXT = {"tinytext": 255, "text": 65535, "mediumtext": 16777215,
               "longtext": 4294967295, "long": 16777215, "long varchar": 16777215}
_VARYING = {"varchar", "character varying", "nvarchar", "national varchar", "varchar2",
            "nchar varchar", "national character varying", "string", "clob"}
_FIXED = {"char", "character", "nchar", "national char", "national character", "bpchar"}
_TIME = {
    "date": "date", "time": "time", "time without time zone": "time",
    "timetz": "timetz", "time with time zone": "timetz",
    "timestamp without time zone": "timestamp", "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz", "datetime": "timestamp",
    "interval": "interval",
}
#: MySQL's BLOB types hold at most so many bytes (as its TEXT types).
_MYSQL_BLOB = {"tinyblob": 255, "blob": 65535, "mediumblob": 16777215,
               "longblob": 4294967295}
_SIMPLE = {"bool": "bool", "boolean": "bool", "uuid": "uuid", "json": "json",
           "jsonb": "json", "bytea": "bytes", "blob": "bytes", "longblob": "bytes",
           "mediumblob": "bytes", "tinyblob": "bytes", "binary": "bytes",
           "varbinary": "bytes", "cidr": "inet", "inet": "inet"}


@dataclass(frozen=True)
class ColumnType:
    """A declared type reduced to what the comparisons need.

    ``family``: int, float, decimal, text, enum, bool, date, time, timetz, timestamp,
    timestamptz, interval, uuid, json, bytes, inet, bits, or ``other:<name>``.
    ``size``: bits (int; float: mantissa bits), length (text, bits; ``inf`` when
    unbounded), precision (decimal; ``inf`` unbounded), fractional-second digits
    (times). ``scale``: decimal digits after the point (``inf``: unbounded numeric).
    """

    family: str
    size: float
    scale: float = 0
    unsigned: bool = False
    fixed: bool = False  # CHAR(n), BIT(n): padded to the length
    labels: tuple[str, ...] | None = None  # an enum's labels when known, in order
    name: str = ""  # the base type name as written, lower case




def _split_type(text: str) -> tuple[str, list[str]]:
    """``timestamp(3) with time zone`` → (``timestamp with time zone``, ["3"]); an
    enum's quoted labels may hold commas and parentheses (``enum('a,b','c (d)')``)."""
    lowered = " ".join(text.lower().replace("`", "").replace('"', "").split())
    found = _first_arguments(lowered)
    args: list[str] = []
    if found is None:
        base = lowered
    else:
        start, end, args = found
        base = f"{lowered[:start]} {lowered[end:]}"
    base = re.sub(r"\b(zerofill|signed)\b", " ", base)
    return " ".join(base.split()), args


def _first_arguments(text: str) -> tuple[int, int, list[str]] | None:
    """Where the first parenthesised argument list starts and ends, and its arguments
    split at the commas outside quoted labels; None when there is none or it is not
    closed."""
    start = text.find("(")
    args: list[str] = []
    piece = index = start + 1
    while index < len(text):
        char = text[index]
        if char == "'":  # a label: a comma or a parenthesis in it separates nothing
            index = _label_end(text, index + 1)
        elif char in ",)":
            args.append(text[piece:index].strip())
            piece = index + 1
            if char == ")":
                return start, index + 1, args
        index += 1
    return None


def _label_end(text: str, index: int) -> int:
    """The closing quote of the label read from ``index`` (a doubled ``''`` reads as
    two labels back to back, which splits the same); MySQL's ``\\'`` does not close it."""
    while index < len(text) and text[index] != "'":
        index += 2 if text[index] == "\\" else 1
    return index


def _number(text: str | None) -> float | None:
    # float, not int: int() refuses more than 4,300 digits (varchar(999...9) crashed).
    if text and re.fullmatch(r"\d+", text):
        return float(text)
    return None


def _labels(args: list[str]) -> tuple[str, ...]:
    """The labels as written between their quotes (``'x\\''`` keeps its escaped quote)."""
    return tuple(a[1:-1] if len(a) > 1 and a[0] == a[-1] == "'" else a for a in args)


def parse_type(text: str, dialect: str | None = None,
               enums: dict[str, tuple[str, ...] | None] | None = None) -> ColumnType:
    """Reduce a declared type (``VARCHAR(20)``, ``bigint unsigned``, ...) to a ColumnType,
    as ``dialect`` reads it. ``enums`` names the enum types the history created
    (PostgreSQL's ``CREATE TYPE mood AS ENUM (...)``), with their labels."""
    base, args = _split_type(text)
    first = _number(args[0]) if args else None
    second = _number(args[1]) if len(args) > 1 else None
    unsigned = base.endswith(" unsigned")
    base = base.removesuffix(" unsigned").strip()
    mysql = dialect == "mysql"
    if base.endswith("[]"):
        return ColumnType("other:" + base, 0, name=base)
    if base in _INT_BITS:
        return ColumnType("int", _INT_BITS[base], unsigned=unsigned, name=base)
    if mysql and base == "bit":  # BIT(M): an M-bit unsigned number (M from 1 to 64)
        return ColumnType("int", first or 1, unsigned=True, name=base)
    if base in ("bit", "bit varying", "varbit"):
        return ColumnType("bits", first or (_UNBOUNDED if base != "bit" else 1),
                          fixed=base == "bit", name=base)
    floats = _float_bits(base, first, mysql)
    if floats:
        return ColumnType("float", floats, unsigned=unsigned, name=base)
    if base in ("numeric", "decimal", "dec", "fixed", "number"):
        if first is None:  # PostgreSQL: any precision and scale; MySQL: DECIMAL(10, 0)
            return ColumnType("decimal", 10 if mysql else _UNBOUNDED,
                              0 if mysql else _UNBOUNDED, name=base)
        return ColumnType("decimal", first, second or 0, unsigned=unsigned, name=base)
    if base in _MYSQL_TEXT and mysql:
        return ColumnType("text", _MYSQL_TEXT[base], name=base)
    if base in ("text", "tinytext", "mediumtext", "longtext", "citext", "clob"):
        return ColumnType("text", _UNBOUNDED, name=base)
    if base in _VARYING:
        return ColumnType("text", first if first is not None else _UNBOUNDED, name=base)
    if base in _FIXED:
        return ColumnType("text", first if first is not None else 1, fixed=True, name=base)
    if (base in ("enum", "set") and mysql) or base == "enum":
        return ColumnType("enum", 0, labels=_labels(args), name=base)
    if enums and base in enums:
        return ColumnType("enum", 0, labels=enums[base], name=base)
    if base == "timestamp":  # MySQL: stored as UTC seconds (1970-2038), like timestamptz
        return ColumnType("timestamptz" if mysql else "timestamp",
                          first if first is not None else (0 if mysql else 6), name=base)
    if base in _TIME:
        default = 0 if mysql or base == "date" else 6
        return ColumnType(_TIME[base], first if first is not None else default, name=base)
    if base == "year":
        return ColumnType("int", 8, unsigned=True, name=base)  # 1 byte: see _int_range
    if base in _SIMPLE and _SIMPLE[base] == "bytes":
        return ColumnType("bytes", _bytes_length(base, first, mysql), name=base)
    if base in _SIMPLE:
        return ColumnType(_SIMPLE[base], first or 0, name=base)
    return ColumnType("other:" + base, 0, name=base)


def _bytes_length(base: str, length: float | None, mysql: bool) -> float:
    """Bytes a binary type holds: its length; MySQL's BLOBs their sizes, BINARY one."""
    if length is not None:
        return length
    if mysql and base in _MYSQL_BLOB:
        return _MYSQL_BLOB[base]
    return 1 if base == "binary" else _UNBOUNDED


def _float_bits(base: str, precision: float | None, mysql: bool) -> int:
    """Mantissa bits of a floating-point type, 0 for another type."""
    if base in ("double", "double precision", "float8", "binary_double"):
        return 53
    if base in ("float4", "binary_float"):
        return 24
    if base == "real":
        return 53 if mysql else 24  # MySQL's REAL is DOUBLE (without REAL_AS_FLOAT)
    if base == "float":
        if precision is not None:
            return 24 if precision <= 24 else 53
        return 24 if mysql else 53  # MySQL's FLOAT is single precision, PostgreSQL's double
    return 0


# -- lossy? -------------------------------------------------------------------------


def _int_range(column: ColumnType) -> tuple[int, int]:
    if column.name == "year":
        return 1901, 2155  # MySQL's YEAR (and 0000); 1-99 read as 2001-2069, 1970-1999
    width, unsigned = int(column.size), column.unsigned
    return (0, 2 ** width - 1) if unsigned else (-(2 ** (width - 1)), 2 ** (width - 1) - 1)


def _digits(column: ColumnType) -> int:
    """Digits of the largest magnitude an integer column holds."""
    low, high = _int_range(column)
    return len(str(max(high, -low)))


def _text_length(column: ColumnType) -> float:
    """Characters the longest value of ``column`` takes as text."""
    if column.family == "int":
        return _digits(column) + (0 if column.unsigned else 1)
    if column.family == "decimal":
        return column.size + 2  # sign and point
    if column.family == "float":
        return 24
    if column.family == "bool":
        return 5
    if column.family == "uuid":
        return 36
    if column.family == "enum" and column.labels:
        return max(len(label) for label in column.labels)
    if column.family == "enum":
        return 63  # labels unknown: PostgreSQL's are at most 63 bytes
    if column.family in ("date",):
        return 10
    return _UNBOUNDED


_NUMBERS = {"int", "decimal", "float"}
_TIMES = {"date", "time", "timetz", "timestamp", "timestamptz", "interval"}


def _same_family_lossy(before: ColumnType, after: ColumnType) -> bool:
    family = before.family
    if family == "int":
        low, high = _int_range(before)
        new_low, new_high = _int_range(after)
        return low < new_low or high > new_high
    if family == "decimal":
        return (after.size - after.scale < before.size - before.scale
                or after.scale < before.scale)
    if family == "enum":
        if before.labels is None or after.labels is None:
            return before.name != after.name  # another named enum: a value may not map
        if before.name == "set" and after.name != "set" and len(before.labels) > 1:
            return True  # a SET value of several members ('a,b') is no ENUM label
        return not set(before.labels) <= set(after.labels)
    if family in _TIMES:
        return after.size < before.size  # fractional seconds rounded
    if family.startswith("other:"):
        return False
    return after.size < before.size  # lengths, bits, float mantissa


def _time_lossy(before: ColumnType, after: ColumnType, dialect: str | None) -> bool:
    pair = (before.family, after.family)
    if dialect == "mysql" and after.family == "timestamptz" and after.name == "timestamp":
        return True  # MySQL's TIMESTAMP holds 1970-2038 only
    if pair in (("timestamp", "timestamptz"), ("timestamptz", "timestamp"),
                ("time", "timetz"), ("timetz", "time")):
        return after.size < before.size
    # A date into a timestamp keeps it; otherwise a date loses its time, a timestamp its
    # date, an interval its meaning.
    return not (before.family == "date" and after.family in ("timestamp", "timestamptz"))


def is_lossy(old: str, new: str, dialect: str | None = None,
             enums: dict[str, tuple[str, ...] | None] | None = None) -> bool:
    """Whether changing a column of type ``old`` to ``new`` may lose, cut, round or
    reject a value it holds, on ``dialect`` (see the module's docs)."""
    before = parse_type(old, dialect, enums)
    after = parse_type(new, dialect, enums)
    if after.unsigned and not before.unsigned and before.family in _NUMBERS:
        return True  # a negative number is rejected (MySQL's UNSIGNED)
    if before.family == after.family:
        return _same_family_lossy(before, after)
    if after.family == "text":
        return _text_length(before) > after.size
    if before.family == "text":
        return True  # every value must parse as the new type
    if after.family == "int":
        if before.family == "bool":
            return False
        if before.family == "decimal":
            return before.scale > 0 or before.size >= _digits(after)
        return True  # a float's fraction, a date, ... cannot become an integer
    if before.family == "int" and after.family == "float":
        return before.size - (0 if before.unsigned else 1) > after.size
    if before.family == "int" and after.family == "decimal":
        return after.size - after.scale < _digits(before)
    if before.family == "decimal" and after.family == "float":
        return before.size > (6 if after.size <= 24 else 15)
    if before.family == "float" and after.family == "decimal":
        return True
    if before.family in _TIMES and after.family in _TIMES:
        return _time_lossy(before, after, dialect)
    return after.family in ("bool", "enum")


def is_narrowing(old: str, new: str, dialect: str | None = None) -> bool:
    """Whether changing ``old`` to ``new`` can lose or reject existing values
    (kept for callers of the older name: see :func:`is_lossy`)."""
    return is_lossy(old, new, dialect)


# -- rewrite? -----------------------------------------------------------------------


# Spellings of one type: restating a column's type in another of them changes nothing.
_ALIASES = {"integer": "int", "int4": "int", "int8": "bigint", "int2": "smallint",
            "bool": "boolean", "character varying": "varchar", "character": "char",
            "float8": "double precision", "double": "double precision", "float4": "real",
            "decimal": "numeric", "timestamp without time zone": "timestamp",
            "timestamp with time zone": "timestamptz", "time without time zone": "time",
            "time with time zone": "timetz", "bpchar": "char", "varbit": "bit varying"}


def _spelled(text: str) -> str:
    lowered = " ".join(text.lower().split())
    lowered = re.sub(r"\s*([(),])\s*", r"\1", lowered)
    base, _, rest = lowered.partition("(")
    return _ALIASES.get(base, base) + ("(" + rest if rest else "")


def is_same_type(old: str | None, new: str) -> bool:
    """Whether ``new`` only restates ``old`` (``INTEGER`` for ``int4``): no type change."""
    return old is not None and _spelled(old) == _spelled(new)


def _postgres_rewrite(before: ColumnType, after: ColumnType) -> Rewrite:
    """PostgreSQL 15 (measured): binary-coercible changes and typmod widenings are done
    in the catalog; everything else rewrites the table and its indexes."""
    family = before.family
    if family != after.family:
        if {family, after.family} == {"timestamp", "timestamptz"}:
            return "unless-utc" if after.size >= before.size else "yes"
        return "yes"
    if family == "text":
        # varchar(n) → varchar(m ≥ n) or text; text → varchar: binary coercible. A
        # CHAR(n) is padded: into anything but itself its values are trimmed (rewrite).
        return "no" if not before.fixed and not after.fixed and after.size >= before.size \
            else "yes"
    if family == "decimal":
        if after.size == _UNBOUNDED:
            return "no"  # into an unconstrained numeric: every value as it is
        return "no" if after.scale == before.scale and after.size >= before.size else "yes"
    if family in _TIMES:
        return "no" if after.size >= before.size else "yes"  # fractional seconds widened
    if family == "inet":
        return "no" if after.name == "inet" else "yes"  # cidr → inet: binary coercible
    if family == "bits":
        return "no" if not before.fixed and not after.fixed and after.size >= before.size \
            else "yes"
    return "yes"  # int → bigint, int → float, json → jsonb, ...: rewritten (measured)


#: Characters of a VARCHAR whose longest value needs one length byte in any character
#: set (utf8mb4: 4 bytes a character), and from which it needs two in every one.
_ONE_LENGTH_BYTE, _TWO_LENGTH_BYTES = 63, 256


def _mysql_copies(before: ColumnType, after: ColumnType) -> Rewrite:
    """MySQL/MariaDB InnoDB: a VARCHAR widened within its length-byte class and an ENUM
    given more labels at its end are changed in place (measured on MariaDB 10.11, as the
    MySQL manual's online DDL table says); every other type change copies the table.
    The character set is not known here, so the class is decided for all of them."""
    if before.family == after.family == "text" and not before.fixed and not after.fixed \
            and before.size != _UNBOUNDED and before.name not in _MYSQL_TEXT:
        widened = after.size >= before.size and after.name not in _MYSQL_TEXT
        same_class = after.size <= _ONE_LENGTH_BYTE or before.size >= _TWO_LENGTH_BYTES
        return "no" if widened and same_class else "yes"
    if before.family == after.family == "enum" and before.labels and after.labels:
        appended = after.labels[:len(before.labels)] == before.labels
        same_storage = _enum_bytes(before) == _enum_bytes(after)
        return "no" if appended and same_storage and before.name == after.name else "yes"
    return "yes"


def _enum_bytes(column: ColumnType) -> int:
    """Bytes a MySQL ENUM (1 up to 255 labels, else 2) or SET (1, 2, 3, 4 or 8 for up to
    8, 16, 24, 32 or 64 members) value takes."""
    count = len(column.labels or ())
    if column.name != "set":
        return 1 if count <= 255 else 2
    used = (count + 7) // 8
    return used if used <= 4 else 8


def rewrites(old: str, new: str, dialect: str | None,
             enums: dict[str, tuple[str, ...] | None] | None = None) -> Rewrite:
    """Whether ``ALTER COLUMN ... TYPE new`` of a column of type ``old`` rewrites
    (PostgreSQL) or copies (MySQL) the table. ``dialect`` None: PostgreSQL's answer."""
    if is_same_type(old, new):
        return "no"
    before = parse_type(old, dialect, enums)
    after = parse_type(new, dialect, enums)
    if dialect == "mysql":
        return _mysql_copies(before, after)
    return _postgres_rewrite(before, after)


@dataclass(frozen=True)
class TypeChange:
    """What one type change does: may it lose data, does it rewrite the table."""

    lossy: bool
    rewrite: Rewrite


def type_change(old: str, new: str, dialect: str | None,
                enums: dict[str, tuple[str, ...] | None] | None = None) -> TypeChange:
    """Both answers for changing a column of type ``old`` to ``new`` on ``dialect``."""
    return TypeChange(is_lossy(old, new, dialect, enums), rewrites(old, new, dialect, enums))


def is_safe_widening(old: str | None, new: str, dialect: str | None = None) -> bool:
    """Type changes PostgreSQL does without rewriting the table (see :func:`rewrites`);
    on MySQL, a text type widened (MySQL's copies are SG409's to report). An unknown old
    type is never safe: ``text`` may come from CHAR(n) (rewritten) or an integer."""
    if old is None:
        return False
    if dialect == "mysql":
        before, after = parse_type(old, dialect), parse_type(new, dialect)
        if before.family == after.family == "text" and after.size >= before.size:
            return True
        return rewrites(old, new, dialect) == "no"
    return rewrites(old, new, dialect) == "no"
