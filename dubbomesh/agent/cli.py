"""The ``dubbomesh`` command line: subcommands ``run``, ``render``, ``decode``, ``demo``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    print("dubbomesh: no subcommand implemented yet", args, file=sys.stderr)
    return 2
