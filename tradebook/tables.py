"""The table behind every chart, in French, for display next to it and CSV export.

Values are formatted with :mod:`tradebook.formatting`, one unit per table (the
unit of its largest amount), so that a column reads and sorts by eye. The raw
euros stay in the indicators' DataFrames (and the fiche's raw CSV files).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tradebook.formatting import common_unit, format_eur, format_percent, format_signed_eur

FLUX = ("exportations", "importations")
MAIN_LINK = "oui"


def _check_flux(flux: str) -> None:
    """Reject a flux name other than ``exportations`` / ``importations``."""
    if flux not in FLUX:
        raise ValueError(f"flux inconnu : {flux!r} (attendu : exportations ou importations)")


def partners_table(partners: pd.DataFrame) -> pd.DataFrame:
    """Main partners: country, code, imports, exports, signed balance."""
    amounts = list(partners["importations"]) + list(partners["exportations"])
    unit = common_unit(amounts)
    return pd.DataFrame({
        "Pays": partners["libelle"].astype(str).to_numpy(),
        "Code": partners["pays"].astype(str).to_numpy(),
        "Importations": [format_eur(v, unit) for v in partners["importations"]],
        "Exportations": [format_eur(v, unit) for v in partners["exportations"]],
        "Solde": [format_signed_eur(v, unit) for v in partners["solde"]],
    }, dtype=object)


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
    _check_flux(flux)
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


def fiche_tables(fiche: Any) -> dict[str, pd.DataFrame]:
    """Every table of a fiche, keyed as the charts of :func:`tradebook.charts.fiche_charts`."""
    return {
        "partenaires": partners_table(fiche.partenaires),
        "produits_importations": products_table(fiche.produits["importations"]),
        "produits_exportations": products_table(fiche.produits["exportations"]),
        "flux_exportations": flows_table(fiche.flux["exportations"], "exportations"),
        "flux_importations": flows_table(fiche.flux["importations"], "importations"),
    }

