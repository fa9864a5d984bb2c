"""Benchmark of the book build (``make bench``): prints times and ratios, asserts nothing.

Measured on this machine, in this run, from the illustrative sample, in temporary
folders (the repository's book/ and _build/ are not touched):

1. cold: all pages executed (parallel warm kernels) and the site built;
2. warm: the same command again, nothing changed;
3. one page changed: one page's inputs changed, then the same command;
4. baseline: the naive way, the ``papermill`` command run page after page, then
   ``jupyter-book build`` (serial) on the same pages;
5. the size of each page's HTML (the shared Vega bundle and shared charts excluded).

``--base N`` runs the baseline on N pages only and extrapolates to all pages
(printed as such); by default the baseline runs every page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tradebook import book, paths, render
from tradebook.prepare import ensure_prepared

TARGETS = {"cold": 90.0, "warm": 10.0, "one": 15.0, "ratio": 4.0, "page_kb": 300.0}


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def runner_build(layout: book.Layout, deps, donnees: Path, annee: int, workers: int):
    """What ``python -m tradebook book`` does, timed from data preparation to published site."""
    prepared = ensure_prepared(donnees, annee)
    return book.build_book(deps, prepared, workers=workers, timeout=300, progress=False,
                           log=lambda *a: None, layout=layout)


def baseline(layout: book.Layout, deps, prepared_dir: Path, annee: int,
             all_deps, pages: Path) -> tuple[float, float]:
    """Naive build: one ``papermill`` process per page of ``deps``, sequentially, then
    ``jupyter-book build`` (serial, one process) of all pages (``pages``: the notebooks
    of the fast build, copied over those executed here, so the site has every page)."""
    env = {**os.environ, render.RENDERER_ENV: render.BOOK_MODE, "TRADEBOOK_STATIC": str(layout.static)}
    papermill = [sys.executable, "-m", "papermill"]
    layout.pages.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for dep in deps:
        subprocess.run([*papermill, str(paths.TEMPLATE), str(layout.pages / f"{dep.code}.ipynb"),
                        "-r", "departement", dep.code, "-p", "annee", str(annee),
                        "-r", "donnees", str(prepared_dir), "--no-progress-bar"],
                       check=True, env=env, cwd=paths.ROOT, capture_output=True)
    execution = time.perf_counter() - start
    for notebook in pages.glob("*.ipynb"):
        shutil.copy2(notebook, layout.pages / notebook.name)
    toc = book.toc_yaml(all_deps)
    layout.selection_toc.write_text(toc, encoding="utf-8")
    prepared = ensure_prepared(prepared_dir, annee)
    layout.index.write_text(book.index_markdown(all_deps, prepared.totals(), annee,
                                                prepared.donnees_fictives,
                                                prepared.annee_partielle), encoding="utf-8")
    render.write_vega_bundle(layout.static)
    start = time.perf_counter()
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(layout.source), "--path-output", str(layout.work),
                    "--config", str(layout.config), "--toc", str(layout.selection_toc)], check=True, cwd=paths.ROOT,
                   capture_output=True)
    return execution, time.perf_counter() - start


def page_sizes(site: Path) -> list[int]:
    return [p.stat().st_size for p in (site / "departements").glob("*.html") if p.stem != "index"]


def verdict(value: float, target: float, lower_is_better: bool = True) -> str:
    ok = value < target if lower_is_better else value >= target
    return "objectif atteint" if ok else "objectif MANQUÉ"


def main() -> int:
    parser = argparse.ArgumentParser(description="Mesure la construction du livre.")
    parser.add_argument("--donnees", type=Path, nargs="+", default=[p for p in paths.SAMPLE_SOURCES if p.is_file()])
    parser.add_argument("--annee", type=int, default=2024)
    parser.add_argument("--processus", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--base", type=int, default=0, metavar="N",
                        help="pages de la référence naïve (0 : toutes ; sinon extrapolé)")
    parser.add_argument("--sans-base", action="store_true", help="ne pas mesurer la référence")
    args = parser.parse_args()

    deps = book.select_departements(None)
    prepared = ensure_prepared(args.donnees, args.annee)
    root = Path(tempfile.mkdtemp(prefix="tradebook-bench-"))
    try:
        print(f"Banc d'essai : {len(deps)} pages, {args.processus} processus, "
              f"{os.cpu_count()} cœurs, données {", ".join(p.name for p in args.donnees)}")
        layout = book.DEFAULT_LAYOUT.copy_sources(root / "rapide")
        cold, summary = timed(runner_build, layout, deps, args.donnees, args.annee, args.processus)
        print(f"Construction à froid : {cold:.1f} s (exécution {summary.timings['execution']:.1f} s, "
              f"site {summary.timings['site']:.1f} s) — {verdict(cold, TARGETS['cold'])} (< 90 s)")
        warm, summary = timed(runner_build, layout, deps, args.donnees, args.annee, args.processus)
        print(f"Reconstruction sans changement : {warm:.1f} s ({len(summary.executed)} page "
              f"exécutée, site {summary.site}) — {verdict(warm, TARGETS['warm'])} (< 10 s)")
        state = book.read_state(layout.state)
        state["61"] = "entrée modifiée"
        book.write_state(state, layout.state)
        one, summary = timed(runner_build, layout, deps, args.donnees, args.annee, args.processus)
        print(f"Une page modifiée : {one:.1f} s ({len(summary.executed)} page exécutée, site "
              f"{summary.site}) — {verdict(one, TARGETS['one'])} (< 15 s)")
        sizes = page_sizes(layout.published)
        print(f"Taille des pages HTML : max {max(sizes) / 1000:.0f} Ko, médiane "
              f"{statistics.median(sizes) / 1000:.0f} Ko, hors bundle Vega "
              f"({(layout.published / '_static' / render.BUNDLE_NAME).stat().st_size / 1000:.0f} Ko, "
              f"partagé) — {verdict(max(sizes) / 1000, TARGETS['page_kb'])} (< 300 Ko)")
        if args.sans_base:
            return 0
        count = args.base or len(deps)
        sample = deps[:: max(1, len(deps) // count)][:count]
        naive = book.DEFAULT_LAYOUT.copy_sources(root / "naif")
        execution, site = baseline(naive, sample, Path(prepared.path), args.annee, deps,
                                   layout.pages)
        scale = len(deps) / len(sample)
        total = execution * scale + site
        note = ("" if scale == 1 else
                f" (exécution mesurée sur {len(sample)} pages et extrapolée à {len(deps)})")
        print(f"Référence naïve (papermill page par page puis jupyter-book build) : {total:.1f} s"
              f"{note} — exécution {execution * scale:.1f} s, site {site:.1f} s")
        ratio = total / cold
        print(f"Rapport référence / construction à froid : {ratio:.1f}x — "
              f"{verdict(ratio, TARGETS['ratio'], lower_is_better=False)} (≥ 4x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
