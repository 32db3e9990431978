"""The rule registry as a whole: every statement rule has cases in each of its dialects
(in the family files), findings' fields, lookup by code or name."""

from __future__ import annotations

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules import all_rules, get_rule
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


def test_every_statement_rule_has_cases_in_each_of_its_dialects() -> None:
    for rule in all_rules():
        if rule.check is None:
            continue
        covered = {d for dialects, _, _ in CASES.get(rule.code, []) for d in dialects}
        assert covered >= rule.dialects, rule.code
