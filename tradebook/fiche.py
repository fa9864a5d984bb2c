"""Stage 5: export a fiche as JSON, CSV tables or images.

``python -m tradebook fiche --departement 61 --annee 2024 --donnees PATH --json``
prints the machine-readable fiche: integer euros, shares as fractions (0.037 for
3.7 %, ``null`` when not applicable), the code ``AUTRES`` for aggregate buckets.

CSV files (``--csv DIR``) hold, for every figure of the registry that applies to
the zone, the raw values of its table, one header per column: codes, labels,
integer euros (``*_eur``), fractions (``part``), ``oui``/``non``. The first column,
``source``, says where the figures come from, and says « Données fictives » on
every row when the data are the illustrative sample. Two flavours:

- ``excel-fr`` (default): what French Excel opens as is: UTF-8 with a byte-order
  mark, ``;`` as separator, decimal comma, CRLF line ends;
- ``international``: UTF-8 without mark, ``,`` as separator, decimal point, LF.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with ``'`` so that no spreadsheet runs it as a formula (a label file
could carry ``=HYPERLINK(...)``). Images (``--images DIR``) are one SVG and one PNG
per chart. File names start with the zone and the year
(``departement_61_2024_partenaires.csv``). Every file is written atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tradebook import style
from tradebook.errors import TradebookError
from tradebook.files import write_text_atomic
from tradebook.formatting import format_eur, format_percent, format_signed_eur
from tradebook.indicators import FLUX_CODES, Fiche, ZoneTotals
from tradebook.nomenclatures import Zone


# --------------------------------------------------------------------------- JSON


def as_share(value: float | None) -> float | None:
    """A share as a plain float, or ``None``."""
    return None if value is None else float(value)


def zone_dict(zone: Zone) -> dict[str, Any]:
    """The ``zone`` object of the JSON (``null`` region for France)."""
    return {"type": zone.type, "code": zone.code, "nom": zone.nom,
            "region_code": zone.region_code or None, "region_nom": zone.region_nom or None}


def flux_dict(totaux: ZoneTotals, flux: str) -> dict[str, Any]:
    """``{total_eur, part_region, part_france}`` for one flux."""
    return {"total_eur": int(getattr(totaux, flux)),
            "part_region": as_share(getattr(totaux, f"part_region_{flux}")),
            "part_france": as_share(getattr(totaux, f"part_france_{flux}"))}


def partners_list(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``partenaires`` array."""
    return [{"pays": str(r.pays), "libelle": str(r.libelle),
             "libelle_dgddi": str(r.libelle_dgddi), "importations_eur": int(r.importations), "exportations_eur": int(r.exportations),
             "solde_eur": int(r.solde)}
            for r in frame.itertuples(index=False)]


