"""The server version the version-aware rules judge by (issue 19): ``--server-version`` on
``check`` and ``plan``, the ``server_version`` setting, how each reaches the rules (folder
check, two-process check, file check, down scripts, cache), the refusals (exit 2, one
line) and SG604 (ALTER TYPE ... ADD VALUE in a transaction before PostgreSQL 12).
The live server's version under ``-d``: tests/integration/test_server_version_live.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import switchy_guard.check.parallel as parallel
from switchy_guard.check.pipeline import validate
from switchy_guard.check.run import run_check
from switchy_guard.config import resolve_settings
from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.errors import BadServerVersion
from switchy_guard.model.migration import Migration
from switchy_guard.model.server_version import (
    GivenVersion,
    parse_server_version,
    reconcile,
    version_for,
)
from switchy_guard.rules import get_rule
from tests.cli_helpers import run_cli, write_migration


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(home))
    return home


# -- the spelling -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "flavour", "numbers"), [
    ("15", None, (15,)),
    ("10.6", None, (10, 6)),
    ("9.6.24", None, (9, 6, 24)),
    ("postgresql-11", "postgres", (11,)),
    ("postgres-12.3", "postgres", (12, 3)),
    ("PostgreSQL-16", "postgres", (16,)),
    ("mysql-8.0.11", "mysql", (8, 0, 11)),
    ("mariadb-10.4", "mariadb", (10, 4)),
    (" 15 ", None, (15,)),
])
def test_the_documented_spellings_are_read(text: str, flavour: str | None,
                                           numbers: tuple[int, ...]) -> None:
    given = parse_server_version(text)
    assert (given.flavour, given.numbers) == (flavour, numbers)


@pytest.mark.parametrize(("text", "problem"), [
    ("", "not a server version"),
    ("15.x", "not a server version"),
    ("1.2.3.4", "not a server version"),
    ("oracle-19", "not a server version"),
    ("mysql 8.0", "not a server version"),
    ("8.0.36-0ubuntu0.22.04.1", "not a server version"),
    ("0", "a major version is 1 or more"),
    ("mariadb-5.5", "give mysql-5.5"),
    ("mysql-10.4", "give mariadb-10.4"),
])
def test_a_bad_version_is_one_line_naming_where_it_was_given(text: str, problem: str) -> None:
    with pytest.raises(BadServerVersion) as raised:
        parse_server_version(text, "server_version in pyproject.toml")
    line = raised.value.one_line()
    assert line.startswith(f"server_version in pyproject.toml {text.strip()!r}: ")
    assert problem in line and "\n" not in line and raised.value.exit_code == 2


@pytest.mark.parametrize(("text", "dialect", "expected"), [
    ("15", "postgres", (15,)),
    ("postgresql-11", "postgres", (11,)),
    ("8.0.11", "mysql", (8, 0, 11)),
    ("mariadb-10.2", "mysql", (10, 2)),
    ("mysql-5.7", "mysql", (5, 7)),
    ("postgresql-11", None, None),  # checked under each dialect: see each_dialect
])
def test_a_version_for_the_dialect_checked(text: str, dialect: str | None,
                                           expected: tuple[int, ...] | None) -> None:
    assert version_for(parse_server_version(text), dialect) == expected


@pytest.mark.parametrize(("text", "dialect", "problem"), [
    ("mysql-8.0", "postgres", "names a MySQL server, but the dialect is postgres"),
    ("mariadb-10.6", "postgres", "names a MariaDB server, but the dialect is postgres"),
    ("postgresql-15", "mysql", "names a PostgreSQL server, but the dialect is mysql"),
    ("15", "sqlite", "no rule reads a SQLite version"),
    ("15", None, "a bare version needs the dialect"),
])
def test_a_version_for_another_server_is_refused(text: str, dialect: str | None,
                                                 problem: str) -> None:
    with pytest.raises(BadServerVersion, match=problem):
        version_for(parse_server_version(text), dialect)


@pytest.mark.parametrize(("text", "dialect", "live", "warned"), [
    ("15", "postgres", (15, 4), False),
    ("15.4", "postgres", (15, 4), False),
    ("postgresql-15", "postgres", (15, 4, 1), False),
    ("15.2", "postgres", (15, 4), True),
    ("11", "postgres", (15, 4), True),
    ("mariadb-10.11", "mysql", (10, 11, 6), False),
    ("mysql-8.0", "mysql", (10, 11, 6), True),
    ("mariadb-10.4", "mysql", (8, 0, 36), True),
    ("15", "sqlite", None, True),
])
def test_the_live_server_wins_and_a_contradiction_is_one_warning(
        text: str, dialect: str, live: tuple[int, ...] | None, warned: bool) -> None:
    version, warning = reconcile(parse_server_version(text), dialect, live)
    assert version == live
    assert (warning is not None) is warned
    if warning:
        assert warning.startswith(f"--server-version {text} ignored: the database is")
        assert "\n" not in warning


def test_no_version_given_is_the_live_one_without_warning() -> None:
    assert reconcile(None, "postgres", (15, 4)) == ((15, 4), None)


# -- the setting --------------------------------------------------------------------


def test_the_setting_is_read_and_the_flag_beats_it(tmp_path: Path) -> None:
    (tmp_path / "switchy-guard.toml").write_text('server_version = "10"\n')
    assert resolve_settings({}, environ={}, cwd=tmp_path).server_version == "10"
    flagged = resolve_settings({"server_version": "postgresql-15"}, environ={}, cwd=tmp_path)
    assert flagged.server_version == "postgresql-15"


@pytest.mark.parametrize(("value", "problem"), [
    ('"10.x"', "server_version in "),
    ("10.6", "setting 'server_version' must be a string such as '15'"),
    ("15", "setting 'server_version' must be a string"),
])
def test_a_bad_setting_is_refused_naming_the_file(tmp_path: Path, value: str,
                                                  problem: str) -> None:
    (tmp_path / "switchy-guard.toml").write_text(f"server_version = {value}\n")
    with pytest.raises(Exception, match=problem) as raised:
        resolve_settings({}, environ={}, cwd=tmp_path)
    assert "switchy-guard.toml" in str(raised.value)


# -- the command line ---------------------------------------------------------------

DEFAULT_UP = "ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0;\n"


def _project(root: Path, up: str = DEFAULT_UP, down: str = "SELECT 1;\n",
             metadata: str | None = None) -> Path:
    migrations = root / "migrations"
    write_migration(migrations, "2024-01-01-000000_users", "CREATE TABLE users (id int);\n",
                    "DROP TABLE users;\n")
    write_migration(migrations, "2024-01-02-000000_change", up, down, metadata)
    return migrations


def test_check_judges_by_the_flag(tmp_path: Path) -> None:
    migrations = _project(tmp_path)
    old = run_cli("-m", migrations, "--dialect", "postgres", "check", "--server-version", "10",
                  "--format", "json")
    new = run_cli("-m", migrations, "--dialect", "postgres", "check", "--server-version", "11",
                  "--format", "json")
    assert '"SG408"' in old.out and "before PostgreSQL 11 (the server is 10)" in old.out
    assert '"SG408"' not in new.out


def test_check_judges_by_the_setting_and_the_flag_beats_it(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    migrations = _project(tmp_path)
    (tmp_path / "switchy-guard.toml").write_text('server_version = "postgresql-10"\n')
    monkeypatch.chdir(tmp_path)
    by_setting = run_cli("-m", migrations, "--dialect", "postgres", "check", "--format", "json")
    by_flag = run_cli("-m", migrations, "--dialect", "postgres", "check",
                      "--server-version", "12", "--format", "json")
    assert '"SG408"' in by_setting.out
    assert '"SG408"' not in by_flag.out


@pytest.mark.parametrize(("args", "problem"), [
    (("--dialect", "postgres", "check", "--server-version", "10.x"), "not a server version"),
    (("--dialect", "postgres", "check", "--server-version", "mysql-8.0"),
     "names a MySQL server, but the dialect is postgres"),
    (("check", "--server-version", "10"), "a bare version needs the dialect"),
    (("--dialect", "sqlite", "check", "--server-version", "3.45"),
     "no rule reads a SQLite version"),
    (("--dialect", "postgres", "plan", "--server-version", "mariadb-5.5"), "give mysql-5.5"),
])
def test_a_bad_flag_is_exit_2_and_one_line(tmp_path: Path, args: tuple[str, ...],
                                           problem: str) -> None:
    migrations = _project(tmp_path)
    result = run_cli("-m", migrations, "-d", f"sqlite:///{tmp_path / 'x.db'}", *args) \
        if args[2:3] == ("plan",) else run_cli("-m", migrations, *args)
    assert result.code == 2
    assert result.error_lines == [result.error_lines[0]]
    assert result.error_lines[0].startswith("error: --server-version ")
    assert problem in result.error_lines[0] and result.out == ""


def test_a_bad_setting_is_exit_2_naming_the_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = _project(tmp_path)
    (tmp_path / "switchy-guard.toml").write_text('server_version = "pg11"\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("-m", migrations, "--dialect", "postgres", "check")
    assert result.code == 2 and len(result.error_lines) == 1
    assert "server_version in " in result.err and "switchy-guard.toml 'pg11'" in result.err


def test_a_flavoured_version_under_every_dialect_judges_its_own_only(tmp_path: Path) -> None:
    migrations = _project(tmp_path)
    result = run_cli("-m", migrations, "check", "--server-version", "postgresql-10",
                     "--format", "json")
    assert result.code == 0
    assert '"SG408"' in result.out and "(the server is 10)" in result.out
    assert '"SG409"' not in result.out  # MySQL's version is unknown: quiet


def test_check_of_files_judges_by_the_flag(tmp_path: Path) -> None:
    sql = tmp_path / "change.sql"
    sql.write_text("ALTER TABLE users ADD COLUMN note text;\n")
    old = run_cli("--dialect", "mysql", "check", sql, "--server-version", "mysql-8.0.11",
                  "--format", "json")
    new = run_cli("--dialect", "mysql", "check", sql, "--server-version", "mysql-8.0.12",
                  "--format", "json")
    assert '"SG409"' in old.out and "MySQL 8.0.11" in old.out
    assert '"SG409"' not in new.out


def test_the_cache_keeps_reports_apart_by_version(tmp_path: Path) -> None:
    migrations = _project(tmp_path)

    def codes(version: str | None) -> set[str]:
        given = parse_server_version(version) if version else None
        report = run_check(str(migrations), "postgres", server_version=given, jobs=1)
        return {f.code for f in report.findings}

    assert "SG408" not in codes(None)
    assert "SG408" in codes("10")  # not the report cached without a version
    assert "SG408" not in codes("11")
    assert "SG408" in codes("10")


def test_down_scripts_are_judged_by_the_version(tmp_path: Path) -> None:
    migrations = _project(tmp_path, up="SELECT 1;\n", down=DEFAULT_UP)
    report = run_check(str(migrations), "postgres", use_cache=False, jobs=1,
                       server_version=parse_server_version("10"))
    found = [f for f in report.findings if f.code == "SG408"]
    assert found and all(f.rollback_time for f in found)


def test_the_two_process_check_judges_by_the_version(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    for n in range(6):
        write_migration(migrations, f"2024-01-0{n + 1}-000000_m{n}",
                        f"ALTER TABLE users ADD COLUMN c{n} int DEFAULT 0;\n"
                        "ALTER TYPE mood ADD VALUE 'x';\n", "SELECT 1;\n")
    one = validate(DirectoryMigrations(migrations).load("postgres"), "postgres", downs=True,
                   server_version=(10,))
    two = parallel.check_in_two(DirectoryMigrations(migrations), "postgres", min_folders=2,
                                server_version=(10,))
    assert two is not None
    assert sorted(f.code for f in two.findings) == sorted(f.code for f in one.findings)
    assert sum(f.code == "SG408" for f in two.findings) == 6
    assert sum(f.code == "SG604" for f in two.findings) == 6


# -- SG604: ALTER TYPE ... ADD VALUE in a transaction before PostgreSQL 12 ------------

ENUM = "CREATE TYPE mood AS ENUM ('ok');\n"


def _sg604(sql: str, version: tuple[int, ...] | None, *, transactional: bool = True,
           direction: str = "up") -> list[str]:
    up, down = (sql, "SELECT 1;") if direction == "up" else ("SELECT 1;", sql)
    migrations = [Migration("2024-01-01-000000_a", ENUM, "", "a", "b", noop_down=True),
                  Migration("2024-01-02-000000_b", up, down, "a", "b",
                            transactional=transactional)]
    result = validate(migrations, "postgres", plan_ids={"2024-01-02-000000_b"}, downs=True,
                      server_version=version)
    return [f.message for f in result.findings if f.code == "SG604"]


@pytest.mark.parametrize(("version", "found"), [
    (None, False), ((9, 6), True), ((10, 23), True), ((11, 22), True), ((12,), False),
    ((12, 0), False), ((16, 2), False),
])
def test_add_value_in_a_transaction_fails_before_12(version: tuple[int, ...] | None,
                                                    found: bool) -> None:
    messages = _sg604("ALTER TYPE mood ADD VALUE 'happy';\nSELECT 1;\n", version)
    assert bool(messages) is found
    if found:
        assert "cannot run inside a transaction block before PostgreSQL 12" in messages[0]


def test_add_value_outside_a_transaction_is_fine() -> None:
    assert _sg604("ALTER TYPE mood ADD VALUE 'happy';\n", (11,), transactional=False) == []


def test_add_value_beside_a_statement_that_needs_autocommit_is_fine() -> None:
    # The runner runs such a migration statement by statement (sql/execution.py).
    sql = "ALTER TYPE mood ADD VALUE 'happy';\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
    assert _sg604(sql, (11,)) == []


def test_add_value_in_a_do_block_fails_even_outside_a_transaction() -> None:
    sql = "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'happy'; END $$;\n"
    messages = _sg604(sql, (11,), transactional=False)
    assert messages and "inside a DO block" in messages[0]


@pytest.mark.parametrize("sql", [
    "alter type public.mood add value if not exists 'happy' before 'ok';",
    "ALTER TYPE \"Mood\" ADD VALUE 'happy' AFTER 'ok';",
    "ALTER /* x */ TYPE mood ADD\nVALUE 'happy';",
])
def test_add_value_spellings(sql: str) -> None:
    assert _sg604(sql, (11,))


@pytest.mark.parametrize("sql", [
    "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine';",
    "ALTER TYPE \"add value\" RENAME TO mood2;",
    "ALTER TYPE compfoo ADD ATTRIBUTE f3 int;",
    "ALTER TABLE t ADD COLUMN value int;",
])
def test_other_alters_are_not_add_value(sql: str) -> None:
    assert _sg604(sql, (11,)) == []


def test_a_down_script_holding_add_value_is_a_rollback_time_finding() -> None:
    migrations = [Migration("2024-01-01-000000_a", ENUM, "", "a", "b", noop_down=True),
                  Migration("2024-01-02-000000_b", "SELECT 1;",
                            "ALTER TYPE mood ADD VALUE 'happy';", "a", "b")]
    result = validate(migrations, "postgres", downs=True, server_version=(11,))
    found = [f for f in result.findings if f.code == "SG604"]
    assert found and found[0].rollback_time


def test_sg604_documented_example_fires_and_fixed_does_not() -> None:
    rule = get_rule("SG604")
    assert rule is not None and rule.name == "enum-value-in-transaction"
    assert _sg604(rule.example, (11,))
    assert _sg604(rule.fixed, (11,), transactional=False) == []
    assert _sg604(rule.example, None) == []


def test_sg604_on_the_command_line(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    write_migration(migrations, "2024-01-01-000000_mood", ENUM, "DROP TYPE mood;\n")
    write_migration(migrations, "2024-01-02-000000_happy", "ALTER TYPE mood ADD VALUE 'happy';\n",
                    "SELECT 1;\n")
    old = run_cli("-m", migrations, "--dialect", "postgres", "check", "--server-version", "11")
    new = run_cli("-m", migrations, "--dialect", "postgres", "check", "--server-version", "12")
    assert old.code == 1 and "SG604" in old.out
    assert new.code == 0 and "SG604" not in new.out
    write_migration(migrations, "2024-01-02-000000_happy", "ALTER TYPE mood ADD VALUE 'happy';\n",
                    "SELECT 1;\n", metadata="transactional = false\n")
    fixed = run_cli("-m", migrations, "--dialect", "postgres", "check", "--server-version",
                    "11", "--no-cache")
    assert fixed.code == 0 and "SG604" not in fixed.out


def test_given_version_is_plain_data() -> None:
    given = GivenVersion("mariadb", (10, 4), "mariadb-10.4", "--server-version")
    assert given.numbers_text == "10.4"
