"""``create NAME``: a new migration, stamped with the UTC time, in the folder's layout."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs


def register(verbs: Verbs) -> None:
    """Add ``create``."""
    create = verbs.add("create", "create a new migration folder with up.sql and down.sql", run)
    create.add_argument("name", help="snake_case name, e.g. add_users_email")


def run(ctx: Context) -> int:
    """``create NAME``: a new migration folder (or files, in another tool's layout)."""
    from switchy_guard.scaffold import create_in_layout, create_migration

    folder, now = _folder(ctx), datetime.now(UTC)
    made = create_in_layout(folder, ctx.args.name, layout=ctx.settings.layout,
                            dialect=ctx.settings.dialect, now=now)
    if made is not None:
        if ctx.format == "json":
            ctx.emit_json({"created": [str(path) for path in made]})
        else:
            ctx.out.write(f"created {' and '.join(str(path) for path in made)}\n")
        return 0
    created = create_migration(folder, ctx.args.name, dialect=ctx.settings.dialect, now=now)
    if ctx.format == "json":
        ctx.emit_json({"created": str(created)})
    else:
        ctx.out.write(f"created {created}/up.sql and {created}/down.sql\n")
    return 0


def _folder(ctx: Context) -> Path:
    """The one migrations folder on disk ``create`` writes to."""
    from switchy_guard.discovery import DirectoryMigrations, as_source

    dirs = ctx.settings.migrations_dir
    if isinstance(dirs, list):
        if len(dirs) != 1:
            raise ConfigError("'create' needs exactly one migrations folder (-m DIR)")
        dirs = dirs[0]
    if not isinstance(as_source(dirs), DirectoryMigrations):
        # A folder named "pkg:migrations" would be made here, and then read instead of
        # the package.
        raise ConfigError(f"'create' writes to a folder on disk, and {dirs} is a package "
                          "or a remote index: give the folder with -m DIR")
    return Path(dirs)
