"""Indicator rules on small hand-written fixtures; expected values worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from tradebook import nomenclatures as nom
from tradebook.errors import MissingDataError
from tradebook.indicators import (
    FLOW_COLUMNS, PARTNER_COLUMNS, PRODUCT_COLUMNS, Fiche, ZoneTotals, compute_fiche, flows,
    partners, products, zone_totals,
)

COUNTRY_LABELS = {"DE": "Allemagne", "BE": "Belgique", "US": "États-Unis", "IT": "Italie",
                  "CN": "Chine", "ES": "Espagne"}
PRODUCT_LABELS = {"C29A": "Produits de l'industrie automobile", "C10A": "Viandes",
                  "C20B": "Produits chimiques de base", "C21Z": "Produits pharmaceutiques",
                  "C11Z": "Boissons"}


def make_rows(records: list[tuple[str, str, str, int]], cpf4: list[str] | None = None) -> pd.DataFrame:
    """Prepared rows from (flux, a129, pays, valeur); cpf4 = a129 digits unless given."""
    frame = pd.DataFrame(records, columns=["flux", "a129", "pays", "valeur"])
    frame["cpf4"] = cpf4 if cpf4 is not None else [f"{a[1:3]}00" for a in frame["a129"]]
    frame["masse"] = 1
    frame["valeur"] = frame["valeur"].astype("int64")
    return frame[["flux", "a129", "cpf4", "pays", "valeur", "masse"]]


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows of ``frame`` as plain tuples, for literal comparison."""
    return [tuple(r) for r in frame[columns].itertuples(index=False)]


# --------------------------------------------------------------------------- products


def test_products_value_share_order_and_ties():
    rows = make_rows([
        ("E", "C29A", "DE", 200), ("E", "C29A", "BE", 100),  # two rows, one product: 300
        ("E", "C20B", "DE", 200),
        ("E", "C10A", "US", 200),                            # tie with C20B: C10A first
        ("E", "C11Z", "IT", 0),                              # zero value: left out
        ("I", "C21Z", "CN", 999),                            # other flux: ignored
    ])
    result = products(rows, "exportations", PRODUCT_LABELS)
    assert list(result.columns) == PRODUCT_COLUMNS
    assert records(result, ["code", "valeur"]) == [("C29A", 300), ("C10A", 200), ("C20B", 200)]
    assert result["part"].tolist() == pytest.approx([3 / 7, 2 / 7, 2 / 7])
    assert result["libelle"].tolist() == ["Produits de l'industrie automobile", "Viandes",
                                          "Produits chimiques de base"]
    assert int(result["valeur"].sum()) == 700
    assert result["part"].sum() == pytest.approx(1.0)


def test_products_at_cpf4_level_and_unknown_label_falls_back_to_code():
    rows = make_rows([("I", "C29A", "DE", 60), ("I", "C29A", "DE", 40)], cpf4=["2910", "2920"])
    result = products(rows, "importations", {"2910": "Véhicules automobiles"}, level="cpf4")
    assert records(result, ["code", "libelle", "valeur"]) == [
        ("2910", "Véhicules automobiles", 60), ("2920", "2920", 40)]
    assert result["part"].tolist() == pytest.approx([0.6, 0.4])


def test_products_of_a_missing_flux_is_empty_with_columns():
    rows = make_rows([("E", "C29A", "DE", 10)])
    result = products(rows, "importations", PRODUCT_LABELS)
    assert result.empty and list(result.columns) == PRODUCT_COLUMNS


def test_unknown_flux_or_level_is_a_programming_error():
    rows = make_rows([("E", "C29A", "DE", 10)])
    with pytest.raises(ValueError):
        products(rows, "export", PRODUCT_LABELS)
    with pytest.raises(ValueError):
        products(rows, "exportations", PRODUCT_LABELS, level="nc8")


# --------------------------------------------------------------------------- partners


def test_partners_union_of_top_exports_and_top_imports():
    rows = make_rows([
        ("E", "C29A", "BE", 600), ("E", "C29A", "DE", 500), ("E", "C29A", "US", 300),
        ("E", "C29A", "IT", 100),
        ("I", "C10A", "CN", 600), ("I", "C10A", "DE", 200), ("I", "C10A", "US", 200),
        ("I", "C10A", "ES", 50),
    ])
    # Top 2 at export: BE 600, DE 500. Top 2 at import: CN 600, then DE/US tie at 200 -> DE.
    # Union {BE, CN, DE}; volumes DE 700, BE 600, CN 600 (tie -> BE before CN).
    result = partners(rows, COUNTRY_LABELS, n=2)
    assert list(result.columns) == PARTNER_COLUMNS
    shown = ["pays", "libelle", "importations", "exportations", "solde"]
    assert records(result, shown) == [
        ("DE", "Allemagne", 200, 500, 300),
        ("BE", "Belgique", 0, 600, 600),
        ("CN", "Chine", 600, 0, -600),
    ]


