"""Everything that talks to a database: the runner, connections and session
settings, the tracking table, the audit journal, the migration lock, recovery."""
