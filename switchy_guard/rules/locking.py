"""Locking and availability rules (SG401-SG410)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, PM, M, P, Rule, S, StatementContext
from switchy_guard.rules.types import is_same_type, parse_type, rewrites
from switchy_guard.rules.volatility import BUILTIN_VOLATILE, called
from switchy_guard.sql.classify import AlterAction, Cursor, StatementInfo, tokenize


def _existing_alter(info: StatementInfo, ctx: StatementContext) -> bool:
    return info.kind == "alter_table" and not ctx.schema.is_new(info.table)


def _reindex(ctx: StatementContext) -> Iterator[str]:
    """REINDEX [(options)] INDEX|TABLE|SCHEMA|DATABASE|SYSTEM name, without CONCURRENTLY."""
    toks = tokenize(ctx.statement.text, ctx.dialect)
    if not toks or toks[0].up != "REINDEX":
        return
    cur = Cursor(toks, 1)
    if cur.peek() is not None and cur.peek().text == "(":  # type: ignore[union-attr]
        while cur.peek() is not None and cur.peek().text != ")":  # type: ignore[union-attr]
            cur.pos += 1
        cur.pos += 1
    target = cur.peek()
    what = target.up if target is not None else ""
    cur.pos += 1
    name = cur.name()
    if what == "INDEX" and name is not None and name.name not in ctx.schema.new_indexes:
        yield (f"rebuilds index {name} while blocking writes to its table (and queries "
               "that would use the index)")
    elif what == "TABLE" and name is not None and not ctx.schema.is_new(name):
        yield f"rebuilds every index of {name} while blocking writes to it"
    elif what in ("SCHEMA", "DATABASE", "SYSTEM"):
        yield f"rebuilds every index of the {what.lower()} while blocking writes to each table"


def _index_not_concurrent(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.concurrently:
        return
    if info.kind == "maintenance":
        yield from _reindex(ctx)
        return
    if info.kind == "create_index" and not ctx.schema.is_new(info.table):
        yield f"builds an index on {info.table} while blocking writes to it"
    elif info.kind == "drop_index" and info.index and info.index.name not in (
        ctx.schema.new_indexes
    ):
        yield f"drops index {info.index} under an exclusive lock on its table"


INDEX_NOT_CONCURRENT = Rule(
    code="SG401", name="index-not-concurrent", severity=Severity.WARNING, dialects=P,
    summary="CREATE/DROP INDEX or REINDEX without CONCURRENTLY on an existing table.",
    why="A plain CREATE INDEX (or REINDEX) holds a lock that blocks every INSERT, UPDATE and "
        "DELETE on the table until the index is built; on a large table that is minutes of "
        "downtime.",
    instead="Use CREATE INDEX CONCURRENTLY (or DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY, "
            "PostgreSQL 12+) in a migration of its own with transactional = false in "
            "metadata.toml.",
    example="CREATE INDEX orders_user_id ON orders (user_id);",
    fixed="-- metadata.toml: transactional = false\n"
          "CREATE INDEX CONCURRENTLY orders_user_id ON orders (user_id);",
    check=_index_not_concurrent,
    kinds=frozenset({"create_index", "drop_index", "maintenance"}),
)


def _concurrently_in_transaction(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not info.concurrently:
        return
    if ctx.statement.block is not None:
        yield (
            "CONCURRENTLY inside a DO block: PostgreSQL refuses it in a function or block "
            "('cannot be executed from a function'), so this migration fails"
        )
        return
    # The statements a block runs are part of it, not more statements of the migration.
    others = sum(1 for s, _ in ctx.statements_in_migration if s.block is None) - 1
    if others:
        yield (
            "CONCURRENTLY cannot run in a transaction, so this whole migration runs without "
            f"one: its other {others} statement(s) lose atomicity"
        )


CONCURRENTLY_IN_TRANSACTION = Rule(
    code="SG402", name="concurrently-in-transaction", severity=Severity.ERROR, dialects=P,
    summary="CONCURRENTLY in a migration that also holds other statements, or inside a DO block.",
    why="PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and ALTER "
        "TABLE ... DETACH PARTITION ... CONCURRENTLY inside a transaction block, so the "
        "runner has to run the migration statement by statement: a failure then leaves the "
        "other statements half applied. Inside a DO block (or a function) it is refused "
        "outright, so the migration fails.",
    instead="Put the CONCURRENTLY statement alone in its own migration with transactional = false.",
    example="CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON orders (id);",
    fixed="-- a migration of its own, metadata.toml: transactional = false\n"
          "CREATE INDEX CONCURRENTLY t_id ON orders (id);",
    check=_concurrently_in_transaction,
    kinds=frozenset({"create_index", "drop_index", "maintenance", "alter_table"}),
)


def _add_not_null_no_default(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx):
        return
    for action in info.actions:
        if (
            action.kind == "add_column" and action.not_null
            and (action.default is None or action.default.upper() == "NULL")
            and "serial" not in (action.type or "") and action.generated is None
        ):
            yield f"adds NOT NULL column {info.table}.{action.column} without a default"


ADD_NOT_NULL_NO_DEFAULT = Rule(
    code="SG403", name="add-column-not-null-no-default", severity=Severity.ERROR, dialects=ALL,
    summary="ADD COLUMN ... NOT NULL without a DEFAULT.",
    why="Existing rows have no value for the new column: the migration fails on any non-empty "
        "table (MySQL in non-strict mode fills in 0 or '' instead, silently).",
    instead="Add the column with a DEFAULT, or add it nullable, backfill it, then set NOT NULL.",
    example="ALTER TABLE users ADD COLUMN plan TEXT NOT NULL;",
    fixed="ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free';",
    check=_add_not_null_no_default,
    kinds=frozenset({"alter_table"}),
)


def _set_not_null(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx):
        return
    for action in info.actions:
        if action.kind == "set_not_null":
            yield f"sets NOT NULL on {info.table}.{action.column}: a full scan under lock"
        elif (
            action.kind == "alter_type" and action.not_null and info.table is not None
            and not ctx.schema.known_not_null(info.table.name, action.column or "")
        ):
            yield (f"makes {info.table}.{action.column} NOT NULL: every row is checked while "
                   "the table is locked")


SET_NOT_NULL = Rule(
    code="SG404", name="set-not-null", severity=Severity.WARNING, dialects=PM,
    summary="ALTER COLUMN ... SET NOT NULL (MySQL: MODIFY ... NOT NULL) on an existing table.",
    why="The database scans every row to check for NULLs while holding an exclusive lock that "
        "blocks reads and writes.",
    instead="On PostgreSQL add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later "
            "migration, then SET NOT NULL (which then skips the scan) and drop the check.",
    example="ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    fixed="ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
          "-- next migration:\nALTER TABLE users VALIDATE CONSTRAINT users_email_nn;",
    check=_set_not_null,
    kinds=frozenset({"alter_table"}),
)


# What changes a column whose type is restated: a cast, a collation, a character set.
_RETYPING = re.compile(r"\b(USING|COLLATE|CHARACTER\s+SET|CHARSET)\b", re.IGNORECASE)


def _restates_type(table: str, action: AlterAction, ctx: StatementContext) -> bool:
    """Whether ``action`` gives its column the type it already has (a MySQL CHANGE that
    renames it, a MODIFY that only changes NOT NULL): no rewrite, no copy."""
    return (
        action.type is not None
        and is_same_type(ctx.schema.column_type(table, action.column or ""), action.type)
        and not _retypes(ctx.statement.text)
    )


@functools.lru_cache(maxsize=64)
def _retypes(statement: str) -> bool:
    # Once per statement, not once per action: an ALTER of 4,000 restated MODIFYs scanned
    # its whole text 8,000 times (30 s). A str caches its hash, so a hit costs nothing.
    return _RETYPING.search(statement) is not None


#: ``SET TIME ZONE 'UTC'`` or ``SET timezone = 'UTC'``: zones of a fixed zero offset
#: (measured: UTC, Etc/UTC, GMT, UTC0, Zulu skip the rewrite; Europe/London does not).
_UTC_SESSION = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?:TIME\s+ZONE|timezone\s*(?:=|TO))\s*"
    r"'?(UTC|Etc/UTC|Etc/UCT|UCT|GMT|Etc/GMT|GMT0|UTC0|Zulu|Etc/Zulu|Universal|"
    r"Etc/Universal|Greenwich|Etc/Greenwich)'?\s*;?\s*$",
    re.IGNORECASE,
)


def _session_is_utc(ctx: StatementContext) -> bool:
    """Whether an earlier statement of the migration set the session's TimeZone to UTC
    (the last SET TIME ZONE before this statement decides)."""
    utc = False
    for statement, info in ctx.statements_in_migration:
        if statement is ctx.statement:
            break
        if info.kind == "set" and re.search(r"\bTIME\s*ZONE\b|\btimezone\b",
                                            statement.text, re.IGNORECASE):
            utc = _UTC_SESSION.match(statement.text) is not None
    return utc


def _type_change_rewrites(table: str, action: AlterAction, ctx: StatementContext) -> str | None:
    """Why changing ``action``'s column type rewrites the table, None when it does not."""
    old = ctx.schema.column_type(table, action.column or "")
    if old is None:
        # Read after "changes the type of t.c to <type>", as the other reasons are.
        return "from a type the migrations do not show: the table may be rewritten under " \
               "an exclusive lock"
    if ctx.dialect == "mysql":
        before, after = (parse_type(t, "mysql") for t in (old, action.type or ""))
        if before.family == after.family == "text" and after.size >= before.size:
            return None  # a text type widened: copied or not, SG409 says
    if _retypes(ctx.statement.text):
        return f"from {old} with a USING, COLLATE or character set: the table is rewritten " \
               "under an exclusive lock"
    rewrite = rewrites(old, action.type or "", ctx.dialect, ctx.schema.enums)
    if rewrite == "no" or (rewrite == "unless-utc" and _session_is_utc(ctx)):
        return None
    if rewrite == "unless-utc":
        return (f"from {old}: the table is rewritten under an exclusive lock unless the "
                "session's TimeZone is UTC (PostgreSQL 12+; say SET TIME ZONE 'UTC' first "
                "in this migration)")
    return f"from {old}: the table is rewritten under an exclusive lock"


