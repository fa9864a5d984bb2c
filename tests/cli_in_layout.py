"""Run ``python -m tradebook`` with the book's folders under ROOT (tests only).

``python tests/cli_in_layout.py ROOT ARGS...`` is the real command line in a real
process, signals included, except that the book's sources, caches and site live in
ROOT (a copy of the chapters is made there the first time), so that tests never touch
the repository's ``book/`` or ``_build/``.

``python tests/cli_in_layout.py ROOT --tenir-verrou FICHIER`` takes the book's lock
of ROOT, prints ``verrou pris``, and holds it until FICHIER exists.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tradebook import book, cli


def layout_under(root: Path) -> book.Layout:
    """The layout of a book under ``root`` (its sources copied there once)."""
    if (root / "book").is_dir():
        return book.Layout(root / "book", root / "cache", root / "_build" / "html", root)
    return book.DEFAULT_LAYOUT.copy_sources(root)


def hold_lock(layout: book.Layout, release: Path) -> int:
    """Hold the book's lock of ``layout`` until ``release`` exists."""
    with book.build_lock(layout):
        print("verrou pris", flush=True)
        while not release.exists():
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    root, args = Path(sys.argv[1]), sys.argv[2:]
    book.DEFAULT_LAYOUT = layout_under(root)
    if args[:1] == ["--tenir-verrou"]:
        sys.exit(hold_lock(book.DEFAULT_LAYOUT, Path(args[1])))
    sys.exit(cli.main(args))
