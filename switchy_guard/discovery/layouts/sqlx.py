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

from ...migration import Migration
from . import FileLayout, SqlFile, decode, file_migration, refuse, words, write_new

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
    migrations = []
    for (version, written, title), pair in pairs.items():
        up, down = pair.get("up"), pair.get("down")
        up_text = decode(up.data, up.path) if up else None
        migrations.append(file_migration(
            migration_id=written, description=words(title) or written, order_key=(version,),
            up=(up_text, up.data, up.path) if up and up_text is not None else None,
            down=(decode(down.data, down.path), down.data, down.path) if down else None,
            checksum_mode=checksum_mode, source=(up or down or files[0]).path,
            transactional=not (up_text or "").startswith(NO_TRANSACTION),
        ))
    return migrations


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """A timestamp version (as ``sqlx migrate add`` makes), reversible when the history
    has down files."""
    version = f"{now:%Y%m%d%H%M%S}"
    newest = max((int(m.id) for m in migrations if m.id.isdigit()), default=0)
    if int(version) <= newest:
        version = str(newest + 1)
    if any(m.down_path for m in migrations) or not migrations:
        return write_new([
            (root / f"{version}_{slug}.up.sql", f"-- {words(slug)}\n"),
            (root / f"{version}_{slug}.down.sql", f"-- reverse of {words(slug)}\n"),
        ])
    return write_new([(root / f"{version}_{slug}.sql", f"-- {words(slug)}\n")])


LAYOUT = FileLayout(
    name="sqlx",
    naming="{version}_{description}.sql, or .up.sql / .down.sql",
    id_pattern=r"[0-9]+",
    read=read,
    create=create,
)
