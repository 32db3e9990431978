"""Gated runs: ``migrate`` and ``rollback`` through the lock, policy, confirmation and
backup gates, each recorded in the audit journal.

The flow: take the lock; read the state; build the impact report; let the policy judge it
(the verdict becomes part of the report); show the report; refuse if the verdict refuses;
ask for confirmation where the policy requires it; run the backup command or require a
backup acknowledgement before destructive steps; run; release the lock. The runner still
refuses a plan holding anything the gate did not approve. The journal gets one entry per
run (applied, failed, refused or timed out waiting for the lock) with the policy, the
plan's digest and the duration, plus one per forced override.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from switchy_guard.errors import ConfigError, LockTimeout, Refused, SwitchyError
from switchy_guard.gates.evaluate import evaluate
from switchy_guard.gates.policy import PolicyChoice
from switchy_guard.gates.reports import impact_report, rollback_report
from switchy_guard.masking import mask_text
from switchy_guard.model.plan import PlannedMigration, RunResult, Strategy
from switchy_guard.model.server_version import GivenVersion
from switchy_guard.model.verdict import Verdict
from switchy_guard.plan.impact import ImpactReport
from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import connect_for_write
from switchy_guard.runtime.lock import HeldLock
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.retry import Timeouts
from switchy_guard.runtime.runner import Migrator, check_strategy


@dataclass
class GateOptions:
    """What the person running the command said.

    ``ask`` prompts at a terminal and returns what was typed; None when there is no
    terminal. ``lock_timeout`` (an explicit flag) overrides the policy's.
    """

    choice: PolicyChoice
    confirm: str | None = None
    ask: Callable[[str], str] | None = None
    ack_backup: bool = False
    force: bool = False
    command: str = "switchy-guard"
    lock_timeout: float | None = None
    #: The flags' and config's statement timeouts and retries, over the policy's.
    timeouts: Timeouts | None = None
    #: The ``server_version`` setting (or flag): the live server's version wins, a
    #: contradiction is a warning of the report (see server_version.py).
    server_version: GivenVersion | None = None


def plan_digest(report: ImpactReport) -> str:
    """SHA-256 over the direction and each planned migration's id and statements."""
    digest = hashlib.sha256(report.direction.encode())
    for migration in report.migrations:
        digest.update(f"\n{migration.id}\n".encode())
        digest.update("\0".join(migration.statements).encode())
    return digest.hexdigest()


def require_confirmation(choice: PolicyChoice, options: GateOptions, what: str) -> None:
    """Refuse unless the person confirmed by typing the environment's name (or
    ``--confirm NAME``), where the policy requires it. A ``--confirm`` naming another
    environment is refused whatever the policy."""
    environment = choice.environment
    if options.confirm is not None and options.confirm != environment:
        raise Refused(f"--confirm {options.confirm!r} does not match the environment "
                      f"{environment!r} ({choice.reason}); nothing was changed")
    if not choice.policy.require_confirmation or options.confirm is not None:
        return
    if options.ask is None:
        raise Refused(f"policy {choice.policy.name} requires confirmation and there is no "
                      f"terminal to confirm at: pass --confirm {environment} "
                      "(nothing was changed)")
    typed = options.ask(f"{what}\nType the environment's name ({environment}) to go on: ")
    if typed.strip() != environment:
        raise Refused("not confirmed (the name typed did not match); nothing was changed")


def run_backup_command(choice: PolicyChoice, database_url: str) -> None:
    """Run the policy's backup command; a non-zero exit refuses the run."""
    command = choice.policy.backup_command
    if not command:
        return
    env = {**os.environ, "SWITCHY_ENV": choice.environment,
           "SWITCHY_DATABASE_URL": database_url}
    try:
        done = subprocess.run(command, shell=True, env=env, check=False,
                              capture_output=True, text=True)
    except OSError as exc:
        raise Refused(f"backup command could not start: {exc}; nothing was applied") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        # The command has the password itself: its output may show it in any form
        # (PGPASSWORD=..., "password=..."), not only inside a URL.
        password = make_url(database_url).password

        def masked(text: str) -> str:
            text = mask_text(text)
            return text.replace(password, "***") if password else text

        raise Refused(f"backup command {masked(command)!r} exited with {done.returncode}"
                      f"{': ' + masked(tail[0]) if tail[0] else ''}; nothing was applied")


