"""``status [--history]``: the database summarised: applied, pending, drift, dirty rows,
what blocks a migrate, the lock, another tool's tracking table; with ``--history`` the
run history and the audit journal.

The assembly of the JSON document and of the text below ``print_status`` is here, not
in :mod:`switchy_guard.report.state`, only because it was here before the rooms; it is
rendering and could move there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchy_guard.cli.context import env_flag
from switchy_guard.cli.output import layout_read, write_layout

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.runtime.runner import Migrator

History = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class _Facts:
    """What ``status`` found beside the state."""

    blocker: Any  # what a plain migrate would refuse on (None: it would run)
    lock: Any
    history: History | None
    others: list[Any]  # other tools' tracking tables
    other_notes: list[str]
    invalid: list[str]  # invalid indexes


def register(verbs: Verbs) -> None:
    """Add ``status``."""
    status = verbs.add("status", "summary of the database: applied, pending, drift, dirty rows",
                       run)
    status.add_argument("--history", action="store_true",
                        help="also the run history and the audit journal, oldest first")
    status.add_argument("--show-failed", action="store_true",
                        help="as switchy-migrate's; failed and in-progress rows are always shown")


def run(ctx: Context) -> int:
    """``status [--history]``: counts, drift, dirty rows; the journal with --history."""
    from switchy_guard.report.state import migrate_blocker
    from switchy_guard.runtime.adoption import detect_on, other_tool_notes
    from switchy_guard.runtime.blockers import invalid_indexes
    from switchy_guard.runtime.lockstatus import lock_status

    migrator = ctx.migrator(reads_only=True)
    state = migrator.state()
    # What a plain migrate would do here: refuse (naming what blocks it), or run.
    checksums = env_flag("MIGRATION_REQUIRE_CHECKSUM_VALIDATION")
    blocker = migrate_blocker(state, migrator.migrate_refusal(
        state, require_checksum_validation=checksums), require_checksum_validation=checksums)
    lock = lock_status(migrator.engine, migrator.tracking.name)
    history = _history(migrator, state) if ctx.args.history else None
    others = detect_on(migrator)  # tables of golang-migrate, Flyway, ... (adopt --from)
    facts = _Facts(blocker, lock, history, others,
                   other_tool_notes(others, state.migrations, state.rows),
                   invalid_indexes(migrator.engine))
    if ctx.format == "json":
        ctx.emit_json(_status_json(migrator, state, facts))
    else:
        _print_status(ctx, migrator, state, facts)
    return 0


def _status_json(migrator: Migrator, state: Any, facts: _Facts) -> dict[str, Any]:
    from switchy_guard.report.state import state_warnings, status_entry, summary
    from switchy_guard.runtime.db import mask_url

    pending, blocker = state.pending(), facts.blocker
    data: dict[str, Any] = {
        "database": mask_url(migrator.engine.url),
        "layout": layout_read(migrator),
        "summary": summary(state),
        "warnings": state_warnings(state, migrator.dialect) + facts.other_notes,
        "other_tools": [other.to_dict() for other in facts.others],
        "lock": facts.lock.to_dict(),
        "migrations": [status_entry(e) for e in state.entries],
        "next_to_apply": pending[0].id if pending and blocker is None else None,
        "blocked_by": blocker.to_dict() if blocker is not None else None,
        "invalid_indexes": facts.invalid,
    }
    if facts.history is not None:
        data["history"], data["audit"] = facts.history
    return data


def _print_status(ctx: Context, migrator: Migrator, state: Any, facts: _Facts) -> None:
    from switchy_guard.report.state import print_status
    from switchy_guard.runtime.db import mask_url

    print_status(ctx.out, state, mask_url(migrator.engine.url), migrator.dialect,
                 facts.blocker, others=[other.describe() for other in facts.others],
                 other_notes=facts.other_notes)
    write_layout(ctx, layout_read(migrator))
    lock = facts.lock
    ctx.out.write(f"Lock: {'STALE ' if lock.stale else ''}{lock.explanation}\n")
    if facts.invalid:  # a retry of its migration drops it (concurrently) and rebuilds it
        ctx.out.write("INVALID indexes (left by a failed CREATE INDEX CONCURRENTLY; a retry "
                      f"drops and rebuilds them): {', '.join(facts.invalid)}\n")
    if facts.history is not None:
        _print_history(ctx, *facts.history)


def _print_history(ctx: Context, runs: list[dict[str, Any]],
                   audit: list[dict[str, Any]]) -> None:
    ctx.out.write("\nRuns (oldest first):\n")
    for row in runs:
        reason = f" ({row['failure_reason']})" if row["failure_reason"] else ""
        ctx.out.write(f"  {row['run_on']}  {row['status']:<11} {row['id']}{reason}\n")
    ctx.out.write("Audit journal (oldest first):\n" if audit else "Audit journal: empty\n")
    for entry in audit:
        ctx.out.write(
            f"  {entry['happened_at']}  {entry['os_user']}@{entry['host']} "
            f"[{entry['environment']}/{entry['policy'] or '-'}] {entry['command']} -> "
            f"{entry['outcome']}"
            f"{' in ' + str(entry['duration_ms']) + ' ms' if entry['duration_ms'] else ''}"
            f"{': ' + entry['detail'] if entry['detail'] else ''}\n"
        )


def _history(migrator: Migrator, state: Any) -> History:
    """The run history (every row, oldest first) and the audit journal's entries."""
    from dataclasses import asdict

    from switchy_guard.runtime.audit import AuditJournal
    from switchy_guard.runtime.db import connect
    from switchy_guard.runtime.tracking import format_time

    runs = [
        {"id": row.id, "status": row.status, "run_on": format_time(row.run_on),
         "finished_on": format_time(row.finished_on), "failure_reason": row.failure_reason}
        for row in state.history()
    ]
    with connect(migrator.engine) as conn:
        entries = AuditJournal(migrator.tracking.name).entries(conn)
    audit = [{**asdict(e), "happened_at": format_time(e.happened_at)} for e in entries]
    return runs, audit
