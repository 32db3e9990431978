"""Column types SQLAlchemy does not know, said once instead of once per column.

SQLAlchemy's inspector warns ``Did not recognize type 'ltree' of column 'path'`` for every
column of a type it has no class for (an extension's type: ``ltree``, ``citext``,
``hstore``, PostGIS ``geometry``), at every reflection: a verify of a real history printed
hundreds of them. :func:`collect_unknown_types` gathers the type names instead, and
:func:`unknown_types_note` says them in one line. The column is still reflected (as
``NullType``), and verify compares it by its type's name.

No SQLAlchemy import here: the command line wraps every verb in this, ``check`` without a
database included, which never imports SQLAlchemy.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_UNRECOGNIZED = re.compile(r"Did not recognize type '(?P<type>.*?)' of column '")


@contextmanager
def collect_unknown_types(found: set[str] | None = None) -> Iterator[set[str]]:
    """Inside the block, SQLAlchemy's "Did not recognize type" warnings are not shown:
    the type names are added to ``found`` (a new set when None), which is yielded and
    complete once the block ends. Any other warning is shown as it would have been."""
    names: set[str] = set() if found is None else found
    with warnings.catch_warnings(record=True) as caught:
        # Every one, not once per place: each may name another type.
        warnings.filterwarnings("always", message="Did not recognize type")
        try:
            yield names
        finally:
            others = []
            for warning in caught:
                match = _UNRECOGNIZED.match(str(warning.message))
                if match:
                    names.add(match["type"])
                else:
                    others.append(warning)
    for warning in others:  # outside the block: shown (or raised) as the filters say
        warnings.warn_explicit(warning.message, warning.category, warning.filename,
                               warning.lineno, source=warning.source)


def unknown_types_note(types: Iterable[str]) -> str | None:
    """``note: SQLAlchemy does not know the column types ltree, citext; ...``, or None."""
    names = sorted(set(types))
    if not names:
        return None
    plural = "s" if len(names) > 1 else ""
    return (f"note: SQLAlchemy does not know the column type{plural} {', '.join(names)}; "
            f"{'they are' if plural else 'it is'} compared by name")