def _alter_column_type(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx) or info.table is None:
        return
    for action in info.actions:
        if action.kind != "alter_type" or not action.type:
            continue
        if _restates_type(info.table.name, action, ctx):
            continue
        why = _type_change_rewrites(info.table.name, action, ctx)
        if why is not None:
            yield f"changes the type of {info.table}.{action.column} to {action.type} {why}"


ALTER_COLUMN_TYPE = Rule(
    code="SG405", name="alter-column-type", severity=Severity.WARNING, dialects=PM,
    summary="Changing a column's type rewrites the table (safe widenings excepted).",
    why="Most type changes rewrite every row and rebuild the indexes while the table is locked "
        "(int → bigint, CHAR(n) → text or varchar, timestamp → timestamptz unless the session's "
        "TimeZone is UTC: measured on PostgreSQL 15). varchar(n) → text, varchar(n) → "
        "varchar(m > n), numeric(p, s) → numeric(q > p, s) and more fractional seconds do not, "
        "and are not flagged; a change from a type the migrations do not show is.",
    instead="Add a new column of the new type, backfill it in batches, switch the application, "
            "then drop the old column.",
    example="ALTER TABLE events ALTER COLUMN id TYPE bigint;",
    fixed="ALTER TABLE events ADD COLUMN id_new bigint;\n-- backfill in batches, then switch",
    check=_alter_column_type,
    kinds=frozenset({"alter_table"}),
)


