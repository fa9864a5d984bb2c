"""The figure registry: what a page shows, each element declared once.

A page is a sequence of sections (their order and headings are in
``data/textes.yml``); each section holds registry entries, in registry order:

- a :class:`Figure`: a chart with its data table, CSV export, reading key
  (« Clé de lecture »), table summary and screen-reader description. It names
  the indicator result it reads (``data``, from the :class:`~tradebook.indicators.Fiche`),
  its chart and table builders, its raw CSV table, the variables its texts use,
  the zone levels it applies to and the other levels it is compared with;
- a :class:`Statement`: sentences of the page (a total and its shares), from texts.

Charts, tables, the page (:mod:`tradebook.report`), ``fiche --csv/--images`` and
the book iterate over :data:`REGISTRY`; no other module lists figure keys.
Adding a figure to an existing section touches six places: an indicator function
(``indicators.py``), a chart builder (``charts.py``), a table builder (``tables.py``),
one :class:`Figure` here, one text block in ``data/textes.yml`` and the tests; the
analyst's guide gives the recipe, and a test runs it as written.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import pandas as pd

from tradebook import charts, evolution_charts, exposure_charts, maps, paths, tables
from tradebook import texts as texts_module
from tradebook.charts import ChartContext, ChartWords
from tradebook.exposure import (
    FLUX as EXPOSURE_FLUX,
    concentration_level,
    shown_us_rank,
    us_ranking,
)
from tradebook.formatting import (
    format_decimal,
    format_eur,
    format_number,
    format_percent,
    format_signed_eur,
    format_threshold_percent,
)
from tradebook.indicators import Fiche, by_trade_volume, sums_by
from tradebook.nomenclatures import AUTRES, ZONE_TYPES
from tradebook.texts import TextSchema, Texts

ALL_LEVELS = frozenset(ZONE_TYPES)
# The national views: pages of France other than its fiche (the index of départements,
# the exposure to the United States), drawn from France's fiche.
VIEWS = ("index", "etats_unis")
FLUX = ("exportations", "importations")
# Variables every figure text may use, computed here from the fiche.
BASE_VARIABLES = frozenset({"zone", "de_zone", "annee", "vide"})
FIGURE_TEXTS = frozenset({"titre", "sous_titre", "cle", "resume", "description", "vide"})
# Texts of the page itself, and the variables the page provides to each.
PAGE_TEXTS: dict[str, frozenset[str]] = {
    "page.cle": frozenset(),
    "page.introduction": frozenset({"annee", "de_zone", "comparaison", "methodologie",
                                    "region", "page_region", "lien_region", "region_propre",
                                    "la_zone"}),
    "page.fictif_titre": frozenset(),
    "page.avertissement_titre": frozenset(),
    "page.telecharger_csv": frozenset(),
    "page.telecharger_pdf": frozenset(),
    "page.flux_absent_titre": frozenset(),
    "page.flux_absent": frozenset({"flux"}),
    "page.anomalies": frozenset({"n"}),
    "page.fictif": frozenset({"methodologie"}),
    "page.partielle_titre": frozenset(),
    "page.partielle": frozenset({"annee", "trimestres", "liste_trimestres"}),
    "page.region_seule": frozenset({"region"}),
    "page.hors_niveau": frozenset({"de_niveau"}),
    "exposition.lectures.*": frozenset(),
    "evolution.variations.*": frozenset({"variation", "variation_eur", "annee_precedente"}),
    "evolution.variations_courtes.*": frozenset({"variation", "variation_eur",
                                                 "annee_precedente"}),
    "vues.*": frozenset({"annee", "methodologie", "index", "etats_unis", "france"}),
    "page.methode": frozenset({"annee", "regle_produits", "regle_pays", "regle_rouges",
                               "regle_partenaires", "methodologie", "guide", "index"}),
    "sections.*": frozenset(),
    "pdf.titre": frozenset(), "pdf.auteur": frozenset(), "pdf.region": frozenset({"region"}),
    "pdf.donnees": frozenset({"annee"}), "pdf.annee_partielle": frozenset(),
    "pdf.bandeau": frozenset(), "pdf.bandeau_detail": frozenset(),
    "pdf.page": frozenset({"numero", "total"}), "pdf.tuiles.*": frozenset({"part"}),
    "pdf.methode_titre": frozenset(),
    "pdf.methode": frozenset({"regle_produits", "regle_pays", "regle_rouges"}),
}


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Figure:
    """One chart of a page and everything around it."""

    key: str
    section: str
    data: Callable[[Fiche], Any]  # the indicator result the figure reads
    chart: Callable[[Any, ChartContext, ChartWords], Any]  # Altair chart builder
    table: Callable[[Any], pd.DataFrame]  # the French table shown beside the chart
    csv: Callable[[Any, Fiche], pd.DataFrame]  # raw values for the CSV export
    variables: Callable[[Any, Fiche], dict[str, Any]]  # values of the texts' placeholders
    names: frozenset[str]  # the variables ``variables`` returns
    empty: Callable[[Any], bool]  # True when there is nothing to draw
    levels: frozenset[str] = ALL_LEVELS
    comparisons: tuple[str, ...] = ()  # levels whose same figure is shown beside it
    chart_levels: frozenset[str] | None = None  # levels where the chart is drawn (all)
    open_table: bool = False  # the table shown open and sortable, with its CSV, not folded
    hide_when_empty: bool = False  # nothing at all on the page (not even « rien à montrer »)

    def draws_chart(self, level: str) -> bool:
        """Whether the page of a zone of ``level`` draws this figure's chart."""
        return self.chart_levels is None or level in self.chart_levels

    def texts_key(self, name: str) -> str:
        """The key of one of the figure's texts (``figures.partenaires.cle``)."""
        return f"figures.{self.key}.{name}"


