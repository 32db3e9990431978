"""What the rule tests of every family share: the dialects, a table ``users`` made by an
earlier migration, and the findings of a migration planned after it."""

from __future__ import annotations

from typing import Any

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

P, M, S = "postgres", "mysql", "sqlite"

SETUP = "CREATE TABLE users (id INT, email VARCHAR(255));\n"

#: A family's cases, by rule code: [(dialects, fires, look-alike that must not fire)].
Cases = dict[str, list[tuple[tuple[str, ...], str, str]]]


def fire_params(cases: Cases) -> list[Any]:
    """One test parameter per case and dialect, ``SG301-postgres-0`` and so on."""
    return [
        pytest.param(code, dialect, fires, quiet, id=f"{code}-{dialect}-{n}")
        for code, rule_cases in cases.items()
        for n, (dialects, fires, quiet) in enumerate(rule_cases)
        for dialect in dialects
    ]


def findings_for(sql: str, dialect: str | None) -> set[str]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    result = validate([existing, migration], dialect, plan_ids={migration.id})
    return {f.code for f in result.findings}


def messages_for(sql: str, dialect: str) -> dict[str, list[str]]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    found: dict[str, list[str]] = {}
    for finding in validate([existing, migration], dialect, plan_ids={migration.id}).findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


def messages(sql: str, dialect: str, transactional: bool = True) -> dict[str, list[str]]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                          transactional=transactional)
    found: dict[str, list[str]] = {}
    for finding in validate([existing, migration], dialect, plan_ids={migration.id}).findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


def codes_after(base: str, sql: str, dialect: str) -> set[str]:
    """Codes of ``sql`` in a migration after one (``base``) that made the tables."""
    first = Migration("2024-01-01-000000_base", base, "", "a", "b", noop_down=True)
    second = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    # No plan: each migration is linted on its own, the schema model still learns.
    found = validate([first, second], dialect).findings
    return {f.code for f in found if f.migration == second.id} - {"SG601"}


def mig(mid: str, up: str = "SELECT 1", down: str | None = "DROP TABLE IF EXISTS x",
        **kw: object) -> Migration:
    return Migration(mid, up, down, "a", "b", up_path=f"m/{mid}/up.sql", **kw)  # type: ignore[arg-type]


def history_codes(*migrations: Migration, dialect: str = "postgres") -> list[str]:
    """Codes of a history checked without a plan (project-wide rules included)."""
    return [f.code for f in validate(list(migrations), dialect).findings]


def assert_fires_and_quiet(code: str, dialect: str, fires: str, quiet: str) -> None:
    """``code`` fires on ``fires`` and stays silent on its look-alike ``quiet``."""
    assert code in findings_for(fires, dialect), f"{code} should fire on: {fires}"
    assert code not in findings_for(quiet, dialect), f"{code} must not fire on: {quiet}"


#: The table the edge tests' statements run against (planned before each case).
BASE = ("CREATE TABLE users (id INT, email VARCHAR(255), name VARCHAR(50), born TIMESTAMP, "
        "note TEXT, age INT NOT NULL);\nCREATE INDEX users_email ON users (email);\n")


def found(sql: str, dialect: str, code: str) -> list[tuple[int | None, str]]:
    """(line, message) of each ``code`` finding of ``sql``, planned after ``BASE``."""
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                     up_path="case/up.sql")
    result = validate([base, case], dialect, plan_ids={case.id})
    return [(f.line, f.message) for f in result.findings if f.code == code]
