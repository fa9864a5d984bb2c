"""The machine-readable fiche and the ``fiche`` command, on raw DGDDI-layout fixture files.

The fixture is written in the exact DGDDI layout (no header, ``;``, 10 fields,
4 quarters) and goes through the real data layer once per session; every
expected figure below is worked out by hand from FIXTURE.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from dgddi_fixtures import row, write_source
from tradebook import cli, fiche as fiche_module, figures, nomenclatures as nom
from tradebook.formatting import format_percent
from tradebook.indicators import compute_fiche

prepare = pytest.importorskip("tradebook.prepare")

YEAR = 2024
# (flux, DGDDI département, DGDDI region, A129, CPF4, country, annual value in euros)
FIXTURE = [
    # Orne (61), Normandie: exports 2 000 000, imports 750 000
    ("E", "61", "05", "C29A", "2910", "DE", 1_000_000),
    ("E", "61", "05", "C29A", "2910", "BE", 400_000),
    ("E", "61", "05", "C10A", "1011", "BE", 300_000),
    ("E", "61", "05", "C20A", "2014", "US", 200_000),
    ("E", "61", "05", "C21Z", "2110", "IT", 100_000),
    ("I", "61", "05", "C20A", "2014", "CN", 500_000),
    ("I", "61", "05", "C29A", "2910", "DE", 250_000),
    # Calvados (14), Normandie: exports 3 000 000, imports 1 250 000
    ("E", "14", "05", "C10A", "1011", "ES", 3_000_000),
    ("I", "14", "05", "C29A", "2910", "DE", 1_250_000),
    # Alpes-Maritimes (06) and Monaco (99), Provence-Alpes-Côte d'Azur
    ("E", "06", "21", "C21Z", "2110", "US", 4_000_000),
    ("I", "06", "21", "C10A", "1011", "IT", 1_000_000),
    ("E", "99", "21", "C21Z", "2110", "IT", 1_000_000),
    ("I", "99", "21", "C20A", "2014", "DE", 500_000),
    # Corse (20): exports only
    ("E", "20", "22", "C10A", "1011", "IT", 500_000),
    # Guadeloupe (9A), DGDDI region 24 "DOM", INSEE region 01
    ("E", "9A", "24", "C10A", "1011", "FR", 100_000),
    ("I", "9A", "24", "C29A", "2910", "FR", 400_000),
]
FRANCE_E = 10_600_000
FRANCE_I = 3_900_000


def quarter_values(total: int) -> list[int]:
    """Split an annual value over 4 quarters, unevenly but exactly."""
    q = total // 4
    return [total - 3 * q + 7, q - 7, q, q]


def write_raw(folder: Path) -> Path:
    """REGIONAL_CPF4PAYSE.txt / ...I.txt in the DGDDI layout, plus one row of another year."""
    lines = {"E": [], "I": []}
    for flux, dep, reg, a129, cpf4, pays, total in FIXTURE:
        for quarter, value in enumerate(quarter_values(total), start=1):
            lines[flux].append(row(flux, quarter, YEAR, dep, reg, a129, cpf4, pays,
                                   value, value // 10))
    lines["E"].append(row("E", 4, YEAR - 1, "61", "05", "C29A", "2910", "DE", 999999, 1))  # ignored
    return write_source(folder, exports=lines["E"], imports=lines["I"])


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory) -> Path:
    return write_raw(tmp_path_factory.mktemp("dgddi") / "brut")


@pytest.fixture(scope="session")
def prepared_dir(raw_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prepared") / str(YEAR)
    prepare.prepare(raw_dir, YEAR, out)
    return out


@pytest.fixture(scope="session")
def prepared(prepared_dir):
    return prepare.open_prepared(prepared_dir)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["fiche", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def fiche_json(capsys, prepared_dir: Path, *zone_args: str) -> dict:
    code, out, err = run_cli(capsys, *zone_args, "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--json")
    assert code == 0, err
    return json.loads(out)


# --------------------------------------------------------------------------- JSON


def test_json_of_a_departement_structure_types_and_values(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--departement", "61")
    assert list(data) == ["zone", "annee", "donnees_fictives", "annee_partielle", "niveau",
                          "exportations", "importations", "solde_eur", "partenaires",
                          "produits", "flux", "exposition", "evolution"]
    assert data["zone"] == {"type": "departement", "code": "61", "nom": "Orne",
                            "region_code": "28", "region_nom": "Normandie"}
    assert (data["annee"], data["donnees_fictives"], data["annee_partielle"], data["niveau"]) == (
        2024, False, False, "a129")
    assert data["exportations"] == {"total_eur": 2_000_000, "part_region": 0.4,
                                    "part_france": pytest.approx(2_000_000 / FRANCE_E)}
    assert data["importations"] == {"total_eur": 750_000, "part_region": 0.375,
                                    "part_france": pytest.approx(750_000 / FRANCE_I)}
    assert data["solde_eur"] == 1_250_000 and type(data["solde_eur"]) is int
    # Exports: DE 1.0M, BE 0.7M, US 0.2M, IT 0.1M; imports: CN 0.5M, DE 0.25M.
    assert data["partenaires"] == [
        {"pays": "DE", "libelle": "Allemagne", "libelle_dgddi": "Allemagne",
         "importations_eur": 250_000,
         "exportations_eur": 1_000_000, "solde_eur": 750_000},
        {"pays": "BE", "libelle": "Belgique", "libelle_dgddi": "Belgique",
         "importations_eur": 0,
         "exportations_eur": 700_000, "solde_eur": 700_000},
        {"pays": "CN", "libelle": "Chine", "libelle_dgddi": "Chine",
         "importations_eur": 500_000,
         "exportations_eur": 0, "solde_eur": -500_000},
        {"pays": "US", "libelle": "États-Unis", "libelle_dgddi": "Etats-Unis",
         "importations_eur": 0,
         "exportations_eur": 200_000, "solde_eur": 200_000},
        {"pays": "IT", "libelle": "Italie", "libelle_dgddi": "Italie",
         "importations_eur": 0,
         "exportations_eur": 100_000, "solde_eur": 100_000},
    ]
    exports = data["produits"]["exportations"]
    assert [(p["code"], p["valeur_eur"], p["part"]) for p in exports] == [
        ("C29A", 1_400_000, 0.7), ("C10A", 300_000, 0.15), ("C20A", 200_000, 0.1),
        ("C21Z", 100_000, 0.05)]
    assert all(isinstance(p["libelle"], str) and p["libelle"] != p["code"] for p in exports)
    assert [list(p) for p in exports[:1]] == [["code", "libelle", "valeur_eur", "part"]]
    liens = data["flux"]["exportations"]["liens"]
    assert liens == [
        {"produit": "C29A", "pays": "DE", "valeur_eur": 1_000_000, "rouge": True},
        {"produit": "C29A", "pays": "BE", "valeur_eur": 400_000, "rouge": True},
        {"produit": "C10A", "pays": "BE", "valeur_eur": 300_000, "rouge": True},
        {"produit": "C20A", "pays": "US", "valeur_eur": 200_000, "rouge": True},
        {"produit": "C21Z", "pays": "IT", "valeur_eur": 100_000, "rouge": True},
    ]
    imports = data["flux"]["importations"]["liens"]
    assert [list(link) for link in imports] == [["pays", "produit", "valeur_eur", "rouge"]] * 2
    assert [(link["pays"], link["produit"], link["valeur_eur"]) for link in imports] == [
        ("CN", "C20A", 500_000), ("DE", "C29A", 250_000)]


def test_json_types_are_plain(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--departement", "61")
    for flux in ("exportations", "importations"):
        assert type(data[flux]["total_eur"]) is int
        assert type(data[flux]["part_region"]) is float
        for link in data["flux"][flux]["liens"]:
            assert type(link["valeur_eur"]) is int and type(link["rouge"]) is bool
        for product in data["produits"][flux]:
            assert type(product["valeur_eur"]) is int and type(product["part"]) is float
    assert all(type(p["solde_eur"]) is int for p in data["partenaires"])


def test_links_and_products_sum_to_totals(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--france")
    for flux in ("exportations", "importations"):
        total = data[flux]["total_eur"]
        assert sum(link["valeur_eur"] for link in data["flux"][flux]["liens"]) == total
        assert sum(p["valeur_eur"] for p in data["produits"][flux]) == total
        assert sum(p["part"] for p in data["produits"][flux]) == pytest.approx(1.0)


def test_corsica_from_2a_is_code_20_with_no_imports(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--departement", "2A")
    assert data["zone"] == {"type": "departement", "code": "20", "nom": "Corse",
                            "region_code": "94", "region_nom": "Corse"}
    assert data["exportations"]["total_eur"] == 500_000
    assert data["exportations"]["part_region"] == 1.0
    assert data["importations"] == {"total_eur": 0, "part_region": None, "part_france": 0.0}
    assert data["solde_eur"] == 500_000
    assert data["produits"]["importations"] == []
    assert data["flux"]["importations"] == {"liens": []}
    assert data["partenaires"] == [{"pays": "IT", "libelle": "Italie", "libelle_dgddi": "Italie",
         "importations_eur": 0,
                                    "exportations_eur": 500_000, "solde_eur": 500_000}]


def test_overseas_departement_is_all_of_its_region(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--departement", "971")
    assert (data["zone"]["code"], data["zone"]["region_code"]) == ("971", "01")
    assert data["exportations"]["part_region"] == 1.0
    assert data["importations"]["part_region"] == 1.0


@pytest.mark.parametrize("code", ["05", "28"])
def test_region_by_dgddi_or_insee_code_is_normandie(capsys, prepared_dir, code):
    data = fiche_json(capsys, prepared_dir, "--region", code)
    assert data["zone"] == {"type": "region", "code": "28", "nom": "Normandie",
                            "region_code": "28", "region_nom": "Normandie"}
    assert data["exportations"] == {"total_eur": 5_000_000, "part_region": None,
                                    "part_france": pytest.approx(5_000_000 / FRANCE_E)}
    assert data["importations"]["total_eur"] == 2_000_000


def test_paca_includes_monaco(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--region", "93")
    assert data["exportations"]["total_eur"] == 4_000_000 + 1_000_000
    assert data["importations"]["total_eur"] == 1_000_000 + 500_000


def test_france_is_every_row_monaco_included(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--france")
    assert data["zone"] == {"type": "france", "code": "FR", "nom": "France",
                            "region_code": None, "region_nom": None}
    assert data["exportations"] == {"total_eur": FRANCE_E, "part_region": None, "part_france": None}
    assert data["importations"] == {"total_eur": FRANCE_I, "part_region": None, "part_france": None}
    assert data["solde_eur"] == FRANCE_E - FRANCE_I


def test_departements_plus_monaco_sum_to_france_and_regions(prepared):
    totals = prepared.totals()
    for flux in ("E", "I"):
        t = totals[totals["flux"] == flux]
        deps = t[t["niveau"] == "departement"]
        france = int(t.loc[t["niveau"] == "france", "valeur"].sum())
        assert int(deps["valeur"].sum()) == france == (FRANCE_E if flux == "E" else FRANCE_I)
        assert int(t.loc[t["niveau"] == "region", "valeur"].sum()) == france
    fiche = compute_fiche(prepared, nom.france_zone())
    assert int(fiche.flux["exportations"]["valeur"].sum()) == FRANCE_E
    assert int(fiche.flux["importations"]["valeur"].sum()) == FRANCE_I


def test_cpf4_level(capsys, prepared_dir):
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--json", "--niveau", "cpf4")
    assert code == 0, err
    data = json.loads(out)
    assert data["niveau"] == "cpf4"
    assert [p["code"] for p in data["produits"]["exportations"]] == ["2910", "1011", "2014", "2110"]
    assert data["produits"]["exportations"][0]["libelle"] == "Véhicules automobiles"


def test_json_keeps_accents(capsys, prepared_dir):
    code, out, _ = run_cli(capsys, "--region", "93", "--annee", str(YEAR), "--donnees",
                           str(prepared_dir), "--json")
    assert code == 0 and "Provence-Alpes-Côte d'Azur" in out and out.count("\n") == 1


def test_raw_folder_is_prepared_on_the_fly(capsys, raw_dir, prepared_dir, tmp_path, monkeypatch):
    real = prepare.ensure_prepared
    monkeypatch.setattr(prepare, "ensure_prepared",
                        lambda *a, **k: real(*a, cache_dir=tmp_path / "cache", **k))
    from_raw = fiche_json(capsys, raw_dir, "--departement", "61")
    assert from_raw == fiche_json(capsys, prepared_dir, "--departement", "61")


# --------------------------------------------------------------------------- errors


@pytest.fixture
def no_data_reading(monkeypatch):
    """Make any attempt to load data fail the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("les données ont été lues avant la vérification du code")
    monkeypatch.setattr(prepare, "ensure_prepared", forbidden)


