"""Reader-facing French texts and page rules, as data (``data/textes.yml``).

The file holds the page rules (``regles``: top-N counts, thresholds) and every
text a reader sees: section headings, chart titles and subtitles, reading keys
(« Clé de lecture »), table summaries, screen-reader descriptions, page
sentences. A text is a string or a list of sentences; a sentence may be kept
only when a variable is true (``si: nom``) or false (``sauf: nom``).

Placeholders are named: ``{zone}``. A count agrees in number with
``{n:singulier|pluriel}`` (``{n:# produit|# produits}`` gives ``1 produit``,
``2 produits``; ``#`` stands for the number) or ``{n:zéro|singulier|pluriel}``. The file is validated
when loaded against what the code declares (:class:`TextSchema`): an unknown
text, a missing text, a placeholder or condition the code does not provide, or a
malformed count form is an error naming the text. French spacing (no-break
spaces before ``:`` ``;`` ``!`` ``?`` and inside « ») is applied to every result.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from tradebook.errors import TradebookError
from tradebook.formatting import format_number, french_spacing
from tradebook.paths import DATA

TEXTS_FILE = DATA / "textes.yml"
CAVEATS_FILE = DATA / "avertissements.csv"
RULES_KEY = "regles"
_FORMATTER = string.Formatter()


class TextError(TradebookError):
    """``data/textes.yml`` is malformed or does not match what the code declares."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rules:
    """The page rules: how many items each figure names, and its thresholds."""

    partenaires: int = 5  # countries kept among the first clients and the first suppliers
    produits_sankey: int = 10  # products named in a Sankey, the others in « Autres »
    pays_sankey: int = 10  # countries named in a Sankey
    liens_rouges: int = 5  # largest named links drawn in red
    tuiles_max: int = 24  # treemap tiles at most, the tail grouped
    part_min_tuile: float = 0.005  # a product under this share joins the grouped tile
    produits_exposition: int = 10  # products shown in the exposure charts
    seuil_hors_ue: float = 0.5  # dependence: share of imports from outside the EU above this
    seuil_hhi_dependance: float = 0.4  # dependence: HHI of the origins above this
    hhi_modere: float = 0.15  # an HHI from here is « modérément concentré »
    hhi_concentre: float = 0.25  # above this, « concentré »


def parse_rules(data: Mapping[str, Any], source: str) -> Rules:
    """The ``regles`` block as :class:`Rules`: every rule present, positive and of its type."""
    names = {f.name: f for f in fields(Rules)}
    unknown = sorted(set(data) - set(names))
    missing = sorted(set(names) - set(data))
    if unknown or missing:
        raise TextError(f"{source}, bloc « {RULES_KEY} » : règles inconnues {unknown} ou "
                        f"manquantes {missing}. Règles attendues : {', '.join(names)}.")
    values = {}
    for name, spec in names.items():
        value = data[name]
        kind = int if spec.type in ("int", int) else float
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 \
                or (kind is int and not isinstance(value, int)):
            raise TextError(f"{source}, règle « {name} » : {value!r} n'est pas un nombre "
                            f"{'entier ' if kind is int else ''}positif.")
        values[name] = kind(value)
    return Rules(**values)


# --------------------------------------------------------------------------- texts


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text, kept when its condition holds."""

    text: str
    when: str | None = None  # kept when this variable is true
    unless: str | None = None  # kept when this variable is false

    def kept(self, values: Mapping[str, Any]) -> bool:
        """True when the sentence's condition holds for ``values``."""
        if self.when is not None and not values[self.when]:
            return False
        return not (self.unless is not None and values[self.unless])


