"""Every secret masked, and every outside text made safe to print, in one place.

What counts as a secret (masked as ``***``):

- the password of any URL-shaped ``scheme://user:password@host``, whatever the scheme;
  the password runs to the *last* ``@`` of the word (an unencoded ``@``, ``#``, quote or
  ``%``-escape in it is masked with it), and in a command-line argument, which is one
  value, to the last ``@`` of the argument (so an unencoded space is masked too);
- the value of a ``key=value`` parameter whose key, percent-decoded and case-folded
  (``pass%77ord``, ``PASSWORD``), after its last ``.`` and with ``-`` read as ``_``, is
  one of :data:`SECRET_KEYS` or ends with one of :data:`SECRET_KEY_ENDINGS`:
  ``password``, ``sslpassword``, ``PGPASSWORD``, ``MYSQL_PWD``, ``client_secret``,
  ``access_token``, ``--password=``... This covers URL queries (``?password=``, ended
  by ``&``), libpq keyword strings (``password='a b#c'``, quoted values with
  ``\\'`` escapes; spaces around ``=`` allowed), environment assignments and flags;
  ``"token": "..."`` (a quoted key with a colon, as JSON writes it) too;
- ``Authorization: <scheme> <credentials>`` and ``Bearer <token>``;
- a flag named like a secret (``--password``, ``--token``) masks the argument after it;
- the secrets this run was handed (:func:`known_secrets`), wherever they appear.

Scanning is linear in the text: a handful of anchor searches (``re`` patterns without
nested or unbounded backtracking) and bounded look-arounds; each region is masked once.
Error text quoted from outside is cut to :data:`MESSAGE_LIMIT` characters
(:func:`mask_message`), after masking, so a cut never leaves half a URL unmasked.

This module imports nothing heavy (no SQLAlchemy): ``check`` and the remote source use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO
from urllib.parse import unquote

MASK = "***"

#: Keys whose value is a secret, compared percent-decoded, case-folded, after the last
#: ``.`` and with ``-`` read as ``_`` (leading dashes of a flag dropped).
SECRET_KEYS = frozenset((
    "pass", "pwd", "auth", "authorization", "apikey", "api_key", "access_key",
    "private_key", "secret_key", "credentials", "sslpassword",
))
#: Key endings that make a key secret: ``db_password``, ``PGPASSWORD``, ``MYSQL_PWD``,
#: ``client_secret``, ``refresh_token``...
SECRET_KEY_ENDINGS = ("password", "passwd", "passphrase", "secret", "token", "_pwd",
                      "_pass", "_apikey", "_api_key")

#: The most characters of outside error text (a database's, a server's) quoted.
MESSAGE_LIMIT = 2000

# A key: up to 64 key characters not preceded by one (so each run of key characters is
# tried from its start only, and at most 64 characters back: linear), an optional
# closing quote (JSON keys), then "=" or ":".
_KEY = re.compile(r"(?<![\w%.-])([\w%.-]{1,64})(['\"]?)[ \t]{0,8}([=:])")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_WORD_END = re.compile(r"\s")
_AMPERSAND = re.compile("&")
_AMPERSAND_OR_SPACE = re.compile(r"[&\s]")
_BEARER = re.compile(r"(?<![\w-])bearer[ \t]+(?=[^\s])", re.IGNORECASE)
_AUTH_SCHEME = re.compile(r"[ \t]*[A-Za-z][\w-]{0,32}[ \t]+(?=[^\s])")
# How far past the end of a word a password holding a space may run to its "@".
_SPACED_PASSWORD_REACH = 256
# Shorter secrets of a run are masked where they stand (in URLs, after keys), not
# wherever they appear: "test" would be masked out of every word holding it.
_SECRET_FLAG_MIN = 6
_GIVEN_MIN = 4  # a token a caller hands mask_text itself

_known: ContextVar[frozenset[str] | None] = ContextVar("switchy_known_secrets", default=None)


def is_secret_key(key: str) -> bool:
    """Whether a parameter named ``key`` holds a secret (see the module docs)."""
    name = unquote(key.lstrip("-")).casefold().rsplit(".", 1)[-1].replace("-", "_")
    return name in SECRET_KEYS or name.endswith(SECRET_KEY_ENDINGS)


# -- spans ------------------------------------------------------------------------------


def _url_spans(text: str, whole: bool) -> Iterator[tuple[int, int]]:
    """The password spans of ``scheme://user:password@host`` URLs in ``text``."""
    covered = 0
    anchors = [m.start() for m in re.finditer("://", text)]
    for number, anchor in enumerate(anchors):
        start = anchor + 3
        if start < covered:
            continue
        if whole:
            end = len(text)
        else:
            found = _WORD_END.search(text, start)
            end = found.start() if found else len(text)
        covered = end
        at = text.rfind("@", start, end)
        colon = text.find(":", start, at if at >= 0 else end)
        if colon < 0 or "/" in text[start:colon]:
            continue  # no user:password, or the colon is in a path
        if at < 0:
            # A password holding a space: its "@" comes after the word ends.
            limit = min(end + _SPACED_PASSWORD_REACH, len(text),
                        anchors[number + 1] if number + 1 < len(anchors) else len(text))
            newline = text.find("\n", end, limit)
            at = text.rfind("@", end, newline if newline >= 0 else limit)
            if at < 0:
                continue
            covered = at
        yield colon + 1, at


