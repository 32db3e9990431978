"""``check`` of a large migrations folder in two processes.

Reading, splitting and classifying 10,000 migrations is CPU-bound Python. With two or
more cores, a forked worker takes the second half of the folders while this process
takes the first, and the result is exactly the one-process pipeline's:

- The worker checks its half without the column facts (types, NOT NULL) the first half
  teaches the schema model. Each fact it looked up and did not find is recorded
  (``Schema.misses``). This process answers from its own final schema; when any answer
  exists, the worker re-checks, from the statements it already parsed, each migration
  whose lookups it answers.
- The naming rules in the worker see the first half's ids (shared timestamps).
- What a split cannot reproduce exactly falls back to the one-process run: a
  ``depends_on`` (it may reorder across the halves), a first-half migration meant for
  another database (the worker's naming rules would count it), or a worker that fails
  for any reason (the one-process run then reports the problem the usual way).

The file layouts whose tools order versions as numbers (golang-migrate, sqlx, goose;
see discovery.layouts) split too: the files are grouped by the version their names
start with, and each process reads, pairs and orders the files of half the versions, so
every migration, and every pair of one version, lies in one half and the halves follow
each other in run order. A half whose files the layout refuses, or that holds an
ambiguous order (same version, duplicate id), falls back: the one-process run reports
those first, and in its own order. Flyway (sub-folders, callbacks, undo files) and
dbmate (ordered as text) are checked in one process.

Only ``os.fork`` and pipes are used: nothing is imported for it, and the migrations are
never sent between the processes, only findings and column facts.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import signal
import threading
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from switchy_guard.check.pipeline import (
    AllowedFinding,
    ValidationResult,
    check_migration,
    learn_migration,
    naming_findings,
    parse_migration,
)
from switchy_guard.discovery.directory import DirectoryMigrations, note_reads, reads_so_far
from switchy_guard.discovery.layout import EntryCheck, _visible, migration_folders, read_migration
from switchy_guard.errors import InputError
from switchy_guard.model.findings import Finding
from switchy_guard.model.migration import Migration
from switchy_guard.rules import Schema, statement_rules
from switchy_guard.rules.naming import DIRECTORY_IDS, IdRule
from switchy_guard.sql.parse import Parsed

#: Below this many folders the second process saves next to nothing: measured on two
#: cores, 200 folders 0.118 s → 0.111 s, 500 folders 0.141 s → 0.134 s, 1,000 folders
#: 0.191 s → 0.160 s (bench/README.md).
MIN_FOLDERS = 500

#: Column types, NOT NULL columns, and the history's functions (volatility) and enums.
ColumnFacts = tuple[Mapping[tuple[str, str], str], AbstractSet[tuple[str, str]],
                    Mapping[str, str], Mapping[str, tuple[str, ...] | None]]
Misses = set[tuple[str, tuple[str, str]]]


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _Checked:
    """One migration's outcome."""

    findings: list[Finding]
    allowed: list[AllowedFinding]
    statements: int
    misses: Misses


def _knows(facts: ColumnFacts, kind: str, key: tuple[str, str]) -> bool:
    """Whether ``facts`` hold the fact a lookup of ``kind`` (type, not_null, function)
    missed."""
    types, not_null, functions, _ = facts
    if kind == "function":
        return key[0] in functions
    return key in (types if kind == "type" else not_null)


