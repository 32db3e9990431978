"""Mutation testing of the modules that decide safety (``make mutation``).

Line coverage says a line ran; a mutant says whether a test would notice it changing.
For each configured module (``[tool.mutation]`` in pyproject.toml) this script makes
small changes ("mutants") one at a time -- an operator, a comparison, a constant, a
boolean operator, a returned value, an argument, a call or ``raise`` removed -- and runs
the unit tests configured for that module against each. A mutant is *killed* when a
test fails (or the run times out), *survives* when every test still passes.

Each mutant is written into a private copy of the package (and of the tests) in a
temporary directory, and its tests run in a fresh ``python -m pytest`` process without
bytecode caches: every import-time object (compiled regexes, tables) is rebuilt from the
mutated source, so nothing cached from the original can hide a mutant.

Mutants that cannot change behaviour are listed under ``[[tool.mutation.equivalent]]``
with the reason; they are not run and not counted. A module entry may name
``functions = ["f", "Class.method"]``: only mutants inside those (and what they nest) are
made, for a large module of which only some functions decide safety (the runner's
refusals).

    python bench/mutation.py                       # every configured module
    python bench/mutation.py --modules checksum,ordering
    python bench/mutation.py --list --modules ordering   # the mutants, not run
    python bench/mutation.py --modules gate --survivors  # re-run only the last survivors

``--survivors`` runs again only the mutants the saved result of a module left alive (after
tests were added) and keeps its killed ones; it refuses when the module's source changed
since, because mutant positions and keys would no longer be the ones measured.

Results: a table on stdout, ``bench/results/mutation/<module>.json`` per module and
``bench/results/mutation.md`` (every module measured so far, with its survivors).
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# Comparison and operator swaps (the usual "off by one / inverted" slips).
COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.Div, ast.Pow: ast.Mult,
    ast.LShift: ast.RShift, ast.RShift: ast.LShift,
    ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr, ast.BitXor: ast.BitAnd,
}
NAME_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}


@dataclass
class Mutant:
    """One change: bytes ``start:end`` of the module replaced by ``text``."""

    key: str  # stable across edits elsewhere in the module: scope, original, replacement
    line: int
    start: int
    end: int
    text: str
    status: str = "pending"  # killed, timeout, survived, equivalent
    reason: str = ""


@dataclass
class ModuleResult:
    module: str
    path: str
    tests: list[str]
    commit: str
    seconds: float = 0.0
    source_sha256: str = ""  # of the module measured (``--survivors`` needs the same one)
    functions: list[str] = field(default_factory=list)  # only these scopes; empty: all
    survivors_only: bool = False  # ``--survivors``: the killed ones kept from the last run
    databases: str = "sqlite"  # SWITCHY_TEST_DATABASES of the (last) run
    mutants: list[Mutant] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for m in self.mutants if m.status in statuses)

    @property
    def score(self) -> float:
        counted = len(self.mutants) - self.count("equivalent")
        return 100.0 * self.count("killed", "timeout") / counted if counted else 100.0


# --- generating mutants -------------------------------------------------------------


class _Collector(ast.NodeVisitor):
    """Walks a module and records (node, replacement source, kind) for every mutant."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.lines = source.split(b"\n")
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line) + 1)
        self.scope: list[str] = []
        # node, replacement, scope, and how the key describes it (None: the two texts)
        self.found: list[tuple[ast.AST, str, str, str | None]] = []
        self.skip: set[int] = set()  # id() of nodes never mutated themselves

    # positions ------------------------------------------------------------------------
    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offsets[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.offsets[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def add(self, node: ast.AST, replacement: str, described: str | None = None) -> None:
        line = self.lines[node.lineno - 1]  # type: ignore[attr-defined]
        if b"pragma: no mutate" in line:
            return
        self.found.append((node, replacement, ".".join(self.scope) or "<module>", described))

    def add_expr(self, node: ast.expr, new: ast.expr, described: str | None = None) -> None:
        text = ast.unparse(new)
        if described is None:
            described = f"{_one_line(self.segment(node))} -> {_one_line(text)}"
        self.add(node, "(" + text + ")", described)

    # scopes and things never mutated --------------------------------------------------
    def _body_docstring(self, body: list[ast.stmt]) -> None:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self.skip.add(id(body[0]))

    def visit_Module(self, node: ast.Module) -> None:
        self._body_docstring(node.body)
        self.generic_visit(node)

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self._body_docstring(node.body)
        self.scope.append(node.name)  # decorators and defaults are named after it too
        for decorator in node.decorator_list:
            self.visit(decorator)
        if not isinstance(node, ast.ClassDef):
            # Defaults are mutated; annotations are not (postponed, never evaluated).
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self.visit(default)
        else:
            for base in node.bases:
                self.visit(base)
        for statement in node.body:
            self.visit(statement)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return None

    def visit_Import(self, node: ast.Import) -> None:
        return None

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node, node.value)
            self.visit(node.value)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return None
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # Parts of an f-string are not separately addressable: mutate it whole (its
        # text changes) and mutate the expressions inside it.
        if id(node) not in self.skip:
            new = copy.deepcopy(node)
            new.values = [ast.Constant("XX"), *new.values, ast.Constant("XX")]
            self.add_expr(node, new)
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                self.skip.add(id(value))
                self.visit(value.value)

    # statements -----------------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if id(node) in self.skip:
            return None
        if isinstance(node.value, ast.Call):
            self.add(node, "pass")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not _is_none(node.value):
            self.add(node, "return None")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.add(node, "pass")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assigned(node, node.value)
        self.visit(node.value)

    def _assigned(self, node: ast.Assign | ast.AnnAssign, value: ast.expr) -> None:
        if not _is_none(value):
            self.add_expr(value, ast.Constant(None))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        swap = BINOP_SWAPS.get(type(node.op))
        if swap is not None:
            new = copy.deepcopy(node)
            new.op = swap()
            self.add(node, ast.unparse(new))
        self.add(node, ast.unparse(ast.Assign([node.target], node.value, lineno=0)))
        self.visit(node.value)

    def visit_Break(self, node: ast.Break) -> None:
        self.add(node, "continue")

    def visit_Continue(self, node: ast.Continue) -> None:
        self.add(node, "break")

    # expressions ----------------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = BINOP_SWAPS.get(type(node.op))
        if swap is not None:
            self.add_expr(node, ast.BinOp(node.left, swap(), node.right))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is not None:
                new = copy.deepcopy(node)
                new.ops[index] = swap()
                self.add_expr(node, new)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add_expr(node, ast.BoolOp(other, node.values))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not | ast.USub | ast.Invert):
            self.add_expr(node, node.operand)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.add_expr(node, ast.IfExp(node.test, node.orelse, node.body))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.skip:
            return None
        value = node.value
        new: object
        if isinstance(value, bool):
            new = not value
        elif isinstance(value, int | float):
            new = value + 1
        elif isinstance(value, str):
            new = "XX" + value + "XX"
        elif isinstance(value, bytes):
            new = b"XX" + value + b"XX"
        else:
            return None
        self.add_expr(node, ast.Constant(new))

    def visit_Call(self, node: ast.Call) -> None:
        callee = _one_line(self.segment(node.func), 60)
        if isinstance(node.func, ast.Name) and node.func.id in NAME_SWAPS:
            new = copy.deepcopy(node)
            assert isinstance(new.func, ast.Name)
            new.func.id = NAME_SWAPS[node.func.id]
            self.add_expr(node, new, f"{callee}() -> {new.func.id}()")
        # Arguments are described by position or name, not by the whole (long) call.
        for index, arg in enumerate(node.args):
            if not isinstance(arg, ast.Starred) and not _is_none(arg):
                new = copy.deepcopy(node)
                new.args[index] = ast.Constant(None)
                text = _one_line(self.segment(arg), 60)
                self.add_expr(node, new, f"{callee}() argument {index + 1} {text} -> None")
        for index, keyword in enumerate(node.keywords):
            if keyword.arg is None:
                continue
            text = _one_line(self.segment(keyword.value), 60)
            if not _is_none(keyword.value):
                new = copy.deepcopy(node)
                new.keywords[index].value = ast.Constant(None)
                self.add_expr(node, new, f"{callee}() {keyword.arg}={text} -> None")
            new = copy.deepcopy(node)
            del new.keywords[index]
            self.add_expr(node, new, f"{callee}() {keyword.arg}={text} removed")
        self.generic_visit(node)

    def visit_Slice(self, node: ast.Slice) -> None:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.visit(part)

    def visit_Starred(self, node: ast.Starred) -> None:
        self.visit(node.value)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def in_functions(scope: str, functions: list[str]) -> bool:
    """Whether a mutant in ``scope`` (``f``, ``Class.method``, ``f.inner``) is inside one
    of ``functions``; every scope when none is named."""
    return not functions or any(scope == f or scope.startswith(f + ".") for f in functions)


