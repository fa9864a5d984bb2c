"""The project's nomenclature tables (``data/nomenclatures/``) and the code resolver.

Config as data: départements, regions and labels live in tidy CSV files; this
module loads them (once, cached) and turns what a user types into a zone.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tradebook.errors import UnknownCodeError
from tradebook.paths import NOMENCLATURES

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
    article: str = ""  # "la", "le", "les", "l'" or "" (La Réunion, Mayotte)
    page: bool = True  # an overseas region has no page: its département's page serves

    @property
    def de_nom(self) -> str:
        """The name after "de": ``de la Normandie``, ``des Hauts-de-France``."""
        return DE_ARTICLE.get(self.article, "de ") + self.nom


ZONE_TYPES = ("departement", "region", "france")


@dataclass(frozen=True)
class Zone:
    """What a fiche is about: a département, a region or France.

    Resolved once from what the user typed (:func:`resolve_zone`) and passed down
    unchanged. ``single_area`` is decided here once: a département that forms its
    region alone (Corsica, each overseas département), or a region of one area.
    """

    type: str  # "departement", "region" or "france"
    code: str  # COG code, INSEE region code, or "FR"
    nom: str
    dgddi: str = ""  # DGDDI area code for a département
    region_code: str = ""
    region_nom: str = ""
    article: str = ""
    single_area: bool = False

    @property
    def de_nom(self) -> str:
        """``de l'Orne``, ``de la Normandie``, ``de la France``."""
        return DE_ARTICLE.get(self.article, "de ") + self.nom

    @property
    def le_nom(self) -> str:
        """``l'Orne``, ``la Normandie``, ``Paris``."""
        if self.article == "l'":
            return "l'" + self.nom
        return f"{self.article} {self.nom}" if self.article else self.nom

    @property
    def titre(self) -> str:
        """The page title: ``Orne (61)``, ``Normandie``, ``France``."""
        return f"{self.nom} ({self.code})" if self.type == "departement" else self.nom

    def region(self) -> "Zone":
        """The zone of a département's region."""
        if self.type != "departement":
            raise ValueError(f"only a département has a region, not {self.type}")
        return region_zone(region_by_code()[self.region_code])


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
    return tuple(Region(r["code_insee"], r["nom"], int(r["ordre"]), r["article"],
                        r["page"] == "oui") for r in rows)


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


def name_key(text: str) -> str:
    """A name as compared: accents, case, hyphens, apostrophes and spaces ignored
    (``Seine-Saint-Denis`` -> ``seinesaintdenis``, ``Côte-d'Or`` -> ``cotedor``)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", plain.lower())


# Extra names of areas that are not their own name (Corsica's two départements).
_EXTRA_NAMES = {"20": ("Corse-du-Sud", "Haute-Corse")}


@lru_cache(maxsize=None)
def _departement_names() -> dict[str, Departement]:
    """Name key -> DGDDI area: the name, DGDDI's label and other usual names."""
    names: dict[str, Departement] = {}
    for dep in departements():
        for name in (dep.nom, dep.libelle_dgddi, *_EXTRA_NAMES.get(dep.code_dgddi, ())):
            names.setdefault(name_key(name), dep)
    return names


@lru_cache(maxsize=None)
def _region_names() -> dict[str, Region]:
    """Name key -> INSEE region."""
    return {name_key(r.nom): r for r in regions()}


# Letters typed for the digits they look like: "6l" is 61, "O1" is 01.
_LOOKALIKES = str.maketrans({"L": "1", "I": "1", "O": "0"})


def _shape(text: str) -> str:
    """``9A`` -> ``9a``, ``61`` -> ``99``: where digits and letters stand."""
    return "".join("9" if ch.isdigit() else "a" for ch in text)


