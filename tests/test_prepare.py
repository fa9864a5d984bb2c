"""Preparing a year: sums, zones, totals, labels, manifest, pushdown, atomicity, cache."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dgddi_fixtures import (AREAS, COUNTRIES, PRODUCTS, QUARTERS, row, rows, value_of,
                            write_source, write_zip)
from tradebook import nomenclatures as nom
from tradebook import prepare
from tradebook.errors import InvalidDataError, MissingDataError


def expected_sums(year: int = 2024) -> dict[tuple, tuple[int, int]]:
    """(flux, dep, a129, cpf4, pays) -> (valeur, masse) recomputed from the fixture."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for flux in "EI":
        for y, q in QUARTERS:
            if y != year:
                continue
            for a, (dep, _) in enumerate(AREAS):
                for p, (a129, cpf4) in enumerate(PRODUCTS):
                    for c, pays in enumerate(COUNTRIES):
                        value = value_of(flux, y, q, a, p, c)
                        key = (flux, dep, a129, cpf4, pays)
                        sums[key][0] += value
                        sums[key][1] += value // 3
    return {k: tuple(v) for k, v in sums.items()}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_source(tmp_path_factory.mktemp("src") / "raw")


@pytest.fixture(scope="module")
def prepared(source, tmp_path_factory) -> prepare.PreparedData:
    return prepare.prepare(source, 2024, tmp_path_factory.mktemp("out") / "2024")


def test_directory_and_manifest(prepared):
    names = {p.name for p in prepared.path.iterdir()}
    assert names == {"manifest.json", "flux.parquet", "zones.parquet", "totaux.parquet",
                     "libelles.parquet"}
    m = json.loads((prepared.path / "manifest.json").read_text(encoding="utf-8"))
    assert m == prepared.manifest
    assert m["format"] == prepare.FORMAT and m["annee"] == 2024
    assert m["donnees_fictives"] is False and m["annee_partielle"] is False
    assert m["trimestres"] == [1, 2, 3, 4]
    assert {s["name"] for s in m["sources"]} == {"REGIONAL_CPF4PAYSE.txt",
                                                 "REGIONAL_CPF4PAYSI.txt"}
    assert all(len(s["sha256"]) == 64 and s["octets"] > 0 for s in m["sources"])
    assert m["rapport"]["lignes_lues"] == 2 * len(rows("E"))
    assert m["rapport"]["lignes_rejetees"] == 0
    assert m["libelles"] == "projet"
    assert m["options"] == {"skip_invalid": False, "allow_partial_year": False}
    assert prepared.annee == 2024 and not prepared.donnees_fictives
    assert not prepared.annee_partielle


def test_flux_table_holds_annual_sums_sorted_by_departement(prepared):
    table = pq.read_table(prepared.path / "flux.parquet")
    assert table.column_names == ["flux", "departement", "region", "a129", "cpf4", "pays",
                                  "valeur", "masse"]
    assert all(str(table.schema.field(c).type) == "string"
               for c in ["flux", "departement", "region", "a129", "cpf4", "pays"])
    got = {(r["flux"], r["departement"], r["a129"], r["cpf4"], r["pays"]): (r["valeur"], r["masse"])
           for r in table.to_pylist()}
    assert got == expected_sums()
    deps = table.column("departement").to_pylist()
    assert deps == sorted(deps)
    regions = dict(zip(deps, table.column("region").to_pylist()))
    assert regions == {"61": "28", "14": "28", "20": "94", "9A": "01", "99": "93",
                       "13": "93", "01": "84"}
    meta = pq.ParquetFile(prepared.path / "flux.parquet").metadata
    assert meta.num_row_groups == len(AREAS)  # one row group per département
    assert meta.row_group(0).column(0).compression == "ZSTD"


def _total(zone_deps: set[str] | None, flux: str) -> int:
    return sum(v for (f, dep, *_), (v, _) in expected_sums().items()
               if f == flux and (zone_deps is None or dep in zone_deps))


def test_rows_of_a_departement(prepared):
    zone = nom.departement_zone(nom.resolve_departement("61"))
    df = prepared.rows(zone)
    assert list(df.columns) == ["flux", "a129", "cpf4", "pays", "valeur", "masse"]
    assert all(pd.api.types.is_string_dtype(df[c]) for c in ["flux", "a129", "cpf4", "pays"])
    assert str(df["valeur"].dtype) == "int64" and str(df["masse"].dtype) == "int64"
    assert len(df) == 2 * len(PRODUCTS) * len(COUNTRIES)
    assert df.loc[df.flux == "E", "valeur"].sum() == _total({"61"}, "E")
    corse = prepared.rows(nom.departement_zone(nom.resolve_departement("2A")))
    assert corse.loc[corse.flux == "I", "valeur"].sum() == _total({"20"}, "I")
    empty = prepared.rows(nom.departement_zone(nom.resolve_departement("75")))
    assert empty.empty and list(empty.columns) == list(df.columns)


