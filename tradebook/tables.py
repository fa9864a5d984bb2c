"""The table behind every chart, in French, for display next to it.

Values are formatted with :mod:`tradebook.formatting`, one unit per table (the
unit of its largest amount; an amount too small for it takes its own), so that
a column reads and sorts by eye. The raw values (integer euros, fractions,
codes) are what :mod:`tradebook.figures` exports as CSV.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from tradebook import paths

from tradebook.formatting import (
    common_unit,
    format_eur,
    format_number,
    format_percent,
    format_signed_eur,
)
from tradebook.exposure import shown_us_rank
from tradebook.indicators import flux_code

MAIN_LINK = "oui"


class Link(NamedTuple):
    """A table cell that links to a page of the book (``departements/61``)."""

    text: str
    page: str

    def __str__(self) -> str:
        return self.text


def linked(text: str, page: str) -> Link | str:
    """A link to ``page`` when it is part of the book, else the plain text."""
    return Link(text, page) if paths.is_published(page) else text


def change_text(now: int, before: int) -> str:
    """A relative change, signed (``+4,2 %``), « – » from nothing."""
    if before == 0:
        return "–"
    text = format_percent((now - before) / before)
    return text if text.startswith("\u2212") or text.startswith("0") else "+" + text


def partners_table(partners: pd.DataFrame) -> pd.DataFrame:
    """Main partners: country, code, DGDDI's label, imports, exports, signed balance;
    with last year's imports and exports and their change when compared."""
    amounts = list(partners["importations"]) + list(partners["exportations"])
    unit = common_unit(amounts)
    table = pd.DataFrame({
        "Pays": partners["libelle"].astype(str).to_numpy(),
        "Code": partners["pays"].astype(str).to_numpy(),
        "Libellé DGDDI": partners["libelle_dgddi"].astype(str).to_numpy(),
        "Importations": [format_eur(v, unit) for v in partners["importations"]],
        "Exportations": [format_eur(v, unit) for v in partners["exportations"]],
        "Solde": [format_signed_eur(v, unit) for v in partners["solde"]],
    }, dtype=object)
    year = partners.attrs.get("annee_precedente")
    if year is not None:
        for flux in ("importations", "exportations"):
            name = flux.capitalize()
            table[f"{name} {year}"] = [format_eur(v, unit) for v in partners[f"{flux}_precedent"]]
            table[f"Évolution des {flux}"] = [
                change_text(n, b) for n, b in zip(partners[flux], partners[f"{flux}_precedent"])]
    return table


def products_table(products: pd.DataFrame) -> pd.DataFrame:
    """Every product of one flux: code, label, value, share of the flux."""
    unit = common_unit(products["valeur"])
    return pd.DataFrame({
        "Code": products["code"].astype(str).to_numpy(),
        "Produit": products["libelle"].astype(str).to_numpy(),
        "Valeur": [format_eur(v, unit) for v in products["valeur"]],
        "Part du total": [format_percent(p) for p in products["part"]],
    }, dtype=object)


def flows_table(flows: pd.DataFrame, flux: str) -> pd.DataFrame:
    """Sankey links in reading order (exports: product -> country; imports:
    country -> product), value, share of the total, and the red-link flag."""
    flux_code(flux)
    total = int(flows["valeur"].sum())
    unit = common_unit(flows["valeur"])
    product = flows["produit_libelle"].astype(str).to_numpy()
    country = flows["pays_libelle"].astype(str).to_numpy()
    if flux == "exportations":
        ends = {"Produit": product, "Pays de destination": country}
    else:
        ends = {"Pays d'origine": country, "Produit": product}
    return pd.DataFrame({
        **ends,
        "Valeur": [format_eur(v, unit) for v in flows["valeur"]],
        "Part du total": [format_percent(v / total if total else None) for v in flows["valeur"]],
        "Flux principal (en rouge)": [MAIN_LINK if r else "" for r in flows["rouge"]],
    }, dtype=object)


def us_table(products: pd.DataFrame) -> pd.DataFrame:
    """Every product exported to the US: value, share of the product's exports, share
    of the exports to the US."""
    unit = common_unit(products["valeur"])
    return pd.DataFrame({
        "Code": products["code"].astype(str).to_numpy(),
        "Produit": products["libelle"].astype(str).to_numpy(),
        "Exportations vers les États-Unis": [format_eur(v, unit) for v in products["valeur"]],
        "Part des exportations du produit": [format_percent(p)
                                             for p in products["part_du_produit"]],
        "Part des exportations vers les États-Unis": [
            format_percent(p) for p in products["part_des_exportations_us"]],
    }, dtype=object)


