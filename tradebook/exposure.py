"""Stage 3: exposure and dependence indicators, as pure functions.

How exposed is a zone to the United States and to few suppliers? Definitions
(the contract of ``fiche --json``'s ``exposition`` block; the methodology chapter
gives the same formulas):

- for each flux: ``part_etats_unis`` (value with ``US`` / total), ``part_hors_ue``
  (1 − value with EU codes / total), ``hhi_pays`` (Σ of squared shares of the
  partner codes), ``hhi_produits`` (Σ of squared shares of the A129 products);
- ``rang_part_etats_unis``: rank by ``part_etats_unis`` among the DGDDI areas with a
  non-zero total for the flux, Monaco excepted (1 = highest; ties by code);
- ``etats_unis``: every A129 product exported to ``US``, with its share of the
  product's exports and of the exports to the US;
- ``specialisation``: Balassa's revealed comparative advantage against France
  (France = every row, Monaco included): the product's share of the zone's
  exports over its share of France's;
- ``dependances``: every CPF4 product whose imports M > 0 come for more than half
  from outside the EU, with an HHI over origins above 0.4, and exceed the zone's
  exports of the same CPF4 (after the European Commission's 2021 method).

Values are integer euros; every partner code counts (special codes included).
Threshold tests are exact (integer arithmetic, :class:`fractions.Fraction`), so
a product exactly at a threshold never qualifies by a rounding accident. Ties
are broken by code, ascending.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import pandas as pd

from tradebook.indicators import flux_code, label_of, rank, sums_by
from tradebook.nomenclatures import eu_codes
from tradebook.texts import Rules

US = "US"
MONACO = "99"
FLUX = ("exportations", "importations")
US_COLUMNS = ["code", "libelle", "valeur", "part_du_produit", "part_des_exportations_us"]
SPECIALISATION_COLUMNS = ["code", "libelle", "valeur", "part", "part_france", "indice"]
DEPENDENCE_COLUMNS = ["code", "libelle", "valeur", "part_hors_ue", "hhi", "premier_pays",
                      "part_premier_pays"]


@dataclass(frozen=True)
class FluxExposure:
    """Exposure of one flux of a zone (``None``: no trade in that flux, or no rank)."""

    total: int
    etats_unis: int
    part_etats_unis: float | None
    part_hors_ue: float | None
    hhi_pays: float | None
    hhi_produits: float | None
    rang_part_etats_unis: int | None = None
    nb_departements: int | None = None
    part_etats_unis_precedente: float | None = None  # the US share the year before


@dataclass(frozen=True)
class Exposure:
    """The exposure block of a fiche; ``france`` is France's own, for comparison."""

    exportations: FluxExposure
    importations: FluxExposure
    etats_unis: pd.DataFrame
    specialisation: pd.DataFrame
    dependances: pd.DataFrame
    france: dict[str, FluxExposure]


# --------------------------------------------------------------------------- helpers


def hhi(values: pd.Series | list[int]) -> float | None:
    """Herfindahl–Hirschman index of non-negative amounts: Σ (share)², ``None`` if all 0."""
    return _float(exact_hhi(values))


def exact_hhi(values: pd.Series | list[int]) -> Fraction | None:
    """The HHI as an exact fraction (Python integers: no overflow, no rounding)."""
    amounts = [int(v) for v in values if int(v) > 0]
    total = sum(amounts)
    if total == 0:
        return None
    return Fraction(sum(v * v for v in amounts), total * total)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def outside_eu(values: pd.Series) -> int:
    """Sum of the values (indexed by country code) whose code is not an EU code."""
    eu = eu_codes()
    return int(sum(int(v) for code, v in values.items() if code not in eu))


# --------------------------------------------------------------------------- per flux


def flux_exposure(rows: pd.DataFrame, flux: str, level: str = "a129") -> FluxExposure:
    """US share, extra-EU share and the two concentrations of one flux of a zone."""
    countries = sums_by(rows, flux, "pays")
    products = sums_by(rows, flux, level)
    total = int(countries.sum())
    us = int(countries.get(US, 0))
    if total == 0:
        return FluxExposure(0, 0, None, None, None, None)
    return FluxExposure(
        total=total, etats_unis=us,
        part_etats_unis=us / total,
        part_hors_ue=outside_eu(countries) / total,
        hhi_pays=hhi(countries), hhi_produits=hhi(products),
    )


