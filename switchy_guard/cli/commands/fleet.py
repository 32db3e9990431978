"""``switchy-guard fleet plan|migrate|status|rollback``: the verb group's argparse
registration and its run function, over :mod:`.targets`, :mod:`.rollout`, :mod:`.work`,
:mod:`.journal` and :mod:`.output`."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

from switchy_guard.cli import gating
from switchy_guard.cli.context import command_line
from switchy_guard.errors import ConfigError, Refused
from switchy_guard.fleet.rollout import (
    RolloutOptions,
    TargetResult,
    Wave,
    parse_waves,
    plan_waves,
    run_rollout,
)
from switchy_guard.fleet.targets import Target, shard

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.fleet.journal import FleetJournal
    from switchy_guard.fleet.work import FleetJob

ACTIONS = ("plan", "migrate", "status", "rollback")


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more")
    return value


def register(verbs: Verbs) -> None:
    """Add ``fleet``."""
    fleet = verbs.add("fleet", "one migration set across many databases or tenant schemas: "
                               "in waves, resumable, sharded across machines", run)
    fleet.add_argument("action", choices=ACTIONS, help="plan, migrate, status or rollback")
    source = fleet.add_mutually_exclusive_group(required=True)
    source.add_argument("--targets", metavar="FILE",
                        help="TOML file of [[target]] tables (name, url, env, tags)")
    source.add_argument("--targets-command", metavar="CMD",
                        help="a command printing one URL or 'NAME URL' a line, or JSON")
    source.add_argument("--targets-query", metavar="SQL",
                        help="a query run on -d returning rows of (name, url)")
    source.add_argument("--schemas-query", metavar="SQL",
                        help="a query run on -d (PostgreSQL) returning schema names: each "
                             "schema is a target")
    fleet.add_argument("--canary", type=lambda t: _whole(t, 0), default=0, metavar="N",
                       help="run the first N targets (by name) alone first; all must succeed")
    fleet.add_argument("--waves", default="100%", metavar="P%,...",
                       help="cumulative shares of the fleet per wave, e.g. 10%%,50%%,100%%")
    fleet.add_argument("--concurrency", type=lambda t: _whole(t, 1), default=1, metavar="K",
                       help="targets at once within a wave (default 1)")
    budget = fleet.add_mutually_exclusive_group()
    budget.add_argument("--max-failures", type=lambda t: _whole(t, 1), default=1,
                        metavar="F", help="start no more targets after F failures "
                                          "(default 1); running ones finish")
    budget.add_argument("--continue-on-error", action="store_true",
                        help="go on whatever fails (a failing canary still stops)")
    fleet.add_argument("--retry-failed", action="store_true",
                       help="retry the targets the journal says failed, re-running their "
                            "failed migrations")
    fleet.add_argument("--journal", metavar="FILE",
                       help="JSON lines journal of each target's start and end; a re-run "
                            "with it resumes")
    fleet.add_argument("--shard-index", type=lambda t: _whole(t, 0), metavar="I",
                       help="this machine's shard (default: $JOB_COMPLETION_INDEX)")
    fleet.add_argument("--shard-count", type=lambda t: _whole(t, 1), metavar="N",
                       help="how many shards split the fleet")
    scope = fleet.add_mutually_exclusive_group()
    scope.add_argument("--to", metavar="ID", help="migrate: up to and including ID; "
                                                  "rollback: every migration after ID")
    scope.add_argument("--steps", type=lambda t: _whole(t, 1), metavar="N",
                       help="the next N pending (migrate) or last N applied (rollback)")
    scope.add_argument("--all", action="store_true", help="rollback: every applied migration")
    fleet.add_argument("--plan", action="store_true",
                       help="rollback: each target's rollback plan, change nothing")
    fleet.add_argument("--force", action="store_true",
                       help="go on despite in_progress rows or checksum drift")
    fleet.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                       help="seconds to wait for each target's migration lock")
    fleet.add_argument("--confirm", metavar="ENV",
                       help="confirm the fleet's targets of environment ENV (once for all)")
    fleet.add_argument("--ack-backup", action="store_true",
                       help="acknowledge that backups exist (policies with backup = \"ack\")")


def load_targets(ctx: Context) -> list[Target]:
    """The targets named by the command line, sorted by name, this shard's only."""
    from switchy_guard.fleet import targets as source

    args = ctx.args
    url = ctx.settings.database_url
    if args.targets:
        found = source.load_targets_file(args.targets)
    elif args.targets_command:
        found = source.targets_from_command(args.targets_command)
    elif args.targets_query:
        found = source.targets_from_query(url, args.targets_query)
    else:
        found = source.targets_from_schemas(url, args.schemas_query)
    index, count = _shard_arguments(args)
    return shard(found, index, count) if count else found


