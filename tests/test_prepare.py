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

from dgddi_fixtures import (AREAS, COUNTRIES, EXPORTS, PRODUCTS, QUARTERS, row, rows,
                            value_of, write_source, write_zip)
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
                     "pays.parquet", "libelles.parquet"}  # no annee_precedente: 2023 lacks T1-T3
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


# --------------------------------------------------------------------------- v2: sums

INT64_MAX = 2 ** 63 - 1
BIG = 999_999_999_999_999_999  # the largest value a line may carry (18 digits)
BIG_COUNTRIES = ["IT", "ES", "NL", "GB", "CH", "CN", "JP", "PL", "PT"]


def _big_rows(remainder: int) -> list[str]:
    """Nine rows of BIG plus one of ``remainder`` for Orne, T1 2024, distinct keys."""
    lines = [row(pays=p, valeur=BIG) for p in BIG_COUNTRIES]
    return lines + [row(pays="AT", valeur=remainder)]


def _fixture_total_2024() -> int:
    return sum(v for v, _ in expected_sums(2024).values())


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "slow"])
def test_sums_up_to_int64_max_are_exact(tmp_path, blank_line):
    remainder = INT64_MAX - _fixture_total_2024() - 9 * BIG
    assert 0 < remainder <= BIG
    exports = rows("E") + _big_rows(remainder) + ([""] if blank_line else [])
    prepared = prepare.prepare(write_source(tmp_path / "raw", exports=exports), 2024,
                               tmp_path / "out")
    totals = prepared.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    france = int(totals[("france", "FR", "E")]) + int(totals[("france", "FR", "I")])
    assert france == INT64_MAX
    assert int(totals[("departement", "61", "E")]) == _total({"61"}, "E") + 9 * BIG + remainder


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "slow"])
def test_sums_beyond_int64_are_refused(tmp_path, blank_line):
    remainder = INT64_MAX - _fixture_total_2024() - 9 * BIG + 1
    exports = rows("E") + _big_rows(remainder) + ([""] if blank_line else [])
    src = write_source(tmp_path / "raw", exports=exports)
    with pytest.raises(InvalidDataError) as err:
        prepare.prepare(src, 2024, tmp_path / "out")
    message = str(err.value)
    assert message.startswith("Année 2024 : la somme des valeurs (9\u202f223\u202f372\u202f036"
                              "\u202f854\u202f775\u202f808 €")
    assert f"est en REGIONAL_CPF4PAYSE.txt, ligne {len(rows('E')) + 1}" in message
    assert not (tmp_path / "out").exists()


def test_ten_huge_rows_no_longer_wrap_round(tmp_path):
    """The issue's case: ten rows of 999 999 999 999 999 999 € gave Orne −8 446 744 M€."""
    exports = rows("E") + [row(pays=p, valeur=BIG) for p in BIG_COUNTRIES + ["AT"]]
    with pytest.raises(InvalidDataError, match="la somme des valeurs"):
        prepare.prepare(write_source(tmp_path / "raw", exports=exports), 2024, tmp_path / "o")


def test_mass_sums_are_checked_too(tmp_path):
    exports = rows("E") + [row(pays=p, masse=BIG) for p in BIG_COUNTRIES + ["AT"]]
    with pytest.raises(InvalidDataError, match="la somme des masses"):
        prepare.prepare(write_source(tmp_path / "raw", exports=exports), 2024, tmp_path / "o")


# --------------------------------------------------------------------------- v2: partial year

def test_partial_year_uses_the_quarters_common_to_both_flux(tmp_path):
    from dgddi_fixtures import total
    src = write_source(tmp_path / "raw", exports=rows("E", QUARTERS[:-1]))  # exports lack T4
    prepared = prepare.prepare(src, 2024, tmp_path / "out", allow_partial_year=True)
    assert prepared.trimestres == [1, 2, 3]
    totals = prepared.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    three = [(2024, 1), (2024, 2), (2024, 3)]
    assert totals[("france", "FR", "E")] == total("E", three)
    assert totals[("france", "FR", "I")] == total("I", three)  # T4 imports left out
    assert prepared.manifest["trimestres_ecartes"] == {
        "I": {"trimestres": [4], "lignes": len(rows("I", [(2024, 4)])),
              "euros": total("I", [(2024, 4)])}}
    assert "Trimestres écartés des importations (absents de l'autre flux) : T4" in \
        prepare.summary(prepared)


