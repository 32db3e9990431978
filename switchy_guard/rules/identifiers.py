"""SG104 identifier-too-long: names the server truncates (PostgreSQL) or refuses (MySQL)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import PM, Rule, StatementContext
from switchy_guard.sql.classify import QUOTED, WORD, StatementInfo, tokenize
from switchy_guard.sql.split import Statement

#: PostgreSQL's NAMEDATALEN - 1, in bytes; MySQL/MariaDB's limit, in characters.
POSTGRES_MAX_BYTES = 63
MYSQL_MAX_CHARS = 64

#: Statements that create or rename tables, columns, indexes and constraints.
_NAMING_KINDS = frozenset({"create_table", "create_index", "create_other", "alter_table",
                           "alter_other", "rename_table"})


def _spelled(text: str, kind: str, dialect: str | None) -> str:
    """The identifier as the server keeps it (PostgreSQL folds unquoted names)."""
    return text.lower() if kind == WORD and dialect != "mysql" else text


def _too_long(name: str, dialect: str | None) -> bool:
    if dialect == "mysql":
        return len(name) > MYSQL_MAX_CHARS
    return len(name.encode("utf-8")) > POSTGRES_MAX_BYTES


def _truncated(name: str) -> str:
    """What PostgreSQL keeps of ``name``: its first 63 bytes, whole characters only."""
    return name.encode("utf-8")[:POSTGRES_MAX_BYTES].decode("utf-8", "ignore")


@functools.lru_cache(maxsize=256)
def long_identifiers(text: str, dialect: str | None) -> tuple[str, ...]:
    """The identifiers of ``text`` (words and quoted names, not strings) over the limit,
    each once, in order."""
    found: list[str] = []
    for tok in tokenize(text, dialect):
        if tok.kind not in (WORD, QUOTED):
            continue
        name = _spelled(tok.text, tok.kind, dialect)
        if _too_long(name, dialect) and name not in found:
            found.append(name)
    return tuple(found)


@dataclass
class _Migration:
    """One migration's statements as SG104 reads them."""

    #: Its long names, by what PostgreSQL keeps of them: (the index of the first
    #: statement naming it, its full name).
    first: dict[str, tuple[int, str]]
    #: Each statement's index, by id().
    positions: dict[int, int]
    #: The ids of the statements whose own text is read (:func:`_read_here`).
    read: set[int]


#: The last migration's, built once per migration, not once per statement: a migration of
#: thousands of long names would otherwise be quadratic.
_LAST: list[tuple[object, _Migration]] = []


def _read_here(statement: Statement, kinds: dict[int, str]) -> bool:
    """Whether SG104 reads ``statement``'s own text: one of the file's, or one that an
    anonymous block (DO, MariaDB's BEGIN NOT ATOMIC) runs, whose text no other statement
    shows (a DO's body is a string). What a called routine runs is not: a MySQL
    routine's names are read in its CREATE statement's text."""
    return statement.block is None or kinds.get(id(statement.block)) == "do"


def _migration(ctx: StatementContext) -> _Migration:
    statements = ctx.statements_in_migration
    if _LAST and _LAST[0][0] is statements:
        return _LAST[0][1]
    kinds = {id(statement): info.kind for statement, info in statements}
    read = {id(s) for s, _ in statements if _read_here(s, kinds)}
    first: dict[str, tuple[int, str]] = {}
    for index, (statement, info) in enumerate(statements):
        if info.kind in _NAMING_KINDS and id(statement) in read:
            for name in long_identifiers(statement.text, ctx.dialect):
                first.setdefault(_truncated(name), (index, name))
    positions = {id(statement): index for index, (statement, _) in enumerate(statements)}
    found = _Migration(first, positions, read)
    _LAST[:] = [(statements, found)]
    return found


def _identifier_too_long(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    migration = _migration(ctx)
    if id(ctx.statement) not in migration.read:
        return
    names = long_identifiers(ctx.statement.text, ctx.dialect)
    if not names:
        return
    if ctx.dialect == "mysql":
        for name in names:
            yield (f"name {name[:24]}... is {len(name)} characters: MySQL/MariaDB refuse "
                   f"names over {MYSQL_MAX_CHARS}, so this migration fails")
        return
    here = migration.positions.get(id(ctx.statement), len(migration.positions))
    for name in names:
        short = _truncated(name)
        index, clash = migration.first.get(short, (here, name))
        collides = f"; it collides with {clash}, truncated the same" \
            if index < here and clash != name else ""
        yield (f"name {name[:24]}... is {len(name.encode('utf-8'))} bytes: PostgreSQL "
               f"silently truncates it to {short!r}{collides}")


IDENTIFIER_TOO_LONG = Rule(
    code="SG104", name="identifier-too-long", severity=Severity.ERROR, dialects=PM,
    summary="A table, column, index or constraint name longer than the server keeps: 63 "
            "bytes on PostgreSQL, 64 characters on MySQL/MariaDB.",
    why="PostgreSQL truncates longer names silently (with only a NOTICE): the object gets "
        "another name than the migration and the code say, and two long names that share "
        "their first 63 bytes collide (the second CREATE fails, or a DROP hits the wrong "
        "index). MySQL/MariaDB refuse the statement, so the migration fails half-way on a "
        "server that commits DDL implicitly.",
    instead="Choose a shorter name (ORMs generate long index and constraint names from "
            "column lists: name them explicitly).",
    example="CREATE INDEX orders_by_customer_id_created_at_status_shipping_country_and_region_idx "
            "ON orders (customer_id, created_at, status, shipping_country, region);",
    fixed="CREATE INDEX orders_customer_created_status_idx "
          "ON orders (customer_id, created_at, status, shipping_country, region);",
    check=_identifier_too_long,
    kinds=_NAMING_KINDS,
)

RULES = (IDENTIFIER_TOO_LONG,)
