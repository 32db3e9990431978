"""Timing one command: wall seconds and peak memory (shared by the bench suites)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def timed(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one run of ``command``.

    An exit code outside ``ok_codes`` is an error (a linter reporting findings may exit 1).

    The peak comes from GNU time when present: a child forked from this (large) process
    would otherwise report this process's pages as its own.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *command] if GNU_TIME else command
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in ok_codes:
            raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
        text = rss.read().strip()
        peak_kb = int(text.splitlines()[-1]) if GNU_TIME and text else usage.ru_maxrss
    return elapsed, peak_kb // 1024
