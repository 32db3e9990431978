"""Bad input: exit code 2 (3 for an unreachable database), one line naming the file and
the problem, and nothing applied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from tests.cli_helpers import run_cli, write_migration
from tests.unit.conftest import GOOD


def assert_nothing_applied(database: Path) -> None:
    if database.exists():
        assert inspect(create_engine(f"sqlite:///{database}")).get_table_names() == []


def assert_one_error(result_err: list[str], *fragments: str) -> None:
    assert len(result_err) == 1, result_err
    line = result_err[0]
    assert line.startswith("error: ")
    assert "Traceback" not in line
    for fragment in fragments:
        assert fragment in line, line


def migrate(root: Path, database: Path, *extra: str) -> tuple[int, list[str]]:
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}", *extra)
    return result.code, result.error_lines


def test_missing_migrations_directory(tmp_path: Path, database: Path) -> None:
    code, err = migrate(tmp_path / "nope", database)
    assert code == 2
    assert_one_error(err, f"{tmp_path / 'nope'}: migrations directory does not exist")
    assert_nothing_applied(database)


def test_undecodable_sql(root: Path, database: Path) -> None:
    write_migration(root, "2024-01-02-000000_bad", b"INSERT INTO a VALUES ('\xe9');\n")
    code, err = migrate(root, database)
    assert code == 2
    assert_one_error(err, f"{root}/2024-01-02-000000_bad/up.sql: not valid UTF-8")
    assert_nothing_applied(database)


def test_bad_metadata(root: Path, database: Path) -> None:
    write_migration(root, "2024-01-02-000000_meta", metadata="transactional = 'sometimes'\n")
    code, err = migrate(root, database)
    assert code == 2
    assert_one_error(
        err,
        f"{root}/2024-01-02-000000_meta/metadata.toml:",
        "'transactional' must be true or false",
    )
    assert_nothing_applied(database)


def test_symlink_leaving_the_root(root: Path, database: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "up.sql").write_text("DROP TABLE a;")
    os.symlink(outside, root / "2024-01-02-000000_link")
    code, err = migrate(root, database)
    assert code == 2
    assert_one_error(err, f"{root}/2024-01-02-000000_link: symlink leaves the migrations root")
    assert_nothing_applied(database)


def test_duplicate_id_across_sources(root: Path, database: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_migration(other, GOOD, "CREATE TABLE b (id INTEGER);\n")
    code, err = migrate(root, database, "-m", str(other))
    assert code == 2
    assert_one_error(err, f"duplicate migration id '{GOOD}'", str(other), str(root))
    assert_nothing_applied(database)


def test_dependency_cycle(root: Path, database: Path) -> None:
    write_migration(root, "2024-01-02-000000_x", metadata='depends_on = ["2024-01-03-000000_y"]')
    write_migration(root, "2024-01-03-000000_y", metadata='depends_on = ["2024-01-02-000000_x"]')
    code, err = migrate(root, database)
    assert code == 2
    assert_one_error(
        err, "dependency cycle: 2024-01-02-000000_x -> 2024-01-03-000000_y -> 2024-01-02-000000_x"
    )
    assert_nothing_applied(database)


def test_missing_dependency(root: Path, database: Path) -> None:
    write_migration(root, "2024-01-02-000000_x", metadata='depends_on = ["2023-nope"]')
    code, err = migrate(root, database)
    assert code == 2
    assert_one_error(err, f"{root}/2024-01-02-000000_x:", "unknown migration '2023-nope'")
    assert_nothing_applied(database)


def test_unknown_to_id(root: Path, database: Path) -> None:
    code, err = migrate(root, database, "--to", "2099-01-01-000000_future")
    assert code == 2
    assert_one_error(err, "unknown migration id '2099-01-01-000000_future'")
    # Refused while planning, before anything (even the tracking table) was written.
    assert inspect(create_engine(f"sqlite:///{database}")).get_table_names() == []


def test_invalid_table_name(root: Path, database: Path) -> None:
    code, err = migrate(root, database, "--migration-table", "users; DROP TABLE x")
    assert code == 2
    assert_one_error(err, "invalid migration table name 'users; DROP TABLE x'")
    assert_nothing_applied(database)


def test_unreachable_database_exits_3_with_password_masked(root: Path) -> None:
    result = run_cli(
        "status",
        "-m",
        root,
        "-d",
        "postgresql://app:topsecret@127.0.0.1:9/app",
    )
    assert result.code == 3
    assert_one_error(
        result.error_lines, "cannot connect to postgresql+psycopg://app:***@127.0.0.1:9/app"
    )
    assert "topsecret" not in result.err + result.out


def test_unreachable_mysql_exits_3(root: Path) -> None:
    result = run_cli("migrate", "-m", root, "-d", "mysql://app:topsecret@127.0.0.1:9/app")
    assert result.code == 3
    assert "topsecret" not in result.err
    assert_one_error(result.error_lines, "cannot connect to mysql+pymysql://app:***@")


def test_missing_database_url(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHY_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = run_cli("status", "-m", root)
    assert result.code == 2
    assert_one_error(result.error_lines, "'status' needs a database")


def test_usage_errors_exit_2(root: Path) -> None:
    assert run_cli("rollback", "-m", root, "-d", "sqlite://").code == 2
    assert run_cli("migrate", "--steps", "-1").code == 2
    assert run_cli("no-such-verb").code == 2


@pytest.mark.parametrize(("args", "fragments"), [
    (["migrat"], ["unknown verb 'migrat'; did you mean 'migrate'?", "switchy-guard --help"]),
    (["migrate", "--stpes", "1"],
     ["unrecognized arguments: --stpes 1; did you mean --steps?",
      "(see: switchy-guard migrate --help)"]),
    (["migrate", "--steps", "-1"], ["argument --steps: must be 0 or more"]),
    (["rollback"], ["one of the arguments --steps --to --all is required",
                    "switchy-guard rollback --help"]),
])
def test_usage_errors_are_one_line_on_the_error_stream(
        args: list[str], fragments: list[str]) -> None:
    # argparse printed its whole usage block to sys.stderr; docs/cli.md promises one line.
    result = run_cli(*args)
    assert result.code == 2
    assert_one_error(result.error_lines, *fragments)


def test_bad_config_file(tmp_path: Path, root: Path) -> None:
    config = tmp_path / "sg.toml"
    config.write_text("database_ur = 'sqlite://'\n")
    result = run_cli("--config", config, "status", "-m", root)
    assert result.code == 2
    assert_one_error(result.error_lines, f"{config}: unknown setting 'database_ur'")


def test_a_nan_lock_timeout_is_refused_when_the_flags_are_read(root: Path,
                                                                database: Path) -> None:
    result = run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}",
                     "--lock-timeout", "nan")
    assert result.code == 2 and "must be 0 or more" in result.err
    assert not database.exists()


def test_a_journal_that_cannot_be_written_is_one_warning_line(root: Path,
                                                              database: Path) -> None:
    import subprocess
    import sys

    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:  # a view where the journal table should be: no INSERT
        conn.exec_driver_sql("CREATE VIEW __switchy_migrations_audit AS SELECT 1 AS x")
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "switchy_guard", "migrate", "-m", str(root),
         "-d", f"sqlite:///{database}"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.strip()]
    assert warnings and all(
        line.startswith("warning: the audit journal could not be written: ")
        for line in warnings), done.stderr
    assert "view" in warnings[0]  # SQLite's own words


def test_a_markdown_rollback_is_refused_before_it_runs(root: Path, database: Path) -> None:
    # --format markdown is for rollback --plan; a rollback without --plan ran, and
    # rolled back, under a format the docs say it does not take.
    assert run_cli("migrate", "-m", root, "-d", f"sqlite:///{database}").code == 0
    result = run_cli("rollback", "--steps", "1", "--force", "--format", "markdown",
                     "-m", root, "-d", f"sqlite:///{database}")
    assert result.code == 2
    assert_one_error(result.error_lines, "--format markdown is only for check, plan and "
                                         "rollback --plan")
    assert "a" in inspect(create_engine(f"sqlite:///{database}")).get_table_names()
    planned = run_cli("rollback", "--steps", "1", "--plan", "--format", "markdown",
                      "-m", root, "-d", f"sqlite:///{database}")
    assert planned.code == 0 and "| migration |" in planned.out


@pytest.mark.parametrize(("value", "code"), [("maybe", 2), ("on", 1), ("TRUE", 1), ("0", 0)])
def test_the_checksum_validation_variable_is_read_strictly(
        root: Path, database: Path, monkeypatch: pytest.MonkeyPatch,
        value: str, code: int) -> None:
    # MIGRATION_REQUIRE_CHECKSUM_VALIDATION=maybe (or =on) was read as "no": a mistyped
    # value silently turned the check off and the drifted migration ran with --force.
    url = f"sqlite:///{database}"
    assert run_cli("migrate", "-m", root, "-d", url).code == 0
    (root / GOOD / "up.sql").write_text("CREATE TABLE a (id BIGINT);\n")
    monkeypatch.setenv("MIGRATION_REQUIRE_CHECKSUM_VALIDATION", value)
    result = run_cli("migrate", "--force", "-m", root, "-d", url)
    assert result.code == code, result.err
    if code == 2:
        assert_one_error(result.error_lines,
                         "MIGRATION_REQUIRE_CHECKSUM_VALIDATION='maybe': use true or false")
    elif code == 1:
        assert "checksum validation failed" in result.err


def test_check_gate_with_an_unknown_environment_prints_no_report(root: Path) -> None:
    # The findings went to stdout (a SARIF file in CI) before the missing policy was
    # noticed; bad input is one error line and, under --format json, the failure
    # document only (no findings).
    result = run_cli("check", "-m", root, "--no-cache", "--gate", "--env", "prodution",
                     "--format", "json")
    assert result.code == 2
    assert set(json.loads(result.out)) == {"ok", "exit_code", "verb", "error"}
    assert run_cli("check", "-m", root, "--no-cache", "--gate", "--env", "prodution").out == ""
    assert_one_error(result.error_lines, "no policy for environment 'prodution'")


@pytest.mark.parametrize("source", ["json:migrations", "https://example.com/index.json"])
def test_create_refuses_a_package_or_remote_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    # create made a local folder literally named "json:migrations" (or "https:"), which
    # every later -m json:migrations then read instead of the package.
    monkeypatch.chdir(tmp_path)
    result = run_cli("create", "x", "-m", source)
    assert result.code == 2
    assert_one_error(result.error_lines, f"{source} is a package or a remote index")
    assert list(tmp_path.iterdir()) == []