@dataclass(frozen=True)
class Statement:
    """Sentences of a section, from page texts (``texts``, in order)."""

    key: str
    section: str
    texts: tuple[str, ...]
    variables: Callable[[Fiche], dict[str, Any]]
    names: frozenset[str]
    levels: frozenset[str] = ALL_LEVELS


Entry = Figure | Statement


# --------------------------------------------------------------------------- values


def zone_values(fiche: Fiche) -> dict[str, Any]:
    """Variables every figure text may use: the zone's name, « de l'Orne », the year."""
    return {"zone": fiche.zone.nom, "de_zone": fiche.zone.de_nom, "annee": fiche.annee}


def partner_values(partners: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the partners chart's texts, from what it draws."""
    clients = sums_by(fiche.rows, "exportations", "pays")
    suppliers = sums_by(fiche.rows, "importations", "pays")
    unit = charts.partners_unit(partners) if not partners.empty else "M€"
    first = partners.iloc[0] if not partners.empty else None
    return {
        "n_pays": len(partners),
        "n_clients": min(fiche.rules.partenaires, len(clients)),
        "n_fournisseurs": min(fiche.rules.partenaires, len(suppliers)),
        "tous_les_pays": len(partners) == len(set(clients.index) | set(suppliers.index)),
        "exportations": format_eur(int(partners["exportations"].sum())),
        "importations": format_eur(int(partners["importations"].sum())),
        "solde": format_signed_eur(int(partners["solde"].sum())),
        "premier": "" if first is None else first["libelle"],
        "premier_exportations": "" if first is None else format_eur(first["exportations"]),
        "premier_importations": "" if first is None else format_eur(first["importations"]),
        "premier_solde": "" if first is None else format_signed_eur(first["solde"]),
        "regle": fiche.rules.partenaires,
        "unite": unit,
        "avec_evolution": "annee_precedente" in partners.attrs,
        "annee_precedente": partners.attrs.get("annee_precedente", ""),
    }


def product_values(products: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of a treemap's texts."""
    first = products.iloc[0] if not products.empty else None
    return {
        "total": format_eur(int(products["valeur"].sum()) if not products.empty else 0),
        "solde": format_signed_eur(fiche.totaux.solde),
        "n_produits": len(products),
        "premier": "" if first is None else first["libelle"],
        "premier_valeur": "" if first is None else format_eur(first["valeur"]),
        "premier_part": "" if first is None else format_percent(first["part"]),
        "n_regroupes": 0 if products.empty else charts.grouped_products(products, fiche.rules),
    }


class FlowData(NamedTuple):
    """What a Sankey figure reads: its links and the flux total."""

    flux: str
    links: pd.DataFrame
    total: int


def flow_data(fiche: Fiche, flux: str) -> FlowData:
    """The Sankey links of one flux of a fiche, with the flux total."""
    return FlowData(flux, fiche.flux[flux], int(getattr(fiche.totaux, flux)))


def flow_values(data: FlowData, fiche: Fiche) -> dict[str, Any]:
    """Variables of a Sankey's texts: what is drawn (named nodes, « Autres », red links)."""
    links = data.links
    products = {c for c in links["produit"] if c != AUTRES}
    countries = {c for c in links["pays"] if c != AUTRES}
    all_products = len(sums_by(fiche.rows, data.flux, fiche.niveau))
    all_countries = len(sums_by(fiche.rows, data.flux, "pays"))
    red = links[links["rouge"]]
    first = red.iloc[0] if not red.empty else None
    other_products = all_products - len(products) if AUTRES in set(links["produit"]) else 0
    other_countries = all_countries - len(countries) if AUTRES in set(links["pays"]) else 0
    return {
        "total": format_eur(data.total),
        "n_produits": len(products),
        "n_pays": len(countries),
        "n_autres_produits": other_products,
        "n_autres_pays": other_countries,
        "tous_les_produits": bool(products) and not other_products,
        "tous_les_pays": bool(countries) and not other_countries,
        "n_rouges": len(red),
        "n_liens": len(links),
        "premier_produit": "" if first is None else first["produit_libelle"],
        "premier_pays": "" if first is None else first["pays_libelle"],
        "premier_valeur": "" if first is None else format_eur(first["valeur"]),
        "regle_produits": fiche.rules.produits_sankey,
        "regle_pays": fiche.rules.pays_sankey,
    }


# --------------------------------------------------------------------------- raw tables


def partners_data(fiche: Fiche) -> pd.DataFrame:
    """The partners, with their exports and imports the year before when compared
    (``attrs["annee_precedente"]`` names that year)."""
    partners = fiche.partenaires.reset_index(drop=True)
    if fiche.evolution is None:
        return partners
    history = fiche.evolution.partenaires.reset_index(drop=True)
    frame = partners.assign(exportations_precedent=history["exportations_precedent"],
                            importations_precedent=history["importations_precedent"])
    frame.attrs["annee_precedente"] = fiche.evolution.annee_precedente
    return frame


def partners_csv(partners: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw partners table: codes, labels, integer euros (last year's too, when compared)."""
    frame = pd.DataFrame({
        "pays": partners["pays"], "libelle": partners["libelle"],
        "libelle_dgddi": partners["libelle_dgddi"],
        "importations_eur": partners["importations"], "exportations_eur": partners["exportations"],
        "solde_eur": partners["solde"],
    })
    if "exportations_precedent" in partners.columns:
        frame["importations_eur_precedent"] = partners["importations_precedent"]
        frame["exportations_eur_precedent"] = partners["exportations_precedent"]
    return frame.reset_index(drop=True)


def products_csv(products: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw products table: code, label, integer euros, share of the flux (fraction)."""
    return pd.DataFrame({"code": products["code"], "libelle": products["libelle"],
                         "valeur_eur": products["valeur"], "part": products["part"]}
                        ).reset_index(drop=True)


def flows_csv(data: FlowData, fiche: Fiche) -> pd.DataFrame:
    """Raw Sankey links in reading order, with DGDDI's country label and the share."""
    links = data.links
    dgddi = fiche.labels.get("pays_dgddi", {})
    product = {"produit": links["produit"], "produit_libelle": links["produit_libelle"]}
    country = {"pays": links["pays"], "pays_libelle": links["pays_libelle"],
               "pays_libelle_dgddi": [dgddi.get(c, "") for c in links["pays"]]}
    ends = {**product, **country} if data.flux == "exportations" else {**country, **product}
    total = int(links["valeur"].sum())
    return pd.DataFrame({
        **ends, "valeur_eur": links["valeur"],
        "part": links["valeur"] / total if total else 0.0,
        "rouge": links["rouge"],
    }).reset_index(drop=True)


# --------------------------------------------------------------------------- statements


def total_values(fiche: Fiche, flux: str) -> dict[str, Any]:
    """Variables of a total's sentences (which of them holds is decided here)."""
    totaux, zone = fiche.totaux, fiche.zone
    region = getattr(totaux, f"part_region_{flux}")
    france = getattr(totaux, f"part_france_{flux}")
    with_region = region is not None and not zone.single_area
    return {
        "flux": flux, "flux_titre": flux.capitalize(), "annee": fiche.annee,
        "de_zone": zone.de_nom, "valeur": format_eur(getattr(totaux, flux)),
        "part_region": format_percent(region), "part_france": format_percent(france),
        "de_region": zone.region().de_nom if zone.type == "departement" else "",
        "region": zone.region_nom,
        "avec_region": with_region and france is not None,
        "france_seule": france is not None and not with_region,
        "sans_part": france is None,
        "zone_seule": zone.type == "departement" and zone.single_area,
        "solde": format_signed_eur(totaux.solde),
        "evolution": change_clause(fiche, flux),
    }


TOTAL_NAMES = frozenset({"flux", "flux_titre", "annee", "de_zone", "valeur", "part_region",
                         "part_france", "de_region", "region", "avec_region", "france_seule",
                         "sans_part", "zone_seule", "solde", "evolution"})


def change_kind(change) -> str:
    """``hausse``, ``baisse``, ``stable`` (under 0,05 %) or ``nouveau`` (from nothing)."""
    if change.previous == 0:
        return "nouveau" if change.total else "stable"
    if abs(change.variation) < 0.0005:
        return "stable"
    return "hausse" if change.variation > 0 else "baisse"


def change_values(change, previous_year: int) -> dict[str, Any]:
    """Variables of the texts describing one change (``evolution.variations.*``)."""
    return {"variation": format_percent(abs(change.variation)) if change.variation is not None
            else "", "variation_eur": format_signed_eur(change.variation_eur),
            "annee_precedente": previous_year}


def change_clause(fiche: Fiche, flux: str) -> str:
    """« , en hausse de 4,2 % sur un an (+58,1 M€) », or nothing without a previous year."""
    if fiche.evolution is None:
        return ""
    change = getattr(fiche.evolution, flux)
    return texts().text(f"evolution.variations.{change_kind(change)}",
                        change_values(change, fiche.evolution.annee_precedente))


# --------------------------------------------------------------------------- exposure


def us_values(products: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the exports-to-the-US chart's texts."""
    block = fiche.exposition.exportations
    first = products.iloc[0] if not products.empty else None
    return {
        "n_produits": len(products),
        "n_montres": min(len(products), fiche.rules.produits_exposition),
        "tous_montres": len(products) <= fiche.rules.produits_exposition,
        "total_us": format_eur(block.etats_unis),
        "part_us": format_percent(block.part_etats_unis),
        "premier": "" if first is None else first["libelle"],
        "premier_valeur": "" if first is None else format_eur(first["valeur"]),
        "premier_part_produit": "" if first is None else format_percent(first["part_du_produit"]),
    }


def specialisation_values(products: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the specialisation chart's texts."""
    shown = products.head(fiche.rules.produits_exposition)
    best = shown.loc[shown["indice"].idxmax()] if not shown.empty else None
    first = products.iloc[0] if not products.empty else None
    return {
        "n_produits": len(products),
        "n_montres": len(shown),
        "n_specialises": int((products["indice"] >= 1).sum()),
        "premier": "" if first is None else first["libelle"],
        "premier_indice": "" if first is None else format_number(first["indice"], 2),
        "plus_specialise": "" if best is None else best["libelle"],
        "plus_specialise_indice": "" if best is None else format_number(best["indice"], 2),
        "premier_le_plus_specialise": best is not None and first["code"] == best["code"],
        "autre_plus_specialise": best is not None and first["code"] != best["code"],
    }


def dependence_values(products: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the dependences chart's texts."""
    first = products.iloc[0] if not products.empty else None
    return {
        "n_dependances": len(products),
        "n_montres": min(len(products), fiche.rules.produits_exposition),
        "tous_montres": len(products) <= fiche.rules.produits_exposition,
        "premier": "" if first is None else first["libelle"],
        "premier_valeur": "" if first is None else format_eur(first["valeur"]),
        "premier_pays": "" if first is None else first["premier_pays_libelle"],
        "premier_part": "" if first is None else format_percent(first["part_premier_pays"]),
        "seuil_hors_ue": format_threshold_percent(fiche.rules.seuil_hors_ue),
        "seuil_hhi": format_decimal(fiche.rules.seuil_hhi_dependance),
    }


def us_csv(products: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw table of the exports to the US by product."""
    return products.rename(columns={"valeur": "valeur_eur"}).reset_index(drop=True)


def specialisation_csv(products: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw table of the specialisation indices."""
    return products.rename(columns={"valeur": "valeur_eur"}).reset_index(drop=True)


def dependence_data(fiche: Fiche) -> pd.DataFrame:
    """The import dependences, with the main supplier's display name beside its code."""
    frame = fiche.exposition.dependances.reset_index(drop=True)
    countries = fiche.labels["pays"]
    names = [countries.get(c, c) for c in frame["premier_pays"]]
    return frame.assign(premier_pays_libelle=pd.Series(names, dtype=object))


def dependence_csv(products: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw table of the import dependences."""
    return products.rename(columns={"valeur": "valeur_eur"}).reset_index(drop=True)


def exposure_values(fiche: Fiche) -> dict[str, Any]:
    """Variables of the exposure summary: shares, ranks and readings of each flux."""
    exposure, book_texts = fiche.exposition, texts()
    values: dict[str, Any] = {"de_zone": fiche.zone.de_nom, "annee": fiche.annee,
                              "departement": fiche.zone.type == "departement",
                              "pas_france": fiche.zone.type != "france"}
    for flux, short in zip(EXPOSURE_FLUX, ("e", "i")):
        block, france = getattr(exposure, flux), exposure.france[flux]
        values.update({
            f"avec_{short}": block.total > 0,
            f"part_us_{short}": format_percent(block.part_etats_unis),
            f"part_us_france_{short}": format_percent(france.part_etats_unis),
            f"hors_ue_{short}": format_percent(block.part_hors_ue),
            f"rang_{short}": block.rang_part_etats_unis or 0,
            f"nb_{short}": block.nb_departements or 0,
        })
        for kind in ("pays", "produits"):
            value = getattr(block, f"hhi_{kind}")
            level = concentration_level(value, fiche.rules)
            values[f"hhi_{kind}_{short}"] = "–" if value is None else format_number(value, 2)
            values[f"lecture_{kind}_{short}"] = book_texts.text(f"exposition.lectures.{level}")
    # exports, but none to the United States: no rank shown, the page says there are none
    exports = exposure.exportations
    values["sans_etats_unis"] = (values["pas_france"] and exports.total > 0
                                 and exports.etats_unis == 0)
    values["avec_rang"] = values["departement"] and shown_us_rank(
        exports.rang_part_etats_unis, exports.etats_unis) is not None
    values["sans_rang"] = (values["pas_france"] and not values["avec_rang"]
                           and not values["sans_etats_unis"])
    return values


EXPOSURE_NAMES = frozenset(
    {"de_zone", "annee", "departement", "pas_france", "avec_rang", "sans_rang",
     "sans_etats_unis"}
    | {f"{name}_{s}" for s in "ei" for name in (
        "avec", "part_us", "part_us_france", "hors_ue", "rang", "nb", "hhi_pays",
        "hhi_produits", "lecture_pays", "lecture_produits")})


# --------------------------------------------------------------------------- evolution


def changes_data(fiche: Fiche, flux: str) -> pd.DataFrame | None:
    """Every product's change against the previous year (None without a comparison)."""
    return None if fiche.evolution is None else fiche.evolution.variations[flux]


def changes_values(changes: pd.DataFrame | None, fiche: Fiche) -> dict[str, Any]:
    """Variables of a changes chart's texts: the largest rise and fall shown."""
    moved = pd.DataFrame() if changes is None else changes[changes["variation_eur"] != 0]
    shown = moved.head(fiche.rules.produits_exposition)
    rises = shown[shown["variation_eur"] > 0] if not shown.empty else shown
    falls = shown[shown["variation_eur"] < 0] if not shown.empty else shown

    def described(rows: pd.DataFrame) -> tuple[str, str]:
        if rows.empty:
            return "", ""
        first = rows.iloc[0]
        return first["libelle"], (f"{format_signed_eur(first['variation_eur'])}, "
                                  f"{tables.change_text(first['valeur'], first['valeur_precedente'])}")

    rise, rise_text = described(rises)
    fall, fall_text = described(falls)
    return {"n_montres": len(shown), "annee_precedente": fiche.evolution.annee_precedente
            if fiche.evolution else "", "hausse": rise, "hausse_txt": rise_text,
            "avec_hausse": bool(rise), "baisse": fall, "baisse_txt": fall_text,
            "avec_baisse": bool(fall)}


def changes_csv(changes: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw changes by product: both years' values and the change."""
    return changes.rename(columns={"valeur": "valeur_eur",
                                   "valeur_precedente": "valeur_eur_precedente"}
                          ).reset_index(drop=True)


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Every product's change, in French."""
    return tables.changes_table(changes)


def _changes_figure(flux: str) -> Figure:
    return Figure(
        key=f"evolution_{flux}", section="evolution",
        data=lambda fiche: changes_data(fiche, flux),
        chart=evolution_charts.changes_chart, table=changes_table, csv=changes_csv,
        variables=changes_values,
        names=frozenset({"n_montres", "annee_precedente", "hausse", "hausse_txt",
                         "avec_hausse", "baisse", "baisse_txt", "avec_baisse"}),
        empty=lambda data: data is None or data.empty, hide_when_empty=True,
    )


def evolution_values(fiche: Fiche) -> dict[str, Any]:
    """Variables of the evolution summary (or of the sentence saying why there is none)."""
    evolution, exposure = fiche.evolution, fiche.exposition
    values: dict[str, Any] = {"avec": evolution is not None, "sans": evolution is None,
                              "raison": fiche.evolution_reason or "", "annee": fiche.annee,
                              "de_zone": fiche.zone.de_nom,
                              "annee_precedente": evolution.annee_precedente if evolution else ""}
    for flux, short in zip(EXPOSURE_FLUX, ("e", "i")):
        change = getattr(evolution, flux) if evolution else None
        values[f"evolution_{short}"] = "" if change is None else texts().text(
            f"evolution.variations_courtes.{change_kind(change)}",
            change_values(change, evolution.annee_precedente))
        block = getattr(exposure, flux)
        values[f"part_us_{short}"] = format_percent(block.part_etats_unis)
        values[f"part_us_precedente_{short}"] = format_percent(block.part_etats_unis_precedente)
    return values


EVOLUTION_NAMES = frozenset({"avec", "sans", "raison", "annee", "de_zone", "annee_precedente",
                             *(f"{n}_{s}" for s in "ei" for n in (
                                 "evolution", "part_us", "part_us_precedente"))})


# --------------------------------------------------------------------------- départements


def areas_as_partners(areas: pd.DataFrame) -> pd.DataFrame:
    """A region's areas in the partners chart's shape (one bar pair per area), in the
    chart's order as its subtitle says: by exports plus imports, largest first, ties
    by code."""
    return by_trade_volume(pd.DataFrame({
        "pays": areas["code"], "libelle": areas["nom"], "libelle_dgddi": areas["nom"],
        "importations": areas["importations"], "exportations": areas["exportations"],
        "solde": areas["solde"]}))


def areas_values(areas: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the départements figure's texts."""
    largest = areas.sort_values(["exportations", "code"], ascending=[False, True]).iloc[0] \
        if not areas.empty else None
    return {
        "n_departements": int(areas["page"].sum()),
        "avec_monaco": bool((~areas["page"]).any()),
        "premier": "" if largest is None else largest["nom"],
        "premier_exportations": "" if largest is None else format_eur(largest["exportations"]),
        "premier_part": "" if largest is None or not fiche.totaux.exportations else
        format_percent(largest["exportations"] / fiche.totaux.exportations),
        "unite": charts.partners_unit(areas_as_partners(areas)) if not areas.empty else "M€",
    }


def areas_csv(areas: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw table of a region's or France's areas."""
    return pd.DataFrame({
        "code": areas["code"], "code_dgddi": areas["dgddi"], "nom": areas["nom"],
        "region": areas["region"], "exportations_eur": areas["exportations"],
        "importations_eur": areas["importations"], "solde_eur": areas["solde"],
        "part_etats_unis": areas["part_etats_unis"], "part_hors_ue": areas["part_hors_ue"],
    }).reset_index(drop=True)


# --------------------------------------------------------------------------- national views

MAP_INDICATORS = ("exportations", "importations", "solde", "part_etats_unis", "part_hors_ue")


def map_tables(areas: pd.DataFrame, url_prefix: str) -> dict[str, pd.DataFrame]:
    """The values of each map indicator by area (the maps' input contract): value,
    French text, rank (descending, ties by code, among areas with a value; none for
    an area exporting nothing to the US, as on the pages), link."""
    drawn = areas[areas["page"]].reset_index(drop=True)
    out = {}
    for key in MAP_INDICATORS:
        values = drawn[key].astype(float)
        share = key.startswith("part_")
        texts_ = [format_percent(v) if share else
                  (format_signed_eur(v, "M€") if key == "solde" else format_eur(v, "M€"))
                  for v in drawn[key]]
        order = pd.DataFrame({"dgddi": drawn["dgddi"], "v": values}).dropna()
        order = order.sort_values(["v", "dgddi"], ascending=[False, True])
        ranks = {code: i + 1 for i, code in enumerate(order["dgddi"])}
        if key == "part_etats_unis":  # as on the pages: none without exports to the US
            us = dict(zip(drawn["dgddi"], drawn["etats_unis"]))
            ranks = {c: r for c, r in ranks.items() if shown_us_rank(r, us[c]) is not None}
        out[key] = pd.DataFrame({
            "dgddi": drawn["dgddi"], "nom": drawn["nom"], "valeur": values,
            "valeur_txt": ["–" if v is None or pd.isna(v) else t
                           for v, t in zip(drawn[key], texts_)],
            "rang": [ranks.get(c, float("nan")) for c in drawn["dgddi"]],
            "url": [f"{url_prefix}{c}.html" if paths.is_published(
                paths.site_page("departement", c)) else "" for c in drawn["code"]]})
    return out


def map_chart(areas: pd.DataFrame, ctx: ChartContext, words: ChartWords, url_prefix: str,
              indicators: tuple[str, ...] = MAP_INDICATORS):
    """A map of the départements (one indicator, or a choice of several)."""
    tables_ = map_tables(areas, url_prefix)
    return maps.indicator_map({k: tables_[k] for k in indicators}, ctx, title=words.title)


def map_values(areas: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the maps' texts."""
    drawn = areas[areas["page"]]
    top = drawn.sort_values(["exportations", "dgddi"], ascending=[False, True]).iloc[0]
    shares = drawn.dropna(subset=["part_etats_unis"]).sort_values(
        ["part_etats_unis", "dgddi"], ascending=[False, True])
    us_top = shares.iloc[0] if not shares.empty else top
    return {"n_departements": len(drawn), "premier": top["nom"],
            "premier_exportations": format_eur(top["exportations"]),
            "premier_us": us_top["nom"], "premier_us_part": format_percent(
                us_top["part_etats_unis"]),
            "part_us_france": format_percent(fiche.exposition.exportations.part_etats_unis)}


MAP_NAMES = frozenset({"n_departements", "premier", "premier_exportations", "premier_us",
                       "premier_us_part", "part_us_france"})


def ranking_data(fiche: Fiche) -> pd.DataFrame:
    """The départements ranked by their exposure to the United States."""
    return us_ranking(fiche.departements)


def ranking_bars(ranking: pd.DataFrame, by: str) -> pd.DataFrame:
    """The ranking as bars: by the share (``part``) or the value (``valeur``)."""
    if by == "part":
        ordered = ranking.dropna(subset=["rang_part"]).sort_values("rang_part")
        return exposure_charts.ranking_rows(
            ordered.assign(libelle=ordered["nom"], barre=ordered["part_etats_unis"],
                           texte=[format_percent(p) for p in ordered["part_etats_unis"]]),
            "barre", "texte", 15)
    ordered = ranking.sort_values("rang_valeur")
    return exposure_charts.ranking_rows(
        ordered.assign(libelle=ordered["nom"], barre=ordered["etats_unis"] / 1e6,
                       texte=[format_eur(v) for v in ordered["etats_unis"]]),
        "barre", "texte", 15)


def ranking_values(ranking: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the rankings' texts."""
    by_share = ranking.dropna(subset=["rang_part"]).sort_values("rang_part")
    by_value = ranking.sort_values("rang_valeur")
    first, rich = by_share.iloc[0], by_value.iloc[0]
    nothing = int((ranking["etats_unis"] == 0).sum())
    return {"n_departements": len(by_share), "n_montres": min(15, len(by_share)),
            "n_sans": nothing, "avec_sans": nothing > 0,
            "premier": first["nom"], "premier_part": format_percent(first["part_etats_unis"]),
            "premier_valeur": rich["nom"], "premier_valeur_txt": format_eur(rich["etats_unis"]),
            "part_us_france": format_percent(fiche.exposition.exportations.part_etats_unis)}


RANKING_NAMES = frozenset({"n_departements", "n_montres", "premier", "premier_part",
                           "premier_valeur", "premier_valeur_txt", "part_us_france",
                           "n_sans", "avec_sans"})


def ranking_csv(ranking: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw ranking: codes, exports, exports to the US, share, both ranks."""
    return pd.DataFrame({
        "code": ranking["code"], "code_dgddi": ranking["dgddi"], "nom": ranking["nom"],
        "region": ranking["region"], "exportations_eur": ranking["exportations"],
        "exportations_etats_unis_eur": ranking["etats_unis"],
        "part_etats_unis": ranking["part_etats_unis"], "rang_part": ranking["rang_part"],
        "rang_valeur": ranking["rang_valeur"]}).reset_index(drop=True)


def us_products_data(fiche: Fiche) -> pd.DataFrame:
    """France's products exported to the US, with the départements' names."""
    frame = fiche.etats_unis_produits.reset_index(drop=True)
    names = nomenclatures_names()
    frame = frame.assign(departements_txt=[
        ", ".join(f"{names[d]} ({format_percent(p)})" for d, _, p in areas)
        for areas in frame["departements"]])
    return frame


def nomenclatures_names() -> dict[str, str]:
    """DGDDI area code -> name."""
    from tradebook.nomenclatures import departement_by_dgddi

    return {code: area.nom for code, area in departement_by_dgddi().items()}


def us_products_bars(products: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` largest products as bars, labelled with their value and share."""
    return exposure_charts.ranking_rows(
        products.assign(barre=products["valeur"] / 1e6,
                        texte=[f"{format_eur(v)} · {format_percent(p)}"
                               for v, p in zip(products["valeur"], products["part"])]),
        "barre", "texte", n)


def us_products_values(products: pd.DataFrame, fiche: Fiche) -> dict[str, Any]:
    """Variables of the US products chart's texts."""
    first = products.iloc[0] if not products.empty else None
    return {"n_produits": len(products),
            "n_montres": min(len(products), fiche.rules.produits_exposition),
            "total_us": format_eur(fiche.exposition.exportations.etats_unis),
            "premier": "" if first is None else first["libelle"],
            "premier_valeur": "" if first is None else format_eur(first["valeur"]),
            "premier_part": "" if first is None else format_percent(first["part"]),
            "premier_departements": "" if first is None else first["departements_txt"]}


def us_products_csv(products: pd.DataFrame, fiche: Fiche) -> pd.DataFrame:
    """Raw table: each product, its value and share, its three main départements."""
    frame = pd.DataFrame({"code": products["code"], "libelle": products["libelle"],
                          "valeur_eur": products["valeur"], "part": products["part"]})
    for i in range(3):
        frame[f"departement_{i + 1}"] = [a[i][0] if len(a) > i else "" for a in
                                         products["departements"]]
        frame[f"part_departement_{i + 1}"] = [a[i][2] if len(a) > i else None for a in
                                              products["departements"]]
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- the registry


def _products_figure(flux: str) -> Figure:
    return Figure(
        key=f"produits_{flux}", section="produits",
        data=lambda fiche: fiche.produits[flux],
        chart=lambda data, ctx, words: charts.treemap_chart(data, flux, ctx, words),
        table=tables.products_table, csv=products_csv, variables=product_values,
        names=frozenset({"total", "solde", "n_produits", "premier", "premier_valeur",
                         "premier_part", "n_regroupes"}),
        empty=lambda data: data.empty or int(data["valeur"].sum()) <= 0,
    )


def _flows_figure(flux: str) -> Figure:
    return Figure(
        key=f"flux_{flux}", section=flux,
        data=lambda fiche: flow_data(fiche, flux),
        chart=lambda data, ctx, words: charts.sankey_chart(data.links, flux, ctx, words,
                                                           data.total),
        table=lambda data: tables.flows_table(data.links, flux), csv=flows_csv,
        variables=flow_values,
        names=frozenset({"total", "n_produits", "n_pays", "n_autres_produits", "n_autres_pays",
                         "tous_les_produits", "tous_les_pays", "n_rouges", "n_liens", "premier_produit", "premier_pays",
                         "premier_valeur", "regle_produits", "regle_pays"}),
        empty=lambda data: data.links.empty or int(data.links["valeur"].sum()) <= 0,
        comparisons=("region", "france"),
    )


def _total_statement(flux: str) -> Statement:
    shown = ("page.total", "page.solde") if flux == "importations" else ("page.total",)
    return Statement(key=f"total_{flux}", section=flux, texts=shown,
                     variables=lambda fiche: total_values(fiche, flux), names=TOTAL_NAMES)


REGISTRY: list[Entry] = [
    Figure(
        key="partenaires", section="balance",
        data=partners_data,
        chart=charts.partners_chart, table=tables.partners_table, csv=partners_csv,
        variables=partner_values,
        names=frozenset({"n_pays", "n_clients", "n_fournisseurs", "tous_les_pays",
                         "exportations", "importations", "solde", "premier",
                         "premier_exportations", "premier_importations", "premier_solde",
                         "regle", "unite", "avec_evolution", "annee_precedente"}),
        empty=lambda data: data.empty,
    ),
    _products_figure("exportations"),
    _products_figure("importations"),
    _total_statement("exportations"),
    _flows_figure("exportations"),
    _total_statement("importations"),
    _flows_figure("importations"),
    Statement(key="evolution_resume", section="evolution", texts=("evolution.resume",),
              variables=evolution_values, names=EVOLUTION_NAMES),
    _changes_figure("exportations"),
    _changes_figure("importations"),
    Figure(
        key="departements", section="departements",
        data=lambda fiche: fiche.departements,
        chart=lambda data, ctx, words: charts.partners_chart(areas_as_partners(data), ctx,
                                                             words),
        table=tables.areas_table, csv=areas_csv, variables=areas_values,
        names=frozenset({"n_departements", "avec_monaco", "premier", "premier_exportations",
                         "premier_part", "unite"}),
        empty=lambda data: data is None or data.empty,
        levels=frozenset({"region", "france"}), chart_levels=frozenset({"region"}),
        open_table=True,
    ),
    Figure(
        key="carte_departements", section="carte",
        data=lambda fiche: fiche.departements,
        chart=lambda data, ctx, words: map_chart(data, ctx, words, ""),
        table=tables.areas_table, csv=areas_csv, variables=map_values, names=MAP_NAMES,
        empty=lambda data: data is None or data.empty,
        levels=frozenset({"index"}), open_table=True,
    ),
    Figure(
        key="carte_etats_unis", section="etats_unis_carte",
        data=lambda fiche: fiche.departements,
        chart=lambda data, ctx, words: map_chart(data, ctx, words, "departements/",
                                                 ("part_etats_unis",)),
        table=lambda data: tables.areas_table(data), csv=areas_csv, variables=map_values,
        names=MAP_NAMES, empty=lambda data: data is None or data.empty,
        levels=frozenset({"etats_unis"}),
    ),
    Figure(
        key="classement_part_etats_unis", section="etats_unis_classements",
        data=ranking_data,
        chart=lambda data, ctx, words: exposure_charts.ranking_chart(
            ranking_bars(data, "part"), ctx, words),
        table=tables.us_ranking_table, csv=ranking_csv, variables=ranking_values,
        names=RANKING_NAMES, empty=lambda data: data.empty,
        levels=frozenset({"etats_unis"}), open_table=True,
    ),
    Figure(
        key="classement_valeur_etats_unis", section="etats_unis_classements",
        data=ranking_data,
        chart=lambda data, ctx, words: exposure_charts.ranking_chart(
            ranking_bars(data, "valeur"), ctx, words),
        table=tables.us_ranking_table, csv=ranking_csv, variables=ranking_values,
        names=RANKING_NAMES, empty=lambda data: data.empty,
        levels=frozenset({"etats_unis"}),
    ),
    Figure(
        key="produits_etats_unis", section="etats_unis_produits",
        data=us_products_data,
        chart=lambda data, ctx, words: exposure_charts.ranking_chart(
            us_products_bars(data, ctx.rules.produits_exposition), ctx, words),
        table=tables.us_products_table, csv=us_products_csv, variables=us_products_values,
        names=frozenset({"n_produits", "n_montres", "total_us", "premier", "premier_valeur",
                         "premier_part", "premier_departements"}),
        empty=lambda data: data.empty, levels=frozenset({"etats_unis"}),
    ),
    Statement(key="exposition_resume", section="exposition", texts=("exposition.resume",),
              variables=exposure_values, names=EXPOSURE_NAMES),
    Figure(
        key="etats_unis", section="exposition",
        data=lambda fiche: fiche.exposition.etats_unis,
        chart=exposure_charts.us_chart, table=tables.us_table, csv=us_csv,
        variables=us_values,
        names=frozenset({"n_produits", "n_montres", "tous_montres", "total_us", "part_us",
                         "premier",
                         "premier_valeur", "premier_part_produit"}),
        empty=lambda data: data.empty,
    ),
    Figure(
        key="specialisation", section="exposition",
        data=lambda fiche: fiche.exposition.specialisation,
        chart=exposure_charts.specialisation_chart, table=tables.specialisation_table,
        csv=specialisation_csv, variables=specialisation_values,
        names=frozenset({"n_produits", "n_montres", "n_specialises", "premier",
                         "premier_indice", "plus_specialise", "plus_specialise_indice",
                         "premier_le_plus_specialise", "autre_plus_specialise"}),
        empty=lambda data: data.empty,
    ),
    Figure(
        key="dependances", section="exposition",
        data=dependence_data, chart=exposure_charts.dependence_chart,
        table=tables.dependence_table, csv=dependence_csv, variables=dependence_values,
        names=frozenset({"n_dependances", "n_montres", "tous_montres", "premier",
                         "premier_valeur",
                         "premier_pays", "premier_part", "seuil_hors_ue", "seuil_hhi"}),
        empty=lambda data: data.empty,
    ),
]


def figures(level: str | None = None) -> list[Figure]:
    """The figures, in display order (those applying to ``level`` when given)."""
    return [e for e in REGISTRY if isinstance(e, Figure) and (level is None or level in e.levels)]


def figure(key: str) -> Figure:
    """One figure by its key."""
    for entry in figures():
        if entry.key == key:
            return entry
    raise KeyError(f"figure inconnue : {key!r} (figures : {', '.join(f.key for f in figures())})")


def entries(section: str, level: str) -> list[Entry]:
    """The entries of one section that apply to ``level``, in registry order."""
    return [e for e in REGISTRY if e.section == section and level in e.levels]


def sections(level: str | None = None) -> list[str]:
    """The sections of a page, in the order of ``data/textes.yml``: those with an entry
    for ``level``, and those without any entry (text only, such as the method)."""
    names = texts().keys_under("sections")
    ordered = list(dict.fromkeys(name.split(".")[0] for name in names))
    if level is None:
        return ordered
    return [s for s in ordered if entries(s, level) or not any(e.section == s for e in REGISTRY)]


@contextmanager
def registered(*new: Entry, before: str | None = None) -> Iterator[None]:
    """Entries added to the registry for the time of a block (tests, experiments),
    inserted before the entry ``before`` or at the end."""
    saved = list(REGISTRY)
    position = next((i for i, e in enumerate(REGISTRY) if e.key == before), len(REGISTRY))
    REGISTRY[position:position] = list(new)
    _texts_cache.clear()
    try:
        yield
    finally:
        REGISTRY[:] = saved
        _texts_cache.clear()


# --------------------------------------------------------------------------- texts


def text_schema() -> TextSchema:
    """What the code provides to each text: the figures' variables and the page's."""
    variables: dict[str, frozenset[str]] = dict(PAGE_TEXTS)
    required: dict[str, frozenset[str]] = {}
    for entry in REGISTRY:
        if isinstance(entry, Figure):
            family = f"figures.{entry.key}.*"
            variables[family] = BASE_VARIABLES | entry.names
            required[family] = FIGURE_TEXTS | ({"comparaison"} if entry.comparisons else set())
        else:
            for key in entry.texts:
                variables[key] = variables.get(key, frozenset()) | entry.names
    for entry in REGISTRY:
        required.setdefault(f"sections.{entry.section}.*", frozenset({"titre"}))
    return TextSchema(variables, required)


_texts_cache: dict[str, Texts] = {}


def texts() -> Texts:
    """The book's texts, read once and validated against the registry."""
    path = texts_module.TEXTS_FILE
    key = str(path)
    if key not in _texts_cache:
        _texts_cache.clear()
        _texts_cache[key] = texts_module.read_texts(path).validate(text_schema())
    return _texts_cache[key]


# --------------------------------------------------------------------------- rendering


@dataclass
class Rendered:
    """One figure drawn for one fiche: its texts now, chart and tables on demand."""

    figure: Figure
    fiche: Fiche
    data: Any
    values: dict[str, Any]
    words: ChartWords
    reading_key: list[str]
    summary: str
    comparison: str = ""
    _context: ChartContext | None = field(default=None, repr=False)

    @cached_property
    def chart(self) -> Any:
        """The Altair chart."""
        return self.figure.chart(self.data, self._context or charts.context_of(self.fiche),
                                 self.words)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The French table shown beside the chart."""
        return self.figure.table(self.data)

    @cached_property
    def csv(self) -> pd.DataFrame:
        """The raw values (codes, integer euros, fractions, booleans)."""
        return self.figure.csv(self.data, self.fiche)


def figure_values(figure: Figure, data: Any, fiche: Fiche) -> dict[str, Any]:
    """Every variable of a figure's texts; the figure must return exactly its ``names``."""
    own = figure.variables(data, fiche)
    if set(own) != figure.names:
        raise ValueError(f"figure {figure.key}: variables {sorted(set(own) ^ figure.names)} "
                         "differ from its declared names")
    return {**zone_values(fiche), "vide": figure.empty(data), **own}


def render(figure: Figure, fiche: Fiche) -> Rendered:
    """Draw ``figure`` for ``fiche``: data, texts (chart words, reading key, summary)."""
    t = texts()
    data = figure.data(fiche)
    values = figure_values(figure, data, fiche)
    labels = {name: t.text(figure.texts_key(f"etiquettes.{name}"), values)
              for name in t.keys_under(figure.texts_key("etiquettes"))}
    words = ChartWords(
        title=t.text(figure.texts_key("titre"), values),
        subtitle=tuple(t.sentences(figure.texts_key("sous_titre"), values)),
        description=t.text(figure.texts_key("description"), values),
        empty=t.text(figure.texts_key("vide"), values),
        labels=labels,
    )
    comparison = (t.text(figure.texts_key("comparaison"), values)
                  if figure.comparisons else "")
    return Rendered(figure, fiche, data, values, words,
                    t.sentences(figure.texts_key("cle"), values),
                    t.text(figure.texts_key("resume"), values), comparison)


def statement_sentences(statement: Statement, fiche: Fiche,
                        escape: Callable[[str], str] | None = None) -> list[str]:
    """The sentences of a statement for ``fiche`` (Markdown: **bold**, [links](url))."""
    values = statement.variables(fiche)
    t = texts()
    return [sentence for key in statement.texts for sentence in t.sentences(key, values, escape)]


def render_all(fiche: Fiche, level: str | None = None) -> dict[str, Rendered]:
    """Every figure the fiche's page shows (or a national view of it, ``level``),
    rendered, keyed by figure key (a figure hidden when empty is left out when it is)."""
    rendered = {f.key: render(f, fiche) for f in figures(level or fiche.zone.type)}
    return {key: r for key, r in rendered.items()
            if not (r.figure.hide_when_empty and r.values["vide"])}


def page_texts(key: str, values: Mapping[str, Any] | None = None,
               escape: Callable[[str], str] | None = None) -> list[str]:
    """Sentences of a page text (``page.introduction``...)."""
    return texts().sentences(key, values or {}, escape)
