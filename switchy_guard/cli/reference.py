"""docs/cli.md, generated from the command line's own argparse parser.

``python -m switchy_guard.cli.reference > docs/cli.md`` writes it; a test fails when the
file in the repository is stale. :func:`render` reads nothing but the parser object it is
given (every verb, its sub-verbs, arguments, flags and help text), the exit codes of
:mod:`switchy_guard.errors` and :data:`ENVIRONMENT`, so the reference cannot drift from
the parser, wherever the parser is built.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from switchy_guard import errors

#: Every environment variable switchy-guard reads or sets, with what it does. A test
#: scans the package for the names it reads and fails when one is missing here.
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("SWITCHY_DATABASE_URL", "the database URL when `-d` is not given (also set for a "
                             "policy's `backup_command`)"),
    ("DATABASE_URL", "the database URL when neither `-d` nor `SWITCHY_DATABASE_URL` is given"),
    ("SWITCHY_MIGRATIONS_DIR", "as `-m`"),
    ("SWITCHY_MIGRATION_TABLE", "as `--migration-table`"),
    ("SWITCHY_ENV", "as `--env` (also set for a policy's `backup_command`)"),
    ("SWITCHY_POLICY_DIR", "as `--policy-dir`"),
    ("SWITCHY_CHECKSUM_MODE", "as `--checksum-mode`"),
    ("SWITCHY_LAYOUT", "as `--layout`"),
    ("MIGRATION_REQUIRE_CHECKSUM_VALIDATION", "`1`/`true` or `0`/`false`: as `migrate "
                                              "--require-checksum-validation`; any other "
                                              "value is refused (exit 2)"),
    ("SWITCHY_CACHE_DIR", "where `check` keeps its report cache and remote sources their "
                          "downloads (default `$XDG_CACHE_HOME/switchy-guard`)"),
    ("XDG_CACHE_HOME", "the cache's parent folder when `SWITCHY_CACHE_DIR` is not set "
                       "(default `~/.cache`)"),
    ("SWITCHY_REMOTE_TOKEN", "bearer token of remote migration sources"),
    ("SWITCHY_REMOTE_USER", "user name of remote migration sources (basic auth)"),
    ("SWITCHY_REMOTE_PASSWORD", "password of remote migration sources (basic auth)"),
    ("PGPASSWORD", "not read as a setting; its value is masked in every output"),
    ("MYSQL_PWD", "not read as a setting; its value is masked in every output"),
    ("DJANGO_SETTINGS_MODULE", "`check --django`: the settings module when `--settings` is "
                               "not given"),
    ("JOB_COMPLETION_INDEX", "`fleet`: this machine's shard when `--shard-index` is not "
                             "given (a Kubernetes indexed Job sets it)"),
    ("FORCE_COLOR", "keep colours on output that is not a terminal"),
    ("TTY_COMPATIBLE", "as `FORCE_COLOR`"),
    ("SWITCHY_TEST_DATABASE_URL", "the pytest plugin: the database of `switchy_database_url` "
                                  "(as `--switchy-db-url`)"),
    ("${NAME}", "`fleet`: a `${NAME}` in a target's url is replaced by that variable (unset: "
                "refused)"),
)

#: What each exit code means; the error classes raising it are listed from errors.py.
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (1, "findings at or above `--fail-on` (`check`), a safety check or gate refused, a "
        "migration failed, or differences found (`verify`)"),
    (2, "bad usage, configuration or input: one `error:` line naming the file and the "
        "problem, nothing applied"),
    (3, "the database, a remote source or the migration lock could not be reached in time"),
)


def top_parser() -> argparse.ArgumentParser:
    """The ``switchy-guard`` parser: the one place that knows where it is built."""
    from switchy_guard.cli.parser import build_parser

    return build_parser()


def _md(text: str) -> str:
    """Prose as Markdown: ``<name>`` shown, not read as HTML; one line; ``|`` escaped."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "|", "\\|")


