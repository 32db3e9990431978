"""Locking rules (rules/locking.py, SG401-SG410): what each finding says, on which line, per
dialect and server version; and the look-alikes of each branch that must stay silent.

The history holds ``users`` (made by an earlier migration); tables made in the migration
itself are new, so rewriting or locking them costs nothing.
"""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

P, M, S = "postgres", "mysql", "sqlite"

BASE = ("CREATE TABLE users (id INT, email VARCHAR(255), name VARCHAR(50), born TIMESTAMP, "
        "note TEXT, age INT NOT NULL);\nCREATE INDEX users_email ON users (email);\n")


def found(sql: str, dialect: str, code: str, version: tuple[int, ...] | None = None,
          transactional: bool = True) -> list[tuple[int | None, str]]:
    """(line, message) of each ``code`` finding of ``sql``, planned after ``BASE``."""
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                     up_path="case/up.sql", transactional=transactional)
    result = validate([base, case], dialect, plan_ids={case.id}, server_version=version)
    return [(f.line, f.message) for f in result.findings if f.code == code]


# (dialect, code, server version, SQL, [(line, message)]); [] for a look-alike.
CASES = [
    (P, 'SG401', None,
     'REINDEX INDEX users_email',
     [
      (1, 'rebuilds index users_email while blocking writes to its table (and queries that would '
          'use the index)'),
     ]),
    (P, 'SG401', None,
     'REINDEX TABLE users',
     [
      (1, 'rebuilds every index of users while blocking writes to it'),
     ]),
    (P, 'SG401', None,
     'REINDEX (VERBOSE, TABLESPACE x) SCHEMA public',
     [
      (1, 'rebuilds every index of the schema while blocking writes to each table'),
     ]),
    (P, 'SG401', None,
     'REINDEX DATABASE app',
     [
      (1, 'rebuilds every index of the database while blocking writes to each table'),
     ]),
    (P, 'SG401', None,
     'REINDEX SYSTEM app',
     [
      (1, 'rebuilds every index of the system while blocking writes to each table'),
     ]),
    (P, 'SG401', None,
     'CREATE TABLE t (id int);\nREINDEX TABLE t;\nCREATE INDEX t_i ON t (id);\nREINDEX INDEX '
     't_i;\nDROP INDEX t_i', []),
    (P, 'SG401', None,
     'REINDEX', []),
    (P, 'SG401', None,
     'CREATE INDEX users_n ON users (name)',
     [
      (1, 'builds an index on users while blocking writes to it'),
     ]),
    (P, 'SG401', None,
     'DROP INDEX users_email',
     [
      (1, 'drops index users_email under an exclusive lock on its table'),
     ]),
    (P, 'SG402', None,
     'CREATE INDEX CONCURRENTLY users_n ON users (name);\nSELECT 1;\nANALYZE users',
     [
      (1, 'CONCURRENTLY cannot run in a transaction, so this whole migration runs without one: '
          'its other 2 statement(s) lose atomicity'),
     ]),
    (P, 'SG402', None,
     'DO $$ BEGIN CREATE INDEX CONCURRENTLY users_n ON users (name); END $$',
     [
      (1, "CONCURRENTLY inside a DO block: PostgreSQL refuses it in a function or block ('cannot "
          "be executed from a function'), so this migration fails"),
     ]),
    (P, 'SG402', None,
     'DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;\nDROP INDEX CONCURRENTLY users_email',
     [
      (2, 'CONCURRENTLY cannot run in a transaction, so this whole migration runs without one: '
          'its other 1 statement(s) lose atomicity'),
     ]),
    (P, 'SG403', None,
     'ALTER TABLE users ADD COLUMN plan TEXT NOT NULL, ADD COLUMN n serial NOT NULL, ADD COLUMN g '
     'int NOT NULL GENERATED ALWAYS AS (id * 2) STORED, ADD COLUMN d int NOT NULL DEFAULT null',
     [
      (1, 'adds NOT NULL column users.plan without a default'),
      (1, 'adds NOT NULL column users.d without a default'),
     ]),
    (M, 'SG403', None,
     'ALTER TABLE users ADD COLUMN plan TEXT NOT NULL, ADD COLUMN n serial NOT NULL, ADD COLUMN g '
     'int NOT NULL GENERATED ALWAYS AS (id * 2) STORED, ADD COLUMN d int NOT NULL DEFAULT null',
     [
      (1, 'adds NOT NULL column users.plan without a default'),
      (1, 'adds NOT NULL column users.d without a default'),
     ]),
    (S, 'SG403', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN plan TEXT NOT NULL', []),
    (P, 'SG404', None,
     'ALTER TABLE users ALTER COLUMN email SET NOT NULL, ALTER COLUMN name TYPE varchar(60)',
     [
      (1, 'sets NOT NULL on users.email: a full scan under lock'),
     ]),
    (M, 'SG404', None,
     'ALTER TABLE users MODIFY COLUMN email VARCHAR(255) NOT NULL, MODIFY COLUMN age INT NOT NULL',
     [
      (1, 'makes users.email NOT NULL: every row is checked while the table is locked'),
     ]),
    (P, 'SG404', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN id SET NOT NULL', []),
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN id TYPE bigint, ALTER COLUMN email TYPE text, ALTER COLUMN '
     'ghost TYPE int',
     [
      (1, 'changes the type of users.id to bigint from int: the table is rewritten under an '
          'exclusive lock'),
      (1, 'changes the type of users.ghost to int from a type the migrations do not show: the '
          'table may be rewritten under an exclusive lock'),
     ]),
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN email TYPE varchar(300) COLLATE "C"',
     [
      (1, 'changes the type of users.email to varchar(300) from varchar(255) with a USING, '
          'COLLATE or character set: the table is rewritten under an exclusive lock'),
     ]),
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN born TYPE timestamptz',
     [
      (1, 'changes the type of users.born to timestamptz from timestamp: the table is rewritten '
          "under an exclusive lock unless the session's TimeZone is UTC (PostgreSQL 12+; say SET "
          "TIME ZONE 'UTC' first in this migration)"),
     ]),
    (P, 'SG405', None,
     "SET TIME ZONE 'UTC';\nALTER TABLE users ALTER COLUMN born TYPE timestamptz", []),
    (P, 'SG405', None,
     "SET TIME ZONE 'UTC';\nSET timezone = 'Europe/Paris';\nALTER TABLE users ALTER COLUMN born "
     'TYPE timestamptz',
     [
      (3, 'changes the type of users.born to timestamptz from timestamp: the table is rewritten '
          "under an exclusive lock unless the session's TimeZone is UTC (PostgreSQL 12+; say SET "
          "TIME ZONE 'UTC' first in this migration)"),
     ]),
    (P, 'SG405', None,
     "ALTER TABLE users ALTER COLUMN born TYPE timestamptz;\nSET TIME ZONE 'UTC'",
     [
      (1, 'changes the type of users.born to timestamptz from timestamp: the table is rewritten '
          "under an exclusive lock unless the session's TimeZone is UTC (PostgreSQL 12+; say SET "
          "TIME ZONE 'UTC' first in this migration)"),
     ]),
    (P, 'SG405', None,
     'SET search_path = x;\nALTER TABLE users ALTER COLUMN born TYPE timestamptz',
     [
      (2, 'changes the type of users.born to timestamptz from timestamp: the table is rewritten '
          "under an exclusive lock unless the session's TimeZone is UTC (PostgreSQL 12+; say SET "
          "TIME ZONE 'UTC' first in this migration)"),
     ]),
    (M, 'SG405', None,
     'ALTER TABLE users MODIFY COLUMN note MEDIUMTEXT, MODIFY COLUMN name VARCHAR(40), CHANGE '
     'COLUMN age years INT NOT NULL',
     [
      (1, 'changes the type of users.name to varchar(40) from varchar(50): the table is '
          'rewritten under an exclusive lock'),
     ]),
    (M, 'SG405', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(60) CHARACTER SET latin1', []),
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN id TYPE int', []),
    (P, 'SG406', None,
     'ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;\nALTER TABLE users VALIDATE '
     'CONSTRAINT ck',
     [
      (2, 'validates ck in the transaction that added it NOT VALID: the exclusive lock the ADD '
          'took on users is held through the whole validation scan'),
     ]),
    (P, 'SG406', None,
     'ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0) NOT VALID, VALIDATE CONSTRAINT ck',
     [
      (1, 'validates ck in the transaction that added it NOT VALID: the exclusive lock the ADD '
          'took on users is held through the whole validation scan'),
     ]),
    (P, 'SG406', None,
     'ALTER TABLE users VALIDATE CONSTRAINT ck;\nALTER TABLE users ADD CONSTRAINT ck CHECK (id > '
     '0) NOT VALID', []),
    (P, 'SG406', None,
     'ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES o (id), ADD CONSTRAINT ck '
     'CHECK (id > 0), ADD CONSTRAINT u UNIQUE (id)',
     [
      (1, 'adds a foreign key to users and validates every row under lock'),
      (1, 'adds a check constraint to users and validates every row under lock'),
     ]),
    (P, 'SG406', None,
     'ALTER TABLE users ADD COLUMN org int REFERENCES orgs (id), ADD COLUMN n int CHECK (n > 0), '
     'ADD COLUMN z int UNIQUE',
     [
      (1, 'adds users.org with a foreign key, validated over every row under lock'),
      (1, 'adds users.n with a check constraint, validated over every row under lock'),
     ]),
    (P, 'SG407', None,
     'ALTER TABLE users ADD CONSTRAINT u UNIQUE (email), ADD COLUMN code int UNIQUE, ADD COLUMN k '
     'int PRIMARY KEY UNIQUE',
     [
      (1, 'builds a unique constraint index on users under an exclusive lock'),
      (1, 'builds a unique constraint index on users for new column code under an exclusive lock'),
     ]),
    (M, 'SG407', None,
     'ALTER TABLE users ADD UNIQUE (email), LOCK=NONE', []),
    (P, 'SG407', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ADD CONSTRAINT u UNIQUE (id)', []),
    (P, 'SG408', None,
     'ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid(), ADD COLUMN s text DEFAULT '
     "'random()', ADD COLUMN n serial, ADD COLUMN b bigserial, ADD COLUMN i int GENERATED ALWAYS "
     'AS IDENTITY',
     [
      (1, 'adds users.t with volatile default gen_random_uuid(): every row is rewritten'),
      (1, 'adds users.n as serial: every existing row is given the next sequence value, so every '
          'row is rewritten'),
      (1, 'adds users.b as bigserial: every existing row is given the next sequence value, so '
          'every row is rewritten'),
      (1, 'adds users.i as an identity column: every existing row is given the next sequence '
          'value, so every row is rewritten'),
     ]),
    (P, 'SG408', None,
     "CREATE FUNCTION f() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1';\nCREATE FUNCTION g() "
     "RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 1';\nALTER TABLE users ADD COLUMN a int "
     'DEFAULT f(), ADD COLUMN c int DEFAULT g()', []),
    (P, 'SG408', (10, 5),
     'ALTER TABLE users ADD COLUMN a int DEFAULT 0, ADD COLUMN c int DEFAULT NULL, ADD COLUMN d '
     'int',
     [
      (1, 'adds users.a with default 0: before PostgreSQL 11 (the server is 10.5) every row is '
          'rewritten with it, under an ACCESS EXCLUSIVE lock'),
     ]),
    (P, 'SG408', (11,),
     'ALTER TABLE users ADD COLUMN a int DEFAULT 0', []),
    (M, 'SG408', (5, 7),
     'ALTER TABLE users ADD COLUMN a int DEFAULT 0', []),
    (M, 'SG408', None,
     'ALTER TABLE users ADD COLUMN a int DEFAULT f()', []),
    (M, 'SG408', None,
     'ALTER TABLE users ADD COLUMN t CHAR(36) DEFAULT (uuid())',
     [
      (1, 'adds users.t with volatile default (uuid()): every row is rewritten'),
     ]),
    (P, 'SG408', None,
     "ALTER TABLE users ADD COLUMN s text DEFAULT 'it''s random()'", []),
    (P, 'SG408', None,
     "ALTER TABLE users ADD COLUMN s text DEFAULT E'\\\\' || random()::text",
     [
      (1, "adds users.s with volatile default E'\\\\' || random()::text: every row is rewritten"),
     ]),
    (P, 'SG408', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN n serial', []),
    (M, 'SG409', None,
     'ALTER TABLE users ADD FULLTEXT INDEX ft (note), ADD SPATIAL INDEX sp (note), ADD INDEX i '
     '(name)',
     [
      (1, 'a FULLTEXT index is built on users while writes to it are blocked, even in place'),
      (1, 'a SPATIAL index is built on users while writes to it are blocked, even in place'),
     ]),
    (M, 'SG409', None,
     'CREATE FULLTEXT INDEX ft ON users (note)',
     [
      (1, 'a FULLTEXT index is built on users while writes to it are blocked, even in place'),
     ]),
    (M, 'SG409', None,
     'CREATE INDEX i ON users (note)', []),
    (M, 'SG409', None,
     'CREATE FULLTEXT INDEX ft ON users (note), LOCK=NONE', []),
    (M, 'SG409', None,
     'ALTER TABLE users ADD COLUMN x INT, ALGORITHM=COPY',
     [
      (1, 'asks for ALGORITHM=COPY on users: the table is copied under lock'),
     ]),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(40), ALGORITHM=NOCOPY', []),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(40), DROP PRIMARY KEY, MODIFY COLUMN email '
     'VARCHAR(255) NOT NULL, MODIFY COLUMN name VARCHAR(60)',
     [
      (1, 'MODIFY/CHANGE of name makes MySQL/MariaDB copy users while blocking writes'),
      (1, 'dropping the primary key makes MySQL/MariaDB copy users while blocking writes'),
     ]),
    (M, 'SG409', (8, 0, 20),
     'ALTER TABLE users ADD COLUMN x INT FIRST, ADD COLUMN y INT',
     [
      (1, 'ADD COLUMN x is not instant on MySQL 8.0.20: users is rebuilt (INSTANT needs MySQL '
          '8.0.12+ or MariaDB 10.3+ for a last column, 8.0.29+ or 10.4+ with FIRST/AFTER)'),
     ]),
    (M, 'SG409', (10, 3, 7),
     'ALTER TABLE users ADD COLUMN x INT FIRST, ADD COLUMN y INT',
     [
      (1, 'ADD COLUMN x is not instant on MariaDB 10.3.7: users is rebuilt (INSTANT needs MySQL '
          '8.0.12+ or MariaDB 10.3+ for a last column, 8.0.29+ or 10.4+ with FIRST/AFTER)'),
     ]),
    (M, 'SG409', (8, 0, 11),
     'ALTER TABLE users ADD COLUMN y INT',
     [
      (1, 'ADD COLUMN y is not instant on MySQL 8.0.11: users is rebuilt (INSTANT needs MySQL '
          '8.0.12+ or MariaDB 10.3+ for a last column, 8.0.29+ or 10.4+ with FIRST/AFTER)'),
     ]),
    (M, 'SG409', None,
     'ALTER TABLE users ADD COLUMN y INT', []),
    (M, 'SG409', None,
     'CREATE TABLE t (id int);\nALTER TABLE t MODIFY COLUMN id BIGINT, ALGORITHM=COPY', []),
    (S, 'SG410', None,
     'ALTER TABLE users ALTER COLUMN id TYPE bigint, ALTER COLUMN age SET NOT NULL, ALTER COLUMN '
     'age DROP NOT NULL, ALTER COLUMN age SET DEFAULT 1, ALTER COLUMN age DROP DEFAULT, ADD '
     'CONSTRAINT c CHECK (age > 0), DROP CONSTRAINT c',
     [
      (1, "SQLite cannot change a column's type with ALTER TABLE; users must be rebuilt"),
      (1, 'SQLite cannot add NOT NULL to a column with ALTER TABLE; users must be rebuilt'),
      (1, 'SQLite cannot drop NOT NULL with ALTER TABLE; users must be rebuilt'),
      (1, 'SQLite cannot change a default with ALTER TABLE; users must be rebuilt'),
      (1, 'SQLite cannot drop a default with ALTER TABLE; users must be rebuilt'),
      (1, 'SQLite cannot add a constraint with ALTER TABLE; users must be rebuilt'),
      (1, 'SQLite cannot drop a constraint with ALTER TABLE; users must be rebuilt'),
     ]),
    (S, 'SG410', None,
     'ALTER TABLE users ADD COLUMN u int UNIQUE, ADD COLUMN p int PRIMARY KEY, ADD COLUMN t text '
     'DEFAULT CURRENT_TIMESTAMP, ADD COLUMN e int DEFAULT (1 + 1), ADD COLUMN k int DEFAULT 3',
     [
      (1, 'SQLite cannot add a UNIQUE or PRIMARY KEY column with ALTER TABLE; users must be '
          'rebuilt'),
      (1, 'SQLite cannot add a UNIQUE or PRIMARY KEY column with ALTER TABLE; users must be '
          'rebuilt'),
      (1, 'SQLite cannot add a column with the non-constant default CURRENT_TIMESTAMP with ALTER '
          'TABLE; users must be rebuilt'),
      (1, 'SQLite cannot add a column with the non-constant default (1 + 1) with ALTER TABLE; '
          'users must be rebuilt'),
     ]),
    (S, 'SG410', None,
     'CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN t text DEFAULT current_date, ADD COLUMN '
     'u int UNIQUE',
     [
      (2, 'SQLite cannot add a UNIQUE or PRIMARY KEY column with ALTER TABLE; t must be rebuilt'),
     ]),
    (S, 'SG410', None,
     'CREATE TABLE new_users (id INT);\nINSERT INTO new_users SELECT id FROM users;\nDROP TABLE '
     'users;\nALTER TABLE new_users RENAME TO users',
     [
      (4, 'rebuilds table users: check the new table keeps every row, index, trigger and foreign '
          'key of the old one'),
     ]),
    (S, 'SG410', None,
     'CREATE TABLE other (id INT);\nALTER TABLE other RENAME TO other2', []),
    (P, 'SG408', None,
     'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\nALTER TABLE '
     'users ADD COLUMN a int DEFAULT F()',
     [
      (2, 'adds users.a with volatile default F() (function f is VOLATILE): every row is '
          'rewritten'),
     ]),
    (P, 'SG408', None,
     'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN 1; END '
     '$$;\nALTER TABLE users ADD COLUMN a int DEFAULT f()', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), CASES)
def test_locking_findings_say_what_locks_on_which_line(
        dialect: str, code: str, version: tuple[int, ...] | None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code, version) == expected


def test_sg406_validate_elsewhere_gains_nothing_to_report() -> None:
    sql = ("ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;\n"
           "ALTER TABLE users VALIDATE CONSTRAINT ck")
    # Outside a transaction the ADD's lock ends with its statement.
    assert found(sql, P, "SG406", transactional=False) == []
    # A NOT VALID constraint of another table is not this one.
    other = ("CREATE TABLE orders (id int);\n"
             "ALTER TABLE orders ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;\n"
             "ALTER TABLE users VALIDATE CONSTRAINT ck")
    assert found(other, P, "SG406") == []


@pytest.mark.parametrize(("sql", "expected"), [
    # PostgreSQL's comments nest: the TABLE inside is no target.
    ("REINDEX /* not /* nested */ TABLE */ INDEX users_email",
     [(1, "rebuilds index users_email while blocking writes to its table (and queries that "
          "would use the index)")]),
    # Tables named like REINDEX's targets (schema, system are not reserved words).
    ("ANALYZE schema", []), ("VACUUM system", []),
    # Unclosed options: the server refuses it; the check must not fail on it either.
    ("REINDEX (VERBOSE", []),
])
def test_sg401_reads_reindex_as_postgresql_does(sql: str,
                                                expected: list[tuple[int, str]]) -> None:
    assert found(sql, P, "SG401") == expected


# Type changes and constraints: the branches between the first and the last action.
MORE = [
    (P, 'SG405', None,
     "SET TIME ZONE 'UTC';\nCOMMENT ON TABLE users IS 'timezone';\nALTER TABLE users ALTER COLUMN "
     'born TYPE timestamptz', []),
    (M, 'SG405', None,
     'ALTER TABLE users MODIFY COLUMN note TINYTEXT',
     [
      (1, 'changes the type of users.note to tinytext from text: the table is rewritten under an '
          'exclusive lock'),
     ]),
    (M, 'SG405', None,
     'ALTER TABLE users MODIFY COLUMN name CHAR(50)', []),
    (M, 'SG405', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(300)', []),
    (P, 'SG405', None,
     'CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint', []),
    (P, 'SG405', None,
     'ALTER TABLE users ADD COLUMN z int, ALTER COLUMN email TYPE varchar(255), ALTER COLUMN id '
     'TYPE bigint',
     [
      (1, 'changes the type of users.id to bigint from int: the table is rewritten under an '
          'exclusive lock'),
     ]),
    (P, 'SG406', None,
     'ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0);\nALTER TABLE users VALIDATE CONSTRAINT '
     'ck',
     [
      (1, 'adds a check constraint to users and validates every row under lock'),
     ]),
    (P, 'SG406', None,
     'ALTER TABLE users ADD CONSTRAINT "check" CHECK (id > 0) NOT VALID', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), MORE)
def test_type_changes_and_validations_read_every_action(
        dialect: str, code: str, version: tuple[int, ...] | None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code, version) == expected


def test_sg405_mysql_adds_an_enum_label_at_the_end_in_place() -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE t (id INT, e ENUM('a','b'))", "",
                     "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", "ALTER TABLE t MODIFY COLUMN e "
                     "ENUM('a','b','c')", "", "a", "b", noop_down=True)
    assert [f.code for f in validate([base, case], M, plan_ids={case.id}).findings] == []


# The type restated: a cast, a collation or a character set still rewrites (copies).
RESTATED = [
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN email TYPE varchar(255) COLLATE "C"',
     [
      (1, 'changes the type of users.email to varchar(255) from varchar(255) with a USING, '
          'COLLATE or character set: the table is rewritten under an exclusive lock'),
     ]),
    (P, 'SG405', None,
     'ALTER TABLE users ALTER COLUMN id TYPE int USING id + 1',
     [
      (1, 'changes the type of users.id to int from int with a USING, COLLATE or character set: '
          'the table is rewritten under an exclusive lock'),
     ]),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(50) CHARACTER SET latin1',
     [
      (1, 'MODIFY/CHANGE of name makes MySQL/MariaDB copy users while blocking writes'),
     ]),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(50) NOT NULL', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), RESTATED)
