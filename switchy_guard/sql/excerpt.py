"""A statement as findings and reports show it: on one line, cut to a length."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=256)
def excerpt(text: str, limit: int = 160) -> str:
    """A statement on one line, cut at ``limit`` characters.

    Cached: each finding of a statement gets its excerpt, and flattening the whole text
    once per finding was quadratic (an ALTER TABLE of 4,000 DROP PARTITION actions, each
    a finding, took over 10 s).
    """
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
