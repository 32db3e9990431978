"""Layouts of other tools: parsing, ordering, sections and markers, detection, and the
refusals that keep a history from passing on nothing (issue 17 parts 1-3)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from switchy_guard.discovery import DirectoryMigrations, load_migrations
from switchy_guard.errors import InputError
from tests.cli_helpers import run_cli, write_migration
from tests.layout_fixtures import DETECTED, HISTORIES, ORDER, write_history


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _load(root: Path, layout: str = "auto", dialect: str | None = "sqlite"):
    source = DirectoryMigrations(root, layout=layout)
    return load_migrations(source, dialect), source


@pytest.mark.parametrize("layout", sorted(HISTORIES))
def test_each_fixture_is_read_in_the_tools_order(layout: str, tmp_path: Path) -> None:
    migrations, source = _load(write_history(tmp_path, layout), layout)
    assert [m.id for m in migrations] == ORDER[layout]
    assert source.detected_layout == layout


@pytest.mark.parametrize("layout", sorted(HISTORIES))
def test_auto_detection(layout: str, tmp_path: Path) -> None:
    _, source = _load(write_history(tmp_path, layout))
    assert source.detected_layout == DETECTED[layout]


def test_golang_migrate_the_false_green_of_the_issue_is_now_an_error(tmp_path: Path) -> None:
    """`000001_drop.up.sql` holding DROP TABLE used to be 0 migrations, exit 0."""
    _write(tmp_path, {"000001_drop.up.sql": "DROP TABLE users;\n"})
    result = run_cli("check", "-m", tmp_path, "--dialect", "postgres", "--no-cache")
    assert result.code == 1
    assert "SG301" in result.out and f"{tmp_path}/000001_drop.up.sql:1:1" in result.out
    assert "SG101" not in result.out  # the golang-migrate id pattern, not switchy's


def test_golang_migrate_numeric_order_pairs_and_checksums(tmp_path: Path) -> None:
    _write(tmp_path, {"10_c.up.sql": "SELECT 10;\n", "2_b.up.sql": "SELECT 2;\n",
                      "2_b.down.sql": "SELECT -2;\n", "001_a.up.sql": "SELECT 1;\n"})
    migrations, _ = _load(tmp_path)
    assert [m.id for m in migrations] == ["001", "2", "10"]
    by_id = {m.id: m for m in migrations}
    assert by_id["2"].down == "SELECT -2;\n" and by_id["10"].down is None
    assert by_id["10"].up_checksum == hashlib.sha256(b"SELECT 10;\n").hexdigest()
    assert by_id["2"].up_path == f"{tmp_path}/2_b.up.sql"


def test_same_version_twice_is_a_finding_and_a_refused_run(tmp_path: Path) -> None:
    _write(tmp_path, {"1_a.up.sql": "SELECT 1;\n", "01_b.up.sql": "SELECT 2;\n"})
    result = run_cli("check", "-m", tmp_path, "--dialect", "sqlite", "--no-cache")
    assert result.code == 1 and "SG004" in result.out and "same version" in result.out
    with pytest.raises(InputError, match="same version"):
        _load(tmp_path)


def test_dbmate_string_order_ambiguity_is_a_finding(tmp_path: Path) -> None:
    section = "-- migrate:up\nSELECT 1;\n-- migrate:down\n"
    _write(tmp_path, {"2_a.sql": section, "10_b.sql": section})
    result = run_cli("check", "-m", tmp_path, "--dialect", "sqlite", "--no-cache")
    assert "SG101" in result.out and "sorts versions as text" in result.out


def test_flyway_versions_undo_repeatable_and_refusals(tmp_path: Path) -> None:
    _write(tmp_path, {"V1__a.sql": "SELECT 1;\n", "V1.10__c.sql": "SELECT 3;\n",
                      "V1_9__b.sql": "SELECT 2;\n", "U1.10__c.sql": "SELECT -3;\n",
                      "R__z.sql": "SELECT 'z';\n", "R__a.sql": "SELECT 'a';\n"})
    migrations, _ = _load(tmp_path)
    assert [m.id for m in migrations] == ["1", "1.9", "1.10", "R__a", "R__z"]
    assert migrations[2].down == "SELECT -3;\n" and migrations[2].down_path.endswith("U1.10__c.sql")
    assert migrations[3].repeatable and not migrations[0].repeatable
    (tmp_path / "V1.0__dup.sql").write_text("SELECT 0;\n")
    with pytest.raises(InputError, match="same version"):  # 1.0 is 1 to Flyway
        _load(tmp_path)
    (tmp_path / "V1.0__dup.sql").unlink()
    for name, why in (("B2__base.sql", "baseline"), ("beforeMigrate.sql", "callback"),
                      ("V3_x.sql", "not a Flyway migration name")):
        (tmp_path / name).write_text("SELECT 1;\n")
        with pytest.raises(InputError, match=why) as error:
            _load(tmp_path, "flyway")
        assert name in str(error.value)
        (tmp_path / name).unlink()
    (tmp_path / "V4__p.sql").write_text("SELECT 1;\nSELECT '${schema}';\n")
    with pytest.raises(InputError, match=r"V4__p.sql:2: Flyway placeholder"):
        _load(tmp_path)


def test_flyway_conf_turns_the_transaction_off(tmp_path: Path) -> None:
    _write(tmp_path, {"V1__a.sql": "SELECT 1;\n",
                      "V1__a.sql.conf": "executeInTransaction=false\n"})
    migrations, _ = _load(tmp_path)
    assert migrations[0].transactional is False


def test_dbmate_sections_keep_file_lines_and_hash_the_up_section(tmp_path: Path) -> None:
    text = ("-- header\n-- migrate:up transaction:false\nSELECT 1;\nDROP TABLE t;\n\n"
            "-- migrate:down\nCREATE TABLE t (id int);\n")
    _write(tmp_path, {"20240101000000_x.sql": text})
    (migration,), _ = _load(tmp_path)
    assert migration.transactional is False
    assert migration.up_checksum == hashlib.sha256(
        b"-- migrate:up transaction:false\nSELECT 1;\nDROP TABLE t;\n\n").hexdigest()
    assert "CREATE" not in migration.up and "DROP" not in migration.down
    result = run_cli("check", "-m", tmp_path, "--dialect", "sqlite", "--no-cache")
    assert f"{tmp_path}/20240101000000_x.sql:4:1" in result.out  # the real line


@pytest.mark.parametrize(("text", "problem"), [
    ("SELECT 1;\n-- migrate:up\n-- migrate:down\n", ":1: a statement before"),
    ("-- migrate:up\nSELECT 1;\n", "no '-- migrate:down'"),
    ("-- migrate:down\n-- migrate:up\n", "comes before"),
])
def test_dbmate_refusals_name_the_file(text: str, problem: str, tmp_path: Path) -> None:
    _write(tmp_path, {"1_x.sql": text})
    with pytest.raises(InputError, match=problem):
        _load(tmp_path, "dbmate")


def test_goose_blocks_markers_and_lines(tmp_path: Path) -> None:
    text = ("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
            "CREATE TABLE a (id int)\n-- +goose StatementEnd\nDROP TABLE b;\n"
            "-- +goose Down\nCREATE TABLE b (id int);\n")
    _write(tmp_path, {"00005_x.sql": text})
    (migration,), _ = _load(tmp_path)
    assert migration.id == "00005" and migration.transactional is False
    from switchy_guard.sql.split import split_statements

    statements = split_statements(migration.up, "sqlite")
    assert [(s.text, s.line) for s in statements] == [("CREATE TABLE a (id int)", 4),
                                                      ("DROP TABLE b", 6)]
    assert migration.up_checksum == hashlib.sha256(
        text.split("-- +goose Down")[0].split("-- +goose NO TRANSACTION\n")[1].encode()
    ).hexdigest()
    assert [s.line for s in split_statements(migration.down, "sqlite")] == [8]


@pytest.mark.parametrize(("text", "problem"), [
    ("SELECT 1;\n", "SQL before"),
    ("-- only a comment\n", "no '-- \\+goose Up'"),
    ("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", "never ended"),
    ("-- +goose Up\nSELECT 1\n-- +goose Down\n", ":2: statement not ended"),
    ("-- +goose ENVSUBST ON\n-- +goose Up\nSELECT '${X}';\n", "environment variables"),
    ("-- +goose up\nSELECT 1;\n", "unknown goose annotation"),
])
def test_goose_refusals(text: str, problem: str, tmp_path: Path) -> None:
    _write(tmp_path, {"1_x.sql": text})
    with pytest.raises(InputError, match=problem):
        _load(tmp_path, "goose")


def test_goose_go_migrations_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"1_x.sql": "-- +goose Up\nSELECT 1;\n", "2_y.go": "package m\n"})
    with pytest.raises(InputError, match="goose Go migration"):
        _load(tmp_path)


def test_sqlx_simple_files_and_no_transaction(tmp_path: Path) -> None:
    _write(tmp_path, {"2_b.sql": "-- no-transaction\nSELECT 2;\n", "1_a.sql": "SELECT 1;\n"})
    migrations, source = _load(tmp_path)
    assert source.detected_layout == "sqlx"
    assert [m.id for m in migrations] == ["1", "2"]
    assert migrations[0].down is None and migrations[1].transactional is False


def test_a_mixed_folder_is_exit_2_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, {"V1__a.sql": "SELECT 1;\n", "1_b.up.sql": "SELECT 1;\n"})
    result = run_cli("check", "-m", tmp_path, "--dialect", "sqlite")
    assert result.code == 2
    assert "V1__a.sql is flyway" in result.err and "1_b.up.sql is golang-migrate" in result.err
    write_migration(tmp_path / "other", "2024-01-01-000000_a")
    _write(tmp_path / "other", {"1_b.up.sql": "SELECT 1;\n"})
    mixed = run_cli("check", "-m", tmp_path / "other", "--dialect", "sqlite")
    assert mixed.code == 2 and "switchy" in mixed.err


def test_sql_files_that_yield_nothing_are_exit_2(tmp_path: Path) -> None:
    _write(tmp_path, {"drop.sql": "DROP TABLE users;\n"})
    result = run_cli("check", "-m", tmp_path, "--dialect", "sqlite")
    assert result.code == 2
    assert "drop.sql" in result.err and "golang-migrate" in result.err
    bad = _write(tmp_path / "bad", {"1_a.up.sql": "SELECT 1;\n", "1_b.sq.sql": "DROP TABLE x;\n"})
    result = run_cli("check", "-m", bad, "--dialect", "sqlite", "--layout", "golang-migrate")
    assert result.code == 2 and "1_b.sq.sql" in result.err


def test_an_empty_folder_is_exit_2_unless_allowed(tmp_path: Path) -> None:
    empty = tmp_path / "migrations"
    empty.mkdir()
    result = run_cli("check", "-m", empty, "--dialect", "sqlite")
    assert result.code == 2 and "empty" in result.err
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli("migrate", "-m", empty, "-d", db).code == 2
    allowed = run_cli("check", "-m", empty, "--dialect", "sqlite", "--allow-empty")
    assert allowed.code == 0, allowed.err
    assert run_cli("migrate", "-m", empty, "-d", db, "--allow-empty").code == 0


def test_layout_from_environment_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    root = _write(tmp_path / "m", {"1_a.up.sql": "SELECT 1;\n"})
    monkeypatch.setenv("SWITCHY_LAYOUT", "sqlx")
    result = run_cli("list", "-m", root, "-d", f"sqlite:///{tmp_path / 'a.db'}",
                     "--format", "json")
    assert json.loads(result.out)["layout"] == "sqlx"
    monkeypatch.setenv("SWITCHY_LAYOUT", "liquibase")
    assert run_cli("list", "-m", root, "-d", f"sqlite:///{tmp_path / 'a.db'}").code == 2
    monkeypatch.delenv("SWITCHY_LAYOUT")
    (tmp_path / "switchy-guard.toml").write_text('layout = "goose"\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "-m", root, "--dialect", "sqlite")
    assert result.code == 2 and "goose" in result.err


@pytest.mark.parametrize(("layout", "files", "made"), [
    ("golang-migrate", {"0009_a.up.sql": "SELECT 1;\n"},
     ["0010_add_x.down.sql", "0010_add_x.up.sql"]),
    ("flyway", {"V3.2__a.sql": "SELECT 1;\n"}, ["V4__add_x.sql"]),
    ("goose", {"7_a.sql": "-- +goose Up\nSELECT 1;\n"}, ["8_add_x.sql"]),
])
def test_create_follows_the_history(layout: str, files: dict[str, str], made: list[str],
                                    tmp_path: Path) -> None:
    _write(tmp_path, files)
    result = run_cli("create", "add x", "-m", tmp_path)
    assert result.code == 0, result.err
    assert sorted(set(p.name for p in tmp_path.iterdir()) - set(files)) == made
    migrations, source = _load(tmp_path)
    assert source.detected_layout == layout and len(migrations) == 2


def test_create_dbmate_uses_a_timestamp(tmp_path: Path) -> None:
    _write(tmp_path, {"20200101000000_a.sql": "-- migrate:up\n-- migrate:down\n"})
    assert run_cli("create", "b", "-m", tmp_path).code == 0
    new = sorted(tmp_path.iterdir())[-1].name
    assert len(new.split("_")[0]) == 14 and new > "20200101000000_a.sql"


def test_switchy_folders_are_read_as_before(tmp_path: Path) -> None:
    write_migration(tmp_path, "2024-01-01-000000_a", down="SELECT 0;\n")
    (tmp_path / "shared.sql").write_text("SELECT 1;\n")  # beside the folders: as ever
    migrations, source = _load(tmp_path)
    assert [m.id for m in migrations] == ["2024-01-01-000000_a"]
    assert source.detected_layout == "switchy" and migrations[0].order_key is None


def test_check_files_in_the_order_given_and_stdin(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = _write(tmp_path, {"a.sql": "CREATE TABLE t (id int);\n"}) / "a.sql"
    second = _write(tmp_path, {"b.sql": "ALTER TABLE t DROP COLUMN id;\n"}) / "b.sql"
    result = run_cli("check", first, second, "--dialect", "postgres", "--format", "json")
    data = json.loads(result.out)
    assert result.code == 1 and [f["code"] for f in data["findings"]] == ["SG302"]
    assert data["findings"][0]["file"] == str(second)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"SELECT 1;\nDROP TABLE u;\n")))
    piped = run_cli("check", "-", "--stdin-filename", "orm.sql", "--dialect", "mysql")
    assert piped.code == 1 and "orm.sql:2:1" in piped.out
    assert run_cli("check", first).code == 2  # no dialect
    missing = run_cli("check", tmp_path / "nope.sql", "--dialect", "sqlite")
    assert missing.code == 2 and "nope.sql" in missing.err