def _shard_arguments(args: argparse.Namespace) -> tuple[int, int | None]:
    index, count = args.shard_index, args.shard_count
    if count is None:
        if index is not None:
            raise ConfigError("--shard-index needs --shard-count")
        return 0, None
    if index is None:
        env = os.environ.get("JOB_COMPLETION_INDEX", "").strip()
        if not env.isdigit():
            raise ConfigError("--shard-count needs --shard-index (or JOB_COMPLETION_INDEX, "
                              "as a Kubernetes Indexed Job sets it)")
        index = int(env)
    if index >= count:
        raise ConfigError(f"--shard-index {index} must be below --shard-count {count}")
    return index, count


def _strategy(args: argparse.Namespace, action: str) -> Any:
    from switchy_guard.model.plan import All, Steps, UpTo

    if action == "rollback" and not (args.all or args.to is not None or args.steps):
        raise ConfigError("fleet rollback needs --steps N, --to ID or --all")
    if args.all and action != "rollback":
        raise ConfigError("--all is only for fleet rollback")
    if args.to is not None:
        return UpTo(args.to)
    return Steps(args.steps) if args.steps else All()


def confirm_once(ctx: Context, job: FleetJob, targets: Sequence[Target]) -> frozenset[str]:
    """The environments confirmed for the whole fleet: each environment whose policy
    requires confirmation is confirmed once (typed, or ``--confirm ENV``), naming how
    many of the fleet's targets it covers. Chosen here from each URL's text and the
    target's ``env``; a target whose database turns out to need another environment's
    confirmation is refused by its own gate, never run unconfirmed."""
    from switchy_guard.gates.policy import database_target, policies_for

    policies = policies_for(ctx.settings)
    by_env: dict[str, list[str]] = {}
    needs: set[str] = set()
    for target in targets:
        settings = job.settings_for(target)
        choice = policies.choose(settings.env, database_target(target.url))
        by_env.setdefault(choice.environment, []).append(target.name)
        if choice.policy.require_confirmation:
            needs.add(choice.environment)
    confirm = ctx.args.confirm
    if confirm is not None and confirm not in by_env:
        raise Refused(f"--confirm {confirm!r} names no environment of the fleet's targets "
                      f"({', '.join(sorted(by_env))}); nothing was changed")
    confirmed = {confirm} if confirm is not None else set()
    ask = gating.terminal_ask(ctx)
    for environment in sorted(needs - confirmed):
        names = by_env[environment]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        question = (f"fleet {ctx.args.action}: {len(names)} of {len(targets)} target(s) are "
                    f"{environment} ({shown}).")
        if ask is None:
            raise Refused(f"{question} Policy {environment} requires confirmation and there "
                          f"is no terminal: pass --confirm {environment} (nothing was changed)")
        typed = ask(f"{question}\nType the environment's name ({environment}) to go on: ")
        if typed.strip() != environment:
            raise Refused("not confirmed (the name typed did not match); nothing was changed")
        confirmed.add(environment)
    return frozenset(confirmed)


class _Journaled:
    """A reporter that also writes the fleet journal."""

    def __init__(self, inner: Any, journal: Any) -> None:
        self.inner = inner
        self.journal = journal

    def wave(self, wave: Wave, number: int, total: int) -> None:
        self.inner.wave(wave, number, total)

    def start(self, target: Target, wave: Wave) -> None:
        if self.journal is not None:
            self.journal.start(target.name, wave.label)
        self.inner.start(target, wave)

    def end(self, result: TargetResult) -> None:
        if self.journal is not None:
            self.journal.end(result)
        self.inner.end(result)


