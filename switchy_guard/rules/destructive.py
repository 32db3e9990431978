"""Data-loss rules: statements that destroy data (SG301-SG308)."""

from __future__ import annotations

from collections.abc import Iterator

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, PM, Rule, StatementContext
from switchy_guard.rules.types import is_lossy
from switchy_guard.sql.classify import StatementInfo


def _hidden_drops(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    """Statements that destroy a table's data without saying DROP (MariaDB/MySQL)."""
    if info.kind == "create_table" and info.or_replace and info.table is not None \
            and not ctx.schema.is_new(info.table):
        yield (f"CREATE OR REPLACE TABLE drops the existing table {info.table} and every row "
               "in it before creating the new one")
    if info.kind == "alter_table" and not ctx.schema.is_new(info.table):
        for action in info.actions:
            if action.kind == "discard_tablespace":
                which = f"partitions {action.constraint} of " if action.constraint else ""
                yield (f"DISCARD TABLESPACE deletes the data file of {which}{info.table}: "
                       "every row in it is gone")


def _drop_table(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    yield from _hidden_drops(info, ctx)
    if info.kind == "alter_table" and not ctx.schema.is_new(info.table):
        for action in info.actions:
            if action.kind == "drop_partition":
                yield f"drops partition {action.constraint} of {info.table} and every row in it"
    if info.kind != "drop_table":
        return
    for table in info.tables:
        if ctx.schema.is_new(table) or table.name in ctx.schema.rebuilt_tables:
            continue
        yield f"drops table {table} and every row in it"


DROP_TABLE = Rule(
    code="SG301", name="drop-table", severity=Severity.ERROR, dialects=ALL,
    summary="A DROP TABLE (or MySQL's ALTER TABLE ... DROP PARTITION or DISCARD TABLESPACE, "
            "MariaDB's CREATE OR REPLACE TABLE over an existing table) destroys the table and its "
            "data.",
    why="Dropping a table deletes its rows for good, and any application version still "
        "deployed that reads or writes it starts failing.",
    instead="Stop using the table in the application first, keep a backup, and drop it in a later "
            "release; rename it first if you want a grace period.",
    example="DROP TABLE audit_log;",
    fixed="-- release N: stop reading audit_log; release N+1:\n"
          "-- switchy-guard: allow drop-table -- unused since release N, backed up\n"
          "DROP TABLE audit_log;",
    check=_drop_table,
    kinds=frozenset({"drop_table", "alter_table", "create_table"}),
    loses_data=True,
)


def _drop_column(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind != "alter_table" or ctx.schema.is_new(info.table):
        return
    for action in info.actions:
        if action.kind == "drop_column" and (
                info.table is None or (info.table.name, action.column or "")
                not in ctx.schema.new_columns):
            yield f"drops column {info.table}.{action.column} and its data"


DROP_COLUMN = Rule(
    code="SG302", name="drop-column", severity=Severity.ERROR, dialects=ALL,
    summary="ALTER TABLE ... DROP COLUMN destroys the column's data.",
    why="The values are gone for good, and application code that still selects or inserts the "
        "column fails as soon as the migration runs.",
    instead="Stop reading and writing the column in one release, then drop it in a later one.",
    example="ALTER TABLE users DROP COLUMN legacy_name;",
    fixed="-- switchy-guard: allow drop-column -- unused since v2.3\n"
          "ALTER TABLE users DROP COLUMN legacy_name;",
    check=_drop_column,
    kinds=frozenset({"alter_table"}),
    loses_data=True,
)


def _drop_schema(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "drop_schema" and info.object_type == "owned":
        for role in info.tables:
            yield f"drops every object {role} owns in this database, tables and their rows"
        return
    if info.kind == "drop_schema":
        for name in info.tables or ("",):
            if (info.object_type or "", getattr(name, "name", "")) in ctx.schema.new_objects:
                continue  # a down script dropping the schema its up created
            yield f"drops {info.object_type} {name}".rstrip() + " and everything in it"


DROP_SCHEMA = Rule(
    code="SG303", name="drop-schema-or-database", severity=Severity.ERROR, dialects=PM,
    summary="DROP SCHEMA or DROP DATABASE removes every object inside it (PostgreSQL's DROP OWNED "
            "BY, every object a role owns).",
    why="A whole schema or database, with all its tables and data, disappears in one statement.",
    instead="Do this by hand with a verified backup, never as an application migration.",
    example="DROP SCHEMA reporting CASCADE;",
    fixed="-- archive and drop by hand, outside the migrations",
    check=_drop_schema,
    kinds=frozenset({"drop_schema"}),
    loses_data=True,
)


def _truncate(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "alter_table" and not ctx.schema.is_new(info.table):
        for action in info.actions:
            if action.kind == "exchange_partition":
                yield (f"EXCHANGE PARTITION moves every row of partition {action.constraint} of "
                       f"{info.table} out to table {action.new_name} (and that table's rows in)")
            if action.kind == "truncate_partition":
                which = ("every partition" if action.constraint == "all"
                         else f"partition {action.constraint}")
                yield f"empties {which} of {info.table}"
    if info.kind != "truncate":
        return
    for table in info.tables or ((info.table,) if info.table else ()):
        if not ctx.schema.is_new(table):
            cascade = " and, with CASCADE, every table referencing it" if info.cascade else ""
            yield f"empties table {table}{cascade}"


TRUNCATE = Rule(
    code="SG304", name="truncate", severity=Severity.ERROR, dialects=ALL,
    summary="TRUNCATE deletes every row of a table (CASCADE: of the tables referencing it too; "
            "MySQL's TRUNCATE PARTITION: of the partition; EXCHANGE PARTITION moves them out).",
    why="All rows are gone at once, without a WHERE to limit it; CASCADE silently extends it "
        "to other tables.",
    instead="Delete only the rows you mean to with DELETE ... WHERE, in batches for large tables.",
    example="TRUNCATE TABLE sessions CASCADE;",
    fixed="DELETE FROM sessions WHERE expires_at < now();",
    check=_truncate,
    kinds=frozenset({"truncate", "alter_table"}),
    loses_data=True,
)


def _delete_without_where(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind != "delete" or info.has_where:
        return
    for table in info.tables or (info.table,):  # MySQL: DELETE t1, t2 FROM t1 JOIN t2 ...
        if not ctx.schema.is_new(table):
            yield f"deletes every row of {table} (no WHERE clause)"


DELETE_WITHOUT_WHERE = Rule(
    code="SG305", name="delete-without-where", severity=Severity.ERROR, dialects=ALL,
    summary="DELETE without WHERE (or with a constant one, WHERE 1 = 1) removes every row.",
    why="Usually a forgotten condition; on a large table it also holds locks for a long time.",
    instead="Add the WHERE clause that says which rows go.",
    example="DELETE FROM orders;",
    fixed="DELETE FROM orders WHERE status = 'abandoned';",
    check=_delete_without_where,
    kinds=frozenset({"delete"}),
    loses_data=True,
)


def _replace_rows(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "insert" and info.or_replace and not ctx.schema.is_new(info.table):
        yield (f"REPLACE deletes each row of {info.table} whose key a new row repeats, then "
               "inserts the new row: columns it leaves out lose their values, and rows "
               "referencing the old one through ON DELETE CASCADE are deleted")


def _update_without_where(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    yield from _replace_rows(info, ctx)
    if info.kind == "update" and not info.has_where and not ctx.schema.is_new(info.table):
        yield f"updates every row of {info.table} (no WHERE clause)"


UPDATE_WITHOUT_WHERE = Rule(
    code="SG306", name="update-without-where", severity=Severity.WARNING, dialects=ALL,
    summary="UPDATE without WHERE rewrites every row (REPLACE INTO, which deletes and reinserts "
            "the rows it repeats, is reported too).",
    why="It overwrites the column in every row (the old values are lost) and locks the whole "
        "table while it runs.",
    instead="Add a WHERE clause, and backfill large tables in batches.",
    example="UPDATE users SET plan = 'free';",
    fixed="UPDATE users SET plan = 'free' WHERE plan IS NULL;",
    check=_update_without_where,
    kinds=frozenset({"update", "insert"}),
    loses_data=True,
)


def _drop_other(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "drop_other":
        made_here = _created_earlier_here(info.object_type, ctx)
        for name in info.tables or ("",):  # MySQL's DROP USER 'app'@'%' has no plain name
            plain = getattr(name, "name", None)
            if plain not in made_here and (info.object_type or "", plain or "") not in (
                    ctx.schema.new_objects):
                yield f"drops {info.object_type} {name}".rstrip()


def _created_earlier_here(object_type: str | None, ctx: StatementContext) -> set[str]:
    """Names of the ``object_type`` objects created earlier in this migration: nothing
    outside it can depend on them yet (a helper function dropped at the end)."""
    made: set[str] = set()
    for statement, info in ctx.statements_in_migration:
        if statement is ctx.statement:
            break
        if (info.kind == "create_other" and info.object_type == object_type
                and info.table is not None):
            made.add(info.table.name)
    return made


DROP_OTHER = Rule(
    code="SG307", name="drop-other-object", severity=Severity.WARNING, dialects=ALL,
    summary="Dropping a view, function, type, sequence, trigger or extension.",
    why="Code and other objects that depend on it break, and a dropped sequence or trigger "
        "changes what future writes do.",
    instead="Check nothing depends on it any more, and keep its definition in the down script.",
    example="DROP FUNCTION compute_totals;",
    fixed="-- switchy-guard: allow drop-other-object -- replaced by compute_totals_v2\n"
          "DROP FUNCTION compute_totals;",
    check=_drop_other,
    kinds=frozenset({"drop_other"}),
    loses_data=True,
)


def _alter_type_lossy(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind != "alter_table" or info.table is None or ctx.schema.is_new(info.table):
        return  # a table created in the plan is empty: no value can be lost
    for action in info.actions:
        if action.kind != "alter_type" or not action.column or not action.type:
            continue
        old = ctx.schema.column_type(info.table.name, action.column)
        # An unknown old type (a table of no earlier migration) is SG405's alone: a
        # lossy change is only called so when both types are known.
        if old is not None and is_lossy(old, action.type, ctx.dialect, ctx.schema.enums):
            yield (
                f"changes {info.table}.{action.column} from {old} to {action.type}: "
                "values that do not fit are rejected, cut or rounded"
            )


ALTER_TYPE_LOSSY = Rule(
    code="SG308", name="alter-type-lossy", severity=Severity.ERROR, dialects=ALL,
    summary="Narrowing a column's type (text → varchar(10), bigint → int, numeric scale down, "
            "float or text → integer, text → enum), when the old type is known from the history. "
            "timestamp → timestamptz, int → bigint and int → double precision lose nothing.",
    why="Values that do not fit the new type make the migration fail midway, or are silently "
        "truncated or rounded (MySQL in non-strict mode).",
    instead="Check the data fits first (SELECT max(length(col)) ...), or add a new column, "
            "backfill it with explicit conversions, and switch over.",
    example="ALTER TABLE users ALTER COLUMN bio TYPE varchar(100);",
    fixed="-- after SELECT max(length(bio)) FROM users returned < 100:\n"
          "-- switchy-guard: allow alter-type-lossy -- longest bio is 87 characters\n"
          "ALTER TABLE users ALTER COLUMN bio TYPE varchar(100);",
    check=_alter_type_lossy,
    kinds=frozenset({"alter_table"}),
    loses_data=True,
)

RULES = (
    DROP_TABLE, DROP_COLUMN, DROP_SCHEMA, TRUNCATE, DELETE_WITHOUT_WHERE,
    UPDATE_WITHOUT_WHERE, DROP_OTHER, ALTER_TYPE_LOSSY,
)