@pytest.mark.parametrize("args, message", [
    (["--departement", "00"], "Département inconnu : « 00 »"),
    (["--departement", "99"], "n'ont pas de page propre"),
    (["--departement", "9F"], "Département inconnu : « 9F »"),
    (["--region", "77"], "Région inconnue : « 77 »"),
])
def test_unknown_code_fails_fast_in_french(capsys, tmp_path, no_data_reading, args, message):
    code, out, err = run_cli(capsys, *args, "--donnees", str(tmp_path / "absent.zip"), "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("Erreur : ") and message in err


def test_zone_without_data_exits_2(capsys, prepared_dir):
    code, out, err = run_cli(capsys, "--departement", "50", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--json")
    assert (code, out) == (2, "")
    assert "Aucune donnée de commerce extérieur pour le département 50 (Manche) en 2024" in err


def test_wrong_year_exits_2(capsys, prepared_dir):
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", "2023", "--donnees",
                             str(prepared_dir), "--json")
    assert (code, out) == (2, "") and "2023" in err


# --------------------------------------------------------------------------- text, CSV, images


def test_text_summary_in_french(capsys, prepared_dir):
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Commerce extérieur — Orne (61) — 2024"
    assert lines[1] == ("Exportations : 2,0\u00a0M€ (40,0\u00a0% de la région, "
                        "18,9\u00a0% de la France)")
    assert lines[2] == ("Importations : 750,0\u00a0k€ (37,5\u00a0% de la région, "
                        "19,2\u00a0% de la France)")
    assert lines[3] == "Solde : +1,3\u00a0M€"
    assert lines[4] == "Principaux partenaires : Allemagne, Belgique, Chine, États-Unis, Italie"
    assert lines[5].startswith("Premier produit exporté : ")
    assert lines[5].endswith("(1,4\u00a0M€, 70,0\u00a0%)")


def test_small_shares_get_two_significant_digits():
    assert format_percent(0.0025) == "0,25\u00a0%"
    assert format_percent(0.037) == "3,7\u00a0%"


def test_file_prefix_per_zone_type(prepared):
    assert fiche_module.file_prefix(compute_fiche(prepared, nom.france_zone())) == "france_2024"
    corse = nom.departement_zone(nom.resolve_departement("2B"))
    assert fiche_module.file_prefix(compute_fiche(prepared, corse)) == "departement_20_2024"


# the fixture has no previous year: the evolution figures are left out
KEYS = [f.key for f in figures.figures("departement") if not f.hide_when_empty]


def test_csv_tables_for_excel(capsys, prepared, prepared_dir, tmp_path):
    folder = tmp_path / "csv"
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--csv", str(folder))
    assert code == 0, err
    assert out == f"{len(KEYS)} tableaux CSV écrits dans {folder}\n"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"departement_61_2024_{k}.csv" for k in KEYS)
    path = folder / "departement_61_2024_partenaires.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    table = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["source", "pays", "libelle", "libelle_dgddi",
                                   "importations_eur", "exportations_eur", "solde_eur"]
    assert set(table["source"]) == {"Source : DGDDI, 2024"}
    assert table["libelle"].tolist()[3] == "États-Unis"
    assert table["libelle_dgddi"].tolist()[3] == "Etats-Unis"
    assert table["exportations_eur"].tolist() == ["1000000", "700000", "0", "200000", "100000"]
    assert table["solde_eur"].tolist() == ["750000", "700000", "-500000", "200000", "100000"]
    products = pd.read_csv(folder / "departement_61_2024_produits_exportations.csv", sep=";",
                           encoding="utf-8-sig", dtype=str)
    assert products["part"].tolist() == ["0,7", "0,15", "0,1", "0,05"]  # decimal comma
    links = pd.read_csv(folder / "departement_61_2024_flux_importations.csv", sep=";",
                        encoding="utf-8-sig", dtype=str)
    assert list(links.columns) == ["source", "pays", "pays_libelle", "pays_libelle_dgddi",
                                   "produit", "produit_libelle", "valeur_eur", "part", "rouge"]
    assert links[["pays", "produit", "valeur_eur", "rouge"]].values.tolist() == [
        ["CN", "C20A", "500000", "oui"], ["DE", "C29A", "250000", "oui"]]


