"""The project's nomenclature tables (``data/nomenclatures/``) and the code resolver.

Config as data: départements, regions and labels live in tidy CSV files; this
module loads them (once, cached) and turns what a user types into a zone.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tradebook.errors import UnknownCodeError
from tradebook.paths import NOMENCLATURES

MONACO = "99"
FRANCE_CODE = "FR"
AUTRES = "AUTRES"
# "de" contracted with a name's article (departements.csv, column article).
DE_ARTICLE = {"le": "du ", "les": "des ", "la": "de la ", "l'": "de l'"}


@dataclass(frozen=True)
class Departement:
    """A DGDDI area: a département, Corsica as one area ``20``, or Monaco ``99``."""

    code_dgddi: str
    codes_cog: tuple[str, ...]
    nom: str
    libelle_dgddi: str
    region_dgddi: str
    region: str
    region_nom: str
    page: bool
    article: str = ""  # "l'", "le", "la", "les" or "" (Paris, Mayotte)

    @property
    def de_nom(self) -> str:
        """The name after "de": ``de l'Orne``, ``du Calvados``, ``des Landes``, ``de Paris``."""
        return DE_ARTICLE.get(self.article, "de ") + self.nom

    @property
    def code(self) -> str:
        """Code shown to readers: the COG code, ``20`` for Corsica, ``971``... overseas."""
        if self.code_dgddi == "20" or not self.codes_cog:
            return self.code_dgddi
        return self.codes_cog[0]


@dataclass(frozen=True)
class Region:
    """An INSEE region (each overseas département is a region of its own)."""

    code: str
    nom: str
    ordre: int


@dataclass(frozen=True)
class Zone:
    """What a fiche is about: a département, a region or France."""

    type: str  # "departement", "region" or "france"
    code: str  # COG code, INSEE region code, or "FR"
    nom: str
    dgddi: str = ""  # DGDDI area code for a département
    region_code: str = ""
    region_nom: str = ""


def read_table(name: str, folder: Path = NOMENCLATURES) -> list[dict[str, str]]:
    """Rows of one nomenclature CSV table as dictionaries of strings."""
    with open(folder / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=None)
def departements() -> tuple[Departement, ...]:
    """All 101 DGDDI areas, in natural code order (01...19, 20, 21...95, 9A...9E, 99)."""
    deps = [
        Departement(
            code_dgddi=r["code_dgddi"], codes_cog=tuple(r["codes_cog"].split()),
            nom=r["nom"], libelle_dgddi=r["libelle_dgddi"],
            region_dgddi=r["region_dgddi"], region=r["region_insee"],
            region_nom=r["region_nom"], page=r["page"] == "oui", article=r["article"],
        )
        for r in read_table("departements.csv")
    ]
    return tuple(sorted(deps, key=lambda d: natural_key(d.code_dgddi)))


@lru_cache(maxsize=None)
def regions() -> tuple[Region, ...]:
    """INSEE regions in publication order (metropolitan, then overseas)."""
    rows = read_table("regions.csv")
    return tuple(Region(r["code_insee"], r["nom"], int(r["ordre"])) for r in rows)


def natural_key(code: str) -> tuple[int, str]:
    """Sort key giving 01...19, 20, 21...95, 9A...9E, 99 (digits before letters)."""
    return (0 if code.isdigit() else 1, code) if len(code) == 2 else (2, code)


@lru_cache(maxsize=None)
def departement_by_dgddi() -> dict[str, Departement]:
    """DGDDI area code -> Departement."""
    return {d.code_dgddi: d for d in departements()}


@lru_cache(maxsize=None)
def region_by_code() -> dict[str, Region]:
    """INSEE region code -> Region."""
    return {r.code: r for r in regions()}


@lru_cache(maxsize=None)
def dgddi_region_codes() -> frozenset[str]:
    """Region codes used by DGDDI in the data files."""
    return frozenset(d.region_dgddi for d in departements())


@lru_cache(maxsize=None)
def _aliases() -> dict[str, Departement]:
    """Every accepted spelling of a département code -> its DGDDI area."""
    aliases: dict[str, Departement] = {}
    for dep in departements():
        for alias in (dep.code_dgddi, *dep.codes_cog):
            aliases[alias.upper()] = dep
    return aliases


def normalise_code(text: str | int) -> str:
    """Upper-case, spaces removed, one-digit numbers padded (``1`` -> ``01``)."""
    code = re.sub(r"\s+", "", str(text)).upper()
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


