"""Where the project keeps its files (repository layout)."""

from __future__ import annotations

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
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
TEMPLATE = NOTEBOOKS / "fiche_departement.ipynb"

# Where each kind of page sits in the book and the site (``departements/61.html``,
# ``regions/28.html``, ``france.html``).
PAGE_FOLDERS = {"departement": "departements", "region": "regions", "france": ""}


def site_page(kind: str, code: str) -> str:
    """A page's path in the book, without suffix: ``departements/61``, ``france``."""
    folder = PAGE_FOLDERS[kind]
    return f"{folder}/{code}" if folder else kind
