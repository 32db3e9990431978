"""The validator pipeline (``check``), its cache and the two-process check."""
