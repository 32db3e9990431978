"""Every registered rule's documented ``example`` makes it fire and its ``fixed`` does not,
in each dialect the rule applies to (``-- next migration:`` splits a text into migrations),
through the real validator. A rule whose texts cannot stand alone as a migration is
exempt below, with the reason.
"""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.rules import Rule, all_rules

#: Rules over the history, the files or the database state: their docs describe a
#: situation (files, ids, metadata, tracking rows), not SQL a migration could hold.
NOT_SQL = {
    "SG001": "a file edited after it ran: needs the tracking table's checksum",
    "SG002": "an applied migration absent from the sources: needs the tracking table",
    "SG003": "a pending id older than an applied one: needs the tracking table",
    "SG004": "two sources with one id: a folder and a code migration",
    "SG005": "a tracking row left in_progress or failed: needs the database state",
    "SG101": "folder names, not SQL",
    "SG102": "folder names, not SQL",
    "SG103": "two ids, not SQL",
    "SG201": "a depends_on line of metadata.toml",
    "SG202": "depends_on edges of metadata.toml",
    "SG203": "an up and a down script side by side",
    "SG204": "an Alembic or Django revision graph",
}

#: Rules whose texts need an earlier migration to mean what they say: it runs first.
HISTORY = {
    # The example narrows a column whose old type only a migration history shows.
    "SG308": "CREATE TABLE users (id INTEGER, bio TEXT);",
}

#: Version-aware rules quiet without a server version: judged as on this server.
SERVER_VERSION = {
    # ADD VALUE in a transaction fails before PostgreSQL 12.
    "SG604": (11, 22),
}

#: Texts whose fix is in metadata.toml, which the text can only name in a comment.
NOT_TRANSACTIONAL = {("SG604", "fixed")}


def codes_for(text: str, dialect: str, server_version: tuple[int, ...] | None = None,
              *, transactional: bool = True) -> set[str]:
    parts = text.split("-- next migration:")
    migrations = [Migration(f"2024-01-0{n + 1}-000000_part", part, "", "a", "b",
                            noop_down=True, transactional=transactional)
                  for n, part in enumerate(parts)]
    return {f.code for f in validate(migrations, dialect,
                                     server_version=server_version).findings}


CASES = [
    pytest.param(rule, dialect, which, id=f"{rule.code}-{dialect}-{which}")
    for rule in all_rules() if rule.code not in NOT_SQL
    for dialect in sorted(rule.dialects)
    for which in ("example", "fixed")
]


@pytest.mark.parametrize(("rule", "dialect", "which"), CASES)
def test_documented_example_fires_and_fixed_is_silent(rule: Rule, dialect: str,
                                                      which: str) -> None:
    text = getattr(rule, which)
    assert text, f"{rule.code} documents no {which}"
    if rule.code in HISTORY:
        # Without a plan every migration is linted on its own: the history's tables
        # exist, they are not new.
        text = f"{HISTORY[rule.code]}\n-- next migration:\n{text}"
    fired = rule.code in codes_for(text, dialect, SERVER_VERSION.get(rule.code),
                                   transactional=(rule.code, which) not in NOT_TRANSACTIONAL)
    assert fired == (which == "example"), f"{rule.code} {which} on {dialect}: {text}"


def test_only_rules_outside_single_statements_are_exempt() -> None:
    """The exemptions name registered rules, and no statement rule is exempt whole: a new
    statement rule is covered by the test above without anyone listing it."""
    by_code = {rule.code: rule for rule in all_rules()}
    assert set(NOT_SQL) <= set(by_code)
    assert all(by_code[code].check is None for code in NOT_SQL)
    assert set(HISTORY) <= set(by_code)
    assert set(SERVER_VERSION) <= set(by_code)
    # The suppression rules are checked by the pipeline, not by a statement check, and
    # still run above.
    assert {"SG900", "SG901"} <= {c.values[0].code for c in CASES}


def test_a_history_rule_needs_its_history() -> None:
    """Without the earlier migration SG308's example is silent: the history is needed,
    not decoration."""
    rule = next(r for r in all_rules() if r.code == "SG308")
    assert "SG308" not in codes_for(rule.example, "postgres")


def test_a_version_aware_rule_needs_its_server() -> None:
    """Without a server version SG604's example is silent: the version is needed."""
    rule = next(r for r in all_rules() if r.code == "SG604")
    assert "SG604" not in codes_for(rule.example, "postgres")