def _added_not_valid(info: StatementInfo, ctx: StatementContext) -> set[str]:
    """The constraints of ``info``'s table that this migration added NOT VALID before
    ``info``'s statement (or earlier in it)."""
    added: set[str] = set()
    for statement, other in ctx.statements_in_migration:
        if other.kind == "alter_table" and other.table == info.table:
            for action in other.actions:
                if action.kind == "add_constraint" and action.not_valid and action.name:
                    added.add(action.name)
        if statement is ctx.statement:
            break
    return added


def _constraint_not_valid_missing(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx):
        return
    # One transaction: the ADD's ACCESS EXCLUSIVE lock is held through the VALIDATE's scan.
    validated = [a.constraint for a in info.actions
                 if a.kind == "validate_constraint" and a.constraint]
    if validated and ctx.migration.transactional:
        added = _added_not_valid(info, ctx)
        for name in validated:
            if name in added:
                yield (f"validates {name} in the transaction that added it NOT VALID: the "
                       f"exclusive lock the ADD took on {info.table} is held through the "
                       "whole validation scan")
    for action in info.actions:
        if action.kind == "add_constraint" and action.constraint in ("foreign_key", "check") \
                and not action.not_valid:
            kind = "foreign key" if action.constraint == "foreign_key" else "check constraint"
            yield f"adds a {kind} to {info.table} and validates every row under lock"
        for inline in action.inline:
            if inline in ("foreign_key", "check"):  # a column constraint cannot be NOT VALID
                kind = "foreign key" if inline == "foreign_key" else "check constraint"
                yield (f"adds {info.table}.{action.column} with a {kind}, validated over every "
                       "row under lock")


