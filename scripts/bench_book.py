"""Benchmark of the whole book build (``make bench``): prints times and ratios, asserts nothing.

Measured on this machine, in this run, from the illustrative sample (its two
publications, as ``make book``), in temporary folders (the repository's book/ and
_build/ are not touched):

1. cold: every page (France, the regions, the départements, the national views)
   executed by the runner's warm kernels, each with its printable fiche, then the
   site built and published;
2. warm: the same command again, nothing changed;
3. one page changed: one département's inputs changed, then the same command;
4. baseline, the naive way on the same pages: the ``papermill`` command page after
   page, then ``jupyter-book build`` (one process), then the PDF step serially in
   one process (each page computed and its fiche typeset, one after the other);
5. sizes: each page's HTML (the shared bundles and shared charts excluded), the
   whole published site.

``--base N`` runs the baseline's papermill and PDF steps on N pages only and
extrapolates them to all pages (said so in the output and in the JSON); by default
the baseline runs every page. ``--json`` prints, as the last line, one JSON object
with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tradebook import book, figures, paths, render
from tradebook.prepare import ensure_prepared

TARGETS = {"cold_s": 75.0, "warm_s": 2.0, "one_page_s": 8.0, "ratio": 8.0,
           "max_page_kb": 300.0, "site_mb": 60.0, "pdf_s": 30.0}
SHARED = ("_static", "_sphinx_design_static", "_sources", "pdf")


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def runner_build(layout: book.Layout, deps, donnees: list[Path], annee: int, workers: int):
    """What ``python -m tradebook book`` does, timed from data preparation to published site."""
    prepared = ensure_prepared(donnees, annee)
    return book.build_book(deps, prepared, workers=workers, timeout=600, progress=False,
                           log=lambda *a: None, layout=layout)


def zone_arguments(zone) -> list[str]:
    """The papermill parameters naming a zone, as an analyst types them (``-r``)."""
    return [argument for name, value in book.zone_parameters(zone).items()
            for argument in (("-r", name, value) if isinstance(value, str)
                             else ("-p", name, str(value)))]


def baseline_pages(layout: book.Layout, zones, prepared_dir: Path, annee: int) -> float:
    """One ``papermill`` process per page of ``zones``, sequentially; seconds."""
    env = {**os.environ, render.RENDERER_ENV: render.BOOK_MODE,
           book.STATIC_ENV: str(layout.static)}
    start = time.perf_counter()
    for zone in zones:
        output = layout.page_file(zone)
        output.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "papermill", str(paths.TEMPLATE), str(output),
                        *zone_arguments(zone), "-p", "annee", str(annee),
                        "-r", "donnees", str(prepared_dir), "--no-progress-bar"],
                       check=True, env=env, cwd=paths.ROOT, capture_output=True)
    return time.perf_counter() - start


def baseline_site(layout: book.Layout, zones, prepared, fast: book.Layout) -> float:
    """``jupyter-book build`` of every page (the notebooks the baseline did not execute
    are copied from the fast build, so that both sites have the same pages); seconds."""
    for notebook in fast.page_files():
        target = layout.source / notebook.relative_to(fast.source)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebook, target)
    layout.toc.write_text(book.toc_yaml(zones), encoding="utf-8")
    for path, text in book.national_pages(prepared, layout).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    render.write_vega_bundle(layout.static)
    jb = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    subprocess.run([str(jb), "build", str(layout.source), "--path-output", str(layout.work),
                    "--config", str(layout.config), "--toc", str(layout.toc)],
                   check=True, cwd=paths.ROOT, capture_output=True)
    return time.perf_counter() - start


PDF_STEP = """
import sys, time
from pathlib import Path
from tradebook import nomenclatures, printable, report
folder, annee, data = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
for line in sys.argv[4:]:
    kind, code = line.split(":")
    zone = (nomenclatures.france_zone() if kind == "france" else
            nomenclatures.resolve_zone(region=code) if kind == "region" else
            nomenclatures.resolve_zone(departement=code))
    printable.write_page_pdf(report.zone_page(zone, [data], annee), folder)