@dataclass(frozen=True)
class TextSchema:
    """What the code declares about the texts: text key -> the variables it provides.

    A key ending in ``.*`` declares a family (``figures.partenaires.*``): every
    text under it gets those variables, and ``required`` lists the texts each
    member of the family must have.
    """

    variables: Mapping[str, frozenset[str]]
    required: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _sentences(value: Any, key: str, source: str) -> tuple[Sentence, ...]:
    """A YAML text (string or list of strings / ``{texte, si|sauf}``) as sentences."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Sentence(item))
        elif isinstance(item, dict) and isinstance(item.get("texte"), str) \
                and set(item) <= {"texte", "si", "sauf"} and len(item) <= 2:
            out.append(Sentence(item["texte"], item.get("si"), item.get("sauf")))
        else:
            raise TextError(f"{source}, texte « {key} » : chaque phrase est une chaîne ou "
                            f"{{texte: ..., si: variable}} / {{texte: ..., sauf: variable}} "
                            f"(reçu : {item!r}).")
    return tuple(out)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested YAML mappings as dotted keys -> text values."""
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and "texte" not in value:
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def placeholders(text: str, key: str, source: str) -> list[tuple[str, str]]:
    """(name, count form) of each placeholder of ``text``; malformed ones are an error."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise TextError(f"{source}, texte « {key} » : accolades mal formées ({exc}) dans "
                        f"« {text} ».") from exc
    found = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or conversion:
            raise TextError(f"{source}, texte « {key} » : variable « {{{name}}} » invalide "
                            "(lettres minuscules, chiffres et _ seulement).")
        if spec and spec.count("|") not in (1, 2):
            raise TextError(f"{source}, texte « {key} » : forme « {{{name}:{spec}}} » invalide ; "
                            "écrivez {n:singulier|pluriel} ou {n:zéro|singulier|pluriel}.")
        found.append((name, spec))
    return found


def agree(count: int, forms: str) -> str:
    """The form that agrees with ``count``, ``#`` replaced by the number:
    ``agree(2, "# produit|# produits")`` -> ``2 produits``, ``agree(1, "le trimestre|les
    trimestres")`` -> ``le trimestre``. French: 0 and 1 take the singular (or the zero
    form, when given)."""
    parts = forms.split("|")
    zero, one, many = (parts[0], parts[0], parts[1]) if len(parts) == 2 else parts
    form = zero if count == 0 else one if abs(count) == 1 else many
    return form.replace("#", format_number(count, 0))


class Texts:
    """The validated texts and rules of ``data/textes.yml``."""

    def __init__(self, data: Mapping[str, Any], source: str = "textes.yml") -> None:
        if not isinstance(data, dict) or RULES_KEY not in data:
            raise TextError(f"{source} : le fichier doit être un dictionnaire YAML avec un bloc "
                            f"« {RULES_KEY} ».")
        self.source = source
        self.rules = parse_rules(data[RULES_KEY] or {}, source)
        body = {k: v for k, v in data.items() if k != RULES_KEY}
        self._texts = {key: _sentences(value, key, source) for key, value in _flatten(body).items()}
        self._fields = {key: [p for s in sentences for p in placeholders(s.text, key, source)]
                        for key, sentences in self._texts.items()}

    def keys(self) -> list[str]:
        """Every text key, dotted (``figures.partenaires.titre``)."""
        return list(self._texts)

    def has(self, key: str) -> bool:
        """True when the text exists."""
        return key in self._texts

    def validate(self, schema: TextSchema) -> "Texts":
        """Check the texts against what the code declares; return ``self``."""
        declared = dict(schema.variables)
        for key in self._texts:
            if self._declared(key, declared) is None:
                raise TextError(f"{self.source} : texte inconnu « {key} » (aucun code ne "
                                "l'utilise). Supprimez-le ou corrigez son nom.")
        for family, needed in schema.required.items():
            prefix = family.removesuffix("*")
            for text in sorted(needed):
                if f"{prefix}{text}" not in self._texts:
                    raise TextError(f"{self.source} : texte manquant « {prefix}{text} ».")
        for key, found in self._fields.items():
            variables = self._declared(key, declared) or frozenset()
            conditions = [c for s in self._texts[key] for c in (s.when, s.unless) if c]
            for name in [n for n, _ in found] + conditions:
                if name not in variables:
                    raise TextError(
                        f"{self.source}, texte « {key} » : la variable « {name} » n'est pas "
                        f"fournie par le code. Variables disponibles : "
                        f"{', '.join(sorted(variables)) or 'aucune'}.")
        return self

    @staticmethod
    def _declared(key: str, declared: Mapping[str, frozenset[str]]) -> frozenset[str] | None:
        """The variables declared for ``key`` (exactly, or by a ``prefix.*`` family)."""
        if key in declared:
            return declared[key]
        parts = key.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            family = ".".join(parts[:cut]) + ".*"
            if family in declared:
                return declared[family]
        return None

    def sentences(self, key: str, values: Mapping[str, Any],
                  escape: Callable[[str], str] | None = None) -> list[str]:
        """The sentences of ``key`` whose condition holds, filled with ``values``
        (``escape`` applied to each inserted text value, e.g. for Markdown)."""
        if key not in self._texts:
            raise TextError(f"{self.source} : texte inconnu « {key} ».")
        missing = sorted({n for n, _ in self._fields[key]} - set(values)
                         | {c for s in self._texts[key] for c in (s.when, s.unless) if c}
                         - set(values))
        if missing:
            raise TextError(f"{self.source}, texte « {key} » : valeur(s) manquante(s) pour "
                            f"{', '.join(missing)}.")
        return [french_spacing(self._fill(s.text, values, escape))
                for s in self._texts[key] if s.kept(values)]

    def text(self, key: str, values: Mapping[str, Any] | None = None,
             escape: Callable[[str], str] | None = None) -> str:
        """The text of ``key`` as one string (its sentences joined by spaces)."""
        return " ".join(self.sentences(key, values or {}, escape))

    def keys_under(self, prefix: str) -> list[str]:
        """The names of the texts under ``prefix`` (``figures.partenaires.etiquettes``)."""
        start = prefix.rstrip(".") + "."
        return [key[len(start):] for key in self._texts if key.startswith(start)]

    @staticmethod
    def _fill(text: str, values: Mapping[str, Any],
              escape: Callable[[str], str] | None = None) -> str:
        """``text`` with its placeholders replaced (counts agreed in number)."""
        out = []
        for literal, name, spec, _ in _FORMATTER.parse(text):
            out.append(literal)
            if name is None:
                continue
            value = values[name]
            if spec:
                out.append(agree(int(value), spec))
            else:
                out.append(escape(str(value)) if escape else str(value))
        return "".join(out)


def read_texts(path: Path = TEXTS_FILE) -> Texts:
    """Parse a texts file (not validated against the code: see :meth:`Texts.validate`)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TextError(f"Fichier de textes illisible : {path} ({exc.strerror}).") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", ligne {mark.line + 1}" if mark is not None else ""
        raise TextError(f"{path}{where} : YAML invalide ({getattr(exc, 'problem', exc)}).") from exc
    return Texts(data, str(Path(path).name))


