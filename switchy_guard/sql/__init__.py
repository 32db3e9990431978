"""SQL understanding: statement splitting (and, later, classification) per dialect."""

from switchy_guard.sql.split import Statement, split_statements

__all__ = ["Statement", "split_statements"]