def _suggest(code: str, candidates: list[str]) -> str:
    """French hint listing up to 3 close codes, those sharing the first character first."""
    same_start = [c for c in candidates if code and c[:1] == code[:1]]
    close = difflib.get_close_matches(code, same_start, n=3, cutoff=0.3)
    close += [c for c in difflib.get_close_matches(code, candidates, n=6, cutoff=0.3)
              if c not in close]
    return f" Codes proches : {', '.join(close[:3])}." if close else ""


def resolve_departement(text: str | int) -> Departement:
    """The DGDDI area for what a user typed: ``61``, ``2A``, ``2b``, ``20``, ``971``, ``9A``...

    Raises :class:`UnknownCodeError` with a French message suggesting close codes.
    Monaco (``99``) is refused: it is data for its region and France, not a page.
    """
    code = normalise_code(text)
    dep = _aliases().get(code)
    if dep is None:
        pages = [a for a, d in _aliases().items() if d.page]
        raise UnknownCodeError(
            f"Département inconnu : « {text} ». Utilisez un code de département "
            f"(01 à 95, 2A ou 2B pour la Corse, 971 à 976 pour l'outre-mer).{_suggest(code, pages)}"
        )
    if not dep.page:
        raise UnknownCodeError(
            f"« {text} » désigne {dep.nom} : ses échanges sont comptés avec la région "
            f"{dep.region_nom} et la France, mais n'ont pas de page propre."
        )
    return dep


def resolve_region(text: str | int) -> Region:
    """The INSEE region for an INSEE code (``28``) or a DGDDI region code (``05``).

    INSEE codes win when a code exists in both systems (``01``, ``03``, ``04``,
    ``24``); :func:`region_code_note` explains the other reading to the user.
    """
    code = normalise_code(text)
    if code in region_by_code():
        return region_by_code()[code]
    matches = {d.region for d in departements() if d.region_dgddi == code}
    if len(matches) == 1:
        return region_by_code()[matches.pop()]
    raise UnknownCodeError(
        f"Région inconnue : « {text} ». Utilisez un code région INSEE (par exemple 28 "
        f"pour la Normandie) ou un code région DGDDI (05).{_suggest(code, list(region_by_code()))}"
    )


def region_code_note(text: str | int) -> str | None:
    """A French note when ``text`` is an INSEE code and also a different DGDDI code."""
    code = normalise_code(text)
    insee = region_by_code().get(code)
    dgddi = {d.region for d in departements() if d.region_dgddi == code} - {code}
    if insee is None or not dgddi:
        return None
    others = ", ".join(f"{region_by_code()[r].nom} (INSEE {r})" for r in sorted(dgddi))
    return (f"« {text} » est lu comme code INSEE : {insee.nom}. Le code DGDDI {code} "
            f"désigne {others} : utilisez son code INSEE.")


def departement_zone(dep: Departement) -> Zone:
    """The zone of a département page."""
    return Zone("departement", dep.code, dep.nom, dep.code_dgddi, dep.region, dep.region_nom)


def region_zone(region: Region) -> Zone:
    """The zone of a region."""
    return Zone("region", region.code, region.nom, region_code=region.code, region_nom=region.nom)


def france_zone() -> Zone:
    """The zone of France as a whole (every row of the data, Monaco included)."""
    return Zone("france", FRANCE_CODE, "France")


def departements_of(region_code: str) -> tuple[Departement, ...]:
    """DGDDI areas of a region, Monaco included for Provence-Alpes-Côte d'Azur."""
    return tuple(d for d in departements() if d.region == region_code)


def page_departements() -> tuple[Departement, ...]:
    """The 100 areas that get a page (all but Monaco), in natural code order."""
    return tuple(d for d in departements() if d.page)


def labels_valid_in(table: str, year: int) -> dict[str, str]:
    """Code -> label from a label table (``a129``, ``cpf4``, ``pays``) valid during ``year``."""
    return select_valid_labels(
        ((r["code"], r["libelle"], r["debut"], r["fin"]) for r in read_table(f"{table}.csv")),
        year,
    )


def select_valid_labels(rows, year: int) -> dict[str, str]:
    """From (code, label, start YYYYMM, end YYYYMM) rows, the label valid in ``year``.

    A label counts when its validity overlaps the year; when several do (a code
    reused), the most recent start wins.
    """
    chosen: dict[str, tuple[str, str]] = {}
    first, last = f"{year}01", f"{year}12"
    for code, label, start, end in rows:
        if start <= last and end >= first:
            if code not in chosen or start > chosen[code][0]:
                chosen[code] = (start, label)
    return {code: label for code, (start, label) in chosen.items()}


@lru_cache(maxsize=None)
def cpf4_to_a129() -> dict[str, str]:
    """CPF4 code -> its A129 parent (goods only)."""
    return {r["code"]: r["a129"] for r in read_table("cpf4.csv") if r["a129"]}
