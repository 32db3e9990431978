"""Reading and writing cache files only this user could have written.

A cache folder may be shared (``SWITCHY_CACHE_DIR`` on a build machine, a world-writable
folder): a file another user put there could make ``check`` report a dangerous migration
clean, or hand ``--offline`` runs another index. A cache file is therefore read only when
it is a regular file (not a link) owned by this user and writable by no one else, and
written through a new temporary file (never through a name someone else prepared) that
only this user may read and write.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


def read_private(path: Path) -> bytes | None:
    """The bytes of ``path``, or None when it is missing, unreadable or not this user's
    alone (see the module docs)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022:
            return None
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            return None
        try:
            return handle.read()
        except OSError:
            return None


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (folders made as needed, only this user's).
    Raises OSError when it cannot."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_private_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path`` (read as :func:`read_private` reads), or None when it
    is missing, not this user's alone, not JSON or not an object."""
    raw = read_private(path)
    try:
        data = json.loads(raw.decode("utf-8")) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """:func:`write_private` of ``data`` as compact JSON."""
    write_private(path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
