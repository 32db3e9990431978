"""The shape of the command-line package (docs/design.md): one module per verb
group, each registering its own verbs; nothing inside ``cli`` imports ``cli.main``; no
import circle inside ``cli``."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

import switchy_guard.cli
from switchy_guard.cli.parser import GROUPS, VERB_NAMES, build_parser

CLI = Path(switchy_guard.cli.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(CLI.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _cli_imports() -> dict[str, set[str]]:
    """Each cli module and the cli modules it imports anywhere (inside functions and
    under TYPE_CHECKING too: a circle through a run-time import is still a circle). A
    package's ``__init__`` that every submodule's import runs first is not counted, as
    grimp does not."""
    modules = {_module_name(path): path for path in CLI.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                # ``from package import module`` imports the module (as grimp reads it)
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                found.update(submodules & modules.keys() or {node.module})
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, if there is any (depth-first search)."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return [*path[path.index(child):], child]
            if child not in state and (found := visit(child)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_inside_cli() -> None:
    assert _cycle(_cli_imports()) is None


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_entry_points_import_cli_main() -> None:
    importers = {name for name, imported in _cli_imports().items()
                 if "switchy_guard.cli.main" in imported}
    assert importers == {"switchy_guard.cli"}


def _verb_parsers() -> dict[str, argparse.ArgumentParser]:
    [verbs] = [action for action in build_parser()._actions
               if isinstance(action, argparse._SubParsersAction)]
    return dict(verbs.choices)


def test_every_verb_has_a_run_function_and_the_hint_names_every_verb() -> None:
    parsers = _verb_parsers()
    assert sorted(VERB_NAMES) == sorted(parsers)
    for name, parser in parsers.items():
        assert callable(parser.get_default("run")), name


@pytest.mark.parametrize("group", GROUPS, ids=lambda module: module.__name__)
def test_each_verb_group_registers_its_verbs_and_stays_small(group: object) -> None:
    assert callable(getattr(group, "register", None))
    source = Path(str(getattr(group, "__file__", ""))).read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 600
