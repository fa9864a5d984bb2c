"""Stage 2: select a year, aggregate it and write the prepared Parquet tables.

``prepare(sources, annee, out)`` reads and validates DGDDI sources (the source given
last wins each quarter it holds), checks that the year's sums fit, sums the quarters
of ``annee`` by flux x département x A129 x CPF4 x country and writes, atomically,
the directory described in ARCHITECTURE.md (``manifest.json``, ``flux.parquet``,
``zones.parquet``, ``totaux.parquet``, ``pays.parquet``, ``libelles.parquet``,
``rejets.csv`` when rows were dropped, and the same tables for the previous year in
``annee_precedente/`` when it is complete and comparable). ``open_prepared`` gives a
:class:`PreparedData` that loads one zone through row-group pushdown.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradebook import __version__, nomenclatures, paths, reading
from tradebook.errors import InvalidDataError, MissingDataError
from tradebook.formatting import NBSP, format_eur, format_number
from tradebook.nomenclatures import Zone
from tradebook.reading import FILE_COLUMN, FLUX_NAMES, FLUXES, LINE_COLUMN

FORMAT = "tradebook-prepare/2"
MANIFEST = "manifest.json"
FLUX_FILE = "flux.parquet"
ZONES_FILE = "zones.parquet"
TOTALS_FILE = "totaux.parquet"
COUNTRIES_FILE = "pays.parquet"
LABELS_FILE = "libelles.parquet"
REJECTS_FILE = "rejets.csv"
PREVIOUS_DIR = "annee_precedente"
REQUIRED = (MANIFEST, FLUX_FILE, ZONES_FILE, TOTALS_FILE, COUNTRIES_FILE, LABELS_FILE)
LABEL_TABLES = ("a129", "cpf4", "pays")
ROW_COLUMNS = ["flux", "a129", "cpf4", "pays", "valeur", "masse"]
COUNTRY_COLUMNS = ["niveau", "zone", "flux", "pays", "valeur"]
# Years that start a new series (data/nomenclatures/ruptures.csv: annee, motif):
# such a year is never compared with the year before.
BREAKS_TABLE = "ruptures.csv"
INT64_MAX = 2 ** 63 - 1
MAX_ROW_GROUP = 250_000
MANIFEST_PROBLEMS = 100
SHOWN_LINES = 5  # first lines kept per anomaly
SHOWN_ANOMALIES = 10  # anomalies printed on stderr


# --------------------------------------------------------------------------- anomalies

_UNKNOWN_KIND = {"a129": "a129_inconnu", "cpf4": "cpf4_inconnu", "pays": "pays_inconnu"}
_CODE_NAMES = {"a129_inconnu": "code A129", "cpf4_inconnu": "code CPF4",
               "pays_inconnu": "code pays", "a129_non_parent": "code CPF4"}


def _q(text: str) -> str:
    """French quotes with no-break spaces inside."""
    return f"«{NBSP}{text}{NBSP}»"


@dataclass(frozen=True)
class Anomaly:
    """Rows of the year whose code has no label valid for the year (``a129_inconnu``,
    ``cpf4_inconnu``, ``pays_inconnu``) or whose CPF4 is filed under an A129 that is
    not its parent (``a129_non_parent``: ``a129`` found, ``expected_a129`` the parent).
    ``first_lines`` holds the first few (file, line) pairs."""

    kind: str
    code: str
    rows: int
    euros: int
    first_lines: tuple[tuple[str, int], ...] = ()
    a129: str = ""
    expected_a129: str = ""

    def describe(self) -> str:
        """One French phrase for pages and messages, without counts."""
        if self.kind == "a129_non_parent":
            return (f"code CPF4 {_q(self.code)} rangé sous l'A129 {_q(self.a129)} au lieu de "
                    f"{_q(self.expected_a129)}")
        return f"{_CODE_NAMES[self.kind]} {_q(self.code)} sans libellé valable pour l'année"

    def to_dict(self) -> dict:
        """The manifest form (French keys)."""
        out = {"type": self.kind, "code": self.code, "lignes": self.rows, "euros": self.euros,
               "premieres_lignes": [{"fichier": f, "ligne": n} for f, n in self.first_lines]}
        if self.kind == "a129_non_parent":
            out.update({"a129": self.a129, "a129_attendu": self.expected_a129})
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Anomaly:
        """Back from :meth:`to_dict`."""
        return cls(data["type"], data["code"], int(data["lignes"]), int(data["euros"]),
                   tuple((p["fichier"], int(p["ligne"])) for p in data["premieres_lignes"]),
                   data.get("a129", ""), data.get("a129_attendu", ""))


def find_anomalies(rows: pa.Table, labels: pa.Table,
                   parents: dict[str, str] | None = None) -> list[Anomaly]:
    """Unknown codes and CPF4 codes under a foreign A129 among ``rows`` (a year's rows
    with ``fichier`` and ``ligne``), largest euros first. ``labels`` is the year's label
    table; ``parents`` maps CPF4 to A129 (default :func:`nomenclatures.cpf4_to_a129`).

    Checks run on each column's distinct values; only flagged rows are grouped.
    The year's sums must have been checked (:func:`check_sums_fit`): int64 then holds
    every group's euros exactly.
    """
    parents = nomenclatures.cpf4_to_a129() if parents is None else parents
    context = _RowContext(rows)
    found: list[Anomaly] = []
    for table in LABEL_TABLES:
        known = set(labels.filter(pc.equal(labels.column("table"), table))
                    .column("code").to_pylist())
        column = reading.dictionary_array(rows.column(table))
        values = column.dictionary.to_pylist()
        unknown = np.array([v not in known for v in values], dtype=bool)
        if not unknown.any():
            continue
        indices = column.indices.to_numpy(zero_copy_only=False)
        flagged = np.flatnonzero(unknown[indices])
        for group, count, euros, lines in context.groups(indices[flagged], flagged):
            found.append(Anomaly(_UNKNOWN_KIND[table], values[group], count, euros, lines))
    cpf = reading.dictionary_array(rows.column("cpf4"))
    a129 = reading.dictionary_array(rows.column("a129"))
    a129_values = a129.dictionary.to_pylist()
    a129_index = {v: i for i, v in enumerate(a129_values)}
    cpf_values = cpf.dictionary.to_pylist()
    # Index of each CPF4 entry's parent in the A129 dictionary; -1 no parent known,
    # -2 a parent that no row uses (so every row of that CPF4 is under another A129).
    expected = np.array([a129_index.get(parents[v], -2) if v in parents else -1
                         for v in cpf_values], dtype=np.int64)
    cpf_idx = cpf.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    a129_idx = a129.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    wanted = expected[cpf_idx]
    flagged = np.flatnonzero((wanted != -1) & (wanted != a129_idx))
    pairs = cpf_idx[flagged] * max(len(a129_values), 1) + a129_idx[flagged]
    for pair, count, euros, lines in context.groups(pairs, flagged):
        code = cpf_values[pair // max(len(a129_values), 1)]
        found.append(Anomaly("a129_non_parent", code, count, euros, lines,
                             a129=a129_values[pair % max(len(a129_values), 1)],
                             expected_a129=parents[code]))
    return sorted(found, key=lambda a: (-a.euros, a.kind, a.code, a.a129))


class _RowContext:
    """A year's rows, to summarise groups of flagged rows (only those are read)."""

    def __init__(self, rows: pa.Table):
        self.rows = rows

    def groups(self, groups: np.ndarray, rows: np.ndarray):
        """(group, rows, euros, first lines) for each distinct value of ``groups``
        (aligned with the row indices ``rows``, which are in table order)."""
        if not len(rows):
            return
        order = np.argsort(groups, kind="stable")
        groups, rows = groups[order], rows[order]
        flagged = self.rows.select(["valeur", FILE_COLUMN, LINE_COLUMN]).take(pa.array(rows))
        values = flagged.column("valeur").to_numpy()
        files = reading.dictionary_array(flagged.column(FILE_COLUMN))
        names = files.dictionary.to_pylist()
        file_idx = files.indices.to_numpy(zero_copy_only=False)
        lines = flagged.column(LINE_COLUMN).to_numpy()
        starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
        ends = np.append(starts[1:], len(groups))
        for start, end in zip(starts.tolist(), ends.tolist()):
            first = tuple((names[file_idx[i]], int(lines[i]))
                          for i in range(start, min(end, start + SHOWN_LINES)))
            yield int(groups[start]), end - start, int(values[start:end].sum()), first


