"""Policies at their edges: each numeric key's error, how a match_urls pattern's host is
read, which spelling of a database a rule matched, and what a target is.

Found by mutation testing (bench/mutation.py): each test pins down behaviour the larger
policy suites left free to change.
"""

from __future__ import annotations

import dataclasses

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.policy import DatabaseTarget, Policy, policy_from_mapping


@pytest.mark.parametrize("key", ["lock_timeout", "statement_lock_timeout", "statement_timeout",
                                 "refuse_when_blocked_longer_than"])
def test_every_seconds_key_says_what_it_takes(key: str) -> None:
    with pytest.raises(ConfigError, match=(
            f"^policy key '{key}' must be a number of seconds, 0 or more, finite, not -1$")):
        policy_from_mapping("p", {key: -1})


def test_a_pattern_host_is_normalised_unless_it_is_a_glob() -> None:
    # XDB.localhost is this machine (as every *.localhost is): it matches localhost.
    policy = Policy("p", match_urls=("XDB.localhost/app",))
    assert policy.match("localhost/app") == ("match_urls", "XDB.localhost/app", "localhost/app")
    glob = Policy("p", match_urls=("127.0.0.[1]/app",))
    assert glob.match("localhost/app") is None
    assert glob.match("127.0.0.1/app") is not None


def test_a_pattern_without_a_slash_is_matched_as_written() -> None:
    assert Policy("p", match_urls=("127.0.0.1",)).matches("localhost/") is None
    assert Policy("p", match_urls=("localhost/",)).matches("localhost/") == "localhost/"


def test_the_match_says_which_spelling_of_the_database_it_was() -> None:
    policy = Policy("p", match_urls=("db1/*",))
    assert policy.match(DatabaseTarget(("db1/app", "10.0.0.5/app"))) == (
        "match_urls", "db1/*", "db1/app as the URL says")
    assert policy.match(DatabaseTarget(("10.0.0.5/app", "db1/app"))) == (
        "match_urls", "db1/*", "db1/app as the database says")
    assert policy.match(DatabaseTarget(("db1/app",))) == ("match_urls", "db1/*", "db1/app")


def test_a_target_once_made_cannot_be_changed_and_equal_targets_are_one() -> None:
    target = DatabaseTarget(("db1/app",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.names = ("other/app",)  # type: ignore[misc]
    assert len({target, DatabaseTarget(("db1/app",))}) == 1
    assert target.shown == "db1/app" and DatabaseTarget(()).shown == ""
