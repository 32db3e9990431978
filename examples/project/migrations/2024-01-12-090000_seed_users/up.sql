-- A semicolon inside a string literal does not end the statement.
INSERT INTO users (id, email, created_at) VALUES (1, 'ada@example.com', '2024-01-12; morning');
INSERT INTO users (id, email, created_at) VALUES (2, 'linus@example.com', NULL);
INSERT INTO posts (id, user_id, title, body) VALUES (1, 1, 'Hello', 'First post');
