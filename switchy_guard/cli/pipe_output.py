"""Standard output whose reader may leave early (``switchy-guard migrate | head``)."""

from __future__ import annotations

import contextlib
import os
from typing import Any, TextIO


class ReaderSafeOutput:
    """Writes to ``stream`` until its reader goes away, then drops output silently.

    The work goes on: a ``migrate`` whose progress nobody reads any more still finishes
    its run and its journal, and its exit code still says how it went. Without this, the
    first progress line written after ``head`` exits raises BrokenPipeError between two
    migrations, stopping the run there with a traceback.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        """Write ``text``, or drop it once the reader has gone."""
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._lose_reader()
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader has gone."""
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._lose_reader()

    def _lose_reader(self) -> None:
        self.reader_gone = True
        # The interpreter flushes stdout once more at exit; point the descriptor at
        # /dev/null so that flush does not fail again.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