def test_partial_year_without_a_common_quarter_is_refused(tmp_path):
    src = write_source(tmp_path / "raw", exports=rows("E", QUARTERS[1:3]),
                       imports=rows("I", QUARTERS[3:]))
    with pytest.raises(MissingDataError, match="aucun trimestre commun aux deux flux"):
        prepare.prepare(src, 2024, tmp_path / "out", allow_partial_year=True)


# --------------------------------------------------------------------------- v2: flux absent

def test_declared_missing_flux_is_recorded(tmp_path, capsys):
    from dgddi_fixtures import write_lines
    path = write_lines(tmp_path / "REGIONAL_CPF4PAYSE.txt", rows("E"))
    with pytest.raises(MissingDataError, match="--flux-absent importations"):
        prepare.prepare(path, 2024, tmp_path / "out")
    prepared = prepare.prepare(path, 2024, tmp_path / "out", missing_flux="I")
    assert prepared.flux_absents == ("I",)
    assert prepared.manifest["flux_absents"] == ["I"]
    assert "importations absentes des sources" in capsys.readouterr().err
    assert "Flux absent : importations" in prepare.summary(prepared)


# --------------------------------------------------------------------------- v2: duplicates

def test_repeated_quarter_is_an_error_then_dropped_and_reported(tmp_path):
    t4 = [line for line in rows("E") if line.startswith("E;4;2024;")]
    src = write_source(tmp_path / "raw", exports=rows("E") + t4)
    with pytest.raises(InvalidDataError, match="clé répétée"):
        prepare.prepare(src, 2024, tmp_path / "out")
    prepared = prepare.prepare(src, 2024, tmp_path / "out", skip_invalid=True)
    totals = prepared.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    assert totals[("france", "FR", "E")] == _total(None, "E")  # not + T4 again
    report = prepared.manifest["rapport"]
    assert report["lignes_repetees"] == len(t4) and report["lignes_rejetees"] == len(t4)
    assert report["euros_rejetes"] == sum(int(line.split(";")[8]) for line in t4)
    with open(prepared.path / "rejets.csv", encoding="utf-8", newline="") as fh:
        rejects = list(csv.reader(fh))[1:]
    assert len(rejects) == len(t4)
    assert rejects[0][:2] == ["REGIONAL_CPF4PAYSE.txt", str(len(rows("E")) + 1)]
    assert "déjà vue en REGIONAL_CPF4PAYSE.txt, ligne" in rejects[0][2]


# --------------------------------------------------------------------------- v2: anomalies

def test_unknown_codes_and_foreign_parents_are_reported(tmp_path, capsys):
    exports = rows("E") + [
        row(cpf4="9999", pays="IT", valeur=700),  # unknown CPF4 (line n+1)
        row(cpf4="9999", pays="ES", valeur=300),  # (n+2)
        row(pays="ZZ", valeur=50),  # unknown country (n+3)
        row(pays="AN", valeur=40),  # Antilles néerlandaises: label ended in 2012 (n+4)
        row(a129="C10A", cpf4="0111", pays="NL", valeur=20),  # 0111 belongs to A01Z (n+5)
        row(a129="Z99Z", cpf4="2910", pays="GB", valeur=10),  # unknown A129, not 2910's (n+6)
    ]
    n = len(rows("E"))
    folder = write_source(tmp_path / "raw", exports=exports)
    prepared = prepare.prepare(write_zip(tmp_path / "dgddi.zip", folder), 2024, tmp_path / "out")
    found = {(a.kind, a.code, a.a129): a for a in prepared.anomalies}
    assert set(found) == {("cpf4_inconnu", "9999", ""), ("pays_inconnu", "ZZ", ""),
                          ("pays_inconnu", "AN", ""), ("a129_inconnu", "Z99Z", ""),
                          ("a129_non_parent", "0111", "C10A"),
                          ("a129_non_parent", "2910", "Z99Z")}
    cpf = found[("cpf4_inconnu", "9999", "")]
    zip_file = f"dgddi.zip/{EXPORTS}"
    assert (cpf.rows, cpf.euros) == (2, 1000)
    assert cpf.first_lines == ((zip_file, n + 1), (zip_file, n + 2))
    parent = found[("a129_non_parent", "0111", "C10A")]
    assert (parent.rows, parent.euros, parent.expected_a129) == (1, 20, "A01Z")
    assert parent.first_lines == ((zip_file, n + 5),)
    assert [a.kind for a in prepared.anomalies][0] == "cpf4_inconnu"  # largest euros first
    err = capsys.readouterr().err
    assert "6 code(s) à vérifier dans les données de 2024" in err
    assert (f"code CPF4 «\u00a09999\u00a0» sans libellé valable pour l'année\u00a0: 2 ligne(s), "
            f"1,0\u00a0k€ ({zip_file}, ligne {n + 1}\u00a0; {zip_file}, ligne {n + 2})") in err
    assert "rangé sous l'A129 «\u00a0C10A\u00a0» au lieu de «\u00a0A01Z\u00a0»" in err
    entry = next(a for a in prepared.manifest["anomalies"] if a["type"] == "a129_non_parent"
                 and a["code"] == "0111")
    assert entry == {"type": "a129_non_parent", "code": "0111", "lignes": 1, "euros": 20,
                     "premieres_lignes": [{"fichier": zip_file, "ligne": n + 5}],
                     "a129": "C10A", "a129_attendu": "A01Z"}
    assert "Codes à vérifier : 6" in prepare.summary(prepared)


