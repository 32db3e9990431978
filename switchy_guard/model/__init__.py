"""Plain data: migrations, records, checksums, ordering, state, findings, plans, verdicts.

No database, no rendering."""
