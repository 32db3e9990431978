"""The pytest plugin, used exactly as a user would (the README's example runs verbatim)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from switchy_guard.discovery import CodeMigrations
from switchy_guard.testing import (
    MigrationTester,
    assert_column_exists,
    assert_foreign_key_exists,
    assert_index_exists,
    assert_round_trip,
    assert_table_exists,
)

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- plugin-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "the plugin example is missing from the README"
    return match.group(1)


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_users=readme_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_a_broken_transformation_fails_the_users_test(pytester: pytest.Pytester) -> None:
    broken = readme_example().replace("instr(name, ' ') - 1", "instr(name, ' ')")
    pytester.makepyfile(test_users=broken)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    assert "assert [('Ada ',)] == [('Ada',)]" in result.stdout.str()


def test_the_fixtures_use_the_given_database(pytester: pytest.Pytester, db_url: str) -> None:
    pytester.makepyfile(test_url=f"""
def test_url(switchy_database_url):
    assert switchy_database_url == {db_url!r}
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q",
                                           f"--switchy-db-url={db_url}")
    result.assert_outcomes(passed=1)


@pytest.fixture
def schema(tmp_path: Path) -> MigrationTester:
    migrations = CodeMigrations()
    migrations.add_sql("2024-01-01-000000_a", "CREATE TABLE orgs (id INTEGER PRIMARY KEY)",
                       "DROP TABLE orgs")
    migrations.add_sql(
        "2024-01-02-000000_b",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INTEGER REFERENCES orgs (id));\n"
        "CREATE INDEX users_org ON users (org_id)",
        "DROP TABLE users",
    )
    tester = MigrationTester(migrations, f"sqlite:///{tmp_path / 't.db'}")
    assert tester.migrate_all() == ["2024-01-01-000000_a", "2024-01-02-000000_b"]
    return tester


def test_schema_assertions_pass_and_fail_clearly(schema: MigrationTester) -> None:
    assert_table_exists(schema, "users")
    assert_column_exists(schema.engine, "users", "org_id")
    assert_index_exists(schema, "users", index="users_org")
    assert_index_exists(schema, "users", columns=["org_id"])
    assert_foreign_key_exists(str(schema.engine.url), "users", "orgs")
    checks: list[tuple[Callable[[], None], str]] = [
        (lambda: assert_table_exists(schema, "nope"), "table 'nope' does not exist"),
        (lambda: assert_column_exists(schema, "users", "email"), "column users.email does not"),
        (lambda: assert_index_exists(schema, "users", index="missing"),
         "no index 'missing' on table 'users'"),
        (lambda: assert_index_exists(schema, "users", columns=["id", "org_id"]),
         r"no index on \['id', 'org_id'\] on table 'users' \(its indexes: \[\('users_org'"),
        (lambda: assert_index_exists(schema, "nope", index="users_org"),
         "table 'nope' does not exist"),
        (lambda: assert_foreign_key_exists(schema, "nope", "orgs"),
         "table 'nope' does not exist"),
        (lambda: assert_foreign_key_exists(schema, "orgs", "users"), "no foreign key from orgs"),
    ]
    for check, message in checks:
        with pytest.raises(AssertionError, match=message):
            check()
    assert schema.rollback() == ["2024-01-02-000000_b"]
    assert schema.applied() == ["2024-01-01-000000_a"]
    schema.close()


def test_round_trip_failure_lists_the_differences() -> None:
    migrations = CodeMigrations()
    migrations.add_sql("2024-01-01-000000_a", "CREATE TABLE t (id INTEGER)", "SELECT 1")
    with pytest.raises(AssertionError, match="table t: absent before up, still present after down"):
        assert_round_trip(migrations)


USER_TEST_ON_ANY_DATABASE = """
from switchy_guard.discovery import CodeMigrations
from switchy_guard.testing import assert_column_exists

migrations = CodeMigrations()
migrations.add_sql("2024-01-01-000000_users",
                   "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100))",
                   "DROP TABLE users")
migrations.add_sql("2024-01-02-000000_normalise",
                   "ALTER TABLE users ADD email_lower VARCHAR(100);\\n"
                   "UPDATE users SET email_lower = LOWER(email)",
                   "ALTER TABLE users DROP COLUMN email_lower")


def test_normalise_lowers_emails(switchy_migrator):
    db = switchy_migrator(migrations)
    assert db.migrate_to("2024-01-01-000000_users") == ["2024-01-01-000000_users"]
    db.execute("INSERT INTO users (id, email) VALUES (:id, :email)",
               {"id": 1, "email": "Ada@Example.COM"})
    assert db.migrate_next() == ["2024-01-02-000000_normalise"]
    assert_column_exists(db, "users", "email_lower")
    assert db.fetch_all("SELECT id, email_lower FROM users") == [(1, "ada@example.com")]
    assert db.rollback() == ["2024-01-02-000000_normalise"]
    assert db.applied() == ["2024-01-01-000000_users"]
"""


def test_the_plugin_on_every_database(pytester: pytest.Pytester, db_url: str) -> None:
    pytester.makepyfile(test_users=USER_TEST_ON_ANY_DATABASE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q",
                                           f"--switchy-db-url={db_url}")
    result.assert_outcomes(passed=1)


def test_the_environment_variable_names_the_database(pytester: pytest.Pytester, db_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHY_TEST_DATABASE_URL", db_url)
    pytester.makepyfile(test_users=USER_TEST_ON_ANY_DATABASE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_round_trip_on_every_database(db_url: str, db_kind: str) -> None:
    migrations = CodeMigrations()
    migrations.add_sql("2024-01-01-000000_a", "CREATE TABLE t (id INTEGER)", "DROP TABLE t")
    migrations.add_sql("2024-01-02-000000_b", "CREATE INDEX t_id ON t (id)", "SELECT 1")
    with pytest.raises(AssertionError) as failure:
        assert_round_trip(migrations, db_url if db_kind != "sqlite" else None)
    assert ("2024-01-02-000000_b: index t_id on t: absent before up, still present after down"
            in str(failure.value))