CONSTRAINT_NOT_VALID_MISSING = Rule(
    code="SG406", name="constraint-not-valid-missing", severity=Severity.WARNING, dialects=P,
    summary="A foreign key or CHECK added with an immediate full validation scan.",
    why="Validating scans the whole table (and, for a foreign key, locks the referenced table "
        "too) while blocking writes.",
    instead="Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate migration: "
            "validation then takes only a light lock. A VALIDATE in the same (transactional) "
            "migration as its NOT VALID gains nothing: the ADD's lock is still held.",
    example="ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
            "REFERENCES users (id);",
    fixed="ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
          "REFERENCES users (id) NOT VALID;\n-- next migration:\n"
          "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;",
    check=_constraint_not_valid_missing,
    kinds=frozenset({"alter_table"}),
)


def _unique_constraint(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx) or info.options.get("LOCK") == "NONE":
        return  # MySQL's LOCK=NONE: the server refuses rather than block writes
    for action in info.actions:
        # A primary key is SG411's (add-primary-key).
        if action.kind == "add_constraint" and action.constraint == "unique" \
                and not action.using_index:
            yield f"builds a unique constraint index on {info.table} under an exclusive lock"
        if "unique" in action.inline and "primary_key" not in action.inline:
            yield (f"builds a unique constraint index on {info.table} for new column "
                   f"{action.column} under an exclusive lock")


UNIQUE_CONSTRAINT = Rule(
    code="SG407", name="unique-constraint", severity=Severity.WARNING, dialects=PM,
    summary="Adding a UNIQUE constraint builds its index under lock (a primary key: SG411).",
    why="The index behind the constraint is built while writes to the table are blocked.",
    instead="On PostgreSQL build the index first with CREATE UNIQUE INDEX CONCURRENTLY, then "
            "ADD CONSTRAINT ... UNIQUE USING INDEX.",
    example="ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    fixed="CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
          "-- next migration:\n"
          "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;",
    check=_unique_constraint,
    kinds=frozenset({"alter_table"}),
)

