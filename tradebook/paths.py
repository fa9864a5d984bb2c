"""Where the project keeps its files (repository layout)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
NOMENCLATURES = DATA / "nomenclatures"
SAMPLE_DIR = DATA / "sample"
SAMPLE_ZIP = SAMPLE_DIR / "dgddi_echantillon_fictif.zip"
SAMPLE_PREVIOUS_ZIP = SAMPLE_DIR / "dgddi_echantillon_fictif_2023.zip"
SAMPLE_SOURCES = (SAMPLE_PREVIOUS_ZIP, SAMPLE_ZIP)
RAW = DATA / "raw"
PREPARED = DATA / "prepared"
# The folders of data/ that pages do not read: the raw sources and the sample are read
# only through a preparation, whose own hash keys the pages. Every other file under
# data/ (texts, caveats, nomenclatures, map geometry...) is an input of every page.
NOT_PAGE_INPUTS = ("sample", "raw", "prepared")
BOOK = ROOT / "book"
SHARED_CHARTS = "graphiques"  # folder of the book's _static holding the charts shared by pages
NOTEBOOKS = ROOT / "notebooks"
TEMPLATE = NOTEBOOKS / "fiche_departement.ipynb"

# Where each kind of page sits in the book and the site (``departements/61.html``,
# ``regions/28.html``, ``france.html``).
PAGE_FOLDERS = {"departement": "departements", "region": "regions", "france": ""}


# The national views: pages of France that are not its fiche.
VIEW_PAGES = {"index": "departements/index", "etats_unis": "exposition-etats-unis"}


def site_page(kind: str, code: str = "") -> str:
    """A page's path in the book, without suffix: ``departements/61``, ``france``,
    ``exposition-etats-unis`` (a national view)."""
    if kind in VIEW_PAGES:
        return VIEW_PAGES[kind]
    folder = PAGE_FOLDERS[kind]
    return f"{folder}/{code}" if folder else kind


# The pages of the book being built (``departements/61,france...``), set by the runner
# for its kernels: a page links only to pages that exist. Unset: every page exists.
BOOK_PAGES_ENV = "TRADEBOOK_PAGES"


def is_published(page: str) -> bool:
    """Whether the page ``page`` (``departements/61``) is part of the book being built."""
    listed = os.environ.get(BOOK_PAGES_ENV)
    return listed is None or page in listed.split(",")


def page_data_files(data: Path | None = None) -> list[Path]:
    """Every file of ``data`` (by default ``data/``) that pages read: all of it except
    the folders named in ``NOT_PAGE_INPUTS`` and hidden files."""
    data = DATA if data is None else Path(data)
    return sorted(p for p in data.rglob("*")
                  if p.is_file()
                  and p.relative_to(data).parts[0] not in NOT_PAGE_INPUTS
                  and not any(part.startswith(".") for part in p.relative_to(data).parts))
