"""plan: the impact report's row figures are the real row counts, on every database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, make_url

import switchy_guard.gates.reports as impact
import switchy_guard.report.impact as impact_text
import switchy_guard.runtime.live as rowcounts
from switchy_guard.model.plan import Steps
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

ROWS, WITH_NOTE = 7, 3


@pytest.fixture
def project(tmp_path: Path, db_url: str) -> Path:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_users", "CREATE TABLE users (id INTEGER PRIMARY "
                    "KEY, email VARCHAR(50) NOT NULL, note VARCHAR(50));\n", "DROP TABLE users;\n")
    values = ", ".join(
        f"({n}, 'u{n}@example.com', {repr('hi') if n <= WITH_NOTE else 'NULL'})"
        for n in range(1, ROWS + 1)
    )
    write_migration(root, "2024-01-02-000000_seed",
                    f"INSERT INTO users (id, email, note) VALUES {values};\n", "DELETE FROM users "
                    "WHERE id > 0;\n")
    Migrator(root, db_url).migrate(Steps(2))
    write_migration(root, "2024-01-03-000000_drop_note", "ALTER TABLE users DROP COLUMN note;\n",
                    "ALTER TABLE users ADD COLUMN note VARCHAR(50);\n")
    write_migration(root, "2024-01-04-000000_scratch", "CREATE TABLE scratch (id INTEGER);\n"
                    "DELETE FROM scratch;\nDROP TABLE scratch;\n", "SELECT 1;\n")
    write_migration(root, "2024-01-05-000000_purge", "DELETE FROM users;\n")
    return root


def test_plan_counts_the_rows_destructive_steps_touch(project: Path, db_url: str) -> None:
    result = run_cli("plan", "-m", project, "-d", db_url, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["live"] is True
    by_id = {m["id"]: m for m in data["migrations"]}
    assert list(by_id) == ["2024-01-03-000000_drop_note", "2024-01-04-000000_scratch",
                           "2024-01-05-000000_purge"]
    (drop,) = by_id["2024-01-03-000000_drop_note"]["rows"]
    assert (drop["what"], drop["rows"], drop["non_null"], drop["estimate"]) == (
        "drop column note", ROWS, WITH_NOTE, False)
    assert by_id["2024-01-03-000000_drop_note"]["drops"] == ["column users.note"]
    assert by_id["2024-01-04-000000_scratch"]["rows"] == []  # created by the plan: empty
    # A table the plan creates is new and empty: no data-loss finding on it.
    scratch_codes = {f["code"] for f in by_id["2024-01-04-000000_scratch"]["findings"]}
    assert not scratch_codes & {"SG301", "SG305"}
    (purge,) = by_id["2024-01-05-000000_purge"]["rows"]
    assert (purge["what"], purge["rows"]) == ("delete every row", ROWS)
    assert not by_id["2024-01-05-000000_purge"]["reversible"]
    codes = {f["code"] for m in data["migrations"] for f in m["findings"]}
    assert {"SG302", "SG305", "SG203"} <= codes


def test_plan_text_and_markdown(project: Path, db_url: str) -> None:
    text = run_cli("plan", "-m", project, "-d", db_url).out
    assert f"drop column note on users: {ROWS} rows, {WITH_NOTE} non-NULL values" in text
    assert "3. 2024-01-05-000000_purge (in a transaction; IRREVERSIBLE)" in text \
        or "2024-01-05-000000_purge (statement by statement; IRREVERSIBLE)" in text
    markdown = run_cli("plan", "-m", project, "-d", db_url, "--steps", "1", "--format",
                       "markdown").out
    assert markdown.startswith("### switchy-guard plan: 1 migration(s)")
    assert f"drop column note on users: {ROWS} rows" in markdown
    # The whole plan: a summary first, then the most severe migration first (its place in
    # the run kept in the # column); bounded like check's report (tests/unit/
    # test_formats_schema.py::test_plan_markdown_of_thousands_of_migrations_fits_a_comment).
    whole = run_cli("plan", "-m", project, "-d", db_url, "--format", "markdown").out
    rows = [line for line in whole.splitlines() if re.match(r"\| \d \|", line)]
    assert len(rows) == 3 and "| error `SG3" in rows[0] and "| rule | severity |" in whole
    assert whole.index("| rule | severity |") < whole.index(rows[0])
    back = run_cli("rollback", "--steps", "2", "--plan", "-m", project, "-d", db_url,
                   "--format", "markdown")
    assert back.code == 0, back.err
    assert back.out.startswith("### switchy-guard plan: 2 migration(s)")
    assert "Roll back:" in back.out
    # users' down (DROP TABLE) runs second, but is shown first: it is the error.
    back_rows = [line for line in back.out.splitlines() if re.match(r"\| \d \|", line)]
    assert back_rows[0].startswith("| 2 | 2024-01-01-000000_users |")
    assert "error `SG301` drop-table (rollback-time)" in back_rows[0]
    assert "`switchy-guard rollback --plan" not in back.out  # it all fits: nothing left out


def test_large_tables_use_the_statistics_estimate(
    project: Path, db_url: str, db_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrator = Migrator(project, db_url)
    if db_kind == "sqlite":
        monkeypatch.setattr(rowcounts, "EXACT_COUNT_LIMIT", -1)
        report = impact.impact_report(migrator)
        assert report.migrations[0].rows[0].estimate is False  # SQLite: always counted
        return
    with migrator.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE users" if db_kind == "postgres" else "ANALYZE TABLE users")
    monkeypatch.setattr(rowcounts, "EXACT_COUNT_LIMIT", -1)
    row = impact.impact_report(migrator).migrations[0].rows[0]
    assert row.estimate is True and row.non_null is None
    if db_kind == "postgres":
        assert row.rows == ROWS  # ANALYZE of a small table is exact
    assert "estimate from statistics" in impact_text.render_text(impact.impact_report(migrator))


def test_plan_without_a_database_is_refused_clearly(project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHY_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = run_cli("plan", "-m", project)
    assert result.code == 2 and "'plan' needs a database" in result.err


def test_rollback_plan_reports_data_lost_changed_downs_and_dependents(
    tmp_path: Path, db_url: str
) -> None:
    root = tmp_path / "r"
    write_migration(root, "2024-01-01-000000_users", "CREATE TABLE users (id INTEGER PRIMARY "
                    "KEY, note VARCHAR(20));\n", "DROP TABLE users;\n")
    write_migration(root, "2024-01-02-000000_seed", "INSERT INTO users (id, note) VALUES "
                    "(1, 'a'), (2, NULL), (3, 'c');\n", "DELETE FROM users WHERE id <= 3;\n",
                    metadata='depends_on = ["2024-01-01-000000_users"]')
    write_migration(root, "2024-01-03-000000_tag", "ALTER TABLE users ADD COLUMN tag "
                    "VARCHAR(5);\n", "ALTER TABLE users DROP COLUMN tag;\n")
    Migrator(root, db_url).migrate()
    (root / "2024-01-03-000000_tag" / "down.sql").write_text(
        "ALTER TABLE users DROP COLUMN tag; -- edited\n")
    result = run_cli("rollback", "--all", "--plan", "-m", root, "-d", db_url, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["direction"] == "down"
    assert [m["id"] for m in data["migrations"]] == [
        "2024-01-03-000000_tag", "2024-01-02-000000_seed", "2024-01-01-000000_users"]
    tag, _, users = data["migrations"]
    assert tag["statements"] == ["ALTER TABLE users DROP COLUMN tag"]
    assert (tag["rows"][0]["what"], tag["rows"][0]["rows"], tag["rows"][0]["non_null"]) == (
        "drop column tag", 3, 0)
    assert (users["rows"][0]["what"], users["rows"][0]["rows"]) == ("drop table", 3)
    assert any("2024-01-03-000000_tag: down script changed" in w for w in data["warnings"])
    assert any("2024-01-01-000000_users is needed by 2024-01-02-000000_seed" in w
               for w in data["warnings"])
    assert Migrator(root, db_url).state().is_applied("2024-01-03-000000_tag")  # nothing ran
    (root / "2024-01-02-000000_seed" / "down.sql").unlink()
    refused = run_cli("rollback", "--all", "--plan", "-m", root, "-d", db_url)
    assert refused.code == 1 and "no down script for 2024-01-02-000000_seed" in refused.err


def test_plan_prints_its_findings_as_sarif_and_github(project: Path, db_url: str) -> None:
    # docs/cli.md (--format): check and plan also take --format sarif and github; plan refused both.
    sarif = run_cli("plan", "-m", project, "-d", db_url, "--format", "sarif")
    assert sarif.code == 0, sarif.err
    results = json.loads(sarif.out)["runs"][0]["results"]
    assert {"SG302", "SG305", "SG203"} <= {r["ruleId"] for r in results}
    github = run_cli("plan", "-m", project, "-d", db_url, "--format", "github")
    assert github.code == 0, github.err
    assert "::error file=" in github.out and "title=SG302 drop-column::" in github.out
    refused = run_cli("status", "-m", project, "-d", db_url, "--format", "sarif")
    assert refused.code == 2
    assert refused.error_lines == ["error: --format sarif is only for check and plan"]


def test_rows_follow_a_table_renamed_earlier_in_the_plan(tmp_path: Path, db_url: str) -> None:
    """A rollback that renames a table back and then drops it (or a migration that
    renames then truncates) touches the live table's rows: they were silently missing
    from the report, as the new name does not exist yet. A column renamed (or added)
    earlier in the plan and then dropped made the count fail, and with it the plan and
    the rollback itself (exit 3, "column does not exist"). And every table of a
    multi-table TRUNCATE is counted, not just the first."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_orders",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, note VARCHAR(20));\n"
                    "CREATE TABLE audit (id INTEGER);\n"
                    "INSERT INTO orders (id, note) VALUES (1, 'a'), (2, NULL), (3, 'c');\n"
                    "INSERT INTO audit (id) VALUES (1), (2);\n",
                    "DROP TABLE audit;\nDROP TABLE orders;\n")
    write_migration(root, "2024-01-02-000000_rename",
                    "ALTER TABLE orders RENAME TO purchases;\n",
                    "ALTER TABLE purchases RENAME TO orders;\n"
                    "ALTER TABLE orders RENAME COLUMN note TO memo;\n"
                    "ALTER TABLE orders DROP COLUMN memo;\n")
    Migrator(root, db_url).migrate()
    write_migration(root, "2024-01-03-000000_purge",
                    "ALTER TABLE purchases RENAME TO old_purchases;\n"
                    "ALTER TABLE old_purchases RENAME COLUMN note TO memo;\n"
                    "ALTER TABLE old_purchases ADD COLUMN extra INTEGER;\n"
                    "ALTER TABLE old_purchases DROP COLUMN memo;\n"
                    "ALTER TABLE old_purchases DROP COLUMN extra;\n"
                    "CREATE TABLE purchases (id INTEGER);\n"
                    "DROP TABLE purchases;\n")
    forward = impact.impact_report(Migrator(root, db_url))
    rows = [(r.statement, r.table, r.what, r.rows, r.non_null) for r in forward.migrations[0].rows]
    assert rows == [(4, "old_purchases", "drop column memo", 3, 2)]

    write_migration(root, "2024-01-03-000000_purge", "SELECT 1;\n")
    back = impact.rollback_report(Migrator(root, db_url), Steps(2))
    by_id = {m.id: [(r.table, r.what, r.rows) for r in m.rows] for m in back.migrations}
    assert by_id["2024-01-02-000000_rename"] == [("orders", "drop column memo", 3)]
    assert by_id["2024-01-01-000000_orders"] == [("audit", "drop table", 2),
                                                  ("orders", "drop table", 3)]

    if db_url.startswith("postgres"):
        write_migration(root, "2024-01-03-000000_purge", "TRUNCATE purchases, audit;\n")
        (truncate,) = impact.impact_report(Migrator(root, db_url)).migrations
        assert [(r.table, r.rows) for r in truncate.rows] == [("purchases", 3), ("audit", 2)]


