"""``check`` without a dialect judges under every dialect and reports the union."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchy_guard.check.run import run_check
from tests.cli_helpers import run_cli, write_migration

# One per class: code only MariaDB runs, a MariaDB-only statement boundary, SQLite's names.
HIDDEN = {
    "2024-01-01-000001_executable_comment": "/*! DROP TABLE users */;\n",
    "2024-01-01-000002_dash_dash": "SELECT 1--1; DROP TABLE users;\n",
    "2024-01-01-000003_brackets": "DROP TABLE [users];\n",
}


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "migrations"
    for migration_id, up in HIDDEN.items():
        write_migration(root, migration_id, up, down="")
    return root


def test_run_check_without_a_dialect_reports_what_any_dialect_finds(root: Path) -> None:
    report = run_check(root, None)
    drops = {f.migration for f in report.findings if f.code == "SG301"}
    assert drops == set(HIDDEN)
    assert all(f.severity.value == "error" for f in report.findings if f.code == "SG301")
    assert report.summary.dialects_tried == ("sqlite", "postgres", "mysql")
    # A second (cached) check says the same.
    again = run_check(root, None)
    assert again.findings == report.findings and again.summary == report.summary


def test_identical_findings_are_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    write_migration(tmp_path / "m", "2024-01-01-000001_drop", "DROP TABLE users;\n", down="")
    report = run_check(tmp_path / "m", None, use_cache=False)
    (drop,) = [f for f in report.findings if f.code == "SG301"]
    assert "reads it" not in drop.message  # every dialect found it: no dialect named


@pytest.mark.parametrize("migration_id", sorted(HIDDEN))
def test_check_gate_without_a_dialect_refuses(root: Path, migration_id: str,
                                              tmp_path: Path) -> None:
    only = tmp_path / "only"
    write_migration(only, migration_id, HIDDEN[migration_id], down="")
    result = run_cli("-m", only, "--env", "production", "check", "--gate")
    assert result.code == 1
    assert "SG301" in result.out and "would refuse" in result.err
    assert "dialect unknown" in result.out


def test_json_says_the_dialect_was_unknown(root: Path) -> None:
    result = run_cli("-m", root, "--format", "json", "check")
    summary = json.loads(result.out)["summary"]
    assert summary["dialect"] is None
    assert summary["dialects_tried"] == ["sqlite", "postgres", "mysql"]
    assert summary["errors"] == 3


def test_a_given_dialect_is_judged_alone(root: Path) -> None:
    assert run_check(root, None).summary.dialects_tried  # cached: not served below
    report = run_check(root, "postgres")
    assert not [f for f in report.findings if f.code == "SG301"]
    assert report.summary.dialects_tried == ()
    summary = json.loads(run_cli("-m", root, "--dialect", "sqlite", "--format", "json",
                                 "check").out)["summary"]
    assert "dialects_tried" not in summary
