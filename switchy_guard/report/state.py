"""Renderers of the migration state (``list``, ``status``) and of run plans.

JSON shape of ``list`` and ``status`` (``status`` adds ``summary`` and ``warnings``)::

    {"migrations": [{"id", "description", "state", "applied_at", "finished_at",
                     "up_checksum", "down_checksum", "recorded_up_checksum",
                     "recorded_down_checksum", "drift", "unknown_checksum",
                     "failure_reason", "statements_applied", "statements_total"}]}

``state`` is pending, completed, failed or in_progress; ``up_checksum``/``down_checksum``
are the current files' (null for a migration missing from the sources); ``drift`` is
true when an applied migration's files changed since it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from switchy_guard.model.records import format_time
from switchy_guard.model.state import MigrationState, MigrationStatus, dirty_cause, progress_note

if TYPE_CHECKING:

    from switchy_guard.model.plan import Plan, RunResult

_STATE_STYLE = {
    "completed": "green",
    "pending": "yellow",
    "failed": "bold red",
    "in_progress": "bold magenta",
}


def status_entry(entry: MigrationStatus) -> dict[str, Any]:
    """One migration's documented JSON fields."""
    row, migration = entry.row, entry.migration
    return {
        "id": entry.id,
        "description": migration.description if migration else None,
        "state": entry.state,
        "applied_at": format_time(row.run_on) if row else None,
        "finished_at": format_time(row.finished_on) if row else None,
        "up_checksum": migration.up_checksum if migration else None,
        "down_checksum": migration.down_checksum if migration else None,
        "recorded_up_checksum": row.up_checksum if row else None,
        "recorded_down_checksum": row.down_checksum if row else None,
        "drift": bool(entry.drift),
        "unknown_checksum": entry.unknown_checksum,
        "failure_reason": row.failure_reason if row else None,
        "statements_applied": entry.progress.statements_applied if entry.progress else None,
        "statements_total": entry.progress.statements_total if entry.progress else None,
    }


def summary(state: MigrationState) -> dict[str, int]:
    """Counts by state, plus drift, missing and out-of-order counts."""
    counts = {
        "total": len(state.migrations),
        "completed": 0,
        "pending": 0,
        "failed": 0,
        "in_progress": 0,
    }
    for entry in state.entries:
        if entry.migration is not None:
            counts[entry.state] += 1
    counts["drift"] = len(state.drifted())
    counts["missing"] = len(state.missing())
    counts["out_of_order"] = len(state.out_of_order())
    return counts


def state_warnings(state: MigrationState, dialect: str | None = None) -> list[str]:
    """Plain-language problems a person should look at (a dirty migration's note names
    the statements its journal says ran)."""
    notes = []
    for entry in state.in_progress():
        notes.append(f"{entry.id} is in_progress: {dirty_cause(entry)}"
                     f"{progress_note(entry, dialect)}")
    for entry in state.failed():
        reason = entry.row.failure_reason if entry.row else None
        # Run statement by statement (MySQL DDL, transactional = false): what stayed.
        kept = (f" ({entry.progress.statements_applied} of {entry.progress.statements_total}"
                " statements were applied before the failure and stay applied)"
                if entry.progress else "")
        if entry.progress and not entry.progress.statements_total:
            # Python code, not statements (SQL without statements cannot fail).
            kept = (" (its code ran outside a transaction: what it did before the failure"
                    " stays applied)")
        notes.append(f"{entry.id} failed: {reason or 'no reason recorded'}{kept}")
    for entry in state.drifted():
        notes.append(f"{entry.id} changed since it was applied ({', '.join(entry.drift)} script)")
    for entry in state.entries:
        if entry.unknown_checksum:
            notes.append(f"{entry.id} was recorded without checksums (unknown checksum)")
    for entry in state.missing():
        notes.append(f"{entry.id} is applied but missing from the sources")
    for migration in state.out_of_order():
        notes.append(f"{migration.id} is pending but sorts before the newest applied migration")
    return notes


