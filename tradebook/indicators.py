"""Stage 3: the indicators of the ANCT portrait, as pure functions.

Every function takes the prepared rows of one zone (columns ``flux``, ``a129``,
``cpf4``, ``pays``, ``valeur``, ``masse``; ``flux`` is ``E`` or ``I``) or the
totals table, and returns a small DataFrame or dataclass. Values are integer
euros. Rankings break ties by code, ascending, so results never depend on the
order of the input rows. Aggregate buckets use the code
:data:`tradebook.nomenclatures.AUTRES` with the label « Autres ».
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from tradebook import nomenclatures
from tradebook.errors import MissingDataError
from tradebook.nomenclatures import AUTRES, FRANCE_CODE, Zone
from tradebook.texts import Rules

AUTRES_LIBELLE = "Autres"
FLUX_CODES = {"exportations": "E", "importations": "I"}
NIVEAUX = ("a129", "cpf4")

PARTNER_COLUMNS = ["pays", "libelle", "libelle_dgddi", "importations", "exportations", "solde"]
PRODUCT_COLUMNS = ["code", "libelle", "valeur", "part"]
FLOW_COLUMNS = ["produit", "produit_libelle", "pays", "pays_libelle", "valeur", "rouge"]


class PreparedLike(Protocol):
    """What :func:`compute_fiche` needs from ``tradebook.prepare.PreparedData``."""

    annee: int
    donnees_fictives: bool
    annee_partielle: bool
    trimestres: list[int]
    flux_absents: tuple[str, ...]
    anomalies: list  # tradebook.prepare.Anomaly
    previous: "PreparedLike | None"  # the year before, prepared the same way
    previous_reason: str | None

    def rows(self, zone: Zone) -> pd.DataFrame: ...  # noqa: D102

    def totals(self) -> pd.DataFrame: ...  # noqa: D102

    def country_totals(self) -> pd.DataFrame: ...  # noqa: D102

    def partner_rows(self, pays: str) -> pd.DataFrame: ...  # noqa: D102

    def labels(self, table: str) -> dict[str, str]: ...  # noqa: D102


# --------------------------------------------------------------------------- helpers


def flux_code(flux: str) -> str:
    """``"exportations"`` -> ``"E"``, ``"importations"`` -> ``"I"``."""
    try:
        return FLUX_CODES[flux]
    except KeyError:
        raise ValueError(f"flux inconnu : {flux!r} (attendu : exportations ou importations)") \
            from None


def check_level(level: str) -> str:
    """Validate a product level name (``a129`` or ``cpf4``)."""
    if level not in NIVEAUX:
        raise ValueError(f"level must be one of {NIVEAUX}, got {level!r}")
    return level


def label_of(code: str, labels: dict[str, str]) -> str:
    """The label of a code; « Autres » for the bucket; the code itself when unknown."""
    if code == AUTRES:
        return AUTRES_LIBELLE
    return labels.get(code, code)


def sums_by(rows: pd.DataFrame, flux: str, key: str) -> pd.Series:
    """Integer sums of ``valeur`` per ``key`` for one flux, zero sums dropped, index sorted."""
    selected = rows.loc[rows["flux"] == flux_code(flux), [key, "valeur"]]
    sums = selected.groupby(key, sort=True)["valeur"].sum().astype("int64")
    sums.index = sums.index.astype(str)
    return sums[sums != 0]


def rank(sums: pd.Series) -> pd.Series:
    """Values sorted descending, ties by code ascending."""
    frame = pd.DataFrame({"code": sums.index.astype(str), "valeur": sums.to_numpy()})
    frame = frame.sort_values(["valeur", "code"], ascending=[False, True], kind="mergesort")
    return pd.Series(frame["valeur"].to_numpy(), index=frame["code"].to_numpy(), dtype="int64")


def top_codes(sums: pd.Series, n: int) -> list[str]:
    """The ``n`` largest codes (ties by code ascending)."""
    return list(rank(sums).index[:n])


def share(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction, ``None`` when the whole is zero."""
    return None if whole == 0 else part / whole


# --------------------------------------------------------------------------- totals