def us_share_ranking(totals: pd.DataFrame, us: pd.DataFrame, flux: str) -> list[str]:
    """DGDDI areas ranked by their share of ``flux`` with the United States: every area
    with a non-zero total for the flux, Monaco excepted, highest share first, ties by
    code. ``totals``: columns ``zone, flux, valeur`` (one row per area and flux);
    ``us``: the same columns, the values with ``US`` only."""
    code = flux_code(flux)
    flux_totals = totals[(totals["flux"] == code) & (totals["zone"].astype(str) != MONACO)]
    us_values = {str(z): int(v) for z, v in zip(us.loc[us["flux"] == code, "zone"],
                                                 us.loc[us["flux"] == code, "valeur"])}
    shares = [(Fraction(us_values.get(str(z), 0), int(v)), str(z))
              for z, v in zip(flux_totals["zone"], flux_totals["valeur"]) if int(v) != 0]
    return [z for _, z in sorted(shares, key=lambda item: (-item[0], item[1]))]


def ranked(exposure: FluxExposure, ranking: list[str], dgddi: str) -> FluxExposure:
    """``exposure`` with its rank in ``ranking`` (``None`` when the area is not ranked)."""
    rank_of = ranking.index(dgddi) + 1 if dgddi in ranking else None
    return replace(exposure, rang_part_etats_unis=rank_of, nb_departements=len(ranking))


def shown_us_rank(rank: object, us_exports: object) -> int | None:
    """The rank by exposure to the US that a reader is shown (pages, map, US page):
    none when the area is not ranked or exports nothing to the US, since its place
    among the others at 0 % is only the order of the codes (``fiche --json`` and
    the CSV files keep the ranking's rank, the contract)."""
    if not us_exports or rank is None or pd.isna(rank):
        return None
    return int(rank)


# --------------------------------------------------------------------------- lists


def us_exports_by_product(rows: pd.DataFrame, labels: dict[str, str],
                          level: str = "a129") -> pd.DataFrame:
    """Every product exported to the US (value > 0), by that value descending: its US
    value, the share of the product's exports going to the US, and its share of the
    zone's exports to the US."""
    exports = rows[rows["flux"] == "E"]
    to_us = rank(sums_by(exports[exports["pays"] == US], "exportations", level))
    to_us = to_us[to_us > 0]
    all_countries = sums_by(exports, "exportations", level)
    total_us = int(to_us.sum())
    codes = list(to_us.index)
    return pd.DataFrame({
        "code": pd.Series(codes, dtype=object),
        "libelle": pd.Series([label_of(c, labels) for c in codes], dtype=object),
        "valeur": to_us.to_numpy(dtype="int64"),
        "part_du_produit": [int(to_us[c]) / int(all_countries[c]) for c in codes],
        "part_des_exportations_us": [int(to_us[c]) / total_us for c in codes],
    }, columns=US_COLUMNS)


def specialisation(rows: pd.DataFrame, france_rows: pd.DataFrame, labels: dict[str, str],
                   level: str = "a129") -> pd.DataFrame:
    """Every product the zone exports, by value descending, with its share of the zone's
    exports, its share of France's exports and their ratio (Balassa's index: above 1,
    the zone is specialised in it)."""
    exports = rank(sums_by(rows, "exportations", level))
    exports = exports[exports > 0]
    france = sums_by(france_rows, "exportations", level)
    total, france_total = int(exports.sum()), int(france.sum())
    codes = list(exports.index)
    parts = [int(exports[c]) / total for c in codes]
    france_parts = [int(france.get(c, 0)) / france_total if france_total else 0.0
                    for c in codes]
    return pd.DataFrame({
        "code": pd.Series(codes, dtype=object),
        "libelle": pd.Series([label_of(c, labels) for c in codes], dtype=object),
        "valeur": exports.to_numpy(dtype="int64"),
        "part": parts, "part_france": france_parts,
        "indice": [p / f if f else float("nan") for p, f in zip(parts, france_parts)],
    }, columns=SPECIALISATION_COLUMNS)


