"""Generate the illustrative sample (fictitious data in the exact DGDDI layout).

    python scripts/make_sample.py                      # the committed sample
    python scripts/make_sample.py --echelle 10 --sortie /tmp/gros.zip   # benchmark size

Two ZIPs are written: the 2024 publication at ``--sortie`` and the 2023 one beside
it (``NAME_2023.zip``, :func:`tradebook.sample.previous_path`). All logic lives in
:mod:`tradebook.sample`; this wrapper parses the options and prints what was
written (rows per file, ZIP sizes, time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradebook import sample  # noqa: E402
from tradebook.errors import TradebookError  # noqa: E402
from tradebook.paths import SAMPLE_ZIP  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """French command-line options, the same as ``python -m tradebook echantillon``."""
    parser = argparse.ArgumentParser(description="Génère l'échantillon fictif au format DGDDI.")
    parser.add_argument("--sortie", type=Path, default=SAMPLE_ZIP, metavar="CHEMIN",
                        help="ZIP de la publication 2024 à écrire, celle de 2023 à côté "
                             "(défaut : data/sample/dgddi_echantillon_fictif.zip)")
    parser.add_argument("--graine", type=int, default=None, metavar="N",
                        help=f"graine du générateur (défaut : {sample.DEFAULT_SEED})")
    parser.add_argument("--echelle", type=float, default=1.0, metavar="X",
                        help="facteur du nombre de lignes (défaut : 1, l'échantillon versionné)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write both publications and print a French summary; exit status 2 on a user error."""
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        path = sample.write_sample(args.sortie, seed=args.graine, scale=args.echelle)
    except TradebookError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return exc.exit_code
    elapsed = time.perf_counter() - start
    print(sample.describe(sample.previous_path(path)))
    print(sample.describe(path))
    print(f"Durée : {elapsed:.1f} s".replace(".", ","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