@dataclass(frozen=True)
class ZoneTotals:
    """Exports, imports, balance of a zone and its shares of its region and of France.

    Shares are fractions (0.037 for 3.7 %). ``None`` means not applicable (a
    region has no region share, France has neither) or an empty denominator.
    """

    exportations: int
    importations: int
    solde: int
    part_region_exportations: float | None = None
    part_region_importations: float | None = None
    part_france_exportations: float | None = None
    part_france_importations: float | None = None


def total_of(totals: pd.DataFrame, niveau: str, zone: str, flux: str) -> int:
    """Sum of ``valeur`` in the totals table for one level, zone and flux (0 when absent)."""
    mask = ((totals["niveau"] == niveau) & (totals["zone"].astype(str) == zone)
            & (totals["flux"] == flux_code(flux)))
    return int(totals.loc[mask, "valeur"].sum())


def zone_key(zone: Zone) -> tuple[str, str]:
    """(niveau, code) of a zone in the totals table."""
    if zone.type == "departement":
        return "departement", zone.dgddi
    if zone.type == "region":
        return "region", zone.code
    if zone.type == "france":
        return "france", FRANCE_CODE
    raise ValueError(f"unknown zone type {zone.type!r}")


def zone_totals(totals: pd.DataFrame, zone: Zone) -> ZoneTotals:
    """Totals and shares of ``zone`` from the totals table (``niveau, zone, flux, valeur``).

    France is every row (Monaco included) and a region is its départements, as
    the data layer computes them; shares of a region are taken against the
    département's INSEE region, so an overseas département or Corsica has 100 %.
    """
    niveau, code = zone_key(zone)
    values = {flux: total_of(totals, niveau, code, flux) for flux in FLUX_CODES}
    result = {"exportations": values["exportations"], "importations": values["importations"],
              "solde": values["exportations"] - values["importations"]}
    for flux, value in values.items():
        if zone.type == "departement":
            region = total_of(totals, "region", zone.region_code, flux)
            result[f"part_region_{flux}"] = share(value, region)
        if zone.type in ("departement", "region"):
            france = total_of(totals, "france", FRANCE_CODE, flux)
            result[f"part_france_{flux}"] = share(value, france)
    return ZoneTotals(**result)


# --------------------------------------------------------------------------- partners