def specialisation_table(products: pd.DataFrame) -> pd.DataFrame:
    """Every export product with its share, France's share and the index."""
    unit = common_unit(products["valeur"])
    return pd.DataFrame({
        "Code": products["code"].astype(str).to_numpy(),
        "Produit": products["libelle"].astype(str).to_numpy(),
        "Exportations": [format_eur(v, unit) for v in products["valeur"]],
        "Part des exportations": [format_percent(p) for p in products["part"]],
        "Part dans les exportations de la France": [format_percent(p)
                                                    for p in products["part_france"]],
        "Indice de spécialisation": [format_number(i, 2) for i in products["indice"]],
    }, dtype=object)


def dependence_table(products: pd.DataFrame) -> pd.DataFrame:
    """Every import dependence: CPF4 product, imports, extra-EU share, HHI, main supplier."""
    unit = common_unit(products["valeur"])
    return pd.DataFrame({
        "Code CPF4": products["code"].astype(str).to_numpy(),
        "Produit": products["libelle"].astype(str).to_numpy(),
        "Importations": [format_eur(v, unit) for v in products["valeur"]],
        "Part hors UE": [format_percent(p) for p in products["part_hors_ue"]],
        "Indice HHI des origines": [format_number(h, 2) for h in products["hhi"]],
        "Premier fournisseur": products["premier_pays_libelle"].astype(str).to_numpy(),
        "Part du premier fournisseur": [format_percent(p)
                                        for p in products["part_premier_pays"]],
    }, dtype=object)


def areas_table(areas: pd.DataFrame) -> pd.DataFrame:
    """The départements of a region or of France: each name links to its page (Monaco
    has none); exports, imports, balance, US and extra-EU shares of the exports."""
    unit = common_unit(list(areas["exportations"]) + list(areas["importations"]))
    names = [linked(n, paths.site_page("departement", c)) if page else n
             for n, c, page in zip(areas["nom"], areas["code"], areas["page"])]
    return pd.DataFrame({
        "Code": areas["code"].astype(str).to_numpy(),
        "Département": names,
        "Région": areas["region"].astype(str).to_numpy(),
        "Exportations": [format_eur(v, unit) for v in areas["exportations"]],
        "Importations": [format_eur(v, unit) for v in areas["importations"]],
        "Solde": [format_signed_eur(v, unit) for v in areas["solde"]],
        "Part des exportations vers les États-Unis": [format_percent(p)
                                                      for p in areas["part_etats_unis"]],
        "Part des exportations hors UE": [format_percent(p) for p in areas["part_hors_ue"]],
    }, dtype=object)


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Every product's value this year and last, and the change."""
    unit = common_unit(list(changes["valeur"]) + list(changes["valeur_precedente"]))
    return pd.DataFrame({
        "Code": changes["code"].astype(str).to_numpy(),
        "Produit": changes["libelle"].astype(str).to_numpy(),
        "Valeur": [format_eur(v, unit) for v in changes["valeur"]],
        "Année précédente": [format_eur(v, unit) for v in changes["valeur_precedente"]],
        "Évolution": [format_signed_eur(v, unit) for v in changes["variation_eur"]],
        "Évolution (%)": [change_text(n, b) for n, b in
                          zip(changes["valeur"], changes["valeur_precedente"])],
    }, dtype=object)


def us_ranking_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """The départements ranked by their exposure to the US: ranks, exports to the US,
    share of their exports; each name links to its page."""
    unit = common_unit(ranking["etats_unis"])

    def shown(ranks: pd.Series) -> list[str]:
        return ["–" if (r := shown_us_rank(rank, us)) is None else str(r)
                for rank, us in zip(ranks, ranking["etats_unis"])]

    return pd.DataFrame({
        "Rang (part)": shown(ranking["rang_part"]),
        "Code": ranking["code"].astype(str).to_numpy(),
        "Département": [linked(n, paths.site_page("departement", c))
                        for n, c in zip(ranking["nom"], ranking["code"])],
        "Part des exportations vers les États-Unis": [format_percent(p)
                                                      for p in ranking["part_etats_unis"]],
        "Exportations vers les États-Unis": [format_eur(v, unit) for v in ranking["etats_unis"]],
        "Rang (valeur)": shown(ranking["rang_valeur"]),
    }, dtype=object)


def us_products_table(products: pd.DataFrame) -> pd.DataFrame:
    """France's products exported to the US and the départements exporting them most."""
    unit = common_unit(products["valeur"])
    return pd.DataFrame({
        "Code": products["code"].astype(str).to_numpy(),
        "Produit": products["libelle"].astype(str).to_numpy(),
        "Exportations vers les États-Unis": [format_eur(v, unit) for v in products["valeur"]],
        "Part des exportations françaises vers les États-Unis": [
            format_percent(p) for p in products["part"]],
        "Principaux départements exportateurs": products["departements_txt"].to_numpy(),
    }, dtype=object)
