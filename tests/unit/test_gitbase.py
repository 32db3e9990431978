"""Reading migrations as they are in a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from switchy_guard.discovery.git import migrations_at_revision
from switchy_guard.errors import ConfigError
from switchy_guard.model.checksum import file_checksum
from tests.cli_helpers import write_migration


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    write_migration(
        tmp_path / "db" / "migrations", "2024-01-01-000000_a", "CREATE TABLE a (id INT);\n"
    )
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_reads_the_base_revision_not_the_working_tree(repo: Path) -> None:
    root = repo / "db" / "migrations"
    (root / "2024-01-01-000000_a" / "up.sql").write_text("CREATE TABLE a (id BIGINT);\n")
    write_migration(root, "2024-01-02-000000_b")
    (base,) = migrations_at_revision(root, "HEAD", None)
    assert base.id == "2024-01-01-000000_a"
    assert base.up_checksum == file_checksum(b"CREATE TABLE a (id INT);\n")


def test_folder_absent_in_the_revision_means_no_migrations(repo: Path) -> None:
    other = repo / "other"
    write_migration(other, "2024-01-01-000000_x")
    assert migrations_at_revision(other, "HEAD", None) == []


def test_unknown_revision_and_no_repository(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with pytest.raises(ConfigError, match="unknown git revision 'nope'"):
        migrations_at_revision(repo / "db" / "migrations", "nope", None)
    outside = tmp_path_factory.mktemp("plain")
    with pytest.raises(ConfigError, match="not inside a git repository"):
        migrations_at_revision(outside, "HEAD", None)
    with pytest.raises(ConfigError, match="does not exist"):
        migrations_at_revision(outside / "missing", "HEAD", None)


def test_export_ignored_migrations_are_read(repo: Path) -> None:
    # git archive leaves export-ignore paths out (an empty tar when all are): the base
    # must still hold them, or an edited migration passes as new.
    (repo / ".gitattributes").write_text("/db/migrations/** export-ignore\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "attributes")
    (base,) = migrations_at_revision(repo / "db" / "migrations", "HEAD", None)
    assert base.up_checksum == file_checksum(b"CREATE TABLE a (id INT);\n")


def test_a_folder_moved_since_is_read_from_where_it_was(repo: Path) -> None:
    (repo / "app").mkdir()
    git(repo, "mv", "db/migrations", "app/migrations")
    git(repo, "commit", "-q", "-m", "moved")
    (base,) = migrations_at_revision(repo / "app" / "migrations", "HEAD~1", None)
    assert base.id == "2024-01-01-000000_a"
    assert base.up_checksum == file_checksum(b"CREATE TABLE a (id INT);\n")