def anomalies_text(anomalies: Sequence[Anomaly], annee: int,
                   shown: int = SHOWN_ANOMALIES) -> str:
    """French warning listing the first anomalies with counts, euros and lines."""
    lines = [f"Attention{NBSP}: {len(anomalies)} code(s) à vérifier dans les données de {annee} "
             f"(avertissement, pas une erreur{NBSP}; les pages le signalent)"]
    for anomaly in anomalies[:shown]:
        where = f"{NBSP}; ".join(f"{f}, ligne {n}" for f, n in anomaly.first_lines)
        more = "…" if anomaly.rows > len(anomaly.first_lines) else ""
        lines.append(f"  - {anomaly.describe()}{NBSP}: {format_number(anomaly.rows, 0)} ligne(s), "
                     f"{format_eur(anomaly.euros)} ({where}{more})")
    if len(anomalies) > shown:
        lines.append(f"  ... et {len(anomalies) - shown} autre(s), listés dans {MANIFEST}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading back

@dataclass
class PreparedData:
    """A prepared directory: its manifest and zone-by-zone access to its tables."""

    path: Path
    manifest: dict
    _label_cache: dict = field(default_factory=dict, repr=False)

    @property
    def annee(self) -> int:
        """The calendar year presented."""
        return int(self.manifest["annee"])

    @property
    def donnees_fictives(self) -> bool:
        """True for the illustrative sample (fictitious figures)."""
        return bool(self.manifest["donnees_fictives"])

    @property
    def annee_partielle(self) -> bool:
        """True when the year lacks a quarter (``--allow-partial-year``)."""
        return bool(self.manifest["annee_partielle"])

    @property
    def trimestres(self) -> list[int]:
        """Quarters summed into the year, the same for both flux."""
        return list(self.manifest["trimestres"])

    @property
    def flux_absents(self) -> tuple[str, ...]:
        """Flux (``E``/``I``) the user declared missing from the sources: their
        totals are 0 because there are no data, not because there is no trade."""
        return tuple(self.manifest["flux_absents"])

    @property
    def anomalies(self) -> list[Anomaly]:
        """Unknown codes and CPF4/A129 mismatches among the year's rows (warnings)."""
        return [Anomaly.from_dict(a) for a in self.manifest["anomalies"]]

    @property
    def quarter_sources(self) -> dict[tuple[int, int], str]:
        """(year, quarter) -> the source that gave it (the last one holding it)."""
        return {(int(q["annee"]), int(q["trimestre"])): q["source"]
                for q in self.manifest["sources_par_trimestre"]}

    @cached_property
    def previous(self) -> PreparedData | None:
        """The year before, prepared the same way, or None (see :attr:`previous_reason`)."""
        previous = self.manifest.get("annee_precedente")
        return open_prepared(self.path / previous["dossier"]) if previous else None

    @property
    def previous_reason(self) -> str | None:
        """None when :attr:`previous` exists, else one French sentence saying why not."""
        return self.manifest.get("raison_sans_annee_precedente")

    @cached_property
    def _flux_file(self) -> pq.ParquetFile:
        return pq.ParquetFile(self.path / FLUX_FILE)

    @cached_property
    def _zones_file(self) -> pq.ParquetFile:
        return pq.ParquetFile(self.path / ZONES_FILE)

    def rows(self, zone: Zone) -> pd.DataFrame:
        """Rows of one zone: columns ``flux, a129, cpf4, pays, valeur, masse``.

        A département reads only the row groups of ``flux.parquet`` whose statistics
        may hold it; a region or France reads its row groups of ``zones.parquet``.
        France's rows are read once (every fiche compares its products with France's);
        callers must not modify the frame.
        """
        if zone.type == "france":
            return self._france_rows
        return self._read_rows(zone)

    @cached_property
    def _france_rows(self) -> pd.DataFrame:
        return self._read_rows(nomenclatures.france_zone())

    def _read_rows(self, zone: Zone) -> pd.DataFrame:
        """The rows of one zone, read from the Parquet files."""
        if zone.type == "departement":
            if not zone.dgddi:
                raise MissingDataError(f"Zone sans code DGDDI : {zone.nom}.")
            table = read_matching(self._flux_file, "departement", zone.dgddi, ROW_COLUMNS)
        elif zone.type in ("region", "france"):
            code = nomenclatures.FRANCE_CODE if zone.type == "france" else zone.code
            table = read_matching(self._zones_file, "zone", code, ["niveau", *ROW_COLUMNS])
            table = table.filter(pc.equal(table.column("niveau"), zone.type)).drop(["niveau"])
        else:
            raise ValueError(f"type de zone inconnu : {zone.type}")
        return table.to_pandas()

    def totals(self) -> pd.DataFrame:
        """``totaux.parquet``: niveau, zone, flux, valeur, masse (zone = DGDDI code,
        INSEE region code or ``FR``)."""
        return pq.read_table(self.path / TOTALS_FILE).to_pandas()

    @cached_property
    def _country_totals(self) -> pd.DataFrame:
        return pq.read_table(self.path / COUNTRIES_FILE).to_pandas()

    def country_totals(self) -> pd.DataFrame:
        """``pays.parquet``: niveau, zone, flux, pays, valeur — each zone's trade with
        each partner country (zones as in :meth:`totals`; only non-empty pairs). Read
        once; callers must not modify the frame."""
        return self._country_totals

    def partner_rows(self, pays: str) -> pd.DataFrame:
        """Every département's rows with one partner country: columns ``departement``
        and those of :meth:`rows` (the national views: who exports what to the US)."""
        table = pq.read_table(self.path / FLUX_FILE, columns=["departement", *ROW_COLUMNS],
                              filters=[("pays", "=", pays)])
        return table.to_pandas()

    def labels(self, table: str) -> dict[str, str]:
        """Code -> French label valid for the year (``a129``, ``cpf4`` or ``pays``)."""
        if table not in LABEL_TABLES:
            raise ValueError(f"table de libellés inconnue : {table}")
        if table not in self._label_cache:
            labels = pq.read_table(self.path / LABELS_FILE,
                                   filters=[("table", "=", table)], columns=["code", "libelle"])
            self._label_cache[table] = dict(zip(labels.column("code").to_pylist(),
                                                labels.column("libelle").to_pylist()))
        return dict(self._label_cache[table])


def read_matching(pfile: pq.ParquetFile, column: str, value: str,
                  columns: list[str]) -> pa.Table:
    """Rows where ``column == value``, reading only row groups whose min/max allow it."""
    meta = pfile.metadata
    index = pfile.schema_arrow.get_field_index(column)
    groups = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max or stats.min <= value <= stats.max:
            groups.append(i)
    wanted = list(dict.fromkeys([column, *columns]))
    if not groups:
        return pfile.schema_arrow.empty_table().select(columns)
    table = pfile.read_row_groups(groups, columns=wanted)
    return table.filter(pc.equal(table.column(column), value)).select(columns)


def open_prepared(path: Path) -> PreparedData:
    """Open a prepared directory written by :func:`prepare` (this format only)."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise MissingDataError(
            f"{path} n'est pas un dossier de données préparées (manifest.json absent). "
            "Lancez « python -m tradebook prepare --donnees ZIP --annee AAAA »."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidDataError(f"{manifest_path} illisible ({exc}) : préparez à nouveau.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InvalidDataError(
            f"{path} : données préparées au format « {found} », ancien ou inconnu, au lieu de "
            f"« {FORMAT} ». Préparez à nouveau les données avec « python -m tradebook "
            "prepare » (ou supprimez ce dossier : il sera recalculé)."
        )
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    previous = manifest.get("annee_precedente")
    if previous and not (path / previous["dossier"] / MANIFEST).is_file():
        missing.append(f"{previous['dossier']}/{MANIFEST}")
    if missing:
        raise InvalidDataError(f"{path} : fichier(s) manquant(s) : {', '.join(missing)}. "
                               "Préparez à nouveau les données.")
    return PreparedData(path, manifest)


# --------------------------------------------------------------------------- preparing

def as_sources(donnees: Path | str | Sequence[Path | str]) -> list[Path]:
    """The ordered list of sources from one path or a sequence of paths."""
    if isinstance(donnees, (str, os.PathLike)):
        return [Path(donnees)]
    return [Path(d) for d in donnees]


def _is_prepared_folder(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def prepare(sources: Path | Sequence[Path], annee: int, out: Path, *,
            skip_invalid: bool = False, allow_partial_year: bool = False,
            missing_flux: str | None = None, warn_to: TextIO | None = None) -> PreparedData:
    """Read, validate and aggregate ``annee`` of ``sources`` (in order: the last source
    holding a quarter wins it) into the directory ``out``; the previous year goes into
    ``out/annee_precedente`` when it is complete and comparable.

    ``missing_flux`` (``E``/``I``) declares a flux really absent from the sources.
    Warnings (unknown codes, absent flux) go to ``warn_to`` (default: stderr). The
    directory is built beside ``out`` and swapped in at the end, so a reader never
    sees a half-written preparation.
    """
    sources, out, annee = as_sources(sources), Path(out), int(annee)
    for source in sources:
        if _is_prepared_folder(source):
            raise InvalidDataError(
                f"{source} contient déjà des données préparées : donnez le ZIP DGDDI ou le "
                "dossier des fichiers REGIONAL_CPF4PAYS*.txt à préparer."
            )
    _check_target(out)
    raw = reading.read_sources(sources, skip_invalid=skip_invalid, missing_flux=missing_flux)
    rows, quarters, partial = reading.select_year(raw, annee,
                                                  allow_partial_year=allow_partial_year)
    previous_rows, reason = previous_year(raw, annee, partial)
    common = {
        "format": FORMAT,
        "version": __version__,
        "donnees_fictives": raw.donnees_fictives,
        "flux_absents": [raw.missing_flux] if raw.missing_flux else [],
        "donnees": raw.source_paths,
        "sources_par_trimestre": [{"annee": y, "trimestre": q, "source": s}
                                  for (y, q), s in sorted(raw.quarter_sources.items())],
        "trimestres_remplaces": raw.replaced,
        "sources": raw.sources,
        "fichiers_donnees": raw.files,
        "rapport": raw.report.to_dict(max_problems=MANIFEST_PROBLEMS),
        "options": {"skip_invalid": skip_invalid, "allow_partial_year": allow_partial_year},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        manifest = {**common, **write_year(raw, rows, annee, quarters, partial, tmp)}
        years = [manifest]
        if previous_rows is not None:
            earlier = {**common, **write_year(raw, previous_rows, annee - 1, [1, 2, 3, 4],
                                              False, tmp / PREVIOUS_DIR)}
            earlier["annee_precedente"] = None
            earlier["raison_sans_annee_precedente"] = (
                f"Ces données sont l'année de comparaison de {annee}{NBSP}; une seule année "
                "précédente est préparée.")
            _write_manifest(tmp / PREVIOUS_DIR, earlier)
            years.append(earlier)
        manifest["annee_precedente"] = (None if previous_rows is None else
                                        {"annee": annee - 1, "dossier": PREVIOUS_DIR})
        manifest["raison_sans_annee_precedente"] = reason
        if raw.report.problems:
            write_rejects(raw.report, tmp / REJECTS_FILE)
        _write_manifest(tmp, manifest)
        swap_directory(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _warn(years, warn_to or sys.stderr)
    return open_prepared(out)


def write_year(raw: reading.RawData, rows: pa.Table, annee: int, quarters: list[int],
               partial: bool, folder: Path) -> dict:
    """Write one year's tables into ``folder``; returns that year's manifest entries.

    Refuses the year when its sums would not fit (:func:`check_sums_fit`).
    """
    check_sums_fit(rows, annee, raw.files)
    folder.mkdir(parents=True, exist_ok=True)
    # Parquet writing releases the GIL: write each table while computing the next.
    with ThreadPoolExecutor(max_workers=2) as pool:
        flux = aggregate_departements(rows)
        writes = [pool.submit(write_grouped, flux, folder / FLUX_FILE, "departement")]
        zones = aggregate_zones(flux)
        writes.append(pool.submit(write_grouped, zones, folder / ZONES_FILE, "zone"))
        labels, label_origin = label_table(raw, annee)
        pq.write_table(compute_totals(flux), folder / TOTALS_FILE, compression="zstd")
        pq.write_table(compute_country_totals(flux), folder / COUNTRIES_FILE,
                       compression="zstd")
        pq.write_table(labels, folder / LABELS_FILE, compression="zstd")
        anomalies = find_anomalies(rows, labels)
        for write in writes:
            write.result()
    return {
        "annee": annee,
        "annee_partielle": partial,
        "trimestres": quarters,
        "trimestres_par_flux": {flux: [q for y, q in pairs if y == annee]
                                for flux, pairs in raw.quarters().items()},
        "trimestres_ecartes": reading.left_out_quarters(raw, annee, quarters),
        "libelles": "zip" if "zip" in label_origin.values() else "projet",
        "libelles_par_table": label_origin,
        "lignes": {"annee": rows.num_rows, "flux": flux.num_rows, "zones": zones.num_rows},
        "anomalies": [a.to_dict() for a in anomalies],
    }


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")


def _warn(manifests: list[dict], stream: TextIO) -> None:
    """Print the warnings of a preparation (absent flux, anomalies of each year)."""
    for manifest in manifests[:1]:
        for flux in manifest["flux_absents"]:
            print(f"Attention{NBSP}: {FLUX_NAMES[flux]} absentes des sources (--flux-absent)"
                  f"{NBSP}: leurs totaux valent 0 faute de données, les pages le signalent.",
                  file=stream)
    for manifest in manifests:
        if manifest["anomalies"]:
            anomalies = [Anomaly.from_dict(a) for a in manifest["anomalies"]]
            print(anomalies_text(anomalies, manifest["annee"]), file=stream)


def check_sums_fit(rows: pa.Table, annee: int, files: dict[str, str] | None = None) -> None:
    """Refuse a year whose values or masses add up beyond int64, summed exactly.

    Values are non-negative, so the grand total of the year (both flux) bounds every
    sum the tables or pages take (a zone, a product, a country, exports plus imports),
    and the balance E - I then lies within int64 too.
    """
    for column, unit in (("valeur", "€"), ("masse", "kg")):
        total = reading.exact_sum(rows.column(column))
        if total <= INT64_MAX:
            continue
        by_flux = exact_sums_by(rows, "flux", column)
        values = rows.column(column)
        largest = pc.max(values).as_py()
        at = pc.index(values, largest).as_py()
        where = (f"{rows.column(FILE_COLUMN)[at].as_py()}, "
                 f"ligne {rows.column(LINE_COLUMN)[at].as_py()}")
        detail = ", ".join(f"{FLUX_NAMES[f]} {format_number(v, 0)} {unit}"
                           for f, v in sorted(by_flux.items()))
        raise InvalidDataError(
            f"Année {annee} : la somme des {'valeurs' if column == 'valeur' else 'masses'} "
            f"({format_number(total, 0)} {unit} : {detail}) dépasse "
            f"{format_number(INT64_MAX, 0)}, le plus grand total que les tables savent "
            "représenter : les chiffres seraient faux. Ce ne sont pas des chiffres de la DGDDI "
            f"(la plus grande valeur, {format_number(largest, 0)} {unit}, est en {where}) : "
            "reprenez le fichier d'origine de la DGDDI."
        )


def exact_sums_by(table: pa.Table, key: str, column: str) -> dict[str, int]:
    """Exact sums of an int64 ``column`` per value of ``key`` (Python ints).

    As :func:`reading.exact_sum`: high and low 32-bit halves summed apart.
    """
    values = table.column(column)
    halves = pa.table({"k": table.column(key), "h": pc.shift_right(values, 32),
                       "l": pc.bit_wise_and(values, 0xFFFFFFFF)})
    sums = halves.group_by("k").aggregate([("h", "sum"), ("l", "sum")])
    return {str(k): (int(h) << 32) + int(low) for k, h, low in zip(
        *(sums.column(c).to_pylist() for c in ("k", "h_sum", "l_sum")))}


@lru_cache(maxsize=None)
def series_breaks() -> dict[int, str]:
    """Year -> why it starts a new series (``data/nomenclatures/ruptures.csv``)."""
    return {int(r["annee"]): r["motif"] for r in nomenclatures.read_table(BREAKS_TABLE)}


def previous_year(raw: reading.RawData, annee: int, partial: bool
                  ) -> tuple[pa.Table | None, str | None]:
    """The rows of ``annee - 1`` when it can be compared with ``annee``, else None and
    one French sentence saying why (a series break, a partial year, missing quarters)."""
    earlier = annee - 1
    refused = f"Pas de comparaison avec {earlier}{NBSP}: "
    if annee in series_breaks():
        return None, f"{refused}{series_breaks()[annee]}."
    if partial:
        return None, (f"{refused}l'année {annee} est partielle et ne se compare pas à une "
                      "année entière.")
    present = raw.quarters()
    lacking = {flux: sorted({1, 2, 3, 4} - {q for y, q in present.get(flux, []) if y == earlier})
               for flux in sorted(raw.files)}
    lacking = {flux: quarters for flux, quarters in lacking.items() if quarters}
    if lacking:
        def names(quarters: list[int]) -> str:
            return ", ".join(f"T{q} {earlier}" for q in quarters)

        if len(set(map(tuple, lacking.values()))) == 1 and len(lacking) == len(raw.files):
            detail = names(next(iter(lacking.values())))
        else:
            detail = f"{NBSP}; ".join(f"{FLUX_NAMES[f]}{NBSP}: {names(q)}"
                                      for f, q in lacking.items())
        return None, (f"{refused}trimestres absents des données ({detail}). Pour comparer, "
                      "donnez aussi la publication précédente de la DGDDI, avant la plus "
                      "récente (--donnees ANCIENNE.zip RECENTE.zip).")
    rows = raw.encoded.filter(pc.equal(raw.encoded.column("annee"), earlier))
    return rows, None


def _check_target(out: Path) -> None:
    """Refuse to replace a non-empty directory that is not a previous preparation."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir())
                                               and not (out / MANIFEST).is_file())):
        raise InvalidDataError(
            f"{out} existe et n'est pas un dossier de données préparées : choisissez un autre "
            "dossier de sortie (--sortie) ou videz celui-ci."
        )


