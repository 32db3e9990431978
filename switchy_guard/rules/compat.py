"""Compatibility with the application version still running (SG501-SG503)."""

from __future__ import annotations

from collections.abc import Iterator

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, Rule, StatementContext
from switchy_guard.sql.classify import StatementInfo


def _rename_column(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind != "alter_table" or ctx.schema.is_new(info.table):
        return
    for action in info.actions:
        if action.kind in ("rename_column", "alter_type") and action.new_name and (
                "renamed column", f"{info.table.name if info.table else ''}\0"
                f"{action.column}\0{action.new_name}") not in ctx.schema.new_objects:
            yield f"renames {info.table}.{action.column} to {action.new_name}"


RENAME_COLUMN = Rule(
    code="SG501", name="rename-column", severity=Severity.WARNING, dialects=ALL,
    summary="Renaming a column breaks the application version that is still running.",
    why="During a deploy the old code keeps using the old name, and every query it sends that "
        "names the column fails until the new code is out.",
    instead="Add the new column, write to both, backfill, move reads over, then drop the old "
            "column in a later release.",
    example="ALTER TABLE users RENAME COLUMN name TO full_name;",
    fixed="ALTER TABLE users ADD COLUMN full_name TEXT;\n"
          "-- dual-write, backfill, switch, drop later",
    check=_rename_column,
    kinds=frozenset({"alter_table"}),
)


def _rename_table(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind not in ("alter_table", "rename_table") or info.new_name is None:
        return
    if info.renames:  # RENAME TABLE a TO b, c TO d: each pair, as the server applies them
        rebuilt = ctx.schema.rebuilt_tables
        new_flags = ctx.schema.new_tables.renames_of_new(info.renames)
        for (old, new), is_new in zip(info.renames, new_flags, strict=True):
            if not is_new and new.name not in rebuilt:
                yield f"renames table {old} to {new}"
        return
    if ctx.schema.is_new(info.table) or info.new_name.name in ctx.schema.rebuilt_tables:
        return
    if info.table is not None and ("renamed table", f"{info.table.name}\0{info.new_name.name}"
                                   ) in ctx.schema.new_objects:
        return  # a down script renaming back what its up renamed
    yield f"renames table {info.table} to {info.new_name}"


RENAME_TABLE = Rule(
    code="SG502", name="rename-table", severity=Severity.WARNING, dialects=ALL,
    summary="Renaming a table breaks the application version that is still running.",
    why="Old code keeps querying the old name and fails until the new code is deployed.",
    instead="Create the new table (or a view under the new name), migrate readers and writers, "
            "then drop the old one later.",
    example="ALTER TABLE customers RENAME TO clients;",
    fixed="CREATE VIEW clients AS SELECT * FROM customers;\n-- move code over, then swap",
    check=_rename_table,
    kinds=frozenset({"alter_table", "rename_table"}),
)

_LOOSENING = {
    "drop_default": "drops the default of {column}: old writers that omit it start failing",
    "drop_not_null": "drops NOT NULL of {column}: old readers may meet NULLs",
    "drop_constraint": "drops constraint {constraint}: old code relying on it may break",
}


def _drop_guarantee(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind != "alter_table" or ctx.schema.is_new(info.table):
        return
    for action in info.actions:
        template = _LOOSENING.get(action.kind)
        if (
            action.redefines and not action.not_null and action.generated is None
            and info.table is not None
            and ctx.schema.known_not_null(info.table.name, action.column or "")
        ):
            # MySQL: MODIFY/CHANGE without NOT NULL (an AUTO_INCREMENT column is a key,
            # and key columns stay NOT NULL)
            template = _LOOSENING["drop_not_null"]
        if template:
            column = f"{info.table}.{action.column}" if action.column else str(info.table)
            yield template.format(column=column, constraint=action.constraint or "")


DROP_GUARANTEE = Rule(
    code="SG503", name="drop-default-or-not-null-or-constraint", severity=Severity.WARNING,
    dialects=ALL,
    summary="Dropping a default, NOT NULL or a constraint changes what the running code can "
            "rely on.",
    why="Old writers that leave the column out fail once its default is gone; old readers may "
        "receive NULLs or rows that break invariants the constraint used to enforce.",
    instead="Deploy code that no longer relies on it first, then drop it in a later release, "
            "allowing the finding with that reason (the rule cannot see the release order).",
    example="ALTER TABLE users ALTER COLUMN plan DROP DEFAULT;",
    fixed="-- release N: always write plan explicitly; release N+1:\n"
          "-- switchy-guard: allow drop-default-or-not-null-or-constraint -- "
          "release N writes plan\n"
          "ALTER TABLE users ALTER COLUMN plan DROP DEFAULT;",
    check=_drop_guarantee,
    kinds=frozenset({"alter_table"}),
)

RULES = (RENAME_COLUMN, RENAME_TABLE, DROP_GUARANTEE)
