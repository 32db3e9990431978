CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(100) NOT NULL,
    fax VARCHAR(30)
);