# A literal naming random() calls nothing. One left open runs to the end (a last lone
# backslash too): were it refused, each later quote would start another scan to the
# end (quadratic: 100,000 of them took minutes).
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*(?:'|\\?\Z)", re.DOTALL)


# PostgreSQL's serial types are an integer with DEFAULT nextval(...): a volatile default.
_SERIAL = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


def _volatile_call(default: str, ctx: StatementContext) -> str | None:
    """Why ``default`` is volatile ("" for a volatile built-in; for a function of the
    history declared VOLATILE, which one), None when it is not known to be."""
    plain = _STRING.sub("''", default)
    if BUILTIN_VOLATILE.search(plain):
        return ""
    if ctx.dialect == "mysql":
        return None  # MySQL/MariaDB refuse stored functions in a DEFAULT
    for name in called(plain):
        if ctx.schema.function_volatility(name) == "volatile":
            return f" (function {name.lower()} is VOLATILE)"
    return None


def _version(ctx: StatementContext) -> str:
    return ".".join(str(n) for n in ctx.server_version or ())


def _rewritten_before_11(action: AlterAction, ctx: StatementContext) -> bool:
    """PostgreSQL before 11 stores any non-NULL default in every existing row."""
    return (ctx.dialect == "postgres" and ctx.server_version is not None
            and ctx.server_version < (11,) and action.default is not None
            and action.default.upper() != "NULL")


def _volatile_default(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx):
        return
    for action in info.actions:
        if action.kind != "add_column":
            continue
        volatile = _volatile_call(action.default, ctx) if action.default else None
        if volatile is not None:
            yield (
                f"adds {info.table}.{action.column} with volatile default {action.default}"
                f"{volatile}: every row is rewritten"
            )
        elif _rewritten_before_11(action, ctx):
            yield (
                f"adds {info.table}.{action.column} with default {action.default}: before "
                f"PostgreSQL 11 (the server is {_version(ctx)}) every row is rewritten "
                "with it, under an ACCESS EXCLUSIVE lock"
            )
        elif (action.type or "") in _SERIAL or action.generated == "identity":
            what = action.type if action.generated != "identity" else "an identity column"
            yield (
                f"adds {info.table}.{action.column} as {what}: every existing row is "
                "given the next sequence value, so every row is rewritten"
            )


VOLATILE_DEFAULT = Rule(
    code="SG408", name="volatile-default", severity=Severity.WARNING, dialects=PM,
    summary="ADD COLUMN with a volatile DEFAULT (random(), gen_random_uuid(), "
            "clock_timestamp(), ...).",
    why="A constant default is stored once in the catalog, but a volatile one must be computed "
        "for each existing row: the table is rewritten under an exclusive lock.",
    instead="Add the column without a default (or with a constant one), backfill it in batches, "
            "then set the default for new rows.",
    example="ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
    fixed="ALTER TABLE users ADD COLUMN token uuid;\n"
          "ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();\n"
          "-- backfill existing rows in batches",
    check=_volatile_default,
    kinds=frozenset({"alter_table"}),
)

_COPY_ACTIONS = {"alter_type"}  # table_option (FORCE, ENGINE=, CONVERT): SG412


_WRITE_BLOCKING_INDEXES = {"fulltext": "FULLTEXT", "spatial": "SPATIAL"}


def _mysql_in_place(table: str, action: AlterAction, ctx: StatementContext) -> bool:
    """Whether MySQL/MariaDB change ``action``'s column type without copying the table
    (a VARCHAR widened within its length-byte class, an ENUM given labels at its end)."""
    old = ctx.schema.column_type(table, action.column or "")
    return (old is not None and action.type is not None and not _retypes(ctx.statement.text)
            and rewrites(old, action.type, "mysql", ctx.schema.enums) == "no")


def _mysql_copy_algorithm(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if ctx.schema.is_new(info.table) or info.options.get("LOCK") == "NONE":
        return  # LOCK=NONE: the server refuses what would copy or block writes
    # Even in place, a FULLTEXT or SPATIAL index is built while writes wait.
    specials = [info.object_type] if info.kind == "create_index" else [
        a.constraint for a in info.actions if a.kind == "add_index"]
    for special in specials:
        if special in _WRITE_BLOCKING_INDEXES:
            yield (f"a {_WRITE_BLOCKING_INDEXES[special]} index is built on {info.table} "
                   "while writes to it are blocked, even in place")
    if info.kind != "alter_table":
        return
    algorithm = info.options.get("ALGORITHM")
    if algorithm in ("INPLACE", "INSTANT", "NOCOPY"):
        return  # the server refuses instead of copying
    if algorithm == "COPY":
        yield f"asks for ALGORITHM=COPY on {info.table}: the table is copied under lock"
        return
    yield from _mysql_add_column_rebuilds(info, ctx)
    for action in info.actions:
        # Adding a primary key is SG411's (add-primary-key); dropping one copies.
        primary = action.kind == "drop_constraint" and action.constraint == "primary_key"
        if action.kind == "alter_type" and info.table is not None \
                and (_restates_type(info.table.name, action, ctx)
                     or _mysql_in_place(info.table.name, action, ctx)):
            continue
        if action.kind in _COPY_ACTIONS or primary:
            what = {"alter_type": f"MODIFY/CHANGE of {action.column}"}.get(
                action.kind, "dropping the primary key")
            yield f"{what} makes MySQL/MariaDB copy {info.table} while blocking writes"


def _mysql_add_column_rebuilds(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    """With a known server: an ADD COLUMN it cannot add INSTANT rebuilds the table (a
    trailing one is instant from MySQL 8.0.12 and MariaDB 10.3, one placed with FIRST or
    AFTER from 8.0.29 and 10.4). Unknown server: quiet, as before versions were known."""
    from switchy_guard.sql.locks import instant_add_column, is_mariadb

    version = ctx.server_version
    if version is None:
        return
    server = f"{'MariaDB' if is_mariadb(version) else 'MySQL'} {_version(ctx)}"
    for action in info.actions:
        if action.kind == "add_column" and not instant_add_column(version, action.position):
            yield (f"ADD COLUMN {action.column} is not instant on {server}: {info.table} "
                   "is rebuilt (INSTANT needs MySQL 8.0.12+ or MariaDB 10.3+ for a last "
                   "column, 8.0.29+ or 10.4+ with FIRST/AFTER)")


MYSQL_COPY_ALGORITHM = Rule(
    code="SG409", name="mysql-copy-algorithm", severity=Severity.WARNING, dialects=M,
    summary="An ALTER that MySQL/MariaDB can only run by copying the table, or while blocking "
            "writes.",
    why="Column type changes and dropping the primary key run with ALGORITHM=COPY: the whole "
        "table is copied and writes are blocked until it ends (whole-table rebuilds such as "
        "CONVERT TO CHARACTER SET or ENGINE= are SG412, adding a primary key SG411). "
        "A FULLTEXT or SPATIAL index is built in place, but writes wait for it too.",
    instead="Say ALGORITHM=INPLACE, LOCK=NONE (or INSTANT) so the server refuses rather than "
            "copying, and use an online schema-change tool (gh-ost, pt-online-schema-change) for "
            "changes that need a copy.",
    example="ALTER TABLE orders MODIFY COLUMN note VARCHAR(500);",
    fixed="ALTER TABLE orders MODIFY COLUMN note VARCHAR(500), ALGORITHM=INPLACE, LOCK=NONE;",
    check=_mysql_copy_algorithm,
    kinds=frozenset({"alter_table", "create_index"}),
)

_SQLITE_UNSUPPORTED = {
    "alter_type": "change a column's type",
    "set_not_null": "add NOT NULL to a column",
    "drop_not_null": "drop NOT NULL",
    "set_default": "change a default",
    "drop_default": "drop a default",
    "add_constraint": "add a constraint",
    "drop_constraint": "drop a constraint",
}


_SQLITE_CURRENT = {"CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}


def _sqlite_add_column_limit(action: AlterAction, new_table: bool) -> str | None:
    """What SQLite's ADD COLUMN refuses in ``action``, or None.

    A UNIQUE or PRIMARY KEY column is refused always; a default of CURRENT_* or an
    expression in parentheses only when the table has rows.
    """
    if "unique" in action.inline or "primary_key" in action.inline:
        return "add a UNIQUE or PRIMARY KEY column"
    default = (action.default or "").upper()
    if not new_table and (default in _SQLITE_CURRENT or default.startswith("(")):
        return f"add a column with the non-constant default {action.default}"
    return None


def _sqlite_table_rebuild(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "alter_table":
        for action in info.actions:
            refused = _SQLITE_UNSUPPORTED.get(action.kind) or (
                _sqlite_add_column_limit(action, ctx.schema.is_new(info.table))
                if action.kind == "add_column" else None
            )
            if refused:
                yield f"SQLite cannot {refused} with ALTER TABLE; {info.table} must be rebuilt"
        if info.new_name and info.new_name.name in ctx.schema.rebuilt_tables:
            yield (
                f"rebuilds table {info.new_name}: check the new table keeps every row, index, "
                "trigger and foreign key of the old one"
            )


SQLITE_TABLE_REBUILD = Rule(
    code="SG410", name="sqlite-table-rebuild", severity=Severity.WARNING, dialects=S,
    summary="A change SQLite can only make by rebuilding the table.",
    why="SQLite's ALTER TABLE cannot change types, NOT NULL, defaults or constraints, nor add "
        "a UNIQUE or PRIMARY KEY column or one whose default is not a constant; the "
        "rebuild (create a new table, copy, drop, rename) silently loses indexes, triggers and "
        "foreign keys that are not recreated, and rows if the copy is incomplete.",
    instead="Follow SQLite's 12-step procedure: PRAGMA foreign_keys=OFF, create new_t, INSERT INTO "
            "new_t SELECT ..., DROP TABLE t, ALTER TABLE new_t RENAME TO t, recreate indexes and "
            "triggers, PRAGMA foreign_key_check; and check row counts. The rule cannot see "
            "the old table's indexes, triggers and foreign keys, so the rebuild stays "
            "reported: allow it with what you checked.",
    example="ALTER TABLE users ALTER COLUMN age TYPE INTEGER;",
    fixed="CREATE TABLE new_users (id INTEGER PRIMARY KEY, age INTEGER);\n"
          "INSERT INTO new_users SELECT id, age FROM users;\nDROP TABLE users;\n"
          "-- switchy-guard: allow sqlite-table-rebuild -- rows copied, index users_age "
          "recreated, no triggers or foreign keys\n"
          "ALTER TABLE new_users RENAME TO users;\nCREATE INDEX users_age ON users (age);",
    check=_sqlite_table_rebuild,
    kinds=frozenset({"alter_table"}),
)

RULES = (
    INDEX_NOT_CONCURRENT, CONCURRENTLY_IN_TRANSACTION, ADD_NOT_NULL_NO_DEFAULT, SET_NOT_NULL,
    ALTER_COLUMN_TYPE, CONSTRAINT_NOT_VALID_MISSING, UNIQUE_CONSTRAINT, VOLATILE_DEFAULT,
    MYSQL_COPY_ALGORITHM, SQLITE_TABLE_REBUILD,
)
