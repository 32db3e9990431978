"""Column type comparison: which changes narrow a type, which only widen it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_INT_RANK = {
    "tinyint": 8, "int1": 8, "smallint": 16, "int2": 16, "mediumint": 24, "int": 32,
    "integer": 32, "int4": 32, "serial": 32, "bigint": 64, "int8": 64, "bigserial": 64,
}
_FLOAT_RANK = {"real": 32, "float4": 32, "float": 64, "double": 64, "double precision": 64,
               "float8": 64}
_UNBOUNDED_TEXT = {"text", "longtext", "mediumtext", "clob", "string"}
_BOUNDED_TEXT = {"varchar", "character varying", "char", "character", "nvarchar", "nchar",
                 "tinytext", "varchar2"}


@dataclass(frozen=True)
class ColumnType:
    """A type reduced to a family, a rank or length, and a scale."""

    family: str  # int, float, decimal, text, other
    size: float  # bits, length (inf when unbounded) or precision
    scale: float = 0


def parse_type(text: str) -> ColumnType:
    """Reduce a declared type (``VARCHAR(20)``, ``bigint unsigned``, ...) to a ColumnType."""
    lowered = text.lower().strip()
    match = re.match(r"([a-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(?:\s|$)", lowered + " ")
    base = match.group(1).strip() if match else lowered
    # float, not int: int() refuses more than 4,300 digits (varchar(999...9) crashed).
    first = float(match.group(2)) if match and match.group(2) else None
    second = float(match.group(3)) if match and match.group(3) else 0
    base = base.replace(" unsigned", "").strip()
    if base in _INT_RANK:
        return ColumnType("int", _INT_RANK[base])
    if base in _FLOAT_RANK:
        return ColumnType("float", _FLOAT_RANK[base])
    if base in ("numeric", "decimal"):
        return ColumnType("decimal", first or 1000, second)
    if base in _UNBOUNDED_TEXT:
        return ColumnType("text", float("inf"))
    if base in _BOUNDED_TEXT:
        return ColumnType("text", first if first is not None else float("inf"))
    return ColumnType("other:" + base, 0)


# Decimal digits of the largest integer of so many bits, signed or unsigned.
_INT_DIGITS = {8: 3, 16: 5, 24: 8, 32: 10, 64: 20}


def is_narrowing(old: str, new: str) -> bool:
    """Whether changing ``old`` to ``new`` can lose or reject existing values."""
    before, after = parse_type(old), parse_type(new)
    if before.family == "int" and after.family == "decimal":
        return after.size - after.scale < _INT_DIGITS[int(before.size)]
    if before.family != after.family:
        # Numbers into text of enough length keep every value; anything else may not.
        return not (after.family == "text" and after.size >= 64 and before.family != "text")
    if before.family == "decimal":
        return after.size < before.size or after.scale < before.scale
    return after.size < before.size


# Spellings of one type: restating a column's type in another of them changes nothing.
_ALIASES = {"integer": "int", "int4": "int", "int8": "bigint", "int2": "smallint",
            "bool": "boolean", "character varying": "varchar", "character": "char",
            "float8": "double precision", "double": "double precision", "float4": "real",
            "decimal": "numeric"}


def _spelled(text: str) -> str:
    lowered = " ".join(text.lower().split())
    lowered = re.sub(r"\s*([(),])\s*", r"\1", lowered)
    base, _, rest = lowered.partition("(")
    return _ALIASES.get(base, base) + ("(" + rest if rest else "")


def is_same_type(old: str | None, new: str) -> bool:
    """Whether ``new`` only restates ``old`` (``INTEGER`` for ``int4``): no type change."""
    return old is not None and _spelled(old) == _spelled(new)


def is_safe_widening(old: str | None, new: str) -> bool:
    """Type changes PostgreSQL/MySQL do without rewriting the table.

    varchar(n) → text, varchar(n) → varchar(m ≥ n), and, when the old type is unknown,
    a change to an unbounded text type.
    """
    after = parse_type(new)
    if old is None:
        return after.family == "text" and after.size == float("inf")
    before = parse_type(old)
    return before.family == after.family == "text" and after.size >= before.size