def test_rows_reads_only_the_row_groups_of_the_departement(prepared, monkeypatch):
    read = []
    original = pq.ParquetFile.read_row_groups

    def spy(self, groups, *args, **kwargs):
        read.extend(groups)
        return original(self, groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    fresh = prepare.open_prepared(prepared.path)
    fresh.rows(nom.departement_zone(nom.resolve_departement("9A")))
    assert len(read) == 1  # of len(AREAS) row groups


def test_rows_of_regions_and_france(prepared):
    paca = prepared.rows(nom.region_zone(nom.resolve_region("93")))
    assert paca.loc[paca.flux == "E", "valeur"].sum() == _total({"13", "99"}, "E")  # Monaco in PACA
    guadeloupe = prepared.rows(nom.region_zone(nom.resolve_region("01")))
    assert guadeloupe.loc[guadeloupe.flux == "I", "valeur"].sum() == _total({"9A"}, "I")
    normandie = prepared.rows(nom.region_zone(nom.resolve_region("05")))  # DGDDI code
    assert normandie["valeur"].sum() == _total({"61", "14"}, "E") + _total({"61", "14"}, "I")
    france = prepared.rows(nom.france_zone())
    assert france.loc[france.flux == "E", "valeur"].sum() == _total(None, "E")
    assert len(france) == 2 * len(PRODUCTS) * len(COUNTRIES)
    assert list(france.columns) == ["flux", "a129", "cpf4", "pays", "valeur", "masse"]


def test_totals(prepared):
    totals = prepared.totals()
    assert list(totals.columns) == ["niveau", "zone", "flux", "valeur", "masse"]
    index = totals.set_index(["niveau", "zone", "flux"])["valeur"]
    assert index[("departement", "99", "E")] == _total({"99"}, "E")
    assert index[("departement", "75", "I")] == 0  # every zone has a row
    assert index[("region", "93", "E")] == _total({"13", "99"}, "E")
    assert index[("france", "FR", "I")] == _total(None, "I")
    assert len(totals) == 2 * (len(nom.departements()) + len(nom.regions()) + 1)


def test_labels_from_project_tables(prepared):
    assert prepared.labels("pays")["BE"] == nom.labels_valid_in("pays", 2024)["BE"]
    assert "AN" not in prepared.labels("pays")  # not valid in 2024
    assert prepared.labels("a129")["A01Z"] == nom.labels_valid_in("a129", 2024)["A01Z"]


def test_zip_labels_win_and_marker(source, tmp_path):
    path = write_zip(tmp_path / "dgddi.zip", source, fictitious=True)
    prepared = prepare.prepare(path, 2024, tmp_path / "out")
    assert prepared.donnees_fictives is True
    assert prepared.manifest["libelles"] == "zip"
    assert prepared.labels("a129")["C10A"] == "Viandes; conserves (ZIP)"
    assert prepared.labels("cpf4")["1011"] == "Viandes de boucherie (nouveau)"
    assert prepared.labels("pays")["BE"] == "Belgique (ZIP)"
    assert prepared.labels("pays")["DE"] == nom.labels_valid_in("pays", 2024)["DE"]
    assert "FICTIVES" in prepare.summary(prepared)


def test_summary_in_french(prepared):
    text = prepare.summary(prepared)
    assert f"Lignes lues : {2 * len(rows('E'))} ;" in text  # 630, no separator needed
    assert "rejetées : 0" in text and "Année 2024" in text
    assert str(prepared.path) in text and "données réelles" in text


def test_skip_invalid_writes_rejects_and_report(tmp_path):
    exports = rows("E") + [row(dep="00", valeur=1234)]
    src = write_source(tmp_path / "raw", exports=exports)
    with pytest.raises(InvalidDataError, match="code département « 00 » inconnu"):
        prepare.prepare(src, 2024, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    prepared = prepare.prepare(src, 2024, tmp_path / "out", skip_invalid=True)
    report = prepared.manifest["rapport"]
    assert report["lignes_rejetees"] == 1 and report["euros_rejetes"] == 1234
    with open(prepared.path / "rejets.csv", encoding="utf-8", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[0] == ["fichier", "ligne", "motif"]
    assert rejects[1][:2] == ["REGIONAL_CPF4PAYSE.txt", str(len(exports))]
    assert rejects[1][2].startswith("code département « 00 » inconnu")
    assert "1\u202f234\u00a0€ écartés" in prepare.summary(prepared)


def test_missing_quarter_and_partial_year(tmp_path):
    src = write_source(tmp_path / "raw", exports=rows("E", QUARTERS[:-1]))
    with pytest.raises(MissingDataError, match="T4 2024"):
        prepare.prepare(src, 2024, tmp_path / "out")
    prepared = prepare.prepare(src, 2024, tmp_path / "out", allow_partial_year=True)
    assert prepared.annee_partielle is True
    assert prepared.manifest["annee_partielle"] is True
    assert prepared.manifest["trimestres"] == [1, 2, 3]
    assert prepared.manifest["trimestres_par_flux"] == {"E": [1, 2, 3], "I": [1, 2, 3, 4]}
    assert "année partielle" in prepare.summary(prepared)


def test_prepare_replaces_a_previous_preparation_atomically(source, tmp_path):
    out = tmp_path / "out"
    prepare.prepare(source, 2024, out)
    (out / "extra.txt").write_text("ancien", encoding="utf-8")
    prepare.prepare(source, 2024, out)
    assert not (out / "extra.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp dir left


def test_failed_prepare_keeps_the_previous_one(source, tmp_path):
    out = tmp_path / "out"
    prepare.prepare(source, 2024, out)
    with pytest.raises(MissingDataError):
        prepare.prepare(source, 2021, out)
    assert prepare.open_prepared(out).annee == 2024
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_prepare_refuses_to_overwrite_another_folder(source, tmp_path):
    out = tmp_path / "mes_documents"
    out.mkdir()
    (out / "important.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidDataError, match="n'est pas un dossier de données préparées"):
        prepare.prepare(source, 2024, out)
    assert (out / "important.txt").exists()


def test_open_prepared_errors(tmp_path, prepared):
    with pytest.raises(MissingDataError, match="manifest.json absent"):
        prepare.open_prepared(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text(json.dumps({"format": "autre"}), encoding="utf-8")
    with pytest.raises(InvalidDataError, match="Préparez à nouveau"):
        prepare.open_prepared(bad)


# --------------------------------------------------------------------------- cache

def test_ensure_prepared_reuses_the_cache(source, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = prepare.ensure_prepared(source, 2024, cache_dir=cache)
    monkeypatch.setattr(prepare, "prepare", lambda *a, **k: pytest.fail("préparé deux fois"))
    again = prepare.ensure_prepared(source, 2024, cache_dir=cache)
    assert again.path == first.path
    assert prepare.ensure_prepared(first.path, 2024).path == first.path  # prepared folder


def test_ensure_prepared_redoes_when_source_or_options_change(tmp_path):
    src = write_source(tmp_path / "raw")
    cache = tmp_path / "cache"
    first = prepare.ensure_prepared(src, 2024, cache_dir=cache)
    other = prepare.ensure_prepared(src, 2024, cache_dir=cache, skip_invalid=True)
    assert other.path != first.path
    write_source(src, exports=rows("E") + [row(pays="IT", valeur=1)])
    changed = prepare.ensure_prepared(src, 2024, cache_dir=cache)
    assert changed.path != first.path
    assert changed.manifest["rapport"]["lignes_lues"] == first.manifest["rapport"]["lignes_lues"] + 1


def test_ensure_prepared_year_mismatch(prepared):
    with pytest.raises(MissingDataError, match="pas de 2023"):
        prepare.ensure_prepared(prepared.path, 2023)


def _ensure_in_child(args):
    source, cache = args
    path = prepare.ensure_prepared(Path(source), 2024, cache_dir=Path(cache)).path
    return str(path), os.stat(path / "manifest.json").st_ino


def test_ensure_prepared_is_safe_with_two_processes(source, tmp_path):
    cache = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.map(_ensure_in_child, [(str(source), str(cache))] * 2)
    assert results[0] == results[1]  # same folder, same files: prepared only once
    prepared = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert len(prepared) == 1
    assert prepare.open_prepared(prepared[0]).annee == 2024


def test_group_sum_matches_the_plain_group_by(source):
    from tradebook import reading
    raw = reading.read_source(source)
    keys = ["departement", "flux", "cpf4", "a129", "pays"]
    fast = prepare.group_sum(raw.encoded, keys)
    plain = prepare._group_sum_plain(raw.encoded, keys)
    assert fast.to_pylist() == plain.to_pylist()
    assert fast.num_rows == len(expected_sums(2024))  # both years fall in the same groups
    total = sum(v for v, _ in expected_sums(2024).values()) + sum(
        v for v, _ in expected_sums(2023).values())
    assert sum(fast.column("valeur").to_pylist()) == total
    keys_in_order = [tuple(r[k] for k in keys) for r in fast.to_pylist()]
    assert keys_in_order == sorted(keys_in_order)


def test_prepared_folder_is_not_a_source(prepared, tmp_path):
    with pytest.raises(InvalidDataError, match="contient déjà des données préparées"):
        prepare.prepare(prepared.path, 2024, tmp_path / "out")
