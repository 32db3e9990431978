"""The on-disk layout shared by directory and embedded sources.

``<root>/<id>/{up.sql,down.sql,metadata.toml}``, or one such tree per database under
``<root>/sqlite/``, ``<root>/postgres/`` and ``<root>/mysql/`` (or the names other tools
give them: ``postgresql/``, ``mariadb/``, ``sqlite3/``; see DIALECT_FOLDERS). Works on
anything with the ``importlib.resources.abc.Traversable`` interface, so a folder on disk
and a package inside a wheel are read by the same code.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from importlib.resources.abc import Traversable

from switchy_guard.errors import ConfigError, InputError
from switchy_guard.model.checksum import script_checksum
from switchy_guard.model.migration import Metadata, Migration, parse_metadata

MIGRATION_FILES = ("up.sql", "down.sql", "metadata.toml")

#: Called for each entry before it is read; raises InputError to refuse it.
EntryCheck = Callable[[Traversable, str], None]


_HIDDEN = (".", "__pycache__", "__init__.py")


def _visible(entries: Iterable[Traversable]) -> list[Traversable]:
    return sorted((e for e in entries if not e.name.startswith(_HIDDEN)), key=lambda e: e.name)


#: The names a per-database folder may have, and the dialect each holds: the dialect's
#: own name, or the one other tools' trees use for it (Vaultwarden's Diesel migrations
#: live in postgresql/; MariaDB projects name theirs mariadb/).
DIALECT_FOLDERS = {
    "sqlite": "sqlite", "sqlite3": "sqlite",
    "postgres": "postgres", "postgresql": "postgres",
    "mysql": "mysql", "mariadb": "mysql",
}
_FOLDER_NAMES = ", ".join(DIALECT_FOLDERS)


def dialect_folders(root: Traversable) -> list[str]:
    """The per-database folders present directly under ``root`` (as named there)."""
    return [e.name for e in _visible(root.iterdir())
            if e.is_dir() and e.name in DIALECT_FOLDERS]


def dialect_folder(present: Iterable[str], dialect: str, label: str) -> str | None:
    """The folder among ``present`` holding ``dialect``'s migrations, if any; two
    folders holding the same dialect (postgres/ and postgresql/) are refused: which one
    counts would be a guess."""
    names = [name for name in present if DIALECT_FOLDERS.get(name) == dialect]
    if len(names) > 1:
        raise InputError(f"{' and '.join(f'{n}/' for n in names)} both hold {dialect} "
                         "migrations: keep one", path=label)
    return names[0] if names else None


def choose_tree(root: Traversable, label: str, dialect: str | None) -> tuple[Traversable, str]:
    """The tree to read for ``dialect``: ``root`` itself, or its folder for ``dialect``
    (``root/<dialect>`` or an alias, see DIALECT_FOLDERS)."""
    present = dialect_folders(root)
    if not present:
        return root, label
    # Beside the database folders nothing else is read: a typo such as postgress/, or a
    # migration folder left at the top, would otherwise vanish silently (SG102).
    stray = next((e.name for e in _visible(root.iterdir())
                  if e.is_dir() and e.name not in DIALECT_FOLDERS), None)
    if stray is not None:
        raise InputError(
            f"neither a database folder ({_FOLDER_NAMES}) nor allowed beside "
            f"{', '.join(f'{name}/' for name in present)} (migrations go inside them)",
            path=f"{label}/{stray}",
        )
    for each in dict.fromkeys(DIALECT_FOLDERS.values()):
        dialect_folder(present, each, label)  # refuses two folders for one database
    if dialect is None:
        raise ConfigError(
            f"{label}: has per-database folders ({', '.join(present)}); "
            "give --dialect or a database URL to choose one"
        )
    folder = dialect_folder(present, dialect, label)
    if folder is None:
        raise InputError(f"no '{dialect}' folder (found: {', '.join(present)})", path=label)
    return root / folder, f"{label}/{folder}"


def read_tree(
    root: Traversable,
    label: str,
    *,
    check: EntryCheck | None = None,
    checksum_mode: str = "file",
) -> list[Migration]:
    """Read every migration folder under ``root`` (``label`` names it in errors)."""
    return [read_migration(folder, path, check=check, checksum_mode=checksum_mode)
            for folder, path in migration_folders(root, label, check=check)]


def migration_folders(
    root: Traversable, label: str, *, check: EntryCheck | None = None
) -> list[tuple[Traversable, str]]:
    """The migration folders under ``root`` in id order, each with its label."""
    entries = _visible(root.iterdir())
    at_top = any(e.name in DIALECT_FOLDERS and e.is_dir() for e in entries)
    return [(entry, path) for entry, path in checked_entries(entries, label, check)
            if entry.is_dir() and not (at_top and entry.name in DIALECT_FOLDERS)]


def checked_entries(
    entries: Iterable[Traversable], label: str, check: EntryCheck | None
) -> list[tuple[Traversable, str]]:
    """Each of ``entries`` (in ``label``) with its label, once its name is known to be
    valid UTF-8 and ``check`` has passed it."""
    checked = []
    for entry in entries:
        path = f"{label}/{entry.name}"
        if not entry.name.isascii():
            refuse_undecodable_name(entry.name, path)
        if check:
            check(entry, path)
        checked.append((entry, path))
    return checked


def read_migration(
    folder: Traversable,
    label: str,
    *,
    check: EntryCheck | None = None,
    checksum_mode: str = "file",
) -> Migration:
    """Read one migration folder."""
    # The hot loop of discovery (10,000 folders in the benchmark): no sorting and no
    # string building unless something is wrong.
    files: dict[str, bytes] = {}
    unexpected: list[Traversable] = []
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith(_HIDDEN):
            continue
        if not name.isascii():
            refuse_undecodable_name(name, f"{label}/{name}")
        if check:
            check(entry, f"{label}/{name}")
        if name in MIGRATION_FILES and entry.is_file():
            files[name] = entry.read_bytes()
        elif name.lower().endswith((".sql", ".toml", ".py")) or entry.is_dir():
            unexpected.append(entry)
    if unexpected:
        first = min(unexpected, key=lambda e: e.name)
        raise InputError(
            f"unexpected {'folder' if first.is_dir() else 'file'} "
            f"(a migration folder holds {', '.join(MIGRATION_FILES)})",
            path=f"{label}/{first.name}",
        )
    if not files and not _looks_like_migration(folder.name):
        raise InputError(
            "neither a migration folder (no up.sql, down.sql or metadata.toml) nor a "
            f"database folder ({_FOLDER_NAMES})",
            path=label,
        )
    metadata = (
        parse_metadata(
            _decode(files["metadata.toml"], f"{label}/metadata.toml"), f"{label}/metadata.toml"
        )
        if "metadata.toml" in files
        else Metadata()
    )
    up_bytes, down_bytes = files.get("up.sql"), files.get("down.sql")
    return Migration(
        id=folder.name,
        up=_decode(up_bytes, f"{label}/up.sql") if up_bytes is not None else "",
        down=_decode(down_bytes, f"{label}/down.sql") if down_bytes is not None else None,
        up_checksum=script_checksum(up_bytes, checksum_mode),
        down_checksum=script_checksum(down_bytes, checksum_mode),
        description=metadata.description or _describe(folder.name),
        depends_on=metadata.depends_on,
        dialects=metadata.dialects,
        transactional=metadata.transactional,
        allow=metadata.allow,
        noop_down=metadata.noop_down,
        backfill=metadata.backfill,
        source=label,
        up_path=f"{label}/up.sql" if up_bytes is not None else None,
        down_path=f"{label}/down.sql" if down_bytes is not None else None,
    )


def refuse_undecodable_name(name: str, path: str) -> None:
    """Refuse a file or folder name that is not valid UTF-8 (Python keeps its bytes as
    lone surrogates): it cannot be recorded as an id, hashed or printed."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raw = name.encode("utf-8", "surrogateescape")
        raise InputError(
            f"the name is not valid UTF-8 (byte {exc.start}: "
            f"{raw[exc.start : exc.start + 1]!r}); rename it", path=path
        ) from None


def _looks_like_migration(name: str) -> bool:
    return name[:1].isdigit()


def _describe(migration_id: str) -> str:
    """``2024-01-02-030405_add_users`` → ``add users``."""
    _, _, name = migration_id.partition("_")
    return (name or migration_id).replace("_", " ")


def _decode(data: bytes, path: str) -> str:
    try:
        # As "utf-8-sig", but through the C decoder (that codec is Python-level).
        return (data[3:] if data.startswith(codecs.BOM_UTF8) else data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})", path=path
        ) from None