def test_partners_default_five_keeps_everyone_when_fewer():
    rows = make_rows([("E", "C29A", "BE", 10), ("E", "C29A", "DE", 30), ("I", "C10A", "ES", 20)])
    result = partners(rows, COUNTRY_LABELS, 5)
    assert records(result, ["pays", "importations", "exportations", "solde"]) == [
        ("DE", 0, 30, 30), ("ES", 20, 0, -20), ("BE", 0, 10, 10)]


def test_single_partner():
    rows = make_rows([("E", "C29A", "DE", 70), ("E", "C10A", "DE", 30), ("I", "C20B", "DE", 40)])
    result = partners(rows, COUNTRY_LABELS, 5)
    assert records(result, ["pays", "libelle", "importations", "exportations", "solde"]) == [
        ("DE", "Allemagne", 40, 100, 60)]


def test_partner_without_label_shows_its_code():
    rows = make_rows([("E", "C29A", "QU", 5)])
    assert records(partners(rows, COUNTRY_LABELS, 5), ["pays", "libelle"]) == [("QU", "QU")]


# --------------------------------------------------------------------------- flows

FLOW_ROWS = [
    ("E", "C29A", "DE", 100), ("E", "C29A", "IT", 90), ("E", "C29A", "BE", 10),
    ("E", "C10A", "BE", 80),
    ("E", "C20B", "US", 70), ("E", "C20B", "DE", 20),
    ("E", "C21Z", "DE", 30),
]


def test_flows_buckets_red_links_and_order():
    # Products: C29A 200, C20B 90, C10A 80, C21Z 30 -> top 2: C29A, C20B.
    # Countries: DE 150, BE 90, IT 90 (tie -> BE), US 70 -> top 2: DE, BE.
    result = flows(make_rows(FLOW_ROWS), "exportations", PRODUCT_LABELS, COUNTRY_LABELS,
                   "a129", 2, 2, 2)
    assert list(result.columns) == FLOW_COLUMNS
    assert records(result, ["produit", "pays", "valeur", "rouge"]) == [
        ("C29A", "DE", 100, True),
        ("C29A", "AUTRES", 90, False),   # big, but touches AUTRES: not red
        ("AUTRES", "BE", 80, False),
        ("C20B", "AUTRES", 70, False),
        ("AUTRES", "DE", 30, False),
        ("C20B", "DE", 20, True),        # second largest named link
        ("C29A", "BE", 10, False),
    ]
    assert int(result["valeur"].sum()) == 400
    autres = result[result["produit"] == "AUTRES"]
    assert set(autres["produit_libelle"]) == {"Autres"}
    assert result.loc[0, "pays_libelle"] == "Allemagne"


def test_flows_with_fewer_than_ten_products_and_countries_have_no_autres():
    result = flows(make_rows(FLOW_ROWS), "exportations", PRODUCT_LABELS, COUNTRY_LABELS,
                   "a129", 10, 10, 5)
    assert records(result, ["produit", "pays", "valeur", "rouge"]) == [
        ("C29A", "DE", 100, True), ("C29A", "IT", 90, True), ("C10A", "BE", 80, True),
        ("C20B", "US", 70, True), ("C21Z", "DE", 30, True), ("C20B", "DE", 20, False),
        ("C29A", "BE", 10, False),
    ]
    assert "AUTRES" not in set(result["produit"]) | set(result["pays"])


def test_flows_ties_broken_by_product_then_country():
    rows = make_rows([("I", "C29A", "DE", 50), ("I", "C10A", "US", 50), ("I", "C10A", "DE", 50)])
    result = flows(rows, "importations", PRODUCT_LABELS, COUNTRY_LABELS, "a129", 10, 10, 2)
    assert records(result, ["produit", "pays", "rouge"]) == [
        ("C10A", "DE", True), ("C10A", "US", True), ("C29A", "DE", False)]


def test_flows_merge_rows_of_the_same_bucket_pair_and_sum_to_total():
    # 12 products to 12 countries, one product per country; value = 10 * rank.
    codes = [f"C{i:02d}Z" for i in range(12)]
    countries = [f"P{i:01X}" for i in range(12)]
    rows = make_rows([("I", c, p, 10 * (i + 1)) for i, (c, p) in enumerate(zip(codes, countries))])
    result = flows(rows, "importations", {}, {}, "a129", 10, 10, 5)
    # Top 10 = indices 2..11 on both sides; indices 0 and 1 (10 + 20) merge into AUTRES->AUTRES.
    assert len(result) == 11
    # AUTRES->AUTRES ties with C02Z->P2 at 30: ties go by product code, "AUTRES" < "C02Z".
    assert records(result.tail(2), ["produit", "pays", "valeur", "rouge"]) == [
        ("AUTRES", "AUTRES", 30, False), ("C02Z", "P2", 30, False)]
    assert int(result["valeur"].sum()) == 780
    assert result["rouge"].sum() == 5
    assert records(result[result["rouge"]], ["produit"]) == [
        ("C11Z",), ("C10Z",), ("C09Z",), ("C08Z",), ("C07Z",)]