def products_list(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One ``produits`` array."""
    return [{"code": str(r.code), "libelle": str(r.libelle), "valeur_eur": int(r.valeur),
             "part": float(r.part)}
            for r in frame.itertuples(index=False)]


def links_list(frame: pd.DataFrame, flux: str) -> list[dict[str, Any]]:
    """One ``liens`` array; imports read country -> product, exports product -> country."""
    first, second = ("pays", "produit") if flux == "importations" else ("produit", "pays")
    return [{first: str(getattr(r, first)), second: str(getattr(r, second)),
             "valeur_eur": int(r.valeur), "rouge": bool(r.rouge)}
            for r in frame.itertuples(index=False)]


def exposure_flux_dict(block) -> dict[str, Any]:
    """One flux of the ``exposition`` block: shares and concentrations, rank and count."""
    return {"part_etats_unis": as_share(block.part_etats_unis),
            "part_hors_ue": as_share(block.part_hors_ue),
            "hhi_pays": as_share(block.hhi_pays), "hhi_produits": as_share(block.hhi_produits),
            "rang_part_etats_unis": block.rang_part_etats_unis,
            "nb_departements": block.nb_departements,
            "part_etats_unis_precedente": as_share(block.part_etats_unis_precedente)}


EXPOSURE_LISTS = {
    "etats_unis": ["code", "libelle", "valeur_eur", "part_du_produit",
                   "part_des_exportations_us"],
    "specialisation": ["code", "libelle", "valeur_eur", "part", "part_france", "indice"],
    "dependances": ["code", "libelle", "valeur_eur", "part_hors_ue", "hhi", "premier_pays",
                    "part_premier_pays"],
}


def plain(value: Any) -> Any:
    """A numpy or pandas scalar as a plain JSON value (NaN as ``null``)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def exposure_dict(fiche: Fiche) -> dict[str, Any] | None:
    """The ``exposition`` block of the JSON (see :mod:`tradebook.exposure`)."""
    exposure = fiche.exposition
    if exposure is None:
        return None
    out: dict[str, Any] = {flux: exposure_flux_dict(getattr(exposure, flux)) for flux in FLUX_CODES}
    for name, columns in EXPOSURE_LISTS.items():
        frame = getattr(exposure, name).rename(columns={"valeur": "valeur_eur"})
        out[name] = [{c: plain(row[c]) for c in columns} for _, row in frame.iterrows()]
    return out


def change_dict(change) -> dict[str, Any]:
    """One flux of the ``evolution`` block."""
    return {"total_eur": int(change.total), "total_eur_precedent": int(change.previous),
            "variation_eur": int(change.variation_eur), "variation": as_share(change.variation)}


def evolution_dict(fiche: Fiche) -> dict[str, Any] | None:
    """The ``evolution`` block (see :mod:`tradebook.evolution`), ``null`` without a
    comparable previous year."""
    evolution = fiche.evolution
    if evolution is None:
        return None
    return {
        "annee_precedente": int(evolution.annee_precedente),
        **{flux: change_dict(getattr(evolution, flux)) for flux in FLUX_CODES},
        "partenaires": [{"pays": str(r.pays),
                         "exportations_eur_precedent": int(r.exportations_precedent),
                         "importations_eur_precedent": int(r.importations_precedent)}
                        for r in evolution.partenaires.itertuples(index=False)],
        "produits": {flux: [{"code": str(r.code), "valeur_eur_precedent": int(r.valeur_precedent)}
                            for r in evolution.produits[flux].itertuples(index=False)]
                     for flux in FLUX_CODES},
    }


def fiche_to_dict(fiche: Fiche) -> dict[str, Any]:
    """The machine-readable fiche: plain ``dict``/``list``/``int``/``float``/``str``/``bool``."""
    return {
        "zone": zone_dict(fiche.zone),
        "annee": int(fiche.annee),
        "donnees_fictives": bool(fiche.donnees_fictives),
        "annee_partielle": bool(fiche.annee_partielle),
        "niveau": fiche.niveau,
        "exportations": flux_dict(fiche.totaux, "exportations"),
        "importations": flux_dict(fiche.totaux, "importations"),
        "solde_eur": int(fiche.totaux.solde),
        "partenaires": partners_list(fiche.partenaires),
        "produits": {flux: products_list(fiche.produits[flux]) for flux in FLUX_CODES},
        "flux": {flux: {"liens": links_list(fiche.flux[flux], flux)} for flux in FLUX_CODES},
        "exposition": exposure_dict(fiche),
        "evolution": evolution_dict(fiche),
    }


def fiche_to_json(fiche: Fiche) -> str:
    """The fiche as one JSON object (UTF-8 text, accents kept)."""
    return json.dumps(fiche_to_dict(fiche), ensure_ascii=False)


# --------------------------------------------------------------------------- files


def file_prefix(fiche: Fiche) -> str:
    """Start of every exported file name: ``departement_61_2024``, ``region_28_2024``, ``france_2024``."""
    if fiche.zone.type == "france":
        return f"france_{fiche.annee}"
    return f"{fiche.zone.type}_{fiche.zone.code}_{fiche.annee}"


def output_folder(folder: Path) -> Path:
    """Create the output folder, or explain in French why it cannot be used."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise TradebookError(f"{folder} existe et n'est pas un dossier : indiquez un dossier "
                             "de sortie (il sera créé s'il n'existe pas).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TradebookError(f"Impossible de créer le dossier {folder} ({exc.strerror}).") from exc
    return folder


@dataclass(frozen=True)
class CsvFlavour:
    """How a CSV file is written."""

    encoding: str
    separator: str
    decimal: str
    line_end: str


CSV_FLAVOURS = {
    "excel-fr": CsvFlavour("utf-8-sig", ";", ",", "\r\n"),
    "international": CsvFlavour("utf-8", ",", ".", "\n"),
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_frame(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The exported table: ``source`` first, booleans as ``oui``/``non``, text cells
    neutralised against formula injection, numbers left as numbers."""
    columns: dict[str, Any] = {"source": [source] * len(raw)}
    for name, column in raw.items():
        if column.dtype == bool:
            columns[name] = column.map({True: "oui", False: "non"})
        elif column.dtype.kind in "biuf":
            columns[name] = column
        else:
            columns[name] = column.map(lambda v: neutralised(str(v)))
    frame = pd.DataFrame(columns)
    frame["source"] = frame["source"].map(neutralised)
    return frame


def csv_text(frame: pd.DataFrame, flavour: CsvFlavour) -> str:
    """The CSV text of one table in ``flavour``."""
    return frame.to_csv(sep=flavour.separator, decimal=flavour.decimal, index=False,
                        lineterminator=flavour.line_end)


def source_mark(fiche: Fiche) -> str:
    """The ``source`` column's value: DGDDI and the year, or the fictitious-data mark."""
    return style.source_line(fiche.annee, fiche.donnees_fictives, fiche.annee_partielle)


def write_csv(fiche: Fiche, folder: Path, csv_format: str = "excel-fr") -> list[Path]:
    """Write one CSV per figure of the fiche's zone into ``folder``; return the paths."""
    from tradebook import figures

    if csv_format not in CSV_FLAVOURS:
        raise TradebookError(f"Format CSV inconnu : « {csv_format} » (formats : "
                             f"{', '.join(CSV_FLAVOURS)}).")
    flavour = CSV_FLAVOURS[csv_format]
    folder = output_folder(folder)
    written = []
    for key, rendered in figures.render_all(fiche).items():
        text = csv_text(csv_frame(rendered.csv, source_mark(fiche)), flavour)
        written.append(write_text_atomic(folder / f"{file_prefix(fiche)}_{key}.csv", text,
                                         encoding=flavour.encoding, newline=""))
    return written


def write_images(fiche: Fiche, folder: Path) -> list[Path]:
    """Write every chart of the fiche as SVG and PNG into ``folder``; return the paths."""
    from tradebook import figures
    from tradebook.charts import save_chart

    folder = output_folder(folder)
    written = []
    for key, rendered in figures.render_all(fiche).items():
        if not rendered.figure.draws_chart(fiche.zone.type):
            continue
        base = folder / f"{file_prefix(fiche)}_{key}"
        written += list(save_chart(rendered.chart, base))
    return written


# --------------------------------------------------------------------------- text


def share_phrase(totaux: ZoneTotals, flux: str) -> str:
    """« (3,7 % de la région, 0,25 % de la France) », or empty when no share applies."""
    parts = []
    region = getattr(totaux, f"part_region_{flux}")
    france = getattr(totaux, f"part_france_{flux}")
    if region is not None:
        parts.append(f"{format_percent(region)} de la région")
    if france is not None:
        parts.append(f"{format_percent(france)} de la France")
    return f" ({', '.join(parts)})" if parts else ""


def summary(fiche: Fiche) -> str:
    """A short French text summary of the fiche (what the command prints by default)."""
    zone = fiche.zone
    title = zone.nom if zone.type == "france" else f"{zone.nom} ({zone.code})"
    notes = [n for n, on in (("données fictives", fiche.donnees_fictives),
                             ("année partielle", fiche.annee_partielle)) if on]
    lines = [f"Commerce extérieur — {title} — {fiche.annee}"
             + (f" [{', '.join(notes)}]" if notes else "")]
    for flux in FLUX_CODES:
        lines.append(f"{flux.capitalize()} : {format_eur(getattr(fiche.totaux, flux))}"
                     f"{share_phrase(fiche.totaux, flux)}")
    lines.append(f"Solde : {format_signed_eur(fiche.totaux.solde)}")
    if not fiche.partenaires.empty:
        lines.append("Principaux partenaires : " + ", ".join(fiche.partenaires["libelle"]))
    for flux, verb in (("exportations", "exporté"), ("importations", "importé")):
        table = fiche.produits[flux]
        if not table.empty:
            first = table.iloc[0]
            lines.append(f"Premier produit {verb} : {first['libelle']} "
                         f"({format_eur(first['valeur'])}, {format_percent(first['part'])})")
    return "\n".join(lines)