class _Journal:
    """Writes this run's audit entries (never letting a journal failure hide the run's)."""

    def __init__(self, migrator: Migrator, options: GateOptions) -> None:
        self.migrator = migrator
        self.options = options
        self.started = time.monotonic()

    def record(self, outcome: str, *, target: str | None = None, detail: str | None = None,
               digest: str | None = None) -> None:
        journal = AuditJournal(self.migrator.tracking.name)
        server = self.options.choice.server
        if server:  # which database this was, as it said itself (not the URL's spelling)
            detail = f"{detail}; server: {server}" if detail else f"server: {server}"
        try:
            with connect_for_write(self.migrator.engine) as conn:
                journal.record(
                    conn, self.options.command,
                    environment=self.options.choice.environment, target=target,
                    outcome=outcome, detail=detail, policy=self.options.choice.policy.name,
                    plan_digest=digest, duration=time.monotonic() - self.started,
                )
                conn.commit()
        except Exception as exc:  # the run's own outcome matters more
            warnings.warn(f"the audit journal could not be written: "
                          f"{mask_text(database_reason(exc))}", stacklevel=2)


    def require_writable(self) -> None:
        """Refuse the run (exit 2, before anything runs) when the journal cannot be
        written; used where the policy judges the plan, so a run there always leaves
        its record (elsewhere a journal failure is a warning)."""
        journal = AuditJournal(self.migrator.tracking.name)
        try:
            with connect_for_write(self.migrator.engine) as conn:
                journal.check_writable(conn)
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"the audit journal {journal.name!r} cannot be written "
                f"({mask_text(database_reason(exc))}), and policy "
                f"{self.options.choice.policy.name} requires a record of every run: "
                "nothing was run"
            ) from None


def journal_refusal(migrator: Migrator, options: GateOptions, refused: Refused, *,
                    target: str | None = None) -> None:
    """One "refused" audit entry for a refusal before :func:`gated_run` (``retry``'s
    confirmation and its checks), which journals its own."""
    _Journal(migrator, options).record("refused", target=target, detail=refused.one_line())


def gated_run(
    migrator: Migrator,
    direction: str,
    strategy: Strategy,
    options: GateOptions,
    *,
    show: Callable[[ImpactReport], None] | None = None,
    retry_failed: bool = False,
    require_checksum_validation: bool = False,
    from_start: bool = False,
) -> RunResult:
    """Migrate (``direction="up"``) or roll back (``"down"``) through every gate.

    The lock is taken first and held through planning, judging, confirming and running,
    so the plan a person confirms is the plan that runs, and another run's ``in_progress``
    rows are never mistaken for a crash (as ``terraform apply`` holds its state lock
    while it waits for "yes"). That the lock is still held is checked after the
    confirmation and before each migration: a lock broken meanwhile (``lock break
    --force``) stops the run (LockLost) before anything more is applied.
    """
    journal = _Journal(migrator, options)
    policy = options.choice.policy
    migrator.lock_timeout = (options.lock_timeout if options.lock_timeout is not None
                             else policy.lock_timeout)
    if options.timeouts is not None:
        migrator.timeouts = options.timeouts.over(policy.timeouts)
    _journal_retries(migrator, journal)
    # Bad input fails here, before the database is touched (not even the lock record).
    check_strategy(strategy, migrator.migrations())
    try:
        with migrator.locked(policy.require_lock) as held:
            return _gated_run_locked(migrator, direction, strategy, options, journal, show,
                                     retry_failed, require_checksum_validation, held,
                                     from_start)
    except LockTimeout as timeout:
        journal.record("lock timeout", detail=timeout.one_line())
        raise
    except KeyboardInterrupt:
        # Ctrl-C at the confirmation prompt, or during the run (a statement-by-statement
        # migration is then left in_progress, and says so): the journal still gets it.
        journal.record("interrupted", detail="interrupted (Ctrl-C or SIGINT)")
        raise


def _journal_retries(migrator: Migrator, journal: _Journal) -> None:
    """One audit entry per attempt that gave up on a lock (the last attempt's outcome is
    the run's own entry), besides any on_retry hook the caller set."""
    earlier = migrator.hooks.on_retry

    def on_retry(planned: PlannedMigration, attempt: int, reason: str, pause: float) -> None:
        journal.record("retrying", target=planned.migration.id,
                       detail=f"attempt {attempt} of {migrator.timeouts.attempts} failed: "
                              f"{reason}; retrying in {pause:.1f}s")
        if earlier is not None:
            earlier(planned, attempt, reason, pause)

    migrator.hooks.on_retry = on_retry


