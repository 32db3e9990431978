"""``python -m embedded_app DATABASE_URL``."""

from .app import main

raise SystemExit(main())
