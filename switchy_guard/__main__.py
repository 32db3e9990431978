"""``python -m switchy_guard``."""

from switchy_guard.cli.main import main

raise SystemExit(main())