def test_rows_of_schema_qualified_and_mixed_case_tables(
    tmp_path: Path, db_kind: str, make_db_url: Callable[[], str]
) -> None:
    """``DELETE FROM billing.invoices`` counted the default schema's ``invoices`` (2 rows
    instead of 40, and its dropped column went missing, as that other table has none);
    on SQLite and MySQL ``DELETE FROM AuditLog`` counted nothing, as the classifier
    lower-cases the name and the lookup was case-sensitive."""
    db_url = make_db_url()
    # The other schema: a PostgreSQL schema, another MySQL database, SQLite's "main".
    other = {"postgres": "billing", "sqlite": "main",
             "mysql": str(make_url(make_db_url()).database)}[db_kind]
    audit, message = ('"AuditLog"', '"Message"') if db_kind == "postgres" else (
        "AuditLog", "Message")
    memos = ", ".join(f"({n}, {'NULL' if n % 2 else repr('m')})" for n in range(40))
    engine = create_engine(db_url)
    with engine.begin() as conn:
        if db_kind == "postgres":
            conn.exec_driver_sql("CREATE SCHEMA billing")
        if db_kind != "sqlite":  # a same-named table in the default schema
            conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER)")
            conn.exec_driver_sql("INSERT INTO invoices (id) VALUES (1), (2)")
        conn.exec_driver_sql(f"CREATE TABLE {other}.invoices (id INTEGER, memo VARCHAR(5))")
        conn.exec_driver_sql(f"INSERT INTO {other}.invoices (id, memo) VALUES {memos}")
        conn.exec_driver_sql(f"CREATE TABLE {audit} (id INTEGER, {message} VARCHAR(5))")
        conn.exec_driver_sql(f"INSERT INTO {audit} VALUES (1, 'a'), (2, NULL), (3, 'c')")
    engine.dispose()
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_purge",
                    f"ALTER TABLE {other}.invoices DROP COLUMN memo;\n"
                    f"DELETE FROM {other}.invoices;\n"
                    f"ALTER TABLE {audit} DROP COLUMN {message};\n"
                    f"DROP TABLE {audit};\n")
    (purge,) = impact.impact_report(Migrator(root, db_url)).migrations
    rows = [(r.statement, r.table.lower(), r.what.lower(), r.rows, r.non_null)
            for r in purge.rows]
    assert rows == [(1, f"{other}.invoices", "drop column memo", 40, 20),
                    (2, f"{other}.invoices", "delete every row", 40, None),
                    (3, "auditlog", "drop column message", 3, 2),
                    (4, "auditlog", "drop table", 3, None)]


