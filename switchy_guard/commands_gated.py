"""The gated verbs: ``plan``, ``migrate``, ``rollback``, ``lock`` and the confirmation of
the recovery verbs. A few lines each over :mod:`switchy_guard.gated`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, MigrationFailed, Refused

if TYPE_CHECKING:
    from .cli import Context
    from .gated import GateOptions
    from .impact import ImpactReport
    from .policy import PolicyChoice
    from .runner import Migrator


def policy_choice(ctx: Context, migrator: Migrator) -> PolicyChoice:
    """The policy for this database: ``--env``'s, unless a ``match_urls`` pattern or a
    ``match_servers`` pin wins, matched against what the database says it is."""
    from .policy import choose_policy

    return choose_policy(ctx.settings, migrator.engine)


def terminal_ask(ctx: Context) -> Callable[[str], str] | None:
    """A prompt at the terminal, or None when stdin is not one."""
    if not sys.stdin.isatty():
        return None

    def ask(question: str) -> str:
        ctx.err.write(question)
        ctx.err.flush()
        return sys.stdin.readline()

    return ask


def gate_options(ctx: Context, migrator: Migrator) -> GateOptions:
    """The gate options from the command line."""
    from .cli import command_line
    from .gated import GateOptions

    args = ctx.args
    return GateOptions(
        policy_choice(ctx, migrator), confirm=getattr(args, "confirm", None),
        ask=terminal_ask(ctx), ack_backup=getattr(args, "ack_backup", False),
        force=getattr(args, "force", False), command=command_line(ctx),
        lock_timeout=getattr(args, "lock_timeout", None),
        timeouts=ctx.explicit_timeouts(), server_version=ctx.server_version(),
    )


def confirm_recovery(ctx: Context, migrator: Migrator, question: str,
                     options: GateOptions | None = None) -> str:
    """Confirm a recovery verb; returns the policy's name (for the journal).

    Where the policy requires confirmation, only the typed environment name or
    ``--confirm NAME`` will do (``--force`` does not). Elsewhere the person types ``yes``,
    or passes ``--force`` when there is no terminal. A ``--confirm`` naming another
    environment is refused, ``--force`` or not. ``options``: the command's gate options
    when the caller has them already (the policies are then not read again).
    """
    from .gated import require_confirmation

    options = options or gate_options(ctx, migrator)
    choice = options.choice
    if choice.policy.require_confirmation or options.confirm is not None:
        require_confirmation(choice, options, question)
        return choice.policy.name
    if options.force:
        return choice.policy.name
    if options.ask is None:
        raise Refused(f"{question} Refused: no terminal to confirm at; pass --force")
    if options.ask(f"{question} Type 'yes' to go on: ").strip() != "yes":
        raise Refused("not confirmed; nothing was changed")
    return choice.policy.name


def _strategy(ctx: Context) -> Any:
    from .runner import All, Steps, UpTo

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
    from .errors import check_migration_id

    target = getattr(ctx.args, "to", None)
    if target is not None:
        check_migration_id(getattr(ctx.args, "to_flag", None) or "--to", target,
                           {m.id for m in migrator.migrations()})


def print_impact(ctx: Context, report: ImpactReport) -> None:
    """The impact report in the chosen format."""
    from .impact import render_markdown, render_text

    if ctx.format == "json":
        ctx.emit_json(report.to_dict())
    elif ctx.format in ("sarif", "github", "gitlab"):  # the plan's findings, as check's
        from .report.findings import automation_id, for_code_scanning

        findings = [finding for m in report.migrations for finding in m.findings]
        allowed = [item for m in report.migrations for item in m.allowed]
        ctx.out.write(for_code_scanning(
            findings, ctx.format, allowed=allowed,
            automation=automation_id(ctx.settings.dialect, ctx.settings.migrations_dir)))
    elif ctx.format == "markdown":
        ctx.out.write(render_markdown(report))
    else:
        ctx.out.write(render_text(report))


def _judged_report(ctx: Context, migrator: Migrator, direction: str) -> ImpactReport:
    from .gate import evaluate
    from .impact import impact_report, rollback_report

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


def cmd_plan(ctx: Context) -> int:
    """``plan``: the impact report of what migrate would do, with the gate's verdict."""
    migrator = ctx.migrator(reads_only=True)
    check_target(ctx, migrator)
    print_impact(ctx, _judged_report(ctx, migrator, "up"))
    return 0