def generate(path: Path, functions: list[str] | None = None) -> list[Mutant]:
    """Every syntactically valid, distinct mutant of the module at ``path`` (only inside
    ``functions`` when given)."""
    source = path.read_bytes()
    tree = ast.parse(source)
    collector = _Collector(source)
    collector.visit(tree)
    mutants: list[Mutant] = []
    seen_sources: set[bytes] = set()
    seen_keys: dict[str, int] = {}
    for node, replacement, scope, described in collector.found:
        if not in_functions(scope, functions or []):
            continue
        start, end = collector.span(node)
        mutated = source[:start] + replacement.encode() + source[end:]
        if mutated in seen_sources or mutated == source:
            continue
        try:
            compile(mutated, str(path), "exec", dont_inherit=True)
        except SyntaxError:
            continue
        seen_sources.add(mutated)
        change = described or f"{_one_line(collector.segment(node))} -> {_one_line(replacement)}"
        key = f"{scope}: {change}"
        seen_keys[key] = seen_keys.get(key, 0) + 1
        if seen_keys[key] > 1:
            key += f" [{seen_keys[key]}]"
        mutants.append(Mutant(key, node.lineno, start, end, replacement))  # type: ignore[attr-defined]
    return mutants


def apply(source: bytes, mutant: Mutant) -> bytes:
    return source[: mutant.start] + mutant.text.encode() + source[mutant.end :]


