"""The command line's side of the gates: which policy applies, the gate options from the
command line, the terminal prompt, and the typed confirmation of the recovery verbs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from switchy_guard.cli.context import command_line
from switchy_guard.errors import Refused

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.gates.policy import PolicyChoice
    from switchy_guard.gates.run import GateOptions
    from switchy_guard.runtime.runner import Migrator


def policy_choice(ctx: Context, migrator: Migrator) -> PolicyChoice:
    """The policy for this database: ``--env``'s, unless a ``match_urls`` pattern or a
    ``match_servers`` pin wins, matched against what the database says it is."""
    from switchy_guard.gates.policy import choose_policy

    return choose_policy(ctx.settings, migrator.engine)


def offline_policy_choice(ctx: Context) -> PolicyChoice:
    """``check --gate``: the policy of ``--env`` (or the one whose match rules win),
    without asking a database who it is."""
    from switchy_guard.gates.policy import choose_policy

    return choose_policy(ctx.settings, ctx.settings.database_url or None)


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
    from switchy_guard.gates.run import GateOptions

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
    from switchy_guard.gates.run import require_confirmation

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


def check_id_argument(ctx: Context, migrator: Migrator, migration_id: str) -> None:
    """An ID of ``retry``, ``mark-*`` or ``adopt-checksums``: an empty, blank or unknown
    one is refused (exit 2, naming the verb) before any confirmation or change."""
    from switchy_guard.errors import check_migration_id

    check_migration_id(ctx.args.verb, migration_id, {m.id for m in migrator.migrations()})
