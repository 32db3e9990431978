"""A database error in the database's own words, on one line, passwords masked."""

from __future__ import annotations

from typing import Any

from switchy_guard import masking


def database_reason(error: BaseException) -> str:
    """The database's own words for ``error`` on one line, passwords masked.

    Takes SQLAlchemy's DBAPIError or the driver's exception. PostgreSQL's hint is kept
    (for a new enum value used in the transaction that added it, the hint is the fix),
    and PyMySQL's ``(1050, "Table 'a' already exists")`` reads as a sentence.
    """
    orig = getattr(error, "orig", None) or error
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = f"{args[1]} (MySQL error {args[0]})"
    else:
        text = str(orig)
    lines = text.strip().splitlines()
    reason = lines[0].strip() if lines else type(orig).__name__
    hint = getattr(getattr(orig, "diag", None), "message_hint", None)
    if isinstance(hint, str) and hint.strip():
        reason += f" (hint: {hint.strip().splitlines()[0]})"
    return masking.mask_message(reason)
