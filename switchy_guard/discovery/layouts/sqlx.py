"""sqlx: ``{version}_{description}.sql`` (up only), or ``.up.sql`` / ``.down.sql``.

From ``sqlx-core/src/migrate/source.rs`` and ``migration_type.rs``: the version is the
text before the first ``_``, parsed as a 64-bit signed integer; migrations run in
numeric order; a file that starts with ``-- no-transaction`` runs outside a transaction.
sqlx skips other names silently; switchy-guard refuses a ``.sql`` file it cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from switchy_guard.discovery.layouts import (
    FileLayout,
    SqlFile,
    paired_migration,
    refuse,
    timestamp_version,
    words,
    write_new,
    write_up_down,
)
from switchy_guard.model.migration import Migration

NAME = re.compile(r"([^_]+)_(.*?)(\.up|\.down)?\.sql")
NO_TRANSACTION = "-- no-transaction"
_MAX = 2**63 - 1


def read(files: Sequence[SqlFile], checksum_mode: str) -> list[Migration]:
    """One migration per version: a simple file, or an up/down pair."""
    pairs: dict[tuple[int, str, str], dict[str, SqlFile]] = {}
    for file in files:
        match = NAME.fullmatch(file.name)
        written = match.group(1) if match else ""
        if match is None or not re.fullmatch(r"[+]?[0-9]+", written):
            raise refuse(file.path, f"not a sqlx file name ({LAYOUT.naming})")
        version = int(written)
        if not 0 < version <= _MAX:
            raise refuse(file.path, "sqlx versions are whole numbers from 1 to 2^63-1")
        kind = {".up": "up", ".down": "down", None: "simple"}[match.group(3)]
        pair = pairs.setdefault((version, written, match.group(2)), {})
        pair["up" if kind == "simple" else kind] = file
    return [paired_migration(key, pair, checksum_mode, no_transaction=NO_TRANSACTION)
            for key, pair in pairs.items()]


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """A timestamp version (as ``sqlx migrate add`` makes), reversible when the history
    has down files."""
    version = timestamp_version(now, migrations)
    if any(m.down_path for m in migrations) or not migrations:
        return write_up_down(root, version, slug)
    return write_new([(root / f"{version}_{slug}.sql", f"-- {words(slug)}\n")])


LAYOUT = FileLayout(
    name="sqlx",
    naming="{version}_{description}.sql, or .up.sql / .down.sql",
    id_pattern=r"[0-9]+",
    read=read,
    create=create,
)
