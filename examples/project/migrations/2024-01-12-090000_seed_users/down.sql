DELETE FROM posts WHERE id = 1;
DELETE FROM users WHERE id IN (1, 2);
