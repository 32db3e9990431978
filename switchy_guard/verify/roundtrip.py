"""``verify``: prove the down scripts on a scratch database.

For each migration in order: snapshot the schema, apply up, snapshot, apply down, compare
with the snapshot before up, apply up again and compare with the snapshot after the first
up. Snapshots come from SQLAlchemy's inspector: tables and their comments, views and
their definitions, columns (type, nullability, default and comment), primary keys,
indexes (columns or expressions, uniqueness, WHERE and options), unique and CHECK
constraints and foreign keys (with their actions), and from the database's catalog:
triggers, functions and procedures (PostgreSQL, MySQL/MariaDB) and sequences
(PostgreSQL, MariaDB) with their definitions; the tracking table and its side tables
(``<table>_*``) are left out. Definitions are compared in :func:`canonical_sql` form.

Only the scratch database is touched: a temporary SQLite file by default, the URL given
(which must hold an empty database), or a fresh database created beside the ``-d``
database on its server and dropped afterwards (:func:`scratch_database_for`).
Migrations are applied with :class:`~switchy_guard.runtime.runner.Migrator` (``Steps(1)`` up,
``Steps(1)`` down), so verify runs the same runner code as ``migrate`` and ``rollback``.
"""

from __future__ import annotations

import re
import tempfile
import uuid
import warnings
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from switchy_guard.discovery import SourceSpec
from switchy_guard.errors import ConfigError, MigrationFailed
from switchy_guard.model.migration import Migration
from switchy_guard.model.plan import Steps, UpTo
from switchy_guard.model.records import COMPLETED, DEFAULT_TABLE
from switchy_guard.runtime.db import (
    access_refused,
    connect,
    create_database_engine,
    dialect_of,
    mask_url,
    parse_url,
)
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.runner import Migrator
from switchy_guard.runtime.session_init import install_session_init
from switchy_guard.runtime.unknown_types import collect_unknown_types
from switchy_guard.sql.split import Statement, split_statements

DIALECTS = ("sqlite", "postgres", "mysql")

#: Step names of a :class:`Difference`.
STEP_UP = "up"  # the first up failed: nothing after it could be verified
STEP_DOWN = "down"  # compared with the snapshot taken before up
STEP_REUP = "re-up"  # compared with the snapshot taken after the first up

_STATE_WORDS = {
    # (step, present in the reference snapshot) -> how to say it
    (STEP_DOWN, True): "present before up, missing after down",
    (STEP_DOWN, False): "absent before up, still present after down",
    (STEP_REUP, True): "present after the first up, missing after re-up",
    (STEP_REUP, False): "absent after the first up, present after re-up",
}

TableSnapshot = dict[str, Any]
Snapshot = dict[str, TableSnapshot]


@dataclass(frozen=True)
class Difference:
    """One way the schema after a step differs from what it should be.

    ``step`` is ``"down"`` (compared with the schema before up), ``"re-up"`` (compared
    with the schema after the first up) or ``"up"`` (the first up itself failed).
    ``kind`` is ``table``, ``view``, ``column``, ``primary key``, ``index``,
    ``unique constraint``, ``check constraint``, ``foreign key``, ``trigger``,
    ``function``, ``procedure``, ``sequence`` or ``migration`` (a script that failed).
    """

    migration: str
    step: str
    kind: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.kind} {self.name}: {self.detail}"

    def to_dict(self) -> dict[str, str]:
        """The difference as JSON-ready data (with ``message``, the line ``str`` gives)."""
        return {**asdict(self), "message": str(self)}


#: Outcomes of one migration in a :class:`VerifyReport` (each migration has exactly one).
PASSED = "passed"  # up, down and up again applied, nothing differs
WITH_DIFFERENCES = "with_differences"  # the round trip ran, the schema differs
FAILED = "failed"  # an up, down or re-up script errored
IRREVERSIBLE = "irreversible"  # no down script: applied up, not verified
NOT_REACHED = "not_reached"  # an earlier up failed
APPLIED_UP_ONLY = "applied_up_only"  # not asked for (--only, --against): applied up only
OUTCOMES = (PASSED, WITH_DIFFERENCES, FAILED, IRREVERSIBLE, NOT_REACHED, APPLIED_UP_ONLY)


