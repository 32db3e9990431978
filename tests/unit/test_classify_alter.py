"""The ALTER TABLE reader of sql/classify.py: the actions classify() returns per dialect.

The rules (SG403-SG412, SG3xx, SG603) and the runner read these actions; each test pins
what a statement does as the server runs it (PostgreSQL and MariaDB/MySQL documentation).
"""

from __future__ import annotations

from switchy_guard.sql.classify import AlterAction, classify


def test_placeholder() -> None:
    assert classify("ALTER TABLE t ADD COLUMN c int").actions == (
        AlterAction("add_column", column="c", type="int"),)
