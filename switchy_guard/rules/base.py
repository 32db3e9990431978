"""The rule framework: a Rule holds its code, name, docs and check in one place."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, MutableMapping, MutableSet
from dataclasses import dataclass, field
from typing import Protocol

from switchy_guard.model.findings import Severity
from switchy_guard.model.migration import Migration
from switchy_guard.sql.classify import DYNAMIC, Name, StatementInfo
from switchy_guard.sql.split import Statement

ALL = frozenset({"postgres", "mysql", "sqlite"})
PM = frozenset({"postgres", "mysql"})
P = frozenset({"postgres"})
M = frozenset({"mysql"})
S = frozenset({"sqlite"})


class LiveTables(Protocol):
    """What a live database says of a table name (see model.live.LiveTableNames)."""

    def may_exist(self, name: Name) -> bool:
        """Whether the database has, or may have, a table ``name`` would create or name."""


#: A name's schema part when it names the session's temporary tables.
_TEMP = "\0temp"
#: Statements that may write rows into any table: what they run is not known here.
_WRITES_ANYTHING = frozenset({"call", "load", "unknown", DYNAMIC})


@dataclass
class _Created:
    """A table (or materialized view) the plan created: its name's keys, and whether
    anything may have written rows into it since."""

    schema: str | None  # sure key of the schema part (_TEMP: the session's temporary ones)
    name: str  # sure key of the name
    loose: str  # the name lower-cased: what may be the same table
    temporary: bool
    empty: bool = True


class NewTables:
    """The tables a plan created and nothing wrote into since: new and empty.

    A table is new only if a plain CREATE TABLE of the plan made it (not IF NOT EXISTS,
    unless the live database says the table is absent; not CREATE OR REPLACE; not
    CREATE TABLE ... AS SELECT) and no INSERT, COPY, UPDATE or LOAD since may have
    written into it; a DROP ends it. Names are compared as the database compares them,
    schema included; where two names may or may not be the same table (another spelling,
    another schema on the search path), a name is *not* new, while a write or drop
    through it takes newness from every table it may be. A temporary table shadows
    unqualified names only (and ``temp.t`` on SQLite, ``pg_temp.t`` on PostgreSQL).

    With ``live`` (the database the plan would run on), a table the plan creates is new
    only if the database does not have one of that name already.
    """

    def __init__(self, dialect: str | None = None, live: LiveTables | None = None) -> None:
        self.dialect = dialect
        self.live = live
        # By lower-case name: a plan of thousands of CREATE TABLEs is asked about each
        # statement's table, so a lookup must not walk them all.
        self._created: dict[str, list[_Created]] = {}
        self._gone: set[tuple[str | None, str]] = set()  # surely dropped or renamed away

    def clear(self) -> None:
        """Forget every table (a new plan starts)."""
        self._created.clear()
        self._gone.clear()

    def __bool__(self) -> bool:
        return any(self._created.values())

    # -- names ---------------------------------------------------------------------

    def _part(self, folded: str, raw: str) -> str:
        if self.dialect == "sqlite":
            return folded.lower()  # SQLite: names match whatever their case or quotes
        if self.dialect == "postgres":
            return folded  # the classifier folds unquoted names to lower case, as PostgreSQL
        # MySQL: table names may be case-sensitive, quoted or not (lower_case_table_names);
        # unknown dialect: the same for PostgreSQL's folding and MySQL's spelling.
        return raw if self.dialect == "mysql" else f"{folded}\0{raw}"

    def _keys(self, name: Name) -> tuple[str | None, str]:
        raw = name.raw if len(name.raw) == (2 if name.schema else 1) else ()
        key = self._part(name.name, raw[-1] if raw else name.name)
        if name.schema is None:
            return None, key
        if self._temp_schema(name.schema):
            return _TEMP, key
        return self._part(name.schema, raw[0] if raw else name.schema), key

    def _temp_schema(self, schema: str) -> bool:
        if self.dialect == "sqlite":
            return schema.lower() == "temp"
        if self.dialect == "postgres":
            return schema == "pg_temp" or schema.startswith("pg_temp_")
        return False

    @staticmethod
    def _as_name(table: object) -> Name | None:
        if table is None or isinstance(table, Name):
            return table
        return Name(str(table))

    def _resolve(self, name: Name) -> _Created | None:
        """The plan's table ``name`` surely stands for, if any."""
        schema, key = self._keys(name)
        found = None
        for created in self._created.get(name.name.lower(), ()):
            if created.name != key:
                continue
            if created.temporary and (created.schema == schema
                                      or (created.schema == _TEMP and schema is None)):
                return created  # a temporary table shadows the name
            if created.schema == schema:
                found = created
        return found

    def _maybe(self, name: Name) -> list[_Created]:
        """The plan's tables ``name`` may stand for."""
        out = []
        for created in self._created.get(name.name.lower(), ()):
            other = created.schema
            if name.schema is not None and other is not None and not self._temp_schema(
                    name.schema):
                if other == _TEMP:
                    if self.dialect in ("postgres", "sqlite"):
                        continue  # another schema's name never reaches a temporary table
                elif other.lower().split("\0")[0] != name.schema.lower():
                    continue  # two different schemas named
            out.append(created)
        return out

    # -- questions -----------------------------------------------------------------

    def is_new(self, table: object) -> bool:
        """Whether ``table`` (a Name or str) surely is a table the plan created and
        nothing wrote into since."""
        name = self._as_name(table)
        if name is None:
            return False
        created = self._resolve(name)
        return created is not None and created.empty

    def made(self, table: Name) -> bool:
        """Whether ``table`` surely stands for a table the plan created, empty or not
        (the live database has no rows of it)."""
        return self._resolve(table) is not None

    def _surely_absent(self, name: Name, temporary: bool) -> bool:
        """Whether no table ``name`` exists when the plan reaches this point."""
        if self._maybe(name):
            return False
        if self._keys(name) in self._gone:
            return True
        if self.live is None:
            return False
        return temporary or not self.live.may_exist(name)

    # -- what statements do ----------------------------------------------------------

    def observe(self, info: StatementInfo, in_plan: bool = True) -> None:
        """Follow what ``info`` creates, fills, renames and drops. ``in_plan``: False for
        an applied migration, whose tables exist already."""
        table = info.table
        if info.kind == "create_table" and table is not None:
            self._create(table, info, in_plan)
        elif info.kind == "create_other" and info.object_type == "materialized" and table:
            # Nothing reads a view the plan itself creates: indexing it blocks no one.
            self._create(table, info, in_plan)
        elif info.kind in ("insert", "copy", "update") or info.kind in _WRITES_ANYTHING:
            if table is None or info.kind == DYNAMIC:  # EXECUTE's name is a statement's
                if info.kind != "copy":  # COPY (query) TO / COPY t TO: a read
                    for same_name in self._created.values():
                        for created in same_name:
                            created.empty = False
            else:
                for created in self._maybe(table):
                    created.empty = False
        elif info.kind in ("drop_table", "drop_other") and (
            info.kind == "drop_table" or info.object_type == "materialized view"
        ):
            for dropped in info.tables:
                self._drop(dropped)
        elif info.kind == "rename_table":
            for old, new in info.renames:  # in order: a swap goes through a third name
                self._rename(old, new)
        elif info.kind == "alter_table" and table and info.new_name:
            # ALTER TABLE s.t RENAME TO u keeps the table in its schema.
            new = info.new_name
            if new.schema is None and table.schema:
                new = Name(new.name, table.schema, raw=(table.raw[0], *new.raw[-1:])
                           if len(table.raw) == 2 else ())
            self._rename(table, new)

    def renames_of_new(self, renames: tuple[tuple[Name, Name], ...]) -> list[bool]:
        """For each (old, new) pair of one RENAME TABLE, whether ``old`` is surely a new
        table when the server reaches that pair (the earlier pairs applied first)."""
        trial = NewTables(self.dialect)  # renames ask no database
        trial._created = {loose: [dataclasses.replace(c) for c in same]
                          for loose, same in self._created.items()}
        trial._gone = set(self._gone)
        out = []
        for old, new in renames:
            out.append(trial.is_new(old))
            trial._rename(old, new)
        return out

    def _create(self, name: Name, info: StatementInfo, in_plan: bool) -> None:
        schema, key = self._keys(name)
        temporary = info.temporary or schema == _TEMP
        if info.if_exists and self._resolve(name) is not None:
            return  # IF NOT EXISTS of the plan's own table: nothing happens
        new = (in_plan and not info.or_replace and not info.filled
               and (self._surely_absent(name, temporary) if info.if_exists
                    else self.live is None or temporary
                    or self._keys(name) in self._gone or not self.live.may_exist(name)))
        if not new:
            self._forget(name)
            return
        if temporary and schema is None:
            # PostgreSQL and SQLite: a temporary table has its own schema. MySQL's lives in
            # the current database: _maybe lets every qualified name reach it there.
            schema = _TEMP
        self._add(_Created(schema, key, name.name.lower(), temporary))
        self._gone.discard(self._keys(name))

    def _forget(self, name: Name) -> None:
        maybe = self._maybe(name)
        if maybe:
            loose = name.name.lower()
            self._created[loose] = [c for c in self._created[loose] if c not in maybe]

    def _drop(self, name: Name) -> None:
        self._forget(name)
        self._gone.add(self._keys(name))

    def _rename(self, old: Name, new: Name) -> None:
        created = self._resolve(old)
        self._forget(new)
        self._forget(old)
        self._gone.add(self._keys(old))
        self._gone.discard(self._keys(new))
        if created is not None:
            schema, key = self._keys(new)
            if created.temporary and schema is None and created.schema == _TEMP:
                schema = _TEMP
            self._add(_Created(schema, key, new.name.lower(), created.temporary,
                               created.empty))

    def claim(self, name: Name) -> None:
        """Count ``name`` as a table the plan created, new and empty, whatever made it
        (a down script checked against the up that created the table: see
        validation.reversal_schema)."""
        # Not forgetting the tables ``name`` may be: the up made each, so they are others.
        schema, key = self._keys(name)
        self._add(_Created(schema, key, name.name.lower(), False))

    def _add(self, created: _Created) -> None:
        self._created.setdefault(created.loose, []).append(created)


