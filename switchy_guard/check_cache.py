"""A cache of ``check`` reports for unchanged migration folders.

The key covers everything a report depends on: every file and folder under the
migrations root (relative path, size, modification time), the dialect, and a digest of
the code that produces findings (the rules, the SQL understanding, the pipeline and the
package version), so a changed rule set or configuration never serves a stale report.
Only ``check`` without a database or git base uses it: those bring state from outside.

A tree with a file modified in the last two seconds is not cached, because a second
edit within the same timestamp tick could go unseen (git's "racy" index problem). The
cache lives in ``$SWITCHY_CACHE_DIR``, else ``$XDG_CACHE_HOME/switchy-guard``, else
``~/.cache/switchy-guard``; any failure to read or write it just means no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from . import __version__

RACY_SECONDS = 2.0
_CODE_PARTS = ("rules", "sql", "validation.py", "check.py", "findings.py", "migration.py",
               "checksum.py", "discovery")


def cache_dir() -> Path:
    """Where cached reports are kept."""
    explicit = os.environ.get("SWITCHY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "switchy-guard"


def code_digest() -> str:
    """A digest of the source of everything that shapes a report."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for part in _CODE_PARTS:
        path = package / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(package).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def tree_fingerprint(root: Path) -> str | None:
    """A digest of every entry under ``root``; None when the tree is racy or unreadable.

    Entries are hashed in the order the file system lists them, unsorted: an unchanged
    tree lists the same way, and a different order can only cause a miss, never a stale
    hit. This walk is most of a cache hit's time, so it stays lean.
    """
    entries: list[tuple[str, int, int] | str] = []
    newest = 0
    pending = [str(root)]
    try:
        while pending:
            folder = pending.pop()
            with os.scandir(folder) as listing:
                for entry in listing:
                    # A folder needs no stat (the type comes with the listing): its
                    # content is covered entry by entry, and its path is in the key.
                    if entry.is_dir():
                        pending.append(entry.path)
                        entries.append(entry.path)
                        continue
                    stat = entry.stat()
                    entries.append((entry.path, stat.st_size, stat.st_mtime_ns))
                    newest = max(newest, stat.st_mtime_ns)
    except OSError:
        return None
    if time.time_ns() - newest < RACY_SECONDS * 1e9:
        return None
    return hashlib.sha256(repr(entries).encode()).hexdigest()


class CheckCache:
    """The cached report of one migrations root and dialect."""

    def __init__(self, root: str | Path, dialect: str | None, checksum_mode: str = "file") -> None:
        self.root = Path(root).resolve()
        self.dialect = dialect
        # The root as given is part of the name: reports name files the way it was spelled.
        setting = f"{root}\0{self.root}\0{dialect}\0{checksum_mode}"
        name = hashlib.sha256(setting.encode()).hexdigest()[:24]
        self.path = cache_dir() / f"check-{name}.json"
        fingerprint = tree_fingerprint(self.root) if self.root.is_dir() else None
        self.key = (
            hashlib.sha256(f"{fingerprint}\0{setting}\0{code_digest()}".encode()).hexdigest()
            if fingerprint else None
        )

    def load(self) -> dict[str, Any] | None:
        """The cached report for the current key, or None."""
        if self.key is None:
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != self.key:
            return None
        report = data.get("report")
        return report if isinstance(report, dict) else None

    def store(self, report: dict[str, Any]) -> None:
        """Keep ``report`` under the current key (nothing when the tree was racy)."""
        if self.key is None:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps({"key": self.key, "report": report}),
                                 encoding="utf-8")
            os.replace(temporary, self.path)
