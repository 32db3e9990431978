"""The one JSON document a verb prints under ``--format json`` when it fails.

Every verb prints exactly one JSON document on stdout under ``--format json``, whatever
happens. A verb that succeeds prints its own document, in the shape documented for it.
One that fails (a gate's refusal, exit 1; bad usage, configuration or input, exit 2; a
database or lock out of reach, exit 3) prints::

    {"ok": false, "exit_code": 2, "verb": "migrate",
     "error": {"class": "ConfigError", "message": "..."}, ...}

``message`` is the line printed on stderr after ``error: `` (secrets masked); ``verb``
is null when the command line named none. Whatever the verb had to say before it
stopped (the impact report of a refused ``migrate``, the ``done`` and ``failed`` of a
run a migration broke) follows, under its own keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

#: The keys of a failure document that the verb's partial report never overrides.
ENVELOPE_KEYS = ("ok", "exit_code", "verb", "error")


def failure_document(exit_code: int, error_class: str, message: str, *,
                     verb: str | None = None,
                     partial: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The document of a failed verb: the envelope, then the verb's partial report."""
    document: dict[str, Any] = {
        "ok": False, "exit_code": exit_code, "verb": verb,
        "error": {"class": error_class, "message": message},
    }
    for key, value in (partial or {}).items():
        document.setdefault(key, value)
    return document


def write_document(out: TextIO, data: Any) -> None:
    """``data`` as one indented JSON document on ``out``, every string masked."""
    from switchy_guard.masking import mask_data, mask_text

    json.dump(mask_data(data), out, indent=2, default=lambda value: mask_text(str(value)))
    out.write("\n")


def asks_for_json(argv: Sequence[str]) -> bool:
    """Whether a command line argparse could not read asked for ``--format json`` (a
    usage error is then answered in JSON too; best effort: the last ``--format`` wins,
    as it would have)."""
    wanted = None
    for number, word in enumerate(argv):
        if word == "--format" and number + 1 < len(argv):
            wanted = argv[number + 1]
        elif word.startswith("--format="):
            wanted = word.partition("=")[2]
    return wanted == "json"
