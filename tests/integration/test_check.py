"""`check` and `rules` on the command line, with and without a database or git base."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

A = "2024-01-01-000000_create_users"
B = "2024-01-02-000000_drop_email"


def project(root: Path) -> Path:
    write_migration(root, A, "CREATE TABLE users (id INTEGER, email VARCHAR(100));\n",
                    "DROP TABLE users;\n")
    write_migration(root, B, "SELECT 1;\nALTER TABLE users DROP COLUMN email;\n",
                    "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n")
    return root


def test_check_text_json_and_exit_codes(tmp_path: Path) -> None:
    root = project(tmp_path / "m")
    text = run_cli("check", "-m", root, "--dialect", "sqlite", "--no-color")
    assert text.code == 1
    assert f"error SG302 drop-column  {root}/{B}/up.sql:2:1" in text.out
    assert "> 2 | ALTER TABLE users DROP COLUMN email;" in text.out
    data = json.loads(run_cli("check", "-m", root, "--dialect", "sqlite", "--format",
                              "json").out)
    assert data["summary"] == {"errors": 1, "warnings": 0, "infos": 0, "migrations": 2,
                               "statements": 3}
    (finding,) = data["findings"]
    assert finding["code"] == "SG302" and finding["line"] == 2 and finding["column"] == 1
    assert finding["file"] == f"{root}/{B}/up.sql"
    clean = tmp_path / "clean"
    write_migration(clean, A, "CREATE TABLE t (id INTEGER);\n", "DROP TABLE t;\n")
    assert run_cli("check", "-m", clean, "--dialect", "sqlite").code == 0


def test_fail_on_warning(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE t (id INTEGER);\n", "DROP TABLE t;\n")
    write_migration(root, B, "UPDATE t SET id = 1;\n", "SELECT 1;\n")
    assert run_cli("check", "-m", root, "--dialect", "sqlite").code == 0
    assert run_cli("check", "-m", root, "--dialect", "sqlite", "--fail-on", "warning").code == 1


def test_sarif_github_markdown(tmp_path: Path, monkeypatch: object) -> None:
    root = project(tmp_path / "m")
    sarif = json.loads(run_cli("check", "-m", root, "--dialect", "sqlite", "--format",
                               "sarif").out)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"][0]["ruleId"] == "SG302"
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) >= 35
    github = run_cli("check", "-m", root, "--dialect", "sqlite", "--format", "github").out
    assert github.startswith("::error file=")
    assert ",line=2,col=1,title=SG302 drop-column::" in github
    markdown = run_cli("check", "-m", root, "--dialect", "sqlite", "--format", "markdown").out
    assert "| error | `SG302` drop-column |" in markdown
    assert run_cli("status", "--format", "sarif", "-d", "sqlite://").code == 2


def test_graph_problems_are_findings_in_check(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "SELECT 1;\n", "SELECT 1;\n", metadata=f'depends_on = ["{B}"]')
    write_migration(root, B, "SELECT 1;\n", "SELECT 1;\n", metadata=f'depends_on = ["{A}"]')
    result = run_cli("check", "-m", root, "--dialect", "sqlite", "--format", "json")
    assert result.code == 1
    messages = [f["message"] for f in json.loads(result.out)["findings"]]
    assert messages == [f"dependency cycle: {A} -> {B} -> {A}"]


def test_check_with_a_database_reports_history_and_lints_only_pending(
    tmp_path: Path, db_url: str
) -> None:
    root = project(tmp_path / "m")
    Migrator(root, db_url).migrate()
    clean = json.loads(run_cli("check", "-m", root, "-d", db_url, "--format", "json").out)
    assert clean["findings"] == [] and clean["summary"]["migrations"] == 0
    (root / A / "up.sql").write_text("CREATE TABLE users (id BIGINT, email VARCHAR(100));\n")
    write_migration(root, "2023-12-31-000000_late", "DELETE FROM users;\n", "SELECT 1;\n")
    result = run_cli("check", "-m", root, "-d", db_url, "--format", "json")
    assert result.code == 1
    found = {(f["code"], f["migration"]) for f in json.loads(result.out)["findings"]}
    assert found == {("SG001", A), ("SG003", "2023-12-31-000000_late"),
                     ("SG305", "2023-12-31-000000_late")}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
                   cwd=cwd, check=True, capture_output=True)


def test_check_against_a_git_revision(tmp_path: Path) -> None:
    root = project(tmp_path / "m")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    assert run_cli("check", "-m", root, "--dialect", "sqlite", "--against", "HEAD").code == 0
    (root / A / "down.sql").write_text("DROP TABLE users; -- edited\n")
    write_migration(root, "2023-06-01-000000_backdated", "CREATE INDEX i ON users (id);\n",
                    "DROP INDEX i;\n")
    result = run_cli("check", "-m", root, "--dialect", "postgres", "--against", "HEAD",
                     "--format", "json")
    assert result.code == 1
    found = {(f["code"], f["migration"]) for f in json.loads(result.out)["findings"]}
    assert found == {("SG001", A), ("SG003", "2023-06-01-000000_backdated"),
                     ("SG401", "2023-06-01-000000_backdated")}
    bad = run_cli("check", "-m", root, "--against", "no-such-ref", "--dialect", "sqlite")
    assert bad.code == 2 and bad.error_lines == ["error: unknown git revision 'no-such-ref'"]


def test_rules_verb() -> None:
    listing = run_cli("rules", "--no-color")
    assert listing.code == 0 and "SG401" in listing.out and "index-not-concurrent" in listing.out
    one = run_cli("rules", "SG305")
    assert one.out.startswith("SG305 delete-without-where (error;")
    data = json.loads(run_cli("rules", "--format", "json").out)
    assert {r["code"] for r in data["rules"]} >= {f"SG00{n}" for n in (1, 2, 3, 4, 5)} | {"SG603"}
    assert json.loads(run_cli("rules", "truncate", "--format", "json").out)["code"] == "SG304"
    unknown = run_cli("rules", "SG999")
    assert unknown.code == 2 and "unknown rule 'SG999'" in unknown.err