@pytest.mark.only_on("postgres")
def test_plan_with_a_read_only_role_that_may_not_read_every_table(
    tmp_path: Path, db_url: str
) -> None:
    """An operator's read-only role without SELECT on one table got no plan at all
    ("permission denied", and the aborted transaction failed every later count): that
    table's figures are now unknown, with the reason as a warning, and the rest counted."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_tables",
                    "CREATE TABLE open_t (id INTEGER);\nCREATE TABLE secret_t (id INTEGER);\n"
                    "INSERT INTO open_t VALUES (1), (2);\nINSERT INTO secret_t VALUES (1);\n")
    Migrator(root, db_url).migrate()
    write_migration(root, "2024-01-02-000000_purge",
                    "DELETE FROM secret_t;\n"
                    "DELETE FROM open_t;\n")
    url = make_url(db_url)
    role = f"reader_{url.database}"
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD 'r-pw'")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        conn.exec_driver_sql(f"REVOKE SELECT ON secret_t FROM {role}")
        conn.exec_driver_sql(f"ALTER ROLE {role} SET default_transaction_read_only = on")
    try:
        reader = url.set(username=role, password="r-pw").render_as_string(hide_password=False)
        result = run_cli("plan", "-m", root, "-d", reader, "--format", "json")
        assert result.code == 0, result.err
        data = json.loads(result.out)
        (purge,) = data["migrations"]
        assert [(r["table"], r["what"], r["rows"]) for r in purge["rows"]] == [
            ("secret_t", "delete every row", None), ("open_t", "delete every row", 2)]
        assert data["warnings"] == [
            "rows of secret_t not counted: permission denied for table secret_t"]
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        engine.dispose()


@pytest.mark.only_on("postgres")
def test_a_large_partitioned_table_uses_its_partitions_statistics(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partitioned table has no statistics of its own (reltuples -1, relkind 'p'), so
    the plan ran an exact COUNT(*) over every partition of what is, typically, the
    largest table of the database: the partitions' statistics are summed instead."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_events",
                    "CREATE TABLE events (id INTEGER, at DATE) PARTITION BY RANGE (at);\n"
                    "CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2023-01-01')"
                    " TO ('2024-01-01');\n"
                    "CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2024-01-01')"
                    " TO ('2025-01-01');\n"
                    "INSERT INTO events SELECT n, DATE '2023-10-01' + n FROM "
                    "generate_series(1, 200) n;\n")
    Migrator(root, db_url).migrate()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE events")
    engine.dispose()
    write_migration(root, "2024-01-02-000000_drop", "DROP TABLE events;\n")
    monkeypatch.setattr(rowcounts, "EXACT_COUNT_LIMIT", 100)
    (drop,) = impact.impact_report(Migrator(root, db_url)).migrations[0].rows
    assert (drop.table, drop.rows, drop.estimate) == ("events", 200, True)


def test_cascaded_deletes_are_counted_once(tmp_path: Path, db_url: str, db_kind: str) -> None:
    """A DELETE from a table that ON DELETE CASCADE foreign keys reference removes the
    referencing rows too: the plan said nothing of them (DELETE FROM users: "3 rows",
    while 12 went). And a table emptied earlier in the plan was counted again by each
    later statement (DELETE then DROP TABLE: its rows twice)."""
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_shop",
                    "CREATE TABLE users (id INTEGER PRIMARY KEY);\n"
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,"
                    " FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE);\n"
                    "CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER,"
                    " FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE);\n"
                    "INSERT INTO users (id) VALUES (1), (2), (3);\n"
                    "INSERT INTO orders (id, user_id) VALUES (1, 1), (2, 1), (3, 2), (4, 2),"
                    " (5, 3);\n"
                    "INSERT INTO items (id, order_id) VALUES (1, 1), (2, 1), (3, 2), (4, 3),"
                    " (5, 4), (6, 5), (7, NULL);\n")
    Migrator(root, db_url).migrate()
    write_migration(root, "2024-01-02-000000_purge",
                    "DELETE FROM users WHERE id = 1;\nDELETE FROM users;\n"
                    "DROP TABLE items;\nDELETE FROM orders;\n")
    migrator = Migrator(root, db_url)
    if db_kind == "sqlite":  # SQLite cascades only where the session enforces foreign keys
        assert impact.impact_report(migrator).migrations[0].rows[0].what == "delete every row"

        @event.listens_for(migrator.engine, "connect")
        def enforce(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

        migrator.engine.dispose()

    (purge,) = impact.impact_report(migrator).migrations
    assert [(r.statement, r.table, r.what, r.rows) for r in purge.rows] == [
        (1, "orders", "delete (ON DELETE CASCADE from users)", None),
        (1, "items", "delete (ON DELETE CASCADE from orders)", None),
        (2, "users", "delete every row", 3),
        (2, "orders", "delete (ON DELETE CASCADE from users)", 5),
        (2, "items", "delete (ON DELETE CASCADE from orders)", 6),  # not the NULL one
        # The live rows: a partial delete earlier in the plan is not subtracted (an upper
        # bound); a table emptied earlier (orders, by the cascade) is not counted again.
        (3, "items", "drop table", 7),
    ]
    if db_kind == "postgres":
        write_migration(root, "2024-01-02-000000_purge",
                        "TRUNCATE orders CASCADE;\nDELETE FROM items;\n")
        (purge,) = impact.impact_report(Migrator(root, db_url)).migrations
        assert [(r.table, r.what, r.rows) for r in purge.rows] == [
            ("orders", "truncate", 5), ("items", "truncate (CASCADE from orders)", 7)]
