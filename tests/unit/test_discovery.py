"""Directory, embedded and code sources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from switchy_guard.discovery import (
    CodeMigrations,
    DirectoryMigrations,
    EmbeddedMigrations,
    as_source,
    load_migrations,
)
from switchy_guard.errors import ConfigError, InputError
from switchy_guard.model.checksum import EMPTY_CHECKSUM, exec_raw_checksum, file_checksum


def write(root: Path, relative: str, data: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_reads_folders_files_and_checksums(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INT);\n")
    write(tmp_path, "2024-01-01-000000_a/down.sql", "DROP TABLE a;\n")
    write(tmp_path, "2024-01-02-000000_b/up.sql", "")
    write(tmp_path, "README.md", "not a migration")
    migrations = load_migrations(tmp_path, None)
    assert [m.id for m in migrations] == ["2024-01-01-000000_a", "2024-01-02-000000_b"]
    a, b = migrations
    assert a.up_checksum == file_checksum(b"CREATE TABLE a (id INT);\n")
    assert a.down == "DROP TABLE a;\n" and a.reversible
    assert a.description == "a"
    assert b.up == "" and b.down is None and not b.reversible
    assert b.down_checksum == EMPTY_CHECKSUM
    assert a.up_path == f"{tmp_path}/2024-01-01-000000_a/up.sql"


def test_missing_up_sql_is_a_noop_hashed_as_empty(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_only_down/down.sql", "SELECT 1;")
    (migration,) = load_migrations(tmp_path, None)
    assert migration.up == "" and migration.up_checksum == EMPTY_CHECKSUM
    assert migration.up_path is None


def test_empty_folder_named_like_a_migration_is_a_noop(tmp_path: Path) -> None:
    (tmp_path / "2024-01-01-000000_placeholder").mkdir()
    (migration,) = load_migrations(tmp_path, None)
    assert migration.up == ""


def test_metadata_is_applied(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_a/up.sql", "SELECT 1;")
    write(
        tmp_path,
        "2024-01-01-000000_a/metadata.toml",
        'description = "first"\ntransactional = false\ndialects = ["postgres"]\n',
    )
    (migration,) = DirectoryMigrations(tmp_path).load()
    assert migration.description == "first"
    assert migration.transactional is False
    assert load_migrations(tmp_path, "sqlite") == []
    assert [m.id for m in load_migrations(tmp_path, "postgres")] == ["2024-01-01-000000_a"]


def test_per_database_trees(tmp_path: Path) -> None:
    write(tmp_path, "sqlite/2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INTEGER);")
    write(tmp_path, "postgres/2024-01-01-000000_a/up.sql", "CREATE TABLE a (id SERIAL);")
    write(tmp_path, "postgres/2024-01-02-000000_b/up.sql", "SELECT 1;")
    assert [m.up for m in load_migrations(tmp_path, "sqlite")] == ["CREATE TABLE a (id INTEGER);"]
    assert len(load_migrations(tmp_path, "postgres")) == 2
    with pytest.raises(InputError, match="no 'mysql' folder"):
        load_migrations(tmp_path, "mysql")
    with pytest.raises(ConfigError, match="give --dialect"):
        load_migrations(tmp_path, None)


@pytest.mark.parametrize("stray", ["postgress/2024-01-01-000000_a", "2024-01-02-000000_top"])
def test_a_folder_beside_the_database_folders_is_an_error_naming_it(
        tmp_path: Path, stray: str) -> None:
    # A typo'd database folder or a migration left at the top was silently skipped.
    write(tmp_path, "sqlite/2024-01-01-000000_a/up.sql", "SELECT 1;")
    write(tmp_path, f"{stray}/up.sql", "SELECT 1;")
    write(tmp_path, "README.md", "files beside the database folders are fine")
    for dialect in ("sqlite", None):
        with pytest.raises(InputError) as info:
            load_migrations(tmp_path, dialect)
        name = stray.split("/")[0]
        assert info.value.one_line().startswith(
            f"{tmp_path}/{name}: neither a database folder (sqlite, sqlite3, postgres,")


@pytest.mark.parametrize(("folder", "dialect"), [
    ("postgresql", "postgres"), ("mariadb", "mysql"), ("sqlite3", "sqlite")])
def test_other_tools_names_for_database_folders_are_read(
        tmp_path: Path, folder: str, dialect: str) -> None:
    """Diesel projects (Vaultwarden) keep postgresql/, MariaDB ones mariadb/ (issue 15)."""
    write(tmp_path, f"{folder}/2024-01-01-000000_a/up.sql", "SELECT 1;")
    write(tmp_path, "sqlite/2024-01-01-000000_b/up.sql" if dialect != "sqlite"
          else "mysql/2024-01-01-000000_b/up.sql", "SELECT 2;")
    (migration,) = load_migrations(tmp_path, dialect)
    assert migration.id == "2024-01-01-000000_a"
    assert migration.up_path == f"{tmp_path}/{folder}/2024-01-01-000000_a/up.sql"


def test_two_folders_for_one_database_are_refused_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "postgres/2024-01-01-000000_a/up.sql", "SELECT 1;")
    write(tmp_path, "postgresql/2024-01-01-000000_b/up.sql", "SELECT 1;")
    write(tmp_path, "sqlite/2024-01-01-000000_c/up.sql", "SELECT 1;")
    for dialect in ("postgres", "sqlite", None):
        with pytest.raises(InputError) as info:
            load_migrations(tmp_path, dialect)
        assert info.value.one_line() == (
            f"{tmp_path}: postgres/ and postgresql/ both hold postgres migrations: keep one")


def test_unknown_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_a/up.sql", "SELECT 1;")
    (tmp_path / "oracle").mkdir()
    with pytest.raises(InputError) as info:
        load_migrations(tmp_path, None)
    assert info.value.one_line().startswith(f"{tmp_path}/oracle: neither a migration folder")


def test_unexpected_sql_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_a/upp.sql", "SELECT 1;")
    with pytest.raises(InputError, match=r"upp\.sql: unexpected file"):
        load_migrations(tmp_path, None)


def test_python_file_in_a_migration_folder_is_an_error_not_an_empty_migration(
    tmp_path: Path,
) -> None:
    # up.py does not run (code migrations are registered with CodeMigrations): read as
    # an empty migration it would be recorded as applied having done nothing.
    write(tmp_path, "2024-01-01-000000_a/up.py", "def up(conn): ...\n")
    with pytest.raises(InputError, match=r"2024-01-01-000000_a/up\.py: unexpected file"):
        load_migrations(tmp_path, None)
    # A package marker is not a migration file.
    (tmp_path / "2024-01-01-000000_a" / "up.py").unlink()
    write(tmp_path, "2024-01-01-000000_a/__init__.py", "")
    write(tmp_path, "2024-01-01-000000_a/up.sql", "SELECT 1;")
    write(tmp_path, "__init__.py", "")
    assert [m.id for m in load_migrations(tmp_path, None)] == ["2024-01-01-000000_a"]


def test_undecodable_sql_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01-000000_a/up.sql", b"SELECT '\xff\xfe';")
    with pytest.raises(InputError) as info:
        load_migrations(tmp_path, None)
    assert info.value.one_line().startswith(
        f"{tmp_path}/2024-01-01-000000_a/up.sql: not valid UTF-8"
    )


def test_bom_is_stripped_from_text_but_hashed(tmp_path: Path) -> None:
    data = "\ufeffSELECT 1;".encode()
    write(tmp_path, "2024-01-01-000000_a/up.sql", data)
    (migration,) = load_migrations(tmp_path, None)
    assert migration.up == "SELECT 1;"
    assert migration.up_checksum == file_checksum(data)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="migrations directory does not exist"):
        load_migrations(tmp_path / "nope", None)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a directory"):
        load_migrations(tmp_path / "file", None)


def test_symlink_leaving_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "up.sql", "DROP TABLE users;")
    root = tmp_path / "migrations"
    root.mkdir()
    os.symlink(outside, root / "2024-01-01-000000_evil")
    with pytest.raises(InputError, match="symlink leaves the migrations root"):
        load_migrations(root, None)


def test_symlink_file_leaving_the_root_is_refused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.sql", "SELECT 1;")
    root = tmp_path / "migrations"
    (root / "2024-01-01-000000_a").mkdir(parents=True)
    os.symlink(secret, root / "2024-01-01-000000_a" / "up.sql")
    with pytest.raises(InputError, match=r"up\.sql: symlink leaves"):
        load_migrations(root, None)


def test_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write(root, "2024-01-01-000000_a/up.sql", "SELECT 1;")
    os.symlink(root / "2024-01-01-000000_a" / "up.sql", root / "shared.sql")
    write(root, "2024-01-02-000000_b/metadata.toml", "")
    os.symlink(root / "2024-01-01-000000_a" / "up.sql", root / "2024-01-02-000000_b" / "up.sql")
    assert [m.up for m in load_migrations(root, None)] == ["SELECT 1;", "SELECT 1;"]


def test_embedded_source_reads_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "demo_app_pkg"
    write(package, "__init__.py", "")
    write(package, "migrations/sqlite/2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INT);")
    write(package, "migrations/postgres/2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INT);")
    monkeypatch.syspath_prepend(str(tmp_path))
    source = as_source("demo_app_pkg:migrations")
    assert isinstance(source, EmbeddedMigrations)
    (migration,) = load_migrations(source, "sqlite")
    assert migration.source == "demo_app_pkg:migrations/sqlite/2024-01-01-000000_a"
    assert migration.up_checksum == file_checksum(b"CREATE TABLE a (id INT);")
    sys.modules.pop("demo_app_pkg", None)


def test_embedded_errors() -> None:
    with pytest.raises(InputError, match="package is not installed"):
        EmbeddedMigrations("no_such_package_here").load("sqlite")
    with pytest.raises(InputError, match="migrations folder not found"):
        EmbeddedMigrations("switchy_guard", "no_such_dir").load("sqlite")


def test_embedded_package_that_cannot_be_imported_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "broken_init_pkg/__init__.py", "raise RuntimeError('boom')\n")
    write(tmp_path, "missing_dep_pkg/__init__.py", "import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError, match="broken_init_pkg: cannot import the package: "
                                         "RuntimeError: boom"):
        EmbeddedMigrations("broken_init_pkg").load("sqlite")
    # Not "package is not installed": the package is there, its dependency is not.
    with pytest.raises(InputError, match="missing_dep_pkg: cannot import the package: "
                                         "No module named 'no_such_dependency_xyz'"):
        EmbeddedMigrations("missing_dep_pkg").load("sqlite")
    with pytest.raises(InputError, match=r"json\.decoder: is a module, not a package"):
        as_source("json.decoder:migrations").load("sqlite")
    with pytest.raises(InputError, match="package is not installed"):
        EmbeddedMigrations("switchy_guard.no_such_sub").load("sqlite")
    for name in ("broken_init_pkg", "missing_dep_pkg"):
        sys.modules.pop(name, None)


def test_code_source_decorator_and_raw_sql() -> None:
    registry = CodeMigrations()

    @registry.migration("2024-01-02-000000_py", depends_on=["2024-01-01-000000_sql"])
    def create(conn: object) -> None:
        """create things"""

    registry.add_sql("2024-01-01-000000_sql", "PRAGMA journal_mode = WAL;\n", "SELECT 1;")
    migrations = load_migrations(registry, "sqlite")
    assert [m.id for m in migrations] == ["2024-01-01-000000_sql", "2024-01-02-000000_py"]
    raw, python = migrations
    assert raw.up_checksum == "03ae03f6181900a4b515a4f92437ecc1cd465fa110c08035b77e0bd77ceed610"
    assert raw.down_checksum == exec_raw_checksum("SELECT 1;")
    assert python.up is create and python.description == "create things"
    assert not python.reversible


def test_code_source_errors() -> None:
    registry = CodeMigrations()
    with pytest.raises(InputError, match="must not be empty"):
        registry.add_sql("  ", "SELECT 1")
    with pytest.raises(InputError, match="must be callables"):
        registry.add("2024-01-01-000000_a", "SELECT 1")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown dialect 'db2'"):
        registry.add_sql("2024-01-01-000000_a", "SELECT 1", dialects=["db2"])
    registry.add_sql("2024-01-01-000000_a", "SELECT 1", dialects=["postgres"])
    assert load_migrations(registry, "sqlite") == []
    # An explicit checksum must fit the tracking table's VARCHAR(64), as a SHA-256.
    for bad in ("v1", "g" * 64, "a" * 65):
        with pytest.raises(InputError, match="checksum must be a SHA-256"):
            registry.add("2024-01-02-000000_b", lambda conn: None, checksum=bad)
    given = registry.add("2024-01-02-000000_b", lambda conn: None, checksum="AB" * 32)
    assert given.up_checksum == "ab" * 32


def test_code_migration_may_depend_on_another_databases_migration() -> None:
    # As in a folder: a dependency on a migration for another database is satisfied
    # by its absence, not "unknown".
    registry = CodeMigrations()
    registry.add_sql("2024-01-01-000000_ext", "CREATE EXTENSION citext;", dialects=["postgres"])
    registry.add_sql("2024-01-02-000000_t", "CREATE TABLE t (id INTEGER);",
                     depends_on=["2024-01-01-000000_ext"])
    assert [m.id for m in load_migrations(registry, "sqlite")] == ["2024-01-02-000000_t"]
    assert [m.id for m in load_migrations(registry, "postgres")] == [
        "2024-01-01-000000_ext", "2024-01-02-000000_t"]
