"""Check every page of a built book in headless Chromium, with the network cut.

    .venv/bin/python scripts/check_site.py [DOSSIER] [--pages departements/61.html ...]

DOSSIER is the built site (``_build/html`` by default). For each page: it loads
with nothing requested off the machine and no console error, every chart is drawn,
every text has a contrast of at least 4.5:1 in the light and the dark theme,
charts sit on a light bordered card in the dark theme, charts are images named by
their French description with no English from Vega, and at 390 px the page does
not scroll sideways and every chart fits its column. The checks are those of
``tests/test_browser.py`` (module ``tradebook.sitecheck``).

Exit code 0 when every page passes, 2 with the list of problems otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradebook import sitecheck
from tradebook.formatting import format_number
from tradebook.texts import agree

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_site.py",
        description="Vérifie chaque page d'un livre construit dans Chromium, hors réseau.")
    parser.add_argument("dossier", nargs="?", type=Path, default=ROOT / "_build" / "html",
                        help="le site construit (par défaut : _build/html)")
    parser.add_argument("--pages", nargs="+", metavar="PAGE",
                        help="seulement ces pages (chemins relatifs au site)")
    args = parser.parse_args(argv)
    if not (args.dossier / "index.html").is_file():
        print(f"Erreur : {args.dossier} ne contient pas de site construit (index.html) ; "
              "lancez d'abord « make book ».", file=sys.stderr)
        return 2
    if sitecheck.chromium_path() is None:
        print("Erreur : Chromium est introuvable ; installez-le (apt-get install chromium).",
              file=sys.stderr)
        return 2
    pages = args.pages or sitecheck.site_pages(args.dossier)
    print(f"Vérification de {agree(len(pages), '# page|# pages')} de {args.dossier}…",
          flush=True)

    def progress(path: str, problems: list[str]) -> None:
        if problems:
            print(f"  {path} : {agree(len(problems), '# problème|# problèmes')}", flush=True)

    report = sitecheck.check_site(args.dossier, pages, progress=progress)
    seconds = format_number(report.seconds, 1)
    per_page = format_number(report.seconds / max(len(pages), 1), 2)
    if report.ok:
        print(f"Site vérifié : {agree(len(pages), '# page|# pages')} sans problème en "
              f"{seconds} s ({per_page} s par page).")
        return 0
    failed = {p: found for p, found in report.problems.items() if found}
    print(f"Erreur : {agree(len(failed), '# page|# pages')} sur {len(pages)} "
          f"{'a' if len(failed) == 1 else 'ont'} des problèmes (vérification en {seconds} s) :",
          file=sys.stderr)
    for path, found in failed.items():
        print(f"- {path}", file=sys.stderr)
        for problem in found:
            print(f"    {problem}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