def partners(rows: pd.DataFrame, labels: dict[str, str], n: int,
             dgddi_labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The main partners: the union of the ``n`` largest countries at export and at import.

    Columns ``pays, libelle, libelle_dgddi, importations, exportations, solde``
    (``libelle`` is the display name, ``libelle_dgddi`` DGDDI's own label; solde =
    exports minus imports), sorted by exports + imports descending, ties by code.
    """
    dgddi_labels = labels if dgddi_labels is None else dgddi_labels
    exports = sums_by(rows, "exportations", "pays")
    imports = sums_by(rows, "importations", "pays")
    codes = sorted(set(top_codes(exports, n)) | set(top_codes(imports, n)))
    frame = pd.DataFrame({
        "pays": pd.Series(codes, dtype=object),
        "importations": imports.reindex(codes, fill_value=0).to_numpy(dtype="int64"),
        "exportations": exports.reindex(codes, fill_value=0).to_numpy(dtype="int64"),
    })
    frame["solde"] = frame["exportations"] - frame["importations"]
    frame["libelle"] = pd.Series([label_of(c, labels) for c in codes], dtype=object)
    frame["libelle_dgddi"] = pd.Series([label_of(c, dgddi_labels) for c in codes], dtype=object)
    return by_trade_volume(frame)[PARTNER_COLUMNS]


def by_trade_volume(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (columns ``pays``, ``exportations``, ``importations``) in the partners
    chart's order: exports plus imports descending, ties by code."""
    volume = frame["exportations"] + frame["importations"]
    ordered = frame.assign(_volume=volume).sort_values(["_volume", "pays"],
                                                       ascending=[False, True], kind="mergesort")
    return ordered.drop(columns="_volume").reset_index(drop=True)


# --------------------------------------------------------------------------- products


def products(rows: pd.DataFrame, flux: str, labels: dict[str, str],
             level: str = "a129") -> pd.DataFrame:
    """Every product with a non-zero value for ``flux``, its value and share of the flux total.

    Columns ``code, libelle, valeur, part``, sorted by value descending, ties by code.
    """
    sums = rank(sums_by(rows, flux, check_level(level)))
    total = int(sums.sum())
    codes = list(sums.index)
    frame = pd.DataFrame({
        "code": pd.Series(codes, dtype=object),
        "libelle": pd.Series([label_of(c, labels) for c in codes], dtype=object),
        "valeur": sums.to_numpy(dtype="int64"),
        "part": sums.to_numpy(dtype="float64") / total if total else [],
    })
    return frame[PRODUCT_COLUMNS]


# --------------------------------------------------------------------------- flows


def bucket(codes: pd.Series, keep: list[str]) -> pd.Series:
    """Codes kept as they are when in ``keep``, :data:`AUTRES` otherwise."""
    return codes.astype(str).where(codes.astype(str).isin(keep), AUTRES)


def flows(rows: pd.DataFrame, flux: str, product_labels: dict[str, str],
          country_labels: dict[str, str], level: str, n_products: int, n_countries: int,
          n_red: int) -> pd.DataFrame:
    """The links of the Sankey diagram for ``flux``.

    The ``n_products`` largest products and the ``n_countries`` largest countries keep
    their code;
    every other one goes to :data:`AUTRES` on its side. One row per (product
    bucket, country bucket) with a non-zero value; the rows add up exactly to
    the flux total. The ``n_red`` largest links whose two ends are named
    (neither is ``AUTRES``) get ``rouge=True``. Sorted by value descending,
    ties by (produit, pays). For imports the diagram reads countries ->
    products; the columns are the same.
    """
    level = check_level(level)
    top_products = top_codes(sums_by(rows, flux, level), n_products)
    top_countries = top_codes(sums_by(rows, flux, "pays"), n_countries)
    selected = rows.loc[rows["flux"] == flux_code(flux), [level, "pays", "valeur"]]
    pairs = selected.groupby([level, "pays"], sort=False, as_index=False)["valeur"].sum()
    links = pd.DataFrame({
        "produit": bucket(pairs[level], top_products).to_numpy(dtype=object),
        "pays": bucket(pairs["pays"], top_countries).to_numpy(dtype=object),
        "valeur": pairs["valeur"].to_numpy(dtype="int64"),
    })
    links = links.groupby(["produit", "pays"], sort=True, as_index=False)["valeur"].sum()
    links["valeur"] = links["valeur"].astype("int64")
    links = links[links["valeur"] != 0]
    links = links.sort_values(["valeur", "produit", "pays"], ascending=[False, True, True],
                              kind="mergesort").reset_index(drop=True)
    named = (links["produit"] != AUTRES) & (links["pays"] != AUTRES)
    red_index = links.index[named][:n_red]
    links["rouge"] = links.index.isin(red_index)
    links["produit_libelle"] = [label_of(c, product_labels) for c in links["produit"]]
    links["pays_libelle"] = [label_of(c, country_labels) for c in links["pays"]]
    links = links.astype({"produit": object, "pays": object, "produit_libelle": object,
                          "pays_libelle": object, "rouge": bool})
    return links[FLOW_COLUMNS]


# --------------------------------------------------------------------------- fiche


@dataclass
class Fiche:
    """Every indicator of one zone's portrait for one year.

    ``rows`` (the zone's prepared rows) and ``labels`` (code -> display label, by
    table: ``a129``/``cpf4``, ``pays``, ``pays_dgddi``) travel with the indicators,
    so that a figure's own indicator function can read them.
    """

    zone: Zone
    annee: int
    niveau: str
    donnees_fictives: bool
    annee_partielle: bool
    totaux: ZoneTotals
    partenaires: pd.DataFrame
    produits: dict[str, pd.DataFrame]
    flux: dict[str, pd.DataFrame]
    rules: Rules
    rows: pd.DataFrame
    labels: dict[str, dict[str, str]]
    trimestres: tuple[int, ...] = (1, 2, 3, 4)
    exposition: Any = None  # tradebook.exposure.Exposure
    departements: pd.DataFrame | None = None  # a region's or France's areas (areas_overview)
    flux_absents: tuple[str, ...] = ()  # flux the user declared missing ("E", "I")
    anomalies: tuple = ()  # the data's anomalies that concern this zone's rows
    evolution: Any = None  # tradebook.evolution.Evolution, or None
    etats_unis_produits: pd.DataFrame | None = None  # France: who exports what to the US
    evolution_reason: str | None = None  # why there is no evolution (one French sentence)


ANOMALY_COLUMNS = {"a129_inconnu": "a129", "cpf4_inconnu": "cpf4", "pays_inconnu": "pays"}


def zone_anomalies(anomalies: list, rows: pd.DataFrame) -> list:
    """The anomalies of the data (unknown codes, CPF4 under a foreign A129) that concern
    ``rows``: a code the zone's figures may show bare."""
    kept = []
    for anomaly in anomalies:
        column = ANOMALY_COLUMNS.get(anomaly.kind)
        if column is not None:
            hit = (rows[column] == anomaly.code).any()
        else:
            hit = ((rows["cpf4"] == anomaly.code) & (rows["a129"] == anomaly.a129)).any()
        if hit:
            kept.append(anomaly)
    return kept


def describe_zone(zone: Zone) -> str:
    """French phrase naming a zone in messages (« le département 61 (Orne) »)."""
    if zone.type == "departement":
        return f"le département {zone.code} ({zone.nom})"
    if zone.type == "region":
        return f"la région {zone.code} ({zone.nom})"
    return "la France"


def compute_fiche(prepared: PreparedLike, zone: Zone, niveau: str = "a129",
                  rules: Rules | None = None) -> Fiche:
    """Compute the whole portrait of ``zone`` from prepared data, with the page rules
    (top-N counts: :func:`tradebook.texts.rules` by default): the ANCT portrait, the
    exposure block, the evolution against the previous year when it was prepared,
    and for a region or France the table of its areas.

    Raises :class:`MissingDataError` when the zone has no trade at all in the year.
    """
    from tradebook.evolution import compute_evolution
    from tradebook.exposure import areas_overview, compute_exposure, us_products_by_area
    from tradebook.texts import rules as default_rules

    niveau = check_level(niveau)
    rules = rules or default_rules()
    rows = prepared.rows(zone)
    if rows.empty or int(rows["valeur"].abs().sum()) == 0:
        raise MissingDataError(
            f"Aucune donnée de commerce extérieur pour {describe_zone(zone)} en "
            f"{prepared.annee} dans les données fournies. Vérifiez l'année (--annee) "
            "et le fichier de données (--donnees)."
        )
    product_labels = prepared.labels(niveau)
    dgddi_countries = prepared.labels("pays")
    countries = nomenclatures.country_names(dgddi_countries)
    totals = prepared.totals()
    partner_table = partners(rows, countries, rules.partenaires, dgddi_countries)
    product_tables = {flux: products(rows, flux, product_labels, niveau) for flux in FLUX_CODES}
    previous = prepared.previous
    previous_rows = previous.rows(zone) if previous is not None else None
    exposure = compute_exposure(
        rows, prepared.rows(nomenclatures.france_zone()),
        zone.dgddi if zone.type == "departement" else None, totals, prepared.country_totals(),
        {"a129": prepared.labels("a129"), "cpf4": prepared.labels("cpf4")}, rules,
        previous_rows)
    return Fiche(
        zone=zone,
        annee=int(prepared.annee),
        niveau=niveau,
        donnees_fictives=bool(prepared.donnees_fictives),
        annee_partielle=bool(prepared.annee_partielle),
        totaux=zone_totals(totals, zone),
        partenaires=partner_table,
        produits=product_tables,
        flux={flux: flows(rows, flux, product_labels, countries, niveau, rules.produits_sankey,
                          rules.pays_sankey, rules.liens_rouges)
              for flux in FLUX_CODES},
        rules=rules,
        rows=rows,
        labels={niveau: product_labels, "pays": countries, "pays_dgddi": dgddi_countries},
        trimestres=tuple(prepared.trimestres),
        exposition=exposure,
        flux_absents=tuple(prepared.flux_absents),
        anomalies=tuple(zone_anomalies(prepared.anomalies, rows)),
        departements=None if zone.type == "departement" else areas_overview(
            [d.code_dgddi for d in (nomenclatures.departements() if zone.type == "france"
                                    else nomenclatures.departements_of(zone.code))],
            totals, prepared.country_totals()),
        evolution=None if previous_rows is None else compute_evolution(
            rows, previous_rows, previous.annee, partner_table, product_tables,
            product_labels, niveau),
        evolution_reason=prepared.previous_reason,
        etats_unis_produits=us_products_by_area(prepared.partner_rows("US"),
                                                prepared.labels("a129"))
        if zone.type == "france" else None,
    )