def test_csv_international_flavour(capsys, prepared_dir, tmp_path):
    code, _, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                           str(prepared_dir), "--csv", str(tmp_path), "--csv-format",
                           "international")
    assert code == 0, err
    raw = (tmp_path / "departement_61_2024_produits_exportations.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    products = pd.read_csv(tmp_path / "departement_61_2024_produits_exportations.csv")
    assert products["part"].tolist() == [0.7, 0.15, 0.1, 0.05]
    assert products["valeur_eur"].tolist() == [1_400_000, 300_000, 200_000, 100_000]


def test_csv_marks_fictitious_data_and_neutralises_formulas():
    raw = pd.DataFrame({"libelle": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@A1", "\tx",
                                    "Allemagne"],
                        "valeur_eur": [-5, 1, 2, 3, 4, 5], "rouge": [True, False] * 3})
    frame = fiche_module.csv_frame(raw, "Données fictives : ne pas citer")
    assert frame["libelle"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@A1",
                                         "'\tx", "Allemagne"]
    assert frame["valeur_eur"].tolist() == [-5, 1, 2, 3, 4, 5]  # numbers stay numbers
    assert frame["rouge"].tolist() == ["oui", "non"] * 3
    assert set(frame["source"]) == {"Données fictives : ne pas citer"}


