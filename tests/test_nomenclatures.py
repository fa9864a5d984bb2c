"""The project's nomenclature tables agree with DGDDI's official files; the code resolver."""

from __future__ import annotations

import pytest

from tradebook import nomenclatures as nom
from tradebook.errors import UnknownCodeError
from tradebook.reading import read_label_file

LABEL_FILES = [("a129.csv", "Libelle_A129.txt"), ("cpf4.csv", "Libelle_CPF4_rev2.1.txt"),
               ("pays.csv", "Libelle_PAYS.txt")]


def test_departements_match_the_official_file(reference_dir):
    official = read_label_file(reference_dir / "Departement_region.txt", columns=4)
    project = {r["code_dgddi"]: r for r in nom.read_table("departements.csv")}
    assert len(official) == 101 == len(project)
    for code, label, region, region_label in official:
        row = project[code]
        assert (row["libelle_dgddi"], row["region_dgddi"], row["libelle_region_dgddi"]) == (
            label, region, region_label), code


@pytest.mark.parametrize("table, official_name", LABEL_FILES)
def test_label_tables_match_the_official_files(reference_dir, table, official_name):
    official = read_label_file(reference_dir / official_name, columns=4)
    project = [(r["code"], r["libelle"], r["debut"], r["fin"]) for r in nom.read_table(table)]
    assert sorted(project) == sorted(official)


def test_official_quirks_are_really_there(reference_dir):
    """The official files still have the quirks the reader is written for."""
    assert (reference_dir / "Libelle_A129.txt").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        (reference_dir / "Libelle_CPF4_rev2.1.txt").read_bytes().decode("utf-8")
    a129 = dict((c, label) for c, label, *_ in
                read_label_file(reference_dir / "Libelle_A129.txt"))
    assert ";" in a129["C26E"]
    pays = read_label_file(reference_dir / "Libelle_PAYS.txt")
    assert len(pays) == 289
    assert len(nom.select_valid_labels(pays, 2024)) < len({c for c, *_ in pays})


def test_project_tables_are_consistent():
    deps = nom.departements()
    assert len(deps) == 101
    regions = {r.code for r in nom.regions()}
    assert {d.region for d in deps} == regions and len(regions) == 18
    assert nom.departement_by_dgddi()["99"].region == "93"
    assert [d.region for d in deps if d.code_dgddi.startswith("9") and d.code_dgddi[1].isalpha()] \
        == ["01", "02", "03", "04", "06"]
    assert len(nom.page_departements()) == 100
    assert nom.cpf4_to_a129()["0111"] == "A01Z"


@pytest.mark.parametrize("typed, dgddi, code", [
    ("61", "61", "61"), ("2A", "20", "20"), ("2b", "20", "20"), ("20", "20", "20"),
    ("971", "9A", "971"), ("9A", "9A", "971"), (" 9a ", "9A", "971"), ("1", "01", "01"),
    (1, "01", "01"), ("976", "9E", "976"),
])
def test_resolve_departement(typed, dgddi, code):
    dep = nom.resolve_departement(typed)
    assert dep.code_dgddi == dgddi and dep.code == code


def test_unknown_departement_suggests_close_codes():
    with pytest.raises(UnknownCodeError) as err:
        nom.resolve_departement("610")
    message = str(err.value)
    assert message.startswith("Département inconnu : « 610 »")
    assert message.split("Vouliez-vous dire : ")[1].startswith("61 (Orne)")
    with pytest.raises(UnknownCodeError, match="Vouliez-vous dire : 9E"):
        nom.resolve_departement("9F")


def test_monaco_has_no_page():
    with pytest.raises(UnknownCodeError, match="Monaco.*Provence-Alpes-Côte d'Azur"):
        nom.resolve_departement("99")


def test_resolve_region():
    assert nom.resolve_region("28").nom == "Normandie"
    assert nom.resolve_region("05").code == "28"  # DGDDI code of Normandie
    assert nom.resolve_region("18").code == "84"
    # "24" is the INSEE code of Centre-Val de Loire, so it never means DGDDI's DOM group.
    assert nom.resolve_region("24").nom == "Centre-Val de Loire"
    with pytest.raises(UnknownCodeError, match="Région inconnue"):
        nom.resolve_region("55")


def test_zones():
    dep = nom.resolve_departement("2B")
    zone = nom.departement_zone(dep)
    assert (zone.type, zone.code, zone.dgddi, zone.region_code) == ("departement", "20", "20", "94")
    paca = nom.departements_of("93")
    assert "99" in {d.code_dgddi for d in paca}
    assert nom.france_zone().code == "FR"


def test_labels_valid_in_year():
    assert "AN" in nom.labels_valid_in("pays", 2012)
    assert "AN" not in nom.labels_valid_in("pays", 2024)
    chosen = nom.select_valid_labels([("X", "ancien", "200001", "202312"),
                                      ("X", "nouveau", "202401", "999912")], 2024)
    assert chosen == {"X": "nouveau"}


