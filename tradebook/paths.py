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
