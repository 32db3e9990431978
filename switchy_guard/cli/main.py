"""The command line's entry point: parse, run the verb, and turn every failure into one
``error:`` line and its exit code (see docs/cli.md).

The verbs live in :mod:`switchy_guard.cli.commands`, one module per group; heavy
modules (SQLAlchemy, rich) are imported inside them, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO, cast

from switchy_guard.cli.context import Context, env_flag
from switchy_guard.cli.output import masked
from switchy_guard.cli.parser import UsageError, build_parser, usage_line, verb_parser
from switchy_guard.errors import ConfigError, DatabaseUnavailable, SwitchyError

__all__ = ["build_parser", "main"]


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (see docs/cli.md).

    Everything written goes through :class:`~switchy_guard.masking.SafeOutput` (secrets
    masked, control characters from outside made harmless), and the passwords of the
    URLs and tokens this run was handed are masked wherever they turn up: in a usage
    error echoing a mistyped flag's URL, in a driver's message, in a --debug traceback.
    """
    from switchy_guard.masking import SafeOutput, known_secrets

    if out is None:
        from switchy_guard.cli.pipe_output import ReaderSafeOutput

        out = cast(TextIO, ReaderSafeOutput(sys.stdout))
    arguments = list(sys.argv[1:] if argv is None else argv)
    with known_secrets(_secrets_of_this_run(arguments)):
        return _main(arguments, cast(TextIO, SafeOutput(out)),
                     cast(TextIO, SafeOutput(err or sys.stderr)))


_SECRET_ENVIRONMENT = ("SWITCHY_DATABASE_URL", "DATABASE_URL", "SWITCHY_REMOTE_TOKEN",
                       "SWITCHY_REMOTE_PASSWORD", "PGPASSWORD", "MYSQL_PWD")


def _secrets_of_this_run(arguments: Sequence[str]) -> list[str]:
    """The secret parts of the arguments (URL passwords, ``password=`` values, the value
    after ``--password``) and of the environment variables holding secrets."""
    import os

    from switchy_guard.masking import is_secret_key, secrets_in

    found: list[str] = []
    for number, argument in enumerate(arguments):
        previous = arguments[number - 1] if number else ""
        if previous.startswith("-") and "=" not in previous and is_secret_key(previous):
            found.append(argument)
        found += secrets_in(argument)
    for name in _SECRET_ENVIRONMENT:
        value = os.environ.get(name)
        if value:
            found += secrets_in(value) if "URL" in name else [value]
    return found


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO) -> int:
    import warnings

    # A library warning (an audit journal that could not be written) is one line here,
    # like every other message, not Python's file:line and source excerpt.
    warnings.formatwarning = _one_line_warning
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # as parse_args would, but naming the verb and a likely flag
            sub = verb_parser(parser, getattr(args, "verb", None))
            usage = UsageError(sub.prog, f"unrecognized arguments: {' '.join(extra)}")
            return _usage_failure(usage_line(usage, sub, extra), argv, out, err,
                                  getattr(args, "verb", None))
    except UsageError as usage:
        verb = usage.prog.partition(" ")[2] or None  # a verb's own parser refused
        return _usage_failure(usage_line(usage, parser), argv, out, err, verb)
    except SystemExit as exit_:  # --help, --version
        return int(exit_.code or 0)
    debug = bool(getattr(args, "debug", False))
    if not debug:
        import logging

        # SQLAlchemy's pool logs a traceback when it cannot reset a connection the
        # server dropped; the error that matters is reported as one line below.
        logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
    ctx: Context | None = None
    try:
        ctx = Context(args, out, err, sys.argv[1:] if argv is None else argv)
        _check_arguments(ctx, args)
        from switchy_guard.runtime.session_init import session_init_in_effect
        from switchy_guard.runtime.unknown_types import collect_unknown_types, unknown_types_note

        with session_init_in_effect(ctx.session_init), \
                collect_unknown_types() as unknown_types:
            code: int = args.run(ctx)  # the verb's run function (see options.Verbs)
        if note := unknown_types_note(unknown_types):  # one line, not one per column
            ctx.notes.append(note)
        ctx.flush_json()
        for note in ctx.notes:
            err.write(note + "\n")
        return code
    except SwitchyError as error:
        if debug:
            traceback.print_exc(file=err)
        err.write(f"error: {masked(error.one_line())}\n")
        _json_failure(args, ctx, out, error.exit_code, error, masked(error.one_line()))
        return error.exit_code
    except KeyboardInterrupt as interrupt:
        err.write("error: interrupted\n")
        _json_failure(args, ctx, out, 130, interrupt, "interrupted")
        return 130
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(error, SQLAlchemyError):
            # A bug: its traceback follows, but a script reading stdout still gets JSON.
            _json_failure(args, ctx, out, 1, error, masked(str(error)))
            raise
        if debug:
            traceback.print_exc(file=err)
        failure = _database_failure(args.verb, error)
        err.write(f"error: {failure.one_line()}\n")
        _json_failure(args, ctx, out, failure.exit_code, failure, masked(failure.one_line()))
        return failure.exit_code


