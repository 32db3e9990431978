"""Flyway: ``V{version}__{description}.sql``, ``U{version}__...`` (undo),
``R__{description}.sql`` (repeatable).

From Flyway's "Migrations" docs: a version is numbers separated by ``.`` or ``_``
(``1``, ``1.1``, ``2024.01.05.1``, ``1_1`` is ``1.1``), compared part by part as numbers
(``1.10`` after ``1.9``; leading zeros and trailing ``.0`` parts do not count, so ``1``
and ``1.0`` are one version). Versioned migrations run in version order, then the
repeatable ones in description order, each (re-)applied whenever its checksum changes.
An undo script is the down of the versioned migration of its version. Locations are
scanned recursively. ``V1__x.sql.conf`` may say ``executeInTransaction=false``.

Refused by name (exit 2): baseline migrations (``B``), callbacks (``beforeMigrate.sql``,
``afterEachMigrate__x.sql``, ...), any other ``.sql`` name, and ``${placeholders}``
(Flyway would substitute them; switchy-guard checks and runs files as written).
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
    words,
    write_new,
)
from switchy_guard.model.migration import Migration

NAME = re.compile(r"([VU])([0-9]+(?:[._][0-9]+)*)__(.*)\.sql")
REPEATABLE = re.compile(r"R__(.+)\.sql")
_CALLBACK = re.compile(r"(?:before|after)[A-Za-z]*(?:__.*)?\.sql")
_PLACEHOLDER = re.compile(r"\$\{[^}\n]*\}")


def version_key(version: str) -> tuple[int, ...]:
    """``1.01.0`` → ``(1, 1)``: how Flyway compares versions."""
    parts = [int(part) for part in re.split(r"[._]", version)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _text(file: SqlFile) -> str:
    text = decode(file.data, file.path)
    found = _PLACEHOLDER.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise refuse(f"{file.path}:{line}", f"Flyway placeholder {found.group()}: "
                     "switchy-guard does not substitute placeholders")
    return text


def _transactional(conf: SqlFile | None) -> bool:
    if conf is None:
        return True
    result = True
    for number, line in enumerate(decode(conf.data, conf.path).splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, equals, value = stripped.partition("=")
        if not equals or key.strip() != "executeInTransaction" or \
                value.strip().lower() not in ("true", "false"):
            raise refuse(f"{conf.path}:{number}", "only executeInTransaction=true|false "
                                                  "is understood here")
        result = value.strip().lower() == "true"
    return result


def read(files: Sequence[SqlFile], checksum_mode: str) -> list[Migration]:
    """Versioned migrations with their undo scripts, then the repeatable ones."""
    confs = {f.path[: -len(".conf")]: f for f in files if f.name.endswith(".sql.conf")}
    scripts: dict[tuple[str, str], tuple[str, str, SqlFile]] = {}
    undo: dict[tuple[int, ...], SqlFile] = {}
    migrations = []
    for file in files:
        if file.name.endswith(".sql.conf"):
            if file.path[: -len(".conf")] not in {f.path for f in files}:
                raise refuse(file.path, "settings of a script that does not exist")
            continue
        repeatable = REPEATABLE.fullmatch(file.name)
        if repeatable:
            description = repeatable.group(1)
            migrations.append(file_migration(
                migration_id=f"R__{description}", description=words(description),
                order_key=(1, description),
                up=(_text(file), file.data, file.path), down=None,
                checksum_mode=checksum_mode, source=file.path,
                transactional=_transactional(confs.get(file.path)), repeatable=True,
            ))
            continue
        match = NAME.fullmatch(file.name)
        if match is None:
            raise refuse(file.path, _why_not(file.name))
        kind, written, description = match.groups()
        if kind == "U":
            key = version_key(written)
            if key in undo:
                raise refuse(file.path, f"a second undo of version {written} "
                                        f"(also {undo[key].path})")
            undo[key] = file
            continue
        version = written.replace("_", ".")
        scripts[(version, file.path)] = (version, description, file)
    used: set[tuple[int, ...]] = set()
    for version, description, file in scripts.values():
        key = version_key(version)
        down = undo.get(key)
        used.add(key)
        migrations.append(file_migration(
            migration_id=version, description=words(description) or version,
            order_key=(0, *key),
            up=(_text(file), file.data, file.path),
            down=(_text(down), down.data, down.path) if down else None,
            checksum_mode=checksum_mode, source=file.path,
            transactional=_transactional(confs.get(file.path)),
        ))
    for key, file in undo.items():
        if key not in used:
            raise refuse(file.path, "an undo script without a versioned migration of its "
                                    "version")
    return migrations


def _why_not(name: str) -> str:
    if re.match(r"B[0-9]", name):
        return ("a Flyway baseline migration: not supported (switchy-guard runs the "
                "versioned migrations; mark-all-completed --to records a baseline)")
    if _CALLBACK.fullmatch(name):
        return "a Flyway callback: not supported (switchy-guard runs no callbacks)"
    return f"not a Flyway migration name ({LAYOUT.naming})"


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """``V{next}__{slug}.sql``: the next whole number after the highest version's first
    part (``V4`` after ``V3.2``)."""
    versioned = [m for m in migrations if not m.repeatable and m.order_key]
    first = max((m.order_key[1] for m in versioned if m.order_key), default=0)
    return write_new([(root / f"V{first + 1}__{slug}.sql", f"-- {words(slug)}\n")])


LAYOUT = FileLayout(
    name="flyway",
    naming="V{version}__{description}.sql, U{version}__{description}.sql, "
           "R__{description}.sql",
    id_pattern=r"[0-9]+(?:\.[0-9]+)*|R__.+",
    read=read,
    create=create,
    recursive=True,
)
