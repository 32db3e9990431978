"""Checksums, compatible with switchy_schema.

- Directory and embedded migrations: SHA-256 (lowercase hex) of the exact file bytes; a
  missing file hashes as empty bytes.
- Raw-SQL code migrations: ``sha256(b"EXEC_RAW:" + sql_utf8)``.
- Python callables: ``sha256(b"PYTHON:" + module + b":" + qualname + b"\\n" + source)``
  where ``source`` is the callable's source text (``inspect.getsource``) in UTF-8, so the
  digest changes exactly when the code changes. A callable whose source is unavailable
  hashes its qualified name alone; pass ``checksum=`` explicitly in that case. A callable
  object (an instance with ``__call__``) hashes its class that way; a
  ``functools.partial`` hashes its function and then ``PARTIAL:`` + the repr of its
  arguments, memory addresses removed, so no digest changes from one run to the next.
- ``UNKNOWN_CHECKSUM`` (64 zeros) is what the Rust tool writes when it does not know one.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from collections.abc import Callable
from typing import Any

UNKNOWN_CHECKSUM = "0" * 64
EMPTY_CHECKSUM = hashlib.sha256(b"").hexdigest()

#: How file sources hash their scripts: ``file`` (the bytes, switchy_schema's directory
#: sources) or ``exec-raw`` (what MoosicBox stores, as it loads its SQL files as raw-SQL
#: code migrations). A missing file hashes as empty bytes in both modes.
CHECKSUM_MODES = ("file", "exec-raw")


def checked_mode(mode: str) -> str:
    """``mode`` when it is one of CHECKSUM_MODES; ConfigError (exit 2) otherwise."""
    if mode not in CHECKSUM_MODES:
        from switchy_guard.errors import ConfigError

        raise ConfigError(f"unknown checksum mode {mode!r} (known: {', '.join(CHECKSUM_MODES)})")
    return mode


def script_checksum(data: bytes | None, mode: str = "file") -> str:
    """Checksum of a script file's bytes in ``mode`` (see CHECKSUM_MODES)."""
    if data is None or mode == "file":
        return file_checksum(data)
    if mode == "exec-raw":
        return exec_raw_checksum(data)
    raise ValueError(f"unknown checksum mode {mode!r}")


def file_checksum(data: bytes | None) -> str:
    """Checksum of a migration file's bytes (``None`` for a missing file)."""
    return hashlib.sha256(data or b"").hexdigest()


def exec_raw_checksum(sql: str | bytes) -> str:
    """Checksum switchy_schema stores for a raw-SQL code migration."""
    payload = sql.encode("utf-8") if isinstance(sql, str) else sql
    return hashlib.sha256(b"EXEC_RAW:" + payload).hexdigest()


def callable_checksum(func: Callable[..., Any] | None) -> str:
    """Stable digest of a Python migration callable (see the module docs)."""
    if func is None:
        return EMPTY_CHECKSUM
    return hashlib.sha256(_callable_payload(func).encode()).hexdigest()


#: Memory addresses in reprs change from one run to the next; they never reach a digest.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _callable_payload(func: Callable[..., Any]) -> str:
    if isinstance(func, functools.partial):
        arguments = repr((func.args, sorted(func.keywords.items())))
        return f"{_callable_payload(func.func)}PARTIAL:{_ADDRESS.sub('', arguments)}\n"
    # A callable object has no __qualname__ of its own: its class is its code.
    target = func if hasattr(func, "__qualname__") else type(func)
    module = getattr(target, "__module__", "") or ""
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        source = ""
    return f"PYTHON:{module}:{target.__qualname__}\n{source}"
