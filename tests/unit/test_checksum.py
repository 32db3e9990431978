"""Checksums must match switchy_schema's byte for byte (the vectors are the Rust tool's hashes)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.model.checksum import (
    CHECKSUM_MODES,
    EMPTY_CHECKSUM,
    UNKNOWN_CHECKSUM,
    callable_checksum,
    checked_mode,
    exec_raw_checksum,
    file_checksum,
    script_checksum,
)

WAL = b"PRAGMA journal_mode = WAL;\n"


def test_file_checksum_vector() -> None:
    assert file_checksum(WAL) == "4829714f877b28fe6aa073589672f8845c924f9ac0fbef5e5066583a067b7bd2"


def test_exec_raw_checksum_vector() -> None:
    expected = "03ae03f6181900a4b515a4f92437ecc1cd465fa110c08035b77e0bd77ceed610"
    assert exec_raw_checksum(WAL.decode()) == expected
    assert exec_raw_checksum(WAL) == expected


def test_missing_file_hashes_as_empty_bytes() -> None:
    assert file_checksum(None) == hashlib.sha256(b"").hexdigest() == EMPTY_CHECKSUM
    assert file_checksum(b"") == EMPTY_CHECKSUM


def test_checksums_are_lowercase_hex() -> None:
    digest = file_checksum(b"SELECT 1;")
    assert len(digest) == 64 and digest == digest.lower()
    int(digest, 16)


def _up_one(conn: object) -> None:
    pass


def _up_two(conn: object) -> None:
    print("different body")


def test_callable_checksum_is_stable_and_tracks_code() -> None:
    assert callable_checksum(_up_one) == callable_checksum(_up_one)
    assert callable_checksum(_up_one) != callable_checksum(_up_two)
    assert callable_checksum(None) == EMPTY_CHECKSUM


def test_callable_checksum_without_source_uses_name() -> None:
    # Built-ins have no Python source; the digest still exists and is stable.
    assert callable_checksum(len) == callable_checksum(len)
    assert callable_checksum(len) != callable_checksum(max)


class _Step:
    def __init__(self, sql: str) -> None:
        self.sql = sql

    def __call__(self, conn: object) -> None:
        pass


def _make_runner() -> Callable[[str, object], None]:
    def run(sql: str, conn: object) -> None:
        pass

    return run


def test_callable_objects_and_partials_hash_the_same_in_every_run() -> None:
    # Their reprs hold memory addresses ("<_Step object at 0x7f...>"), which differ
    # between two objects here just as between two runs of the tool: a digest built
    # on them would report every applied migration as changed on the next run.
    assert callable_checksum(_Step("SELECT 1")) == callable_checksum(_Step("SELECT 1"))
    first, second = _make_runner(), _make_runner()
    assert first is not second
    assert callable_checksum(functools.partial(first, "SELECT 1")) == callable_checksum(
        functools.partial(second, "SELECT 1"))
    # ...and a partial still changes with its arguments.
    assert callable_checksum(functools.partial(first, "SELECT 1")) != callable_checksum(
        functools.partial(first, "SELECT 2"))
    assert callable_checksum(_Step("x")) != callable_checksum(_make_runner())


WAL_FILE = "4829714f877b28fe6aa073589672f8845c924f9ac0fbef5e5066583a067b7bd2"
WAL_EXEC_RAW = "03ae03f6181900a4b515a4f92437ecc1cd465fa110c08035b77e0bd77ceed610"


def test_unknown_checksum_is_64_zeros() -> None:
    assert UNKNOWN_CHECKSUM == "0000000000000000000000000000000000000000000000000000000000000000"


def test_script_checksum_modes_hash_as_documented() -> None:
    # up.sql = "PRAGMA journal_mode = WAL;\n": file mode hashes the bytes, exec-raw mode
    # what MoosicBox stores for the same file loaded as a raw-SQL code migration.
    assert script_checksum(WAL) == WAL_FILE
    assert script_checksum(WAL, "file") == WAL_FILE
    assert script_checksum(WAL, "exec-raw") == WAL_EXEC_RAW
    # A missing file hashes as empty bytes in both modes.
    assert script_checksum(None) == EMPTY_CHECKSUM
    assert script_checksum(None, "exec-raw") == EMPTY_CHECKSUM


def test_script_checksum_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError) as info:
        script_checksum(WAL, "md5")
    assert str(info.value) == "unknown checksum mode 'md5'"


def test_checked_mode_accepts_the_known_modes_only() -> None:
    assert CHECKSUM_MODES == ("file", "exec-raw")
    assert checked_mode("file") == "file"
    assert checked_mode("exec-raw") == "exec-raw"
    with pytest.raises(ConfigError) as info:
        checked_mode("md5")
    assert info.value.one_line() == "unknown checksum mode 'md5' (known: file, exec-raw)"
    assert info.value.exit_code == 2


VECTOR_MODULE = """\
def up(conn):
    conn.execute("CREATE TABLE t (id INTEGER)")