def swap_directory(new: Path, out: Path) -> None:
    """Put the finished directory ``new`` in place of ``out`` (renames only)."""
    os.chmod(new, 0o755)
    for sub in new.iterdir():
        if sub.is_dir():
            os.chmod(sub, 0o755)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _dictionary(indices: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), values)


def group_sum(table: pa.Table, keys: list[str]) -> pa.Table:
    """Sums of ``valeur`` and ``masse`` by ``keys``, sorted by ``keys`` (in that order).

    Each key column becomes sorted integer codes combined into one int64 key, so
    pyarrow hashes one integer per row and the result sorts as integers. Key
    columns come back dictionary-encoded (sorted dictionaries), ready to be grouped
    again or written to Parquet without re-hashing strings. The sums do not wrap
    provided the rows passed :func:`check_sums_fit`.
    """
    if table.num_rows == 0:
        return _group_sum_plain(table, keys)
    combined = np.zeros(table.num_rows, dtype=np.int64)
    dictionaries, capacity = [], 1
    for key in keys:
        codes, dictionary = reading.sorted_codes(table.column(key))
        size = max(len(dictionary), 1)
        capacity *= size
        if capacity >= 2 ** 62:  # absurdly many distinct codes: no combined key
            return _group_sum_plain(table, keys)
        combined = combined * size + codes
        dictionaries.append((key, dictionary, size))
    sums = pa.table({"_k": combined, "valeur": table.column("valeur"),
                     "masse": table.column("masse")}).group_by("_k", use_threads=False).aggregate(
        [("valeur", "sum"), ("masse", "sum")])
    sums = sums.take(pc.sort_indices(sums.column("_k")))
    rest = sums.column("_k").to_numpy()
    columns = {}
    for key, dictionary, size in reversed(dictionaries):
        columns[key] = _dictionary(rest % size, dictionary)
        rest = rest // size
    columns = {key: columns[key] for key in keys}
    columns["valeur"] = sums.column("valeur_sum")
    columns["masse"] = sums.column("masse_sum")
    return pa.table(columns)


