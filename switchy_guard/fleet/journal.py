"""The fleet journal (``--journal FILE``): one JSON object a line, appended and flushed
to disk as each target starts and ends, so a fleet process killed at any point leaves a
record of what it had started and finished.

Lines: ``{"event": "fleet", ...}`` once per run (verb, targets, shard), then per target
``{"event": "start", "target": NAME, "wave": ...}`` and ``{"event": "end", "target":
NAME, "result": ..., "done": [...], "reason": ...}``. Targets are named, never their URLs;
reasons are masked. A re-run reads the last ``end`` of each target: one whose last result
was a failure is skipped unless ``--retry-failed``; every other target is judged by its
own tracking table (one with nothing pending is up to date, whatever the journal says).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchy_guard.errors import InputError
from switchy_guard.fleet.rollout import FAILED, TargetResult
from switchy_guard.masking import mask_data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FleetJournal:
    """Appends the journal's lines (thread-safe; each line written and fsynced whole)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as error:
            raise InputError(f"{path}: cannot open the fleet journal: {error.strerror}"
                             ) from None

    def write(self, event: str, **data: Any) -> None:
        """One line: ``event``, the time, and ``data`` (masked)."""
        line = json.dumps({"event": event, "time": _now(), **mask_data(data)},
                          ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def start(self, name: str, wave: str) -> None:
        """A target is starting."""
        self.write("start", target=name, wave=wave)

    def end(self, result: TargetResult) -> None:
        """A target has ended (skipped targets too, with why)."""
        data = result.to_dict()
        self.write("end", **{key: value for key, value in data.items() if key != "target"},
                   target=result.name)

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def last_results(path: str | Path) -> dict[str, dict[str, Any]]:
    """Each target's last ``end`` line in the journal (none: an empty dict). A line cut
    short by a kill (the last one) is ignored; any other bad line is refused."""
    path = Path(path)
    if not path.exists():
        return {}
    results: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the fleet journal: {error}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # the process died mid-line
                break
            raise InputError(f"{path}:{number}: not a fleet journal line (JSON)") from None
        if not isinstance(entry, dict):
            raise InputError(f"{path}:{number}: not a fleet journal line (an object)")
        if entry.get("event") == "end" and isinstance(entry.get("target"), str):
            results[entry["target"]] = entry
    return results


def failed_before(path: str | Path) -> dict[str, str]:
    """The targets whose last result in the journal was a failure: name -> why skipped."""
    return {name: f"failed in an earlier run ({entry.get('reason') or entry.get('result')});"
                  " --retry-failed retries it"
            for name, entry in last_results(path).items() if entry.get("result") in FAILED}
