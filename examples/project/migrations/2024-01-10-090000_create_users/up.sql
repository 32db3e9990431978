-- Accounts of the example application.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    created_at VARCHAR(32)
);

CREATE UNIQUE INDEX users_email ON users (email);
