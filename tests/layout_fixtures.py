"""One small history per layout, written from each tool's own documentation, with its
edge cases: unpadded versions that sort differently as text (golang-migrate, goose),
dotted Flyway versions (1.10 after 1.2), undo scripts and a repeatable, dbmate sections
with transaction:false, goose StatementBegin/End (one without a final semicolon) and NO
TRANSACTION, sqlx's -- no-transaction. Every SQL runs on SQLite, PostgreSQL and MariaDB;
each later migration needs the one before it, so a wrong order fails."""

from __future__ import annotations

from pathlib import Path

USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
POSTS = "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n"
ALTER = "ALTER TABLE posts ADD COLUMN title VARCHAR(100);\n"
UNALTER = "ALTER TABLE posts DROP COLUMN title;\n"

HISTORIES: dict[str, dict[str, str]] = {
    "golang-migrate": {
        "1_create_users.up.sql": USERS,
        "1_create_users.down.sql": "DROP TABLE users;\n",
        "2_create_posts.up.sql": POSTS,
        "2_create_posts.down.sql": "DROP TABLE posts;\n",
        "10_add_title.up.sql": ALTER,
        "10_add_title.down.sql": UNALTER,
    },
    "flyway": {
        "V1__create_users.sql": USERS,
        "U1__create_users.sql": "DROP TABLE users;\n",
        "V1.2__create_posts.sql": POSTS,
        "U1.2__create_posts.sql": "DROP TABLE posts;\n",
        "sub/V1.10__add_title.sql": ALTER,
        "sub/U1.10__add_title.sql": UNALTER,
        "R__seed_users.sql": "DELETE FROM users WHERE id = 1;\n"
                             "INSERT INTO users (id, name) VALUES (1, 'admin');\n",
    },
    "sqlx": {
        "20240101000000_create_users.up.sql": USERS,
        "20240101000000_create_users.down.sql": "DROP TABLE users;\n",
        "20240102000000_create_posts.up.sql": "-- no-transaction\n" + POSTS,
        "20240102000000_create_posts.down.sql": "DROP TABLE posts;\n",
        "20240103000000_add_title.up.sql": ALTER,
        "20240103000000_add_title.down.sql": UNALTER,
    },
    "dbmate": {
        "20240101000000_create_users.sql":
            "-- migrate:up\n" + USERS + "\n-- migrate:down\nDROP TABLE users;\n",
        "20240102000000_create_posts.sql":
            "-- migrate:up transaction:false\n" + POSTS + "\n-- migrate:down\nDROP TABLE posts;\n",
        "20240103000000_add_title.sql":
            "-- a comment before the up section is allowed\n-- migrate:up\n" + ALTER
            + "-- migrate:down\n" + UNALTER,
    },
    "goose": {
        "1_create_users.sql": "-- +goose Up\n" + USERS + "-- +goose StatementBegin\n"
            "INSERT INTO users (id, name) VALUES (1, 'a');\n"
            "INSERT INTO users (id, name) VALUES (2, 'b');\n-- +goose StatementEnd\n\n"
            "-- +goose Down\nDROP TABLE users;\n",
        "2_create_posts.sql": "-- +goose NO TRANSACTION\n-- +goose Up\n"
            "-- +goose StatementBegin\n" + POSTS.rstrip(";\n") + "\n-- +goose StatementEnd\n"
            "-- +goose Down\nDROP TABLE posts;\n",
        "10_add_title.sql": "-- +goose Up\n" + ALTER + "-- +goose Down\n" + UNALTER,
    },
}

#: The layout ``auto`` reads each history as (sqlx's up/down names are golang-migrate's).
DETECTED = {"golang-migrate": "golang-migrate", "flyway": "flyway", "sqlx": "golang-migrate",
            "dbmate": "dbmate", "goose": "goose"}

#: Ids in run order.
ORDER = {
    "golang-migrate": ["1", "2", "10"],
    "flyway": ["1", "1.2", "1.10", "R__seed_users"],
    "sqlx": ["20240101000000", "20240102000000", "20240103000000"],
    "dbmate": ["20240101000000", "20240102000000", "20240103000000"],
    "goose": ["1", "2", "10"],
}


def write_history(root: Path, layout: str) -> Path:
    """Write ``layout``'s history under ``root``; returns ``root``."""
    for name, text in HISTORIES[layout].items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
