"""Exposure and dependence indicators: hand-worked values for every definition.

Fixtures are tiny tables whose results are computed on paper in the comments.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tradebook import exposure as ex
from tradebook.texts import Rules

RULES = Rules()
A129 = {"C29A": "Automobiles", "C10A": "Viande", "C21Z": "Pharmacie", "C20A": "Chimie"}
CPF4 = {"2910": "Voitures", "1011": "Viande de boucherie", "2110": "Principes actifs",
        "2014": "Chimie organique", "2920": "Carrosseries"}


def rows(*records: tuple) -> pd.DataFrame:
    """(flux, a129, cpf4, pays, valeur) records as prepared rows."""
    frame = pd.DataFrame(records, columns=["flux", "a129", "cpf4", "pays", "valeur"])
    frame["masse"] = 0
    return frame


ORNE = rows(
    # exports 1 000: US 300, DE 400 (EU), GB 200 (outside the EU), XC 100 (Ceuta: outside)
    ("E", "C29A", "2910", "US", 200), ("E", "C29A", "2910", "DE", 400),
    ("E", "C21Z", "2110", "US", 100), ("E", "C21Z", "2110", "GB", 200),
    ("E", "C10A", "1011", "XC", 100),
    # imports 500: CN 300, DE 200
    ("I", "C20A", "2014", "CN", 300), ("I", "C29A", "2910", "DE", 200),
)


def test_flux_exposure_worked_by_hand():
    block = ex.flux_exposure(ORNE, "exportations")
    assert (block.total, block.etats_unis) == (1000, 300)
    assert block.part_etats_unis == pytest.approx(0.3)
    assert block.part_hors_ue == pytest.approx(0.6)  # US 300 + GB 200 + XC 100
    # countries: 0.3² + 0.4² + 0.2² + 0.1² = 0.09 + 0.16 + 0.04 + 0.01 = 0.30
    assert block.hhi_pays == pytest.approx(0.30)
    # products: C29A 600, C21Z 300, C10A 100 -> 0.36 + 0.09 + 0.01 = 0.46
    assert block.hhi_produits == pytest.approx(0.46)
    imports = ex.flux_exposure(ORNE, "importations")
    assert imports.part_etats_unis == 0.0 and imports.part_hors_ue == pytest.approx(0.6)
    assert imports.hhi_pays == pytest.approx(0.36 + 0.16)


def test_no_trade_in_a_flux_gives_none():
    block = ex.flux_exposure(rows(("E", "C10A", "1011", "BE", 10)), "importations")
    assert block == ex.FluxExposure(0, 0, None, None, None, None)


def test_no_us_trade():
    zone = rows(("E", "C10A", "1011", "BE", 10), ("E", "C29A", "2910", "DE", 30))
    assert ex.flux_exposure(zone, "exportations").part_etats_unis == 0.0
    assert ex.us_exports_by_product(zone, A129).empty


def test_single_product_is_fully_concentrated_and_specialised_against_france():
    zone = rows(("E", "C10A", "1011", "BE", 10), ("E", "C10A", "1011", "US", 30))
    assert ex.flux_exposure(zone, "exportations").hhi_produits == 1.0
    france = rows(("E", "C10A", "1011", "BE", 100), ("E", "C29A", "2910", "DE", 300))
    table = ex.specialisation(zone, france, A129)
    assert table[["code", "valeur"]].values.tolist() == [["C10A", 40]]
    # part 1.0; France's part 100 / 400 = 0.25; index 4
    assert table.loc[0, "part"] == 1.0 and table.loc[0, "part_france"] == 0.25
    assert table.loc[0, "indice"] == 4.0


def test_exports_to_the_us_by_product_add_up():
    table = ex.us_exports_by_product(ORNE, A129)
    assert table["code"].tolist() == ["C29A", "C21Z"]
    assert table["valeur"].tolist() == [200, 100]
    assert table["valeur"].sum() == ex.flux_exposure(ORNE, "exportations").etats_unis
    # C29A: 200 of its 600 exports go to the US; 200 of the 300 exports to the US
    assert table.loc[0, "part_du_produit"] == pytest.approx(1 / 3)
    assert table.loc[0, "part_des_exportations_us"] == pytest.approx(2 / 3)
    assert table.loc[0, "libelle"] == "Automobiles"


def test_specialisation_adds_up_to_the_exports():
    france = pd.concat([ORNE, rows(("E", "C20A", "2014", "BE", 1000))])
    table = ex.specialisation(ORNE, france, A129)
    assert table["valeur"].sum() == 1000
    assert table["code"].tolist() == ["C29A", "C21Z", "C10A"]
    # France exports 2 000, C29A 600 of them: part_france 0.3, part 0.6, index 2
    assert table.loc[0, "indice"] == pytest.approx(2.0)
    assert table["part"].sum() == pytest.approx(1.0)


def test_ties_are_broken_by_code():
    zone = rows(("E", "C29A", "2910", "US", 50), ("E", "C10A", "1011", "US", 50))
    assert ex.us_exports_by_product(zone, A129)["code"].tolist() == ["C10A", "C29A"]


# --------------------------------------------------------------------------- ranking


def totals(**values: tuple[int, int]) -> pd.DataFrame:
    """zone -> (total, US value) for exports, as the two tables of the ranking."""
    frame = pd.DataFrame([(z, "E", t) for z, (t, _) in values.items()],
                         columns=["zone", "flux", "valeur"])
    us = pd.DataFrame([(z, "E", u) for z, (_, u) in values.items()],
                      columns=["zone", "flux", "valeur"])
    return frame, us


def test_ranking_ties_by_code_monaco_and_empty_areas_excluded():
    frame, us = totals(**{"61": (1000, 100), "14": (500, 50), "06": (10, 10), "99": (5, 5),
                          "50": (0, 0), "2A": (100, 0)})
    # shares: 06 1.0, 14 0.1, 61 0.1 (tie -> 14 first), 2A 0; Monaco and 50 (no exports) out
    assert ex.us_share_ranking(frame, us, "exportations") == ["06", "14", "61", "2A"]
    block = ex.ranked(ex.flux_exposure(ORNE, "exportations"),
                      ex.us_share_ranking(frame, us, "exportations"), "61")
    assert (block.rang_part_etats_unis, block.nb_departements) == (3, 4)


def test_ranking_compares_shares_exactly():
    # 1/3 and 2/6 are the same share: a tie, broken by code, never by float noise
    frame, us = totals(**{"02": (6, 2), "01": (3, 1), "03": (1_000_000_000_000_000_000,
                                                             333_333_333_333_333_333)})
    assert ex.us_share_ranking(frame, us, "exportations") == ["01", "02", "03"]


# --------------------------------------------------------------------------- dependences


def test_dependences_worked_by_hand():
    zone = rows(
        # 2014: 1 000 imported, 900 from CN, 100 from DE: outside EU 0.9, HHI 0.82 -> qualifies
        ("I", "C20A", "2014", "CN", 900), ("I", "C20A", "2014", "DE", 100),
        # 2110: 400 from US, 400 from CH: outside 1.0, HHI 0.5; exports 100 -> qualifies
        ("I", "C21Z", "2110", "US", 400), ("I", "C21Z", "2110", "CH", 400),
        ("E", "C21Z", "2110", "BE", 100),
        # 1011: all from the EU -> never
        ("I", "C10A", "1011", "DE", 5000),
    )
    table = ex.dependences(zone, CPF4, RULES)
    assert table["code"].tolist() == ["2014", "2110"]
    first = table.iloc[0]
    assert (first["valeur"], first["premier_pays"]) == (1000, "CN")
    assert first["part_hors_ue"] == pytest.approx(0.9) and first["hhi"] == pytest.approx(0.82)
    assert first["part_premier_pays"] == pytest.approx(0.9) and first["libelle"] == "Chimie organique"
    # a tie between CH and US for the largest origin goes to the first code, CH
    assert table.iloc[1]["premier_pays"] == "CH"


@pytest.mark.parametrize("records, why", [
    # exactly half from outside the EU: (a) needs more than half
    ([("I", "C20A", "2014", "CN", 500), ("I", "C20A", "2014", "DE", 500)], "hors UE = 0,5"),
    # origins 0.5 / 0.3 / 0.1 / 0.1: HHI 0.25 + 0.09 + 0.01 + 0.01 = 0.36, not above 0.4
    ([("I", "C20A", "2014", "CN", 5), ("I", "C20A", "2014", "US", 3),
      ("I", "C20A", "2014", "IN", 1), ("I", "C20A", "2014", "JP", 1)], "HHI 0,36"),
    # imports equal to exports: (c) needs more imports than exports
    ([("I", "C20A", "2014", "CN", 100), ("E", "C20A", "2014", "BE", 100)], "M = exports"),
])
def test_a_product_at_a_threshold_does_not_qualify(records, why):
    assert ex.dependences(rows(*records), CPF4, RULES).empty, why


def test_hhi_exactly_at_the_threshold_does_not_qualify():
    # origins 0.6, then four of 0.1: HHI 0.36 + 4 x 0.01 = 0.40 exactly (all outside the EU)
    zone = rows(("I", "C20A", "2014", "CN", 60), *[("I", "C20A", "2014", c, 10)
                                                   for c in ("US", "IN", "JP", "KR")])
    assert ex.exact_hhi([60, 10, 10, 10, 10]) == ex.Fraction(2, 5)
    assert ex.dependences(zone, CPF4, RULES).empty
    zone = pd.concat([zone, rows(("I", "C20A", "2014", "CN", 1))])  # a little more: 0.4009...
    assert ex.dependences(zone, CPF4, RULES)["code"].tolist() == ["2014"]


def test_imports_all_from_the_eu():
    zone = rows(("I", "C20A", "2014", "DE", 300), ("I", "C29A", "2910", "IT", 200),
                ("I", "C29A", "2910", "EU", 50))
    assert ex.flux_exposure(zone, "importations").part_hors_ue == 0.0
    assert ex.dependences(zone, CPF4, RULES).empty


def test_the_eu_list_is_the_contract():
    assert ex.eu_codes() == frozenset(
        "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK EU"
        .split())
    assert not {"GB", "XC", "XL", "CH", "NO"} & ex.eu_codes()


@pytest.mark.parametrize("value, level", [(None, "sans_objet"), (0.1499, "diversifie"),
                                          (0.15, "modere"), (0.25, "modere"),
                                          (0.2501, "concentre")])
def test_concentration_readings(value, level):
    assert ex.concentration_level(value, RULES) == level
