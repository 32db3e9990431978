"""docs/cli.md is generated from the real argparse parser, and stays current: every verb,
sub-verb and flag of the parser, the exit codes of errors.py and every environment
variable the package reads are in it."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

from switchy_guard import errors
from switchy_guard.cli.reference import ENVIRONMENT, EXIT_CODES, render, top_parser

ROOT = Path(__file__).resolve().parents[2]
CLI_MD = ROOT / "docs" / "cli.md"
STALE = "docs/cli.md is stale: run `python -m switchy_guard.cli.reference > docs/cli.md`"


def _verbs(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: sub for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def _section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _is_global(parser: argparse.ArgumentParser, action: argparse.Action) -> bool:
    """Whether the verb's ``action`` is one of the options every verb takes."""
    return any(set(action.option_strings) & set(top.option_strings)
               for top in parser._actions)


def test_docs_cli_md_is_generated_from_the_parser() -> None:
    assert CLI_MD.read_text(encoding="utf-8") == render(top_parser()), STALE


def test_the_module_prints_docs_cli_md() -> None:
    done = subprocess.run([sys.executable, "-m", "switchy_guard.cli.reference"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == CLI_MD.read_text(encoding="utf-8"), STALE


def test_every_verb_sub_verb_and_flag_of_the_parser_is_in_docs_cli_md() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    parser = top_parser()
    verbs = _verbs(parser)
    assert {"check", "migrate", "rollback", "lock", "fleet"} <= set(verbs)
    global_section = _section(text, "Global options")
    for option in ("-h", "--help", "--version", "-d", "--database-url", "--format"):
        assert f"`{option}" in global_section or f", {option}" in global_section, option
    for name, sub in verbs.items():
        section = _section(text, f"`{name}`")
        assert sub.description and " ".join(sub.description.split()) in section, name
        for action in sub._actions:
            where = global_section if _is_global(parser, action) else section
            for option in action.option_strings:
                assert f"`{option}" in where or f", {option}" in where, (name, option)
            if not action.option_strings and action.choices is not None:
                for choice in action.choices:
                    assert f"`{name} {choice}`" in section, (name, choice)


def test_render_follows_the_parser_it_is_given() -> None:
    """A flag, a sub-verb or an exclusive pair added to the parser shows up: the reference
    is read from the parser object, not written beside it."""
    parser = argparse.ArgumentParser(prog="tool", description="A tool.")
    group = parser.add_argument_group("global options")
    group.add_argument("--colour", choices=("auto", "never"), default="auto",
                       help="colours (%(choices)s; default %(default)s), 100%% plain")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    lamp = verbs.add_parser("lamp", help="switch the lamp", description="switch the lamp")
    lamp.add_argument("action", choices=("on", "off"))
    either = lamp.add_mutually_exclusive_group(required=True)
    either.add_argument("--bright", action="store_true", help="full power")
    either.add_argument("--dim", type=int, metavar="N", help="N per cent")
    text = render(parser)
    assert "| [`lamp`](#verb-lamp) | switch the lamp |" in text
    assert "Sub-verbs: `lamp on`, `lamp off`." in text
    assert "tool lamp [global options] on|off (--bright | --dim N)" in text
    assert "| `--dim N` | N per cent | required; not with `--bright` |" not in text
    assert "| `--dim N` | N per cent | not with `--bright` (one of them is required) |" in text
    assert ("| `--colour auto\\|never` | colours (auto, never; default auto), 100% plain "
            "| default `auto` |") in text


def test_every_exit_code_raised_is_documented() -> None:
    documented = {code for code, _ in EXIT_CODES}
    assert documented == {0, 1, 2, 3}
    text = CLI_MD.read_text(encoding="utf-8")
    classes: list[type[errors.SwitchyError]] = [errors.SwitchyError,
                                                *errors.SwitchyError.__subclasses__()]
    for error in classes:
        assert error.exit_code in documented, error
        assert f"`{error.__name__}`" in text, error


def _read_environment_names() -> dict[str, str]:
    """Each environment variable name the package reads or sets, with where: a string
    passed to ``os.environ.get``/``getenv``/``env_flag``/``environ[...]``, a key of a
    ``{**os.environ, ...}`` mapping, or an item of a constant whose name says
    ENVIRONMENT."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "switchy_guard").rglob("*.py")):
        if path.name == "reference.py":
            continue
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _names_in(node):
                found.setdefault(name, where)
    return found


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id in ("environ", "env"))


def _names_in(node: ast.AST) -> list[str]:
    strings: list[ast.expr] = []
    if isinstance(node, ast.Call):
        func = node.func
        getter = isinstance(func, ast.Attribute) and (
            (func.attr == "get" and _is_environ(func.value)) or func.attr == "getenv")
        if getter or (isinstance(func, ast.Name) and func.id in ("env_flag", "getenv")):
            strings = node.args[:1]
    elif isinstance(node, ast.Subscript) and _is_environ(node.value):
        strings = [node.slice]
    elif isinstance(node, ast.Dict) and any(
            key is None and _is_environ(value)
            for key, value in zip(node.keys, node.values, strict=True)):
        strings = [key for key in node.keys if key is not None]
    elif isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and "ENVIRONMENT" in t.id for t in targets):
            strings = [each for each in ast.walk(node.value or ast.Constant(None))
                       if isinstance(each, ast.Constant)]
    return [each.value for each in strings
            if isinstance(each, ast.Constant) and isinstance(each.value, str)
            and each.value.isupper()]


def test_every_environment_variable_the_package_reads_is_documented() -> None:
    read = _read_environment_names()
    assert {"SWITCHY_DATABASE_URL", "MIGRATION_REQUIRE_CHECKSUM_VALIDATION",
            "SWITCHY_CACHE_DIR", "JOB_COMPLETION_INDEX", "PGPASSWORD"} <= set(read)
    documented = {name for name, _ in ENVIRONMENT}
    missing = {name: where for name, where in read.items() if name not in documented}
    assert not missing, (f"environment variables read but not in ENVIRONMENT of "
                         f"switchy_guard/cli/reference.py: {missing}")
    text = CLI_MD.read_text(encoding="utf-8")
    for name in documented:
        assert f"| `{name}` |" in text, name


def test_every_documented_environment_variable_is_still_read() -> None:
    source = "\n".join(path.read_text(encoding="utf-8")
                       for path in (ROOT / "switchy_guard").rglob("*.py")
                       if path.name != "reference.py")
    gone = [name for name, _ in ENVIRONMENT if name != "${NAME}" and f'"{name}"' not in source]
    assert not gone, f"documented in docs/cli.md but no longer read by the package: {gone}"