@dataclass
class Schema:
    """What the validator knows of the schema while it walks the migrations.

    ``new_tables`` (see NewTables) and ``new_indexes`` were created within the plan, so
    they are new and empty; ``column_types`` remembers each column's declared type for
    narrowing checks and ``not_null`` the columns known to be NOT NULL. ``functions``
    (PostgreSQL: by lower-case name, how volatile each function the history created acts
    in a DEFAULT, see rules/volatility.py) and ``enums`` (enum types it created, with
    their labels) are remembered across migrations, as column types are.
    """

    new_tables: NewTables = field(default_factory=NewTables)
    new_indexes: set[str] = field(default_factory=set)
    column_types: MutableMapping[tuple[str, str], str] = field(default_factory=dict)
    not_null: MutableSet[tuple[str, str]] = field(default_factory=set)
    rebuilt_tables: set[str] = field(default_factory=set)
    #: When a down script is checked against its own up (``check``): the columns, as
    #: (table, column), and the other objects, as (object type, name), the up created.
    #: Dropping them is the ordinary reversal, not a hazard (see validation.reversal_schema).
    new_columns: set[tuple[str, str]] = field(default_factory=set)
    new_objects: set[tuple[str, str]] = field(default_factory=set)
    #: When a set, each column fact looked up and not found is added to it, as
    #: ``("type" | "not_null", (table, column))``: a migration checked without the
    #: migrations before it (see parallel_check) says what it might have missed.
    misses: set[tuple[str, tuple[str, str]]] | None = None
    functions: dict[str, str] = field(default_factory=dict)
    enums: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    #: The server the migrations will run on (``--server-version`` or the live one's),
    #: as numbers; None: unknown (rules then assume a current server).
    server_version: tuple[int, ...] | None = None

    def function_volatility(self, name: str) -> str | None:
        """How volatile the history's function ``name`` is, None when it made none."""
        found = self.functions.get(name.lower())
        if found is None and self.misses is not None:
            self.misses.add(("function", (name.lower(), "")))
        return found

    def column_type(self, table: str, column: str) -> str | None:
        """The declared type of ``table.column`` the migrations so far gave it."""
        found = self.column_types.get((table, column))
        if found is None and self.misses is not None:
            self.misses.add(("type", (table, column)))
        return found

    def known_not_null(self, table: str, column: str) -> bool:
        """Whether the migrations so far made ``table.column`` NOT NULL."""
        if (table, column) in self.not_null:
            return True
        if self.misses is not None:
            self.misses.add(("not_null", (table, column)))
        return False

    def is_new(self, table: object) -> bool:
        """Whether ``table`` (a Name or str) was created within the plan and nothing has
        written rows into it since (see NewTables)."""
        return self.new_tables.is_new(table)