def _reporter(ctx: Context) -> Any:
    from switchy_guard.fleet.output import LineReporter, LiveOutput, RichReporter

    if ctx.format == "json":  # stdout holds the one JSON document: failures on stderr
        return LineReporter(ctx.err, quiet=True)
    if ctx.format == "markdown":
        return LineReporter(ctx.err, quiet=ctx.quiet)
    isatty = getattr(ctx.out, "isatty", None)
    if not ctx.quiet and callable(isatty) and isatty():
        from rich.console import Console

        no_color = bool(getattr(ctx.args, "no_color", False))
        live = cast(TextIO, LiveOutput(ctx.out))
        return RichReporter(Console(file=live, no_color=no_color,
                                    highlight=False, force_terminal=True))
    return LineReporter(ctx.out, quiet=ctx.quiet)


def run(ctx: Context) -> int:
    """Run ``fleet ACTION``; exit 1 when a target failed, was refused or was not
    started because the rollout stopped."""
    from switchy_guard.fleet.journal import FleetJournal, failed_before
    from switchy_guard.fleet.work import FleetJob, run_target

    args = ctx.args
    action = args.action
    if args.plan and action != "rollback":
        raise ConfigError("--plan is only for fleet rollback (fleet plan plans migrate)")
    verb = "rollback-plan" if action == "rollback" and args.plan else action
    shares = parse_waves(args.waves)
    strategy = _strategy(args, action)
    targets = load_targets(ctx)
    skip = {} if args.retry_failed or not args.journal else failed_before(args.journal)
    job = FleetJob(verb, ctx.settings, ctx.source(), strategy, retry_failed=args.retry_failed,
                   force=args.force, ack_backup=args.ack_backup, command=command_line(ctx),
                   lock_timeout=args.lock_timeout)
    changes = verb in ("migrate", "rollback")
    if changes:
        job = dataclasses.replace(job, confirmed=confirm_once(ctx, job, targets))
    waves, options = _waves(args, verb, targets, shares)
    journal = FleetJournal(args.journal) if args.journal and changes else None
    results = _roll_out(ctx, journal, len(targets), waves, options,
                        lambda t, w: run_target(job, t, w), skip)
    _summary(ctx, action if verb != "rollback-plan" else "rollback --plan", results)
    stopped = changes and any(r.outcome == "skipped" for r in results)
    return 1 if any(r.failed for r in results) or stopped else 0


def _waves(args: argparse.Namespace, verb: str, targets: list[Target],
           shares: tuple[float, ...]) -> tuple[list[Wave], RolloutOptions]:
    """The waves and rollout options: canary and waves for a change; for reading only,
    every target in one wave, a few at once, whatever fails."""
    if verb in ("migrate", "rollback"):
        options = RolloutOptions(args.canary, shares, args.concurrency, args.max_failures,
                                 args.continue_on_error)
        return plan_waves(targets, args.canary, shares), options
    options = RolloutOptions(concurrency=args.concurrency, continue_on_error=True)
    return [Wave(verb, tuple(targets))], options


def _roll_out(ctx: Context, journal: FleetJournal | None, count: int, waves: list[Wave],
              options: RolloutOptions, work: Callable[[Target, Wave], TargetResult],
              skip: dict[str, str]) -> list[TargetResult]:
    """Run the waves, each target's start and end reported (and journaled)."""
    args = ctx.args
    reporter = _reporter(ctx)
    try:
        if journal is not None:
            journal.write("fleet", verb=args.action, targets=count,
                          shard=[args.shard_index, args.shard_count]
                          if args.shard_count else None)
        return run_rollout(waves, work, options, _Journaled(reporter, journal), skip)
    finally:
        reporter.close()
        if journal is not None:
            journal.close()


def _summary(ctx: Context, verb: str, results: list[TargetResult]) -> None:
    from switchy_guard.fleet.output import summary_json, summary_markdown, summary_text

    if ctx.format == "json":
        ctx.emit_json(summary_json(verb, results))
    elif ctx.format == "markdown":
        ctx.out.write(summary_markdown(verb, results))
    else:
        ctx.out.write(summary_text(verb, results))