def _help(action: argparse.Action, prog: str) -> str:
    """An action's help with argparse's ``%(...)s`` and ``%%`` expanded, as --help shows it."""
    text = action.help or ""
    if text == argparse.SUPPRESS:
        return ""
    params: dict[str, object] = {"prog": prog}
    for name, value in vars(action).items():
        if value is argparse.SUPPRESS:
            continue
        params[name] = getattr(value, "__name__", value)
    if action.choices is not None:
        params["choices"] = ", ".join(str(choice) for choice in action.choices)
    return text % params


def _spelling(action: argparse.Action) -> str:
    """``-d, --database-url URL`` or ``NAME``: the argument as it is typed."""
    metavar = action.metavar if isinstance(action.metavar, str) else None
    if not action.option_strings:
        if action.choices is not None and metavar is None:
            return "|".join(str(choice) for choice in action.choices)
        value = metavar or action.dest.upper()
        return f"{value} ..." if action.nargs in ("*", "+") else value
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return names
    if metavar is None and action.choices is not None:
        metavar = "|".join(str(choice) for choice in action.choices)
    value = metavar or action.dest.upper()
    if action.nargs == "?":
        return f"{names} [{value}]"
    if action.nargs in ("*", "+"):
        return f"{names} {value} ..."
    return f"{names} {value}"


def _notes(action: argparse.Action,
           exclusive: dict[argparse.Action, tuple[list[str], bool]]) -> str:
    """Required, repeatable, default, nargs and exclusive-with notes of one argument."""
    notes = []
    if action.option_strings and action.required:
        notes.append("required")
    if not action.option_strings and action.nargs in ("?", "*"):
        notes.append("optional")
    if not action.option_strings and action.nargs in ("*", "+"):
        notes.append("repeatable")
    if action.option_strings and isinstance(action, argparse._AppendAction | argparse.
                                            _AppendConstAction):
        notes.append("repeatable")
    default = action.default
    if (action.option_strings and action.nargs != 0 and default not in (None, [], "")
            and default is not argparse.SUPPRESS):
        notes.append(f"default `{default}`")
    if action in exclusive:
        others, required = exclusive[action]
        notes.append("not with " + ", ".join(f"`{other}`" for other in others)
                     + (" (one of them is required)" if required else ""))
    return "; ".join(notes)


def _exclusive(
        parser: argparse.ArgumentParser) -> dict[argparse.Action, tuple[list[str], bool]]:
    """Each argument of a mutually exclusive group, with the other members' spellings and
    whether the group requires one of them."""
    found: dict[argparse.Action, tuple[list[str], bool]] = {}
    for group in parser._mutually_exclusive_groups:
        for action in group._group_actions:
            found[action] = ([other.option_strings[0] if other.option_strings else other.dest
                              for other in group._group_actions if other is not action],
                             group.required)
    return found


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    lines = ["| argument | meaning | notes |", "|---|---|---|"]
    lines += [f"| `{spelling}` | {meaning} | {notes} |" for spelling, meaning, notes in rows]
    return lines


def _global_dests(parser: argparse.ArgumentParser) -> set[str]:
    """The dests of the global options (every verb repeats them)."""
    return {"help", *(action.dest for group in parser._action_groups
                      if group.title == "global options" for action in group._group_actions)}


