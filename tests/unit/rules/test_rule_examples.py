"""Every statement rule's documented ``example`` makes it fire and its ``fixed`` does not,
in each dialect the rule applies to (``-- next migration:`` splits a text into migrations).
"""

from __future__ import annotations

import pytest

from switchy_guard.migration import Migration
from switchy_guard.rules import Rule, all_rules
from switchy_guard.validation import validate

#: Rules whose documented texts cannot stand alone, and why.
NEEDS_CONTEXT = {
    # The example narrows a column whose earlier type only a migration history shows.
    ("SG308", "example"): "the column's old type comes from an earlier migration",
    # The fixed text is the rebuild the rule asks the author to check: it still fires.
    ("SG410", "fixed"): "the fix is the rebuild itself, which stays reported for review",
    # The fix is a release order, not other SQL.
    ("SG503", "fixed"): "the fix is when the statement ships, not what it says",
    # A version-aware rule: quiet with no server version (tests/unit/test_server_version.py).
    ("SG604", "example"): "it fires only for a known PostgreSQL server older than 12",
}


def codes_for(text: str, dialect: str) -> set[str]:
    parts = text.split("-- next migration:")
    migrations = [Migration(f"2024-01-0{n + 1}-000000_part", part, "", "a", "b",
                            noop_down=True) for n, part in enumerate(parts)]
    return {f.code for f in validate(migrations, dialect).findings}


CASES = [
    pytest.param(rule, dialect, which, id=f"{rule.code}-{dialect}-{which}")
    for rule in all_rules() if rule.check is not None
    for dialect in sorted(rule.dialects)
    for which in ("example", "fixed")
    if (rule.code, which) not in NEEDS_CONTEXT
]


@pytest.mark.parametrize(("rule", "dialect", "which"), CASES)
def test_documented_example_fires_and_fixed_is_silent(rule: Rule, dialect: str,
                                                      which: str) -> None:
    text = getattr(rule, which)
    assert text, f"{rule.code} documents no {which}"
    fired = rule.code in codes_for(text, dialect)
    assert fired == (which == "example"), f"{rule.code} {which} on {dialect}: {text}"