def test_clean_data_has_no_anomaly(prepared):
    assert prepared.anomalies == [] and prepared.manifest["anomalies"] == []


# --------------------------------------------------------------------------- v2: locks, format

def test_no_lock_file_is_left_behind(source, tmp_path):
    cache = tmp_path / "cache"
    prepared = prepare.ensure_prepared(source, 2024, cache_dir=cache)
    assert [p.name for p in cache.iterdir()] == [prepared.path.name]


def test_old_format_is_refused_with_the_fix(prepared, tmp_path):
    old = tmp_path / "ancien"
    old.mkdir()
    manifest = dict(prepared.manifest, format="tradebook-prepare/1")
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InvalidDataError) as err:
        prepare.open_prepared(old)
    assert "ancien ou inconnu" in str(err.value) and "Préparez à nouveau" in str(err.value)


# --------------------------------------------------------------------------- v2: several sources

@pytest.fixture(scope="module")
def publications(tmp_path_factory):
    """The 2023 publication and the 2024 one (T4 2023 revised: +1000 € a row)."""
    from dgddi_fixtures import quarters_of_year, write_publication
    folder = tmp_path_factory.mktemp("pubs")
    older = write_publication(folder / "pub2023.zip", quarters_of_year(2023))
    newer = write_publication(folder / "pub2024.zip", QUARTERS, offset=1000)
    return older, newer


@pytest.fixture(scope="module")
def two_years(publications, tmp_path_factory) -> prepare.PreparedData:
    return prepare.prepare(list(publications), 2024, tmp_path_factory.mktemp("two") / "2024")


def test_previous_year_is_prepared_beside_the_year(two_years):
    from dgddi_fixtures import quarters_of_year, total
    previous = two_years.previous
    assert previous is not None and two_years.previous_reason is None
    assert previous.annee == 2023 and previous.trimestres == [1, 2, 3, 4]
    assert previous.path == two_years.path / "annee_precedente"
    assert previous.previous is None and previous.previous_reason
    q123 = quarters_of_year(2023)[:3]
    expected = total("E", q123) + total("E", [(2023, 4)], offset=1000)  # revised T4 wins
    totals = previous.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    assert totals[("france", "FR", "E")] == expected
    orne = previous.rows(nom.departement_zone(nom.resolve_departement("61")))
    assert orne.loc[orne.flux == "E", "valeur"].sum() == (
        total("E", q123, deps={"61"}) + total("E", [(2023, 4)], offset=1000, deps={"61"}))
    this_year = two_years.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    assert this_year[("france", "FR", "I")] == total("I", QUARTERS[1:], offset=1000)
    assert previous.labels("a129")["C10A"] == "Viandes; conserves (ZIP)"
    assert "Année précédente 2023 préparée" in prepare.summary(two_years)


def test_manifest_says_which_source_gave_each_quarter(two_years, publications):
    older, newer = publications
    sources = two_years.quarter_sources
    assert sources[(2023, 1)] == str(older) and sources[(2023, 4)] == str(newer)
    assert sources[(2024, 4)] == str(newer)
    assert two_years.manifest["donnees"] == [str(older), str(newer)]
    text = prepare.summary(two_years)
    assert ("Trimestres et sources : T1 2023, T2 2023, T3 2023 : pub2023.zip ; "
            "T4 2023, T1 2024, T2 2024, T3 2024, T4 2024 : pub2024.zip") in text
    assert "T4 2023 de pub2023.zip remplacé par celui de pub2024.zip" in text


