"""The gate's verdict: a policy applied to a plan's impact report and the database state.

Each check says what it looked at, whether it passed, was allowed (by an ``allow`` with a
reason, or because the policy does not refuse it) or refused, and why. Checks that can
only be settled when the run starts (confirmation, backup) are listed as ``required``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchy_guard.model.verdict import GateCheck, Verdict
from switchy_guard.rules import data_loss_codes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from switchy_guard.gates.policy import Policy, PolicyChoice
    from switchy_guard.model.findings import Finding
    from switchy_guard.model.state import MigrationState
    from switchy_guard.plan.impact import ImpactReport, MigrationImpact
    from switchy_guard.runtime.retry import Timeouts


#: Rules whose findings mean data can be lost: each Rule says so (``loses_data``).
DESTRUCTIVE_CODES = data_loss_codes()
IRREVERSIBLE_CODE = "SG203"


def is_destructive(impact: MigrationImpact) -> bool:
    """Whether a planned migration can lose data: it drops something, touches rows
    destructively, or has a data-loss finding (allowed or not)."""
    codes = {f.code for f in impact.findings} | {a.finding.code for a in impact.allowed}
    return bool(impact.drops or impact.rows or codes & DESTRUCTIVE_CODES)


def evaluate(
    choice: PolicyChoice,
    report: ImpactReport,
    state: MigrationState,
    *,
    force: bool = False,
    ack_backup: bool = False,
    confirm: str | None = None,
    timeouts: Timeouts | None = None,
) -> Verdict:
    """The verdict of ``choice.policy`` on ``report`` (what would run) and ``state``;
    ``confirm`` is the ``--confirm`` given, if any."""
    policy = choice.policy
    verdict = Verdict(policy.name, choice.environment, choice.reason, policy.path)
    checks = verdict.checks
    for impact in report.migrations:
        _finding_checks(impact, choice, checks)
    if policy.refuse_when_blocked_longer_than is not None and report.migrations:
        checks.extend(blocked_checks(report, policy.refuse_when_blocked_longer_than,
                                     policy.name))
    _state_checks(choice, report, state, force, checks)
    verdict.destructive = any(is_destructive(m) for m in report.migrations)
    if verdict.destructive:
        checks.append(_backup_check(choice, ack_backup))
    # A --confirm naming another environment is refused whatever the policy: the person
    # believes the run goes elsewhere (--confirm production, --env forgotten).
    if report.migrations and (policy.require_confirmation or confirm is not None):
        checks.append(_confirmation_check(choice, confirm))
    if report.migrations and "production" in (policy.name, choice.environment):
        lock_timeout = (timeouts or policy.timeouts).over(policy.timeouts)
        if not lock_timeout.statement_lock_timeout:
            checks.append(GateCheck(
                "statement lock timeout", "warning",
                f"{policy.name} sets no statement_lock_timeout: a statement waiting for a "
                "lock (behind a long transaction) holds every query on its table queued "
                "behind it, without bound; set statement_lock_timeout and lock_retries in "
                "the policy, or pass --statement-lock-timeout S --lock-retries N"))
    if not verdict.checks:
        checks.append(GateCheck("policy", "passed", "nothing in the plan needs a gate"))
    return verdict


def blocked_checks(report: ImpactReport, longest: float, policy: str) -> list[GateCheck]:
    """``refuse_when_blocked_longer_than``: a refusal per session whose transaction, open
    longer than ``longest`` seconds, holds a lock that conflicts with one the plan takes
    (the report's live ``locks``); a warning when the report has no database to ask."""
    if not report.live:
        return [GateCheck("blocked", "warning", f"{policy} sets "
                          "refuse_when_blocked_longer_than, but the plan was made without "
                          "a database: no session could be looked at")]
    checks, seen = [], set()
    for impact in report.migrations:
        for planned in impact.locks:
            for table, blocker in planned.blockers:
                age = blocker.transaction_seconds
                if age is None or age <= longest or (impact.id, blocker.pid) in seen:
                    continue
                seen.add((impact.id, blocker.pid))
                modes = ", ".join(lock.mode for lock in planned.taken.locks
                                  if lock.table == table)
                checks.append(GateCheck(
                    "blocked", "refused",
                    f"statement {planned.statement} needs {modes} on {table}, and "
                    f"{blocker.describe()} holds a conflicting lock, its transaction open "
                    f"longer than {policy}'s refuse_when_blocked_longer_than "
                    f"({longest:g}s): the statement would wait, and every query on "
                    f"{table} behind it", impact.id))
    return checks


def finding_refusals(findings: Iterable[Finding], policy: Policy) -> list[GateCheck]:
    """The checks ``policy`` refuses among ``findings`` (those not allowed by their
    migration): irreversible ones where it refuses them, rules it allows only with a
    reasoned allow, and severities it blocks. ``check --gate`` uses it without a plan."""
    checks = []
    for finding in findings:
        label = finding.label
        if finding.code == IRREVERSIBLE_CODE and policy.refuse_irreversible:
            # The finding's message says which: no down script, or an empty one.
            why = "no down script" if finding.message.startswith("no down script") else (
                "the down script is empty, its up changes the schema (declare a deliberate "
                "no-op with down = \"noop\" in metadata.toml or a `-- switchy-guard: "
                "noop-down -- reason` line in down.sql)")
            checks.append(GateCheck(
                label, "refused", f"{why}, and the policy refuses irreversible "
                "migrations (allow 'irreversible' with a reason in its metadata.toml)",
                finding.migration))
        elif policy.requires_allow(finding.code, finding.name):
            checks.append(GateCheck(
                label, "refused", f"{policy.name} allows this rule only with an allow and a "
                f"reason{_WHERE_DOWN_ALLOWS if finding.rollback_time else ''}: "
                f"{finding.message}", finding.migration))
        elif finding.severity.value in policy.block_severities:
            checks.append(GateCheck(
                label, "refused", f"{finding.severity.value} findings block in {policy.name}: "
                f"{finding.message}", finding.migration))
    return checks


_WHERE_DOWN_ALLOWS = " (it is in the down script: allow it there or in metadata.toml)"


def _finding_checks(impact: MigrationImpact, choice: PolicyChoice,
                    checks: list[GateCheck]) -> None:
    checks.extend(finding_refusals(impact.findings, choice.policy))
    for allowed in impact.allowed:
        finding = allowed.finding
        checks.append(GateCheck(finding.label, "allowed",
                                f"allowed by the migration: {allowed.reason}", impact.id))


def _state_checks(choice: PolicyChoice, report: ImpactReport, state: MigrationState,
                  force: bool, checks: list[GateCheck]) -> None:
    policy = choice.policy
    dirty = [e.id for e in state.in_progress()]
    if dirty and force:
        checks.append(GateCheck(
            "dirty-state", "refused" if policy.refuse_dirty else "allowed",
            f"--force over in_progress rows ({', '.join(dirty)})"
            + (f": {policy.name} never lets --force past dirty state; recover with "
               "mark-completed or mark-failed" if policy.refuse_dirty else "")))
    drifted = [e.id for e in state.drifted()]
    if report.direction == "down":
        planned = {m.id for m in report.migrations}
        drifted = [i for i in drifted if i in planned]
    if drifted and force:
        checks.append(GateCheck(
            "checksum-drift", "refused" if policy.refuse_checksum_drift else "allowed",
            f"--force over changed applied migrations ({', '.join(drifted)})"
            + (f": {policy.name} never lets --force past checksum drift"
               if policy.refuse_checksum_drift else "")))
    if report.direction == "up" and policy.refuse_out_of_order:
        from switchy_guard.model.ordering import sort_key

        known = {m.id: m for m in state.migrations}
        def key(migration_id: str) -> tuple[object, ...]:
            found = known.get(migration_id)
            return sort_key(found) if found is not None else ((), migration_id)

        applied = [key(e.id) for e in state.applied()]
        last = max(applied) if applied else None
        newest = last[-1] if last is not None else None
        late = [m.id for m in report.migrations
                if last is not None and key(m.id) < last and m.id not in state.rows]
        if late:
            checks.append(GateCheck(
                "out-of-order", "refused",
                f"pending {', '.join(late)} sort(s) before the newest applied {newest}; "
                f"{policy.name} refuses out-of-order migrations"))


def _backup_check(choice: PolicyChoice, ack_backup: bool) -> GateCheck:
    policy = choice.policy
    if policy.backup == "ack":
        if ack_backup:
            return GateCheck("backup", "passed", "--ack-backup: a backup was acknowledged")
        return GateCheck("backup", "refused", f"the plan can lose data and {policy.name} needs "
                         "a backup: take one, then pass --ack-backup")
    if policy.backup == "command":
        return GateCheck("backup", "required",
                         "the policy's backup_command runs before anything is applied")
    return GateCheck("backup", "passed", f"{policy.name} asks for no backup")


def _confirmation_check(choice: PolicyChoice, confirm: str | None) -> GateCheck:
    environment = choice.environment
    if confirm == environment:
        return GateCheck("confirmation", "passed", f"--confirm {environment}")
    if confirm is not None:
        return GateCheck("confirmation", "refused",
                         f"--confirm {confirm!r} does not match the environment {environment!r}"
                         f" ({choice.reason})")
    return GateCheck("confirmation", "required",
                     f"type {environment!r} at the terminal or pass --confirm {environment}")