def test_no_imports_at_all():
    rows = make_rows([("E", "C29A", "DE", 10)])
    assert flows(rows, "importations", PRODUCT_LABELS, COUNTRY_LABELS, "a129", 10, 10, 5).empty
    assert list(flows(rows, "importations", {}, {}, "a129", 10, 10, 5).columns) == FLOW_COLUMNS
    assert records(partners(rows, COUNTRY_LABELS, 5), ["importations", "solde"]) == [(0, 10)]


# --------------------------------------------------------------------------- totals

TOTALS = pd.DataFrame(
    [
        ("departement", "61", "E", 37), ("departement", "61", "I", 20),
        ("departement", "14", "E", 63), ("departement", "14", "I", 80),
        ("departement", "20", "E", 5), ("departement", "20", "I", 0),
        ("departement", "9A", "E", 7), ("departement", "9A", "I", 9),
        ("departement", "06", "E", 800), ("departement", "06", "I", 1800),
        ("departement", "99", "E", 88), ("departement", "99", "I", 91),
        ("region", "28", "E", 100), ("region", "28", "I", 100),
        ("region", "94", "E", 5), ("region", "94", "I", 0),
        ("region", "01", "E", 7), ("region", "01", "I", 9),
        ("region", "93", "E", 888), ("region", "93", "I", 1891),
        ("france", "FR", "E", 1000), ("france", "FR", "I", 2000),
    ],
    columns=["niveau", "zone", "flux", "valeur"],
)


def dep_zone(code: str) -> nom.Zone:
    return nom.departement_zone(nom.resolve_departement(code))


def test_departement_totals_and_shares():
    assert zone_totals(TOTALS, dep_zone("61")) == ZoneTotals(
        exportations=37, importations=20, solde=17,
        part_region_exportations=pytest.approx(0.37), part_region_importations=pytest.approx(0.2),
        part_france_exportations=pytest.approx(0.037), part_france_importations=pytest.approx(0.01),
    )


def test_region_has_no_region_share_and_france_has_no_share():
    region = zone_totals(TOTALS, nom.region_zone(nom.resolve_region("28")))
    assert (region.exportations, region.importations, region.solde) == (100, 100, 0)
    assert region.part_region_exportations is None and region.part_region_importations is None
    assert region.part_france_exportations == pytest.approx(0.1)
    assert region.part_france_importations == pytest.approx(0.05)
    france = zone_totals(TOTALS, nom.france_zone())
    assert france == ZoneTotals(1000, 2000, -1000)


def test_corsica_and_overseas_are_all_of_their_region():
    corse = zone_totals(TOTALS, dep_zone("2A"))
    assert corse.part_region_exportations == 1.0
    assert corse.part_region_importations is None  # nothing imported in the region: no share
    assert corse.part_france_importations == 0.0
    guadeloupe = zone_totals(TOTALS, dep_zone("971"))
    assert (guadeloupe.part_region_exportations, guadeloupe.part_region_importations) == (1.0, 1.0)


def test_monaco_counts_in_paca_and_france_totals():
    paca = zone_totals(TOTALS, nom.region_zone(nom.resolve_region("93")))
    # Alpes-Maritimes (06) 800 + Monaco (99) 88 = 888 exported by the region.
    assert paca.exportations == 800 + 88
    assert zone_totals(TOTALS, dep_zone("06")).part_region_exportations == pytest.approx(800 / 888)


# --------------------------------------------------------------------------- compute_fiche


