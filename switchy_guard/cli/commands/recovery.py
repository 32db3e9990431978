"""The recovery verbs: ``validate`` (recorded checksums against the files),
``mark-all-completed``, ``mark-completed``, ``mark-failed`` and ``retry``; each change is
confirmed (:func:`~switchy_guard.cli.gating.confirm_recovery`) and journaled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from switchy_guard.cli.context import command_line
from switchy_guard.cli.gating import check_id_argument, confirm_recovery
from switchy_guard.cli.options import FROM_START, add_confirm_option
from switchy_guard.errors import Refused

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.runtime.recovery import ChecksumReport, Scope


def register(verbs: Verbs) -> None:
    """Add ``validate``, ``mark-all-completed``, ``mark-completed``, ``mark-failed`` and
    ``retry``."""
    validate = verbs.add("validate", "compare the checksums of applied migrations with the "
                                     "files", run_validate)
    validate.add_argument("--strict", action="store_true", help="exit 1 on any mismatch")
    validate.add_argument("--verbose", action="store_true", help="show checksum values")
    _register_mark_all(verbs)
    for name, help_text in (
        ("mark-completed", "record one migration as completed without running it"),
        ("mark-failed", "record one migration as failed without running it"),
    ):
        marker = verbs.add(name, help_text, run_mark)
        marker.add_argument("id", metavar="ID")
        if name == "mark-failed":
            marker.add_argument("--reason", default="marked failed by hand",
                                help="the failure_reason to record")
        marker.add_argument("--force", action="store_true", help="skip the confirmation" + (
            "; record it even when what its up creates is missing (journaled)"
            if name == "mark-completed" else ""))
        add_confirm_option(marker)
    retry = verbs.add("retry", "re-run one failed migration (through the gates, like migrate)",
                      run_retry)
    retry.add_argument("id", metavar="ID")
    retry.add_argument("--from-start", action="store_true", help=FROM_START)
    retry.add_argument("--ack-backup", action="store_true",
                       help="acknowledge that a backup exists (policies with backup = "
                            "\"ack\" need it before destructive steps)")
    retry.add_argument("--force", action="store_true", help="skip the confirmation")
    add_confirm_option(retry)


def _register_mark_all(verbs: Verbs) -> None:
    mark_all = verbs.add("mark-all-completed",
                         "record migrations as completed without running them (dangerous)",
                         run_mark_all_completed)
    mark_all.add_argument("--include-failed", dest="scopes", action="append_const",
                          const="include-failed", help="also turn failed rows to completed")
    mark_all.add_argument("--include-in-progress", dest="scopes", action="append_const",
                          const="include-in-progress",
                          help="also turn in_progress rows to completed")
    mark_all.add_argument("--all", dest="scopes", action="append_const", const="all",
                          help="rewrite every migration's row as completed")
    mark_all.add_argument("--to", metavar="ID",
                          help="a partial baseline: only the migrations up to and including "
                               "ID")
    mark_all.add_argument("--drop", action="store_true",
                          help="drop and recreate the tracking table first (history is lost)")
    mark_all.add_argument("--force", action="store_true", help="skip the confirmation")
    add_confirm_option(mark_all)


def run_validate(ctx: Context) -> int:
    """``validate [--strict]``: recorded checksums against the files."""
    from switchy_guard.runtime.recovery import validate_checksums

    state = ctx.migrator(reads_only=True).state()
    report = validate_checksums(state)
    if ctx.format == "json":
        ctx.emit_json({
            "ok": report.ok, "verified": report.verified, "unknown": report.unknown,
            "missing": report.missing,
            "mismatched": [{"id": i, "scripts": list(d)} for i, d in report.mismatched],
        })
    else:
        _print_validation(ctx, state, report)
    return 1 if ctx.args.strict and not report.ok else 0


def _print_validation(ctx: Context, state: Any, report: ChecksumReport) -> None:
    out = ctx.out
    for migration_id, scripts in report.mismatched:
        out.write(f"MISMATCH {migration_id}: {' and '.join(scripts)} script changed\n")
        if ctx.args.verbose:
            row, entry = state.rows[migration_id], state.get(migration_id)
            migration = entry.migration if entry else None
            if migration is not None:
                out.write(f"  up:   recorded {row.up_checksum}, now {migration.up_checksum}\n"
                          f"  down: recorded {row.down_checksum}, now "
                          f"{migration.down_checksum}\n")
    for migration_id in report.unknown:
        out.write(f"UNKNOWN  {migration_id}: recorded without checksums "
                  "(adopt-checksums records the current ones)\n")
    for migration_id in report.missing:
        out.write(f"MISSING  {migration_id}: applied, absent from the sources\n")
    out.write(f"{len(report.verified)} verified, {len(report.mismatched)} mismatched, "
              f"{len(report.unknown)} unknown, {len(report.missing)} missing\n")


def run_mark_all_completed(ctx: Context) -> int:
    """``mark-all-completed``: record migrations as completed without running them."""
    from switchy_guard.runtime.recovery import mark_all_completed, scope_label

    scopes: list[Scope] = ctx.args.scopes or ["pending"]
    scope = scope_label(scopes)
    migrator = ctx.migrator(must_exist=True)
    warning = " The tracking table is DROPPED first: all history is lost." if ctx.args.drop \
        else ""
    if ctx.args.to is not None:  # refused before anyone is asked to confirm
        from switchy_guard.runtime.recovery import migrations_up_to

        migrations_up_to(migrator.migrations(), ctx.args.to)
        scope += f", up to and including {ctx.args.to}"
    policy = confirm_recovery(
        ctx, migrator,
        f"Mark migrations as completed without running them (scope {scope}).{warning}")
    marked = mark_all_completed(migrator, scopes, drop=ctx.args.drop,
                                environment=ctx.settings.env,
                                command=command_line(ctx), policy=policy, to=ctx.args.to)
    if ctx.format == "json":
        ctx.emit_json({"marked": marked})
    else:
        ctx.out.write(f"marked {len(marked)} migration(s) completed\n")
    return 0


def run_mark(ctx: Context) -> int:
    """``mark-completed ID`` / ``mark-failed ID``: set one migration's state by hand."""
    from switchy_guard.runtime.recovery import mark

    status: Literal["completed", "failed"] = (
        "completed" if ctx.args.verb == "mark-completed" else "failed"
    )
    # Marking a migration completed on a new database (to skip it there) is a real use;
    # marking one failed where nothing ever ran is not.
    migrator = ctx.migrator(must_exist=status == "failed")
    check_id_argument(ctx, migrator, ctx.args.id)
    policy = confirm_recovery(
        ctx, migrator, f"Record {ctx.args.id} as {status} without running it.")
    previous = mark(migrator, ctx.args.id, status, reason=getattr(ctx.args, "reason", None),
                    environment=ctx.settings.env, command=command_line(ctx), policy=policy,
                    force=ctx.args.force)
    if ctx.format == "json":
        ctx.emit_json({"id": ctx.args.id, "status": status, "previous": previous})
    elif previous == status == "completed":
        ctx.out.write(f"{ctx.args.id} was already completed: unchanged\n")
    else:
        ctx.out.write(f"{ctx.args.id} recorded as {status} (was {previous})\n")
    return 0


def run_retry(ctx: Context) -> int:
    """``retry ID``: re-run one failed migration."""
    from switchy_guard.cli.gating import gate_options
    from switchy_guard.cli.output import impact_shower
    from switchy_guard.gates.run import gated_retry

    migrator = ctx.migrator(must_exist=True)
    check_id_argument(ctx, migrator, ctx.args.id)
    gate = gate_options(ctx, migrator)
    try:
        confirm_recovery(ctx, migrator, f"Re-run the failed migration {ctx.args.id}.", gate)
    except Refused as refused:  # journaled, as every refused migrate, rollback and retry
        from switchy_guard.gates.run import journal_refusal

        journal_refusal(migrator, gate, refused, target=ctx.args.id)
        raise
    gate.confirm = gate.choice.environment  # confirmed just above: not asked twice
    done = gated_retry(migrator, ctx.args.id, gate, from_start=ctx.args.from_start,
                       show=impact_shower(ctx))
    if ctx.format == "json":
        ctx.emit_json({"retried": done})
    else:
        ctx.out.write(f"retried {', '.join(done)}\n")
    return 0