@dataclass
class VerifyReport:
    """What verify found.

    ``order`` lists every migration looked at, in run order; ``outcomes`` gives each one
    exactly one outcome (:data:`OUTCOMES`): ``passed``, ``with_differences``, ``failed``
    (a script errored), ``irreversible`` (no down script, applied but not verified),
    ``not_reached`` (an earlier up failed) or ``applied_up_only`` (left out by ``only``
    or ``against``, applied up without a round trip). ``verified`` lists the passed ones,
    ``skipped`` the irreversible ones. ``unknown_types`` are the column types SQLAlchemy
    does not know (compared by their name).
    """

    scratch: str = ""
    order: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    #: What chose the migrations verified (``--against main``, ``--only``), or "".
    selection: str = ""

    def _with(self, outcome: str) -> list[str]:
        return [i for i in self.order if self.outcomes.get(i) == outcome]

    @property
    def verified(self) -> list[str]:
        """The migrations that passed: up, down and up again, nothing differs."""
        return self._with(PASSED)

    @property
    def with_differences(self) -> list[str]:
        """The migrations whose round trip ran and left the schema different."""
        return self._with(WITH_DIFFERENCES)

    @property
    def failed(self) -> list[str]:
        """The migrations an up, down or re-up script of which errored."""
        return self._with(FAILED)

    @property
    def skipped(self) -> list[str]:
        """The irreversible migrations (no down script): applied, not verified."""
        return self._with(IRREVERSIBLE)

    @property
    def not_reached(self) -> list[str]:
        """The migrations after an up that failed."""
        return self._with(NOT_REACHED)

    @property
    def applied_up_only(self) -> list[str]:
        """The migrations left out by ``only``/``against``: applied up, no round trip."""
        return self._with(APPLIED_UP_ONLY)

    @property
    def counts(self) -> dict[str, int]:
        """How many migrations have each outcome, and ``total`` (their sum)."""
        counted = {outcome: len(self._with(outcome)) for outcome in OUTCOMES}
        return {**counted, "total": len(self.order)}

    @property
    def ok(self) -> bool:
        """True when no difference was found (irreversible migrations do not count)."""
        return not self.differences

    @property
    def failing(self) -> list[str]:
        """The ids of the migrations with at least one difference or failure, in run order."""
        ids = {d.migration for d in self.differences}
        return [migration_id for migration_id in self.order if migration_id in ids]

    def differences_of(self, migration_id: str) -> list[Difference]:
        """The differences found for one migration."""
        return [d for d in self.differences if d.migration == migration_id]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``verify --format json`` document)."""
        return {
            "ok": self.ok,
            "scratch": self.scratch,
            "verified": self.verified,
            "with_differences": self.with_differences,
            "failed": self.failed,
            "skipped": self.skipped,
            "not_reached": self.not_reached,
            "applied_up_only": self.applied_up_only,
            "failing": self.failing,
            "counts": self.counts,
            "selection": self.selection,
            "unknown_types": self.unknown_types,
            "differences": [d.to_dict() for d in self.differences],
        }


# -- snapshots --------------------------------------------------------------------------


def _type_text(column_type: Any, engine: Engine) -> str | None:
    """The type as DDL, lowercased; None for one SQLAlchemy does not know (its name is
    then read from the catalog, :func:`_catalog_types`)."""
    try:
        return str(column_type.compile(dialect=engine.dialect)).lower()
    except Exception:
        return None


#: Every column's type as the catalog writes it, for the types SQLAlchemy reflects as
#: NullType (an extension's: ltree, citext, geometry), which would all print alike.
_CATALOG_TYPES = {
    "postgresql": (
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped"),
    "mysql": (
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE()"),
    "mariadb": (
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE()"),
}


def _catalog_types(conn: Any, dialect: str) -> dict[tuple[str, str], str]:
    """(table, column) -> the type as the catalog writes it (SQLite: as declared)."""
    if dialect == "sqlite":
        rows = conn.execute(text(
            "SELECT m.name, p.name, p.type FROM sqlite_master m "
            "JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"))
    else:
        rows = conn.execute(text(_CATALOG_TYPES[dialect]))
    return {(str(table), str(column)): str(kind).lower() for table, column, kind in rows}


def is_excluded(name: str, table: str) -> bool:
    """True for the tracking table ``table`` and its side tables ``<table>_*``."""
    return name == table or name.startswith(f"{table}_")


def snapshot(engine: Engine, table: str = DEFAULT_TABLE) -> Snapshot:
    """The schema as SQLAlchemy's inspector and the catalogs see it, minus the tracking tables.

    Keys are table names; views are under ``"view <name>"``, triggers ``"trigger <name>"``,
    functions ``"function <name>"``, procedures ``"procedure <name>"`` (each with its
    ``definition``, :func:`canonical_sql`) and sequences ``"sequence <name>"``. Each table
    holds ``columns`` (name -> (type, nullable)), ``defaults`` and ``comments`` (name ->
    text or None), ``comment`` (the table's), ``primary_key``, ``indexes`` (name ->
    (columns or expressions, unique, predicate and options)), ``unique`` (unique
    constraints), ``checks`` (their expressions) and ``foreign_keys`` ((columns,
    referred table, referred columns, actions)). Constraint names are left out: the
    database generates them and may number them differently on each creation.
    """
    result: Snapshot = {}
    dialect = engine.dialect.name
    mariadb = bool(getattr(engine.dialect, "is_mariadb", False))
    # One connection for the whole snapshot: an inspector over the engine checks one out
    # per question (1,600 for 8 migrations of a real history, 20 s with NullPool).
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite's expression indexes are read from sqlite_master below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        inspector = inspect(conn)
        names = [n for n in sorted(inspector.get_table_names()) if not is_excluded(n, table)]
        sqlite_indexes = _sqlite_indexes(conn) if dialect == "sqlite" else {}
        # Each get_multi_* is one query for every table on PostgreSQL (a query per table
        # and question otherwise); SQLite and MySQL answer them table by table, as before.
        described_all = _by_table(inspector.get_multi_columns())
        indexes_all = _by_table(inspector.get_multi_indexes())
        unique_all = _by_table(inspector.get_multi_unique_constraints())
        foreign_keys_all = _by_table(inspector.get_multi_foreign_keys())
        primary_keys = _by_table(inspector.get_multi_pk_constraint())
        checks = _mariadb_checks(conn) if mariadb else {
            name: [c["sqltext"] for c in constraints]
            for name, constraints in _by_table(inspector.get_multi_check_constraints()).items()}
        comments: dict[str, str | None] = {}
        if dialect != "sqlite":  # SQLite has no comments
            comments = {name: value.get("text") or None
                        for name, value in _by_table(inspector.get_multi_table_comment()).items()}
        catalog: dict[tuple[str, str], str] | None = None
        for name in names:
            described = described_all.get(name, [])
            columns = {}
            for column in described:
                type_text = _type_text(column["type"], engine)
                if type_text is None:
                    if catalog is None:  # one query, only when some type is unknown
                        catalog = _catalog_types(conn, dialect)
                    type_text = catalog.get((name, column["name"]), str(column["type"]))
                columns[column["name"]] = (type_text, bool(column["nullable"]))
            defaults = {column["name"]: column.get("default") for column in described}
            indexes = {str(index["name"]): _index(index)
                       for index in indexes_all.get(name, [])}
            for index_name, parts in sqlite_indexes.get(name, {}).items():
                # SQLAlchemy cuts a WHERE at its first line break and skips an index
                # on expressions: the predicate and those come from the SQL text.
                indexes[index_name] = (indexes[index_name][:2] + parts[2:]
                                       if index_name in indexes else parts)
            unique = sorted(
                tuple(str(c) for c in constraint["column_names"])
                for constraint in unique_all.get(name, [])
            )
            foreign_keys = sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"],
                 tuple(fk["referred_columns"]), _fk_actions(fk.get("options") or {}, dialect))
                for fk in foreign_keys_all.get(name, [])
            )
            primary_key = tuple((primary_keys.get(name) or {}).get("constrained_columns") or ())
            result[name] = {
                "columns": columns, "defaults": defaults, "primary_key": primary_key,
                "indexes": indexes,
                "unique": unique, "foreign_keys": foreign_keys,
                "checks": sorted(canonical_sql(str(c)) for c in checks.get(name, ())),
                "comments": {column["name"]: column.get("comment") or None
                             for column in described},
                "comment": comments.get(name),
            }
        views = inspector.get_view_names()
        if dialect == "postgresql":  # a materialized view shares the views' names
            views += inspector.get_materialized_view_names()
        for name in sorted(views):
            if not is_excluded(name, table):
                result[f"view {name}"] = {
                    "definition": canonical_sql(_DEFINER.sub(
                        "", str(inspector.get_view_definition(name) or "")))}
        for name, table_name, definition in conn.execute(text(_TRIGGERS[dialect])):
            if not is_excluded(table_name, table):
                result[f"trigger {name}"] = {"definition": canonical_sql(str(definition))}
        if dialect in _ROUTINES:
            for kind, name, definition in conn.execute(text(_ROUTINES[dialect])):
                result[f"{kind} {name}"] = {"definition": canonical_sql(str(definition or ""))}
        if dialect == "postgresql":
            for name, definition in conn.execute(text(_PG_SEQUENCES)):
                if not is_excluded(name, table):
                    result[f"sequence {name}"] = {"definition": definition}
        elif engine.dialect.supports_sequences:  # MariaDB 10.3+
            for name in inspector.get_sequence_names():
                if not is_excluded(name, table):
                    result[f"sequence {name}"] = {"definition": ""}
    return result


def _by_table(reflected: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    """A ``get_multi_*`` answer keyed by table name (all are in the current schema)."""
    return {name: value for (_, name), value in reflected.items()}


def canonical_sql(sql: str) -> str:
    """``sql`` as two creations of the same object print it alike.

    Comments go, whitespace is kept only between two words, and everything but string
    literals is lowercased with identifier quotes removed, so a down script that restores
    a view, index or function as the up before it wrote it, give or take layout, compares
    equal (SQLite keeps the text as written; PostgreSQL keeps function bodies so).
    """
    out: list[str] = []
    space = False
    for match in _SQL_TOKENS.finditer(sql):
        kind, token = match.lastgroup, match.group()
        if kind in ("space", "comment"):
            space = True
            continue
        if kind == "quoted":
            token = token[1:-1].lower()
        elif kind == "other":
            token = token.lower()
        if space and out and _WORDISH.match(out[-1][-1]) and _WORDISH.match(token[0]):
            out.append(" ")
        space = False
        out.append(token)
    return "".join(out)


#: A comment ends at a line break or at a dollar quote: PostgreSQL prints a one-line
#: function body's closing ``$function$`` on the line of a comment in it.
_SQL_TOKENS = re.compile(r"""
    (?P<string>'(?:[^']|'')*')
  | (?P<comment>--(?:(?!\$\w*\$)[^\n])*|/\*.*?\*/)
  | (?P<quoted>"(?:[^"]|"")+"|`(?:[^`]|``)+`)
  | (?P<space>\s+)
  | (?P<other>[^'"`\s/-]+|.)
""", re.VERBOSE | re.DOTALL)
_WORDISH = re.compile(r"[\w$'\"]")
#: MySQL's view and routine texts name the user who created them.
_DEFINER = re.compile(r"\bDEFINER\s*=\s*(?:`[^`]*`|'[^']*'|[^\s@]+)(?:@(?:`[^`]*`|'[^']*'|\S+))?",
                      re.IGNORECASE)


def _index(index: Mapping[str, Any]) -> tuple[tuple[str, ...], bool, str]:
    """(columns or expressions, unique, predicate and options) of a reflected index."""
    names = index.get("expressions") or index["column_names"]
    sorting = index.get("column_sorting") or {}
    columns = tuple(" ".join((str(name), *sorting.get(name, ()))) for name in names)
    extra: list[str] = []
    for key, value in sorted((index.get("dialect_options") or {}).items()):
        if value in (None, "", [], {}, ()):
            continue
        option = key.partition("_")[2]
        if option == "where":
            extra.insert(0, f"WHERE {canonical_sql(str(value))}")
        elif isinstance(value, dict):
            extra.append(f"{option.upper()} ({', '.join(f'{k}={v}' for k, v in value.items())})")
        elif isinstance(value, (list, tuple)):
            extra.append(f"{option.upper()} ({', '.join(map(str, value))})")
        else:
            extra.append(f"{option.upper()} {value}")
    return columns, bool(index["unique"]), " ".join(extra)


def _sqlite_indexes(conn: Any) -> dict[str, dict[str, tuple[tuple[str, ...], bool, str]]]:
    """SQLite's indexes from their CREATE INDEX text (the inspector skips expression ones)."""
    out: dict[str, dict[str, tuple[tuple[str, ...], bool, str]]] = {}
    for name, table_name, sql in conn.execute(text(
            "SELECT name, tbl_name, sql FROM sqlite_master "
            "WHERE type = 'index' AND sql IS NOT NULL")):
        canonical = canonical_sql(str(sql))
        start = canonical.find("(")
        depth, end = 0, len(canonical)
        for position, char in enumerate(canonical[start:], start):  # the matching ")"
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                end = position
                break
        columns = tuple(_split_top_level(canonical[start + 1:end]))
        rest = canonical[end + 1:]
        out.setdefault(table_name, {})[name] = (
            columns, canonical.startswith("create unique"),
            f"WHERE {rest[len('where'):].strip()}" if rest.startswith("where") else rest)
    return out


def _split_top_level(sql: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in sql:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _mariadb_checks(conn: Any) -> dict[str, list[str]]:
    """MariaDB's CHECK constraints, column ones too (the inspector sees table ones only)."""
    out: dict[str, list[str]] = {}
    for table_name, clause in conn.execute(text(
            "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = DATABASE()")):
        out.setdefault(table_name, []).append(str(clause))
    return out


#: Referential actions that are the default, so the same as none written.
_DEFAULT_ACTIONS = {"NO ACTION"}
_MYSQL_DEFAULT_ACTIONS = {"NO ACTION", "RESTRICT"}  # the same thing on MySQL


def _fk_actions(options: dict[str, Any], dialect: str) -> str:
    """A foreign key's ON DELETE / ON UPDATE actions and deferral, as SQL, defaults left out."""
    defaults = _MYSQL_DEFAULT_ACTIONS if dialect in ("mysql", "mariadb") else _DEFAULT_ACTIONS
    words = []
    for key, clause in (("ondelete", "ON DELETE"), ("onupdate", "ON UPDATE")):
        action = str(options.get(key) or "").upper()
        if action and action not in defaults:
            words.append(f"{clause} {action}")
    if options.get("deferrable"):
        words.append("DEFERRABLE")
    if str(options.get("initially") or "").upper() == "DEFERRED":
        words.append("INITIALLY DEFERRED")
    if str(options.get("match") or "").upper() not in ("", "SIMPLE"):
        words.append(f"MATCH {str(options['match']).upper()}")
    return " ".join(words)



#: Each trigger of the current schema: its name (PostgreSQL's are per table, so with the
#: table's), its table and its definition.
_TRIGGERS = {
    "sqlite": "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": (
        "SELECT t.tgname || ' on ' || c.relname, c.relname, pg_get_triggerdef(t.oid) "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"),
    "mysql": (
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, CONCAT(ACTION_TIMING, ' ', "
        "EVENT_MANIPULATION, ' ON ', EVENT_OBJECT_TABLE, ' FOR EACH ROW ', ACTION_STATEMENT) "
        "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"),
}
_TRIGGERS["mariadb"] = _TRIGGERS["mysql"]

#: Functions and procedures of the current schema: kind, name (with PostgreSQL's argument
#: types, which tell overloads apart) and definition. PostgreSQL's extensions' own
#: functions are left out (they come and go with the extension); an aggregate is compared
#: by name only.
_ROUTINES = {
    "postgresql": (
        "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, "
        "p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', "
        "CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"),
    "mysql": (
        "SELECT LOWER(r.ROUTINE_TYPE), r.ROUTINE_NAME, CONCAT_WS(' ', '(', (SELECT "
        "GROUP_CONCAT(CONCAT_WS(' ', p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) "
        "ORDER BY p.ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.PARAMETERS p "
        "WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME "
        "AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0), ')', "
        "r.DTD_IDENTIFIER, r.IS_DETERMINISTIC, r.SQL_DATA_ACCESS, r.SECURITY_TYPE, "
        "r.ROUTINE_DEFINITION) "
        "FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = DATABASE()"),
}
_ROUTINES["mariadb"] = _ROUTINES["mysql"]

#: PostgreSQL's sequences of the current schema and their settings (not their values).
_PG_SEQUENCES = (
    "SELECT c.relname, concat_ws(' ', format_type(s.seqtypid, NULL), 'start', s.seqstart, "
    "'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, "
    "CASE WHEN s.seqcycle THEN 'cycle' END) "
    "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()")


def _nullable(column: tuple[str, bool]) -> str:
    return column[0] + ("" if column[1] else " NOT NULL")


_OBJECT_KINDS = ("view ", "trigger ", "function ", "procedure ", "sequence ")


def _comment(comment: str | None) -> str:
    return f"comment '{comment}'" if comment else "no comment"


def _index_text(index: tuple[Any, ...]) -> str:
    columns, unique, *extra = index
    return " ".join(part for part in (
        f"{'unique ' if unique else ''}({', '.join(columns)})", *extra) if part)


def _fks_by_columns(table: TableSnapshot) -> dict[tuple[Any, ...], set[str]]:
    out: dict[tuple[Any, ...], set[str]] = {}
    for fk in table["foreign_keys"]:
        out.setdefault(tuple(fk[:3]), set()).add(fk[3] if len(fk) > 3 else "")
    return out


def _actions_text(actions: set[str]) -> str:
    return " / ".join(sorted(a or "no actions" for a in actions))


def compare(expected: Snapshot, actual: Snapshot, migration: str, step: str
            ) -> list[Difference]:
    """Every difference of ``actual`` (after ``step``) from ``expected``.

    For ``step="down"`` the expected schema is the one before up; for ``"re-up"`` the one
    after the first up.
    """
    out: list[Difference] = []
    before = "before up" if step == STEP_DOWN else "after the first up"
    after = f"after {step}"

    def add(kind: str, name: str, present_before: bool) -> None:
        out.append(Difference(migration, step, kind, name, _STATE_WORDS[step, present_before]))

    for key in sorted(set(expected) | set(actual)):
        kind, _, table = key.partition(" ") if key.startswith(_OBJECT_KINDS) \
            else ("table", "", key)
        if key not in actual or key not in expected:
            add(kind, table, key in expected)
            continue
        if kind != "table":
            if expected[key] != actual[key]:
                out.append(Difference(migration, step, kind, table,
                                      f"defined differently {after} than {before}"))
            continue
        want, have = expected[key], actual[key]
        for column in sorted(set(want["columns"]) | set(have["columns"])):
            name = f"{table}.{column}"
            if column not in have["columns"] or column not in want["columns"]:
                add("column", name, column in want["columns"])
            elif want["columns"][column] != have["columns"][column]:
                out.append(Difference(
                    migration, step, "column", name,
                    f"{_nullable(want['columns'][column])} {before}, "
                    f"{_nullable(have['columns'][column])} {after}"))
            elif want.get("defaults", {}).get(column) != have.get("defaults", {}).get(column):
                out.append(Difference(
                    migration, step, "column", name,
                    f"default {want['defaults'][column] or 'none'} {before}, "
                    f"default {have['defaults'][column] or 'none'} {after}"))
            elif want.get("comments", {}).get(column) != have.get("comments", {}).get(column):
                out.append(Difference(
                    migration, step, "column", name,
                    f"{_comment(want['comments'][column])} {before}, "
                    f"{_comment(have['comments'][column])} {after}"))
        if want.get("comment") != have.get("comment"):
            out.append(Difference(
                migration, step, "table", table,
                f"{_comment(want.get('comment'))} {before}, "
                f"{_comment(have.get('comment'))} {after}"))
        if want["primary_key"] != have["primary_key"]:
            out.append(Difference(
                migration, step, "primary key", table,
                f"({', '.join(want['primary_key'])}) {before}, "
                f"({', '.join(have['primary_key'])}) {after}"))
        for index in sorted(set(want["indexes"]) | set(have["indexes"])):
            name = f"{index} on {table}"
            if index not in have["indexes"] or index not in want["indexes"]:
                add("index", name, index in want["indexes"])
            elif want["indexes"][index] != have["indexes"][index]:
                out.append(Difference(
                    migration, step, "index", name,
                    f"{_index_text(want['indexes'][index])} {before}, "
                    f"{_index_text(have['indexes'][index])} {after}"))
        for columns in sorted(set(want["unique"]) ^ set(have["unique"])):
            add("unique constraint", f"{table}({', '.join(columns)})",
                columns in want["unique"])
        for check in sorted(set(want.get("checks", ())) ^ set(have.get("checks", ()))):
            add("check constraint", f"{table} CHECK ({check})", check in want.get("checks", ()))
        # Foreign keys are told apart by their columns; their actions are compared.
        want_fks, have_fks = _fks_by_columns(want), _fks_by_columns(have)
        for fk in sorted(set(want_fks) | set(have_fks)):
            name = f"{table}({', '.join(fk[0])}) -> {fk[1]}({', '.join(fk[2])})"
            if fk not in have_fks or fk not in want_fks:
                add("foreign key", name, fk in want_fks)
            elif want_fks[fk] != have_fks[fk]:
                out.append(Difference(
                    migration, step, "foreign key", name,
                    f"{_actions_text(want_fks[fk])} {before}, "
                    f"{_actions_text(have_fks[fk])} {after}"))
    return out


# -- scratch databases ------------------------------------------------------------------


@contextmanager
def scratch_database_for(url: str | None = None) -> Iterator[str]:
    """The URL of a fresh, empty scratch database that exists only for the block.

    For a PostgreSQL or MySQL ``url`` a new database (``switchy_verify_<random>``) is
    created on the same server, with the same credentials, and dropped afterwards; the
    database ``url`` names is never touched. For a SQLite ``url`` or ``None`` it is a
    temporary SQLite file, deleted afterwards.
    """
    dialect = dialect_of(url) if url else "sqlite"
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="switchy-verify-") as folder:
            yield f"sqlite:///{Path(folder) / 'scratch.db'}"
        return
    assert url is not None
    name = f"switchy_verify_{uuid.uuid4().hex[:12]}"
    parsed = parse_url(url)
    # Connect to the server through the given database (it must exist to log in), or the
    # administrative one when the URL names none; only CREATE/DROP DATABASE are sent.
    if not parsed.database:
        parsed = parsed.set(database="postgres" if dialect == "postgres" else "mysql")
    server = create_engine(parsed, isolation_level="AUTOCOMMIT")
    install_session_init(server)  # every connection opened gets the session settings
    try:
        with connect(server) as conn:
            try:
                conn.execute(text(f"CREATE DATABASE {name}"))
            except DBAPIError as exc:
                if not access_refused(exc):
                    raise
                raise ConfigError(
                    f"verify could not create a scratch database on {mask_url(parsed)}: "
                    f"{database_reason(exc)}; give --scratch URL (an empty database this "
                    "user may change)") from None
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name}"))
    finally:
        server.dispose()


@contextmanager
def scratch_database(database_url: str | None, scratch_url: str | None) -> Iterator[str]:
    """``scratch_url`` as it is when given, else :func:`scratch_database_for` ``database_url``."""
    if scratch_url:
        yield scratch_url
    else:
        with scratch_database_for(database_url) as url:
            yield url


def _same_database(a: str, b: str) -> bool:
    left, right = parse_url(a), parse_url(b)
    return (left.get_backend_name(), left.host, left.port or None, left.database) == (
        right.get_backend_name(), right.host, right.port or None, right.database)


def _check_inputs(scratch_url: str | None, database_url: str | None,
                  dialect: str | None) -> None:
    if dialect is not None and dialect not in DIALECTS:
        raise ConfigError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})")
    if scratch_url:
        scratch_dialect = dialect_of(scratch_url)
        if database_url and _same_database(scratch_url, database_url):
            raise ConfigError(f"--scratch {mask_url(scratch_url)} is the -d database; "
                              "verify needs a separate, empty scratch database")
        if dialect and scratch_dialect != dialect:
            raise ConfigError(f"--scratch is a {scratch_dialect} database but the migrations "
                              f"are for {dialect}")
        return
    server_dialect = dialect_of(database_url) if database_url else "sqlite"
    if dialect and dialect != server_dialect:
        where = f"-d is a {server_dialect} database" if database_url else "no --scratch given"
        raise ConfigError(f"verify of {dialect} migrations needs a {dialect} scratch database "
                          f"({where}): give --scratch URL")


def _require_empty(engine: Engine, url: str) -> None:
    inspector = inspect(engine)
    names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
    if names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ConfigError(f"the scratch database {mask_url(url)} is not empty ({shown}); "
                          "verify changes it, so it needs an empty database")


# -- verify -----------------------------------------------------------------------------


def verify(
    source: SourceSpec,
    scratch_url: str | None = None,
    *,
    database_url: str | None = None,
    dialect: str | None = None,
    table: str = DEFAULT_TABLE,
    checksum_mode: str = "file",
    only: Collection[str] | None = None,
    against: str | None = None,
    migrations_dir: str | Path | None = None,
    setup: str | Path | None = None,
) -> VerifyReport:
    """Apply up, down and up again for each migration on a scratch database; compare.

    ``scratch_url`` names an empty database verify may change (refused when it is not
    empty, or when it is ``database_url``). Without it: a fresh database beside
    ``database_url`` on its PostgreSQL/MySQL server (dropped afterwards), else a
    temporary SQLite file. ``dialect`` (``sqlite``, ``postgres``, ``mysql``) says which
    database the migrations are written for; a scratch database of another kind is
    refused. ``table`` is the tracking table (it and ``<table>_*`` are not compared).

    ``only`` (ids) or ``against`` (a git revision; ``migrations_dir`` is then the folder
    to read there) verify fewer: only the named migrations, or those new or changed since
    that revision; the others are applied up only, without a round trip
    (``applied_up_only``). ``setup`` is an SQL file run on the scratch database before
    the first up (tables of the host application the migrations refer to).

    Differences are reported by migration and object; a down script or a second up that
    fails is a failure, and verification goes on with the next migration. A first up
    that fails ends it (the rest are ``not_reached``). Migrations without a down script
    are applied and counted ``irreversible``; they are not a failure.

    Raises :class:`~switchy_guard.errors.ConfigError` (exit 2) for bad input: an unknown
    id in ``only``, a setup script that fails (naming its file and line).
    """
    _check_inputs(scratch_url, database_url, dialect)
    if only is not None and against is not None:
        raise ConfigError("verify takes --only or --against, not both")
    if only is not None and not only:
        raise ConfigError("--only needs at least one migration id")
    where = scratch_url or database_url
    setup_statements = (_read_setup(setup, dialect_of(where) if where else "sqlite")
                         if setup is not None else None)
    report = VerifyReport()
    unknown: set[str] = set()
    with scratch_database(database_url, scratch_url) as url, collect_unknown_types(unknown):
        report.scratch = mask_url(url)
        # No pool: up, down and up again each get a session of their own, as separate
        # migrate and rollback commands would (a temporary table dies with its session).
        engine = create_database_engine(url, poolclass=NullPool)
        try:
            _require_empty(engine, url)
            migrator = Migrator(source, engine, table=table, checksum_mode=checksum_mode)
            chosen = _chosen(migrator, only, against, migrations_dir, checksum_mode, report)
            if setup is not None and setup_statements is not None:
                _run_setup(engine, setup, setup_statements)
            _verify_each(migrator, engine, table, report, chosen)
        finally:
            engine.dispose()
    report.unknown_types = sorted(unknown)
    return report


def _read_setup(setup: str | Path, dialect: str) -> list[Statement]:
    """The statements of the ``--setup`` script (read before any database is touched)."""
    path = Path(setup)
    try:
        sql = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read the --setup script: {reason}", path=path) from None
    return split_statements(sql, dialect)


def _run_setup(engine: Engine, setup: str | Path, statements: list[Statement]) -> None:
    """Run the setup script's statements in order, each committed; the first that fails
    is a ConfigError naming the file and its line."""
    with connect(engine) as conn:
        for statement in statements:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(statement.text)
                conn.connection.commit()
            except conn.dialect.loaded_dbapi.Error as exc:
                raise ConfigError(
                    f"line {statement.line}: the --setup script failed on the scratch "
                    f"database: {database_reason(exc)}", path=setup) from None
            finally:
                cursor.close()


def _chosen(migrator: Migrator, only: Collection[str] | None, against: str | None,
            migrations_dir: str | Path | None, checksum_mode: str,
            report: VerifyReport) -> set[str] | None:
    """The ids to verify with a round trip (None: all of them)."""
    migrations = migrator.migrations()
    if only is not None:
        known = {m.id for m in migrations}
        unknown = [i for i in dict.fromkeys(only) if i not in known]
        if unknown:
            raise ConfigError(f"--only names unknown migration(s): {', '.join(unknown)}")
        report.selection = f"--only {' '.join(dict.fromkeys(only))}"
        return set(only)
    if against is None:
        return None
    from switchy_guard.discovery.git import migrations_at_revision

    if migrations_dir is None:
        raise ConfigError("--against needs a migrations folder (-m DIR)")
    base = {m.id: m for m in migrations_at_revision(migrations_dir, against,
                                                    migrator.dialect, checksum_mode)}
    report.selection = f"--against {against}"
    # New since the base, or changed there: a down script fixed in the pull request is
    # what needs verifying most.
    return {m.id for m in migrations
            if m.id not in base or (base[m.id].up_checksum, base[m.id].down_checksum)
            != (m.up_checksum, m.down_checksum)}


def _record(report: VerifyReport, migration_id: str, outcome: str) -> None:
    report.order.append(migration_id)
    report.outcomes[migration_id] = outcome


def _verify_each(migrator: Migrator, engine: Engine, table: str, report: VerifyReport,
                 chosen: set[str] | None = None) -> None:
    migrations = migrator.migrations()
    # Migrations whose re-up failed, recorded as applied on a schema their up did not
    # build: a later up that fails may be failing because of them.
    not_rebuilt: list[str] = []
    # The schema a migration's up starts from is the one the previous step left, when
    # that step ended with a snapshot (a full snapshot is a few dozen catalog queries).
    current: Snapshot | None = None
    position = 0
    while position < len(migrations):
        if chosen is not None and migrations[position].id not in chosen:
            # A run of migrations not chosen: applied up in one go, no snapshot.
            end = position
            while end < len(migrations) and migrations[end].id not in chosen:
                end += 1
            run = migrations[position:end]
            try:
                migrator.migrate(UpTo(run[-1].id))
            except MigrationFailed as error:
                done = next((i for i, m in enumerate(run) if m.id == error.migration_id), 0)
                for migration in run[:done]:
                    _record(report, migration.id, APPLIED_UP_ONLY)
                _up_failed(report, migrations, position + done, error, not_rebuilt)
                return
            for migration in run:
                _record(report, migration.id, APPLIED_UP_ONLY)
            current, position = None, end
            continue
        migration = migrations[position]
        before = current if current is not None else snapshot(engine, table)
        try:
            migrator.migrate(Steps(1))
        except MigrationFailed as error:
            _up_failed(report, migrations, position, error, not_rebuilt)
            return
        current = _round_trip(migrator, engine, table, report, migration, before, not_rebuilt)
        position += 1


def _record_applied(migrator: Migrator, engine: Engine, migration: Migration) -> None:
    """Record ``migration`` completed (a failed step left it so, or half so), and forget
    the statement progress a statement-by-statement run kept, so the next up runs."""
    with engine.begin() as conn:
        migrator.tracking.record(
            conn, migration.id, COMPLETED, migration.up_checksum,
            migration.down_checksum, replace=True)
        migrator.tracking.ensure_progress(conn)
        migrator.tracking.clear_progress(conn, migration.id)


def _up_failed(report: VerifyReport, migrations: list[Migration], position: int,
               error: MigrationFailed, not_rebuilt: list[str]) -> None:
    """The up of ``migrations[position]`` failed: it failed, the rest are not reached."""
    migration = migrations[position]
    suspects = (f" (the re-up of {', '.join(not_rebuilt)} failed earlier, so this "
                "up ran on a schema it did not build: look there first)"
                if not_rebuilt else "")
    report.differences.append(Difference(
        migration.id, STEP_UP, "migration", migration.id,
        f"up failed, the migrations after it were not verified: {error.reason}{suspects}"))
    _record(report, migration.id, FAILED)
    for later in migrations[position + 1:]:
        _record(report, later.id, NOT_REACHED)


def _round_trip(migrator: Migrator, engine: Engine, table: str, report: VerifyReport,
                migration: Migration, before: Snapshot, not_rebuilt: list[str]
                ) -> Snapshot | None:
    """Down and up again for ``migration`` (its up just applied); its outcome recorded.
    Returns the schema snapshot it ends with, when it took one."""
    after_up = snapshot(engine, table)
    if not migration.reversible:
        _record(report, migration.id, IRREVERSIBLE)
        return after_up
    try:
        migrator.rollback(Steps(1))
    except MigrationFailed as error:
        report.differences.append(Difference(
            migration.id, STEP_DOWN, "migration", migration.id,
            f"the down script failed: {error.reason}"))
        _record(report, migration.id, FAILED)
        # Still applied (as far as a failed down goes): the next migration builds on it.
        # A down run statement by statement (MySQL DDL) left its row in_progress, which
        # the next up would refuse.
        _record_applied(migrator, engine, migration)
        return None
    found = compare(before, snapshot(engine, table), migration.id, STEP_DOWN)
    report.differences += found
    try:
        migrator.migrate(Steps(1))
    except MigrationFailed as error:
        report.differences.append(Difference(
            migration.id, STEP_REUP, "migration", migration.id,
            f"up failed after down (down left something behind): {error.reason}"))
        _record(report, migration.id, FAILED)
        # Record it applied so the next migrations can be verified on top of it.
        not_rebuilt.append(migration.id)
        _record_applied(migrator, engine, migration)
        return None
    current = snapshot(engine, table)
    again = compare(after_up, current, migration.id, STEP_REUP)
    report.differences += again
    _record(report, migration.id, WITH_DIFFERENCES if found or again else PASSED)
    return current