@dataclass(frozen=True)
class StatementContext:
    """What a statement rule sees besides the statement itself."""

    dialect: str | None
    migration: Migration
    statement: Statement
    schema: Schema
    statements_in_migration: tuple[tuple[Statement, StatementInfo], ...]
    #: The server's version (MariaDB's from 10, MySQL's 5 to 9); None: unknown, and the
    #: version-aware rules assume a current server.
    server_version: tuple[int, ...] | None = None

    @property
    def is_first_ddl(self) -> bool:
        """Whether this is the migration's first schema-changing statement."""
        first = next((s for s, i in self.statements_in_migration if i.is_ddl), None)
        return first is self.statement


#: A statement check yields one message per problem it sees.
StatementCheck = Callable[[StatementInfo, StatementContext], Iterator[str]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One hazard rule with its documentation, built with keywords only.

    ``check`` is set for rules that look at single statements; rules over the whole
    project or the database state are run by the validation pipeline. ``loses_data``
    says that a finding of the rule means rows or objects holding data can be destroyed:
    the gate counts such a migration as destructive (see :func:`data_loss_codes`).
    """

    code: str
    name: str
    severity: Severity
    dialects: frozenset[str]
    summary: str
    why: str
    instead: str
    example: str
    fixed: str = ""
    check: StatementCheck | None = None
    kinds: frozenset[str] | None = None  # statement kinds the check looks at (None: all)
    loses_data: bool = False

    def applies_to(self, dialect: str | None) -> bool:
        """Whether the rule runs for ``dialect`` (None: every rule runs)."""
        return dialect is None or dialect in self.dialects

    def docs(self) -> str:
        """The rule's documentation as plain text."""
        dialects = ", ".join(sorted(self.dialects))
        parts = [
            f"{self.code} {self.name} ({self.severity.value}; {dialects})",
            "",
            self.summary,
            "",
            f"Why: {self.why}",
            "",
            f"Instead: {self.instead}",
            "",
            "Example:",
            *(f"    {line}" for line in self.example.splitlines()),
        ]
        if self.fixed:
            parts += ["", "Use instead:", *(f"    {line}" for line in self.fixed.splitlines())]
        return "\n".join(parts)


def rule_anchor(code: str, name: str) -> str:
    """The anchor of a rule's section in docs/rules.md, e.g. ``sg301-drop-table``."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{code}-{name}".lower()).strip("-")
