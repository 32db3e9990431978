"""Reading a history in a chosen layout, and ``auto``: the layout from the file names.

``auto`` looks at the entries at the top of the history (one listing):

- folders only: ``switchy`` (a folder per migration; Diesel's too);
- ``V1__x.sql``, ``U1__x.sql``, ``R__x.sql`` (and ``B1__``, Flyway callbacks): ``flyway``;
- ``1_x.up.sql`` / ``1_x.down.sql``: ``golang-migrate`` (sqlx's reversible files are
  named the same way: give ``--layout sqlx`` for those);
- ``1_x.sql``: by content: ``-- +goose Up`` is ``goose``, ``-- migrate:up`` is
  ``dbmate``, anything else ``sqlx``.

Files of two layouts in one folder are refused (exit 2) naming one file of each. A
folder holding ``.sql`` files that yields no migration is refused naming them and the
layouts tried; so is one holding nothing at all, unless an empty history is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.resources.abc import Traversable

from switchy_guard.discovery.layouts import EntryCheck, SqlFile, checked_layout, layout_named
from switchy_guard.errors import InputError
from switchy_guard.model.migration import Migration

_FLYWAY = re.compile(r"(?:[VUB][0-9][0-9._]*__|R__).*\.sql|"
                     r"(?:before|after)[A-Za-z]*(?:__.*)?\.sql")
_GOLANG = re.compile(r"[0-9]+_.*\.(?:up|down)\.sql")
_NUMBERED = re.compile(r"[0-9].*\.sql")
_GOOSE_UP = re.compile(rb"^--\s*\+goose\s+Up\s*$", re.MULTILINE | re.IGNORECASE)
_DBMATE_UP = re.compile(rb"^--\s*migrate:up", re.MULTILINE)
_TRIED = ("switchy (a folder per migration with up.sql/down.sql), golang-migrate "
          "({version}_{title}.up.sql), flyway (V{version}__{description}.sql), sqlx "
          "({version}_{description}.sql), dbmate ({version}_{name}.sql with -- migrate:up), "
          "goose ({version}_{name}.sql with -- +goose Up)")


def layout_of_file(name: str, data: bytes | None) -> str | None:
    """The layout a top-level file belongs to by its name (and, for ``1_x.sql``, its
    content), or None when no layout reads it."""
    if _FLYWAY.fullmatch(name):
        return "flyway"
    if _GOLANG.fullmatch(name):
        return "golang-migrate"
    if _NUMBERED.fullmatch(name):
        if data is not None and _GOOSE_UP.search(data):
            return "goose"
        if data is not None and _DBMATE_UP.search(data):
            return "dbmate"
        return "sqlx"
    return None


def read_history(
    tree: Traversable,
    label: str,
    *,
    layout: str = "auto",
    check: EntryCheck | None = None,
    checksum_mode: str = "file",
    allow_empty: bool = False,
) -> tuple[list[Migration], str]:
    """The migrations under ``tree`` in ``layout`` (``auto``: detected), and the layout
    read. Raises InputError naming the files when the history is mixed, unreadable, or
    yields nothing (an empty folder passes with ``allow_empty``)."""
    from switchy_guard.discovery.layout import _visible, checked_entries, read_tree

    checked_layout(layout)
    entries = _visible(tree.iterdir())
    folders: list[tuple[Traversable, str]] = []
    files: list[tuple[Traversable, str]] = []
    for entry, path in checked_entries(entries, label, check):
        (folders if entry.is_dir() else files).append((entry, path))
    sql = [(e, p) for e, p in files if e.name.lower().endswith(".sql")]
    if not entries:
        if allow_empty:
            return [], "switchy" if layout == "auto" else layout
        raise InputError("the migrations folder is empty: no migration to check or run "
                         "(give --allow-empty if an empty history is meant)", path=label)
    read: list[SqlFile] | None = None
    if layout == "auto":
        read = [SqlFile(e.name, p, e.read_bytes()) for e, p in sql]
        layout = _detect(read, folders, label)
    if layout == "switchy":
        # A .sql file beside the folders may be shared (symlinked into them): read as
        # ever. Only a history of no migration at all is refused for it.
        migrations = read_tree(tree, label, check=check, checksum_mode=checksum_mode)
        if not migrations and sql:
            names = ", ".join(p for _, p in sql[:3]) + (" ..." if len(sql) > 3 else "")
            raise InputError(f"holds {names} but no migration (layouts tried: {_TRIED})",
                             path=label)
        if not migrations and not allow_empty:
            raise InputError(f"no migration found (layouts tried: {_TRIED})", path=label)
        return migrations, layout
    chosen = layout_named(layout)
    if read is None:
        read = [SqlFile(e.name, p, e.read_bytes()) for e, p in sql]
    _refuse_other_files(chosen.name, files, folders)
    if chosen.recursive:
        read += _sql_below(folders, check)
    elif folders:
        _, path = folders[0]
        raise InputError(f"a folder in a {chosen.name} history ({chosen.name} reads only "
                         "the files at the top); move it out of the migrations folder",
                         path=path)
    if chosen.name == "flyway":  # a script's settings: V1__x.sql.conf
        read += [SqlFile(e.name, p, e.read_bytes()) for e, p in files
                 if e.name.endswith(".sql.conf")]
    migrations = chosen.read(read, checksum_mode)
    if not migrations:
        raise InputError(f"no {chosen.name} migration found ({chosen.naming})", path=label)
    return migrations, layout


def _detect(files: Sequence[SqlFile], folders: Sequence[tuple[Traversable, str]],
            label: str) -> str:
    """The one layout the top-level files and folders belong to."""
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for file in files:
        found = layout_of_file(file.name, file.data)
        if found is None:
            unknown.append(file.path)
        else:
            seen.setdefault(found, file.path)
    if folders and "flyway" not in seen:
        seen.setdefault("switchy", folders[0][1])
    if len(seen) > 1:
        (first, one), (second, other) = sorted(seen.items())[:2]
        raise InputError(f"mixes two layouts: {one} is {first}, {other} is {second}; keep "
                         "one history per folder (or give --layout)", path=label)
    if not seen:
        shown = ", ".join(unknown[:3]) + (" ..." if len(unknown) > 3 else "")
        raise InputError(f"holds {shown} but no migration in any layout (tried: {_TRIED})",
                         path=label)
    return next(iter(seen))


def _refuse_other_files(layout: str, files: Sequence[tuple[Traversable, str]],
                        folders: Sequence[tuple[Traversable, str]]) -> None:
    """Migrations this tool would run that switchy-guard cannot (goose's Go files)."""
    if layout != "goose":
        return
    for entry, path in files:
        if entry.name.endswith(".go") and entry.name[:1].isdigit():
            raise InputError("a goose Go migration: switchy-guard runs SQL migrations only "
                             "(skipping it would leave the history incomplete)", path=path)


def _sql_below(folders: Sequence[tuple[Traversable, str]],
               check: EntryCheck | None) -> list[SqlFile]:
    """The .sql files in ``folders`` and below them (Flyway scans recursively)."""
    from switchy_guard.discovery.layout import _visible

    found: list[SqlFile] = []
    pending = list(folders)
    while pending:
        folder, label = pending.pop(0)
        for entry in _visible(folder.iterdir()):
            path = f"{label}/{entry.name}"
            if check:
                check(entry, path)
            if entry.is_dir():
                pending.append((entry, path))
            elif entry.name.lower().endswith((".sql", ".sql.conf")):
                found.append(SqlFile(entry.name, path, entry.read_bytes(), folder=label))
    return found
