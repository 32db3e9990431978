"""History layouts of other migration tools, read into :class:`Migration` objects.

``switchy`` (a folder per migration, also Diesel's) is read by :mod:`..layout`; the
layouts here read one file (or an up/down pair) per migration, each following its tool's
own documented rules: :mod:`.golang_migrate`, :mod:`.flyway`, :mod:`.sqlx`,
:mod:`.dbmate`, :mod:`.goose`. ``auto`` (:mod:`.detect`) chooses from the file names.

Shared conventions:

- The id is the version as the tool's file name writes it (``000001``, ``1.1``); the
  title or description is the migration's description. ``Migration.order_key`` holds the
  order the tool runs them in (numbers compared as numbers), so ``2`` runs before ``10``.
- Checksums are the SHA-256 of the up file's bytes (for dbmate and goose, of the up
  section's bytes: from its marker line up to the down marker), and of the down file's
  (or section's); a missing down hashes as empty bytes, as switchy_schema does.
- Sectioned files (dbmate, goose) keep the whole file's line numbers: the lines outside
  a section are blank in that section's SQL, so findings and errors name the real line.
- A ``.sql`` file that the chosen layout cannot read is refused (exit 2) naming it: a
  tool that skips such files silently is how a history that lints nothing passes CI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from switchy_guard.errors import InputError
from switchy_guard.model.checksum import script_checksum
from switchy_guard.model.migration import Migration

#: Every ``--layout`` value.
LAYOUTS = ("auto", "switchy", "golang-migrate", "flyway", "sqlx", "dbmate", "goose")

#: Called for each entry before it is read; raises InputError to refuse it.
EntryCheck = Callable[[Traversable, str], None]


@dataclass(frozen=True)
class SqlFile:
    """One file of a history, read: its name, its label (path for reports), bytes."""

    name: str
    path: str
    data: bytes
    #: The folder it is in, relative to the history's root ("" at the top; Flyway only).
    folder: str = ""


@dataclass(frozen=True)
class FileLayout:
    """What switchy-guard knows of one tool's layout."""

    name: str
    #: What its file names look like, for messages.
    naming: str
    #: The SG101 pattern its ids follow (fullmatch).
    id_pattern: str
    #: Files (already read) to migrations; raises InputError naming a bad file.
    read: Callable[[Sequence[SqlFile], str], list[Migration]]
    #: ``(root, slug, now, migrations)`` -> the files of a new migration, written.
    create: Callable[[Path, str, datetime, Sequence[Migration]], list[Path]]
    #: Whether it reads sub-folders too (Flyway scans its locations recursively).
    recursive: bool = False
    #: Whether the tool orders versions as strings (then numeric ids that sort
    #: differently as numbers are an ambiguity finding).
    string_order: bool = False


def layout_named(name: str) -> FileLayout:
    """The file layout called ``name`` (not ``switchy`` nor ``auto``)."""
    import importlib

    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    layout: FileLayout = module.LAYOUT
    return layout


def checked_layout(name: str) -> str:
    """``name`` when it is a known layout; ConfigError (exit 2) otherwise."""
    if name not in LAYOUTS:
        from switchy_guard.errors import ConfigError

        raise ConfigError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})")
    return name


def file_migration(
    *,
    migration_id: str,
    description: str,
    order_key: tuple[Any, ...] | None,
    up: tuple[str, bytes, str] | None,
    down: tuple[str, bytes, str] | None,
    checksum_mode: str,
    transactional: bool = True,
    source: str,
    repeatable: bool = False,
) -> Migration:
    """A Migration from ``(sql text, checksummed bytes, path)`` of its up and down."""
    return Migration(
        id=migration_id,
        up=up[0] if up is not None else "",
        down=down[0] if down is not None else None,
        up_checksum=script_checksum(up[1] if up is not None else None, checksum_mode),
        down_checksum=script_checksum(down[1] if down is not None else None, checksum_mode),
        description=description,
        transactional=transactional,
        source=source,
        up_path=up[2] if up is not None else None,
        down_path=down[2] if down is not None else None,
        order_key=order_key,
        repeatable=repeatable,
    )


def decode(data: bytes, path: str) -> str:
    """A file's text (UTF-8, a BOM dropped); InputError naming it otherwise."""
    from switchy_guard.discovery.layout import _decode

    return _decode(data, path)


def words(title: str) -> str:
    """``add_users_email`` → ``add users email``."""
    return title.replace("_", " ").strip()


def refuse(path: str, problem: str) -> InputError:
    """The error for a file a layout cannot read."""
    return InputError(problem, path=path)


