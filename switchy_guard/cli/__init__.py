"""The ``switchy-guard`` command: a thin layer over the library API."""

from switchy_guard.cli.main import main

__all__ = ["main"]