@pytest.mark.parametrize("flavour", ["excel-fr", "international"])
def test_csv_cell_starting_with_carriage_return_or_tab_is_neutralised(flavour):
    assert fiche_module.neutralised("\r=1+1") == "'\r=1+1"
    assert fiche_module.neutralised("\t@SUM(A1)") == "'\t@SUM(A1)"
    assert fiche_module.neutralised("Allemagne\t") == "Allemagne\t"  # only a leading one
    raw = pd.DataFrame({"libelle": ["\r=HYPERLINK(\"http://x\")", "\t=1+1"]})
    text = fiche_module.csv_text(fiche_module.csv_frame(raw, "DGDDI"),
                                 fiche_module.CSV_FLAVOURS[flavour])
    sep = fiche_module.CSV_FLAVOURS[flavour].separator
    read = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    assert read["libelle"].tolist() == ["'\r=HYPERLINK(\"http://x\")", "'\t=1+1"]


def test_csv_of_an_empty_flux_has_headers_only(capsys, prepared_dir, tmp_path):
    code, _, err = run_cli(capsys, "--departement", "2A", "--annee", str(YEAR), "--donnees",
                           str(prepared_dir), "--csv", str(tmp_path))
    assert code == 0, err
    text = (tmp_path / "departement_20_2024_flux_importations.csv").read_bytes().decode("utf-8-sig")
    assert text.count("\r\n") == 1 and text.endswith(";valeur_eur;part;rouge\r\n")


