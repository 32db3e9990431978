"""A cache of ``check`` reports for unchanged migration folders.

A report is keyed by the content of every file under the migrations root (its relative
path and SHA-256), every folder's path, the dialect, the checksum mode, and a digest of
the code that produces findings (the rules, the SQL understanding, the pipeline and the
package version), so a changed rule set or configuration never serves a stale report.
Only ``check`` without a database or git base uses it: those bring state from outside.

Two lookups, cheapest first:

1. The stat key: every entry's path, size and modification time. When nothing was
   touched since the report was stored, this answers without opening a file.
2. The content key: when the stat key misses (a fresh clone or checkout, ``touch``, an
   editor that rewrote a file unchanged), the files are hashed, and a file whose size and
   modification time match the index of the last run reuses the hash stored there, so
   only changed files are read. Same content, same report.

A file modified within two seconds of being hashed keeps no hash in the index, and a
tree holding one gets no stat key: a second edit within the same timestamp tick could
otherwise go unseen (git's "racy" index problem). Such files are always read again. The
cache lives in ``$SWITCHY_CACHE_DIR``, else ``$XDG_CACHE_HOME/switchy-guard``, else
``~/.cache/switchy-guard``; any failure to read or write it just means no cache, and a
file there that is not this user's alone is never read (see cachefiles).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from switchy_guard.discovery.cachefiles import read_private_json, write_private_json
from switchy_guard.version import __version__

RACY_SECONDS = 2.0
_CODE_PARTS = ("rules", "sql", "check", "model", "discovery")


def cache_dir() -> Path:
    """Where cached reports are kept."""
    explicit = os.environ.get("SWITCHY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "switchy-guard"


def code_digest() -> str:
    """A digest of the source of everything that shapes a report."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for part in _CODE_PARTS:
        path = package / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


Walk = tuple[list[tuple[str, int, int]], list[str]]


def walk_tree(root: str) -> Walk | None:
    """Every file under ``root`` as (path, size, mtime in ns), and every folder's path;
    None when the tree cannot be read.

    Entries come in the order the file system lists them, unsorted: this walk is most of
    a cache hit's time, so it stays lean (a folder needs no stat: its type comes with the
    listing). Symlinked folders are followed once (discovery reads through them).
    """
    files: list[tuple[str, int, int]] = []
    folders: list[str] = []
    pending = [root]
    followed: set[str] = set()
    try:
        while pending:
            folder = pending.pop()
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.is_dir():
                        if entry.is_symlink():
                            target = os.path.realpath(entry.path)
                            if target in followed:
                                continue
                            followed.add(target)
                        pending.append(entry.path)
                        folders.append(entry.path)
                        continue
                    stat = entry.stat()
                    files.append((entry.path, stat.st_size, stat.st_mtime_ns))
    except OSError:
        return None
    return files, folders


def _sha256_of(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class CheckCache:
    """The cached report of one migrations root and dialect (see the module docs)."""

    def __init__(self, root: str | Path, dialect: str | None, checksum_mode: str = "file",
                 variant: str = "") -> None:
        self.root = Path(root).resolve()
        self.given = str(Path(root))  # how discovery spells the paths it reads
        self.dialect = dialect
        # The root as given is part of the name: reports name files the way it was spelled.
        # ``variant``: other settings the report depends on (the layout asked for).
        setting = f"{root}\0{self.root}\0{dialect}\0{checksum_mode}\0{variant}"
        name = hashlib.sha256(setting.encode()).hexdigest()[:24]
        self.path = cache_dir() / f"check-{name}.json"
        self.index_path = cache_dir() / f"check-{name}.index.json"
        self._salt = f"{setting}\0{code_digest()}"
        self._walk = walk_tree(str(self.root)) if self.root.is_dir() else None
        self.key = self._stat_key()
        self._content: tuple[str, dict[str, tuple[int, int, str, bool]]] | None = None

    def _stat_key(self) -> str | None:
        if self._walk is None:
            return None
        files, folders = self._walk
        newest = max((mtime for _, _, mtime in files), default=0)
        if time.time_ns() - newest < RACY_SECONDS * 1e9:
            return None
        entries = repr((files, folders)).encode()
        return hashlib.sha256(entries + b"\0" + self._salt.encode()).hexdigest()

    def content_key(self, read: Mapping[str, str] | None = None) -> str | None:
        """The key from the files' content, reading only files neither the index of the
        last run nor ``read`` (digests by path as given, from logged_reads) vouch for."""
        if self._walk is None:
            return None
        if self._content is None:
            files, folders = self._walk
            known = read_private_json(self.index_path)
            index = known.get("files") if known else None
            if not isinstance(index, dict):
                index = {}
            read = read or {}
            skip = len(str(self.root)) + 1
            given = self.given + "/"
            # Only hashes of files older than the racy window when hashed are kept.
            trusted_before = time.time_ns() - RACY_SECONDS * 1e9
            hashes: dict[str, tuple[int, int, str, bool]] = {}
            try:
                for path, size, mtime in files:
                    relative = path[skip:]
                    digest = read.get(given + relative)
                    if digest is None:
                        entry = index.get(relative)
                        digest = (entry[2] if isinstance(entry, list) and entry[:2] == [size, mtime]
                                  else _sha256_of(path))
                    hashes[relative] = (size, mtime, digest, mtime < trusted_before)
            except OSError:
                self._walk = None
                return None
            listing = [f"{relative}\0{hashes[relative][2]}" for relative in sorted(hashes)]
            listing += sorted(f"{folder[skip:]}/" for folder in folders)
            self._content = hashlib.sha256(
                # A hidden file's name may not be UTF-8 (discovery skips it): its bytes.
                "\0".join([self._salt, *listing]).encode("utf-8", "surrogateescape")
            ).hexdigest(), hashes
        return self._content[0]

    def load(self) -> dict[str, Any] | None:
        """The cached report for the current files, or None."""
        data = read_private_json(self.path)
        report = data.get("report") if data else None
        if not isinstance(report, dict) or data is None:
            return None
        if self.key is not None and data.get("key") == self.key:
            return report
        content = self.content_key()
        if content is None or data.get("content") != content:
            return None
        self.store(report)  # the next check of these files is a stat hit
        return report

    def store(self, report: dict[str, Any], read: Mapping[str, str] | None = None) -> None:
        """Keep ``report`` under the current keys (with the index of file hashes);
        ``read``: digests of files the check read, by path (see :meth:`content_key`)."""
        content = self.content_key(read)
        if content is None or self._content is None:
            return
        index = {relative: entry[:3] for relative, entry in self._content[1].items()
                 if entry[3]}
        with contextlib.suppress(OSError):
            write_private_json(self.index_path, {"files": index})
            write_private_json(self.path, {"key": self.key, "content": content, "report": report})