@lru_cache(maxsize=None)
def rules() -> Rules:
    """The page rules of ``data/textes.yml`` (read once)."""
    return read_texts().rules


@dataclass(frozen=True)
class Caveat:
    """A warning about the figures of some zones (``data/avertissements.csv``)."""

    zones: frozenset[str]  # "departement:75", "region:11"...
    text: str


def read_caveats(path: Path = CAVEATS_FILE) -> tuple[Caveat, ...]:
    """The page caveats, one per row: the zones they concern (``type:code``) and the text."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise TextError(f"Fichier des avertissements illisible : {path} ({exc.strerror}).") from exc
    caveats = []
    for number, row in enumerate(rows, start=2):
        zones = (row.get("zones") or "").split()
        if not zones or not row.get("texte") or any(":" not in z for z in zones):
            raise TextError(f"{path.name}, ligne {number} : chaque ligne donne des zones "
                            "« type:code » séparées par des espaces (departement:75 region:11) "
                            "et un texte.")
        caveats.append(Caveat(frozenset(zones), french_spacing(row["texte"].strip())))
    return tuple(caveats)


@lru_cache(maxsize=None)
def caveats_for(zone_type: str, code: str) -> tuple[str, ...]:
    """The caveats of one zone, in file order."""
    key = f"{zone_type}:{code}"
    return tuple(c.text for c in read_caveats() if key in c.zones)