def _group_sum_plain(table: pa.Table, keys: list[str]) -> pa.Table:
    """Same groups as :func:`group_sum` with pyarrow's multi-key group-by (plain strings)."""
    plain = reading.decode_table(table.select([*keys, "valeur", "masse"]))
    sums = plain.group_by(keys).aggregate([("valeur", "sum"), ("masse", "sum")])
    sums = sums.sort_by([(k, "ascending") for k in keys])
    return pa.table({**{k: sums.column(k) for k in keys},
                     "valeur": pc.cast(sums.column("valeur_sum"), pa.int64()),
                     "masse": pc.cast(sums.column("masse_sum"), pa.int64())})


def _regions_of(departements: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """INSEE region of each row, from its DGDDI département code."""
    deps = reading.dictionary_array(departements)
    by_code = {d.code_dgddi: d.region for d in nomenclatures.departements()}
    per_entry = pc.dictionary_encode(pa.array(
        [by_code.get(code) for code in deps.dictionary.to_pylist()], pa.string()))
    entry_region = per_entry.indices.to_numpy(zero_copy_only=False)
    return _dictionary(entry_region[deps.indices.to_numpy(zero_copy_only=False)],
                       per_entry.dictionary)


def aggregate_departements(rows: pa.Table) -> pa.Table:
    """Annual sums by flux x département x A129 x CPF4 x country, with the INSEE region.

    The DGDDI region is implied by the département (checked at read time), so it is
    replaced by the INSEE region. Sorted by département, then flux, CPF4, A129, country.
    Code columns are dictionary-encoded; Parquet files get them as plain strings.
    """
    grouped = group_sum(rows, ["departement", "flux", "cpf4", "a129", "pays"])
    return pa.table({
        "flux": grouped.column("flux"),
        "departement": grouped.column("departement"),
        "region": _regions_of(grouped.column("departement")),
        **{c: grouped.column(c) for c in ("a129", "cpf4", "pays", "valeur", "masse")},
    })


def aggregate_zones(flux: pa.Table) -> pa.Table:
    """Region and France rows (``niveau``, ``zone``), computed once from ``flux``.

    Sorted by zone (INSEE region codes, then ``FR``), flux, CPF4, A129, country.
    """
    region_sums = group_sum(flux, ["region", "flux", "cpf4", "a129", "pays"])
    france_sums = group_sum(region_sums, ["flux", "cpf4", "a129", "pays"])
    zeros = np.zeros(france_sums.num_rows, dtype=np.int32)
    france = _dictionary(zeros, pa.array([nomenclatures.FRANCE_CODE]))
    table = pa.concat_tables([
        _zone_part(region_sums, "region", region_sums.column("region")),
        _zone_part(france_sums, "france", france),
    ])
    return table.unify_dictionaries().combine_chunks()


def _zone_part(sums: pa.Table, niveau: str, zone) -> pa.Table:
    level = _dictionary(np.zeros(sums.num_rows, dtype=np.int32), pa.array([niveau]))
    return pa.table({
        "niveau": level,
        "zone": zone,
        **{c: sums.column(c) for c in ("flux", "a129", "cpf4", "pays", "valeur", "masse")},
    })


def compute_totals(flux: pa.Table) -> pa.Table:
    """Value and mass per niveau x zone x flux, with a row (0) for every zone and flux.

    ``zone`` is the DGDDI area code for ``departement`` (Monaco ``99`` included),
    the INSEE code for ``region`` and ``FR`` for ``france``.
    """
    frames = []
    levels = [
        ("departement", [d.code_dgddi for d in nomenclatures.departements()]),
        ("region", [r.code for r in nomenclatures.regions()]),
    ]
    for niveau, zones in levels:
        sums = reading.decode_table(group_sum(flux, [niveau, "flux"])).to_pandas()
        sums = sums.set_index([niveau, "flux"])[["valeur", "masse"]]
        grid = pd.MultiIndex.from_product([zones, list(FLUXES)], names=[niveau, "flux"])
        sums = sums.reindex(grid, fill_value=0).reset_index().rename(columns={niveau: "zone"})
        sums.insert(0, "niveau", niveau)
        frames.append(sums)
    france = reading.decode_table(group_sum(flux, ["flux"])).to_pandas().set_index("flux")
    france = france[["valeur", "masse"]].reindex(list(FLUXES), fill_value=0).reset_index()
    france.insert(0, "zone", nomenclatures.FRANCE_CODE)
    france.insert(0, "niveau", "france")
    frames.append(france)
    result = pd.concat(frames, ignore_index=True)
    result["valeur"] = result["valeur"].astype("int64")
    result["masse"] = result["masse"].astype("int64")
    return pa.Table.from_pandas(result[["niveau", "zone", "flux", "valeur", "masse"]],
                                preserve_index=False)


def compute_country_totals(flux: pa.Table) -> pa.Table:
    """Value per niveau x zone x flux x partner country (``pays.parquet``), computed
    once from ``flux`` for the national views and rankings; zones as in
    :func:`compute_totals`, only pairs that trade."""
    parts = []
    for niveau, keys in (("departement", ["departement", "flux", "pays"]),
                         ("region", ["region", "flux", "pays"]), ("france", ["flux", "pays"])):
        sums = reading.decode_table(group_sum(flux, keys))
        n = sums.num_rows
        zone = (sums.column(keys[0]) if niveau != "france"
                else pa.array([nomenclatures.FRANCE_CODE] * n, pa.string()))
        parts.append(pa.table({"niveau": pa.array([niveau] * n, pa.string()), "zone": zone,
                               "flux": sums.column("flux"), "pays": sums.column("pays"),
                               "valeur": sums.column("valeur")}))
    return pa.concat_tables(parts).select(COUNTRY_COLUMNS)


def label_table(raw: reading.RawData, annee: int) -> tuple[pa.Table, dict[str, str]]:
    """Labels valid in ``annee``: the project's tables, overridden by the sources' own
    (a later source's label wins a tie, see :func:`reading.read_sources`)."""
    codes, labels, tables, origin = [], [], [], {}
    for table in LABEL_TABLES:
        chosen = nomenclatures.labels_valid_in(table, annee)
        origin[table] = "projet"
        if raw.labels.get(table):
            chosen.update(nomenclatures.select_valid_labels(raw.labels[table], annee))
            origin[table] = "zip"
        for code in sorted(chosen):
            tables.append(table)
            codes.append(code)
            labels.append(chosen[code])
    return pa.table({"table": tables, "code": codes, "libelle": labels}), origin


def write_grouped(table: pa.Table, path: Path, column: str) -> None:
    """Write ``table`` (sorted on ``column``) with one row group per value (split if big).

    Row-group min/max statistics then let a reader of one value skip all others.
    """
    counts = pc.value_counts(table.column(column))  # first-appearance order = sorted order
    lengths = counts.field("counts").to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # store_schema=False: dictionary-encoded columns read back as plain strings.
    codes = [f.name for f in table.schema if not pa.types.is_integer(f.type)]
    with pq.ParquetWriter(path, table.schema, compression="zstd", write_statistics=True,
                          use_dictionary=codes, store_schema=False) as writer:
        for start, length in zip(offsets[:-1], lengths):
            writer.write_table(table.slice(int(start), int(length)), row_group_size=MAX_ROW_GROUP)


def write_rejects(report: reading.ValidationReport, path: Path) -> None:
    """Every dropped row: file, line and reason (UTF-8 CSV)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["fichier", "ligne", "motif"])
        writer.writerows(report.problems)


# --------------------------------------------------------------------------- summary

def _fmt(n: int) -> str:
    return format_number(n, 0)


def _quarter_sources_text(manifest: dict) -> str:
    """``T4 2023 : A.zip ; T1 2024, ..., T4 2024 : B.zip`` (consecutive quarters grouped)."""
    runs: list[tuple[str, list[str]]] = []
    for entry in manifest["sources_par_trimestre"]:
        name = Path(entry["source"]).name
        label = f"T{entry['trimestre']} {entry['annee']}"
        if runs and runs[-1][0] == name:
            runs[-1][1].append(label)
        else:
            runs.append((name, [label]))
    return " ; ".join(f"{', '.join(labels)} : {name}" for name, labels in runs)


def summary(prepared: PreparedData) -> str:
    """French summary of a preparation, printed by ``python -m tradebook prepare``."""
    m = prepared.manifest
    report = m["rapport"]
    quarters = ", ".join(f"T{q}" for q in m["trimestres"]) or "aucun"
    kind = ("données FICTIVES (échantillon d'illustration, pas des chiffres réels)"
            if prepared.donnees_fictives else "données réelles de la DGDDI")
    lines = [
        f"Données préparées : {prepared.path}",
        f"Année {prepared.annee} ({'année partielle, ' if prepared.annee_partielle else ''}"
        f"trimestres {quarters}) — {kind}",
        f"Trimestres et sources : {_quarter_sources_text(m)}",
        f"Lignes lues : {_fmt(report['lignes_lues'])} ; "
        f"gardées : {_fmt(report['lignes_gardees'])} ; "
        f"rejetées : {_fmt(report['lignes_rejetees'])} "
        f"({format_eur(report['euros_rejetes'], '€')} écartés)",
        f"Table annuelle : {_fmt(m['lignes']['flux'])} lignes "
        "(flux × département × produit × pays)",
    ]
    for replaced in m["trimestres_remplaces"]:
        lines.append(f"T{replaced['trimestre']} {replaced['annee']} de "
                     f"{Path(replaced['source']).name} remplacé par celui de "
                     f"{Path(replaced['remplace_par']).name} ({_fmt(replaced['lignes'])} "
                     "lignes non retenues)")
    if report["lignes_rejetees"]:
        lines.append(f"Lignes écartées listées dans {prepared.path / REJECTS_FILE}")
        lines += [f"  - {p['fichier']}, ligne {p['ligne']} : {p['motif']}"
                  for p in report["problemes"][:5]]
    for flux, left in sorted(m["trimestres_ecartes"].items()):
        lines.append(f"Trimestres écartés des {FLUX_NAMES[flux]} (absents de l'autre flux) : "
                     f"{', '.join(f'T{q}' for q in left['trimestres'])} "
                     f"({_fmt(left['lignes'])} lignes, {format_eur(left['euros'])})")
    for flux in prepared.flux_absents:
        lines.append(f"Flux absent : {FLUX_NAMES[flux]} (--flux-absent), les pages le signalent.")
    if prepared.anomalies:
        lines.append(f"Codes à vérifier : {len(prepared.anomalies)} (détail sur la sortie "
                     f"d'erreur et dans {MANIFEST})")
    if prepared.previous is not None:
        lines.append(f"Année précédente {prepared.previous.annee} préparée pour comparaison "
                     f"({PREVIOUS_DIR}/)")
    else:
        lines.append(prepared.previous_reason or "Pas d'année précédente.")
    if prepared.annee_partielle:
        lines.append("Attention : année partielle, les pages le signaleront.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- cache

def cache_key(sources: Path | Sequence[Path], annee: int, skip_invalid: bool,
              allow_partial_year: bool, missing_flux: str | None = None) -> str:
    """Key of a preparation: each source's SHA-256 in order, year, options and format."""
    digests = [sorted(d["sha256"] for d in reading.source_digests(source))
               for source in as_sources(sources)]
    flux = reading.flux_code(missing_flux) if missing_flux else None
    payload = json.dumps([FORMAT, digests, annee, skip_invalid, allow_partial_year, flux])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _is_prepared(path: Path) -> bool:
    try:
        open_prepared(path)
    except (MissingDataError, InvalidDataError):
        return False
    return True


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on the file ``path``, removed when released.

    The holder unlinks the file before unlocking; a process that was waiting on the
    unlinked file notices (its inode is no longer the path's) and locks afresh, so
    two processes never both hold the lock and no lock file is left behind.
    """
    while True:
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fh.fileno()).st_ino:
                break
        except BaseException:
            fh.close()
            raise
        fh.close()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def ensure_prepared(donnees: Path | Sequence[Path], annee: int, *, skip_invalid: bool = False,
                    allow_partial_year: bool = False, missing_flux: str | None = None,
                    cache_dir: Path = paths.PREPARED) -> PreparedData:
    """Prepared data for ``donnees`` (one or more ZIPs or raw folders, in order, or one
    prepared folder) and ``annee``.

    A prepared folder is opened as is (its year must match). Otherwise a cached
    preparation under ``cache_dir`` is reused when the ordered sources' SHA-256, the
    year and the options match; else the data are prepared there, under a lock so
    that two processes asking at once prepare only once.
    """
    sources, annee = as_sources(donnees), int(annee)
    if len(sources) == 1 and _is_prepared_folder(sources[0]):
        prepared = open_prepared(sources[0])
        if prepared.annee != annee:
            raise MissingDataError(
                f"{sources[0]} contient les données préparées de {prepared.annee}, pas de "
                f"{annee}. Donnez --annee {prepared.annee} ou préparez {annee} depuis le ZIP "
                "DGDDI."
            )
        return prepared
    key = cache_key(sources, annee, skip_invalid, allow_partial_year, missing_flux)
    target = Path(cache_dir) / f"{annee}-{key}"
    if _is_prepared(target):
        return open_prepared(target)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with _locked(Path(cache_dir) / f".{target.name}.lock"):
        if _is_prepared(target):
            return open_prepared(target)
        return prepare(sources, annee, target, skip_invalid=skip_invalid,
                       allow_partial_year=allow_partial_year, missing_flux=missing_flux)
