"""The one-line calls of the template notebook (``notebooks/fiche_departement.ipynb``).

Each code cell of the template is one call into this module::

    page = report.load(departement, annee, donnees)
    page.banner()
    page.totals("exportations")
    page.chart("flux_exportations")
    page.chart("flux_exportations", "region")

A call displays French HTML: the chart (through the renderer chosen by
:mod:`tradebook.render`), its « Clé de lecture » computed from the data, and the
data table behind it in a collapsible ``<details>`` block. The region's and
France's fiches are cached per kernel, so a warm kernel running page after page
computes them once.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd
from IPython.display import HTML, display

from tradebook import nomenclatures, paths, render
from tradebook.formatting import format_eur, format_share, format_signed_eur
from tradebook.indicators import Fiche, compute_fiche
from tradebook.nomenclatures import Zone

CHART_KEYS = ("partenaires", "produits_exportations", "produits_importations",
              "flux_exportations", "flux_importations")
LEVELS = ("departement", "region", "france")
STATIC_ENV = "TRADEBOOK_STATIC"  # the book's _static folder, set by the runner
SHARED_CHARTS = "graphiques"  # folder of _static holding the charts shared by pages
SHARED_CHARTS_URL = "../_static/graphiques"  # from departements/<code>.html
FLUX_NAMES = ("exportations", "importations")
ZONE_WORDS = {"departement": "du département", "region": "de la région", "france": "de la France"}
TOP_PRODUCTS = 10
TOP_COUNTRIES = 10
RED_LINKS = 5


# --------------------------------------------------------------------------- loading


def resolve_data_path(donnees: str | Path | None) -> Path:
    """The data path given to the notebook: relative paths are tried from the current
    folder, then from the repository root (JupyterLab starts kernels in ``notebooks/``)."""
    if donnees in (None, ""):
        return paths.SAMPLE_ZIP
    path = Path(donnees).expanduser()
    if path.is_absolute() or path.exists():
        return path
    from_root = paths.ROOT / path
    return from_root if from_root.exists() else path


@lru_cache(maxsize=8)
def _prepared(donnees: str, annee: int, skip_invalid: bool, allow_partial_year: bool):
    """Prepared data, opened once per kernel."""
    from tradebook.prepare import ensure_prepared

    return ensure_prepared(Path(donnees), annee, skip_invalid=skip_invalid,
                           allow_partial_year=allow_partial_year)


DataKey = tuple[str, int, bool, bool]


@lru_cache(maxsize=64)
def _zone_fiche(data: DataKey, zone: Zone) -> Fiche:
    """The fiche of a region or of France, computed once per kernel."""
    return compute_fiche(_prepared(*data), zone)


@lru_cache(maxsize=256)
def _zone_chart(data: DataKey, zone: Zone, key: str):
    """One chart of a region's or France's fiche, built once per kernel (only the
    Sankey diagrams are compared, so only what is asked for is built)."""
    from tradebook import charts

    return charts.fiche_chart(_zone_fiche(data, zone), key)


@lru_cache(maxsize=256)
def _zone_spec(data: DataKey, zone: Zone, key: str) -> dict:
    """The Vega-Lite spec of one chart of a region or France, built once per kernel."""
    return render.chart_spec(_zone_chart(data, zone, key))


@lru_cache(maxsize=256)
def _zone_table(data: DataKey, zone: Zone, key: str) -> pd.DataFrame:
    """One table of a region's or France's fiche, built once per kernel."""
    from tradebook import tables

    fiche = _zone_fiche(data, zone)
    if key.startswith("flux_"):
        flux = key.removeprefix("flux_")
        return tables.flows_table(fiche.flux[flux], flux)
    return tables.fiche_tables(fiche)[key]


def load(departement: str | int, annee: int | str, donnees: str | Path | None = None, *,
         skip_invalid: bool = False, allow_partial_year: bool = False) -> "Page":
    """The page of one département: resolves the code, prepares the data if needed,
    computes the fiche, and enables the book's renderer when the runner asks for it."""
    from tradebook import style

    dep = nomenclatures.resolve_departement(departement)
    render.enable_from_env()
    style.enable_theme()
    data = (str(resolve_data_path(donnees)), int(annee), bool(skip_invalid),
            bool(allow_partial_year))
    zone = nomenclatures.departement_zone(dep)
    return Page(data=data, zone=zone, fiche=compute_fiche(_prepared(*data), zone))


