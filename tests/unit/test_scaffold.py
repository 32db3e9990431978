"""create: new migration folders, always sorting after the existing ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from switchy_guard.scaffold import create_migration

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_the_folder_is_stamped_with_now(tmp_path: Path) -> None:
    folder = create_migration(tmp_path, "Add users", dialect=None, now=NOW)
    assert folder.name == "2024-05-01-120000_add_users"
    assert (folder / "up.sql").is_file() and (folder / "down.sql").is_file()


def test_two_creates_in_one_second_get_ordered_timestamps(tmp_path: Path) -> None:
    # Both got 2024-05-01-120000: SG103 shared-timestamp, and "add_posts" sorted before
    # "create_users" although it was created after it.
    first = create_migration(tmp_path, "create users", dialect=None, now=NOW)
    second = create_migration(tmp_path, "add posts", dialect=None, now=NOW)
    assert second.name == "2024-05-01-120001_add_posts"
    assert sorted([second.name, first.name]) == [first.name, second.name]


def test_a_newer_existing_migration_is_not_overtaken(tmp_path: Path) -> None:
    (tmp_path / "2024-04-30-000000_older").mkdir()
    assert create_migration(tmp_path, "x", dialect=None, now=NOW).name == "2024-05-01-120000_x"
    (tmp_path / "2024-05-02-000000_from_a_fast_clock").mkdir()
    (tmp_path / "2099-99-99-999999_not_a_time").mkdir()  # SG101's business, not create's
    assert create_migration(tmp_path, "y", dialect=None, now=NOW).name == \
        "2024-05-02-000001_y"


def test_a_dialect_does_not_split_a_flat_tree(tmp_path: Path) -> None:
    # `dialect = "sqlite"` in the config (or --dialect) made migrations/sqlite/ beside the
    # flat tree's migrations, and every verb then refused the tree.
    create_migration(tmp_path, "create users", dialect=None, now=NOW)
    folder = create_migration(tmp_path, "add posts", dialect="sqlite", now=NOW)
    assert folder.parent == tmp_path
    assert not (tmp_path / "sqlite").exists()


def test_a_dialect_picks_its_folder_in_a_new_or_per_database_tree(tmp_path: Path) -> None:
    first = create_migration(tmp_path / "migrations", "init", dialect="postgres", now=NOW)
    assert first.parent == tmp_path / "migrations" / "postgres"
    second = create_migration(tmp_path / "migrations", "init", dialect="sqlite", now=NOW)
    assert second.parent == tmp_path / "migrations" / "sqlite"


def test_create_joins_the_tree_named_by_another_tool(tmp_path: Path) -> None:
    # With postgresql/ there, a new postgres/ beside it would make the tree unreadable.
    (tmp_path / "postgresql" / "2024-04-30-000000_older").mkdir(parents=True)
    (tmp_path / "sqlite").mkdir()
    folder = create_migration(tmp_path, "x", dialect="postgres", now=NOW)
    assert folder.parent == tmp_path / "postgresql"
    assert not (tmp_path / "postgres").exists()
