"""``create``: new migration folders named ``YYYY-MM-DD-HHMMSS_name``."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .discovery.layout import dialect_folders
from .errors import ConfigError, InputError

_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")


def normalise_name(name: str) -> str:
    """``Add users-email`` → ``add_users_email``; anything else left is refused."""
    candidate = re.sub(r"[\s\-]+", "_", name.strip()).lower()
    if not _NAME.fullmatch(candidate):
        raise ConfigError(f"invalid migration name {name!r}: use letters, digits, spaces, - and _")
    return candidate


def create_migration(root: Path, name: str, *, dialect: str | None, now: datetime) -> Path:
    """Create ``root[/dialect]/<timestamp>_<name>/`` with empty up.sql and down.sql."""
    slug = normalise_name(name)
    parent = root
    if dialect is not None:
        parent = root / dialect
    elif root.is_dir() and dialect_folders(root):
        raise ConfigError(
            f"{root} has per-database folders ({', '.join(dialect_folders(root))}); give --dialect"
        )
    folder = parent / f"{now:%Y-%m-%d-%H%M%S}_{slug}"
    if folder.exists():
        raise InputError("already exists; wait a second and try again", path=folder)
    folder.mkdir(parents=True)
    (folder / "up.sql").write_text(f"-- {slug.replace('_', ' ')}\n", encoding="utf-8")
    (folder / "down.sql").write_text(f"-- reverse of {slug.replace('_', ' ')}\n", encoding="utf-8")
    return folder
