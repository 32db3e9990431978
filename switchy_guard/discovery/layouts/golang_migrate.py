"""golang-migrate: ``{version}_{title}.up.sql`` and ``{version}_{title}.down.sql``.

From its MIGRATIONS.md and ``source/parse.go``: the version is an unsigned integer
(leading zeros allowed: ``1`` and ``000001`` are the same version) and migrations run in
numeric order; the title is only for people. One file without its pair is allowed (a
missing down makes the migration irreversible). Two migrations of one version (``1_a``
and ``01_b``) are an ambiguity: ``check`` reports it (SG004), a run refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from switchy_guard.discovery.layouts import (
    FileLayout,
    SqlFile,
    next_number,
    paired_migration,
    refuse,
    write_up_down,
)
from switchy_guard.model.migration import Migration

NAME = re.compile(r"([0-9]+)_(.*)\.(up|down)\.sql")
_MAX = 2**64 - 1


def read(files: Sequence[SqlFile], checksum_mode: str) -> list[Migration]:
    """Pair the up and down files by version and title; two migrations of one version
    stay two (the check reports them, SG004; a run refuses them)."""
    pairs: dict[tuple[int, str, str], dict[str, SqlFile]] = {}
    for file in files:
        match = NAME.fullmatch(file.name)
        if match is None:
            raise refuse(file.path, f"not a golang-migrate file name ({LAYOUT.naming})")
        written, title, direction = match.groups()
        if int(written) > _MAX:
            raise refuse(file.path, "version does not fit in 64 bits (golang-migrate refuses it)")
        pairs.setdefault((int(written), written, title), {})[direction] = file
    return [paired_migration(key, pair, checksum_mode) for key, pair in pairs.items()]


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """The next integer version (padded as the history pads), up and down files."""
    number, width = next_number(migrations)
    version = str(number).zfill(width)
    return write_up_down(root, version, slug)


LAYOUT = FileLayout(
    name="golang-migrate",
    naming="{version}_{title}.up.sql / .down.sql",
    id_pattern=r"[0-9]+",
    read=read,
    create=create,
)
