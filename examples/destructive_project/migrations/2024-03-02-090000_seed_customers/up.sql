INSERT INTO customers (id, email, fax) VALUES
    (1, 'ada@example.com', '+44 1'),
    (2, 'grace@example.com', NULL),
    (3, 'linus@example.com', '+358 2'),
    (4, 'ken@example.com', NULL),
    (5, 'barbara@example.com', NULL);