def list_text(state: MigrationState, *, color_system: str | None = None) -> str:
    """The ``list`` table as aligned columns; states coloured for ``color_system``
    (rich's name for the terminal's colours; None: plain text).

    Laid out by hand: rich's Table measured every cell and took 0.4 s for 1,000 rows
    and 3.6 s for 10,000 (bench/README.md); this takes milliseconds.
    """
    from rich.console import COLOR_SYSTEMS
    from rich.style import Style

    header = ("id", "description", "state", "applied at")
    rows = []
    for entry in state.entries:
        description = entry.migration.description if entry.migration else "(missing from sources)"
        state_cell = entry.state + (" (changed)" if entry.drift and entry.applied else "")
        rows.append((entry.id, description or "", state_cell,
                     _short_time(entry.row.run_on) if entry.row else "", entry.state))
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(3)]
    styles = {name: Style.parse(style) for name, style in _STATE_STYLE.items()}
    system = COLOR_SYSTEMS[color_system] if color_system else None

    def line(cells: tuple[str, ...], state_name: str | None = None) -> str:
        first = "  ".join(cell.ljust(width) for cell, width in zip(cells[:2], widths, strict=False))
        state_cell = cells[2].ljust(widths[2])
        if system is not None and state_name in styles:
            state_cell = styles[state_name].render(state_cell, color_system=system)
        return f"{first}  {state_cell}  {cells[3]}".rstrip()

    lines = ["Migrations", line(header), *(line(row[:4], row[4]) for row in rows)]
    return "\n".join(lines) + "\n"


def _short_time(value: datetime | str | None) -> str:
    """``2024-01-02T03:04:05.678+00:00`` → ``2024-01-02 03:04:05`` for tables."""
    text = format_time(value)
    return (text or "")[:19].replace("T", " ")


@dataclass(frozen=True)
class Blocker:
    """What makes ``migrate`` refuse to run anything, and how to get past it.

    ``state`` is ``failed``, ``in_progress``, ``drift`` or ``checksum_validation``;
    ``refusal`` is migrate's own message; ``advice`` says what to do, naming the
    ``commands`` that get past it.
    """

    id: str
    state: str
    reason: str
    refusal: str
    advice: str
    commands: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``blocked_by`` object of ``status --format json``."""
        return {"id": self.id, "state": self.state, "reason": self.reason,
                "refusal": self.refusal, "advice": self.advice,
                "commands": list(self.commands)}


def migrate_blocker(state: MigrationState, refusal: str | None, *,
                    require_checksum_validation: bool = False) -> Blocker | None:
    """What stops a plain ``migrate`` now, from the planner's own ``refusal`` (see
    :meth:`switchy_guard.runtime.runner.Migrator.migrate_refusal`), or None when it would
    run (or have nothing to do)."""
    if refusal is None:
        return None
    return _blocker(state, refusal, require_checksum_validation)


def _blocker(state: MigrationState, refusal: str, checksums: bool) -> Blocker:
    """The entry behind ``refusal``, checked in the planner's order."""
    unverifiable = [e for e in state.applied() if e.unknown_checksum]
    if checksums and (state.drifted() or unverifiable):
        entry = (state.drifted() or unverifiable)[0]
        return Blocker(entry.id, "checksum_validation", refusal, refusal,
                       "restore the changed files as they were applied, and record "
                       "checksums for rows that have none with `switchy-guard "
                       "adopt-checksums`", ("switchy-guard adopt-checksums",))
    if state.in_progress():
        entry = state.in_progress()[0]
        commands = (f"switchy-guard mark-completed {entry.id}",
                    f"switchy-guard mark-failed {entry.id}", "switchy-guard migrate --force")
        return Blocker(entry.id, "in_progress", dirty_cause(entry), refusal,
                       f"check the schema: if it did apply, run `{commands[0]}`; if it did "
                       f"not, run `{commands[1]}` and then retry it; or `{commands[2]}` "
                       "re-runs it from its first statement", commands)
    if state.drifted():
        entry = state.drifted()[0]
        return Blocker(entry.id, "drift",
                       f"its {' and '.join(entry.drift)} script changed since it was applied",
                       refusal, "restore its files as they were applied, or run "
                       "`switchy-guard migrate --force` to go on despite the change",
                       ("switchy-guard migrate --force",))
    entry = next(e for e in state.failed() if e.migration is not None)
    return Blocker(entry.id, "failed", _first_line(entry.row.failure_reason if entry.row
                                                   else None), refusal,
                   *_failed_advice(state, entry))


