"""Checksums must match switchy_schema's byte for byte (DESIGN.md test vectors)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from switchy_guard.checksum import (
    EMPTY_CHECKSUM,
    callable_checksum,
    exec_raw_checksum,
    file_checksum,
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
