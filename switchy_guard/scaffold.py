"""``create``: new migration folders named ``YYYY-MM-DD-HHMMSS_name``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from switchy_guard.discovery.layout import dialect_folder, dialect_folders
from switchy_guard.errors import ConfigError, InputError

_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}-\d{6})_")


def normalise_name(name: str) -> str:
    """``Add users-email`` → ``add_users_email``; anything else left is refused."""
    candidate = re.sub(r"[\s\-]+", "_", name.strip()).lower()
    if not _NAME.fullmatch(candidate):
        raise ConfigError(f"invalid migration name {name!r}: use letters, digits, spaces, - and _")
    return candidate


def create_migration(root: Path, name: str, *, dialect: str | None, now: datetime) -> Path:
    """Create ``root[/dialect]/<timestamp>_<name>/`` with empty up.sql and down.sql
    (``dialect`` picks the database's folder, unless ``root`` is a flat tree).

    The timestamp is ``now`` (UTC), moved on to one second after the newest existing
    migration when that one is not older, so the new migration always sorts last.
    """
    slug = normalise_name(name)
    parent = root
    if dialect is not None:
        # A flat tree serves every database: a <dialect>/ folder beside its migrations
        # would make the tree unreadable, so the new one joins them at the top.
        if not _flat_tree(root):
            present = dialect_folders(root) if root.is_dir() else []
            parent = root / (dialect_folder(present, dialect, str(root)) or dialect)
    elif root.is_dir() and dialect_folders(root):
        raise ConfigError(
            f"{root} has per-database folders ({', '.join(dialect_folders(root))}); give --dialect"
        )
    folder = parent / f"{_stamp(parent, now):%Y-%m-%d-%H%M%S}_{slug}"
    if folder.exists():
        raise InputError("already exists; wait a second and try again", path=folder)
    folder.mkdir(parents=True)
    (folder / "up.sql").write_text(f"-- {slug.replace('_', ' ')}\n", encoding="utf-8")
    (folder / "down.sql").write_text(f"-- reverse of {slug.replace('_', ' ')}\n", encoding="utf-8")
    return folder


def _flat_tree(root: Path) -> bool:
    """True when ``root`` already holds migrations at the top (no per-database folders)."""
    if not root.is_dir() or dialect_folders(root):
        return False
    return any(entry.is_dir() and not entry.name.startswith((".", "__"))
               for entry in root.iterdir())


def _stamp(parent: Path, now: datetime) -> datetime:
    """``now``, or one second after the newest migration in ``parent`` when that is not
    earlier: two ``create`` runs within a second (or a clock behind a teammate's) must
    not share a timestamp or sort before what exists (SG103, SG003)."""
    if not parent.is_dir():
        return now
    newest = now - timedelta(seconds=1)
    for entry in parent.iterdir():
        match = _STAMP.match(entry.name)
        if match is None:
            continue
        try:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d-%H%M%S")
        except ValueError:  # not a real time: SG101 reports it
            continue
        newest = max(newest, stamp.replace(tzinfo=now.tzinfo))
    return max(now, newest + timedelta(seconds=1))


def create_in_layout(root: Path, name: str, *, layout: str, dialect: str | None,
                     now: datetime) -> list[Path] | None:
    """A new migration in the history's own layout and numbering (``layout``, or the
    one ``auto`` detects in ``root``): the files written, or None for the switchy
    layout (a folder: :func:`create_migration`)."""
    from switchy_guard.discovery import DirectoryMigrations
    from switchy_guard.discovery.layouts import layout_named

    slug = normalise_name(name)
    if layout == "switchy" or not root.is_dir():
        return None
    source = DirectoryMigrations(root, layout=layout, allow_empty=True)
    migrations = source.load(dialect)
    chosen = source.detected_layout or layout
    if chosen in ("switchy", "auto"):
        return None
    folder = source.tree(dialect)[0]
    return layout_named(chosen).create(Path(getattr(folder, "path", str(folder))), slug, now,
                                       migrations)
