"""SQL understanding: statement splitting (and, later, classification) per dialect."""

from .split import Statement, split_statements

__all__ = ["Statement", "split_statements"]
