ALTER TABLE visits DROP COLUMN seen_at;