def dependences(rows: pd.DataFrame, labels: dict[str, str], rules: Rules) -> pd.DataFrame:
    """CPF4 products the zone depends on: imports M > 0 with (a) more than
    ``rules.seuil_hors_ue`` of M from outside the EU, (b) an HHI of M over origins above
    ``rules.seuil_hhi_dependance`` and (c) M above the zone's exports of the product.
    By M descending, ties by code; the largest origin with its share (ties by code).

    The three tests run on every product at once in floating point, with a margin;
    the few products that pass are checked again exactly (integers and fractions), so
    that a product exactly at a threshold never qualifies by a rounding accident."""
    imports = rows.loc[rows["flux"] == "I", ["cpf4", "pays", "valeur"]]
    origins = imports.groupby(["cpf4", "pays"], sort=True, observed=True)["valeur"].sum()
    origins = origins[origins > 0]
    found = []
    if not origins.empty:
        frame = origins.reset_index()
        codes = frame["cpf4"].astype(str)
        values = frame["valeur"].astype("float64")
        outside = values.where(~frame["pays"].astype(str).isin(eu_codes()), 0.0)
        total = values.groupby(codes).sum()
        share_outside = outside.groupby(codes).sum() / total
        concentration = (values * values).groupby(codes).sum() / (total * total)
        exports = sums_by(rows, "exportations", "cpf4").reindex(total.index, fill_value=0)
        margin = 1e-9
        candidates = total.index[(share_outside > rules.seuil_hors_ue - margin)
                                 & (concentration > rules.seuil_hhi_dependance - margin)
                                 & (total > exports.astype("float64") * (1 - margin))]
        by_code = {code: group for code, group in frame[codes.isin(candidates)].groupby(
            codes[codes.isin(candidates)], sort=True)}
        for code in candidates:
            row = qualifying(by_code[code], int(exports[code]), rules)
            if row is not None:
                found.append({"code": str(code), "libelle": label_of(str(code), labels), **row})
    table = pd.DataFrame(found, columns=DEPENDENCE_COLUMNS)
    if table.empty:
        return table.astype({"valeur": "int64"})
    return table.sort_values(["valeur", "code"], ascending=[False, True],
                             kind="mergesort").reset_index(drop=True)


def qualifying(group: pd.DataFrame, exported: int, rules: Rules) -> dict | None:
    """The exact test of one product (its origins ``pays``/``valeur``): its figures when
    it is a dependence, else ``None``."""
    origins = pd.Series(group["valeur"].to_numpy(), index=group["pays"].astype(str))
    total = int(origins.sum())
    outside = Fraction(outside_eu(origins), total)
    concentration = exact_hhi(origins)
    if not (outside > Fraction(str(rules.seuil_hors_ue))
            and concentration > Fraction(str(rules.seuil_hhi_dependance)) and total > exported):
        return None
    first = rank(origins.astype("int64"))
    return {"valeur": total, "part_hors_ue": float(outside), "hhi": float(concentration),
            "premier_pays": str(first.index[0]), "part_premier_pays": int(first.iloc[0]) / total}


def concentration_level(value: float | None, rules: Rules) -> str:
    """The reading of an HHI, as a key of the texts: ``diversifie`` (under
    ``rules.hhi_modere``), ``modere`` (up to ``rules.hhi_concentre``), ``concentre``
    (above), or ``sans_objet`` (no trade)."""
    if value is None:
        return "sans_objet"
    if value < rules.hhi_modere:
        return "diversifie"
    return "modere" if value <= rules.hhi_concentre else "concentre"


def compute_exposure(rows: pd.DataFrame, france_rows: pd.DataFrame, dgddi: str | None,
                     totals: pd.DataFrame, country_totals: pd.DataFrame,
                     labels: dict[str, dict[str, str]], rules: Rules,
                     previous_rows: pd.DataFrame | None = None) -> Exposure:
    """The exposure block of a zone. ``dgddi``: the DGDDI area code of a département
    (ranked among all areas), ``None`` for a region or France (not ranked).
    ``totals``: the prepared totals table; ``country_totals``: value by département,
    flux and country; ``labels``: ``a129`` and ``cpf4`` labels; ``previous_rows``: the
    zone's rows the year before (for the US share then), when prepared."""
    areas = totals[totals["niveau"] == "departement"]
    us = country_totals[(country_totals["niveau"] == "departement")
                        & (country_totals["pays"] == US)]
    blocks = {}
    for flux in FLUX:
        block = flux_exposure(rows, flux)
        if dgddi is not None:
            block = ranked(block, us_share_ranking(areas, us, flux), dgddi)
        if previous_rows is not None:
            block = replace(block, part_etats_unis_precedente=flux_exposure(
                previous_rows, flux).part_etats_unis)
        blocks[flux] = block
    return Exposure(
        exportations=blocks["exportations"], importations=blocks["importations"],
        etats_unis=us_exports_by_product(rows, labels["a129"]),
        specialisation=specialisation(rows, france_rows, labels["a129"]),
        dependances=dependences(rows, labels["cpf4"], rules),
        france={flux: flux_exposure(france_rows, flux) for flux in FLUX},
    )