def _value_end(text: str, start: int, in_query: bool, whole: bool) -> int:
    """Where an unquoted value starting at ``start`` ends: a URL query's at ``&``, and
    in free text at the word's end; in an argument (one value) at its end."""
    if whole and not in_query:
        return len(text)
    pattern = (_AMPERSAND if whole else _AMPERSAND_OR_SPACE) if in_query else _WORD_END
    found = pattern.search(text, start)
    return found.start() if found else len(text)


def _key_spans(text: str, whole: bool) -> Iterator[tuple[int, int]]:
    """The value spans of secret ``key=value`` parameters (and JSON ``"key": value``)."""
    covered = 0
    for match in _KEY.finditer(text):
        if match.start() < covered:
            continue
        key, quote, separator = match.groups()
        if separator == ":" and not quote and key.casefold() != "authorization":
            continue
        if not is_secret_key(key):
            continue
        start = match.end()
        while start < len(text) and text[start] in " \t":
            start += 1
        if key.casefold().lstrip("-") == "authorization":
            scheme = _AUTH_SCHEME.match(text, start)
            if scheme and not text[start:scheme.end()].strip().startswith(("'", '"')):
                start = scheme.end()
        quoted = _QUOTED.match(text, start) if start < len(text) else None
        if quoted:
            end = quoted.end() - 1
            start += 1
        elif start < len(text) and text[start] in "'\"":  # never closed: to the line's end
            newline = text.find("\n", start)
            start, end = start + 1, newline if newline >= 0 else len(text)
        else:
            in_query = match.start() > 0 and text[match.start() - 1] in "?&"
            end = _value_end(text, start, in_query, whole)
        if end > start:
            covered = end
            yield start, end


def _bearer_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _BEARER.finditer(text):
        found = _WORD_END.search(text, match.end())
        yield match.end(), found.start() if found else len(text)


def _unparsed_span(argument: str) -> tuple[int, int] | None:
    """In one argument holding ``user:password@host`` without a ``scheme://`` (a URL
    typed wrong: ``postgres//u:pw@h``, ``u:pw@h``), everything from the first colon of
    its user part to its last ``@``: where the user part starts cannot be known, so this
    masks more than a password rather than risk showing one."""
    at = argument.rfind("@")
    if at < 0 or "://" in argument:
        return None
    slashes = argument.find("//", 0, at)
    colon = argument.find(":", slashes + 2 if slashes >= 0 else 0, at)
    return None if colon < 0 else (colon + 1, at)


def _apply(text: str, spans: Iterable[tuple[int, int]]) -> str:
    pieces, last = [], 0
    for start, end in sorted(spans):
        if end <= last:
            continue
        start = max(start, last)
        pieces += [text[last:start], MASK]
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _spans(text: str, whole: bool) -> list[tuple[int, int]]:
    spans = [*_url_spans(text, whole), *_key_spans(text, whole), *_bearer_spans(text)]
    if whole:
        unparsed = _unparsed_span(text)
        if unparsed:
            spans.append(unparsed)
    return spans


# -- the masking functions --------------------------------------------------------------