def test_a_restated_type_rewrites_only_with_a_cast_or_collation(
        dialect: str, code: str, version: tuple[int, ...] | None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code, version) == expected


# Defaults: every serial type, an ADD after another action, MySQL's stored functions
# (refused in a DEFAULT by the server, so not read as volatile).
DEFAULTS = [
    (P, 'SG408', None,
     'ALTER TABLE users ADD COLUMN a smallserial, ADD COLUMN b serial2, ADD COLUMN c serial4, ADD '
     'COLUMN d serial8',
     [
      (1, 'adds users.a as smallserial: every existing row is given the next sequence value, so '
          'every row is rewritten'),
      (1, 'adds users.b as serial2: every existing row is given the next sequence value, so '
          'every row is rewritten'),
      (1, 'adds users.c as serial4: every existing row is given the next sequence value, so '
          'every row is rewritten'),
      (1, 'adds users.d as serial8: every existing row is given the next sequence value, so '
          'every row is rewritten'),
     ]),
    (P, 'SG408', None,
     'ALTER TABLE users DROP COLUMN note, ADD COLUMN t uuid DEFAULT gen_random_uuid()',
     [
      (1, 'adds users.t with volatile default gen_random_uuid(): every row is rewritten'),
     ]),
    (M, 'SG408', None,
     'CREATE FUNCTION f() RETURNS INT RETURN 1;\n'
     'ALTER TABLE users ADD COLUMN a INT DEFAULT (f())', []),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), DEFAULTS)