def _failed_advice(state: MigrationState, entry: MigrationStatus) -> tuple[str, tuple[str, ...]]:
    """How to get past a failed migration, with the commands ``recovery.retry`` and the
    planner would accept in this state."""
    done = f"switchy-guard mark-completed {entry.id}"
    progress = entry.progress
    if progress is not None and progress.statements_applied and progress.direction == "up":
        retry = f"switchy-guard retry {entry.id} --from-start"
        return (f"{progress.statements_applied} of {progress.statements_total} statements "
                f"stayed applied: undo them by hand and fix it, then run `{retry}`; or "
                f"finish it by hand and run `{done}`", (retry, done))
    order = {m.id: number for number, m in enumerate(state.migrations)}
    alone = not [e for e in state.failed() if e.id != entry.id] and not [
        m for m in state.pending() if order[m.id] < order[entry.id]]
    every = "switchy-guard migrate --retry-failed"
    if not alone:  # retry refuses: other failed rows, or pending ones before it
        return (f"fix its up script, then run `{every}` (re-runs the failed migrations, "
                f"then applies the pending ones); or, if it was finished by hand, run `{done}`",
                (every, done))
    retry = f"switchy-guard retry {entry.id}"
    return (f"fix its up script, then run `{retry}` (re-runs it alone) or `{every}` "
            f"(re-runs it, then applies the pending ones); or, if it was finished by hand, "
            f"run `{done}`",
            (retry, every, done))


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else "no reason recorded"


def blocked_line(blocker: Blocker, state: MigrationState) -> str:
    """``Blocked: ...``: what stops migrate, and which pending migrations wait on it."""
    pending = state.pending()
    waiting = (f"not even the {len(pending)} pending (the first: {pending[0].id})"
               if pending else "no pending migration either")
    what = {"failed": "failed", "in_progress": "is in_progress",
            "drift": "changed since it was applied",
            "checksum_validation": "fails checksum validation"}[blocker.state]
    why = f" ({blocker.reason})" if blocker.state in ("failed", "in_progress") else ""
    return (f"Blocked: {blocker.id} {what}{why}; migrate refuses to run and applies "
            f"nothing, {waiting}, until that is resolved.")


def print_status(out: TextIO, state: MigrationState, target: str,
                 dialect: str | None = None, blocker: Blocker | None = None, *,
                 others: Sequence[str] = (), other_notes: Sequence[str] = ()) -> None:
    """The ``status`` report for people: a few plain lines (no rich, so it starts fast).
    ``blocker``: what stops migrate (:func:`migrate_blocker`), said instead of a next
    migration migrate would not run. ``others``: what other tools' tracking tables
    record (switchy_guard.runtime.adoption), and ``other_notes`` the warnings about them."""
    counts = summary(state)
    lines = [
        f"Database: {target}",
        f"{counts['total']} migrations: {counts['completed']} applied, "
        f"{counts['pending']} pending, {counts['failed']} failed, "
        f"{counts['in_progress']} in progress"
        + (" (as recorded by switchy-guard; another tool's record below)" if others else ""),
    ]
    lines += [f"Other tool: {line}" for line in others]
    pending = state.pending()
    if blocker is not None:
        if not pending and blocker.state in ("failed", "in_progress"):
            lines.append("Nothing pending, but not up to date: a migration failed or did "
                         "not finish.")
        lines.append(blocked_line(blocker, state))
        lines.append(f"To get past it: {blocker.advice}.")
    elif pending:
        lines.append(f"Next to apply: {pending[0].id}")
    elif state.failed() or state.in_progress():  # not up to date: see the warnings
        lines.append("Nothing pending, but not up to date: a migration failed or did not finish.")
    else:
        lines.append("Up to date: nothing pending.")
    warnings = state_warnings(state, dialect) + list(other_notes)
    lines.extend(f"warning: {note}" for note in warnings)
    if not warnings:
        lines.append("No drift, no dirty rows.")
    out.write("\n".join(lines) + "\n")


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as JSON: direction, dialect, warnings, and each step with its SQL."""
    return {
        "direction": plan.direction,
        "dialect": plan.dialect,
        "warnings": list(plan.warnings),
        "migrations": [
            {
                "id": step.migration.id,
                "transactional": step.transactional,
                "python": not step.statements
                and callable(step.migration.up if step.direction == "up" else step.migration.down),
                "statements": [{"line": s.line, "sql": s.text} for s in step.statements],
            }
            for step in plan.steps
        ],
    }


def result_json(result: RunResult) -> dict[str, Any]:
    """A finished run as JSON."""
    data = plan_json(result.plan)
    data["dry_run"] = result.dry_run
    data["done"] = result.done
    data["seconds"] = round(result.seconds, 6)
    return data
