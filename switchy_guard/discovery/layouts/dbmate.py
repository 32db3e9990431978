"""dbmate: one file ``{version}_{name}.sql`` with ``-- migrate:up`` and
``-- migrate:down`` sections.

From ``pkg/dbmate/migration.go`` and ``db.go``: a migration file's name starts with
digits (the version, kept as text) and ends in ``.sql``; files run in file-name order
(text order, so ``10_`` runs before ``2_``: ``check`` warns when numeric versions would
sort otherwise). Both markers are required, up before down, and nothing but blank and
comment lines may precede the up marker. Options follow a marker
(``-- migrate:up transaction:false``): ``transaction:false`` runs outside a transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from switchy_guard.discovery.layouts import (
    FileLayout,
    SqlFile,
    decode,
    file_migration,
    refuse,
    section,
    words,
    write_sectioned,
)
from switchy_guard.model.migration import Migration

NAME = re.compile(r"([0-9]+)(.*)\.sql")
_UP = re.compile(r"--\s*migrate:up(?:\s*$|\s+(\S.*)$)")
_DOWN = re.compile(r"--\s*migrate:down(?:\s*$|\s+(\S.*)$)")


def _options(rest: str | None) -> dict[str, str]:
    pairs = (item.split(":") for item in (rest or "").split())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def read(files: Sequence[SqlFile], checksum_mode: str) -> list[Migration]:
    """Each file's up and down sections."""
    migrations = []
    for file in files:
        match = NAME.fullmatch(file.name)
        if match is None:
            raise refuse(file.path, f"not a dbmate file name ({LAYOUT.naming})")
        version, title = match.group(1), match.group(2).lstrip("_")
        text = decode(file.data, file.path)
        lines = text.split("\n")
        up_at = next((i for i, line in enumerate(lines) if _UP.match(line)), None)
        down_at = next((i for i, line in enumerate(lines) if _DOWN.match(line)), None)
        if up_at is None:
            raise refuse(file.path, "no '-- migrate:up' line (dbmate needs one)")
        if down_at is None:
            raise refuse(file.path, "no '-- migrate:down' line (dbmate needs one)")
        if down_at < up_at:
            raise refuse(f"{file.path}:{down_at + 1}",
                         "'-- migrate:down' comes before '-- migrate:up'")
        for number, line in enumerate(lines[:up_at]):
            if line.strip() and not line.lstrip().startswith("--"):
                raise refuse(f"{file.path}:{number + 1}",
                             "a statement before '-- migrate:up' (dbmate refuses it)")
        up_match = _UP.match(lines[up_at])
        options = _options(up_match.group(1) if up_match else None)
        migrations.append(file_migration(
            migration_id=version, description=words(title) or version, order_key=None,
            up=section(file, text, up_at, down_at), down=section(file, text, down_at, None),
            checksum_mode=checksum_mode, source=file.path,
            transactional=options.get("transaction") != "false",
        ))
    return migrations


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """A ``YYYYMMDDHHMMSS`` version (as ``dbmate new`` makes), with both sections."""
    version = f"{now:%Y%m%d%H%M%S}"
    newest = max((m.id for m in migrations), default="")
    if version <= newest and newest.isdigit():
        version = str(int(newest) + 1)
    return write_sectioned(root, version, slug, "-- migrate:up", "-- migrate:down")


LAYOUT = FileLayout(
    name="dbmate",
    naming="{version}_{name}.sql with -- migrate:up and -- migrate:down",
    id_pattern=r"[0-9]+",
    read=read,
    create=create,
    string_order=True,
)