def test_region_code_read_as_insee_gets_a_note_naming_the_dgddi_reading():
    note = nom.region_code_note("01")
    assert "Guadeloupe" in note and "Hauts-de-France (INSEE 32)" in note
    assert "Mayotte (INSEE 06)" in nom.region_code_note("24")
    assert nom.region_code_note("28") is None  # INSEE only
    assert nom.region_code_note("05") is None  # DGDDI only


def test_unknown_departement_suggests_codes_with_the_same_first_character():
    with pytest.raises(UnknownCodeError, match=r"Vouliez-vous dire : 2B \(Corse\), 2A"):
        nom.resolve_departement("2C")


@pytest.mark.parametrize("code, expected", [
    ("61", "de l'Orne"), ("14", "du Calvados"), ("40", "des Landes"), ("75", "de Paris"),
    ("2A", "de la Corse"), ("21", "de la Côte-d'Or"), ("976", "de Mayotte"),
    ("974", "de La Réunion"), ("66", "des Pyrénées-Orientales"),
])
def test_names_take_their_article_after_de(code, expected):
    assert nom.resolve_departement(code).de_nom == expected


def test_every_page_departement_has_an_article_or_none_on_purpose():
    without = {d.code for d in nom.page_departements() if not d.article}
    assert without == {"75", "974", "976"}


@pytest.mark.parametrize("typed, dgddi", [
    ("orne", "61"), ("Calvados", "14"), ("seine-saint-denis", "93"), ("SEINE SAINT DENIS", "93"),
    ("cote d'or", "21"), ("Côte-d’Or", "21"), ("haute-corse", "20"), ("Corse-du-Sud", "20"),
    ("la réunion", "9D"), ("Reunion", "9D"), ("pyrenees orientales", "66"),
])
def test_departements_can_be_typed_by_name(typed, dgddi):
    assert nom.resolve_departement(typed).code_dgddi == dgddi


@pytest.mark.parametrize("typed, code", [("normandie", "28"), ("Hauts de France", "32"),
                                         ("ILE-DE-FRANCE", "11"), ("provence alpes cote d'azur",
                                                                   "93")])
def test_regions_can_be_typed_by_name(typed, code):
    assert nom.resolve_region(typed).code == code


def suggestions(typed: str) -> str:
    with pytest.raises(UnknownCodeError) as err:
        nom.resolve_departement(typed)
    message = str(err.value)
    return message.split("Vouliez-vous dire : ")[1] if "Vouliez-vous" in message else ""


def test_typos_get_the_nearest_codes_and_names():
    assert suggestions("6l").startswith("61 (Orne)")  # a letter l typed for the digit 1
    assert suggestions("ornne").startswith("Orne (61)")
    assert suggestions("calvdos").startswith("Calvados (14)")
    assert "9E" not in suggestions("ornne") and "9E" not in suggestions("orme")


def test_the_overseas_codes_are_listed_without_a_975():
    with pytest.raises(UnknownCodeError) as err:
        nom.resolve_departement("xx")
    assert "971, 972, 973, 974 ou 976" in str(err.value) and "971 à 976" not in str(err.value)


def test_an_empty_code_is_refused_in_french():
    with pytest.raises(UnknownCodeError, match="Département vide"):
        nom.resolve_departement("")
    with pytest.raises(UnknownCodeError, match="Région vide"):
        nom.resolve_region(" ")


def test_zone_is_resolved_once_with_its_single_area_flag():
    assert nom.resolve_zone(departement="2A").single_area
    assert nom.resolve_zone(departement="976").single_area
    assert not nom.resolve_zone(departement="61").single_area
    assert nom.resolve_zone(region="94").single_area and not nom.resolve_zone(region="28").single_area
    assert nom.resolve_zone(france=True).de_nom == "de la France"
    assert nom.resolve_zone(region="normandie").de_nom == "de la Normandie"
    with pytest.raises(UnknownCodeError, match="une seule zone"):
        nom.resolve_zone(departement="61", region="28")


@pytest.mark.parametrize("code, dgddi_label, expected", [
    ("US", "Etats-Unis", "États-Unis"), ("AE", "Emirats arabes unis", "Émirats arabes unis"),
    ("CZ", "Tchèque (République)", "Tchéquie"), ("KR", "Corée (République de)", "Corée du Sud"),
    ("HK", "Hong-Kong", "Hong Kong"), ("XC", "Ceuta", "Ceuta"), ("QU", "Pays et territoires "
                                                                 "non déterminés",
                                                                 "Pays et territoires non "
                                                                 "déterminés"),
])
def test_country_display_names(code, dgddi_label, expected):
    assert nom.country_name(code, dgddi_label) == expected
