"""``lock status`` / ``lock break``: see or clear the migration lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchy_guard.cli.gating import confirm_recovery, gate_options
from switchy_guard.cli.options import add_confirm_option
from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.runtime.runner import Migrator


def register(verbs: Verbs) -> None:
    """Add ``lock``."""
    lock = verbs.add("lock", "see (status) or clear (break) the migration lock", run)
    lock.add_argument("action", choices=("status", "break"))
    lock.add_argument("--force", action="store_true",
                      help="break: also a lock whose holder looks alive (its session is "
                           "terminated); skips the yes-confirmation where no policy asks one")
    lock.add_argument("--stale-only", action="store_true",
                      help="break: only a free or stale lock (its holder gone), without a "
                           "confirmation; refused (exit 1) when the holder is alive")
    add_confirm_option(lock)


def run(ctx: Context) -> int:
    """``lock status`` / ``lock break``: see or clear the migration lock."""
    from switchy_guard.runtime.lockstatus import lock_status

    migrator = ctx.migrator(reads_only=ctx.args.action == "status",
                            must_exist=ctx.args.action == "break")
    if ctx.args.action == "break":
        _break_lock_journaled(ctx, migrator)
        return 0
    status = lock_status(migrator.engine, migrator.tracking.name)
    if ctx.format == "json":
        ctx.emit_json(status.to_dict())
    else:
        ctx.out.write(("STALE " if status.stale else "") + status.explanation + "\n")
    return 0


def _break_lock_journaled(ctx: Context, migrator: Migrator) -> None:
    """``lock break``: confirmed, then broken; journaled whether done or refused."""
    from switchy_guard.runtime.lockstatus import break_lock_journaled

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
            from switchy_guard.gates.run import require_confirmation

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
