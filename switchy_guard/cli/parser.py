"""The top-level parser: the global options and every verb group's registration, and the
one-line usage error (with a did-you-mean) argparse's errors become."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from switchy_guard import __version__
from switchy_guard.cli.commands import (
    adopt,
    check,
    create,
    fleet,
    lock,
    migrate,
    recovery,
    rules,
    status,
    verify,
)
from switchy_guard.cli.commands import list as list_
from switchy_guard.cli.options import Verbs, add_global_options
from switchy_guard.cli.output import masked

#: The verb groups, in the order ``--help`` lists their verbs.
GROUPS = (create, list_, check, rules, status, migrate, recovery, verify, adopt, lock, fleet)

#: Every verb, in the order the unknown-verb hint has always listed them (``--help``
#: lists them in registration order, see :data:`GROUPS`).
VERB_NAMES = ("create", "list", "check", "rules", "status", "migrate", "rollback", "validate",
              "mark-all-completed", "adopt-checksums", "adopt", "mark-completed",
              "mark-failed", "retry", "verify", "plan", "lock", "fleet")


class UsageError(Exception):
    """A command line argparse could not read: shown as one ``error:`` line, exit 2."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised (one line, see :func:`.main.main`), not
    printed with the whole usage block; the verbs' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    """The complete argument parser of ``switchy-guard``: global options and every verb."""
    parser = _Parser(
        prog="switchy-guard",
        description="Validate, plan, gate and run schema migrations safely.",
    )
    parser.add_argument("--version", action="version", version=f"switchy-guard {__version__}")
    add_global_options(parser)
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    subparsers.required = True
    verbs = Verbs(subparsers)
    for group in GROUPS:
        group.register(verbs)
    return parser


def usage_line(error: UsageError, parser: argparse.ArgumentParser,
               extra: Sequence[str] = ()) -> str:
    """``error: ...`` with a did-you-mean for a mistyped verb or flag."""
    import difflib
    import re

    message, hint = error.message, ""
    bad_verb = re.match(r"argument VERB: invalid choice: '?([^'\s]+)", message)
    if bad_verb:
        close = difflib.get_close_matches(bad_verb.group(1), VERB_NAMES, n=1)
        message = f"unknown verb {bad_verb.group(1)!r}"
        hint = f"; did you mean {close[0]!r}?" if close else f" (verbs: {', '.join(VERB_NAMES)})"
    elif extra:
        flags = [option for action in parser._actions for option in action.option_strings]
        for word in extra:
            close = difflib.get_close_matches(word.split("=")[0], flags, n=1, cutoff=0.7)
            if word.startswith("-") and close:
                hint = f"; did you mean {close[0]}?"
                break
    return masked(f"error: {message}{hint} (see: {error.prog} --help)")


def verb_parser(parser: argparse.ArgumentParser, verb: str | None) -> argparse.ArgumentParser:
    """The parser of ``verb`` (the top-level one when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and verb in action.choices:
            chosen: argparse.ArgumentParser = action.choices[verb]
            return chosen
    return parser
