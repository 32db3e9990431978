"""Compare two schema snapshots: the differences verify reports.

:func:`compare` lists every way the schema after a step (``down``, ``re-up``) differs
from the snapshot it should equal, each as a :class:`Difference` worded for a person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from switchy_guard.verify.snapshot import Snapshot, TableSnapshot

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