def test_volatile_defaults_of_every_kind(
        dialect: str, code: str, version: tuple[int, ...] | None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code, version) == expected


# MySQL's algorithms and SQLite's non-constant defaults, one case per word.
COPIES = [
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(40), ALGORITHM=INPLACE', []),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(40), ALGORITHM=INSTANT', []),
    (M, 'SG409', None,
     'ALTER TABLE users DROP CHECK users_chk, DROP FOREIGN KEY users_fk', []),
    (M, 'SG409', None,
     'ALTER TABLE users MODIFY COLUMN name VARCHAR(50) NOT NULL, MODIFY COLUMN id BIGINT',
     [
      (1, 'MODIFY/CHANGE of id makes MySQL/MariaDB copy users while blocking writes'),
     ]),
    (S, 'SG410', None,
     'ALTER TABLE users ADD COLUMN a text DEFAULT CURRENT_TIME, ADD COLUMN b text DEFAULT '
     'current_date',
     [
      (1, 'SQLite cannot add a column with the non-constant default CURRENT_TIME with ALTER '
          'TABLE; users must be rebuilt'),
      (1, 'SQLite cannot add a column with the non-constant default current_date with ALTER '
          'TABLE; users must be rebuilt'),
     ]),
]


@pytest.mark.parametrize(("dialect", "code", "version", "sql", "expected"), COPIES)
def test_copies_and_rebuilds_by_algorithm_and_default(
        dialect: str, code: str, version: tuple[int, ...] | None, sql: str,
        expected: list[tuple[int, str]]) -> None:
    assert found(sql, dialect, code, version) == expected