def _scrub_known(text: str, extra: Iterable[str] = ()) -> str:
    secrets = [*(_known.get() or ()), *(s for s in extra if s and len(s) >= _GIVEN_MIN)]
    # Longest first: a secret holding a shorter one is masked whole.
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` (a message, free text) with every secret masked (see the module docs);
    ``secrets`` are more values to mask wherever they appear (a token)."""
    text = _scrub_known(text, secrets)
    return _apply(text, _spans(text, whole=False))


def mask_argument(argument: str) -> str:
    """One command-line argument (one value: it may hold spaces) with its secrets
    masked; a URL's password runs to the argument's last ``@``."""
    argument = _scrub_known(argument)
    return _apply(argument, _spans(argument, whole=True))


def mask_command(argv: Sequence[str]) -> str:
    """``argv`` joined into one line with every secret masked, argument by argument;
    the argument after a flag named like a secret (``--password X``) is masked whole."""
    shown = []
    for number, argument in enumerate(argv):
        previous = argv[number - 1] if number else ""
        if previous.startswith("-") and "=" not in previous and is_secret_key(previous):
            shown.append(MASK)
        else:
            shown.append(mask_argument(argument))
    return " ".join(shown)


def mask_url(url: str) -> str:
    """A URL given as text with its password masked (and any secret query parameter);
    a URL that does not parse (``postgres//u:pw@h``) is masked from its user part's
    first colon to its last ``@``."""
    return mask_argument(url)


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} characters cut)"


def mask_message(text: str, *, limit: int = MESSAGE_LIMIT, secrets: Iterable[str] = ()) -> str:
    """Error text from outside (a database, a server) as quoted in a message: masked,
    made printable on one line, and cut to ``limit`` characters."""
    return cut(printable(mask_text(text, secrets=secrets), newlines=False), limit)


def mask_data(data: Any) -> Any:
    """``data`` (JSON-ready: dicts, lists, strings) with every string masked."""
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, Mapping):
        return {key: mask_data(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [mask_data(value) for value in data]
    return data


# -- the secrets of this run ------------------------------------------------------------


def secrets_in(value: str) -> list[str]:
    """The secret parts of ``value`` (an argument, a URL): what :func:`mask_argument`
    masks, also percent-decoded (a driver may print the decoded password)."""
    found = []
    for start, end in _spans(value, whole=True):
        part = value[start:end]
        found += [part, unquote(part)]
    return [part for part in found if len(part) >= _SECRET_FLAG_MIN]


@contextmanager
def known_secrets(values: Iterable[str]) -> Iterator[None]:
    """Within this block, :func:`mask_text` also masks these values wherever they appear
    (the passwords of the URLs a run was given, its tokens)."""
    token = _known.set(frozenset(v for v in values if len(v) >= _SECRET_FLAG_MIN))
    try:
        yield
    finally:
        _known.reset(token)


def remember(*values: str | None) -> None:
    """Add secrets to the :func:`known_secrets` block in force (none: nothing to do)."""
    current = _known.get()
    if current is not None:
        _known.set(current | {v for v in values if v and len(v) >= _SECRET_FLAG_MIN})


# -- terminal safety --------------------------------------------------------------------

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional
# overrides and isolates (they reorder what a terminal shows: "Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What switchy-guard's own colours are written with (rich, list): SGR sequences only.
_SGR = re.compile(r"\x1b\[[0-9;]{0,64}m")


_CONTROL_CODES = [*range(0x00, 0x20), *range(0x7f, 0xa0), *range(0x202a, 0x202f),
                  *range(0x2066, 0x206a)]
_ESCAPE_ALL = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
               for code in _CONTROL_CODES}
_ESCAPE_BUT_LINES = {code: shown for code, shown in _ESCAPE_ALL.items()
                     if chr(code) not in "\t\n"}
_ESCAPE_BUT_TABS = {code: shown for code, shown in _ESCAPE_ALL.items() if chr(code) != "\t"}


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` from outside (a server, a file name, a table row) safe to print: control
    characters (escape sequences, carriage returns, C1 codes, bidi overrides) are shown
    escaped (``\\x1b``) instead of acting on the terminal; tabs stay, and newlines stay
    unless ``newlines`` is false."""
    pattern = _CONTROL if newlines else _CONTROL_OR_NEWLINE
    if not pattern.search(text):
        return text
    return text.translate(_ESCAPE_BUT_LINES if newlines else _ESCAPE_BUT_TABS)


#: The SGR parameters switchy-guard's own styles use (reset, bold, dim, italic,
#: underline and their ends, the red-to-cyan foregrounds, default foreground). A
#: sequence with any other (conceal 8, reverse 7, blink, black or white text, any
#: background, 256-colour or RGB) cannot be one of ours: it came from outside (a folder
#: name, a failure_reason, a lock record, a journal row) and could hide or fake text, so
#: it is escaped, on a colour terminal too.
_OUR_SGR = frozenset({"", "0", "1", "2", "3", "4", "22", "23", "24", "39",
                      *(str(n) for n in range(31, 37)), *(str(n) for n in range(91, 97))})


def _ours(sequence: str) -> bool:
    return all(part in _OUR_SGR for part in sequence[2:-1].split(";"))


def _printable_keeping_colours(text: str) -> str:
    if not _CONTROL.search(text):
        return text
    pieces, last = [], 0
    for match in _SGR.finditer(text):
        if not _ours(match.group()):
            continue
        pieces += [printable(text[last:match.start()]), match.group()]
        last = match.end()
    pieces.append(printable(text[last:]))
    return "".join(pieces)


class SafeOutput:
    """A text stream whose every write is masked (:func:`mask_text`) and made printable
    (:func:`printable`): the last line of defence, under the masking done where
    messages are made. On a terminal (or where colours are forced) colour sequences
    (SGR) stay, for switchy-guard's own styles; elsewhere nothing of ours writes escape
    sequences, so every one is escaped."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._colours: bool | None = None

    def _keeps_colours(self) -> bool:
        if self._colours is None:
            import os

            try:
                terminal = bool(self._stream.isatty())
            except (AttributeError, ValueError, OSError):
                terminal = False
            self._colours = terminal or bool(os.environ.get("FORCE_COLOR")
                                             or os.environ.get("TTY_COMPATIBLE"))
        return self._colours

    def write(self, text: str) -> int:
        """Write ``text`` masked and printable."""
        masked = mask_text(text)
        self._stream.write(_printable_keeping_colours(masked) if self._keeps_colours()
                           else printable(masked))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
