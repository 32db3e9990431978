"""Whole-table rebuilds and explicit locks (rules/rewrites.py, SG411-SG413): what each
finding says, on which line, per dialect; and the look-alikes that must stay silent.

The history holds ``users`` (made by an earlier migration); a table made in the migration
itself is new and empty, so rebuilding or locking it costs nothing.
"""

from __future__ import annotations

import pytest

from tests.unit.rules.helpers import found

P, M, S = "postgres", "mysql", "sqlite"



# (dialect, code, server version (unused here), SQL, [(line, message)]); [] for a look-alike.
CASES = [
    (P, 'SG411', None,
     'ALTER TABLE users ADD PRIMARY KEY (id), ADD COLUMN k int PRIMARY KEY',
     [
      (1, 'adds a primary key to users: its unique index is built while the table is locked '
          'against reads and writes (ACCESS EXCLUSIVE)'),
      (1, 'adds new column k to users: its unique index is built while the table is locked '
          'against reads and writes (ACCESS EXCLUSIVE)'),
     ]),
    (M, 'SG411', None,
     'ALTER TABLE users ADD CONSTRAINT pk PRIMARY KEY (id)',
     [
      (1, 'adds a primary key to users: MySQL/MariaDB rebuild the whole table around it (a '
          'nullable key column makes it a copy that blocks writes)'),
     ]),
    (M, 'SG411', None,
     'ALTER TABLE users ADD COLUMN k int PRIMARY KEY',
     [
      (1, 'adds new column k to users: MySQL/MariaDB rebuild the whole table around it (a '
          'nullable key column makes it a copy that blocks writes)'),
     ]),
    (P, 'SG411', None,
     'ALTER TABLE users ADD CONSTRAINT pk PRIMARY KEY USING INDEX users_pk', []),
    (M, 'SG411', None,
     'ALTER TABLE users ADD PRIMARY KEY (id), LOCK=NONE', []),
    (P, 'SG411', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ADD PRIMARY KEY (id)', []),
    (S, 'SG412', None,
     'VACUUM',
     [
      (1, 'VACUUM rewrites the whole database file under an exclusive lock (every reader and '
          'writer waits), and SQLite refuses it inside a transaction'),
     ]),
    (S, 'SG412', None,
     "VACUUM INTO '/tmp/copy.db'", []),
    (P, 'SG412', None,
     'VACUUM FULL users',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM (FULL, ANALYZE) users, orders',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
      (1, 'VACUUM FULL rewrites the whole of orders under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM (FULL false) users', []),
    (P, 'SG412', None,
     'VACUUM (FULL OFF, VERBOSE) users', []),
    (P, 'SG412', None,
     'VACUUM (FULL 0) users', []),
    (P, 'SG412', None,
     'VACUUM (VERBOSE, FULL) users (id, email)',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM FULL VERBOSE ANALYZE users',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM FULL',
     [
      (1, 'VACUUM FULL without a table rewrites every table of the database under lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM ANALYZE users', []),
    (P, 'SG412', None,
     'VACUUM (ANALYZE) users', []),
    (P, 'SG412', None,
     'VACUUM (FULL', []),
    (P, 'SG412', None,
     'CREATE TABLE t (id int);\nVACUUM FULL t, users',
     [
      (2, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'CLUSTER users USING users_email',
     [
      (1, 'CLUSTER rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'CLUSTER VERBOSE users',
     [
      (1, 'CLUSTER rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'CLUSTER (VERBOSE) users',
     [
      (1, 'CLUSTER rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'CLUSTER',
     [
      (1, 'CLUSTER without a table rewrites every table of the database under lock'),
     ]),
    (P, 'SG412', None,
     'CLUSTER users_email ON users',
     [
      (1, 'CLUSTER rewrites the whole of users under an exclusive lock'),
     ]),
    (M, 'SG412', None,
     'OPTIMIZE TABLE users, orders',
     [
      (1, 'OPTIMIZE TABLE rebuilds the whole of users under an exclusive lock'),
      (1, 'OPTIMIZE TABLE rebuilds the whole of orders under an exclusive lock'),
     ]),
    (M, 'SG412', None,
     'OPTIMIZE NO_WRITE_TO_BINLOG TABLE users',
     [
      (1, 'OPTIMIZE TABLE rebuilds the whole of users under an exclusive lock'),
     ]),
    (M, 'SG412', None,
     'OPTIMIZE LOCAL TABLES users',
     [
      (1, 'OPTIMIZE TABLE rebuilds the whole of users under an exclusive lock'),
     ]),
    (M, 'SG412', None,
     'OPTIMIZE users', []),
    (P, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) STORED',
     [
      (1, 'adds stored generated column users.d: every row is rewritten under an exclusive lock '
          'to compute it'),
     ]),
    (P, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) VIRTUAL', []),
    (M, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) STORED',
     [
      (1, 'adds stored generated column users.d: every row is rewritten under an exclusive lock '
          'to compute it'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int AS (id * 2) PERSISTENT',
     [
      (1, 'adds stored generated column users.d: every row is rewritten under an exclusive lock '
          'to compute it'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int AS (id * 2)', []),
    (S, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) STORED', []),
    (P, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS IDENTITY', []),
    (P, 'SG412', None,
     'ALTER TABLE users SET UNLOGGED',
     [
      (1, 'SET UNLOGGED rewrites the whole of users under an exclusive lock (and an UNLOGGED '
          'table is emptied by a crash and not replicated)'),
     ]),
    (P, 'SG412', None,
     'ALTER TABLE users SET LOGGED',
     [
      (1, 'SET LOGGED rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'ALTER TABLE users SET TABLESPACE fast',
     [
      (1, 'SET TABLESPACE fast rewrites the whole of users under an exclusive lock'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4, ENGINE=InnoDB',
     [
      (1, 'CONVERT TO CHARACTER SET rebuilds the whole of users; without ALGORITHM=INPLACE, '
          'LOCK=NONE it may copy it while blocking writes'),
      (1, 'ENGINE rebuilds the whole of users; without ALGORITHM=INPLACE, LOCK=NONE it may copy '
          'it while blocking writes'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users FORCE',
     [
      (1, 'FORCE rebuilds the whole of users; without ALGORITHM=INPLACE, LOCK=NONE it may copy '
          'it while blocking writes'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users ENGINE=InnoDB, LOCK=NONE', []),
    (P, 'SG412', None,
     'CREATE TABLE t (id int);\nALTER TABLE t SET LOGGED', []),
    (P, 'SG413', None,
     'LOCK TABLE users',
     [
      (1, "locks users in ACCESS EXCLUSIVE mode until the migration's transaction ends: queries "
          'on it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG413', None,
     'LOCK TABLE ONLY users, orders IN SHARE ROW EXCLUSIVE MODE NOWAIT',
     [
      (1, "locks users, orders in SHARE ROW EXCLUSIVE mode until the migration's transaction "
          'ends: queries on it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG413', None,
     'LOCK users IN ACCESS SHARE MODE',
     [
      (1, "locks users in ACCESS SHARE mode until the migration's transaction ends: queries on "
          'it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG413', None,
     'LOCK TABLE users NOWAIT',
     [
      (1, "locks users in ACCESS EXCLUSIVE mode until the migration's transaction ends: queries "
          'on it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG413', None,
     'CREATE TABLE t (id int);\nLOCK TABLE t', []),
    (M, 'SG413', None,
     'LOCK TABLES users WRITE, orders READ',
     [
      (1, 'LOCK TABLES users, orders commits the open transaction and holds the locks until '
          "UNLOCK TABLES: every other session's queries on them wait"),
     ]),
    (M, 'SG413', None,
     'LOCK INSTANCE FOR BACKUP',
     [
      (1, 'LOCK INSTANCE FOR BACKUP blocks DDL on every table until it is released'),
     ]),
    (M, 'SG413', None,
     'FLUSH TABLES users WITH READ LOCK',
     [
      (1, 'FLUSH TABLES ... WITH READ LOCK blocks every write until UNLOCK TABLES'),
     ]),
    (M, 'SG413', None,
     'UNLOCK TABLES', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), CASES)
def test_rewrite_and_lock_findings_say_what_waits(
        dialect: str, code: str, version: None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code) == expected


def test_sg413_reads_flush_only_when_it_locks() -> None:
    """FLUSH TABLES ... FOR EXPORT locks as WITH READ LOCK does; other FLUSHes lock nothing."""
    assert found("FLUSH TABLES users FOR EXPORT", M, "SG413") == [
        (1, "FLUSH TABLES ... WITH READ LOCK blocks every write until UNLOCK TABLES")]
    assert found("FLUSH PRIVILEGES", M, "SG413") == []
    assert found("FLUSH TABLES", M, "SG413") == []


# Every bare VACUUM option, a primary key after another action.
MORE = [
    (P, 'SG411', None,
     'ALTER TABLE users ADD COLUMN z int, ADD PRIMARY KEY (id)',
     [
      (1, 'adds a primary key to users: its unique index is built while the table is locked '
          'against reads and writes (ACCESS EXCLUSIVE)'),
     ]),
    (P, 'SG412', None,
     'VACUUM FULL FREEZE users',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM FULL ANALYSE users',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
    (P, 'SG412', None,
     'VACUUM (FULL TRUE, PARALLEL 2) users',
     [
      (1, 'VACUUM FULL rewrites the whole of users under an exclusive lock'),
     ]),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), MORE)
def test_vacuum_options_and_later_actions(
        dialect: str, code: str, version: None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code) == expected


# Each dialect reads only its own maintenance statements.
DIALECTS = [
    (S, 'SG412', None,
     'OPTIMIZE TABLE users', []),
    (M, 'SG412', None,
     'VACUUM FULL users', []),
    (M, 'SG412', None,
     'CLUSTER users', []),
    (P, 'SG412', None,
     'VACUUM', []),
    (P, 'SG412', None,
     'ALTER TABLE users FORCE', []),
    (P, 'SG413', None,
     'LOCK TABLE users IN ROW EXCLUSIVE MODE',
     [
      (1, "locks users in ROW EXCLUSIVE mode until the migration's transaction ends: queries on "
          'it queue behind the lock, and behind the wait for it'),
     ]),
    (M, 'SG412', None,
     'ALTER TABLE users SET UNLOGGED', []),
    (P, 'SG413', None,
     'LOCK TABLE mode',
     [
      (1, "locks mode in ACCESS EXCLUSIVE mode until the migration's transaction ends: queries "
          'on it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG413', None,
     'LOCK TABLE public.users IN EXCLUSIVE MODE',
     [
      (1, "locks public.users in EXCLUSIVE mode until the migration's transaction ends: queries "
          'on it queue behind the lock, and behind the wait for it'),
     ]),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), DIALECTS)
def test_maintenance_of_another_dialect_is_not_read(
        dialect: str, code: str, version: None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code) == expected


# PostgreSQL's comments nest: what is inside one is no option.
NESTED = [
    (P, 'SG412', None,
     'VACUUM /* not /* nested */ FULL */ users', []),
    (P, 'SG413', None,
     'LOCK TABLE /* not /* nested */ IN SHARE MODE */ users',
     [
      (1, "locks users in ACCESS EXCLUSIVE mode until the migration's transaction ends: queries "
          'on it queue behind the lock, and behind the wait for it'),
     ]),
    (P, 'SG412', None,
     'ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) STORED /* not /* nested */ '
     'VIRTUAL */',
     [
      (1, 'adds stored generated column users.d: every row is rewritten under an exclusive lock '
          'to compute it'),
     ]),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), NESTED)
def test_nested_comments_hide_options(
        dialect: str, code: str, version: None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code) == expected