def _run(ctx: Context, direction: str) -> int:
    from .gated import gated_run

    reads_only = bool(ctx.args.dry_run or getattr(ctx.args, "plan", False))
    migrator = ctx.migrator(reads_only=reads_only,
                            must_exist=direction == "down" and not reads_only)
    check_target(ctx, migrator)
    if reads_only:
        report = _judged_report(ctx, migrator, direction)
        if ctx.format == "json":
            ctx.emit_json({**report.to_dict(), "dry_run": True})
        else:
            if ctx.args.dry_run:
                ctx.out.write("Dry run: nothing was changed.\n")
            print_impact(ctx, report)
        return 0
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


def impact_shower(ctx: Context) -> Callable[[ImpactReport], None]:
    """What a gated run (migrate, rollback, retry) shows of its judged report: the impact
    summary before a refusal or a question, not on every run."""
    def show(report: ImpactReport) -> None:
        gate = report.gate
        if gate is None:
            return
        if ctx.format == "json":
            if gate.refused:  # a CI job reading JSON gets the verdict that stopped it
                ctx.emit_json({**report.to_dict(), "refused": True})
            else:  # carried by the failure document if the confirmation is refused
                ctx.partial_json = report.to_dict()
            return
        if not ctx.quiet and (gate.refused
                              or any(c.outcome == "required" for c in gate.checks)):
            print_impact(ctx, report)

    return show


def cmd_migrate(ctx: Context) -> int:
    """``migrate``: apply pending migrations through the gates."""
    return _run(ctx, "up")


def cmd_rollback(ctx: Context) -> int:
    """``rollback``: roll back applied migrations through the gates."""
    return _run(ctx, "down")


def _report_run(ctx: Context, result: Any, verb: str) -> None:
    from .report.state import result_json

    if ctx.format == "json":
        ctx.emit_json(result_json(result))
        return
    for note in result.plan.warnings:
        ctx.out.write(f"warning: {note}\n")
    if not result.done:
        from .runner import All

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
    from .runner import Hooks

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


def cmd_lock(ctx: Context) -> int:
    """``lock status`` / ``lock break``: see or clear the migration lock."""
    from .lockstatus import lock_status

    migrator = ctx.migrator(reads_only=ctx.args.action == "status",
                            must_exist=ctx.args.action == "break")
    if ctx.args.action == "status":
        status = lock_status(migrator.engine, migrator.tracking.name)
        if ctx.format == "json":
            ctx.emit_json(status.to_dict())
        else:
            ctx.out.write(("STALE " if status.stale else "") + status.explanation + "\n")
        return 0
    _break_lock_journaled(ctx, migrator)
    return 0


def _break_lock_journaled(ctx: Context, migrator: Migrator) -> None:
    """``lock break``: confirmed, then broken; journaled whether done or refused."""
    from .lockstatus import break_lock_journaled

    options = gate_options(ctx, migrator)
    stale_only = getattr(ctx.args, "stale_only", False)
    if stale_only and ctx.args.force:
        raise ConfigError("lock break: --stale-only and --force contradict each other")

    def confirm(status: Any) -> object:
        if not stale_only:
            return confirm_recovery(
                ctx, migrator, f"Break the migration lock: {status.explanation}.", options)
        # --stale-only: only a dead holder's lock is touched (break_lock refuses a live
        # one without force), so no person need confirm; a --confirm naming another
        # environment is still refused.
        if options.confirm is not None:
            from .gated import require_confirmation

            require_confirmation(options.choice, options, "")
        return None

    done = break_lock_journaled(
        migrator.engine, migrator.tracking.name, force=ctx.args.force,
        environment=ctx.settings.env, policy=options.choice.policy.name,
        command=options.command, confirm=confirm,
    )
    if ctx.format == "json":
        ctx.emit_json({"message": done})
    else:
        ctx.out.write(done + "\n")
