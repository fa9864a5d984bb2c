"""Stage 2: select a year, aggregate it and write the prepared Parquet tables.

``prepare(source, annee, out)`` reads and validates a DGDDI source, sums the 4
quarters of ``annee`` by flux x département x A129 x CPF4 x country and writes,
atomically, the directory described in ARCHITECTURE.md (``manifest.json``,
``flux.parquet``, ``zones.parquet``, ``totaux.parquet``, ``libelles.parquet``,
and ``rejets.csv`` when rows were dropped). ``open_prepared`` gives a
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
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradebook import __version__, nomenclatures, paths, reading
from tradebook.errors import InvalidDataError, MissingDataError
from tradebook.formatting import format_eur, format_number
from tradebook.nomenclatures import Zone

FORMAT = "tradebook-prepare/1"
MANIFEST = "manifest.json"
FLUX_FILE = "flux.parquet"
ZONES_FILE = "zones.parquet"
TOTALS_FILE = "totaux.parquet"
LABELS_FILE = "libelles.parquet"
REJECTS_FILE = "rejets.csv"
REQUIRED = (MANIFEST, FLUX_FILE, ZONES_FILE, TOTALS_FILE, LABELS_FILE)
LABEL_TABLES = ("a129", "cpf4", "pays")
ROW_COLUMNS = ["flux", "a129", "cpf4", "pays", "valeur", "masse"]
PRODUCT_KEYS = ["a129", "cpf4", "pays"]
MAX_ROW_GROUP = 250_000
MANIFEST_PROBLEMS = 100
FLUXES = ("E", "I")


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
        """Quarters summed into the year."""
        return list(self.manifest["trimestres"])

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
        flux = pq.read_table(self.path / FLUX_FILE, columns=["flux", "departement", "pays",
                                                             "valeur"])
        sums = flux.group_by(["departement", "flux", "pays"]).aggregate([("valeur", "sum")])
        frame = sums.to_pandas().rename(columns={"departement": "zone", "valeur_sum": "valeur"})
        frame.insert(0, "niveau", "departement")
        return frame[["niveau", "zone", "flux", "pays", "valeur"]]

    def country_totals(self) -> pd.DataFrame:
        """Value by département, flux and partner country: niveau, zone, flux, pays, valeur."""
        return self._country_totals

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
    """Open a prepared directory written by :func:`prepare`."""
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
    if manifest.get("format") != FORMAT:
        raise InvalidDataError(
            f"{path} : format de données préparées « {manifest.get('format')} » au lieu de "
            f"« {FORMAT} ». Préparez à nouveau les données avec « python -m tradebook prepare »."
        )
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        raise InvalidDataError(f"{path} : fichier(s) manquant(s) : {', '.join(missing)}. "
                               "Préparez à nouveau les données.")
    return PreparedData(path, manifest)


# --------------------------------------------------------------------------- preparing

def prepare(source: Path, annee: int, out: Path, *, skip_invalid: bool = False,
            allow_partial_year: bool = False) -> PreparedData:
    """Read, validate and aggregate ``annee`` of ``source`` into the directory ``out``.

    The directory is built beside ``out`` and swapped in at the end, so a reader
    never sees a half-written preparation.
    """
    source, out, annee = Path(source), Path(out), int(annee)
    if source.is_dir() and (source / MANIFEST).is_file():
        raise InvalidDataError(
            f"{source} contient déjà des données préparées : donnez le ZIP DGDDI ou le dossier "
            "des fichiers REGIONAL_CPF4PAYS*.txt à préparer."
        )
    _check_target(out)
    raw = reading.read_source(source, skip_invalid=skip_invalid)
    rows, quarters, partial = reading.select_year(raw, annee,
                                                  allow_partial_year=allow_partial_year)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        # Parquet writing releases the GIL: write each table while computing the next.
        with ThreadPoolExecutor(max_workers=2) as pool:
            flux = aggregate_departements(rows)
            writes = [pool.submit(write_grouped, flux, tmp / FLUX_FILE, "departement")]
            zones = aggregate_zones(flux)
            writes.append(pool.submit(write_grouped, zones, tmp / ZONES_FILE, "zone"))
            totals = compute_totals(flux)
            labels, label_origin = label_table(raw, annee)
            pq.write_table(totals, tmp / TOTALS_FILE, compression="zstd")
            pq.write_table(labels, tmp / LABELS_FILE, compression="zstd")
            if raw.report.problems:
                write_rejects(raw.report, tmp / REJECTS_FILE)
            for write in writes:
                write.result()
        manifest = {
            "format": FORMAT,
            "version": __version__,
            "annee": annee,
            "donnees_fictives": raw.donnees_fictives,
            "annee_partielle": partial,
            "trimestres": quarters,
            "trimestres_par_flux": {flux: [q for y, q in pairs if y == annee]
                                    for flux, pairs in raw.quarters().items()},
            "sources": raw.sources,
            "source": str(source),
            "fichiers_donnees": raw.files,
            "rapport": raw.report.to_dict(max_problems=MANIFEST_PROBLEMS),
            "libelles": "zip" if "zip" in label_origin.values() else "projet",
            "libelles_par_table": label_origin,
            "options": {"skip_invalid": skip_invalid, "allow_partial_year": allow_partial_year},
            "lignes": {"annee": rows.num_rows, "flux": flux.num_rows, "zones": zones.num_rows},
            "codes_sans_libelle": _unlabelled(flux, labels),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
        swap_directory(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return open_prepared(out)


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
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _sorted_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Integer codes of a string column whose order follows the sorted distinct values.

    Returns the code of every row (int64) and the sorted dictionary they index.
    """
    column = _dictionary_array(column)
    dictionary = column.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    indices = column.indices.to_numpy(zero_copy_only=False)
    return rank[indices], dictionary.take(pa.array(order))


