"""Entry point for ``python -m tradebook``."""

from tradebook.cli import main

raise SystemExit(main())
