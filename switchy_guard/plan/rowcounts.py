"""Rows a planned destructive statement would hit, counted on the live database.

Exact counts for small tables; for tables the database's statistics say are large, the
statistics' estimate (labelled as such). A dropped column also gets how many of its
values are not NULL; a DELETE or TRUNCATE ... CASCADE the rows its foreign keys take
along. Names in the plan are followed through the plan's own renames, creations and
drops (:class:`PlanNames`), so a table the plan creates or empties is not counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchy_guard.runtime import live as live_db
from switchy_guard.runtime.live import RowCounter, Table

if TYPE_CHECKING:
    from switchy_guard.rules.base import LiveTables
    from switchy_guard.sql.classify import Name, StatementInfo


@dataclass
class RowImpact:
    """Rows a destructive statement touches."""

    statement: int  # 1-based statement number in the migration
    table: str
    what: str  # "drop table", "drop column c", "delete all rows", ...
    rows: int | None
    estimate: bool = False
    non_null: int | None = None  # dropped column: values that are not NULL



def _cascades(index: int, root: Table, every_row: bool, counter: RowCounter,
              truncate: bool = False) -> list[tuple[RowImpact, Table]]:
    """The rows a delete from ``root`` removes from other tables through ON DELETE
    CASCADE foreign keys (and, for ``TRUNCATE ... CASCADE``, every row of every table
    referencing it), each with its table. Counted when every row of ``root`` goes
    (a WHERE clause's rows are not known: those are listed as unknown)."""
    out: list[tuple[RowImpact, Table]] = []
    quote = counter._quote.quote

    def walk(parent: Table, deleted: str | None, path: tuple[Table, ...]) -> None:
        # ``deleted``: a condition on alias ``p`` that holds for the parent's deleted
        # rows ("" for all of them), None when they are not known.
        for fk in counter.referencing(parent):
            if fk.child in path or not (fk.cascade or truncate):
                continue
            name = counter.label(fk.child)
            what = (f"truncate (CASCADE from {counter.label(parent)})" if truncate
                    else f"delete (ON DELETE CASCADE from {counter.label(parent)})")
            condition: str | None
            if truncate or deleted is None:
                condition = "" if truncate else None
                rows, estimate = (counter.rows(fk.child)[:2] if truncate else (None, False))
            else:
                depth = len(path)
                match = " AND ".join(f"p{depth}.{quote(r)} = c{depth}.{quote(c)}"
                                     for c, r in zip(fk.columns, fk.referred, strict=True))
                parent_rows = deleted.replace("{p}", f"p{depth}")
                condition = (f"EXISTS (SELECT 1 FROM {counter.quoted(parent)} p{depth} "
                             f"WHERE {match}{' AND ' + parent_rows if parent_rows else ''})")
                total = counter._estimate(fk.child)
                if total is not None and total > live_db.EXACT_COUNT_LIMIT:
                    rows, estimate = total, True  # at most the whole table
                else:
                    rows, estimate = counter.count(
                        f"SELECT COUNT(*) FROM {counter.quoted(fk.child)} c{depth} "
                        f"WHERE {condition}"), False
                condition = condition.replace(f"c{depth}.", "{p}.")
            out.append((RowImpact(index, name, what, rows, estimate), fk.child))
            walk(fk.child, condition, (*path, fk.child))

    walk(root, "" if every_row or truncate else None, (root,))
    return out


class _CounterTables:
    """LiveTables answered by a RowCounter's per-schema lookups."""

    def __init__(self, counter: RowCounter) -> None:
        self.counter = counter

    def may_exist(self, name: Name) -> bool:
        return self.counter.live(self.counter.key(name)) is not None


class PlanNames:
    """Which live table and column a name in the plan stands for at each point: tables
    the plan creates are new (no live rows), and renames are followed, so a statement on
    a table or column renamed earlier in the plan counts the live one (and one added by
    the plan counts nothing). Tables are keyed by :meth:`RowCounter.key`. Which tables
    are new is the validator's answer (rules.base.NewTables), on ``live``: a CREATE TABLE
    IF NOT EXISTS of a live table leaves its rows to be counted."""

    def __init__(self, counter: RowCounter, live: LiveTables | None = None) -> None:
        from switchy_guard.rules.base import NewTables  # here: importing it loads every rule

        self.counter = counter
        self.new_tables = NewTables(counter.dialect, live or _CounterTables(counter))
        self.emptied: set[Table] = set()  # live tables the plan has emptied by now
        self.tables: dict[Table, Table | None] = {}  # plan key -> live table (None: none)
        self.columns: dict[tuple[Table, str], str | None] = {}  # (live, folded plan name)

    def table(self, name: Name, *, emptied: bool = False) -> Table | None:
        """The live table ``name`` stands for, None when the plan has created it (or,
        unless ``emptied``, already emptied it: its rows are counted once)."""
        key = self.counter.key(name)
        if self.new_tables.made(name):
            return None
        live = self.tables[key] if key in self.tables else self.counter.live(key)
        return None if live in self.emptied and not emptied else live

    def column(self, table: Table, name: str) -> str | None:
        source = self.columns.get((table, self.counter.fold(name)), name)
        return None if source is None else self.counter.column(table, source)

    def observe(self, info: StatementInfo) -> None:
        """Follow what ``info`` creates, fills, drops and renames."""
        if len(info.renames) > 1:  # RENAME TABLE a TO b, c TO d: pair by pair, in order
            for old_name, new_name in info.renames:
                self.observe(dataclasses.replace(info, table=old_name, new_name=new_name,
                                                 renames=((old_name, new_name),)))
            return
        made = {t for t in info.tables or (info.table,) if t and self.new_tables.made(t)}
        self.new_tables.observe(info)
        if info.table is None:
            return
        key = self.counter.key(info.table)
        if info.kind == "drop_table":
            for dropped in set(info.tables) - made:  # a live table: none left after this
                self.tables[self.counter.key(dropped)] = None
            return
        if info.kind not in ("rename_table", "alter_table"):
            return
        live = None if info.table in made else self.table(info.table)
        fold = self.counter.fold
        if live is not None:
            for action in info.actions:
                if not action.column:
                    continue
                if action.kind == "add_column":
                    self.columns[(live, fold(action.column))] = None
                elif action.new_name and fold(action.new_name) != fold(action.column):
                    source = self.columns.get((live, fold(action.column)), action.column)
                    self.columns[(live, fold(action.new_name))] = source
                    self.columns[(live, fold(action.column))] = None
        if info.new_name is None:
            return
        # ALTER TABLE s.t RENAME TO u keeps the table in its schema.
        new = self.counter.key(info.new_name,
                               info.table.schema if info.kind == "alter_table" else None)
        if new == key:
            return
        self.tables[new] = live
        self.tables[key] = None


def row_impacts(
    index: int, info: StatementInfo, counter: RowCounter, names: PlanNames
) -> list[RowImpact]:
    if info.table is None:
        return []
    table = str(info.table)
    out = []
    if info.kind in ("drop_table", "truncate"):
        what = info.kind.replace("_", " ")
        for target in info.tables or (info.table,):
            source = names.table(target)
            if source is not None:
                rows, estimate, _ = counter.rows(source)
                out.append(RowImpact(index, str(target), what, rows, estimate))
            live = names.table(target, emptied=True)
            if info.kind == "truncate" and live is not None:
                names.emptied.add(live)
                if info.cascade:
                    out += _emptying(_cascades(index, live, True, counter, truncate=True),
                                     names, counter)
        return out
    source = names.table(info.table)
    if source is None:
        return out
    if info.kind in ("delete", "update") and not info.has_where:
        rows, estimate, _ = counter.rows(source)
        out.append(RowImpact(index, table, f"{info.kind} every row", rows, estimate))
        if info.kind == "delete":
            names.emptied.add(source)
    if info.kind == "delete":
        out += _emptying(_cascades(index, source, not info.has_where, counter), names,
                        counter)
    elif info.kind == "alter_table":
        for action in info.actions:
            if not action.column or action.kind not in ("drop_column", "alter_type"):
                continue
            column = names.column(source, action.column)
            if column is None:
                continue  # added by the plan: no live values
            if action.kind == "drop_column":
                rows, estimate, non_null = counter.rows(source, column)
                out.append(RowImpact(index, table, f"drop column {action.column}", rows,
                                     estimate, non_null))
            else:
                rows, estimate, _ = counter.rows(source)
                out.append(RowImpact(index, table, f"change type of {action.column}", rows,
                                     estimate))
    return out


def _emptying(cascaded: list[tuple[RowImpact, Table]], names: PlanNames,
              counter: RowCounter) -> list[RowImpact]:
    """The cascaded rows, leaving out tables the plan has emptied already (their rows
    were counted then); a table the cascade leaves empty is emptied by it."""
    out = []
    for row, live in cascaded:
        if live in names.emptied:
            continue
        if row.what.startswith("truncate") or (
            row.rows is not None and not row.estimate and counter.rows(live)[0] == row.rows
        ):
            names.emptied.add(live)
        out.append(row)
    return out