class HalfCheck:
    """Checks consecutive migrations, each on its own (the plan of ``check`` without a
    database), keeping what a later correction of its column facts needs."""

    def __init__(self, migrations: Sequence[Migration], dialect: str | None,
                 *, earlier_ids: Sequence[str] = (),
                 id_pattern: str | IdRule = DIRECTORY_IDS,
                 server_version: tuple[int, ...] | None = None) -> None:
        self.migrations = list(migrations)
        self.dialect = dialect
        self.rules = statement_rules(dialect)
        self.naming = naming_findings(self.migrations, id_pattern, earlier_ids=earlier_ids)
        self.server_version = server_version
        self.schema = Schema(server_version=server_version)
        self.parsed: list[Parsed] = []
        self.checked: list[_Checked] = []

    def run(self) -> None:
        """Check every migration, starting from an empty schema model."""
        for migration in self.migrations:
            parsed = parse_migration(migration, self.dialect)
            self.parsed.append(parsed)
            self.checked.append(self._check(migration, parsed, self.schema))

    def _check(self, migration: Migration, parsed: Parsed, schema: Schema) -> _Checked:
        schema.new_tables.clear()
        schema.new_indexes.clear()
        misses: Misses = set()
        schema.misses = misses
        allowed: list[AllowedFinding] = []
        findings, statements = check_migration(
            migration, self.dialect, schema, self.rules,
            extra=self.naming.get(migration.id, ()), allowed=allowed, parsed=parsed,
        )
        schema.misses = None
        return _Checked(findings, allowed, statements, misses)

    def misses(self) -> Misses:
        """Every column fact looked up and not found."""
        return set().union(*(checked.misses for checked in self.checked))

    def knows_any(self, misses: Misses) -> bool:
        """Whether this half's final schema holds any of ``misses``."""
        return any(_knows(self.column_facts(), kind, key) for kind, key in misses)

    def column_facts(self) -> ColumnFacts:
        """The column facts of this half's final schema."""
        return (self.schema.column_types, self.schema.not_null, self.schema.functions,
                self.schema.enums)

    def settle(self, earlier: ColumnFacts) -> None:
        """Re-check, from the parsed statements, the migrations whose lookups the column
        facts of the migrations before this half answer."""
        types, not_null, functions, enums = earlier
        schema = Schema(column_types=dict(types), not_null=set(not_null),
                        functions=dict(functions), enums=dict(enums),
                        server_version=self.server_version)
        for index, migration in enumerate(self.migrations):
            parsed = self.parsed[index]
            if any(_knows(earlier, kind, key) for kind, key in self.checked[index].misses):
                self.checked[index] = self._check(migration, parsed, schema)
            else:
                learn_migration(schema, parsed)

    def result(self) -> ValidationResult:
        """The findings, in run order, and the counts."""
        return ValidationResult(
            findings=[f for checked in self.checked for f in checked.findings],
            migrations=len(self.checked),
            statements=sum(checked.statements for checked in self.checked),
            allowed=[a for checked in self.checked for a in checked.allowed],
        )


