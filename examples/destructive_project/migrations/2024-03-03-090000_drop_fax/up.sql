-- Nobody has sent a fax since 2009.
-- switchy-guard: allow drop-column -- fax numbers are no longer collected (ticket 42)
ALTER TABLE customers DROP COLUMN fax;
