"""Under ``--format json`` every verb prints exactly one JSON document on stdout, whatever
happens: its report when it succeeds, the failure document (``ok`` false, ``exit_code``,
``error``) when a gate refuses (1), the input is bad (2) or the database is out of
reach (3), with the stderr line unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import Result, run_cli, write_migration

A, B = "2024-01-01-000000_a", "2024-01-02-000000_b"
BROKE = "2024-01-03-000000_broke"
UNREACHABLE = "postgresql://u:s3cretpw@127.0.0.1:1/db"


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    return root, f"sqlite:///{tmp_path / 'app.db'}"


def _one_document(result: Result) -> Any:
    """stdout parsed as one JSON document (json.loads refuses a second one, or none)."""
    try:
        return json.loads(result.out)
    except ValueError as error:
        raise AssertionError(f"stdout is not one JSON document ({error}): {result.out!r}; "
                             f"stderr: {result.err!r}") from None


def _failure(result: Result, code: int, error_class: str) -> dict[str, Any]:
    data = _one_document(result)
    assert result.code == code, result.err
    assert data["ok"] is False and data["exit_code"] == code, data
    assert data["error"]["class"] == error_class, data
    # The stderr line stays one line, and says what the document says.
    errors = [line for line in result.error_lines if line.startswith("error:")]
    assert errors == [f"error: {data['error']['message']}"], result.err
    assert "s3cretpw" not in result.out + result.err
    return dict(data)


# verb: (arguments after the verb, exit code, error class); {m} the migrations folder,
# {d} the database URL, {missing} a folder that does not exist.
FAILURES: list[tuple[str, list[str], int, str]] = [
    ("create", ["bad/name!", "-m", "{m}", "-m", "{m}"], 2, "ConfigError"),
    ("list", ["-m", "{missing}", "-d", "{d}"], 2, "InputError"),
    ("list", ["-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("check", ["-m", "{missing}"], 2, "InputError"),
    ("rules", ["SG999"], 2, "ConfigError"),
    ("status", ["-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("status", ["-m", "{m}"], 2, "ConfigError"),  # no database given
    ("migrate", ["-m", "{m}", "-d", "{d}", "--to", "zzz"], 2, "BadMigrationId"),
    ("migrate", ["-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("migrate", ["-m", "{m}", "-d", "{d}", "--env", "production"], 1, "Refused"),
    ("rollback", ["--all", "-m", "{m}", "-d", "{d}", "--env", "production"], 1, "Refused"),
    ("rollback", ["--to", "zzz", "-m", "{m}", "-d", "{d}"], 2, "BadMigrationId"),
    ("validate", ["-m", "{missing}", "-d", "{d}"], 2, "InputError"),
    ("validate", ["-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("mark-all-completed", ["-m", "{m}", "-d", "{d}", "--env", "production"], 1, "Refused"),
    ("adopt-checksums", ["zzz", "-m", "{m}", "-d", "{d}", "--force"], 2, "BadMigrationId"),
    ("mark-completed", ["zzz", "-m", "{m}", "-d", "{d}", "--force"], 2, "BadMigrationId"),
    ("mark-failed", ["zzz", "-m", "{m}", "-d", "{d}", "--force"], 2, "BadMigrationId"),
    ("mark-failed", [A, "-m", "{m}", "-d", UNREACHABLE, "--force"], 3, "DatabaseUnavailable"),
    ("retry", ["zzz", "-m", "{m}", "-d", "{d}", "--force"], 2, "BadMigrationId"),
    ("retry", [A, "-m", "{m}", "-d", "{d}", "--force"], 1, "Refused"),  # not failed
    ("verify", ["-m", "{m}", "--scratch", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("verify", ["-m", "{missing}"], 2, "InputError"),
    ("plan", ["--to", "zzz", "-m", "{m}", "-d", "{d}"], 2, "BadMigrationId"),
    ("plan", ["-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("lock", ["status", "-m", "{m}", "-d", UNREACHABLE], 3, "DatabaseUnavailable"),
    ("lock", ["break", "-m", "{m}", "-d", "{d}", "--env", "production"], 1, "Refused"),
    # argparse's own refusals, --format json before or after the verb
    ("migrate", ["--steps", "0", "-m", "{m}"], 2, "UsageError"),
    ("status", ["--no-such-flag", "-m", "{m}"], 2, "UsageError"),
    ("rollback", ["-m", "{m}"], 2, "UsageError"),  # --steps, --to or --all is required
]


@pytest.mark.parametrize(("verb", "arguments", "code", "error_class"), FAILURES,
                         ids=[f"{v}-{c}-{e}-{n}" for n, (v, _, c, e) in enumerate(FAILURES)])
def test_every_verb_fails_with_one_json_document(
        project: tuple[Path, str], tmp_path: Path, verb: str, arguments: list[str],
        code: int, error_class: str) -> None:
    root, url = project
    # A applied, B pending: something for each verb to refuse.
    assert run_cli("migrate", "--to", A, "-m", root, "-d", url).code == 0
    filled = [a.format(m=root, d=url, missing=tmp_path / "nowhere") for a in arguments]
    data = _failure(run_cli(verb, *filled, "--format", "json"), code, error_class)
    named = f"lock {arguments[0]}" if verb == "lock" and error_class != "UsageError" else verb
    assert data["verb"] == named


def test_a_usage_error_before_the_verb_is_json_too() -> None:
    for argv in (["--format", "json", "migrat"], ["--format=json", "nope"]):
        data = _failure(run_cli(*argv), 2, "UsageError")
        assert data["verb"] is None and "unknown verb" in data["error"]["message"]
    # Asked for text (the last --format wins): no JSON.
    text = run_cli("--format", "json", "--format", "text", "nope")
    assert text.code == 2 and text.out == ""


def test_a_refused_migrate_keeps_its_impact_report(project: tuple[Path, str]) -> None:
    root, url = project
    data = _failure(run_cli("migrate", "-m", root, "-d", url, "--env", "production",
                            "--format", "json"), 1, "Refused")
    # The impact report the person would have confirmed comes with the refusal.
    assert [m["id"] for m in data["migrations"]] == [A, B]
    assert {"check": "confirmation", "outcome": "required"}.items() <= next(
        c for c in data["gate"]["checks"] if c["check"] == "confirmation").items()
    assert "requires confirmation" in data["error"]["message"]
    # A verdict that refuses (an irreversible migration in production) says so, as before.
    write_migration(root, BROKE, "CREATE TABLE c (id INTEGER);\n")
    refused = _failure(run_cli("migrate", "-m", root, "-d", url, "--env", "production",
                               "--format", "json"), 1, "Refused")
    assert refused["refused"] is True and refused["gate"]["refused"] is True
    assert "irreversible" in refused["error"]["message"]


def test_a_migration_that_fails_keeps_what_ran(project: tuple[Path, str]) -> None:
    root, url = project
    write_migration(root, BROKE, "INSERT INTO nowhere_at_all VALUES (1);\n")
    data = _failure(run_cli("migrate", "-m", root, "-d", url, "--format", "json"), 1,
                    "MigrationFailed")
    assert data["done"] == [A, B] and data["failed"]["id"] == BROKE
    assert "nowhere_at_all" in data["error"]["message"]


def test_every_verb_still_prints_its_own_document_when_it_succeeds(
        project: tuple[Path, str], tmp_path: Path) -> None:
    root, url = project
    common = ["-m", str(root), "-d", url, "--format", "json"]
    runs: list[tuple[str, ...]] = [
        ("create", "new_one", "-m", str(tmp_path / "other"), "--format", "json"),
        ("rules", "--format", "json"),
        ("rules", "SG101", "--format", "json"),
        ("check", "-m", str(root), "--format", "json"),
        ("plan", *common),
        ("migrate", "--steps", "1", *common),
        ("status", *common),
        ("list", *common),
        ("validate", *common),
        ("mark-completed", B, "--force", *common),
        ("mark-failed", B, "--force", *common),
        ("retry", B, "--force", *common),
        ("rollback", "--steps", "1", *common),
        ("mark-all-completed", "--force", *common),
        ("adopt-checksums", "--force", *common),
        ("lock", "status", *common),
        ("lock", "break", "--force", *common),
        ("verify", "-m", str(root), "--format", "json"),
    ]
    for argv in runs:
        result = run_cli(*argv)
        assert result.code == 0, (argv, result.err)
        data = _one_document(result)
        assert "error" not in data, argv
        assert data.get("ok", True) is True, argv
    status = _one_document(run_cli("status", *common))
    assert status["blocked_by"] is None and status["summary"]["completed"] == 2