def test_output_folder_that_is_a_file_exits_2(capsys, prepared_dir, tmp_path):
    pytest.importorskip("tradebook.tables")
    target = tmp_path / "fichier.txt"
    target.write_text("x")
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--csv", str(target))
    assert (code, out) == (2, "")
    assert "n'est pas un dossier" in err and target.read_text() == "x"


def test_images_one_svg_and_png_per_chart(capsys, prepared_dir, tmp_path, monkeypatch):
    charts = pytest.importorskip("tradebook.charts")
    saved = []

    def record(chart, base):  # vl-convert itself is exercised by the chart tests
        saved.append((isinstance(chart, charts.alt.TopLevelMixin), base))
        svg, png = base.with_name(base.name + ".svg"), base.with_name(base.name + ".png")
        svg.write_text("<svg/>")
        png.write_bytes(b"\x89PNG")
        return svg, png

    monkeypatch.setattr(charts, "save_chart", record)
    folder = tmp_path / "img"
    code, out, err = run_cli(capsys, "--departement", "61", "--annee", str(YEAR), "--donnees",
                             str(prepared_dir), "--images", str(folder), "--json")
    assert code == 0, err
    assert json.loads(out)["zone"]["code"] == "61"  # stdout stays pure JSON
    assert err == f"{2 * len(KEYS)} images (SVG et PNG) écrites dans {folder}\n"
    assert sorted(saved) == sorted((True, folder / f"departement_61_2024_{key}")
                                   for key in KEYS)