def _gated_run_locked(
    migrator: Migrator,
    direction: str,
    strategy: Strategy,
    options: GateOptions,
    journal: _Journal,
    show: Callable[[ImpactReport], None] | None,
    retry_failed: bool,
    require_checksum_validation: bool,
    held: HeldLock,
    from_start: bool = False,
) -> RunResult:
    verb = "migrate" if direction == "up" else "rollback"
    policy = options.choice.policy
    if policy.judges_the_plan:
        journal.require_writable()
    try:
        state = migrator.state()
        if direction == "up":
            report = impact_report(migrator, strategy, state=state, force=options.force,
                                   retry_failed=retry_failed, from_start=from_start,
                                   require_checksum_validation=require_checksum_validation,
                                   detailed=policy.judges_the_plan,
                                   server_version=options.server_version)
        else:
            report = rollback_report(migrator, strategy, force=options.force, state=state,
                                     detailed=policy.judges_the_plan,
                                     server_version=options.server_version)
    except Refused as refused:
        journal.record("refused", detail=refused.one_line())
        raise
    verdict: Verdict = evaluate(options.choice, report, state, force=options.force,
                                ack_backup=options.ack_backup, confirm=options.confirm,
                                timeouts=options.timeouts)
    report.gate = verdict
    if show is not None:
        show(report)
    digest = plan_digest(report)
    ids = [m.id for m in report.migrations]
    target = ", ".join(ids)[:2000] or None
    try:
        if verdict.refused:
            raise Refused(verdict.summary() + "; nothing was changed")
        if ids:
            require_confirmation(options.choice, options,
                                 f"{verb}: {len(ids)} migration(s) on the "
                                 f"{options.choice.environment} database")
            if verdict.destructive and policy.backup == "command":
                url = migrator.engine.url
                # Without the driver (postgresql://, not postgresql+psycopg://), as pg_dump
                # and the other tools a backup command calls understand it.
                run_backup_command(options.choice, url.set(
                    drivername=url.get_backend_name()).render_as_string(hide_password=False))
            held.verify()  # a person may have been at the prompt a long while
    except Refused as refused:
        journal.record("refused", target=target, detail=refused.one_line(), digest=digest)
        raise
    forced = [w for w in report.warnings if w.startswith("--force:")]
    if forced:
        journal.record("forced override", target=target, detail="; ".join(forced),
                       digest=digest)
    try:
        # The lock is held already (or the policy does without it): the run checks it
        # before each migration.
        if direction == "up":
            result = migrator.migrate(
                strategy, retry_failed=retry_failed, from_start=from_start,
                force=options.force,
                require_checksum_validation=require_checksum_validation,
                approved=ids, lock=held,
            )
        else:
            result = migrator.rollback(strategy, force=options.force, approved=ids,
                                       lock=held)
    except SwitchyError as error:
        outcome = "refused" if isinstance(error, Refused) else "failed"
        journal.record(outcome, target=target, detail=error.one_line(), digest=digest)
        raise
    journal.record("ok", target=", ".join(result.done)[:2000] or None,
                   detail=f"{len(result.done)} migration(s) "
                          f"{'applied' if direction == 'up' else 'rolled back'}",
                   digest=digest)
    return result


def gated_retry(
    migrator: Migrator,
    migration_id: str,
    gate: GateOptions,
    *,
    from_start: bool = False,
    show: Callable[[ImpactReport], None] | None = None,
) -> list[str]:
    """Re-run one failed migration through the policy's gates, like ``migrate`` (findings,
    row counts, verdict, backup, lock timeout); ``show`` gets the judged impact report. A
    refused retry is journaled, as a refused migrate is."""
    from switchy_guard.errors import check_migration_id
    from switchy_guard.model.plan import UpTo
    from switchy_guard.runtime.recovery import check_retryable

    check_migration_id("migration_id", migration_id, {m.id for m in migrator.migrations()})
    try:
        check_retryable(migrator, migration_id)
    except Refused as refused:
        journal_refusal(migrator, gate, refused, target=migration_id)
        raise
    return gated_run(migrator, "up", UpTo(migration_id), gate, retry_failed=True,
                     from_start=from_start, show=show).done
