"""Shared test settings. Area-specific fixtures live in each test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dgddi"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The official DGDDI label files shipped beside the project (read-only)."""
    candidates = [Path(os.environ.get("TRADEBOOK_REFERENCE", "")), REFERENCE,
                  Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "dgddi"]
    for path in candidates:
        if str(path) and (path / "FORMAT.md").exists():
            return path
    pytest.skip("dossier ../shared/reference/dgddi absent : comparaison aux fichiers officiels impossible")