def _verbs(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _rows(parser: argparse.ArgumentParser, skip: set[str],
          prog: str) -> list[tuple[str, str, str]]:
    exclusive = _exclusive(parser)
    rows = []
    for action in parser._actions:
        if action.dest in skip or isinstance(action, argparse._SubParsersAction):
            continue
        rows.append((_md(_spelling(action)),
                     _md(_help(action, prog)), _notes(action, exclusive)))
    return rows


def _usage(parser: argparse.ArgumentParser, skip: set[str]) -> str:
    """``switchy-guard VERB [global options] ...``: the verb's own arguments, a group of
    exclusive ones as ``(a | b)`` when one is required, else ``[a | b]``."""
    groups = {action: group for group in parser._mutually_exclusive_groups
              for action in group._group_actions}
    words, done = [parser.prog, "[global options]"], set()
    for action in parser._actions:
        if action.dest in skip or isinstance(action, argparse._HelpAction) or action in done:
            continue
        group = groups.get(action)
        if group is None:
            optional = (action.option_strings and not action.required) or action.nargs in (
                "?", "*")
            words.append(f"[{_brief(action)}]" if optional else _brief(action))
            continue
        done.update(group._group_actions)
        choice = " | ".join(_brief(each) for each in group._group_actions)
        words.append(f"({choice})" if group.required else f"[{choice}]")
    return " ".join(words)


def _brief(action: argparse.Action) -> str:
    """The first spelling of an argument with its value: ``--to ID``."""
    spelling = _spelling(action)
    if action.option_strings:
        rest = spelling.removeprefix(", ".join(action.option_strings))
        return action.option_strings[0] + rest
    return spelling


def _sub_verbs(parser: argparse.ArgumentParser) -> list[str]:
    """The positional with fixed choices (``lock status|break``), if the verb has one."""
    for action in parser._actions:
        if not action.option_strings and action.choices is not None:
            return [str(choice) for choice in action.choices]
    return []


def _verb_section(name: str, sub: argparse.ArgumentParser, skip: set[str]) -> list[str]:
    sub_verbs = _sub_verbs(sub)
    lines = [f'<a id="verb-{name}"></a>', "", f"## `{name}`", "", _md(sub.description or "")]
    if sub_verbs:
        lines += ["", "Sub-verbs: " + ", ".join(f"`{name} {each}`" for each in sub_verbs) + "."]
    lines += ["", "```text", _usage(sub, skip), "```"]
    rows = _rows(sub, skip, sub.prog)
    lines += ["", *(_table(rows) if rows else ["No arguments besides the global options."])]
    return lines


def _exit_codes() -> list[str]:
    classes: dict[int, list[str]] = {}
    for error in _subclasses(errors.SwitchyError):
        classes.setdefault(error.exit_code, []).append(error.__name__)
    lines = ["| code | meaning | raised as |", "|---|---|---|"]
    for code, meaning in EXIT_CODES:
        names = ", ".join(f"`{name}`" for name in sorted(classes.get(code, [])))
        lines.append(f"| {code} | {meaning} | {names} |")
    return lines


def _subclasses(base: type[errors.SwitchyError]) -> Iterator[type[errors.SwitchyError]]:
    yield base
    for sub in base.__subclasses__():
        if sub.__module__ == errors.__name__:
            yield from _subclasses(sub)


def render(parser: argparse.ArgumentParser) -> str:
    """The whole of docs/cli.md, for ``parser`` (the top-level ``switchy-guard`` parser)."""
    globals_ = _global_dests(parser)
    verbs = list(_verbs(parser))
    lines = [
        "# switchy-guard command line",
        "",
        "<!-- Generated by `python -m switchy_guard.cli.reference > docs/cli.md` from the "
        "argparse parser; do not edit by hand. -->",
        "",
        _md(parser.description or ""),
        "",
        "```text",
        f"{parser.prog} [global options] VERB [options]      # also: python -m switchy_guard",
        "```",
        "",
        "Settings come from the flag, then the environment, then the config file, then the "
        "default (see [README.md](../README.md)).",
        "",
        "## Verbs",
        "",
        "| verb | what |",
        "|---|---|",
        *(f"| [`{name}`](#verb-{name}) | {_md(sub.description or '')} |" for name, sub in verbs),
        "",
        "## Global options",
        "",
        "They may stand before or after the verb.",
        "",
        *_table(_rows(parser, {"verb"}, parser.prog)),
    ]
    for name, sub in verbs:
        lines += ["", *_verb_section(name, sub, globals_)]
    lines += ["", "## Exit codes", "", *_exit_codes(),
              "", "## Environment variables", "", "| variable | meaning |", "|---|---|",
              *(f"| `{name}` | {meaning} |" for name, meaning in ENVIRONMENT)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised by the docs test via subprocess
    sys.stdout.write(render(top_parser()))
