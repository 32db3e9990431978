"""``python -m switchy_guard``."""

from .cli import main

raise SystemExit(main())
