"""metadata.toml is validated: unknown keys and wrong types are errors naming the file."""

from __future__ import annotations

import pytest

from switchy_guard.errors import InputError
from switchy_guard.model.migration import Allow, parse_metadata


def test_full_metadata_parses() -> None:
    meta = parse_metadata(
        """
description = "add users"
depends_on = ["2024-01-01-000000_a"]
transactional = false
dialects = ["postgres", "sqlite"]
allow = [{ rule = "drop-column", reason = "column unused since v2" }]
""",
        "m/metadata.toml",
    )
    assert meta.description == "add users"
    assert meta.depends_on == ("2024-01-01-000000_a",)
    assert meta.transactional is False
    assert meta.dialects == ("postgres", "sqlite")
    assert meta.allow == (Allow("drop-column", "column unused since v2"),)


def test_diesels_run_in_transaction_is_read_as_transactional() -> None:
    """Diesel keeps the same folder layout; its metadata.toml says run_in_transaction."""
    assert parse_metadata("run_in_transaction = false", "m/metadata.toml").transactional is False
    assert parse_metadata("run_in_transaction = true", "m/metadata.toml").transactional is True
    same = "run_in_transaction = false\ntransactional = false"
    assert parse_metadata(same, "m/metadata.toml").transactional is False


def test_empty_metadata_defaults() -> None:
    meta = parse_metadata("", "m/metadata.toml")
    assert meta.transactional is True and meta.dialects is None and meta.allow == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("descripton = 'x'", "unknown key 'descripton'"),
        ("description = 3", "'description' must be a string"),
        ("transactional = 'no'", "'transactional' must be true or false"),
        ("run_in_transaction = 0", "'run_in_transaction' must be true or false"),
        ("run_in_transaction = false\ntransactional = true", "disagree"),
        ("depends_on = 'a'", "'depends_on' must be a list"),
        ("depends_on = ['']", "'depends_on' must be a list"),
        ("dialects = ['oracle']", "unknown dialect 'oracle'"),
        ("allow = 'drop-table'", "'allow' must be a list"),
        ("allow = [{ rule = 'drop-table' }]", "needs a non-empty 'reason'"),
        ("allow = [{ rule = 'drop-table', reason = '  ' }]", "needs a non-empty 'reason'"),
        ("allow = [{ reason = 'x' }]", "needs a non-empty 'rule'"),
        ("allow = [{ rule = 'x', reason = 'y', extra = 1 }]", "only 'rule' and 'reason'"),
        ("this is not toml", "invalid TOML"),
    ],
)
def test_bad_metadata_is_an_error_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(InputError) as info:
        parse_metadata(text, "mig/metadata.toml")
    assert info.value.one_line().startswith("mig/metadata.toml: ")
    assert problem in info.value.one_line()
    assert "\n" not in info.value.one_line()
