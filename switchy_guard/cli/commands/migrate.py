"""The gated verbs: ``plan`` (the judged impact report of what migrate would do),
``migrate`` and ``rollback``, a few lines each over :mod:`switchy_guard.gates.run`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchy_guard.cli.gating import gate_options
from switchy_guard.cli.options import (
    FROM_START,
    SERVER_VERSION_HELP,
    SpelledAs,
    add_gate_options,
    add_lock_timeout,
    positive_int,
)
from switchy_guard.cli.output import impact_shower, print_impact
from switchy_guard.errors import MigrationFailed

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.plan.impact import ImpactReport
    from switchy_guard.runtime.runner import Migrator


def register(verbs: Verbs) -> None:
    """Add ``plan``, ``migrate`` and ``rollback``."""
    plan = verbs.add("plan", "the impact report of what migrate would do (with row counts)",
                     run_plan)
    plan_target = plan.add_mutually_exclusive_group()
    plan_target.add_argument("--to", "--up-to", dest="to", metavar="ID", action=SpelledAs,
                             help="up to and including this migration")
    plan_target.add_argument("--steps", type=positive_int, metavar="N",
                             help="the next N pending migrations")
    plan.add_argument("--alembic", nargs="?", const="alembic.ini", metavar="INI",
                      help="the pending revisions of an Alembic project (default alembic.ini)")
    add_gate_options(plan)
    plan.add_argument("--server-version", metavar="VERSION", help=SERVER_VERSION_HELP)
    _register_migrate(verbs)
    _register_rollback(verbs)


def _register_migrate(verbs: Verbs) -> None:
    migrate = verbs.add("migrate", "apply pending migrations", run_migrate)
    target = migrate.add_mutually_exclusive_group()
    target.add_argument(
        "--to", "--up-to", dest="to", metavar="ID", action=SpelledAs,
        help="apply up to and including this migration"
    )
    target.add_argument(
        "--steps", type=positive_int, metavar="N", help="apply the next N pending migrations"
    )
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    migrate.add_argument(
        "--force", action="store_true", help="go on despite in_progress rows or checksum drift"
    )
    migrate.add_argument(
        "--retry-failed",
        action="store_true",
        help="re-run failed migrations (their row is replaced)",
    )
    migrate.add_argument("--from-start", action="store_true", help=FROM_START)
    add_lock_timeout(migrate)
    add_gate_options(migrate)
    migrate.add_argument(
        "--require-checksum-validation",
        action="store_true",
        default=None,  # then MIGRATION_REQUIRE_CHECKSUM_VALIDATION (read in main)
        help="refuse on any checksum mismatch or unknown checksum, even with --force "
        "(env MIGRATION_REQUIRE_CHECKSUM_VALIDATION=1)",
    )


def _register_rollback(verbs: Verbs) -> None:
    rollback = verbs.add("rollback", "roll back applied migrations, newest first", run_rollback)
    scope = rollback.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        help="roll back the last N applied migrations",
    )
    scope.add_argument(
        "--to", metavar="ID", help="roll back every migration applied after ID (ID stays)"
    )
    scope.add_argument("--all", action="store_true", help="roll back every applied migration")
    rollback.add_argument("--plan", action="store_true",
                          help="print the rollback impact report (rows that would be lost), "
                               "change nothing")
    rollback.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    rollback.add_argument(
        "--force", action="store_true", help="go on despite in_progress rows or checksum drift"
    )
    add_lock_timeout(rollback)
    add_gate_options(rollback)


def run_plan(ctx: Context) -> int:
    """``plan``: the impact report of what migrate would do, with the gate's verdict."""
    if ctx.args.alembic:
        from switchy_guard.cli.commands.frameworks import plan_alembic

        return plan_alembic(ctx)
    migrator = ctx.migrator(reads_only=True)
    check_target(ctx, migrator)
    print_impact(ctx, _judged_report(ctx, migrator, "up"))
    return 0


def run_migrate(ctx: Context) -> int:
    """``migrate``: apply pending migrations through the gates."""
    return _run(ctx, "up")


def run_rollback(ctx: Context) -> int:
    """``rollback``: roll back applied migrations through the gates."""
    return _run(ctx, "down")


def _strategy(ctx: Context) -> Any:
    from switchy_guard.model.plan import All, Steps, UpTo

    args = ctx.args
    if getattr(args, "all", False):
        return All()
    # `is not None`: an empty --to "" names no migration, it never means "all" (refused
    # by check_target).
    if getattr(args, "to", None) is not None:
        return UpTo(args.to)
    if getattr(args, "steps", None) is not None:
        return Steps(args.steps)
    return All()