def _dictionary_array(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """One dictionary-encoded chunk (string columns are encoded, chunks unified)."""
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type) and column.num_chunks > 1:
            column = column.unify_dictionaries()
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)


def _dictionary(indices: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), values)


def group_sum(table: pa.Table, keys: list[str]) -> pa.Table:
    """Sums of ``valeur`` and ``masse`` by ``keys``, sorted by ``keys`` (in that order).

    Each key column becomes sorted integer codes combined into one int64 key, so
    pyarrow hashes one integer per row and the result sorts as integers. Key
    columns come back dictionary-encoded (sorted dictionaries), ready to be grouped
    again or written to Parquet without re-hashing strings.
    """
    if table.num_rows == 0:
        return _group_sum_plain(table, keys)
    combined = np.zeros(table.num_rows, dtype=np.int64)
    dictionaries, capacity = [], 1
    for key in keys:
        codes, dictionary = _sorted_codes(table.column(key))
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
    deps = _dictionary_array(departements)
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


def label_table(raw: reading.RawData, annee: int) -> tuple[pa.Table, dict[str, str]]:
    """Labels valid in ``annee``: the project's tables, overridden by the source's own."""
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


def _distinct(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """Distinct values of a (dictionary-encoded) code column."""
    encoded = _dictionary_array(column)
    used = pc.unique(encoded.indices)
    return encoded.dictionary.take(used).to_pylist()


def _unlabelled(flux: pa.Table, labels: pa.Table) -> dict[str, list[str]]:
    """Codes present in the data without a label valid for the year (first 50 per table)."""
    out = {}
    for table in LABEL_TABLES:
        known = set(labels.filter(pc.equal(labels.column("table"), table))
                    .column("code").to_pylist())
        out[table] = sorted(code for code in _distinct(flux.column(table))
                            if code not in known)[:50]
    return out


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
        f"Lignes lues : {_fmt(report['lignes_lues'])} ; "
        f"gardées : {_fmt(report['lignes_gardees'])} ; "
        f"rejetées : {_fmt(report['lignes_rejetees'])} "
        f"({format_eur(report['euros_rejetes'], '€')} écartés)",
        f"Table annuelle : {_fmt(m['lignes']['flux'])} lignes "
        "(flux × département × produit × pays)",
    ]
    if report["lignes_rejetees"]:
        lines.append(f"Lignes écartées listées dans {prepared.path / REJECTS_FILE}")
        lines += [f"  - {p['fichier']}, ligne {p['ligne']} : {p['motif']}"
                  for p in report["problemes"][:5]]
    if prepared.annee_partielle:
        lines.append("Attention : année partielle, les pages le signaleront.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- cache

def cache_key(donnees: Path, annee: int, skip_invalid: bool, allow_partial_year: bool) -> str:
    """Key of a preparation: sources' SHA-256, year, options and format."""
    digests = sorted(d["sha256"] for d in reading.source_digests(donnees))
    payload = json.dumps([FORMAT, digests, annee, skip_invalid, allow_partial_year])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _is_prepared(path: Path) -> bool:
    try:
        open_prepared(path)
    except (MissingDataError, InvalidDataError):
        return False
    return True


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` (two processes preparing the same data)."""
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_prepared(donnees: Path, annee: int, *, skip_invalid: bool = False,
                    allow_partial_year: bool = False,
                    cache_dir: Path = paths.PREPARED) -> PreparedData:
    """Prepared data for ``donnees`` (ZIP, raw folder or prepared folder) and ``annee``.

    A prepared folder is opened as is (its year must match). Otherwise a cached
    preparation under ``cache_dir`` is reused when the sources' SHA-256, the year
    and the options match; else the data are prepared there, under a lock so that
    two processes asking at once prepare only once.
    """
    donnees, annee = Path(donnees), int(annee)
    if donnees.is_dir() and (donnees / MANIFEST).is_file():
        prepared = open_prepared(donnees)
        if prepared.annee != annee:
            raise MissingDataError(
                f"{donnees} contient les données préparées de {prepared.annee}, pas de {annee}. "
                f"Donnez --annee {prepared.annee} ou préparez {annee} depuis le ZIP DGDDI."
            )
        return prepared
    key = cache_key(donnees, annee, skip_invalid, allow_partial_year)
    target = Path(cache_dir) / f"{annee}-{key}"
    if _is_prepared(target):
        return open_prepared(target)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with _locked(Path(cache_dir) / f".{target.name}.lock"):
        if _is_prepared(target):
            return open_prepared(target)
        return prepare(donnees, annee, target, skip_invalid=skip_invalid,
                       allow_partial_year=allow_partial_year)
