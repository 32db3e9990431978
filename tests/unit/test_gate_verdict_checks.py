"""The gate's verdict, check by check: what each check looked at, its outcome and the exact
reason a person reads, for every policy setting the gate consults.

Plain data in, plain data out: the gate never opens a connection, so these build the
impact report and the migration state by hand (tests/integration/test_gates.py drives
the same gate through real runs on the three servers).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from switchy_guard.check.pipeline import AllowedFinding
from switchy_guard.gates.evaluate import (
    blocked_checks,
    evaluate,
    finding_refusals,
    is_destructive,
)
from switchy_guard.gates.policy import Policy, PolicyChoice
from switchy_guard.model.findings import Finding, Severity
from switchy_guard.model.migration import Migration
from switchy_guard.model.records import COMPLETED, FAILED, IN_PROGRESS, TrackingRow
from switchy_guard.model.state import MigrationState
from switchy_guard.model.verdict import GateCheck, Verdict
from switchy_guard.plan.impact import ImpactReport, MigrationImpact, PlannedLock
from switchy_guard.plan.rowcounts import RowImpact
from switchy_guard.runtime.blockers import Blocker
from switchy_guard.runtime.retry import Timeouts
from switchy_guard.sql.locks import LocksTaken, TableLock

A, B, C = "2024-01-01-000000_a", "2024-01-02-000000_b", "2024-01-03-000000_c"


def finding(code: str = "SG101", name: str = "some-rule", *, severity: Severity = Severity.INFO,
            message: str = "what was found", migration: str | None = A,
            direction: str = "up") -> Finding:
    return Finding(code, name, severity, migration, "up.sql", 1, 1, "SQL", message,
                   direction=direction)


def impact(migration_id: str = A, **fields: Any) -> MigrationImpact:
    return MigrationImpact(migration_id, True, True, ["SELECT 1"], **fields)


def report(*migrations: MigrationImpact, direction: str = "up", live: bool = False) -> ImpactReport:
    return ImpactReport(direction, "sqlite", list(migrations), [], live)


def choice(policy: Policy, environment: str = "staging") -> PolicyChoice:
    return PolicyChoice(policy, environment, f"--env {environment}")


def migration(migration_id: str, order_key: tuple[Any, ...] | None = None) -> Migration:
    return Migration(migration_id, "SELECT 1", "SELECT 2", "u" * 64, "d" * 64,
                     order_key=order_key)


def row(migration_id: str, status: str = COMPLETED, up: str = "u" * 64) -> TrackingRow:
    return TrackingRow(migration_id, None, None, up, "d" * 64, status, None)


def state(migrations: list[Migration] | None = None, *rows: TrackingRow) -> MigrationState:
    return MigrationState(migrations or [], {r.id: r for r in rows})


def checks(verdict: Verdict) -> list[tuple[str, str, str, str | None]]:
    return [(c.check, c.outcome, c.reason, c.migration) for c in verdict.checks]


def judge(policy: Policy, the_report: ImpactReport, the_state: MigrationState | None = None,
          environment: str = "staging", **options: Any) -> Verdict:
    return evaluate(choice(policy, environment), the_report, the_state or state(), **options)


# --- the verdict object ---------------------------------------------------------------


def test_an_empty_plan_passes_with_one_check_saying_nothing_needs_a_gate() -> None:
    verdict = judge(Policy("strict", require_confirmation=True, backup="ack",
                           refuse_when_blocked_longer_than=1.0), report())
    assert checks(verdict) == [("policy", "passed", "nothing in the plan needs a gate", None)]
    assert not verdict.refused and not verdict.destructive
    assert verdict.summary() == "policy strict (--env staging): allowed"


def test_the_verdict_names_the_policy_its_environment_why_and_its_file() -> None:
    policy = Policy("prodlike", path="policies/prodlike.toml")
    verdict = evaluate(PolicyChoice(policy, "live", "match_urls pattern '*'"), report(), state())
    assert (verdict.policy, verdict.environment, verdict.chosen_by, verdict.policy_file) == (
        "prodlike", "live", "match_urls pattern '*'", "policies/prodlike.toml")


def test_refusals_are_the_refused_checks_only_and_make_the_verdict_refused() -> None:
    refused = GateCheck("backup", "refused", "no backup")
    verdict = Verdict("p", "e", "--env e", None, [
        GateCheck("policy", "passed", "ok"), GateCheck("x", "warning", "w"),
        GateCheck("y", "required", "r"), GateCheck("z", "allowed", "a"), refused])
    assert verdict.refusals() == [refused]
    assert verdict.refused
    assert not Verdict("p", "e", "--env e", None, verdict.checks[:4]).refused


def test_a_check_once_made_cannot_be_changed_and_equal_checks_are_one() -> None:
    check = GateCheck("backup", "refused", "take one", A)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.outcome = "passed"  # type: ignore[misc]
    assert len({check, GateCheck("backup", "refused", "take one", A)}) == 1


def test_the_verdicts_json_shape() -> None:
    verdict = Verdict("production", "prod", "--env prod", "p.toml",
                      [GateCheck("backup", "refused", "take one", A)], destructive=True)
    assert verdict.to_dict() == {
        "policy": "production", "environment": "prod", "chosen_by": "--env prod",
        "policy_file": "p.toml", "refused": True, "destructive": True,
        "checks": [{"check": "backup", "outcome": "refused", "reason": "take one",
                    "migration": A}]}
    assert Verdict("p", "e", "c", None).to_dict()["refused"] is False
    assert Verdict("p", "e", "c", None).to_dict()["destructive"] is False


def test_the_summary_lists_what_is_still_required() -> None:
    verdict = Verdict("production", "prod", "--env prod", None, [
        GateCheck("backup", "required", "r"), GateCheck("policy", "passed", "p"),
        GateCheck("confirmation", "required", "c")])
    assert verdict.summary() == ("policy production (--env prod): allowed, once it has: "
                                 "backup, confirmation")


def test_the_summary_of_a_refusal_names_each_refused_check_and_its_migration() -> None:
    verdict = Verdict("production", "prod", "--env prod", None, [
        GateCheck("SG301 drop-table", "refused", "no allow", A),
        GateCheck("policy", "passed", "fine"),
        GateCheck("backup", "refused", "take one")])
    assert verdict.summary() == (f"policy production (--env prod) refused: {A}: SG301 "
                                 "drop-table: no allow; backup: take one")


# --- what counts as destructive -------------------------------------------------------


@pytest.mark.parametrize("code", ["SG301", "SG304", "SG308"])
def test_a_data_loss_finding_makes_a_migration_destructive(code: str) -> None:
    assert is_destructive(impact(findings=[finding(code)]))


@pytest.mark.parametrize("code", ["SG300", "SG309", "SG203", "SG101"])
def test_other_findings_do_not(code: str) -> None:
    assert not is_destructive(impact(findings=[finding(code)]))


def test_an_allowed_data_loss_finding_is_still_destructive() -> None:
    allowed = AllowedFinding(finding("SG302", "drop-column"), "unused since v2")
    assert is_destructive(impact(allowed=[allowed]))
    assert not is_destructive(impact(allowed=[AllowedFinding(finding("SG101"), "fine")]))


def test_drops_or_touched_rows_make_a_migration_destructive() -> None:
    assert is_destructive(impact(drops=["table users"]))
    assert is_destructive(impact(rows=[RowImpact(1, "users", "delete all rows", 3)]))
    assert not is_destructive(impact(creates=["table users"], alters=["table t"]))


def test_the_verdict_is_destructive_when_any_planned_migration_is() -> None:
    policy = Policy("dev")
    assert judge(policy, report(impact(A), impact(B, drops=["table t"]))).destructive
    assert not judge(policy, report(impact(A), impact(B))).destructive


# --- findings --------------------------------------------------------------------------


def test_no_down_script_is_refused_where_the_policy_refuses_irreversible() -> None:
    found = finding("SG203", "irreversible", message="no down script: cannot roll back")
    assert finding_refusals([found], Policy("strict", refuse_irreversible=True)) == [GateCheck(
        "SG203 irreversible", "refused", "no down script, and the policy refuses irreversible "
        "migrations (allow 'irreversible' with a reason in its metadata.toml)", A)]


def test_an_empty_down_script_is_refused_with_how_to_declare_a_deliberate_no_op() -> None:
    found = finding("SG203", "irreversible", message="the down script is empty")
    assert finding_refusals([found], Policy("strict", refuse_irreversible=True)) == [GateCheck(
        "SG203 irreversible", "refused", "the down script is empty, its up changes the schema "
        "(declare a deliberate no-op with down = \"noop\" in metadata.toml or a "
        "`-- switchy-guard: noop-down -- reason` line in down.sql), and the policy refuses "
        "irreversible migrations (allow 'irreversible' with a reason in its metadata.toml)", A)]


def test_an_irreversible_finding_falls_through_to_the_other_checks_when_not_refused() -> None:
    found = finding("SG203", "irreversible", severity=Severity.ERROR, message="no down script")
    assert finding_refusals([found], Policy("lax")) == []
    assert finding_refusals([found], Policy("lax", block_severities=frozenset({"error"}))) == [
        GateCheck("SG203 irreversible", "refused", "error findings block in lax: no down script",
                  A)]


def test_another_rule_is_not_taken_for_the_irreversible_one() -> None:
    found = finding("SG202", "irreversible-ish", message="no down script")
    assert finding_refusals([found], Policy("strict", refuse_irreversible=True)) == []


@pytest.mark.parametrize("required", ["SG301", "drop-table"])
def test_a_rule_the_policy_allows_only_with_an_allow_is_refused(required: str) -> None:
    found = finding("SG301", "drop-table", message="drops table users", migration=B)
    assert finding_refusals([found], Policy("production", require_allow=(required,))) == [
        GateCheck("SG301 drop-table", "refused", "production allows this rule only with an "
                  "allow and a reason: drops table users", B)]


def test_a_down_scripts_finding_says_where_to_allow_it() -> None:
    found = finding("SG301", "drop-table", message="drops table users", direction="down")
    assert finding_refusals([found], Policy("production", require_allow=("SG301",))) == [
        GateCheck("SG301 drop-table (rollback-time)", "refused", "production allows this rule "
                  "only with an allow and a reason (it is in the down script: allow it there "
                  "or in metadata.toml): drops table users", A)]


def test_a_blocked_severity_refuses_and_others_pass() -> None:
    policy = Policy("ci", block_severities=frozenset({"warning", "error"}))
    found = [finding(severity=Severity.WARNING, message="slow"),
             finding(severity=Severity.INFO, message="fyi"),
             finding(severity=Severity.ERROR, message="bad", migration=None)]
    assert finding_refusals(found, policy) == [
        GateCheck("SG101 some-rule", "refused", "warning findings block in ci: slow", A),
        GateCheck("SG101 some-rule", "refused", "error findings block in ci: bad", None)]


def test_each_migrations_findings_and_allows_become_checks_in_plan_order() -> None:
    policy = Policy("ci", block_severities=frozenset({"error"}))
    first = impact(A, findings=[finding(severity=Severity.ERROR, message="bad")],
                   allowed=[AllowedFinding(finding("SG102", "other"), "known and fine")])
    second = impact(B, allowed=[AllowedFinding(finding("SG103", "third", migration=B), "ok")])
    assert checks(judge(policy, report(first, second))) == [
        ("SG101 some-rule", "refused", "error findings block in ci: bad", A),
        ("SG102 other", "allowed", "allowed by the migration: known and fine", A),
        ("SG103 third", "allowed", "allowed by the migration: ok", B)]


# --- backup ------------------------------------------------------------------------------


DROPS = impact(A, drops=["table users"])


def test_a_destructive_plan_needs_an_acknowledged_backup_where_the_policy_asks() -> None:
    policy = Policy("production", backup="ack", statement_lock_timeout=5.0)
    assert checks(judge(policy, report(DROPS))) == [(
        "backup", "refused", "the plan can lose data and production needs a backup: take "
        "one, then pass --ack-backup", None)]
    assert checks(judge(policy, report(DROPS), ack_backup=True)) == [
        ("backup", "passed", "--ack-backup: a backup was acknowledged", None)]


def test_a_backup_command_is_required_before_the_run() -> None:
    policy = Policy("production", backup="command", backup_command="pg_dump",
                    statement_lock_timeout=5.0)
    assert checks(judge(policy, report(DROPS))) == [
        ("backup", "required", "the policy's backup_command runs before anything is applied",
         None)]


def test_no_backup_asked_passes_and_a_safe_plan_has_no_backup_check() -> None:
    assert checks(judge(Policy("dev"), report(DROPS))) == [
        ("backup", "passed", "dev asks for no backup", None)]
    assert [c.check for c in judge(Policy("p", backup="ack"), report(impact())).checks] == [
        "policy"]


# --- confirmation ------------------------------------------------------------------------


def test_a_required_confirmation_is_asked_for_by_environment() -> None:
    verdict = judge(Policy("p", require_confirmation=True), report(impact()), environment="prod")
    assert checks(verdict) == [("confirmation", "required",
                                "type 'prod' at the terminal or pass --confirm prod", None)]
    assert verdict.summary() == "policy p (--env prod): allowed, once it has: confirmation"


def test_the_right_confirm_passes() -> None:
    verdict = judge(Policy("p", require_confirmation=True), report(impact()),
                    environment="prod", confirm="prod")
    assert checks(verdict) == [("confirmation", "passed", "--confirm prod", None)]


def test_a_confirm_naming_another_environment_is_refused_even_where_none_is_required() -> None:
    verdict = judge(Policy("dev"), report(impact()), environment="dev", confirm="production")
    assert checks(verdict) == [(
        "confirmation", "refused",
        "--confirm 'production' does not match the environment 'dev' (--env dev)", None)]


def test_no_confirmation_check_without_anything_to_run() -> None:
    verdict = judge(Policy("p", require_confirmation=True), report(), confirm="other")
    assert [c.check for c in verdict.checks] == ["policy"]


# --- statement lock timeout in production ---------------------------------------------


LOCK_WARNING = ("production sets no statement_lock_timeout: a statement waiting for a lock "
                "(behind a long transaction) holds every query on its table queued behind it, "
                "without bound; set statement_lock_timeout and lock_retries in the policy, or "
                "pass --statement-lock-timeout S --lock-retries N")


def test_production_without_a_statement_lock_timeout_is_warned() -> None:
    assert checks(judge(Policy("production"), report(impact()))) == [
        ("statement lock timeout", "warning", LOCK_WARNING, None)]


def test_the_production_environment_is_warned_under_another_policy_name() -> None:
    verdict = judge(Policy("strict"), report(impact()), environment="production")
    assert [(c.check, c.outcome) for c in verdict.checks] == [
        ("statement lock timeout", "warning")]
    assert verdict.checks[0].reason.startswith("strict sets no statement_lock_timeout")


def test_a_lock_timeout_from_the_policy_or_the_command_line_silences_the_warning() -> None:
    with_policy = Policy("production", statement_lock_timeout=5.0)
    assert [c.check for c in judge(with_policy, report(impact())).checks] == ["policy"]
    given = Timeouts(statement_lock_timeout=2.0)
    assert [c.check for c in judge(Policy("production"), report(impact()),
                                   timeouts=given).checks] == ["policy"]
    # Flags that leave the lock timeout unset keep the policy's.
    other = Timeouts(statement_timeout=30.0)
    assert [c.check for c in judge(with_policy, report(impact()),
                                   timeouts=other).checks] == ["policy"]


def test_no_lock_timeout_warning_outside_production_or_without_a_plan() -> None:
    assert [c.check for c in judge(Policy("staging"), report(impact())).checks] == ["policy"]
    assert [c.check for c in judge(Policy("production"), report()).checks] == ["policy"]


# --- sessions that would block the plan -------------------------------------------------


def blocker(pid: int, seconds: float | None) -> Blocker:
    return Blocker(pid, "app", None, seconds, "idle in transaction", "SELECT * FROM users")


def locking(*blockers: tuple[str, Blocker]) -> PlannedLock:
    taken = LocksTaken((TableLock("users", "ACCESS EXCLUSIVE"), TableLock("orders", "SHARE"),
                        TableLock("users", "SHARE ROW EXCLUSIVE")))
    return PlannedLock(2, taken, blockers=list(blockers))


def test_without_a_database_the_blocked_check_is_a_warning() -> None:
    assert blocked_checks(report(impact(locks=[locking(("users", blocker(7, 99.0)))])), 10.0,
                          "production") == [GateCheck(
        "blocked", "warning", "production sets refuse_when_blocked_longer_than, but the plan "
        "was made without a database: no session could be looked at")]


def test_a_session_open_longer_than_the_limit_refuses_the_plan() -> None:
    planned = impact(B, locks=[locking(("users", blocker(7, 12.0)))])
    assert blocked_checks(report(planned, live=True), 10.0, "production") == [GateCheck(
        "blocked", "refused", "statement 2 needs ACCESS EXCLUSIVE, SHARE ROW EXCLUSIVE on "
        "users, and pid 7 (user app, transaction open 12s, idle in transaction): SELECT * "
        "FROM users holds a conflicting lock, its transaction open longer than production's "
        "refuse_when_blocked_longer_than (10s): the statement would wait, and every query "
        "on users behind it", B)]


def test_sessions_at_or_under_the_limit_or_of_unknown_age_do_not_refuse() -> None:
    planned = impact(locks=[locking(("users", blocker(7, 10.0)), ("users", blocker(8, 3.0)),
                                    ("users", blocker(9, None)))])
    assert blocked_checks(report(planned, live=True), 10.0, "production") == []


def test_a_young_session_before_an_old_one_does_not_hide_it() -> None:
    planned = impact(locks=[locking(("users", blocker(8, 3.0)), ("users", blocker(9, None)),
                                    ("users", blocker(7, 60.0)))])
    refused = blocked_checks(report(planned, live=True), 10.0, "production")
    assert [c.reason.split(" (")[0] for c in refused] == [
        "statement 2 needs ACCESS EXCLUSIVE, SHARE ROW EXCLUSIVE on users, and pid 7"]


def test_one_refusal_per_session_and_migration() -> None:
    old = blocker(7, 60.0)
    first = impact(A, locks=[locking(("users", old), ("orders", old)),
                             locking(("users", old))])
    second = impact(B, locks=[locking(("orders", old))])
    refused = blocked_checks(report(first, second, live=True), 1.5, "production")
    assert [(c.migration, c.reason.split(",")[0]) for c in refused] == [
        (A, "statement 2 needs ACCESS EXCLUSIVE"), (B, "statement 2 needs SHARE on orders")]
    assert "(1.5s)" in refused[0].reason


def test_the_policy_setting_adds_the_blocked_checks_to_the_verdict() -> None:
    policy = Policy("production", refuse_when_blocked_longer_than=10.0,
                    statement_lock_timeout=5.0)
    planned = impact(locks=[locking(("users", blocker(7, 12.0)))])
    verdict = judge(policy, report(planned, live=True))
    assert [(c.check, c.outcome, c.migration) for c in verdict.checks] == [
        ("blocked", "refused", A)]
    assert "longer than production's refuse_when_blocked_longer_than (10s)" in (
        verdict.checks[0].reason)
    assert checks(judge(Policy("production", statement_lock_timeout=5.0),
                        report(planned, live=True))) == [
        ("policy", "passed", "nothing in the plan needs a gate", None)]


# --- database state: dirty rows, drift, order --------------------------------------------


def test_force_over_dirty_rows_is_refused_where_the_policy_refuses_dirty_state() -> None:
    dirty = state([migration(A), migration(B)], row(A, IN_PROGRESS), row(B, IN_PROGRESS))
    verdict = judge(Policy("production", refuse_dirty=True, statement_lock_timeout=1.0),
                    report(impact(C)), dirty, force=True)
    assert checks(verdict) == [(
        "dirty-state", "refused", f"--force over in_progress rows ({A}, {B}): production never "
        "lets --force past dirty state; recover with mark-completed or mark-failed", None)]


def test_force_over_dirty_rows_is_allowed_elsewhere_and_without_force_not_judged() -> None:
    dirty = state([migration(A)], row(A, IN_PROGRESS))
    assert checks(judge(Policy("dev"), report(impact(C)), dirty, force=True)) == [
        ("dirty-state", "allowed", f"--force over in_progress rows ({A})", None)]
    assert [c.check for c in judge(Policy("p", refuse_dirty=True), report(impact(C)),
                                   dirty).checks] == ["policy"]
    clean = state([migration(A)], row(A, FAILED))
    assert [c.check for c in judge(Policy("p", refuse_dirty=True), report(impact(C)), clean,
                                   force=True).checks] == ["policy"]


def test_force_over_checksum_drift_is_refused_where_the_policy_refuses_it() -> None:
    drifted = state([migration(A), migration(B)], row(A, up="x" * 64), row(B, up="y" * 64))
    verdict = judge(Policy("production", refuse_checksum_drift=True, statement_lock_timeout=1.0),
                    report(impact(C)), drifted, force=True)
    assert checks(verdict) == [(
        "checksum-drift", "refused", f"--force over changed applied migrations ({A}, {B}): "
        "production never lets --force past checksum drift", None)]


def test_force_over_drift_is_allowed_elsewhere_and_without_force_not_judged() -> None:
    drifted = state([migration(A)], row(A, up="x" * 64))
    assert checks(judge(Policy("dev"), report(impact(C)), drifted, force=True)) == [
        ("checksum-drift", "allowed", f"--force over changed applied migrations ({A})", None)]
    assert [c.check for c in judge(Policy("p", refuse_checksum_drift=True), report(impact(C)),
                                   drifted).checks] == ["policy"]


def test_a_rollback_only_judges_the_drift_of_what_it_rolls_back() -> None:
    drifted = state([migration(A), migration(B)], row(A, up="x" * 64), row(B, up="y" * 64))
    policy = Policy("p", refuse_checksum_drift=True)
    verdict = judge(policy, report(impact(B), direction="down"), drifted, force=True)
    assert checks(verdict) == [(
        "checksum-drift", "refused", f"--force over changed applied migrations ({B}): p never "
        "lets --force past checksum drift", None)]
    untouched = judge(policy, report(impact(C), direction="down"), drifted, force=True)
    assert [c.check for c in untouched.checks] == ["policy"]


def test_a_pending_migration_sorting_before_the_newest_applied_is_refused() -> None:
    known = state([migration(A), migration(B), migration(C)], row(B))
    verdict = judge(Policy("p", refuse_out_of_order=True), report(impact(A), impact(C)), known)
    assert checks(verdict) == [(
        "out-of-order", "refused",
        f"pending {A} sort(s) before the newest applied {B}; p refuses out-of-order migrations",
        None)]


def test_every_late_migration_is_named() -> None:
    known = state([migration(A), migration(B), migration(C)], row(C))
    verdict = judge(Policy("p", refuse_out_of_order=True), report(impact(A), impact(B)), known)
    assert verdict.checks[0].reason == (
        f"pending {A}, {B} sort(s) before the newest applied {C}; p refuses out-of-order "
        "migrations")


def test_out_of_order_follows_the_layouts_order_key_not_the_id() -> None:
    # Flyway-like versions: "10" runs after "9" although it sorts first as text.
    nine, ten, eleven = migration("9", (9,)), migration("10", (10,)), migration("11", (11,))
    applied = state([nine, ten, eleven], row("10"))
    verdict = judge(Policy("p", refuse_out_of_order=True), report(impact("9"), impact("11")),
                    applied)
    assert checks(verdict) == [(
        "out-of-order", "refused",
        "pending 9 sort(s) before the newest applied 10; p refuses out-of-order migrations",
        None)]
    assert [c.check for c in judge(Policy("p", refuse_out_of_order=True), report(impact("11")),
                                   applied).checks] == ["policy"]


def test_the_newest_applied_is_the_maximum_not_the_last_row() -> None:
    known = state([migration(A), migration(B), migration(C)], row(C), row(A))
    verdict = judge(Policy("p", refuse_out_of_order=True), report(impact(B)), known)
    assert verdict.checks[0].reason.startswith(f"pending {B} sort(s) before the newest applied "
                                               f"{C};")


def test_an_applied_row_missing_from_the_sources_sorts_by_its_id() -> None:
    known = state([migration(A)], row(B))
    verdict = judge(Policy("p", refuse_out_of_order=True), report(impact(A)), known)
    assert [(c.check, c.outcome) for c in verdict.checks] == [("out-of-order", "refused")]
    assert f"newest applied {B};" in verdict.checks[0].reason


def test_out_of_order_is_not_judged_without_the_setting_on_a_rollback_or_with_no_applied() -> None:
    known = state([migration(A), migration(B)], row(B))
    assert [c.check for c in judge(Policy("p"), report(impact(A)), known).checks] == ["policy"]
    assert [c.check for c in judge(Policy("p", refuse_out_of_order=True),
                                   report(impact(A), direction="down"), known).checks] == [
        "policy"]
    nothing = state([migration(A), migration(B)])
    assert [c.check for c in judge(Policy("p", refuse_out_of_order=True),
                                   report(impact(A)), nothing).checks] == ["policy"]


def test_a_planned_migration_that_already_has_a_row_is_not_out_of_order() -> None:
    # A failed row re-run by --force is not a new migration slipping in underneath.
    known = state([migration(A), migration(B)], row(A, FAILED), row(B))
    assert [c.check for c in judge(Policy("p", refuse_out_of_order=True), report(impact(A)),
                                   known).checks] == ["policy"]
