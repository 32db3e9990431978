"""goose (SQL migrations): ``{version}_{name}.sql`` with ``-- +goose`` annotations.

From ``internal/sqlparser/parser.go`` and goose's docs: the version is the number
before the first ``_`` (a 64-bit integer; runs in numeric order). The file must start
(after blank and comment lines) with ``-- +goose Up``; ``-- +goose Down`` starts the
down section; ``-- +goose StatementBegin`` ... ``-- +goose StatementEnd`` keep a
statement whole (semicolons inside it do not end it); ``-- +goose NO TRANSACTION`` runs
the migration outside a transaction. Outside such a block a statement must end with a
semicolon at the end of a line. ``-- +goose ENVSUBST ON`` (environment variables put into
the SQL) is refused: switchy-guard would check and run other SQL than goose. A file
without a Down section is irreversible (goose would run nothing and call it undone).

The end of each StatementBegin block is a statement boundary for switchy-guard too (a
``;`` stands where the StatementEnd line is, in the SQL it splits).
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
    timestamp_version,
    words,
    write_sectioned,
)
from switchy_guard.model.migration import Migration

NAME = re.compile(r"([0-9]+)_(.*)\.sql")
_MAX = 2**63 - 1


def _annotation(line: str) -> str | None:
    if not line.startswith("--"):
        return None
    command = line[2:].strip()
    return command if command.startswith("+goose ") else None


def _ends_statement(line: str) -> bool:
    """goose's test: the last word before a ``--`` comment ends with ``;``."""
    last = ""
    for word in line.split():
        if word.startswith("--"):
            break
        last = word
    return last.endswith(";")


def _parse(text: str, path: str) -> tuple[int | None, int | None, dict[int, str], bool]:
    """(up marker line, down marker line, lines to replace, transactional); 0-based."""
    lines = text.split("\n")
    up_at = down_at = None
    replace: dict[int, str] = {}
    block_at: int | None = None
    pending: int | None = None  # first line of an unfinished statement
    transactional = True
    for number, line in enumerate(lines):
        where = f"{path}:{number + 1}"
        command = _annotation(line)
        if command is not None:
            replace[number] = ""
            if command == "+goose Up":
                if up_at is not None:
                    raise refuse(where, "a second '-- +goose Up'")
                up_at = number
            elif command == "+goose Down":
                if up_at is None:
                    raise refuse(where, "'-- +goose Down' before '-- +goose Up'")
                if down_at is not None:
                    raise refuse(where, "a second '-- +goose Down'")
                if block_at is not None:
                    raise refuse(where, "'-- +goose Down' inside a StatementBegin block")
                if pending is not None:
                    raise refuse(f"{path}:{pending + 1}", "statement not ended by ';' before "
                                                          "'-- +goose Down' (goose refuses it)")
                down_at = number
            elif command == "+goose StatementBegin":
                if up_at is None or block_at is not None:
                    raise refuse(where, "'-- +goose StatementBegin' outside a section, or "
                                        "inside another block")
                block_at, pending = number, None
            elif command == "+goose StatementEnd":
                if block_at is None:
                    raise refuse(where, "'-- +goose StatementEnd' without StatementBegin")
                block_at = None
                replace[number] = ";"  # the block ends a statement, as in goose
            elif command == "+goose NO TRANSACTION":
                transactional = False
            elif command.startswith("+goose ENVSUB"):
                if command.endswith(" ON"):
                    raise refuse(where, f"'-- {command}' puts environment variables into "
                                        "the SQL: switchy-guard checks and runs files as written")
            else:
                raise refuse(where, f"unknown goose annotation {command!r}")
            continue
        if up_at is None:
            if line.strip() and not line.lstrip().startswith("--"):
                raise refuse(where, "SQL before '-- +goose Up' (goose refuses it)")
            continue
        if block_at is None and line.strip():
            if pending is None and not line.lstrip().startswith("--"):
                pending = number
            if pending is not None and _ends_statement(line):
                pending = None
    if up_at is None:
        raise refuse(path, "no '-- +goose Up' annotation (goose needs one)")
    if block_at is not None:
        raise refuse(f"{path}:{block_at + 1}", "'-- +goose StatementBegin' never ended")
    if pending is not None:
        raise refuse(f"{path}:{pending + 1}", "statement not ended by ';' (goose refuses it)")
    return up_at, down_at, replace, transactional


def read(files: Sequence[SqlFile], checksum_mode: str) -> list[Migration]:
    """Each file's Up and Down sections."""
    migrations = []
    for file in files:
        match = NAME.fullmatch(file.name)
        if match is None or int(match.group(1)) > _MAX:
            raise refuse(file.path, f"not a goose file name ({LAYOUT.naming})")
        version, title = match.groups()
        text = decode(file.data, file.path)
        up_at, down_at, replace, transactional = _parse(text, file.path)
        assert up_at is not None
        down = section(file, text, down_at, None, replace) if down_at is not None else None
        migrations.append(file_migration(
            migration_id=version, description=words(title) or version,
            order_key=(int(version),),
            up=section(file, text, up_at, down_at, replace),
            down=down, checksum_mode=checksum_mode, source=file.path,
            transactional=transactional,
        ))
    return migrations


def create(root: Path, slug: str, now: datetime, migrations: Sequence[Migration]) -> list[Path]:
    """A ``YYYYMMDDHHMMSS`` version (goose's default for ``goose create``), or the next
    number when the history is numbered sequentially."""
    numbers = [int(m.id) for m in migrations if m.id.isdigit()]
    sequential = bool(numbers) and max(numbers) < 10**8
    if sequential:
        width = max(len(m.id) for m in migrations)
        version = str(max(numbers) + 1).zfill(width)
    else:
        version = timestamp_version(now, migrations)
    return write_sectioned(root, version, slug, "-- +goose Up", "-- +goose Down")


LAYOUT = FileLayout(
    name="goose",
    naming="{version}_{name}.sql with -- +goose Up / -- +goose Down",
    id_pattern=r"[0-9]+",
    read=read,
    create=create,
)