class Step:
    def __call__(self, conn):
        conn.execute("SELECT 1")


class Other:
    def __call__(self, conn):
        conn.execute("SELECT 2")


class Thing:
    pass
"""
UP_SOURCE = 'def up(conn):\n    conn.execute("CREATE TABLE t (id INTEGER)")\n'
STEP_SOURCE = 'class Step:\n    def __call__(self, conn):\n        conn.execute("SELECT 1")\n'


def load(
    monkeypatch: pytest.MonkeyPatch, folder: Path, text: str, name: str = "vector_migration"
) -> ModuleType:
    """``text`` imported as module ``name`` from a file in ``folder`` (as migrations are)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def test_callable_checksum_vectors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Fixed digests: any change to the format (prefix, module, qualname, source, the
    # partial suffix) changes them, and every applied Python migration would report drift.
    module = load(monkeypatch, tmp_path, VECTOR_MODULE)
    up_digest = "cec7ed23bad92174d442f50c08a791aceee832d0328f439151fce0c7aae1bd5c"
    assert callable_checksum(module.up) == up_digest
    assert up_digest == sha(b"PYTHON:vector_migration:up\n" + UP_SOURCE.encode())
    # A callable object hashes its class.
    step_digest = "d7cd067f10d47c4dcd5c93afea8948897799def3e848d9639ce903e02fdc6e86"
    assert callable_checksum(module.Step()) == step_digest
    assert step_digest == sha(b"PYTHON:vector_migration:Step\n" + STEP_SOURCE.encode())
    # A partial: its function, then its arguments (keywords sorted).
    partial = functools.partial(module.up, "a", size=2, kind="b")
    partial_digest = "353e4e4db523a8afa7c93a9eee312c06d1e168bee5b7a2b4a5343a2806d83f9b"
    assert callable_checksum(partial) == partial_digest
    assert partial_digest == sha(
        b"PYTHON:vector_migration:up\n" + UP_SOURCE.encode()
        + b"PARTIAL:(('a',), [('kind', 'b'), ('size', 2)])\n"
    )
    # ... with the memory address of an argument's repr removed.
    with_object = functools.partial(module.up, module.Thing())
    object_digest = "f5766edf15d5b100546c9b806158cf3e178009a7bf573f5617fd40cfb4d9ab6c"
    assert callable_checksum(with_object) == object_digest
    assert object_digest == sha(
        b"PYTHON:vector_migration:up\n" + UP_SOURCE.encode()
        + b"PARTIAL:((<vector_migration.Thing object>,), [])\n"
    )
    # A callable without source (a built-in) hashes its qualified name alone.
    len_digest = "048e48b89b880a666f8629a666cfad73daa7211ce58184ded3bb04a9aa946511"
    assert callable_checksum(len) == len_digest == sha(b"PYTHON:builtins:len\n")


def test_callable_checksum_tracks_the_body_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Same module, same name, same signature: only the body differs.
    first = load(monkeypatch, tmp_path / "a", VECTOR_MODULE)
    second = load(monkeypatch, tmp_path / "b", VECTOR_MODULE.replace("INTEGER", "TEXT"))
    assert first.up.__qualname__ == second.up.__qualname__
    assert callable_checksum(first.up) != callable_checksum(second.up)
    assert callable_checksum(first.Step()) == callable_checksum(second.Step())


def test_callable_checksum_tracks_the_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = load(monkeypatch, tmp_path, VECTOR_MODULE, name="first_migration")
    second = load(monkeypatch, tmp_path, VECTOR_MODULE, name="second_migration")
    assert callable_checksum(first.up) != callable_checksum(second.up)


def test_callable_objects_and_partials_track_their_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = load(monkeypatch, tmp_path, VECTOR_MODULE)
    # Two callable classes of different code differ.
    assert callable_checksum(module.Step()) != callable_checksum(module.Other())
    # A partial changes with the function it wraps, not only with its arguments.
    assert callable_checksum(functools.partial(_up_one, 1)) != callable_checksum(
        functools.partial(_up_two, 1))
    # An argument whose repr holds a memory address hashes the same in every run.
    assert callable_checksum(functools.partial(module.up, module.Thing())) == callable_checksum(
        functools.partial(module.up, module.Thing()))


def test_callable_without_a_module_hashes_an_empty_module() -> None:
    # A function built by exec() in a namespace without __name__ has __module__ None; a
    # method descriptor (str.join) has no __module__ at all. Neither has source.
    namespace: dict[str, object] = {}
    exec("def up(conn): pass", namespace)
    generated = namespace["up"]
    assert callable(generated)
    assert callable_checksum(generated) == sha(b"PYTHON::up\n")
    assert callable_checksum(str.join) == sha(b"PYTHON::str.join\n")