def _closeness(typed: str, key: str) -> tuple:
    """How close ``key`` is to ``typed``, best first when sorted descending: one is the
    start of the other (``610`` and ``61``), same first character, difflib ratio, same
    shape (``2C`` is like ``2A``), then the nearest characters (``9F`` is nearer ``9E``
    than ``9A``)."""
    ratio = difflib.SequenceMatcher(None, typed, key).ratio()
    distance = (sum(abs(ord(a) - ord(b)) for a, b in zip(typed, key))
                if len(typed) == len(key) else 1000)
    prefix = typed.startswith(key) or key.startswith(typed)
    return (prefix, typed[:1] == key[:1], round(ratio, 6), _shape(typed) == _shape(key),
            -distance)


def _closest(typed: str, options: dict[str, str], n: int = 3) -> list[str]:
    """Up to ``n`` labels of ``options`` (key -> label) whose key is closest to
    ``typed``: the look-alike reading first (``6l`` is ``61``), then by
    :func:`_closeness` (ties by key); nothing under half similar."""
    found: list[str] = []
    lookalike = typed.translate(_LOOKALIKES)
    if lookalike != typed and lookalike in options:
        found.append(options[lookalike])
    ranked = sorted(options, key=lambda key: (tuple(-x for x in _closeness(typed, key)), key))
    for key in ranked:
        if _closeness(typed, key)[2] < 0.5 or len(found) >= n:
            continue
        if options[key] not in found:
            found.append(options[key])
    return found


def _suggestion(found: list[str]) -> str:
    """« Vouliez-vous dire : … ? », or nothing."""
    return f" Vouliez-vous dire : {', '.join(found)} ?" if found else ""


def _departement_hint(typed: str) -> str:
    """Close codes for a code-like entry, close names for a name-like one."""
    pages = [d for d in departements() if d.page]
    if sum(ch.isalpha() for ch in name_key(typed)) >= 3:
        options = {name_key(d.nom): f"{d.nom} ({d.code})" for d in pages}
        return _suggestion(_closest(name_key(typed), options))
    options = {alias: f"{alias} ({d.nom})" for alias, d in _aliases().items() if d.page}
    return _suggestion(_closest(normalise_code(typed), options))


OVERSEAS_CODES = "971, 972, 973, 974 ou 976"


def resolve_departement(text: str | int) -> Departement:
    """The DGDDI area for what a user typed: a code (``61``, ``2A``, ``2b``, ``20``,
    ``971``, ``9A``) or a name (``orne``, ``Seine-Saint-Denis``, ``haute corse``).

    Raises :class:`UnknownCodeError` with a French message suggesting close codes
    or names. Monaco (``99``) is refused: it is data for its region and France, not a page.
    """
    if not str(text).strip():
        raise UnknownCodeError(
            "Département vide : donnez un code (61, 2A, 971...) ou un nom (Orne, Calvados).")
    code = normalise_code(text)
    dep = _aliases().get(code) or _departement_names().get(name_key(text))
    if dep is None:
        raise UnknownCodeError(
            f"Département inconnu : « {text} ». Donnez un code de département (01 à 95, "
            f"2A ou 2B pour la Corse, {OVERSEAS_CODES} pour l'outre-mer) ou son nom."
            f"{_departement_hint(str(text))}"
        )
    if not dep.page:
        raise UnknownCodeError(
            f"« {text} » désigne {dep.nom} : ses échanges sont comptés avec la région "
            f"{dep.region_nom} et la France, mais n'ont pas de page propre."
        )
    return dep