# --- running ------------------------------------------------------------------------


def load_config() -> dict[str, object]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["mutation"]  # type: ignore[no-any-return]


#: Never copied: version control, environments, caches (a stale .pyc could hide a mutant).
SKIPPED = (".git", ".venv", "__pycache__", "*.pyc", ".hypothesis", ".mypy_cache",
           ".ruff_cache", ".pytest_cache", "*.egg-info", "build", "dist", "results", "mutants")


def workspace() -> Path:
    """A private copy of the project (tests read README.md, examples/, ...), no caches."""
    base = Path(tempfile.mkdtemp(prefix="switchy-mutation-")) / "project"
    # Links stay links: ./policies links the shipped folder, which the loader recognises
    # (and skips) by its resolved path; a copied folder would be a second definition.
    shutil.copytree(ROOT, base, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
    return base


def environment(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(base),
        PYTHONDONTWRITEBYTECODE="1",  # a stale .pyc of the same size and second would hide a mutant
        PYTHONHASHSEED="0",
        SWITCHY_TEST_DATABASES=env.get("SWITCHY_TEST_DATABASES", "sqlite"),
    )
    return env


PYTEST_OPTIONS = ["-x", "-q", "--no-header", "-p", "no:cacheprovider", "-o", "addopts=",
                  "--hypothesis-seed=0"]

#: Set by ``--fork``: run each mutant's tests in a child forked from this process, which has
#: imported pytest and the third-party libraries (not the package, not the tests) once.
FORK = False


def preload() -> None:
    """Import what every test process imports anyway, so forked children skip it; never
    the package or the tests, which each child imports from the mutated copy."""
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import sqlalchemy
    import sqlalchemy.orm  # noqa: F401

    imported = [m for m in sys.modules if m.split(".")[0] in ("switchy_guard", "tests")]
    if imported:
        raise SystemExit(f"--fork: {imported[0]} was imported before forking")


def run_forked(base: Path, tests: list[str], timeout: float, log: Path | None) -> str:
    """As :func:`run_tests`, in a forked child running ``pytest.main`` in ``base``."""
    import pytest

    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.setsid()
            target = os.open(log if log is not None else os.devnull,
                             os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(target, 1)
            os.dup2(target, 2)
            os.chdir(base)
            env = environment(base)  # from this environment, before it is replaced
            os.environ.clear()
            os.environ.update(env)
            sys.dont_write_bytecode = True
            sys.path.insert(0, str(base))
            code = int(pytest.main([*PYTEST_OPTIONS, *tests]))
            import atexit
            atexit._run_exitfuncs()  # the tests' servers stop, as at a normal exit
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    if code == 5:
        raise SystemExit(f"no tests collected from {' '.join(tests)}")
    return "passed" if code == 0 else "failed"


def run_tests(base: Path, tests: list[str], timeout: float, log: Path | None = None) -> str:
    """``passed``, ``failed`` or ``timeout`` for one fresh pytest process in ``base``."""
    shutil.rmtree(base / ".hypothesis", ignore_errors=True)
    if FORK:
        return run_forked(base, tests, timeout, log)
    command = [sys.executable, "-m", "pytest", *PYTEST_OPTIONS, *tests]
    output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=base, env=environment(base), stdout=output,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    if log is not None:
        output.close()  # type: ignore[union-attr]
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return "timeout"
    if code == 5:
        raise SystemExit(f"no tests collected from {' '.join(tests)}")
    return "passed" if code == 0 else "failed"


def check_isolation(base: Path, module_path: str) -> None:
    """The copy, not the working tree or an installed package, must be what is imported."""
    dotted = module_path.removesuffix(".py").replace("/", ".")
    probe = subprocess.run(
        [sys.executable, "-c", f"import {dotted} as m; print(m.__file__)"],
        cwd=base, env=environment(base), capture_output=True, text=True, check=True,
    )
    imported = Path(probe.stdout.strip()).resolve()
    if imported != (base / module_path).resolve():
        raise SystemExit(f"isolation: {dotted} imported from {imported}, not from {base}")


def commit_of() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    head = git("rev-parse", "--short=12", "HEAD").strip() or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--", "switchy_guard", "tests")
                   .strip() else "")


def functions_of(spec: dict[str, object]) -> list[str]:
    return [str(f) for f in spec.get("functions", [])]  # type: ignore[attr-defined]


def earlier_kills(name: str, path: str, sha: str) -> dict[str, Mutant]:
    """The killed mutants of the saved result of ``name`` (``--survivors``)."""
    saved = load_saved([name])
    if not saved:
        raise SystemExit(f"{name}: --survivors needs an earlier result, none is saved")
    if saved[0].source_sha256 != sha:
        raise SystemExit(f"{name}: {path} changed since its saved result; run it in full")
    return {m.key: m for m in saved[0].mutants if m.status in ("killed", "timeout")}


def measure(name: str, spec: dict[str, object], equivalent: dict[str, str],
            verbose: bool, survivors: bool = False) -> ModuleResult:
    path = str(spec["path"])
    tests = [str(t) for t in spec["tests"]]  # type: ignore[attr-defined]
    functions = functions_of(spec)
    sha = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    kept = earlier_kills(name, path, sha) if survivors else {}
    result = ModuleResult(name, path, tests, commit_of(), source_sha256=sha, functions=functions,
                          survivors_only=survivors,
                          databases=os.environ.get("SWITCHY_TEST_DATABASES", "sqlite"))
    result.mutants = generate(ROOT / path, functions)
    base = workspace()
    started = time.monotonic()
    try:
        check_isolation(base, path)
        target = base / path
        original = target.read_bytes()
        began = time.monotonic()
        log = base.parent / "baseline.log"
        if run_tests(base, tests, timeout=600, log=log) != "passed":
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"{tail}\n{name}: the tests fail without any mutant: "
                             f"{' '.join(tests)}")
        baseline = time.monotonic() - began
        timeout = max(20.0, 5 * baseline)
        print(f"{name}: {len(result.mutants)} mutants, tests {baseline:.1f} s "
              f"({' '.join(tests)})", flush=True)
        for index, mutant in enumerate(result.mutants, 1):
            if mutant.key in equivalent:
                mutant.status, mutant.reason = "equivalent", equivalent[mutant.key]
                continue
            if mutant.key in kept:
                mutant.status = kept[mutant.key].status
                continue
            target.write_bytes(apply(original, mutant))
            try:
                outcome = run_tests(base, tests, timeout)
            finally:
                target.write_bytes(original)
            mutant.status = {"passed": "survived", "failed": "killed"}.get(outcome, outcome)
            if index % 50 == 0:
                print(f"  ... {index}/{len(result.mutants)}", flush=True)
            if mutant.status == "survived" or verbose:
                print(f"  [{index}/{len(result.mutants)}] {mutant.status}: line "
                      f"{mutant.line}: {mutant.key}", flush=True)
        stale = set(equivalent) - {m.key for m in result.mutants}
        for key in sorted(stale):
            print(f"  warning: equivalent mutant no longer generated: {key}", flush=True)
    finally:
        shutil.rmtree(base.parent, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result


# --- reporting ----------------------------------------------------------------------


def table(results: list[ModuleResult]) -> str:
    rows = ["| module | mutants | killed | survived | equivalent | score | commit | time |",
            "|---|---:|---:|---:|---:|---:|---|---:|"]
    for r in results:
        rows.append(
            f"| {r.path.removeprefix('switchy_guard/')}"
            f"{' (' + r.module + ')' if r.functions else ''} | {len(r.mutants)} | "
            f"{r.count('killed', 'timeout')} | {r.count('survived')} | "
            f"{r.count('equivalent')} | {r.score:.1f} % | {r.commit} | {r.seconds / 60:.1f} min"
            f"{' (survivors re-run)' if r.survivors_only else ''} |")
    return "\n".join(rows)


def report(results: list[ModuleResult]) -> str:
    lines = ["# Mutation testing (bench/mutation.py)", "",
             "Score = killed (a test failed or timed out) / (mutants - equivalent).", "",
             table(results), ""]
    for r in results:
        survivors = [m for m in r.mutants if m.status == "survived"]
        lines.append(f"## {r.path}: {len(survivors)} survivors ({' '.join(r.tests)}; "
                     f"databases: {r.databases})")
        lines.append("")
        lines.extend(f"- line {m.line}: `{m.key}`" for m in survivors)
        lines.append("")
    return "\n".join(lines)


def save(result: ModuleResult) -> None:
    folder = RESULTS / "mutation"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.module}.json").write_text(json.dumps(asdict(result), indent=1))


