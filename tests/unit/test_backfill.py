"""Backfill metadata and the statements a backfill can (and cannot) batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.errors import InputError
from switchy_guard.model.migration import Backfill, Migration, parse_metadata
from switchy_guard.sql.backfill import check_backfill
from tests.cli_helpers import run_cli, write_migration


def _migration(up: str, *, transactional: bool = True) -> Migration:
    return Migration(id="2024-01-01-000000_bf", up=up, down=None, up_checksum="0" * 64,
                     down_checksum="0" * 64, transactional=transactional,
                     backfill=Backfill(100), up_path="m/2024-01-01-000000_bf/up.sql")


def test_backfill_metadata_parses() -> None:
    meta = parse_metadata("backfill = { batch_size = 5000, pause_ms = 20 }", "m/metadata.toml")
    assert meta.backfill == Backfill(5000, 20)
    assert parse_metadata("backfill = { batch_size = 7 }", "x").backfill == Backfill(7, 0)
    assert parse_metadata("", "x").backfill is None


@pytest.mark.parametrize(("text", "says"), [
    ("backfill = 5", "must be a table"),
    ("backfill = { batch_size = 0 }", "batch_size"),
    ("backfill = { batch_size = -3 }", "batch_size"),
    ("backfill = { batch_size = true }", "batch_size"),
    ("backfill = { batch_size = 1.5 }", "batch_size"),
    ("backfill = { pause_ms = 3 }", "batch_size"),
    ("backfill = { batch_size = 10, pause_ms = -1 }", "pause_ms"),
    ("backfill = { batch_size = 10, pause_ms = '1' }", "pause_ms"),
    ("backfill = { batch_size = 10, size = 3 }", "unknown key 'size'"),
])
def test_bad_backfill_metadata_is_refused_naming_the_file(text: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_metadata(text, "m/metadata.toml")
    assert says in str(caught.value) and "m/metadata.toml" in str(caught.value)


@pytest.mark.parametrize("up", [
    "UPDATE items SET n = n + 1, done = TRUE WHERE done = FALSE;",
    "UPDATE items AS i SET note = 'a:b%c' WHERE i.note IS NULL -- trailing\n;",
    "DELETE FROM events WHERE created < '2020-01-01' OR kind = 'x';",
    "update public.items set v = (select max(x) from other where other.id = items.id) "
    "where v is null;",
])
def test_batchable_statements_pass(up: str) -> None:
    statement = check_backfill(_migration(up))
    assert statement.kind in ("update", "delete")
    batched = statement.batched('"id"', True, True, "%s")
    assert batched.endswith('AND "id" > %s AND "id" <= %s')
    assert "WHERE (\n" in batched


@pytest.mark.parametrize(("up", "says"), [
    ("UPDATE items SET n = 1;", "no WHERE clause"),
    ("UPDATE items SET n = 1 WHERE 1 = 1;", "no WHERE clause"),
    ("DELETE FROM items;", "no WHERE clause"),
    ("UPDATE items SET n = 1 WHERE n = 0; UPDATE items SET m = 1 WHERE m = 0;",
     "holds 2 statements"),
    ("", "holds 0 statements"),
    ("INSERT INTO items SELECT * FROM old;", "not an UPDATE or DELETE"),
    ("WITH x AS (SELECT 1) UPDATE items SET n = 1 WHERE n = 0;", "not an UPDATE or DELETE"),
    ("UPDATE items SET n = o.n FROM other o WHERE o.id = items.id AND items.n = 0;", "FROM"),
    ("UPDATE items, other SET items.n = other.n WHERE items.id = other.id;",
     "more than one table"),
    ("UPDATE items JOIN other ON other.id = items.id SET items.n = 1 WHERE items.n = 0;",
     "more than one table"),
    ("DELETE FROM items USING other WHERE other.id = items.id;", "USING"),
    ("DELETE items FROM items JOIN other ON other.id = items.id WHERE other.x = 1;",
     "multi-table DELETE"),
    ("UPDATE items SET n = 1 WHERE n = 0 LIMIT 10;", "LIMIT after the WHERE"),
    ("DELETE FROM items WHERE n = 0 RETURNING id;", "RETURNING after the WHERE"),
])
def test_unbatchable_statements_are_refused_saying_why(up: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        check_backfill(_migration(up))
    message = str(caught.value)
    assert says in message, message
    assert "m/2024-01-01-000000_bf/up.sql" in message and "cannot be batched" in message


def test_a_non_transactional_backfill_is_refused() -> None:
    with pytest.raises(InputError, match="transactional = false"):
        check_backfill(_migration("UPDATE t SET a = 1 WHERE a = 0;", transactional=False))


def test_set_columns_are_read() -> None:
    statement = check_backfill(_migration(
        "UPDATE t SET a = 1, t.b = 2, (c, \"D\") = (3, 4) WHERE a = 0;"))
    assert statement.assigns == {"a", "b", "c", "d"}


def test_check_refuses_an_unbatchable_backfill_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_bf", up="UPDATE items SET n = 1;\n",
                    metadata="backfill = { batch_size = 10 }\n")
    result = run_cli("-m", root, "check")
    assert result.code == 2, result
    assert len(result.error_lines) == 1
    assert "2024-01-01-000000_bf/up.sql" in result.err and "no WHERE clause" in result.err