def _check_arguments(ctx: Context, args: argparse.Namespace) -> None:
    """What argparse cannot check: the formats each verb has, and the environment's
    MIGRATION_REQUIRE_CHECKSUM_VALIDATION under ``migrate``'s flag of that name."""
    if getattr(args, "require_checksum_validation", False) is None:
        args.require_checksum_validation = env_flag("MIGRATION_REQUIRE_CHECKSUM_VALIDATION")
    if ctx.format in ("sarif", "github", "gitlab") and args.verb not in ("check", "plan"):
        raise ConfigError(f"--format {ctx.format} is only for check and plan")
    if ctx.format == "markdown" and args.verb not in ("check", "plan", "fleet") and not (
            args.verb == "rollback" and (args.plan or args.dry_run)):
        # A real rollback has no markdown report: refused before it runs, not after.
        raise ConfigError("--format markdown is only for check, plan and rollback --plan")


def _json_failure(args: argparse.Namespace, ctx: Context | None, out: TextIO, code: int,
                  error: BaseException, message: str) -> None:
    """Under ``--format json``, the failure document (see :mod:`.report.envelope`), with
    whatever report the verb had held back as its partial report."""
    if getattr(args, "format", "text") != "json":
        return
    from switchy_guard.report.envelope import failure_document, write_document

    partial = ctx.take_json() if ctx is not None else None
    verb = getattr(args, "verb", None)
    if verb == "lock":  # lock status and lock break are two verbs to a script
        verb = f"lock {args.action}"
    write_document(out, failure_document(code, type(error).__name__, message, verb=verb,
                                         partial=partial))


def _usage_failure(line: str, argv: Sequence[str] | None, out: TextIO, err: TextIO,
                   verb: str | None = None) -> int:
    """A command line argparse could not read: the ``error:`` line, and under
    ``--format json`` its failure document; exit 2."""
    from switchy_guard.report.envelope import asks_for_json, failure_document, write_document

    err.write(line + "\n")
    if asks_for_json(list(argv or ())):
        write_document(out, failure_document(2, "UsageError", line.removeprefix("error: "),
                                             verb=verb))
    return 2


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, line: str | None = None) -> str:
    return f"warning: {masked(str(message))}\n"


def _database_failure(verb: str, error: Exception) -> SwitchyError:
    """A SQLAlchemy error as the project's error: the database refusing this user (a
    privilege, a read-only database) is a matter of configuration, exit 2 like other bad
    configuration; anything else is the database unavailable, exit 3."""
    from sqlalchemy.exc import DBAPIError

    from switchy_guard.runtime.db import access_refused
    from switchy_guard.runtime.reasons import database_reason

    if isinstance(error, DBAPIError) and access_refused(error):
        return ConfigError(f"'{verb}': the database refused it: {database_reason(error)}")
    return DatabaseUnavailable("database error: " + database_reason(error))