def load_saved(order: list[str]) -> list[ModuleResult]:
    results = []
    for name in order:
        file = RESULTS / "mutation" / f"{name}.json"
        if file.is_file():
            data = json.loads(file.read_text())
            mutants = [Mutant(**m) for m in data.pop("mutants")]
            results.append(ModuleResult(**data, mutants=mutants))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", help="comma list of configured modules (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    parser.add_argument("--fork", action="store_true",
                        help="fork each test run from a process that imported pytest and "
                             "SQLAlchemy once (faster; same fresh import of the package)")
    parser.add_argument("--survivors", action="store_true",
                        help="run only the mutants the saved result left alive")
    args = parser.parse_args(argv)
    # Stopped (kill PID): leave through the cleanup, not around it (no stray workspace).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    config = load_config()
    if args.fork and not args.list:
        if os.environ.get("PYTHONHASHSEED") != "0":  # children cannot change it after start
            os.execve(sys.executable, [sys.executable, *sys.argv],
                      {**os.environ, "PYTHONHASHSEED": "0"})
        global FORK
        FORK = True
        preload()
    modules: dict[str, dict[str, object]] = config["modules"]  # type: ignore[assignment]
    chosen = [m.strip() for m in args.modules.split(",")] if args.modules else list(modules)
    unknown = [m for m in chosen if m not in modules]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r} (configured: {', '.join(modules)})")
    equivalents: dict[str, dict[str, str]] = {}
    for entry in config.get("equivalent", []):  # type: ignore[attr-defined]
        if not str(entry.get("reason", "")).strip():
            parser.error(f"equivalent mutant without a reason: {entry.get('mutant')}")
        equivalents.setdefault(entry["module"], {})[entry["mutant"]] = entry["reason"]
    if args.list:
        for name in chosen:
            for mutant in generate(ROOT / str(modules[name]["path"]),
                                   functions_of(modules[name])):
                mark = " (equivalent)" if mutant.key in equivalents.get(name, {}) else ""
                print(f"{name} line {mutant.line}: {mutant.key}{mark}")
        return 0
    for name in chosen:
        result = measure(name, modules[name], equivalents.get(name, {}), args.verbose,
                         args.survivors)
        save(result)
        print(table([result]).splitlines()[-1], flush=True)
    everything = load_saved(list(modules))
    (RESULTS / "mutation.md").write_text(report(everything))
    print()
    print(table(everything))
    print(f"\nsurvivors: {RESULTS / 'mutation.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