class _Channel:
    """Length-prefixed pickled messages over a pair of pipe ends."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, message: object) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "little") + data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self) -> Any:
        size = int.from_bytes(self._exactly(8), "little")
        return pickle.loads(self._exactly(size))

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = os.read(self.read_fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the worker ended without answering")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            os.close(fd)


@dataclass(frozen=True)
class _Reader:
    """Reads migration folders the way DirectoryMigrations.load does."""

    check: EntryCheck
    checksum_mode: str
    id_pattern: str | IdRule = DIRECTORY_IDS

    def read(self, folders: Sequence[tuple[Traversable, str]]) -> list[Migration] | None:
        """The migrations, in run order (None: this half cannot be checked on its own)."""
        return [read_migration(folder, path, check=self.check, checksum_mode=self.checksum_mode)
                for folder, path in folders]


@dataclass(frozen=True)
class _FileReader(_Reader):
    """Reads the files of some versions of a file layout the way read_history does."""

    layout: str = "golang-migrate"

    def read(self, folders: Sequence[tuple[Traversable, str]]) -> list[Migration] | None:
        from switchy_guard.discovery.layouts import SqlFile, layout_named
        from switchy_guard.model.ordering import order_migrations
        from switchy_guard.rules.naming import graph_hits, ordering_hits

        try:
            loaded = layout_named(self.layout).read(
                [SqlFile(entry.name, path, entry.read_bytes()) for entry, path in folders],
                self.checksum_mode)
        except InputError:  # the one-process read reports it, the first in its order
            return None
        if next(graph_hits(loaded), None) is not None or ordering_hits(loaded, self.layout):
            return None
        return order_migrations(loaded)


#: The file layouts that split: their tools run versions in numeric order, and a file's
#: version is the number its name starts with (sqlx allows a ``+``).
_NUMERIC_LAYOUTS = ("golang-migrate", "sqlx", "goose")
_VERSION = re.compile(r"\+?([0-9]+)_")


def _version_groups(source: DirectoryMigrations, tree: Traversable, label: str,
                    check: EntryCheck) -> tuple[str, list[list[tuple[Traversable, str]]]] | None:
    """The layout of a history of files at the top of ``tree`` and its .sql files grouped
    by version, in version order; None when it is not one that splits (or is refused:
    the one-process read then says why)."""
    from switchy_guard.discovery.layouts.detect import layout_of_file

    layout = source.layout
    groups: dict[int, list[tuple[Traversable, str]]] = {}
    try:
        entries = _visible(tree.iterdir())
        for entry in entries:
            path = f"{label}/{entry.name}"
            if not entry.name.isascii() or entry.is_dir():
                return None
            check(entry, path)
            name = entry.name
            if not name.lower().endswith(".sql"):
                if layout == "goose" and name.endswith(".go"):
                    return None  # refused (a Go migration) or not: the read decides
                continue
            if layout == "auto" and layout_of_file(name, None) != "golang-migrate":
                return None
            match = _VERSION.match(name)
            if match is None:
                return None
            groups.setdefault(int(match.group(1)), []).append((entry, path))
    except InputError:
        return None
    if layout == "auto":
        layout = "golang-migrate"
    if layout not in _NUMERIC_LAYOUTS:
        return None
    return layout, [groups[version] for version in sorted(groups)]


def _worker(channel: _Channel, reader: _Reader, folders: Sequence[tuple[Traversable, str]],
            dialect: str | None, earlier_ids: Sequence[str],
            server_version: tuple[int, ...] | None = None) -> None:
    read = reader.read(folders)
    kept = [m for m in read or () if m.applies_to(dialect)]
    if read is None or any(m.depends_on for m in kept):
        channel.send(None)
        return
    half = HalfCheck(kept, dialect, earlier_ids=earlier_ids, id_pattern=reader.id_pattern,
                     server_version=server_version)
    half.run()
    channel.send(half.misses())
    earlier = channel.receive()
    if earlier is not None:
        half.settle(earlier)
    channel.send((half.result(), reads_so_far()))


def check_in_two(source: DirectoryMigrations, dialect: str | None,
                 *, min_folders: int | None = None,
                 server_version: tuple[int, ...] | None = None) -> ValidationResult | None:
    """``validate`` of every migration of ``source``, each on its own, in two processes.

    None when the split is not worth it (fewer than ``min_folders`` folders, by default
    MIN_FOLDERS), not possible (no ``fork``, or other threads running) or cannot be
    exact (see the module docs): the caller then runs the pipeline itself. Errors in
    the first half's folders are raised as the one-process reader raises them.
    """
    # Forking a process that runs other threads can copy a lock one of them holds.
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    tree, label, check = source.tree(dialect)
    least = max(MIN_FOLDERS if min_folders is None else min_folders, 2)
    reader: _Reader
    if source.layout in ("auto", "switchy") \
            and all(entry.is_dir() for entry in tree.iterdir()):
        folders = migration_folders(tree, label, check=check)
        if len(folders) < least:
            return None
        reader = _Reader(check, source.checksum_mode)
        source.detected_layout = "switchy"
        cut = len(folders) // 2
        earlier_ids = [folder.name for folder, _ in folders[:cut]]
    else:  # files at the top: another layout, or a mixed folder the read refuses
        found = None if source.layout == "switchy" else _version_groups(
            source, tree, label, check)
        if found is None or len(found[1]) < least:
            return None
        from switchy_guard.discovery.layouts import id_pattern_of

        layout, groups = found
        reader = _FileReader(check, source.checksum_mode, id_pattern_of(layout) or DIRECTORY_IDS,
                             layout=layout)
        source.detected_layout = layout
        cut = len(groups) // 2
        # A migration's id is the version as its file name writes it.
        earlier_ids = [group[0][0].name.partition("_")[0] for group in groups[:cut]]
        cut = sum(len(group) for group in groups[:cut])
        folders = [file for group in groups for file in group]
    to_worker = os.pipe()
    from_worker = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        code = 0
        try:
            os.close(to_worker[1])
            os.close(from_worker[0])
            _worker(_Channel(to_worker[0], from_worker[1]), reader, folders[cut:], dialect,
                    earlier_ids, server_version)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(to_worker[0])
    os.close(from_worker[1])
    channel = _Channel(from_worker[0], to_worker[1])
    result = None
    try:
        result = _first_half(channel, reader, folders[:cut], dialect, server_version)
    except EOFError:
        pass
    finally:
        channel.close()
        _reap(pid, answered=result is not None)
    return result


def _first_half(channel: _Channel, reader: _Reader,
                folders: Sequence[tuple[Traversable, str]],
                dialect: str | None,
                server_version: tuple[int, ...] | None = None) -> ValidationResult | None:
    migrations = reader.read(folders)
    if migrations is None or any(m.depends_on or not m.applies_to(dialect)
                                 for m in migrations):
        return None
    half = HalfCheck(migrations, dialect, id_pattern=reader.id_pattern,
                     server_version=server_version)
    half.run()
    misses = channel.receive()
    if misses is None:
        return None
    channel.send(half.column_facts() if half.knows_any(misses) else None)
    second, reads = channel.receive()
    note_reads(reads)
    first = half.result()
    return ValidationResult(
        findings=first.findings + second.findings,
        migrations=first.migrations + second.migrations,
        statements=first.statements + second.statements,
        allowed=first.allowed + second.allowed,
    )


def _reap(pid: int, *, answered: bool) -> None:
    """Wait for the worker; one that has not answered everything is ended first."""
    if not answered:
        with contextlib.suppress(ProcessLookupError):  # it may have ended already
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