def sha256(data: bytes) -> str:
    """Lowercase hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def next_number(migrations: Sequence[Migration]) -> tuple[int, int]:
    """The next integer version after the newest, and the width the history pads its
    versions to (0: not padded)."""
    numbers = [m.id for m in migrations if m.id.isdigit()]
    newest = max((int(n) for n in numbers), default=0)
    width = max((len(n) for n in numbers if n.startswith("0")), default=0)
    return newest + 1, width


def write_new(paths_and_text: Sequence[tuple[Path, str]]) -> list[Path]:
    """Write new files, refusing to overwrite any."""
    for path, _ in paths_and_text:
        if path.exists():
            raise InputError("already exists", path=path)
    for path, text in paths_and_text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in paths_and_text]


def blank_outside(text: str, keep: Sequence[tuple[int, int]],
                  replace: dict[int, str] | None = None) -> str:
    """``text`` with every line outside the ``keep`` ranges (0-based, end excluded)
    blank, so statement line numbers stay those of the file; ``replace`` puts other
    text on some lines (0-based line -> text)."""
    lines = text.split("\n")
    kept = [""] * len(lines)
    for start, end in keep:
        for number in range(start, min(end, len(lines))):
            kept[number] = lines[number]
    for number, value in (replace or {}).items():
        kept[number] = value
    return "\n".join(kept)


def section_bytes(data: bytes, start_line: int, end_line: int | None) -> bytes:
    """The bytes of lines ``start_line`` up to ``end_line`` (0-based, excluded; None: to
    the end) of ``data``, newlines kept: what a section's checksum covers."""
    lines = data.split(b"\n")
    chosen = lines[start_line:end_line]
    joined = b"\n".join(chosen)
    if end_line is not None and end_line < len(lines):
        joined += b"\n"
    return joined


def script(file: SqlFile | None) -> tuple[str, bytes, str] | None:
    """A whole file as ``(sql text, checksummed bytes, path)`` for :func:`file_migration`
    (None: no such file)."""
    return (decode(file.data, file.path), file.data, file.path) if file else None


def paired_migration(key: tuple[int, str, str], pair: dict[str, SqlFile],
                     checksum_mode: str, *, no_transaction: str | None = None) -> Migration:
    """The migration of an ``up``/``down`` file pair (either may be missing) whose name
    gave ``key``: (version, version as written, title); it runs outside a transaction
    when its up text starts with ``no_transaction``."""
    version, written, title = key
    up, down = pair.get("up"), pair.get("down")
    up_script = script(up)
    return file_migration(
        migration_id=written, description=words(title) or written, order_key=(version,),
        up=up_script, down=script(down),
        checksum_mode=checksum_mode, source=(up or pair["down"]).path,
        transactional=not (no_transaction and up_script
                           and up_script[0].startswith(no_transaction)),
    )


def section(file: SqlFile, text: str, start: int, end: int | None,
            replace: dict[int, str] | None = None) -> tuple[str, bytes, str]:
    """The section of a sectioned file (dbmate, goose) from its marker line ``start`` up
    to ``end`` (0-based, excluded; None: to the end) as ``(sql text, checksummed bytes,
    path)``: the lines after the marker kept in place, ``replace`` applied within it."""
    stop = end if end is not None else text.count("\n") + 1
    within = {n: t for n, t in (replace or {}).items() if start <= n < stop}
    raw = file.data[3:] if file.data.startswith(b"\xef\xbb\xbf") else file.data
    return (blank_outside(text, [(start + 1, stop)], within),
            section_bytes(raw, start, end), file.path)


def timestamp_version(now: datetime, migrations: Sequence[Migration]) -> str:
    """``now`` as ``YYYYMMDDHHMMSS``, or the number after the newest numeric version
    when that is not later."""
    version = f"{now:%Y%m%d%H%M%S}"
    newest = max((int(m.id) for m in migrations if m.id.isdigit()), default=0)
    return version if int(version) > newest else str(newest + 1)


def write_up_down(root: Path, version: str, slug: str) -> list[Path]:
    """A new migration's ``.up.sql`` and ``.down.sql`` files, written."""
    return write_new([
        (root / f"{version}_{slug}.up.sql", f"-- {words(slug)}\n"),
        (root / f"{version}_{slug}.down.sql", f"-- reverse of {words(slug)}\n"),
    ])


def write_sectioned(root: Path, version: str, slug: str, up_marker: str,
                    down_marker: str) -> list[Path]:
    """A new migration's one file with an up and a down section, written."""
    return write_new([(root / f"{version}_{slug}.sql",
                       f"{up_marker}\n-- {words(slug)}\n\n{down_marker}\n"
                       f"-- reverse of {words(slug)}\n")])


def id_pattern_of(layout: str | None) -> str | None:
    """The SG101 id pattern of ``layout`` (None: switchy's own default)."""
    if layout is None or layout in ("auto", "switchy"):
        return None
    return layout_named(layout).id_pattern


