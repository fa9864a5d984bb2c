"""Benchmark of the data layer at full scale (not a test: prints figures and ratios).

    python scripts/bench_data.py [--lignes 3200000] [--garder DOSSIER]

Generates, in a temporary folder, a DGDDI-layout source (``REGIONAL_CPF4PAYSE.txt``
and ``REGIONAL_CPF4PAYSI.txt``, no header, ``;``, 5 quarters, both flux) with a fast
numpy generator, then measures:

- read + validate + prepare time and peak memory (``tradebook.prepare.prepare``);
- time to load one département from the prepared data (median of several runs);
- the same work done naively: ``pandas.read_csv`` (default engine, ``dtype=str``)
  plus a pandas groupby, and loading by reading the whole Parquet then filtering;

and prints the ratios. Targets on a 2-core machine: prepare 3 M rows < 20 s, load
one département < 50 ms, at least 3x faster than the naive path.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradebook import nomenclatures, prepare  # noqa: E402
from tradebook.formatting import format_number  # noqa: E402
from tradebook.reading import COLUMNS, EXPORT_FILE, IMPORT_FILE  # noqa: E402

QUARTERS = [(2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4)]
YEAR = 2024
LOAD_RUNS = 15


def generate(folder: Path, rows: int, seed: int = 2024) -> Path:
    """Write both DGDDI data files (about ``rows`` rows in all) into ``folder``.

    Each flux draws a fixed set of distinct (département, CPF4, pays) triples with
    skewed weights (big départements and partners weigh more), then repeats them
    over the 5 quarters with some triples absent in some quarters, as in real data.
    """
    rng = np.random.default_rng(seed)
    deps = nomenclatures.departements()
    dep_codes = np.array([d.code_dgddi for d in deps])
    dep_regions = np.array([d.region_dgddi for d in deps])
    # goods only, as in DGDDI's files: a CPF4 code without an A129 group (services)
    # never occurs there, and would be reported as an anomaly on every row
    cpf = [r for r in nomenclatures.read_table("cpf4.csv") if r["a129"]]
    cpf_codes = np.array([r["code"] for r in cpf])
    cpf_a129 = np.array([r["a129"] for r in cpf])
    countries = np.array(sorted(nomenclatures.labels_valid_in("pays", YEAR)))
    folder.mkdir(parents=True, exist_ok=True)
    per_file = rows // 2
    for name, flux in ((EXPORT_FILE, "E"), (IMPORT_FILE, "I")):
        triples = int(per_file / len(QUARTERS) / 0.9)
        dep_w = rng.pareto(1.2, len(dep_codes)) + 0.2
        pays_w = rng.pareto(1.0, len(countries)) + 0.05
        draws = triples * 3
        dep_i = rng.choice(len(dep_codes), draws, p=dep_w / dep_w.sum())
        cpf_i = rng.integers(0, len(cpf_codes), draws)
        pays_i = rng.choice(len(countries), draws, p=pays_w / pays_w.sum())
        # Distinct triples, as in real data (one row per key and quarter).
        key = (dep_i * len(cpf_codes) + cpf_i) * len(countries) + pays_i
        _, first = np.unique(key, return_index=True)
        first = rng.permutation(first)[:triples]
        dep_i, cpf_i, pays_i = dep_i[first], cpf_i[first], pays_i[first]
        triples = len(first)
        parts = []
        for year, quarter in QUARTERS:
            present = rng.random(triples) < 0.9
            n = int(present.sum())
            d, c, p = dep_i[present], cpf_i[present], pays_i[present]
            parts.append(pa.table({
                "flux": pa.array(np.full(n, flux)),
                "trimestre": pa.array(np.full(n, str(quarter))),
                "annee": pa.array(np.full(n, str(year))),
                "departement": pa.array(dep_codes[d]),
                "region_dgddi": pa.array(dep_regions[d]),
                "a129": pa.array(cpf_a129[c]),
                "cpf4": pa.array(cpf_codes[c]),
                "pays": pa.array(countries[p]),
                "valeur": pa.array(rng.lognormal(9, 2.5, n).astype(np.int64)),
                "masse": pa.array(rng.lognormal(8, 2.5, n).astype(np.int64)),
            }))
        table = pa.concat_tables(parts).select(COLUMNS)
        pacsv.write_csv(table, folder / name, write_options=pacsv.WriteOptions(
            include_header=False, delimiter=";", quoting_style="none"))
    return folder


class PeakRSS:
    """Samples the process resident set size in a thread (peak over a block)."""

    def __enter__(self):
        self.base = _rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def cpu_seconds() -> float:
    """CPU time of this process, all threads (less sensitive than wall time to other
    programs sharing the machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def naive_prepare(folder: Path, out: Path) -> pd.DataFrame:
    """What a first notebook would do: read_csv (default engine, all str) + groupby."""
    frames = [pd.read_csv(folder / name, sep=";", header=None, names=COLUMNS, dtype=str)
              for name in (EXPORT_FILE, IMPORT_FILE)]
    df = pd.concat(frames, ignore_index=True)
    df["annee"] = df["annee"].astype(int)
    df["valeur"] = df["valeur"].astype("int64")
    df["masse"] = df["masse"].astype("int64")
    df = df[df["annee"] == YEAR]
    keys = ["flux", "departement", "region_dgddi", "a129", "cpf4", "pays"]
    result = df.groupby(keys, as_index=False)[["valeur", "masse"]].sum()
    result.to_parquet(out)
    return result


def naive_load(path: Path, dgddi: str) -> pd.DataFrame:
    """Read the whole prepared table, then filter one département."""
    df = pd.read_parquet(path)
    return df[df["departement"] == dgddi]


def median_time(func, runs: int = LOAD_RUNS) -> float:
    """Median wall time of ``func()`` over ``runs`` runs (after one warm-up)."""
    func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lignes", type=int, default=3_200_000, help="nombre de lignes générées")
    parser.add_argument("--departement", default="61", help="département chargé (défaut : 61)")
    parser.add_argument("--garder", type=Path, default=None, help="garder les fichiers dans DOSSIER")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tradebook-bench-") as tmp:
        work = args.garder or Path(tmp)
        start = time.perf_counter()
        raw = generate(work / "raw", args.lignes)
        sizes = sum(p.stat().st_size for p in raw.iterdir())
        print(f"Génération : {time.perf_counter() - start:.1f} s, "
              f"{sizes / 1e6:.0f} Mo de fichiers TXT")

        gc.collect()
        with PeakRSS() as mem:
            start, cpu = time.perf_counter(), cpu_seconds()
            prepared = prepare.prepare(raw, YEAR, work / "prepared")
            t_prepare, c_prepare = time.perf_counter() - start, cpu_seconds() - cpu
        report = prepared.manifest["rapport"]
        print(f"Lecture + validation + préparation : {t_prepare:.2f} s (CPU {c_prepare:.2f} s) "
              f"pour {format_number(report['lignes_lues'], 0)} lignes "
              f"(pic mémoire {(mem.peak) / 1e6:.0f} Mo RSS, +{(mem.peak - mem.base) / 1e6:.0f} Mo)")

        gc.collect()
        with PeakRSS() as mem_naive:
            start, cpu = time.perf_counter(), cpu_seconds()
            naive_prepare(raw, work / "naive.parquet")
            t_naive, c_naive = time.perf_counter() - start, cpu_seconds() - cpu
        print(f"Naïf (pandas.read_csv moteur par défaut, dtype=str + groupby) : {t_naive:.2f} s "
              f"(CPU {c_naive:.2f} s, pic mémoire {mem_naive.peak / 1e6:.0f} Mo RSS)")
        print(f"  -> rapport naïf / tradebook : {t_naive / t_prepare:.1f}x en temps écoulé, "
              f"{c_naive / c_prepare:.1f}x en temps CPU")

        dep = nomenclatures.resolve_departement(args.departement)
        zone = nomenclatures.departement_zone(dep)
        flux_path = prepared.path / "flux.parquet"
        n_groups = pq.ParquetFile(flux_path).metadata.num_row_groups
        rows = prepared.rows(zone)
        # As a notebook does: open the prepared folder (manifest, Parquet footer), then load.
        t_load = median_time(lambda: prepare.open_prepared(prepared.path).rows(zone))
        t_load_naive = median_time(lambda: naive_load(flux_path, dep.code_dgddi), runs=5)
        total = pq.ParquetFile(flux_path).metadata.num_rows
        print(f"Chargement d'un département ({dep.code} {dep.nom}, "
              f"{format_number(len(rows), 0)} lignes sur {format_number(total, 0)}, "
              f"{n_groups} groupes de lignes) : {t_load * 1000:.1f} ms (médiane de {LOAD_RUNS})")
        print(f"Naïf (tout le Parquet puis filtre) : {t_load_naive * 1000:.1f} ms "
              f"-> rapport {t_load_naive / t_load:.1f}x")
        region = nomenclatures.region_zone(nomenclatures.resolve_region(dep.region))
        t_region = median_time(lambda: prepare.open_prepared(prepared.path).rows(region))
        t_france = median_time(
            lambda: prepare.open_prepared(prepared.path).rows(nomenclatures.france_zone()), runs=5)
        print(f"Chargement de la région {region.nom} : {t_region * 1000:.1f} ms ; "
              f"de la France : {t_france * 1000:.1f} ms")


if __name__ == "__main__":
    main()