class FakePrepared:
    """Minimal stand-in for ``prepare.PreparedData`` built from département rows."""

    annee = 2024
    donnees_fictives = True
    annee_partielle = False
    trimestres = [1, 2, 3, 4]
    flux_absents = ()
    anomalies = []
    previous = None
    previous_reason = "Pas d'année précédente dans ce test."

    def __init__(self, flux: pd.DataFrame):
        self.flux = flux  # columns flux, departement, region, a129, cpf4, pays, valeur, masse

    def country_totals(self) -> pd.DataFrame:
        sums = self.flux.groupby(["departement", "flux", "pays"], as_index=False)["valeur"].sum()
        return sums.rename(columns={"departement": "zone"}).assign(niveau="departement")

    def rows(self, zone: nom.Zone) -> pd.DataFrame:
        if zone.type == "departement":
            mask = self.flux["departement"] == zone.dgddi
        elif zone.type == "region":
            mask = self.flux["region"] == zone.code
        else:
            mask = pd.Series(True, index=self.flux.index)
        return self.flux.loc[mask, ["flux", "a129", "cpf4", "pays", "valeur", "masse"]]

    def totals(self) -> pd.DataFrame:
        parts = []
        for niveau, key in (("departement", "departement"), ("region", "region")):
            grouped = self.flux.groupby([key, "flux"], as_index=False)["valeur"].sum()
            parts.append(grouped.rename(columns={key: "zone"}).assign(niveau=niveau))
        france = self.flux.groupby("flux", as_index=False)["valeur"].sum().assign(niveau="france", zone="FR")
        parts.append(france)
        return pd.concat(parts)[["niveau", "zone", "flux", "valeur"]]

    def labels(self, table: str) -> dict[str, str]:
        return {"a129": PRODUCT_LABELS, "pays": COUNTRY_LABELS, "cpf4": {}}[table]


def fake_prepared() -> FakePrepared:
    rows = make_rows(FLOW_ROWS + [("I", "C10A", "CN", 50)])
    rows.insert(1, "departement", "61")
    rows.insert(2, "region", "28")
    other = make_rows([("E", "C29A", "DE", 600), ("I", "C29A", "DE", 150)])
    other.insert(1, "departement", "14")
    other.insert(2, "region", "28")
    return FakePrepared(pd.concat([rows, other], ignore_index=True))


def test_compute_fiche_assembles_every_indicator():
    zone = dep_zone("61")
    fiche = compute_fiche(fake_prepared(), zone)
    assert isinstance(fiche, Fiche)
    assert (fiche.zone, fiche.annee, fiche.niveau) == (zone, 2024, "a129")
    assert fiche.donnees_fictives is True and fiche.annee_partielle is False
    assert fiche.totaux == ZoneTotals(400, 50, 350, pytest.approx(0.4), pytest.approx(0.25),
                                      pytest.approx(0.4), pytest.approx(0.25))
    assert set(fiche.produits) == set(fiche.flux) == {"exportations", "importations"}
    assert records(fiche.produits["importations"], ["code", "valeur", "part"]) == [("C10A", 50, 1.0)]
    assert int(fiche.flux["exportations"]["valeur"].sum()) == fiche.totaux.exportations
    assert fiche.partenaires["pays"].tolist() == ["DE", "BE", "IT", "US", "CN"]


def test_compute_fiche_at_cpf4_level():
    fiche = compute_fiche(fake_prepared(), dep_zone("61"), niveau="cpf4")
    assert fiche.niveau == "cpf4"
    assert fiche.produits["exportations"]["code"].tolist() == ["2900", "2000", "1000", "2100"]


def test_compute_fiche_without_data_raises_french_error():
    with pytest.raises(MissingDataError, match="Aucune donnée .* département 50 \\(Manche\\) en 2024"):
        compute_fiche(fake_prepared(), dep_zone("50"))


# --------------------------------------------------------------------------- the sample


def test_sample_loses_nothing(tmp_path):
    """On the illustrative sample: every total is the sum of its parts, nothing lost."""
    from tradebook.paths import SAMPLE_ZIP

    if not SAMPLE_ZIP.exists():
        pytest.skip("échantillon fictif absent (python -m tradebook echantillon)")
    prepare = pytest.importorskip("tradebook.prepare")
    prepared = prepare.prepare(SAMPLE_ZIP, 2024, tmp_path / "2024")
    totals = prepared.totals()
    for flux in ("E", "I"):
        t = totals[totals["flux"] == flux].set_index(["niveau", "zone"])["valeur"]
        france = int(t[("france", "FR")])
        assert int(t["departement"].sum()) == france  # Monaco (99) included
        assert int(t["region"].sum()) == france
        for region in nom.regions():
            members = [d.code_dgddi for d in nom.departements_of(region.code)]
            assert int(t["departement"].reindex(members, fill_value=0).sum()) == int(
                t[("region", region.code)])
    for zone in (dep_zone("61"), dep_zone("2A"), dep_zone("971"),
                 nom.region_zone(nom.resolve_region("93")), nom.france_zone()):
        fiche = compute_fiche(prepared, zone)
        for flux in ("exportations", "importations"):
            total = getattr(fiche.totaux, flux)
            assert int(fiche.flux[flux]["valeur"].sum()) == total
            assert int(fiche.produits[flux]["valeur"].sum()) == total
            assert int(fiche.flux[flux]["rouge"].sum()) <= 5
            assert not (fiche.flux[flux]["rouge"]
                        & ((fiche.flux[flux]["produit"] == "AUTRES")
                           | (fiche.flux[flux]["pays"] == "AUTRES"))).any()
