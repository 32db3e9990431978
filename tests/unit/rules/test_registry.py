"""The rule registry as a whole: every statement rule has cases in each of its dialects
(in the family files), findings' fields, lookup by code or name."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import AllowedFinding, validate
from switchy_guard.gates.evaluate import is_destructive
from switchy_guard.model.findings import Finding, Severity
from switchy_guard.model.migration import Migration
from switchy_guard.plan.impact import MigrationImpact
from switchy_guard.rules import Rule, all_rules, data_loss_codes, destructive, get_rule
from switchy_guard.rules.naming import IdRule
from tests.unit.rules.helpers import SETUP, P, S
from tests.unit.rules.test_compat import CASES as COMPAT
from tests.unit.rules.test_destructive import CASES as DESTRUCTIVE
from tests.unit.rules.test_identifiers import CASES as IDENTIFIERS
from tests.unit.rules.test_locking import CASES as LOCKING
from tests.unit.rules.test_rewrites import CASES as REWRITES
from tests.unit.rules.test_transactions import CASES as TRANSACTIONS

#: Every family's cases (test_classify.py tokenizes their statements too).
CASES = {**DESTRUCTIVE, **LOCKING, **IDENTIFIERS, **REWRITES, **COMPAT, **TRANSACTIONS}


def test_without_a_dialect_every_dialects_rules_run() -> None:
    base = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", "CREATE INDEX i ON users (id)", "", "a", "b",
                          noop_down=True)
    assert "SG401" in {f.code for f in validate([base, migration], None).findings}
    assert "SG401" not in {f.code for f in validate([base, migration], S).findings}


def test_finding_fields() -> None:
    migration = Migration("2024-01-02-000000_case", "SELECT 1;\n\n  DROP TABLE users;", "",
                          "a", "b", up_path="m/case/up.sql", noop_down=True)
    (finding,) = validate([migration], P).findings
    assert (finding.code, finding.name, finding.severity.value) == ("SG301", "drop-table",
                                                                     "error")
    assert (finding.file, finding.line, finding.column) == ("m/case/up.sql", 3, 3)
    assert finding.statement == "DROP TABLE users"
    assert finding.migration == "2024-01-02-000000_case"
    assert finding.hint and "backup" in finding.hint


def test_rule_lookup_and_docs() -> None:
    rule = get_rule("drop-column")
    assert rule is not None and get_rule("sg302") is rule
    docs = rule.docs()
    assert docs.startswith("SG302 drop-column (error; mysql, postgres, sqlite)")
    assert "Why:" in docs and "Instead:" in docs and "Use instead:" in docs
    assert get_rule("nope") is None


#: Rules that fire only for a known server version, with their cases elsewhere.
VERSION_ONLY = {"SG604": "tests/unit/test_server_version.py"}


def test_every_statement_rule_has_cases_in_each_of_its_dialects() -> None:
    for rule in all_rules():
        if rule.check is None or rule.code in VERSION_ONLY:
            continue
        covered = {d for dialects, _, _ in CASES.get(rule.code, []) for d in dialects}
        assert covered >= rule.dialects, rule.code


def test_rules_are_built_with_keywords_only() -> None:
    """Ten positional strings in a row are too easy to swap (a why for an instead)."""
    with pytest.raises(TypeError):
        Rule("SG999", "x", Severity.INFO, frozenset({P}), "s", "w", "i", "e")  # type: ignore[misc]
    with pytest.raises(TypeError):
        IdRule(r"\d+", "digits")  # type: ignore[misc]
    rule = Rule(code="SG999", name="x", severity=Severity.INFO, dialects=frozenset({P}),
                summary="s", why="w", instead="i", example="e")
    assert rule.loses_data is False


def test_the_data_loss_rules_say_so_and_only_they() -> None:
    """Every rule of rules/destructive.py (SG301-SG308) loses data, no other does: SG603
    may or may not (it already needs an allow), SG410's rebuild that drops rows is SG301,
    SG501-SG503 break the running code and keep the data."""
    assert data_loss_codes() == {rule.code for rule in destructive.RULES}
    assert data_loss_codes() == {rule.code for rule in all_rules() if rule.loses_data}
    assert data_loss_codes() == {f"SG30{n}" for n in range(1, 9)}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_the_gate_calls_a_migration_destructive_by_the_rules_flag(rule: Rule) -> None:
    finding = Finding(rule.code, rule.name, rule.severity, "2024-01-01-000000_a", "up.sql",
                      1, 1, rule.example, "message")
    found = MigrationImpact("2024-01-01-000000_a", True, True, [], findings=[finding])
    assert is_destructive(found) is rule.loses_data
    allowed = MigrationImpact("2024-01-01-000000_a", True, True, [],
                              allowed=[AllowedFinding(finding, "reviewed")])
    assert is_destructive(allowed) is rule.loses_data
