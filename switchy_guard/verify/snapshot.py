"""Snapshots of a database's schema, as verify compares them.

:func:`snapshot` reads the schema through SQLAlchemy's inspector: tables and their
comments, views and their definitions, columns (type, nullability, default and comment),
primary keys, indexes (columns or expressions, uniqueness, WHERE and options), unique and
CHECK constraints and foreign keys (with their actions), and from the database's catalog:
triggers, functions and procedures (PostgreSQL, MySQL/MariaDB) and sequences
(PostgreSQL, MariaDB) with their definitions; the tracking table and its side tables
(``<table>_*``) are left out. Definitions are kept in :func:`canonical_sql` form, so two
creations of the same object compare equal.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from switchy_guard.model.records import DEFAULT_TABLE

TableSnapshot = dict[str, Any]
Snapshot = dict[str, TableSnapshot]


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