def test_exposure_block_worked_by_hand(capsys, prepared_dir):
    data = fiche_json(capsys, prepared_dir, "--departement", "61")
    block = data["exposition"]
    assert list(block) == ["exportations", "importations", "etats_unis", "specialisation",
                           "dependances"]
    exports = block["exportations"]
    # exports 2 000 000: US 200 000; EU: DE 1 000 000, BE 700 000, IT 100 000 -> outside 0.1
    assert exports["part_etats_unis"] == pytest.approx(0.1)
    assert exports["part_hors_ue"] == pytest.approx(0.1)
    # countries 0.5 / 0.35 / 0.1 / 0.05; products 0.7 / 0.15 / 0.1 / 0.05
    assert exports["hhi_pays"] == pytest.approx(0.25 + 0.1225 + 0.01 + 0.0025)
    assert exports["hhi_produits"] == pytest.approx(0.49 + 0.0225 + 0.01 + 0.0025)
    # ranked among areas with exports, Monaco excepted: 06 (1.0), 61 (0.1), 14, 20, 9A (0)
    assert (exports["rang_part_etats_unis"], exports["nb_departements"]) == (2, 5)
    # imports: no US anywhere; areas with imports 06, 14, 61, 9A (Corsica has none)
    imports = block["importations"]
    assert (imports["rang_part_etats_unis"], imports["nb_departements"]) == (3, 4)
    assert imports["part_hors_ue"] == pytest.approx(500_000 / 750_000)
    assert block["etats_unis"] == [{"code": "C20A", "libelle": block["etats_unis"][0]["libelle"],
                                    "valeur_eur": 200_000, "part_du_produit": 1.0,
                                    "part_des_exportations_us": 1.0}]
    assert sum(p["valeur_eur"] for p in block["specialisation"]) == 2_000_000
    # CN 500 000 of C20A/2014 (all outside the EU, one origin, no exports of it)
    assert [(d["code"], d["valeur_eur"], d["premier_pays"], d["hhi"]) for d in
            block["dependances"]] == [("2014", 500_000, "CN", 1.0)]


def test_exposure_of_a_region_or_france_has_no_rank(capsys, prepared_dir):
    for args in (["--region", "28"], ["--france"]):
        block = fiche_json(capsys, prepared_dir, *args)["exposition"]
        for flux in ("exportations", "importations"):
            assert block[flux]["rang_part_etats_unis"] is None
            assert block[flux]["nb_departements"] is None
    france = fiche_json(capsys, prepared_dir, "--france")["exposition"]
    assert france["exportations"]["part_etats_unis"] == pytest.approx(
        (200_000 + 4_000_000) / FRANCE_E)
    indices = {p["code"]: p["indice"] for p in france["specialisation"]}
    assert set(indices.values()) == {1.0}  # France against itself


