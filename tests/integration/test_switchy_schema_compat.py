"""A database left by the Rust switchy_schema, read and written by switchy-guard.

The fixture recreates, literally, the DDL and rows the Rust tool writes (MoosicBox's
configured table name, EXEC_RAW checksums because MoosicBox loads its SQL files as code
migrations, the Rust tool's datetime formats, one row written by its mark-completed with
64 zeros), and applies the schema those rows say is applied.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from switchy_guard.runtime.db import parse_url
from switchy_guard.runtime.runner import Migrator
from switchy_guard.runtime.tracking import TrackingTable
from tests.cli_helpers import run_cli, write_migration

TABLE = "__moosicbox_schema_migrations"
IDS = [
    "2025-01-01-000000_create_artists",
    "2025-01-02-000000_create_albums",
    "2025-01-03-000000_add_album_year",
    "2025-01-04-000000_add_artist_country",
]
UP = [
    "CREATE TABLE artists (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
    "CREATE TABLE albums (id INTEGER PRIMARY KEY, artist_id INTEGER NOT NULL, "
    "title VARCHAR(200) NOT NULL);\n",
    "ALTER TABLE albums ADD COLUMN year INTEGER;\n",
    "ALTER TABLE artists ADD COLUMN country VARCHAR(2);\n",
]
DOWN = [
    "DROP TABLE artists;\n",
    "DROP TABLE albums;\n",
    "ALTER TABLE albums DROP COLUMN year;\n",
    "ALTER TABLE artists DROP COLUMN country;\n",
]

# The Rust tool's DDL per database (README.md, "Tracking table").
RUST_DDL = {
    "sqlite": """CREATE TABLE IF NOT EXISTS {t} (
        id TEXT NOT NULL,
        run_on TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now')),
        finished_on TEXT,
        up_checksum VARCHAR(64) NOT NULL,
        down_checksum VARCHAR(64) NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT)""",
    "postgres": """CREATE TABLE IF NOT EXISTS {t} (
        id TEXT NOT NULL,
        run_on TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        finished_on TIMESTAMP WITH TIME ZONE,
        up_checksum VARCHAR(64) NOT NULL,
        down_checksum VARCHAR(64) NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT)""",
    "mysql": """CREATE TABLE IF NOT EXISTS {t} (
        id TEXT NOT NULL,
        run_on DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
        finished_on DATETIME,
        up_checksum VARCHAR(64) NOT NULL,
        down_checksum VARCHAR(64) NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT)""",
}
# Times as each database's column takes them from the Rust tool.
RUST_TIMES = {
    "sqlite": ("2025-01-05T10:00:00.123", "2025-01-05T10:00:00.456"),
    "postgres": ("2025-01-05 10:00:00.123+00", "2025-01-05 10:00:00.456+00"),
    "mysql": ("2025-01-05 10:00:00", "2025-01-05 10:00:01"),
}


def exec_raw(sql: str) -> str:
    return hashlib.sha256(b"EXEC_RAW:" + sql.encode()).hexdigest()


@pytest.fixture
def moosicbox(tmp_path: Path, db_url: str, db_kind: str) -> tuple[Path, str]:
    """A MoosicBox-style tree and a database the Rust tool migrated up to IDS[2]."""
    root = tmp_path / "migrations"
    for dialect in ("sqlite", "postgres", "mysql"):
        for migration_id, up, down in zip(IDS, UP, DOWN, strict=True):
            write_migration(root / dialect, migration_id, up, down)
    engine = create_engine(parse_url(db_url))
    run_on, finished_on = RUST_TIMES[db_kind]
    with engine.begin() as conn:
        conn.exec_driver_sql(RUST_DDL[db_kind].format(t=TABLE))
        for index in range(3):
            conn.exec_driver_sql(UP[index])
            zeros = index == 0  # recorded by the Rust tool's mark-completed
            conn.execute(
                text(f"INSERT INTO {TABLE} (id, run_on, finished_on, up_checksum, "
                     "down_checksum, status, failure_reason) "
                     "VALUES (:id, :run_on, :finished, :up, :down, 'completed', NULL)"),
                {"id": IDS[index], "run_on": run_on, "finished": finished_on,
                 "up": "0" * 64 if zeros else exec_raw(UP[index]),
                 "down": "0" * 64 if zeros else exec_raw(DOWN[index])},
            )
    engine.dispose()
    return root, db_url


def cli(root: Path, url: str, *args: str, mode: str = "exec-raw") -> tuple[int, str, str]:
    result = run_cli(*args, "-m", root, "-d", url, "--migration-table", TABLE,
                     "--checksum-mode", mode)
    return result.code, result.out, result.err


def test_status_agrees_with_the_rust_tool(moosicbox: tuple[Path, str]) -> None:
    root, url = moosicbox
    code, out, _ = cli(root, url, "status", "--format", "json")
    assert code == 0
    data = json.loads(out)
    states = {m["id"]: m["state"] for m in data["migrations"]}
    assert states == {IDS[0]: "completed", IDS[1]: "completed", IDS[2]: "completed",
                      IDS[3]: "pending"}
    by_id = {m["id"]: m for m in data["migrations"]}
    assert by_id[IDS[0]]["unknown_checksum"] and not by_id[IDS[0]]["drift"]
    assert not by_id[IDS[1]]["drift"] and not by_id[IDS[2]]["drift"]
    assert by_id[IDS[1]]["applied_at"].startswith("2025-01-05")
    assert data["summary"]["drift"] == 0


def test_validate_strict_needs_the_right_checksum_mode(moosicbox: tuple[Path, str]) -> None:
    root, url = moosicbox
    code, out, _ = cli(root, url, "validate", "--strict")
    assert code == 0
    assert f"UNKNOWN  {IDS[0]}" in out and "2 verified, 0 mismatched, 1 unknown" in out
    code, out, _ = cli(root, url, "validate", "--strict", "--verbose", mode="file")
    assert code == 1
    assert f"MISMATCH {IDS[1]}: up and down script changed" in out
    assert f"recorded {exec_raw(UP[1])}" in out


def test_migrate_and_rollback_agree(moosicbox: tuple[Path, str]) -> None:
    root, url = moosicbox
    code, out, err = cli(root, url, "migrate")
    assert code == 0, err
    assert "Applied 1 migration(s)" in out
    engine = create_engine(parse_url(url))
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT up_checksum, down_checksum, status FROM {TABLE} "
                                "WHERE id = :id"), {"id": IDS[3]}).one()
        assert tuple(row) == (exec_raw(UP[3]), exec_raw(DOWN[3]), "completed")
        assert "country" in {c["name"] for c in inspect(conn).get_columns("artists")}
    code, out, err = cli(root, url, "rollback", "--steps", "2")
    assert code == 0, err
    with engine.connect() as conn:
        assert "year" not in {c["name"] for c in inspect(conn).get_columns("albums")}
        ids = {r[0] for r in conn.exec_driver_sql(f"SELECT id FROM {TABLE}")}
    assert ids == {IDS[0], IDS[1]}
    code, _, err = cli(root, url, "rollback", "--all")
    assert code == 0, err
    with engine.connect() as conn:
        # Only the tracking table and switchy-guard's own tables beside it are left.
        assert set(inspect(conn).get_table_names()) <= {
            TABLE, f"{TABLE}_statements", f"{TABLE}_audit", f"{TABLE}_lock"}
    engine.dispose()


def test_unknown_checksums_block_required_validation_until_adopted(
    moosicbox: tuple[Path, str]
) -> None:
    root, url = moosicbox
    code, _, err = cli(root, url, "migrate", "--require-checksum-validation", "--force")
    assert code == 1
    assert f"unknown checksums (adopt them with adopt-checksums): {IDS[0]}" in err
    code, _, err = cli(root, url, "adopt-checksums", IDS[1], "--force")
    assert code == 1 and "has no unknown checksums to adopt" in err
    code, out, err = cli(root, url, "adopt-checksums", "--force")
    assert code == 0, err
    assert "adopted the current checksums of 1 migration(s)" in out
    code, out, err = cli(root, url, "migrate", "--require-checksum-validation")
    assert code == 0, err
    engine = create_engine(parse_url(url))
    with engine.connect() as conn:
        audit = conn.exec_driver_sql(f"SELECT command, target, outcome FROM {TABLE}_audit"
                                     ).fetchall()
    engine.dispose()
    adopted = [(r[1], r[2]) for r in audit if r[0].startswith("switchy-guard adopt-checksums")]
    assert adopted == [(IDS[0], "ok")]
    # The migrate refused before the adoption and the one after it are journaled too.
    migrates = [r[2] for r in audit if r[0].startswith("switchy-guard migrate")]
    assert migrates == ["refused", "ok"]


def test_required_validation_refuses_drift_even_with_force(
    moosicbox: tuple[Path, str]
) -> None:
    root, url = moosicbox
    (root / "sqlite" / IDS[2] / "up.sql").write_text("ALTER TABLE albums ADD COLUMN yr INT;\n")
    (root / "postgres" / IDS[2] / "up.sql").write_text("ALTER TABLE albums ADD COLUMN yr INT;\n")
    (root / "mysql" / IDS[2] / "up.sql").write_text("ALTER TABLE albums ADD COLUMN yr INT;\n")
    cli(root, url, "adopt-checksums", "--force")
    code, _, err = cli(root, url, "migrate", "--require-checksum-validation", "--force")
    assert code == 1 and f"changed since applied: {IDS[2]}" in err


def test_mark_all_completed_scopes_and_drop(moosicbox: tuple[Path, str]) -> None:
    root, url = moosicbox
    code, _, err = cli(root, url, "mark-all-completed")
    assert code == 1 and "no terminal to confirm at; pass --force" in err
    code, out, err = cli(root, url, "mark-all-completed", "--force", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["marked"] == [IDS[3]]
    code, out, err = cli(root, url, "mark-all-completed", "--drop", "--force", "--format",
                         "json")
    assert code == 0, err
    assert json.loads(out)["marked"] == IDS
    code, out, _ = cli(root, url, "validate", "--strict")
    assert code == 0 and "4 verified, 0 mismatched, 0 unknown" in out


def _one_row_of_each_state(
    tmp_path: Path, db_url: str, checksums: tuple[tuple[str, str], ...] = (("x", "y"),) * 3
) -> Migrator:
    """IDS as migrations under tmp_path/m, the first three recorded failed, in_progress
    and completed with these (up, down) checksums, the fourth pending."""
    root = tmp_path / "m"
    for migration_id in IDS:
        write_migration(root, migration_id, "SELECT 1;\n", "SELECT 1;\n")
    migrator = Migrator(root, db_url)
    with migrator.engine.begin() as conn:
        tracking = TrackingTable()
        tracking.ensure(conn)
        for migration_id, status, (up, down) in zip(
            IDS, ("failed", "in_progress", "completed"), checksums, strict=False
        ):
            tracking.record(conn, migration_id, status, up, down,
                            "boom" if status == "failed" else None)
    return migrator


def test_mark_all_completed_scopes_touch_only_their_rows(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.recovery import mark_all_completed

    migrator = _one_row_of_each_state(tmp_path, db_url)

    def statuses() -> dict[str, str]:
        return {i: r.status for i, r in migrator.state().rows.items()}

    assert mark_all_completed(migrator) == [IDS[3]]
    assert statuses()[IDS[0]] == "failed" and statuses()[IDS[1]] == "in_progress"
    assert mark_all_completed(migrator, "include-failed") == [IDS[0]]
    assert statuses()[IDS[1]] == "in_progress"
    assert mark_all_completed(migrator, "include-in-progress") == [IDS[1]]
    assert set(statuses().values()) == {"completed"}
    assert migrator.state().rows[IDS[2]].up_checksum == "x"
    assert mark_all_completed(migrator, "all") == []  # every row is completed already
    with migrator.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id FROM __switchy_migrations").fetchall()
    assert sorted(r[0] for r in rows) == IDS  # updated in place, never duplicated
    with pytest.raises(Exception, match="unknown scope"):
        mark_all_completed(migrator, "everything")  # type: ignore[arg-type]


def test_mark_all_completed_flags_combine(tmp_path: Path, db_url: str) -> None:
    """switchy-migrate gives --include-failed and --include-in-progress as separate flags: both at
    once turn both kinds of row to completed, and the journal says which scopes ran."""
    from switchy_guard.runtime.audit import AuditJournal

    root = tmp_path / "m"
    migrator = _one_row_of_each_state(tmp_path, db_url)
    result = run_cli("mark-all-completed", "--include-failed", "--include-in-progress",
                     "--force", "--format", "json", "-m", root, "-d", db_url)
    assert result.code == 0, result.err
    assert json.loads(result.out)["marked"] == [IDS[0], IDS[1], IDS[3]]
    assert {r.status for r in migrator.state().rows.values()} == {"completed"}
    with migrator.engine.connect() as conn:
        details = [e.detail for e in AuditJournal(TrackingTable().name).entries(conn)]
    assert "scope=include-failed+include-in-progress drop=False: 3 marked completed" in details


def test_mark_all_completed_all_leaves_completed_rows_alone(
    tmp_path: Path, db_url: str
) -> None:
    """switchy_schema's MarkCompletedScope::All marks pending, failed and in-progress
    migrations and leaves completed rows unchanged (runner.rs); a failed or in-progress
    row is updated in place (update_migration_status), keeping run_on and the checksums it
    ran with. Rewriting completed rows with the current checksums would hide drift that
    switchy-migrate validate still reports."""

    root = tmp_path / "m"
    migrator = _one_row_of_each_state(
        tmp_path, db_url, checksums=(("a" * 64, "b" * 64), ("c" * 64, "d" * 64),
                                     ("e" * 64, "f" * 64)))
    before = migrator.state().rows
    result = run_cli("mark-all-completed", "--all", "--force", "--format", "json",
                     "-m", root, "-d", db_url)
    assert result.code == 0, result.err
    assert json.loads(result.out)["marked"] == [IDS[0], IDS[1], IDS[3]]
    rows = migrator.state().rows
    assert {r.status for r in rows.values()} == {"completed"}
    # The completed row still holds what it ran with: its drift is still reported.
    assert (rows[IDS[2]].up_checksum, rows[IDS[2]].down_checksum) == ("e" * 64, "f" * 64)
    assert rows[IDS[2]].run_on == before[IDS[2]].run_on
    assert [e.id for e in migrator.state().drifted()] == [IDS[0], IDS[1], IDS[2]]
    # Failed and in-progress rows are updated in place, as switchy_schema does.
    assert (rows[IDS[0]].up_checksum, rows[IDS[0]].run_on) == ("a" * 64, before[IDS[0]].run_on)
    assert rows[IDS[0]].failure_reason is None and rows[IDS[0]].finished_on is not None
    assert (rows[IDS[1]].up_checksum, rows[IDS[1]].run_on) == ("c" * 64, before[IDS[1]].run_on)
    assert rows[IDS[1]].finished_on is not None
    with migrator.engine.connect() as conn:
        ids = conn.exec_driver_sql("SELECT id FROM __switchy_migrations").fetchall()
    assert sorted(r[0] for r in ids) == IDS


def test_a_half_upgraded_table_is_completed(tmp_path: Path, db_url: str, db_kind: str) -> None:
    """switchy_schema's ensure_table_exists (version.rs upgrade_existing_table) adds every
    newer column an existing table lacks, also when it already has ``id``: an upgrade
    interrupted after the rename (MySQL commits each ALTER on its own) is finished on the
    next run. switchy-guard only upgraded tables that still had ``name``."""
    from switchy_guard.runtime.runner import Migrator

    root = tmp_path / "m"
    for migration_id in IDS[:2]:
        write_migration(root, migration_id, "SELECT 1;\n", "SELECT 1;\n")
    migrator = Migrator(root, db_url)
    datetime_type = {"sqlite": "TEXT", "postgres": "TIMESTAMP WITH TIME ZONE",
                     "mysql": "DATETIME"}[db_kind]
    status = "TEXT NOT NULL DEFAULT ('completed')" if db_kind == "mysql" \
        else "TEXT NOT NULL DEFAULT 'completed'"
    with migrator.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE __switchy_migrations (id TEXT NOT NULL, "
                             f"run_on {datetime_type} NOT NULL, status {status})")
        conn.exec_driver_sql("INSERT INTO __switchy_migrations (id, run_on) "
                             f"VALUES ('{IDS[0]}', '2023-05-01 10:00:00')")
    assert migrator.migrate().done == [IDS[1]]
    rows = migrator.state().rows
    assert rows[IDS[0]].status == "completed"
    assert rows[IDS[0]].up_checksum == rows[IDS[0]].down_checksum == "0" * 64
    with migrator.engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("__switchy_migrations")]
    assert set(columns) == {"id", "run_on", "finished_on", "up_checksum", "down_checksum",
                            "status", "failure_reason"}


def test_a_legacy_table_gets_the_column_types_switchy_schema_adds(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """The legacy upgrade adds ``status`` as TEXT (version.rs: DataType::Text), as in a
    table switchy_schema creates (status TEXT NOT NULL), not VARCHAR(32)."""
    from switchy_guard.runtime.runner import Migrator

    root = tmp_path / "m"
    write_migration(root, IDS[0], "SELECT 1;\n", "SELECT 1;\n")
    migrator = Migrator(root, db_url)
    datetime_type = {"sqlite": "TEXT", "postgres": "TIMESTAMP", "mysql": "DATETIME"}[db_kind]
    with migrator.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE __switchy_migrations (name TEXT NOT NULL, "
                             f"run_on {datetime_type} NOT NULL)")
        conn.exec_driver_sql("INSERT INTO __switchy_migrations (name, run_on) "
                             f"VALUES ('{IDS[0]}', '2023-05-01 10:00:00')")
    assert migrator.migrate().done == []
    with migrator.engine.connect() as conn:
        types = {c["name"]: str(c["type"]).upper()
                 for c in inspect(conn).get_columns("__switchy_migrations")}
    assert types["status"] == "TEXT"
    assert migrator.state().rows[IDS[0]].status == "completed"


def test_an_incompatible_tracking_table_is_refused(tmp_path: Path, db_url: str) -> None:
    """A table with neither ``id`` nor ``name``, or without ``run_on``, is refused as
    switchy_schema refuses it (version.rs: 'has an incompatible schema'), one line and
    exit 2, before anything runs."""
    root = tmp_path / "m"
    write_migration(root, IDS[0], "CREATE TABLE t1 (id INTEGER);\n", "DROP TABLE t1;\n")
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE __switchy_migrations (version TEXT NOT NULL)")
    result = run_cli("migrate", "-m", root, "-d", db_url)
    assert result.code == 2, (result.out, result.err)
    assert "incompatible schema" in result.err and "Traceback" not in result.err
    with engine.connect() as conn:
        assert "t1" not in inspect(conn).get_table_names()
    engine.dispose()


def test_the_command_line_reads_and_upgrades_a_legacy_table(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A database whose tracking table still has the legacy name/run_on form (the one
    moosicbox_schema wrote before switchy_schema) is read by status as the upgrade will
    leave it, without changing it, and migrate upgrades it in place (version.rs
    ensure_table_exists). The command line read the state before the upgrade and stopped
    with 'no such column: id', exit 3."""
    root = tmp_path / "m"
    write_migration(root, IDS[0], "CREATE TABLE t1 (id INTEGER);\n", "DROP TABLE t1;\n")
    write_migration(root, IDS[1], "CREATE TABLE t2 (id INTEGER);\n", "DROP TABLE t2;\n")
    datetime_type = {"sqlite": "TEXT", "postgres": "TIMESTAMP", "mysql": "DATETIME"}[db_kind]
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (name TEXT NOT NULL, "
                             f"run_on {datetime_type} NOT NULL)")
        conn.exec_driver_sql(f"INSERT INTO {TABLE} (name, run_on) "
                             f"VALUES ('{IDS[0]}', '2023-05-01 10:00:00')")
        conn.exec_driver_sql("CREATE TABLE t1 (id INTEGER)")
    code, out, err = cli(root, db_url, "status", "--format", "json")
    assert code == 0, err
    by_id = {m["id"]: m for m in json.loads(out)["migrations"]}
    assert by_id[IDS[0]]["state"] == "completed" and by_id[IDS[0]]["unknown_checksum"]
    assert by_id[IDS[1]]["state"] == "pending"
    with engine.connect() as conn:  # read-only: still the legacy form
        assert {c["name"] for c in inspect(conn).get_columns(TABLE)} == {"name", "run_on"}
    code, out, err = cli(root, db_url, "migrate")
    assert code == 0, err
    with engine.connect() as conn:
        rows = dict(conn.execute(text(f"SELECT id, status FROM {TABLE}")).fetchall())
    assert rows == {IDS[0]: "completed", IDS[1]: "completed"}
    code, out, err = cli(root, db_url, "validate", "--strict")
    assert code == 0 and "1 verified, 0 mismatched, 1 unknown" in out, (out, err)
    engine.dispose()


def test_adopt_checksums_upgrades_a_legacy_table_first(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """adopt-checksums writes checksum columns, so on a legacy name/run_on table it
    upgrades it first (as every writing verb does) instead of failing on the UPDATE."""
    root = tmp_path / "m"
    write_migration(root, IDS[0], "CREATE TABLE t1 (id INTEGER);\n", "DROP TABLE t1;\n")
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        datetime_type = {"sqlite": "TEXT", "postgres": "TIMESTAMP", "mysql": "DATETIME"}[db_kind]
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (name TEXT NOT NULL, "
                             f"run_on {datetime_type} NOT NULL)")
        conn.exec_driver_sql(f"INSERT INTO {TABLE} (name, run_on) "
                             f"VALUES ('{IDS[0]}', '2023-05-01 10:00:00')")
    code, out, err = cli(root, db_url, "adopt-checksums", "--force")
    assert code == 0, err
    assert "adopted the current checksums of 1 migration(s)" in out
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT up_checksum, status FROM {TABLE}")).one()
    engine.dispose()
    assert tuple(row) == (exec_raw("CREATE TABLE t1 (id INTEGER);\n"), "completed")