def test_source_order_decides_the_revised_quarter(publications, tmp_path):
    from dgddi_fixtures import quarters_of_year, total
    older, newer = publications
    prepared = prepare.prepare([newer, older], 2024, tmp_path / "out")
    totals = prepared.previous.totals().set_index(["niveau", "zone", "flux"])["valeur"]
    assert totals[("france", "FR", "E")] == total("E", quarters_of_year(2023))


def test_country_table_adds_up_to_the_totals(two_years):
    for data in (two_years, two_years.previous):
        countries = data.country_totals()
        assert list(countries.columns) == ["niveau", "zone", "flux", "pays", "valeur"]
        sums = countries.groupby(["niveau", "zone", "flux"])["valeur"].sum()
        totals = data.totals().set_index(["niveau", "zone", "flux"])["valeur"]
        assert sums.reindex(totals.index, fill_value=0).astype("int64").equals(totals)
        assert set(countries["pays"]) == set(COUNTRIES)
    us = two_years.country_totals().set_index(["niveau", "zone", "flux", "pays"])["valeur"]
    assert us[("departement", "99", "E", "US")] > 0  # Monaco: its own zone, in PACA and France


def test_previous_year_missing_a_quarter_gives_the_reason(publications, tmp_path):
    from dgddi_fixtures import write_publication
    older = write_publication(tmp_path / "pub2023.zip", [(2023, 1), (2023, 3)])
    prepared = prepare.prepare([older, publications[1]], 2024, tmp_path / "out")
    assert prepared.previous is None
    assert prepared.previous_reason == (
        "Pas de comparaison avec 2023\u00a0: trimestres absents des données (T2 2023). Pour "
        "comparer, donnez aussi la publication précédente de la DGDDI, avant la plus récente "
        "(--donnees ANCIENNE.zip RECENTE.zip).")
    assert not (prepared.path / "annee_precedente").exists()
    assert prepared.previous_reason in prepare.summary(prepared)


def test_previous_year_missing_a_quarter_of_one_flux(tmp_path):
    from dgddi_fixtures import quarters_of_year
    src = write_source(tmp_path / "raw", exports=rows("E", quarters_of_year(2023) + QUARTERS[1:]),
                       imports=rows("I", quarters_of_year(2023)[1:] + QUARTERS[1:]))
    prepared = prepare.prepare(src, 2024, tmp_path / "out")
    assert prepared.previous is None
    assert "(importations\u00a0: T1 2023)" in prepared.previous_reason


def test_no_comparison_across_the_2022_break(tmp_path):
    from dgddi_fixtures import quarters_of_year
    years = quarters_of_year(2021) + quarters_of_year(2022) + quarters_of_year(2023)
    src = write_source(tmp_path / "raw", exports=rows("E", years), imports=rows("I", years))
    prepared = prepare.prepare(src, 2022, tmp_path / "2022")
    assert prepared.previous is None
    assert prepared.previous_reason.startswith("Pas de comparaison avec 2021\u00a0: depuis "
                                               "2022, l'enquête EMEBI a remplacé la DEB")
    assert prepare.prepare(src, 2023, tmp_path / "2023").previous.annee == 2022


def test_partial_year_has_no_previous_year(tmp_path):
    from dgddi_fixtures import quarters_of_year
    quarters = quarters_of_year(2023) + QUARTERS[1:3]
    src = write_source(tmp_path / "raw", exports=rows("E", quarters), imports=rows("I", quarters))
    prepared = prepare.prepare(src, 2024, tmp_path / "out", allow_partial_year=True)
    assert prepared.previous is None and "partielle" in prepared.previous_reason


def test_ensure_prepared_takes_the_ordered_sources(publications, tmp_path):
    older, newer = publications
    cache = tmp_path / "cache"
    forward = prepare.ensure_prepared([older, newer], 2024, cache_dir=cache)
    backward = prepare.ensure_prepared([newer, older], 2024, cache_dir=cache)
    assert forward.path != backward.path
    assert prepare.ensure_prepared((older, newer), 2024, cache_dir=cache).path == forward.path
    assert forward.previous.annee == 2023
    with pytest.raises(InvalidDataError, match="contient déjà des données préparées"):
        prepare.ensure_prepared([forward.path, newer], 2024, cache_dir=cache)
    assert not [p for p in cache.iterdir() if p.name.endswith(".lock")]
