"""What a migration's up script creates and what its down script drops, read from its
parsed statements (no database).

One place answers three questions: is a down script empty (comments and whitespace
only), does the up change the schema (any DDL), and which objects the up makes that the
down leaves in place. ``rollback --plan`` reports those, SG203 names them for an empty
down, and ``mark-completed`` checks that they exist on the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from switchy_guard.sql.classify import DYNAMIC, Name, StatementInfo, classify
from switchy_guard.sql.split import split_statements


@dataclass(frozen=True)
class SchemaObject:
    """A table, column, index or other named object (``kind``: table, column, index, or
    the CREATE's object type: view, function, type, sequence, trigger, ...)."""

    kind: str
    name: str
    #: The table a column or index belongs to (schema-qualified as written).
    table: str | None = None
    schema: str | None = None
    #: Made by CREATE OR REPLACE: a down that replaces it again restores it.
    replaced: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        if self.kind == "column":
            return f"column {self.table}.{self.name}"
        if self.kind == "index":
            return f"index {self.name} on {self.table}" if self.table else f"index {self.name}"
        return f"{self.kind} {self.schema}.{self.name}" if self.schema else \
            f"{self.kind} {self.name}"


# -- reading scripts -------------------------------------------------------------------

#: ``-- switchy-guard: noop-down -- reason``: the author says the empty down is meant.
_NOOP_DOWN = re.compile(r"^\s*--\s*switchy-guard:\s*noop-down\b(.*)$", re.IGNORECASE)


def noop_down_comment(sql: str) -> tuple[int, str] | None:
    """The line and reason of a ``-- switchy-guard: noop-down -- reason`` comment in
    ``sql`` (the reason is "" when none follows a second ``--``), or None."""
    for number, line in enumerate(sql.splitlines(), 1):
        match = _NOOP_DOWN.match(line)
        if match is not None:
            rest = match.group(1).strip()
            return number, rest[2:].strip() if rest.startswith("--") else ""
    return None


def is_empty_script(sql: str) -> bool:
    """True when ``sql`` holds no statement: only whitespace and comments. Read as MySQL
    reads it (``/*! ... */`` is code there, ``#`` a comment) and as the generic reading
    does, where what remains may only be ``#`` comment lines."""
    head = sql.lstrip("\ufeff \t\r\n;")
    if not head:
        return True
    if head[0] not in "-/#":  # the common case, a statement: no need to split
        return False
    if split_statements(sql, "mysql"):
        return False
    return all(s.text.startswith("#") for s in split_statements(sql, None))


def parse_script(sql: str, dialect: str | None) -> list[StatementInfo]:
    """What each statement of ``sql`` does; an anonymous block (DO, BEGIN NOT ATOMIC)
    is followed by the statements it runs."""
    statements = split_statements(sql, dialect)
    parsed = [(s, classify(s.text, dialect)) for s in statements]
    if any(info.kind == "do" and info.object_type for _, info in parsed):
        from switchy_guard.sql.blocks import with_blocks

        parsed = with_blocks(parsed, dialect)
    return [info for _, info in parsed]


#: A word that may start DDL inside an anonymous block's body (EXECUTE builds any).
_BLOCK_DDL = re.compile(r"\b(?:CREATE|ALTER|DROP|RENAME|TRUNCATE|EXECUTE|PREPARE)\b",
                        re.IGNORECASE)


def changes_schema(sql: str, dialect: str | None) -> bool:
    """Whether any statement of ``sql`` is DDL. An anonymous block (DO, BEGIN NOT
    ATOMIC) counts when its body holds a word that may start DDL or run built SQL: read
    loosely rather than expanded, as this runs for every empty down script."""
    for statement in split_statements(sql, dialect):
        info = classify(statement.text, dialect)
        if info.is_ddl or info.kind == DYNAMIC:
            return True
        if info.kind == "do" and _BLOCK_DDL.search(statement.text):
            return True
    return False


# -- objects ---------------------------------------------------------------------------

_KIND_NAMES = {"materialized": "materialized view"}


def _fold(text: str | None) -> str | None:
    return text.casefold() if text is not None else None


def _same_name(a: str, a_schema: str | None, b: str, b_schema: str | None) -> bool:
    """Names compared as loosely as a database may (case; a missing schema matches any):
    a report of what is left behind must not miss a drop spelled differently."""
    if a.casefold() != b.casefold():
        return False
    return a_schema is None or b_schema is None or a_schema.casefold() == b_schema.casefold()


def _table_object(name: Name) -> SchemaObject:
    return SchemaObject("table", name.name, schema=name.schema)


def _on_table(obj: SchemaObject, table: SchemaObject) -> bool:
    """Whether column or index ``obj`` belongs to ``table``."""
    if obj.table is None:
        return False
    schema, _, bare = obj.table.rpartition(".")
    return _same_name(bare, schema or None, table.name, table.schema)


class _Objects:
    """The objects a script made, kept up to date as its later statements rename or
    drop them."""

    def __init__(self) -> None:
        self.made: list[SchemaObject] = []
        self.gone: list[SchemaObject] = []  # objects that existed before, dropped here

    def add(self, obj: SchemaObject) -> None:
        # An object made again after the script dropped one of that name replaces it.
        if any(self._matches(obj, old) for old in self.gone):
            return
        if not any(self._matches(obj, old) for old in self.made):
            self.made.append(obj)

    def drop(self, obj: SchemaObject) -> None:
        kept = [m for m in self.made if not self._matches(m, obj)
                and not (obj.kind == "table" and _on_table(m, obj))]
        if len(kept) == len(self.made):
            self.gone.append(obj)
        self.made = kept

    def rename(self, old: SchemaObject, new: SchemaObject) -> None:
        """``old`` renamed to ``new``: made here, it is made under its new name; made
        before, what takes a dropped name replaces the object that had it."""
        made = any(self._matches(m, old) for m in self.made)
        if not made:
            return
        renamed = []
        for obj in self.made:
            if self._matches(obj, old):
                obj = new
            elif old.kind == "table" and _on_table(obj, old):
                obj = SchemaObject(obj.kind, obj.name, str(Name(new.name, new.schema)))
            renamed.append(obj)
        self.made = renamed
        if any(self._matches(new, g) for g in self.gone):
            self.drop(new)

    @staticmethod
    def _matches(a: SchemaObject, b: SchemaObject) -> bool:
        if a.kind != b.kind or not _same_name(a.name, a.schema, b.name, b.schema):
            return False
        if a.kind == "column":
            return a.table is not None and b.table is not None and _same_name(
                a.table.rpartition(".")[2], None, b.table.rpartition(".")[2], None)
        return True


def _other(info: StatementInfo, name: Name) -> SchemaObject:
    kind = info.object_type or "object"
    return SchemaObject(_KIND_NAMES.get(kind, kind), name.name, schema=name.schema,
                        replaced=info.or_replace)


def _observe(objects: _Objects, info: StatementInfo) -> None:
    table = info.table
    if info.kind == "create_table" and table is not None and not info.temporary:
        objects.add(_table_object(table))
        for column in info.columns:
            objects.add(SchemaObject("column", column[0], str(table)))
    elif info.kind == "create_index" and info.index is not None and table is not None:
        objects.add(SchemaObject("index", info.index.name, str(table), info.index.schema))
    elif info.kind == "create_other" and table is not None and not info.temporary:
        objects.add(_other(info, table))
    elif info.kind == "drop_table":
        for name in info.tables:
            objects.drop(_table_object(name))
    elif info.kind == "drop_index" and info.index is not None:
        objects.drop(SchemaObject("index", info.index.name, schema=info.index.schema))
    elif info.kind == "drop_other":
        for name in info.tables:
            objects.drop(_other(info, name))
    elif info.kind == "rename_table" and table is not None and info.new_name is not None:
        objects.rename(_table_object(table), _table_object(info.new_name))
    elif info.kind == "alter_table" and table is not None:
        _observe_alter(objects, info, table)


def _observe_alter(objects: _Objects, info: StatementInfo, table: Name) -> None:
    for action in info.actions:
        column = action.column
        if action.kind == "add_column" and column:
            objects.add(SchemaObject("column", column, str(table)))
        elif action.kind == "drop_column" and column:
            objects.drop(SchemaObject("column", column, str(table)))
        elif action.kind == "rename_column" and column and action.new_name:
            objects.rename(SchemaObject("column", column, str(table)),
                           SchemaObject("column", action.new_name, str(table)))
        elif action.kind == "drop_index" and action.constraint:
            objects.drop(SchemaObject("index", action.constraint))
        elif action.kind == "rename_table" and action.new_name:
            objects.rename(_table_object(table),
                           _table_object(Name(action.new_name, table.schema)))


def created_objects(infos: Iterable[StatementInfo]) -> list[SchemaObject]:
    """The objects an up script leaves that it made: tables (with the columns of their
    CREATE TABLE), added columns, named indexes, views, functions, types, ... in the
    order made. What it made and dropped again is not among them, nor what it made
    under the name of an object it dropped first (a rebuild replaces, it adds nothing)."""
    objects = _Objects()
    for info in infos:
        _observe(objects, info)
    return objects.made


def dropped_objects(infos: Iterable[StatementInfo]) -> list[SchemaObject]:
    """What a down script removes: the tables, columns, indexes and other objects it
    drops (a dropped schema as kind ``schema``), and what it CREATEs OR REPLACEs (that
    restores an object an up replaced)."""
    dropped: list[SchemaObject] = []
    for info in infos:
        if info.kind == "drop_table":
            dropped += [_table_object(name) for name in info.tables]
        elif info.kind == "drop_index" and info.index is not None:
            dropped.append(SchemaObject("index", info.index.name, schema=info.index.schema))
        elif info.kind == "drop_other":
            dropped += [_other(info, name) for name in info.tables]
        elif info.kind == "drop_schema" and info.object_type in ("schema", "database"):
            dropped += [SchemaObject("schema", name.name) for name in info.tables]
        elif info.kind == "create_other" and info.or_replace and info.table is not None:
            dropped.append(_other(info, info.table))
        elif info.kind == "alter_table" and info.table is not None:
            for action in info.actions:
                if action.kind == "drop_column" and action.column:
                    dropped.append(SchemaObject("column", action.column, str(info.table)))
                elif action.kind == "drop_index" and action.constraint:
                    dropped.append(SchemaObject("index", action.constraint))
    return dropped


def _undone(obj: SchemaObject, dropped: Sequence[SchemaObject]) -> bool:
    for gone in dropped:
        if gone.kind == "schema":
            schema = obj.schema or (obj.table.rpartition(".")[0] if obj.table else "")
            if schema and schema.casefold() == gone.name.casefold():
                return True
        elif (gone.kind == "table" and _on_table(obj, gone)) or _Objects._matches(obj, gone):
            return True
        elif obj.kind == gone.kind == "index" and _same_name(obj.name, None, gone.name, None):
            return True  # DROP INDEX names no table
    return False


def left_behind(created: Sequence[SchemaObject],
                dropped: Sequence[SchemaObject]) -> list[SchemaObject]:
    """The ``created`` objects that ``dropped`` leaves in place. A column or index of a
    table made by the same up is named through its table, not on its own."""
    tables = [obj for obj in created if obj.kind == "table"]
    return [obj for obj in created
            if not _undone(obj, dropped) and not any(_on_table(obj, t) for t in tables)]


def describe(objects: Sequence[SchemaObject], limit: int = 5) -> str:
    """``column users.manage, index ix_a on users`` (at most ``limit``, then "and N
    more")."""
    shown = ", ".join(str(obj) for obj in objects[:limit])
    extra = len(objects) - limit
    return shown + (f" and {extra} more" if extra > 0 else "")


def leftover_line(obj: SchemaObject) -> str:
    """``up adds column users.manage; down does not drop it``."""
    verb = "adds" if obj.kind in ("column", "index") else "creates"
    return f"up {verb} {obj}; down does not drop it"
