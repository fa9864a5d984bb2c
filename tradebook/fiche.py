"""Stage 5: export a fiche as JSON, CSV tables or images, and the ``fiche`` command.

``python -m tradebook fiche --departement 61 --annee 2024 --donnees PATH --json``
prints the machine-readable fiche (the contract of issue 4): integer euros,
shares as fractions (0.037 for 3.7 %, ``null`` when not applicable), the code
``AUTRES`` for aggregate buckets.

CSV files (``--csv DIR``) are written for Excel as French users open it:
UTF-8 with a byte-order mark (so accents display), ``;`` as separator, CRLF line
ends, one file per table. Each holds the French-formatted columns of
:mod:`tradebook.tables` (``1 446,3 M€``, ``3,7 %``: for reading) followed by the
raw values under the JSON names (``valeur_eur`` in integer euros, ``part`` as a
fraction with a dot decimal, codes, ``rouge`` as True/False: for programs).
Images (``--images DIR``) are one SVG and one PNG per chart. File names start
with the zone and the year (``departement_61_2024_partenaires.csv``) so that
several fiches can share a folder. Every file is written atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from tradebook import nomenclatures
from tradebook.errors import TradebookError
from tradebook.files import write_text_atomic
from tradebook.formatting import format_share
from tradebook.indicators import FLUX_CODES, Fiche, ZoneTotals, compute_fiche
from tradebook.nomenclatures import Zone

TABLE_KEYS = ("partenaires", "produits_importations", "produits_exportations",
              "flux_exportations", "flux_importations")
CSV_ENCODING = "utf-8-sig"
CSV_SEPARATOR = ";"


# --------------------------------------------------------------------------- zone


def resolve_zone(args: argparse.Namespace) -> Zone:
    """The zone named by ``--departement``, ``--region`` or ``--france``.

    Unknown codes raise :class:`~tradebook.errors.UnknownCodeError` (French message).
    """
    if getattr(args, "departement", None):
        return nomenclatures.departement_zone(nomenclatures.resolve_departement(args.departement))
    if getattr(args, "region", None):
        note = nomenclatures.region_code_note(args.region)
        if note:
            print(f"Note : {note}", file=sys.stderr)
        return nomenclatures.region_zone(nomenclatures.resolve_region(args.region))
    if getattr(args, "france", False):
        return nomenclatures.france_zone()
    raise ValueError("one of departement, region or france is required")


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
             "importations_eur": int(r.importations), "exportations_eur": int(r.exportations),
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


RAW_COLUMNS = {
    "partenaires": {"importations": "importations_eur", "exportations": "exportations_eur",
                    "solde": "solde_eur"},
    "produits": {"valeur": "valeur_eur", "part": "part"},
    "flux_exportations": {"produit": "produit", "pays": "pays", "valeur": "valeur_eur",
                          "rouge": "rouge"},
    "flux_importations": {"pays": "pays", "produit": "produit", "valeur": "valeur_eur",
                          "rouge": "rouge"},
}


def raw_tables(fiche: Fiche) -> dict[str, pd.DataFrame]:
    """The raw values behind each table (integer euros, fractions, codes), under the JSON names."""
    def pick(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
        columns = RAW_COLUMNS[kind]
        return frame[list(columns)].rename(columns=columns).reset_index(drop=True)

    tables = {"partenaires": pick(fiche.partenaires, "partenaires")}
    for flux in FLUX_CODES:
        tables[f"produits_{flux}"] = pick(fiche.produits[flux], "produits")
        tables[f"flux_{flux}"] = pick(fiche.flux[flux], f"flux_{flux}")
    return tables


def csv_table(formatted: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The French-formatted columns followed by the raw columns, row by row."""
    if len(formatted) != len(raw):
        raise ValueError(f"formatted table has {len(formatted)} rows, raw table {len(raw)}")
    return pd.concat([formatted.reset_index(drop=True), raw], axis=1)


def write_csv(fiche: Fiche, folder: Path) -> list[Path]:
    """Write one CSV per table into ``folder``; return the paths written."""
    from tradebook.tables import fiche_tables

    formatted = fiche_tables(fiche)
    folder = output_folder(folder)
    written = []
    for key, raw in raw_tables(fiche).items():
        table = csv_table(formatted[key], raw)
        text = table.to_csv(sep=CSV_SEPARATOR, index=False, lineterminator="\r\n")
        written.append(write_text_atomic(folder / f"{file_prefix(fiche)}_{key}.csv", text,
                                         encoding=CSV_ENCODING, newline=""))
    return written


def write_images(fiche: Fiche, folder: Path) -> list[Path]:
    """Write every chart of the fiche as SVG and PNG into ``folder``; return the paths."""
    from tradebook.charts import fiche_charts, save_chart

    folder = output_folder(folder)
    written = []
    for key, chart in fiche_charts(fiche).items():
        base = folder / f"{file_prefix(fiche)}_{key}"
        save_chart(chart, base)
        written += [base.with_suffix(".svg"), base.with_suffix(".png")]
    return written


# --------------------------------------------------------------------------- text


def share_phrase(totaux: ZoneTotals, flux: str) -> str:
    """« (3,7 % de la région, 0,25 % de la France) », or empty when no share applies."""
    parts = []
    region = getattr(totaux, f"part_region_{flux}")
    france = getattr(totaux, f"part_france_{flux}")
    if region is not None:
        parts.append(f"{format_share(region)} de la région")
    if france is not None:
        parts.append(f"{format_share(france)} de la France")
    return f" ({', '.join(parts)})" if parts else ""


def summary(fiche: Fiche) -> str:
    """A short French text summary of the fiche (what the command prints by default)."""
    from tradebook.formatting import format_eur, format_signed_eur

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
                         f"({format_eur(first['valeur'])}, {format_share(first['part'])})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command


def run(args: argparse.Namespace) -> int:
    """Handler of ``python -m tradebook fiche``: resolve the zone, load the data, export."""
    zone = resolve_zone(args)  # before reading any data: an unknown code fails at once
    from tradebook.prepare import ensure_prepared

    prepared = ensure_prepared(args.donnees, args.annee, skip_invalid=args.skip_invalid,
                               allow_partial_year=args.allow_partial_year)
    fiche = compute_fiche(prepared, zone, args.niveau)
    info = sys.stderr if args.json else sys.stdout
    if args.json:
        print(fiche_to_json(fiche))
    if args.csv is not None:
        paths = write_csv(fiche, args.csv)
        print(f"{len(paths)} tableaux CSV écrits dans {args.csv}", file=info)
    if args.images is not None:
        paths = write_images(fiche, args.images)
        print(f"{len(paths)} images (SVG et PNG) écrites dans {args.images}", file=info)
    if not (args.json or args.csv is not None or args.images is not None):
        print(summary(fiche))
    return 0
