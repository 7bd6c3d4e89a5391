"""``python -m dubbomesh`` is the same as the ``dubbomesh`` console script."""

from __future__ import annotations

from dubbomesh.agent.cli import main

raise SystemExit(main())