# --------------------------------------------------------------------------- HTML pieces


def esc(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=False)


def key_note(sentences: list[str]) -> str:
    """The « Clé de lecture » paragraph under a chart."""
    body = " ".join(esc(s) for s in sentences if s)
    return f'<p class="tradebook-cle"><strong>Clé de lecture :</strong> {body}</p>'


NUMERIC_CELL = re.compile(r"^[−+-]?[\d\u202f\u00a0 ,.]+(\u00a0?(Md€|M€|k€|€|%))?$")


def is_numeric_column(values: pd.Series) -> bool:
    """True when every non-empty cell is a French-formatted number (right-aligned)."""
    cells = [str(v) for v in values if str(v) not in ("", "–", "nan", "None")]
    return bool(cells) and all(NUMERIC_CELL.match(c) for c in cells)


def compact_table(table: pd.DataFrame) -> str:
    """A small HTML table without indentation (pages stay light), numbers right-aligned."""
    numeric = [is_numeric_column(table[c]) for c in table.columns]
    def cell(tag: str, value: object, right: bool) -> str:
        text = "–" if value is None or (isinstance(value, float) and pd.isna(value)) else value
        return f'<{tag} class="num">{esc(text)}</{tag}>' if right else f"<{tag}>{esc(text)}</{tag}>"
    head = "".join(cell("th", c, r) for c, r in zip(table.columns, numeric))
    rows = "".join("<tr>" + "".join(cell("td", v, r) for v, r in zip(row, numeric)) + "</tr>"
                   for row in table.itertuples(index=False, name=None))
    return (f'<table class="table tradebook-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def table_html(table: pd.DataFrame, summary: str) -> str:
    """A data table in a collapsible block (closed by default)."""
    return (f'<details class="tradebook-donnees"><summary>{esc(summary)}</summary>'
            f"{compact_table(table)}</details>")


def note_html(text: str) -> str:
    """A short note in place of a chart."""
    return f'<p class="tradebook-note">{esc(text)}</p>'


def quoted(label: str) -> str:
    """A label between French quotes."""
    return f"«\u00a0{label}\u00a0»"


# --------------------------------------------------------------------------- reading keys


def partners_key(fiche: Fiche) -> list[str]:
    """Clé de lecture of the partners chart."""
    partners = fiche.partenaires
    if partners.empty:
        return ["aucun échange avec un pays partenaire n'est enregistré cette année."]
    first = partners.iloc[0]
    sentences = [
        f"premier partenaire en {fiche.annee} : {first['libelle']}, avec "
        f"{format_eur(first['exportations'])} d'exportations et "
        f"{format_eur(first['importations'])} d'importations, "
        f"soit un solde de {format_signed_eur(first['solde'])}.",
        f"Le graphique retient les pays figurant parmi les 5 premiers clients ou les "
        f"5 premiers fournisseurs ({len(partners)} pays ici) ; le solde est positif "
        "quand les exportations dépassent les importations.",
    ]
    return sentences


def products_key(fiche: Fiche, flux: str) -> list[str]:
    """Clé de lecture of a products treemap."""
    table = fiche.produits[flux]
    if table.empty:
        return [f"aucune {flux[:-1]} n'est enregistrée cette année."]
    first = table.iloc[0]
    verb = "exporté" if flux == "exportations" else "importé"
    return [
        f"premier produit {verb} en {fiche.annee} : {quoted(first['libelle'])}, avec "
        f"{format_eur(first['valeur'])}, soit {format_share(first['part'])} des {flux} "
        f"{ZONE_WORDS[fiche.zone.type]}.",
        "La surface de chaque rectangle est proportionnelle au montant ; les produits "
        "suivent la nomenclature A129 (biens et services agrégés).",
    ]


def flows_key(fiche: Fiche, flux: str) -> list[str]:
    """Clé de lecture of a Sankey diagram."""
    links = fiche.flux[flux]
    direction = ("des produits (à gauche) vers les pays clients (à droite)"
                 if flux == "exportations" else
                 "des pays fournisseurs (à gauche) vers les produits (à droite)")
    sentences = [f"le diagramme relie les {flux} {direction} ; l'épaisseur d'un lien est "
                 "proportionnelle au montant."]
    red = links[links["rouge"]]
    if not red.empty:
        top = red.iloc[0]
        pair = (f"{quoted(top['produit_libelle'])} → {top['pays_libelle']}"
                if flux == "exportations" else
                f"{top['pays_libelle']} → {quoted(top['produit_libelle'])}")
        sentences.append(f"Flux le plus important : {pair}, {format_eur(top['valeur'])}.")
    sentences.append(f"Les {TOP_PRODUCTS} premiers produits et les {TOP_COUNTRIES} premiers "
                     "pays sont détaillés, les autres regroupés dans « Autres » ; les "
                     f"{RED_LINKS} flux en rouge sont les plus importants entre un produit "
                     "et un pays nommés.")
    return sentences


def reading_key(fiche: Fiche, key: str) -> list[str]:
    """The Clé de lecture sentences of one chart."""
    if key == "partenaires":
        return partners_key(fiche)
    kind, flux = key.split("_", 1)
    if kind == "produits":
        return products_key(fiche, flux)
    return flows_key(fiche, flux)


def capitalised(sentences: list[str]) -> list[str]:
    """The first sentence starting with a capital letter."""
    if sentences and sentences[0]:
        sentences = [sentences[0][0].upper() + sentences[0][1:], *sentences[1:]]
    return sentences


TABLE_SUMMARIES = {
    "partenaires": "Données du graphique : principaux partenaires",
    "produits_exportations": "Données du graphique : produits exportés",
    "produits_importations": "Données du graphique : produits importés",
    "flux_exportations": "Données du graphique : flux d'exportation",
    "flux_importations": "Données du graphique : flux d'importation",
}


# --------------------------------------------------------------------------- the page


@dataclass
class Page:
    """One département's page: its fiche, and its region's and France's on demand."""

    data: DataKey
    zone: Zone
    fiche: Fiche

    # -- zones ---------------------------------------------------------------

    def region_zone(self) -> Zone:
        """The zone of the département's region."""
        region = nomenclatures.region_by_code()[self.zone.region_code]
        return nomenclatures.region_zone(region)

    def region_is_departement(self) -> bool:
        """True when the region has this single area (Corsica, overseas départements)."""
        areas = nomenclatures.departements_of(self.zone.region_code)
        return [d.code_dgddi for d in areas] == [self.zone.dgddi]

    def _level_zone(self, level: str) -> Zone:
        """The zone of the region or of France."""
        return self.region_zone() if level == "region" else nomenclatures.france_zone()

    def fiche_of(self, level: str) -> Fiche:
        """The fiche of the page's département, region or France."""
        if level == "departement":
            return self.fiche
        if level == "region":
            return _zone_fiche(self.data, self.region_zone())
        if level == "france":
            return _zone_fiche(self.data, nomenclatures.france_zone())
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")

    @cached_property
    def charts(self) -> dict:
        """The département's charts (built once per page)."""
        from tradebook.charts import fiche_charts

        return fiche_charts(self.fiche)

    @cached_property
    def tables(self) -> dict:
        """The département's French tables (built once per page)."""
        from tradebook.tables import fiche_tables

        return fiche_tables(self.fiche)

    def chart_of(self, key: str, level: str):
        """One chart of the département, its region or France."""
        if level == "departement":
            return self.charts[key]
        return _zone_chart(self.data, self._level_zone(level), key)

    def table_of(self, key: str, level: str) -> pd.DataFrame:
        """One French table of the département, its region or France."""
        if level == "departement":
            return self.tables[key]
        return _zone_table(self.data, self._level_zone(level), key)

    def book_chart_html(self, key: str, level: str) -> str:
        """The book's HTML of a chart: inlined for the département, shared between
        pages (one script in ``_static``) for its region and France."""
        if level == "departement":
            return render.chart_html(render.chart_spec(self.chart_of(key, level)))
        zone = self._level_zone(level)
        static = Path(os.environ.get(STATIC_ENV) or paths.BOOK / "_static")
        return render.shared_chart_html(_zone_spec(self.data, zone, key),
                                        f"{level}-{zone.code}-{key}", static / SHARED_CHARTS,
                                        SHARED_CHARTS_URL)

    # -- what the cells display ---------------------------------------------

    def banner_html(self) -> str:
        """The fictitious-data warning and the partial-year mention (empty when neither)."""
        parts = []
        if self.fiche.donnees_fictives:
            parts.append(
                '<div class="admonition warning tradebook-fictif">'
                '<p class="admonition-title">Données fictives</p>'
                "<p>Cette page est construite à partir de l'échantillon fictif livré avec le "
                "projet : ses montants n'ont aucune valeur statistique et ne doivent pas être "
                "cités. Elle illustre la présentation ; la méthodologie explique comment "
                "utiliser les données réelles de la DGDDI.</p></div>")
        if self.fiche.annee_partielle:
            parts.append(
                '<div class="admonition note tradebook-partielle">'
                '<p class="admonition-title">Année partielle</p>'
                f"<p>Les données de {self.fiche.annee} ne couvrent pas les quatre trimestres : "
                "les montants sont inférieurs à ceux d'une année complète et ne se comparent "
                "pas aux autres années.</p></div>")
        return "\n".join(parts)

    def banner(self) -> None:
        """Display the fictitious-data banner and the partial-year mention, if any."""
        text = self.banner_html()
        if text:
            display(HTML(text))

    def totals_html(self, flux: str) -> str:
        """« Exportations en 2024 : 1 446,3 M€, soit 12,3 % de la région ... » as HTML."""
        if flux not in FLUX_NAMES:
            raise ValueError(f"flux must be one of {FLUX_NAMES}, got {flux!r}")
        totals = self.fiche.totaux
        value = getattr(totals, flux)
        region = getattr(totals, f"part_region_{flux}")
        france = getattr(totals, f"part_france_{flux}")
        sentence = (f"{flux.capitalize()} du département en {self.fiche.annee} : "
                    f"<strong>{esc(format_eur(value))}</strong>")
        shares = []
        if region is not None and not self.region_is_departement():
            shares.append(f"{esc(format_share(region))} des {flux} de la région "
                          f"{esc(self.zone.region_nom)}")
        if france is not None:
            shares.append(f"{esc(format_share(france))} des {flux} de la France")
        if shares:
            sentence += ", soit " + " et ".join(shares)
        sentence += "."
        if self.region_is_departement():
            sentence += (f" Le département forme à lui seul la région "
                         f"{esc(self.zone.region_nom)}.")
        if flux == "importations":
            sentence += (f" Solde commercial (exportations moins importations) : "
                         f"<strong>{esc(format_signed_eur(totals.solde))}</strong>.")
        return f'<p class="tradebook-total">{sentence}</p>'

    def totals(self, flux: str) -> None:
        """Display the total of a flux with its shares of the region and of France."""
        display(HTML(self.totals_html(flux)))

    def chart(self, key: str, level: str = "departement") -> None:
        """Display one chart, its Clé de lecture and its data table.

        ``level`` is ``departement`` (the page's own fiche), ``region`` or ``france``
        (the comparison Sankeys).
        """
        if key not in CHART_KEYS:
            raise ValueError(f"key must be one of {CHART_KEYS}, got {key!r}")
        if level == "region" and self.region_is_departement():
            display(HTML(note_html(
                f"La région {self.zone.region_nom} se compose de ce seul département : "
                "son diagramme est celui présenté ci-dessus.")))
            return
        fiche = self.fiche_of(level)
        if render.requested_mode() == render.BOOK_MODE:
            display(HTML(self.book_chart_html(key, level)))
        else:
            display(self.chart_of(key, level))
        display(HTML(key_note(capitalised(reading_key(fiche, key)))
                     + "\n" + table_html(self.table_of(key, level), TABLE_SUMMARIES[key])))
