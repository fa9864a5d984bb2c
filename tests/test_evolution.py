"""Change over time: hand-worked evolutions, the JSON contract, what pages say."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dgddi_fixtures import quarters_of_year, rows as fixture_rows, total, write_publication
from tradebook import cli, evolution as ev, figures, report
from tradebook.indicators import partners, products


def rows(*records: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["flux", "a129", "cpf4", "pays", "valeur"])
    frame["masse"] = 0
    return frame


NOW = rows(("E", "C29A", "2910", "DE", 600), ("E", "C10A", "1011", "US", 400),
           ("I", "C20A", "2014", "CN", 300))
BEFORE = rows(("E", "C29A", "2910", "DE", 500), ("E", "C21Z", "2110", "IT", 100),
              ("I", "C20A", "2014", "CN", 0))
LABELS = {"C29A": "Automobiles", "C10A": "Viande", "C21Z": "Pharmacie", "C20A": "Chimie"}


def test_changes_worked_by_hand():
    partner_table = partners(NOW, {}, 5)
    product_tables = {f: products(NOW, f, LABELS) for f in ("exportations", "importations")}
    result = ev.compute_evolution(NOW, BEFORE, 2023, partner_table, product_tables, LABELS,
                                  "a129")
    assert (result.exportations.total, result.exportations.previous) == (1000, 600)
    assert result.exportations.variation_eur == 400
    assert result.exportations.variation == pytest.approx(400 / 600)
    # imports: 300 now, nothing (0) the year before: no relative change
    assert result.importations.previous == 0 and result.importations.variation is None
    # partners follow this year's order; US was absent the year before -> 0
    assert result.partenaires.to_dict("records") == [
        {"pays": "DE", "exportations_precedent": 500, "importations_precedent": 0},
        {"pays": "US", "exportations_precedent": 0, "importations_precedent": 0},
        {"pays": "CN", "exportations_precedent": 0, "importations_precedent": 0}]
    assert result.produits["exportations"].to_dict("records") == [
        {"code": "C29A", "valeur_precedent": 500}, {"code": "C10A", "valeur_precedent": 0}]
    # changes: C10A +400 (new), C29A +100, C21Z -100 (gone); ties by code: C21Z before C29A
    changes = result.variations["exportations"]
    assert changes[["code", "variation_eur"]].values.tolist() == [
        ["C10A", 400], ["C21Z", -100], ["C29A", 100]]
    assert pd.isna(changes.loc[0, "variation"])  # from nothing: no relative change
    assert changes.loc[1, "variation"] == -1.0
    assert changes["variation_eur"].sum() == result.exportations.variation_eur  # nothing lost


@pytest.fixture(scope="module")
def two_publications(tmp_path_factory):
    """The 2023 publication (4 quarters of 2023) and the 2024 one (T4 2023 revised by
    +1 € a row, and 2024)."""
    folder = tmp_path_factory.mktemp("publications")
    older = write_publication(folder / "2023.zip", quarters_of_year(2023))
    newer = write_publication(folder / "2024.zip", [(2023, 4), *quarters_of_year(2024)],
                              offset=1)
    return older, newer


def fiche_json(capsys, *sources, annee="2024") -> dict:
    code = cli.main(["fiche", "--departement", "61", "--annee", annee, "--json",
                     "--donnees", *map(str, sources)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_evolution_from_two_publications(capsys, two_publications):
    data = fiche_json(capsys, *two_publications)
    evolution = data["evolution"]
    assert evolution["annee_precedente"] == 2023
    # 2023 = T1-T3 of the 2023 publication + T4 of the 2024 one (revised: +1 € a row)
    rows_a_quarter = 3 * 3  # Orne: 3 products x 3 countries
    before = (total("E", [(2023, q) for q in (1, 2, 3)], deps={"61"})
              + total("E", [(2023, 4)], offset=1, deps={"61"}))
    now = total("E", quarters_of_year(2024), offset=1, deps={"61"})
    assert evolution["exportations"] == {
        "total_eur": now, "total_eur_precedent": before, "variation_eur": now - before,
        "variation": pytest.approx((now - before) / before)}
    assert before == total("E", quarters_of_year(2023), deps={"61"}) + rows_a_quarter
    assert [p["pays"] for p in evolution["partenaires"]] == [p["pays"] for p in
                                                            data["partenaires"]]
    assert [p["code"] for p in evolution["produits"]["exportations"]] == [
        p["code"] for p in data["produits"]["exportations"]]
    assert data["exposition"]["exportations"]["part_etats_unis_precedente"] is not None


def test_a_missing_quarter_of_the_previous_year_gives_null_and_a_sentence(capsys, tmp_path):
    newer = write_publication(tmp_path / "2024.zip", [(2023, 4), *quarters_of_year(2024)])
    data = fiche_json(capsys, newer)
    assert data["evolution"] is None
    assert data["exposition"]["exportations"]["part_etats_unis_precedente"] is None
    page = report.load("61", 2024, str(newer))
    text = page.section_html("evolution")
    assert "2023" in text and "trimestre" in text  # the sentence says why
    assert "tradebook-chart" not in text  # no empty charts
    assert "evolution_exportations" not in figures.render_all(page.fiche)


def test_no_comparison_across_the_2022_break(capsys, tmp_path):
    older = write_publication(tmp_path / "2021.zip", quarters_of_year(2021))
    newer = write_publication(tmp_path / "2022.zip", quarters_of_year(2022))
    data = fiche_json(capsys, older, newer, annee="2022")
    assert data["evolution"] is None
    from tradebook.prepare import ensure_prepared

    prepared = ensure_prepared([older, newer], 2022)
    text = report.load("61", 2022, str(prepared.path)).section_html("evolution")
    assert "EMEBI" in text or "rupture" in text


def test_the_page_says_the_change_in_its_totals(two_publications):
    from tradebook.prepare import ensure_prepared

    prepared = ensure_prepared(list(two_publications), 2024)
    page = report.load("61", 2024, str(prepared.path))
    text = page.section_html("exportations")
    assert "sur un an (+" in text or "sur un an (\u2212" in text
    summary = page.section_html("evolution")
    assert "Par rapport à 2023" in summary and "contre" in summary
    table = page.rendered["partenaires"].table
    assert "Exportations 2023" in table.columns and "Évolution des exportations" in table.columns