print(time.perf_counter() - start)
"""


def baseline_pdfs(zones, prepared_dir: Path, annee: int, folder: Path) -> float:
    """The PDF step run serially in one process: each page computed again and its
    fiche typeset, one after the other; seconds (inside that process)."""
    names = [f"{z.type}:{z.code}" for z in zones]
    done = subprocess.run([sys.executable, "-c", PDF_STEP, str(folder), str(annee),
                           str(prepared_dir), *names],
                          check=True, cwd=paths.ROOT, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def page_sizes(site: Path) -> dict[str, int]:
    """Each page's HTML size (the book's chapters, zones and national views)."""
    return {p.relative_to(site).as_posix(): p.stat().st_size for p in site.rglob("*.html")
            if not p.relative_to(site).parts[0] in SHARED
            and p.name not in ("genindex.html", "search.html")}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def verdict(value: float, key: str) -> str:
    """Whether ``value`` meets the target ``key``: at least the ratio, at most the cold
    build, under every other figure."""
    target = TARGETS[key]
    ok = {"ratio": value >= target, "cold_s": value <= target}.get(key, value < target)
    return "objectif atteint" if ok else "objectif MANQUÉ"


def main() -> int:
    parser = argparse.ArgumentParser(description="Mesure la construction du livre entier.")
    parser.add_argument("--donnees", type=Path, nargs="+",
                        default=[p for p in paths.SAMPLE_SOURCES if p.is_file()])
    parser.add_argument("--annee", type=int, default=2024)
    parser.add_argument("--processus", type=int, default=book.default_workers())
    parser.add_argument("--base", type=int, default=0, metavar="N",
                        help="pages de la référence naïve (0 : toutes ; sinon extrapolé)")
    parser.add_argument("--sans-base", action="store_true", help="ne pas mesurer la référence")
    parser.add_argument("--json", action="store_true",
                        help="écrire aussi, en dernière ligne, les mesures en JSON")
    args = parser.parse_args()

    deps = book.select_departements(None)
    zones = book.book_zones(deps)
    prepared = ensure_prepared(args.donnees, args.annee)
    root = Path(tempfile.mkdtemp(prefix="tradebook-bench-"))
    result: dict[str, object] = {"pages": len(zones) + len(figures.VIEWS), "pdfs": len(zones)}
    try:
        print(f"Banc d'essai : {result['pages']} pages ({len(zones)} fiches PDF), "
              f"{args.processus} processus, {os.cpu_count()} cœurs, données "
              f"{', '.join(p.name for p in args.donnees)}", flush=True)
        layout = book.DEFAULT_LAYOUT.copy_sources(root / "rapide")
        cold, summary = timed(runner_build, layout, deps, args.donnees, args.annee,
                              args.processus)
        result.update(cold_s=cold, execution_s=summary.timings["execution"],
                      site_s=summary.timings["site"], pdf_s=summary.timings["pdf"])
        print(f"Construction à froid : {cold:.1f} s (exécution {result['execution_s']:.1f} s, "
              f"dont fiches PDF {result['pdf_s']:.1f} s ; site {result['site_s']:.1f} s) — "
              f"{verdict(cold, 'cold_s')} (≤ {TARGETS['cold_s']:.0f} s)", flush=True)
        print(f"Fiches PDF : {len(zones)} en {result['pdf_s']:.1f} s de construction — "
              f"{verdict(result['pdf_s'], 'pdf_s')} (< {TARGETS['pdf_s']:.0f} s)", flush=True)
        warm, summary = timed(runner_build, layout, deps, args.donnees, args.annee,
                              args.processus)
        result["warm_s"] = warm
        print(f"Reconstruction sans changement : {warm:.2f} s ({len(summary.executed)} page "
              f"exécutée, site {summary.site}) — {verdict(warm, 'warm_s')} "
              f"(< {TARGETS['warm_s']:.0f} s)", flush=True)
        state = book.read_state(layout.state)
        state["departements/61"] = "entrée modifiée"
        book.write_state(state, layout.state)
        one, summary = timed(runner_build, layout, deps, args.donnees, args.annee,
                             args.processus)
        result["one_page_s"] = one
        print(f"Une page modifiée : {one:.1f} s ({len(summary.executed)} page exécutée, site "
              f"{summary.site}) — {verdict(one, 'one_page_s')} (< {TARGETS['one_page_s']:.0f} s)",
              flush=True)
        sizes = page_sizes(layout.published)
        largest = max(sizes, key=sizes.get)
        result["max_page_kb"] = sizes[largest] / 1000
        result["site_mb"] = folder_bytes(layout.published) / 1e6
        print(f"Taille des pages HTML : max {result['max_page_kb']:.0f} Ko ({largest}), "
              f"médiane {statistics.median(sizes.values()) / 1000:.0f} Ko, hors fichiers "
              f"partagés (bundle Vega "
              f"{(layout.published / '_static' / render.BUNDLE_NAME).stat().st_size / 1000:.0f} Ko) "
              f"— {verdict(result['max_page_kb'], 'max_page_kb')} (< 300 Ko)")
        print(f"Site publié : {result['site_mb']:.1f} Mo, fiches PDF comprises "
              f"({folder_bytes(layout.published / 'pdf') / 1e6:.1f} Mo) — "
              f"{verdict(result['site_mb'], 'site_mb')} (< 60 Mo)", flush=True)
        if not args.sans_base:
            count = min(args.base or len(zones), len(zones))
            chosen = zones[:: max(1, len(zones) // count)][:count]
            scale = len(zones) / len(chosen)
            naive = book.DEFAULT_LAYOUT.copy_sources(root / "naif")
            pages_s = baseline_pages(naive, chosen, Path(prepared.path), args.annee) * scale
            site_s = baseline_site(naive, zones, prepared, layout)
            pdf_s = baseline_pdfs(chosen, Path(prepared.path), args.annee,
                                  root / "naif-pdf") * scale
            total = pages_s + site_s + pdf_s
            note = ("" if scale == 1 else
                    f" (papermill et PDF mesurés sur {len(chosen)} pages, extrapolés à "
                    f"{len(zones)})")
            result.update(baseline_s=total, baseline_extrapolated=scale != 1,
                          ratio=total / cold)
            print(f"Référence naïve : {total:.1f} s{note} — papermill {pages_s:.1f} s, "
                  f"jupyter-book build {site_s:.1f} s, fiches PDF en série {pdf_s:.1f} s")
            print(f"Rapport référence / construction à froid : {result['ratio']:.1f}x — "
                  f"{verdict(result['ratio'], 'ratio')} (≥ {TARGETS['ratio']:.0f}x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        keys = ("pages", "pdfs", "cold_s", "execution_s", "site_s", "pdf_s", "warm_s",
                "one_page_s", "baseline_s", "baseline_extrapolated", "ratio", "max_page_kb",
                "site_mb")
        print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                          for k, v in ((k, result.get(k)) for k in keys)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
