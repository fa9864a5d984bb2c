"""Stage 3: change over time, each figure against the previous year (pure functions).

Definitions (the contract of ``fiche --json``'s ``evolution`` block):

- for each flux: ``total_eur`` (year Y), ``total_eur_precedent`` (Y−1),
  ``variation_eur`` (Y − Y−1) and ``variation`` ((Y − Y−1) / Y−1, ``None`` when
  Y−1 is 0);
- ``partenaires``: the year's partners, in the same order, with their exports and
  imports in Y−1 (0 for a partner absent in Y−1);
- ``produits``: the year's products of each flux, in the same order, with their
  value in Y−1 (0 when absent);
- the largest changes by product: every product traded in Y or Y−1, by absolute
  change descending (ties by code).

The previous year is compared only when the data layer prepared it (all four
quarters of Y−1 for both flux, no series break between the years).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tradebook.indicators import FLUX_CODES, label_of, sums_by

CHANGE_COLUMNS = ["code", "libelle", "valeur", "valeur_precedente", "variation_eur",
                  "variation"]


@dataclass(frozen=True)
class FluxChange:
    """One flux's total this year and last year."""

    total: int
    previous: int

    @property
    def variation_eur(self) -> int:
        """The change in euros."""
        return self.total - self.previous

    @property
    def variation(self) -> float | None:
        """The relative change, ``None`` when last year's total is 0."""
        return None if self.previous == 0 else (self.total - self.previous) / self.previous


@dataclass(frozen=True)
class Evolution:
    """A zone's year against the previous one."""

    annee_precedente: int
    exportations: FluxChange
    importations: FluxChange
    partenaires: pd.DataFrame  # pays, exportations_precedent, importations_precedent
    produits: dict[str, pd.DataFrame]  # flux -> code, valeur_precedent
    variations: dict[str, pd.DataFrame]  # flux -> CHANGE_COLUMNS, largest changes first


def relative(change: int, previous: int) -> float | None:
    """``change / previous``, ``None`` when ``previous`` is 0."""
    return None if previous == 0 else change / previous


def previous_of(codes: pd.Series, sums: pd.Series) -> list[int]:
    """Last year's value of each code (0 when absent)."""
    return [int(sums.get(str(c), 0)) for c in codes]


def partner_history(partners: pd.DataFrame, previous_rows: pd.DataFrame) -> pd.DataFrame:
    """The year's partners, in order, with their exports and imports the year before."""
    exports = sums_by(previous_rows, "exportations", "pays")
    imports = sums_by(previous_rows, "importations", "pays")
    return pd.DataFrame({"pays": partners["pays"].to_numpy(),
                         "exportations_precedent": previous_of(partners["pays"], exports),
                         "importations_precedent": previous_of(partners["pays"], imports)})


def product_history(products: pd.DataFrame, previous_rows: pd.DataFrame, flux: str,
                    level: str) -> pd.DataFrame:
    """The year's products of ``flux``, in order, with their value the year before."""
    sums = sums_by(previous_rows, flux, level)
    return pd.DataFrame({"code": products["code"].to_numpy(),
                         "valeur_precedent": previous_of(products["code"], sums)})


def product_changes(rows: pd.DataFrame, previous_rows: pd.DataFrame, flux: str,
                    labels: dict[str, str], level: str) -> pd.DataFrame:
    """Every product traded in either year, by absolute change descending (ties by code):
    this year's value, last year's, the change in euros and relative (``None`` from 0)."""
    now, before = sums_by(rows, flux, level), sums_by(previous_rows, flux, level)
    codes = sorted(set(now.index) | set(before.index))
    frame = pd.DataFrame({
        "code": pd.Series(codes, dtype=object),
        "libelle": pd.Series([label_of(c, labels) for c in codes], dtype=object),
        "valeur": [int(now.get(c, 0)) for c in codes],
        "valeur_precedente": [int(before.get(c, 0)) for c in codes],
    })
    frame["variation_eur"] = frame["valeur"] - frame["valeur_precedente"]
    frame["variation"] = [relative(v, p) for v, p in
                          zip(frame["variation_eur"], frame["valeur_precedente"])]
    frame["_taille"] = frame["variation_eur"].abs()
    frame = frame.sort_values(["_taille", "code"], ascending=[False, True], kind="mergesort")
    return frame[CHANGE_COLUMNS].reset_index(drop=True)


def compute_evolution(rows: pd.DataFrame, previous_rows: pd.DataFrame, annee_precedente: int,
                      partners: pd.DataFrame, products: dict[str, pd.DataFrame],
                      labels: dict[str, str], level: str) -> Evolution:
    """The evolution block of a zone, from its rows of both years and its year's
    partners and products (whose order the history follows)."""
    def change(flux: str) -> FluxChange:
        return FluxChange(int(sums_by(rows, flux, "pays").sum()),
                          int(sums_by(previous_rows, flux, "pays").sum()))

    return Evolution(
        annee_precedente=int(annee_precedente),
        exportations=change("exportations"), importations=change("importations"),
        partenaires=partner_history(partners, previous_rows),
        produits={flux: product_history(products[flux], previous_rows, flux, level)
                  for flux in FLUX_CODES},
        variations={flux: product_changes(rows, previous_rows, flux, labels, level)
                    for flux in FLUX_CODES},
    )
