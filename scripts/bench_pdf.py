"""Time the printable fiches of every département of the sample (tradebook/pdf.py).

Usage: ``.venv/bin/python scripts/bench_pdf.py [--limit N] [--workers 2]``.

1. Builds the documents once (indicators, charts, SVGs by vl-convert: the
   region's and France's comparison Sankeys are rendered once for all); timed
   and reported apart, since the book reuses the page's chart specs.
2. Typesets them three ways, each into a fresh folder and in a fresh process
   (Typst memoises within a process: a second run of the same fiches would be
   served from that cache), timed inside that process:
   - naive: one ``typst.compile`` per fiche (fonts scanned every time), serial;
   - serial: :func:`tradebook.pdf.typeset_many` with one worker (one compiler);
   - parallel: the same with ``--workers`` threads.
3. Prints seconds, pages, ms per page and the ratios. Target: 100 fiches in
   under 30 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pypdf
import typst

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tradebook import nomenclatures, pdf, printable, report  # noqa: E402

TARGET_S = 30.0


def build_documents(limit: int | None) -> list[tuple[str, pdf.PdfDocument]]:
    """The fiches of the page départements (the first ``limit`` of them), from their
    pages on the sample's two publications."""
    deps = list(nomenclatures.page_departements())[:limit]
    return [(dep.code, printable.page_document(report.load(departement=dep.code, annee=2024)))
            for dep in deps]


def naive(docs: list[tuple[str, pdf.PdfDocument]], folder: Path) -> None:
    """One fresh ``typst.compile`` per fiche, written one after the other."""
    folder.mkdir(parents=True)
    for name, doc in docs:
        data = typst.compile(pdf.document_files(doc), font_paths=[str(pdf.FONT_DIR)],
                             ignore_system_fonts=True, pdf_standards=list(pdf.PDF_STANDARDS))
        (folder / f"{name}.pdf").write_bytes(data)


def run_variant(variant: str, docs: list[tuple[str, pdf.PdfDocument]], folder: Path,
                workers: int) -> tuple[float, float, int]:
    """In a fresh process: wall seconds and CPU seconds (all threads) spent
    typesetting ``docs`` one way, and the process's peak memory in MiB."""
    cpu = time.process_time()
    start = time.perf_counter()
    if variant == "naive":
        naive(docs, folder)
    else:
        pdf.typeset_many(docs, folder, workers)
    seconds = time.perf_counter() - start
    return (seconds, time.process_time() - cpu,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def timed(label: str, variant: str, docs, folder: Path, workers: int = 1) -> float:
    """Run one variant in a fresh spawned process and print its time (the CPU
    time tells the cost when other work shares the machine)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        seconds, cpu, peak = pool.submit(run_variant, variant, docs, folder, workers).result()
    print(f"{label:<40} {seconds:7.2f} s  (CPU {cpu:6.2f} s, peak memory {peak} MiB)",
          flush=True)
    return seconds


def count_pages(folder: Path) -> tuple[int, int]:
    """Number of PDFs and of pages in ``folder``."""
    files = sorted(folder.glob("*.pdf"))
    return len(files), sum(len(pypdf.PdfReader(f).pages) for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N départements")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    start = time.perf_counter()
    docs = build_documents(args.limit)
    svgs = sum(1 for _, d in docs for s in d.sections for b in s.blocks
               if isinstance(b, pdf.PdfFigure))
    print(f"{'documents and SVGs (once, apart)':<40} {time.perf_counter() - start:7.2f} s "
          f"({len(docs)} fiches, {svgs} figures)", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        root = Path(tmp)
        t_naive = timed("naive: typst.compile per fiche, serial", "naive", docs, root / "n")
        t_serial = timed("typeset_many, 1 worker", "typeset_many", docs, root / "s")
        t_parallel = timed(f"typeset_many, {args.workers} threads", "typeset_many", docs,
                           root / "p", args.workers)
        files, pages = count_pages(root / "p")
        sizes = sorted(f.stat().st_size for f in (root / "p").glob("*.pdf"))

    print(f"\n{files} PDFs, {pages} pages ({pages / files:.1f} per fiche), "
          f"median {sizes[len(sizes) // 2] / 1024:.0f} KiB, largest {sizes[-1] / 1024:.0f} KiB")
    for label, seconds in (("naive", t_naive), ("serial", t_serial),
                           (f"{args.workers} threads", t_parallel)):
        print(f"{label:<12} {1000 * seconds / pages:6.1f} ms per page, "
              f"{1000 * seconds / files:7.1f} ms per fiche")
    print(f"\nserial / parallel: {t_serial / t_parallel:.2f}x; "
          f"naive / parallel: {t_naive / t_parallel:.2f}x")
    scaled = t_parallel * 100 / files
    verdict = "met" if scaled < TARGET_S else "NOT met"
    print(f"100 fiches with {args.workers} threads"
          f"{'' if files == 100 else ' (extrapolated)'}: {scaled:.1f} s "
          f"(target under {TARGET_S:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