AREA_COLUMNS = ["code", "dgddi", "nom", "region", "page", "exportations", "importations",
                "solde", "etats_unis", "part_etats_unis", "part_hors_ue"]


def areas_overview(dgddi_codes: list[str], totals: pd.DataFrame,
                   country_totals: pd.DataFrame) -> pd.DataFrame:
    """One row per DGDDI area of ``dgddi_codes`` (a region's, or all of France's, Monaco
    included): its exports, imports, balance, and the US and extra-EU shares of its
    exports (``None`` without exports), in natural code order."""
    from tradebook.nomenclatures import departement_by_dgddi

    areas = totals[totals["niveau"] == "departement"]
    value = {(str(z), f): int(v) for z, f, v in zip(areas["zone"], areas["flux"], areas["valeur"])}
    exports = country_totals[(country_totals["niveau"] == "departement")
                             & (country_totals["flux"] == "E")]
    us = {str(z): int(v) for z, p, v in zip(exports["zone"], exports["pays"], exports["valeur"])
          if p == US}
    eu = eu_codes()
    inside = {}
    for z, p, v in zip(exports["zone"], exports["pays"], exports["valeur"]):
        if p in eu:
            inside[str(z)] = inside.get(str(z), 0) + int(v)
    rows = []
    for code in dgddi_codes:
        area = departement_by_dgddi()[code]
        e, i = value.get((code, "E"), 0), value.get((code, "I"), 0)
        rows.append({"code": area.code, "dgddi": code, "nom": area.nom, "region": area.region_nom,
                     "page": area.page, "exportations": e, "importations": i, "solde": e - i,
                     "etats_unis": us.get(code, 0),
                     "part_etats_unis": us.get(code, 0) / e if e else None,
                     "part_hors_ue": 1 - inside.get(code, 0) / e if e else None})
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def us_ranking(areas: pd.DataFrame) -> pd.DataFrame:
    """The areas with a page, ranked by the share of their exports going to the US
    (the ranking of :func:`us_share_ranking`, the same as every fiche's) and by the
    value they export there (ties by code): ``rang_part``, ``rang_valeur``; Monaco
    and areas without exports have no share rank."""
    ranked = areas[areas["page"]].reset_index(drop=True)
    totals = pd.DataFrame({"zone": ranked["dgddi"], "flux": "E", "valeur": ranked["exportations"]})
    us = pd.DataFrame({"zone": ranked["dgddi"], "flux": "E", "valeur": ranked["etats_unis"]})
    by_share = {code: i + 1 for i, code in enumerate(us_share_ranking(totals, us,
                                                                      "exportations"))}
    by_value = ranked.sort_values(["etats_unis", "dgddi"], ascending=[False, True])
    value_rank = {code: i + 1 for i, code in enumerate(by_value["dgddi"])}
    ranked["rang_part"] = [by_share.get(c) for c in ranked["dgddi"]]
    ranked["rang_valeur"] = [value_rank[c] for c in ranked["dgddi"]]
    return ranked.sort_values(["rang_part", "dgddi"], na_position="last").reset_index(drop=True)


US_PRODUCT_COLUMNS = ["code", "libelle", "valeur", "part", "departements"]


def us_products_by_area(us_rows: pd.DataFrame, labels: dict[str, str],
                        n_areas: int = 3) -> pd.DataFrame:
    """The products France exports to the US (every area's rows with ``US``), by value
    descending (ties by code): the value, its share of France's exports to the US, and
    the ``n_areas`` areas exporting most of it as ``(dgddi, value, share)`` tuples."""
    exports = us_rows[(us_rows["flux"] == "E") & (us_rows["pays"] == US)]
    by_product = rank(exports.groupby("a129")["valeur"].sum().astype("int64"))
    by_product = by_product[by_product > 0]
    total = int(by_product.sum())
    pairs = exports.groupby(["a129", "departement"])["valeur"].sum()
    rows = []
    for code, value in by_product.items():
        areas = rank(pairs.loc[code].astype("int64"))
        rows.append({"code": code, "libelle": label_of(code, labels), "valeur": int(value),
                     "part": int(value) / total,
                     "departements": tuple((str(d), int(v), int(v) / int(value))
                                           for d, v in areas.head(n_areas).items() if v > 0)})
    return pd.DataFrame(rows, columns=US_PRODUCT_COLUMNS)