def check_target(ctx: Context, migrator: Migrator) -> None:
    """Refuse (BadMigrationId, exit 2) an empty, blank or unknown ``--to``/``--up-to``,
    named as it was typed, before anything is read from the database or run. (That a
    ``rollback --to`` target is applied is checked with the state, by the plan.)"""
    from switchy_guard.errors import check_migration_id

    target = getattr(ctx.args, "to", None)
    if target is not None:
        check_migration_id(getattr(ctx.args, "to_flag", None) or "--to", target,
                           {m.id for m in migrator.migrations()})


def _judged_report(ctx: Context, migrator: Migrator, direction: str) -> ImpactReport:
    from switchy_guard.gates.evaluate import evaluate
    from switchy_guard.gates.reports import impact_report, rollback_report

    options = gate_options(ctx, migrator)
    state = migrator.state()
    if direction == "up":
        report = impact_report(migrator, _strategy(ctx), state=state, force=options.force,
                               retry_failed=getattr(ctx.args, "retry_failed", False),
                               from_start=getattr(ctx.args, "from_start", False),
                               server_version=options.server_version)
    else:
        report = rollback_report(migrator, _strategy(ctx), state=state,
                                 server_version=options.server_version)
    report.gate = evaluate(options.choice, report, state, force=options.force,
                           ack_backup=options.ack_backup, confirm=options.confirm,
                           timeouts=options.timeouts)
    return report


def _run(ctx: Context, direction: str) -> int:
    from switchy_guard.gates.run import gated_run

    reads_only = bool(ctx.args.dry_run or getattr(ctx.args, "plan", False))
    migrator = ctx.migrator(reads_only=reads_only,
                            must_exist=direction == "down" and not reads_only)
    check_target(ctx, migrator)
    if reads_only:
        return _dry_run(ctx, migrator, direction)
    verb = "applied" if direction == "up" else "rolled back"
    done = _progress_hooks(ctx, migrator, verb)
    try:
        result = gated_run(
            migrator, direction, _strategy(ctx), gate_options(ctx, migrator),
            show=impact_shower(ctx),
            retry_failed=getattr(ctx.args, "retry_failed", False),
            from_start=getattr(ctx.args, "from_start", False),
            require_checksum_validation=getattr(ctx.args, "require_checksum_validation",
                                                False),
        )
    except MigrationFailed as failure:
        if ctx.format == "json":  # a script reading stdout learns what ran and what failed
            ctx.emit_json({"direction": direction, "done": done, "failed": failure.to_dict()})
        raise
    _report_run(ctx, result, verb)
    return 0


def _dry_run(ctx: Context, migrator: Migrator, direction: str) -> int:
    """``--dry-run`` / ``rollback --plan``: the judged report, nothing changed."""
    report = _judged_report(ctx, migrator, direction)
    if ctx.format == "json":
        ctx.emit_json({**report.to_dict(), "dry_run": True})
    else:
        if ctx.args.dry_run:
            ctx.out.write("Dry run: nothing was changed.\n")
        print_impact(ctx, report)
    return 0


def _report_run(ctx: Context, result: Any, verb: str) -> None:
    from switchy_guard.report.state import result_json

    if ctx.format == "json":
        ctx.emit_json(result_json(result))
        return
    for note in result.plan.warnings:
        ctx.out.write(f"warning: {note}\n")
    if not result.done:
        from switchy_guard.model.plan import All

        if verb != "applied":
            ctx.out.write("Nothing to roll back.\n")
        elif isinstance(_strategy(ctx), All):
            ctx.out.write("Nothing to do: the database is up to date.\n")
        else:  # --to / --steps: migrations after the target may still be pending
            ctx.out.write("Nothing to do: nothing pending within --to/--steps.\n")
    else:
        ctx.out.write(f"{verb.capitalize()} {len(result.done)} migration(s) in "
                      f"{result.seconds:.2f} s.\n")


def _progress_hooks(ctx: Context, migrator: Migrator, verb: str) -> list[str]:
    """Print each migration as it is done (text, not quiet); returns the list of the
    ids done so far, kept up to date as the run goes."""
    from switchy_guard.runtime.runner import Hooks

    done: list[str] = []
    out = ctx.out
    talk = ctx.format != "json" and not ctx.quiet

    def after_each(planned: Any, seconds: float) -> None:
        done.append(planned.migration.id)
        if talk:
            out.write(f"{verb} {planned.migration.id} ({seconds:.3f} s)\n")
            out.flush()

    migrator.hooks = Hooks(after_each=after_each)
    return done
