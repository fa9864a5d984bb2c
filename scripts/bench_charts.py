"""Time chart building and serialisation per page (départements 61, 75, 13 of the sample).

Usage: ``.venv/bin/python scripts/bench_charts.py [repeats]``. Prints, per
département, the time of building its figures through the registry
(``figures.render_all`` and each chart) and of ``render.chart_spec`` on them, then
the mean per page.
"""

from __future__ import annotations

import sys
import time

from tradebook import figures, indicators, nomenclatures, render
from tradebook.paths import SAMPLE_ZIP
from tradebook.prepare import ensure_prepared

CODES = ("61", "75", "13")


def time_page(fiche: indicators.Fiche) -> tuple[float, float]:
    """Seconds spent building the charts of ``fiche``, then serialising them."""
    start = time.perf_counter()
    built = {key: r.chart for key, r in figures.render_all(fiche).items()}
    middle = time.perf_counter()
    for chart in built.values():
        render.chart_spec(chart)
    return middle - start, time.perf_counter() - middle


def main(repeats: int = 3) -> None:
    """Best-of-``repeats`` timings per département and their mean."""
    prepared = ensure_prepared(SAMPLE_ZIP, 2024)
    fiches = {code: indicators.compute_fiche(prepared, nomenclatures.departement_zone(
        nomenclatures.resolve_departement(code))) for code in CODES}
    time_page(fiches[CODES[0]])  # warm-up (imports, schema loading)
    totals = []
    for code, fiche in fiches.items():
        build, dump = min(time_page(fiche) for _ in range(repeats))
        totals.append(build + dump)
        print(f"{code}: build {build:.3f} s, to_dict {dump:.3f} s, total {build + dump:.3f} s")
    print(f"mean per page: {sum(totals) / len(totals):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