def test_region_and_france_tables_add_up(prepared):
    france = compute_fiche(prepared, nom.france_zone())
    areas = france.departements
    assert len(areas) == 101 and "99" in set(areas["dgddi"])  # Monaco counts, without a page
    for flux in ("exportations", "importations"):
        assert areas[flux].sum() == getattr(france.totaux, flux)
    for code in ("28", "93", "94", "01"):
        region = compute_fiche(prepared, nom.region_zone(nom.resolve_region(code)))
        for flux in ("exportations", "importations"):
            assert region.departements[flux].sum() == getattr(region.totaux, flux), (code, flux)
    paca = compute_fiche(prepared, nom.region_zone(nom.resolve_region("93")))
    assert "99" in set(paca.departements["dgddi"])


METROPOLITAN_REGIONS = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93",
                        "94"]
OVERSEAS_REGIONS = ["01", "02", "03", "04", "06"]  # Guadeloupe ... Mayotte (INSEE)
MONACO = "99"


def test_all_regions_add_up_to_france_and_each_region_to_its_departements():
    """On the sample, to the euro, for both flux: what the region and France pages
    show (their totals and their tables of départements) adds up. The départements'
    sums are read from the prepared rows, not from the prepared totals. Monaco is
    counted in Provence-Alpes-Côte d'Azur (methodology): the 18 regions make France,
    and so do the 100 areas with a page plus Monaco."""
    from tradebook.exposure import areas_overview
    from tradebook.indicators import zone_totals
    from tradebook.paths import SAMPLE_ZIP

    sample = prepare.ensure_prepared(SAMPLE_ZIP, YEAR)
    rows = pd.read_parquet(Path(sample.path) / "flux.parquet",
                           columns=["flux", "departement", "valeur"])
    area_sums = rows.groupby(["flux", "departement"])["valeur"].sum()
    totals, countries = sample.totals(), sample.country_totals()
    assert sorted(r.code for r in nom.regions()) == sorted(METROPOLITAN_REGIONS + OVERSEAS_REGIONS)
    france = zone_totals(totals, nom.france_zone())
    for flux, code in (("exportations", "E"), ("importations", "I")):
        def area(dgddi: str) -> int:
            return int(area_sums.get((code, dgddi), 0))

        region_totals = {}
        for region in METROPOLITAN_REGIONS + OVERSEAS_REGIONS:
            zone = nom.region_zone(nom.resolve_region(region))
            members = [d.code_dgddi for d in nom.departements_of(region)]
            shown = getattr(zone_totals(totals, zone), flux)
            assert shown == sum(area(d) for d in members), (region, flux)
            table = areas_overview(members, totals, countries)  # the region page's table
            assert int(table[flux].sum()) == shown, (region, flux)
            assert (MONACO in members) == (region == "93")
            region_totals[region] = shown
        assert sum(region_totals.values()) == getattr(france, flux)
        with_a_page = [d.code_dgddi for d in nom.page_departements()]
        assert len(with_a_page) == 100 and MONACO not in with_a_page
        assert sum(area(d) for d in with_a_page) + area(MONACO) == getattr(france, flux)
        assert int(rows.loc[rows["flux"] == code, "valeur"].sum()) == getattr(france, flux)
    assert area_sums.get(("E", MONACO), 0) > 0  # Monaco does trade in the sample


def test_the_us_ranking_of_the_national_page_is_every_fiche_s(capsys, prepared, prepared_dir):
    from tradebook.exposure import us_ranking

    ranking = us_ranking(compute_fiche(prepared, nom.france_zone()).departements)
    ranks = {row.code: row.rang_part for row in ranking.itertuples()}
    for dep in nom.page_departements():
        code, out, _ = run_cli(capsys, "--departement", dep.code, "--annee", str(YEAR),
                               "--donnees", str(prepared_dir), "--json")
        if code != 0:  # no trade in the fixture
            assert pd.isna(ranks.get(dep.code))
            continue
        rank = json.loads(out)["exposition"]["exportations"]["rang_part_etats_unis"]
        assert (rank is None and pd.isna(ranks[dep.code])) or rank == ranks[dep.code], dep.code