def resolve_region(text: str | int) -> Region:
    """The INSEE region for an INSEE code (``28``), a DGDDI region code (``05``) or a
    name (``normandie``, ``Hauts de France``).

    INSEE codes win when a code exists in both systems (``01``, ``03``, ``04``,
    ``24``); :func:`region_code_note` explains the other reading to the user.
    """
    if not str(text).strip():
        raise UnknownCodeError("Région vide : donnez un code région INSEE (28) ou un nom "
                               "(Normandie).")
    code = normalise_code(text)
    if code in region_by_code():
        return region_by_code()[code]
    matches = {d.region for d in departements() if d.region_dgddi == code}
    if len(matches) == 1:
        return region_by_code()[matches.pop()]
    region = _region_names().get(name_key(text))
    if region is not None:
        return region
    by_name = sum(ch.isalpha() for ch in name_key(text)) >= 3
    options = ({name_key(r.nom): f"{r.nom} ({r.code})" for r in regions()} if by_name
               else {r.code: f"{r.code} ({r.nom})" for r in regions()})
    typed = name_key(text) if by_name else code
    raise UnknownCodeError(
        f"Région inconnue : « {text} ». Donnez un code région INSEE (par exemple 28 pour la "
        f"Normandie), un code région DGDDI (05) ou son nom.{_suggestion(_closest(typed, options))}"
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
    alone = [d.code_dgddi for d in departements_of(dep.region)] == [dep.code_dgddi]
    return Zone("departement", dep.code, dep.nom, dep.code_dgddi, dep.region, dep.region_nom,
                dep.article, alone)


def region_zone(region: Region) -> Zone:
    """The zone of a region."""
    return Zone("region", region.code, region.nom, region_code=region.code,
                region_nom=region.nom, article=region.article,
                single_area=len(departements_of(region.code)) == 1)


def france_zone() -> Zone:
    """The zone of France as a whole (every row of the data, Monaco included)."""
    return Zone("france", FRANCE_CODE, "France", article="la")


def resolve_zone(departement: str | int | None = None, region: str | int | None = None,
                 france: bool = False) -> Zone:
    """The one zone named by a département, a region or France (exactly one of them)."""
    given = [name for name, value in (("departement", departement), ("region", region),
                                      ("france", france or None)) if value is not None]
    if len(given) != 1:
        raise UnknownCodeError("Indiquez une seule zone : un département, une région ou la "
                               "France.")
    if departement is not None:
        return departement_zone(resolve_departement(departement))
    if region is not None:
        return region_zone(resolve_region(region))
    return france_zone()


def departements_of(region_code: str) -> tuple[Departement, ...]:
    """DGDDI areas of a region, Monaco included for Provence-Alpes-Côte d'Azur."""
    return tuple(d for d in departements() if d.region == region_code)


def page_regions() -> tuple[Region, ...]:
    """The regions that get a page of their own (the 13 metropolitan ones)."""
    return tuple(r for r in regions() if r.page)


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


# --------------------------------------------------------------------------- country names


@lru_cache(maxsize=None)
def _cldr_countries() -> dict[str, str]:
    """CLDR's French names of two-letter territory codes (through babel)."""
    from babel import Locale

    return {code: name for code, name in Locale.parse("fr").territories.items()
            if len(code) == 2 and code.isalpha()}


@lru_cache(maxsize=None)
def _usual_country_names() -> dict[str, str]:
    """The project's choices where CLDR's standard name is not the usual one
    (``pays_noms.csv``: Hong Kong rather than « R.A.S. chinoise de Hong Kong »)."""
    return {r["code"]: r["nom"] for r in read_table("pays_noms.csv")}


def country_name(code: str, dgddi_label: str | None = None) -> str:
    """The name a French reader expects for a DGDDI country code: the project's usual
    name, else CLDR's (``États-Unis``, ``Tchéquie``), else DGDDI's label (special codes
    such as ``QU``, ``XC``), else the code."""
    return (_usual_country_names().get(code) or _cldr_countries().get(code)
            or dgddi_label or code)


def country_names(dgddi_labels: dict[str, str]) -> dict[str, str]:
    """Display names of every code of a DGDDI country label table."""
    return {code: country_name(code, label) for code, label in dgddi_labels.items()}


@lru_cache(maxsize=None)
def eu_codes() -> frozenset[str]:
    """DGDDI country codes counted in the European Union: the 27 member states and the
    code ``EU`` (``union_europeenne.csv``); every other code is outside the EU (the
    United Kingdom, Ceuta ``XC`` and Melilla ``XL`` included)."""
    return frozenset(r["code"] for r in read_table("union_europeenne.csv"))
