"""The one-line calls of the template notebook (``notebooks/fiche_departement.ipynb``).

The template is generated from the figure registry (:mod:`tradebook.template`);
each of its code cells is one call into this module::

    page = report.load(departement=departement, region=region, france=france,
                       annee=annee, donnees=donnees)
    page.title()
    page.introduction()
    page.section("exportations")

``load`` resolves the zone once. ``section`` displays every entry of the
registry in that section for the page's zone: sentences, and for each figure its
chart, its « Clé de lecture » and its data table (a collapsible ``<details>``
block), then the same figure for the region and France when the figure asks for
comparisons. Charts are offline HTML in the book and SVG images elsewhere (see
:mod:`tradebook.render`). The region's and France's fiches are cached per
kernel, so a warm kernel running page after page computes them once.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from tradebook import figures, nomenclatures, paths, render, texts as texts_module
from tradebook.figures import Figure, Rendered, Statement
from tradebook.indicators import Fiche, compute_fiche
from tradebook.nomenclatures import Zone

STATIC_ENV = "TRADEBOOK_STATIC"  # the book's _static folder, set by the runner
SHARED_CHARTS = paths.SHARED_CHARTS  # folder of _static holding the charts shared by pages
TABLES = "tableaux"  # folder of _static holding the CSV files linked from open tables
PDF_FOLDER = "pdf"  # folder of the site holding the printable fiches (pdf/61.pdf)
FICTITIOUS_CSS = "tradebook-fictif"  # the fictitious-data box (the PDF has its banner)
LEVEL_WORDS = {"departement": "de département", "region": "de région", "france": "de la France"}


# --------------------------------------------------------------------------- loading


def resolve_data_path(donnees: str | Path | None) -> Path | tuple[Path, ...]:
    """The data given to the notebook: empty means the sample's two publications;
    relative paths are tried from the current folder, then from the repository root
    (JupyterLab starts kernels in ``notebooks/``)."""
    if donnees in (None, ""):
        return tuple(p for p in paths.SAMPLE_SOURCES if p.is_file())
    path = Path(donnees).expanduser()
    if path.is_absolute() or path.exists():
        return path
    from_root = paths.ROOT / path
    return from_root if from_root.exists() else path


@lru_cache(maxsize=8)
def _prepared(donnees: tuple[str, ...], annee: int, skip_invalid: bool,
              allow_partial_year: bool):
    """Prepared data, opened once per kernel."""
    from tradebook.prepare import ensure_prepared

    return ensure_prepared([Path(d) for d in donnees], annee, skip_invalid=skip_invalid,
                           allow_partial_year=allow_partial_year)


DataKey = tuple[tuple[str, ...], int, bool, bool]


@lru_cache(maxsize=64)
def _zone_fiche(data: DataKey, zone: Zone) -> Fiche:
    """The fiche of a zone, computed once per kernel (regions and France are shared
    by many pages)."""
    return compute_fiche(_prepared(*data), zone)


@lru_cache(maxsize=256)
def _zone_rendered(data: DataKey, zone: Zone, key: str) -> Rendered:
    """One figure of a region's or France's fiche, drawn once per kernel."""
    return figures.render(figures.figure(key), _zone_fiche(data, zone))


@lru_cache(maxsize=256)
def _zone_spec(data: DataKey, zone: Zone, key: str) -> dict:
    """The Vega-Lite spec of one figure of a region or France, built once per kernel."""
    return render.chart_spec(_zone_rendered(data, zone, key).chart)


def load(departement: str | int | None = None, annee: int | str = 2024,
         donnees: str | Path | None = None, *, region: str | int | None = None,
         france: bool = False, skip_invalid: bool = False,
         allow_partial_year: bool = False) -> "Page":
    """The page of one zone: a département (``departement``), a region (``region``)
    or France (``france=True``). Resolves the zone once, prepares the data if needed
    and computes the fiche. Empty strings count as not given (notebook parameters)."""
    zone = nomenclatures.resolve_zone(departement if departement not in ("", None) else None,
                                      region if region not in ("", None) else None,
                                      bool(france))
    sources = resolve_data_path(donnees)
    return zone_page(zone, sources if isinstance(sources, tuple) else (sources,), annee,
                     skip_invalid=skip_invalid, allow_partial_year=allow_partial_year)


def zone_page(zone: Zone, sources: Sequence[str | Path], annee: int | str, *,
              skip_invalid: bool = False, allow_partial_year: bool = False) -> "Page":
    """The page of an already resolved zone, from its data's sources (or a prepared
    folder), in order."""
    from tradebook import style

    style.enable_theme()
    data = (tuple(str(p) for p in sources), int(annee), bool(skip_invalid),
            bool(allow_partial_year))
    return Page(data=data, zone=zone, fiche=_zone_fiche(data, zone))


def national_page(view: str, annee: int | str, donnees: str | Path | None = None) -> "Page":
    """A national view of France (``index``, ``etats_unis``: see :data:`figures.VIEWS`)."""
    if view not in figures.VIEWS:
        raise ValueError(f"vue inconnue : {view!r} (attendu : {', '.join(figures.VIEWS)})")
    page = load(france=True, annee=annee, donnees=donnees)
    return Page(data=page.data, zone=page.zone, fiche=page.fiche, view=view)


def page_markdown(page: "Page") -> str:
    """A whole page as MyST Markdown: its title and section headings as real headings
    (the table of contents sees them), everything else as raw HTML blocks."""
    def raw(html_text: str) -> str:
        return f"```{{raw}} html\n{html_text}\n```\n"

    parts = [f"# {page.title_text()}\n", raw(page.introduction_html())]
    for section in figures.sections(page.level):
        heading = figures.texts().text(f"sections.{section}.titre")
        parts += [f"## {heading}\n", raw(page.section_html(section))]
    return "\n".join(parts)


# --------------------------------------------------------------------------- HTML pieces


def esc(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=False)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def markdown_escape(text: str) -> str:
    """``text`` with Markdown's punctuation escaped (a label is shown as typed)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@lru_cache(maxsize=1)
def markdown_parser():
    """The inline Markdown renderer (raw HTML off: texts cannot inject markup)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def inline_html(markdown: str) -> str:
    """One sentence of Markdown (``**bold**``, ``[link](url)``) as HTML."""
    return markdown_parser().renderInline(markdown)


def labelled_note(label: str, sentences: list[str], css: str) -> str:
    """A paragraph opening with ``label`` in bold, then ``sentences``."""
    body = " ".join(esc(s) for s in sentences if s)
    return f'<p class="{css}"><strong>{esc(label)}\u00a0:</strong> {body}</p>'


def key_note(sentences: list[str]) -> str:
    """The « Clé de lecture » paragraph under a chart."""
    return labelled_note(figures.page_texts("page.cle")[0], sentences, "tradebook-cle")


def empty_note(rendered: Rendered) -> str:
    """An empty figure on the page: its title, then its reading key (which says why
    there is nothing to show)."""
    return labelled_note(rendered.words.title, rendered.reading_key, "tradebook-vide")


NUMERIC_CELL = re.compile(r"^[−+-]?[\d\u202f\u00a0 ,.]+(\u00a0?(Md€|M€|k€|€|%))?$")


def is_numeric_column(values: pd.Series) -> bool:
    """True when every non-empty cell is a French-formatted number (right-aligned)."""
    cells = [str(v) for v in values if str(v) not in ("", "–", "nan", "None")]
    return bool(cells) and all(NUMERIC_CELL.match(c) for c in cells)


MAX_NUMERIC_COLUMN = 12  # tradebook.css right-aligns columns 1 to 12 by class


def compact_table(table: pd.DataFrame, href=lambda page: f"{page}.html",
                  css: str = "") -> str:
    """A small HTML table without indentation (pages stay light), numbers right-aligned;
    a :class:`~tradebook.tables.Link` cell links to its page (``href`` turns a page path
    into a URL from the current page).

    A numeric column is named once, by a class of the table (``tradebook-n3`` for the
    third column, aligned by ``tradebook.css``) and of its header cell, not on each
    of its cells: the tables are most of a page's weight."""
    from tradebook.tables import Link

    numeric = [is_numeric_column(table[c].map(str)) for c in table.columns]
    if any(numeric[MAX_NUMERIC_COLUMN:]):
        raise ValueError(f"tradebook.css aligns numeric columns 1 to {MAX_NUMERIC_COLUMN} only")

    def cell(value: object) -> str:
        text = "–" if value is None or (isinstance(value, float) and pd.isna(value)) else value
        return (f'<a href="{esc(href(value.page))}">{esc(value.text)}</a>'
                if isinstance(value, Link) else esc(text))

    head = "".join(f'<th class="num">{cell(c)}</th>' if right else f"<th>{cell(c)}</th>"
                   for c, right in zip(table.columns, numeric))
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False, name=None))
    columns = [f"tradebook-n{i}" for i, right in enumerate(numeric, start=1) if right]
    classes = " ".join(["table", "tradebook-table", *columns, css]).strip()
    return (f'<table class="{classes}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def table_html(table: pd.DataFrame, summary: str) -> str:
    """A data table in a collapsible block (closed by default)."""
    return (f'<details class="tradebook-donnees"><summary>{esc(summary)}</summary>'
            f"{compact_table(table)}</details>")


def note_html(text: str) -> str:
    """A short note in place of a chart."""
    return f'<p class="tradebook-note">{esc(text)}</p>'


def admonition_html(kind: str, css: str, title: str, sentences: list[str]) -> str:
    """A warning or note box (the theme's admonition style)."""
    body = " ".join(inline_html(s) for s in sentences)
    return (f'<div class="admonition {kind} {css}"><p class="admonition-title">{esc(title)}</p>'
            f"<p>{body}</p></div>")


def quarters_text(quarters: tuple[int, ...]) -> str:
    """« T1, T2 et T3 »."""
    names = [f"T{q}" for q in quarters]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Block:
    """One piece of a section as displayed: HTML, or a chart (its spec) and how to
    name it when it is shared between pages."""

    html: str = ""
    spec: dict | None = None
    label: str = ""
    companion: str = ""  # HTML that goes with a shared chart (its reading key and table)


@dataclass(frozen=True)
class Sentences:
    """Sentences of a section (Markdown: **bold**, [links](url)); ``role`` ``total``
    sets a key figure off."""

    markdown: tuple[str, ...]
    role: str = "texte"


@dataclass(frozen=True)
class Drawn:
    """A figure drawn for the page's zone or, in comparison, for its region or France
    (``heading`` then names it). ``spec`` is None where the figure shows its table
    only; ``label`` names a chart shared between pages (its file in ``_static``);
    ``shared`` is the cache key of a comparison (data, zone), the same for every
    page that shows it."""

    rendered: Rendered
    spec: dict | None
    label: str = ""
    heading: str = ""
    shared: tuple | None = None


@dataclass(frozen=True)
class Note:
    """A short note in place of a chart."""

    text: str


@dataclass(frozen=True)
class Listing:
    """A sentence and a list (the data's anomalies)."""

    intro: str
    items: tuple[str, ...]


Item = Sentences | Drawn | Note | Listing


@dataclass(frozen=True)
class Notice:
    """A box under the introduction: ``kind`` (the theme's ``note`` or ``warning``),
    its CSS class, title and sentences (Markdown)."""

    kind: str
    css: str
    title: str
    sentences: tuple[str, ...]


@dataclass
class Page:
    """One zone's page: its fiche, and its region's and France's on demand."""

    data: DataKey
    zone: Zone
    fiche: Fiche
    view: str = ""  # a national view of France (figures.VIEWS), or "" for the zone's fiche

    # -- zones and links -----------------------------------------------------

    @property
    def level(self) -> str:
        """``departement``, ``region``, ``france``, or the national view."""
        return self.view or self.zone.type

    @property
    def path(self) -> str:
        """The page's path in the book (``departements/61``, ``exposition-etats-unis``)."""
        return paths.site_page(self.level, self.zone.code)

    def link(self, target: str) -> str:
        """A site-relative link (``methodologie.html``) as seen from this page."""
        return "../" * self.path.count("/") + target

    def links(self) -> dict[str, str]:
        """The links the page texts use."""
        return {"methodologie": self.link("methodologie.html"),
                "guide": self.link("guide-analyste.html"),
                "index": self.link(f"{paths.site_page('index')}.html"),
                "etats_unis": self.link(f"{paths.site_page('etats_unis')}.html"),
                "france": self.link(f"{paths.site_page('france')}.html")}

    def region_page(self) -> tuple[str, str]:
        """A département's link to its region's page, as ``(kind, page)``: ``region``
        and ``regions/28`` when the region has a page of its own (the 13 metropolitan
        ones, Corsica's ``94`` included); ``propre`` and the département's own page
        for an overseas département, a region alone whose page this one serves as;
        ``("", "")`` above the département or when that page is not in the book."""
        if self.level != "departement":
            return "", ""
        region = nomenclatures.region_by_code()[self.zone.region_code]
        if region.page:
            kind, page = "region", paths.site_page("region", region.code)
        else:
            kind, page = "propre", self.path
        return (kind, page) if paths.is_published(page) else ("", "")

    def region_values(self) -> dict[str, Any]:
        """Variables of the introduction's sentence linking the region's page."""
        kind, page = self.region_page()
        name = self.zone.le_nom
        return {"region": self.zone.region_nom, "page_region": self.link(f"{page}.html")
                if page else "", "lien_region": kind == "region",
                "region_propre": kind == "propre", "la_zone": name[:1].upper() + name[1:]}

    def comparison_zone(self, level: str) -> Zone:
        """The zone a figure is compared with: the page's region, or France."""
        return self.zone.region() if level == "region" else nomenclatures.france_zone()

    def compares_with(self, level: str) -> bool:
        """Whether this page shows the ``level`` comparison (a region only above a
        département that is not its region alone; France on every page but France's)."""
        if level == "region":
            return self.level == "departement" and not self.zone.single_area
        return level == "france" and self.level != "france"

    @cached_property
    def rendered(self) -> dict[str, Rendered]:
        """The page's own figures, drawn once."""
        return figures.render_all(self.fiche, self.level)

    @cached_property
    def specs(self) -> dict[str, dict]:
        """The Vega-Lite spec of each of the page's own figures, built once (the page,
        its images and its PDF reuse them)."""
        return {key: render.chart_spec(r.chart) for key, r in self.rendered.items()}

    # -- texts -----------------------------------------------------------------

    def comparison_text(self) -> str:
        """What the introduction compares the zone with."""
        if self.compares_with("region"):
            return f"{self.zone.region().de_nom} et de la France"
        return "de la France" if self.level != "france" else ""

    def title_text(self) -> str:
        """The page's title (``Orne (61)``; a view's title): the notebook's first heading."""
        if self.view:
            return figures.page_texts(f"vues.{self.view}.titre", self.view_values())[0]
        return self.zone.titre

    def view_values(self) -> dict[str, Any]:
        """Variables of a national view's texts."""
        return {"annee": self.fiche.annee, **self.links()}

    def introduction_sentences(self) -> list[str]:
        """The introduction paragraph's sentences (Markdown: **bold**, [links](url))."""
        if self.view:
            return figures.page_texts(f"vues.{self.view}.introduction", self.view_values(),
                                      markdown_escape)
        values = {"annee": self.fiche.annee, "de_zone": self.zone.de_nom,
                  "comparaison": self.comparison_text(), **self.region_values(),
                  **self.links()}
        return figures.page_texts("page.introduction", values, markdown_escape)

    def notices(self) -> list[Notice]:
        """The boxes under the introduction: the zone's caveats, the fictitious data,
        a flux missing from the data, a partial year."""
        found = []
        caveats = texts_module.caveats_for(self.zone.type, self.zone.code)
        if caveats:
            found.append(Notice("note", "tradebook-avertissement",
                                figures.page_texts("page.avertissement_titre")[0],
                                tuple(markdown_escape(c) for c in caveats)))
        if self.fiche.donnees_fictives:
            found.append(Notice("warning", FICTITIOUS_CSS,
                                figures.page_texts("page.fictif_titre")[0],
                                tuple(figures.page_texts("page.fictif", self.links(),
                                                         markdown_escape))))
        for flux in self.fiche.flux_absents:
            name = {"E": "exportations", "I": "importations"}[flux]
            found.append(Notice("warning", "tradebook-flux-absent",
                                figures.page_texts("page.flux_absent_titre")[0],
                                tuple(figures.page_texts("page.flux_absent", {"flux": name},
                                                         markdown_escape))))
        if self.fiche.annee_partielle:
            quarters = self.fiche.trimestres
            values = {"annee": self.fiche.annee, "trimestres": len(quarters),
                      "liste_trimestres": quarters_text(quarters)}
            found.append(Notice("note", "tradebook-partielle",
                                figures.page_texts("page.partielle_titre")[0],
                                tuple(figures.page_texts("page.partielle", values,
                                                         markdown_escape))))
        return found

    def pdf_link_html(self) -> str:
        """In the book, the link to the zone's printable fiche (``pdf/61.pdf``); the
        national views have none."""
        if self.view or render.requested_mode() != render.BOOK_MODE:
            return ""
        from tradebook.pdf import pdf_stem

        label = figures.page_texts("page.telecharger_pdf")[0]
        url = self.link(f"{PDF_FOLDER}/{pdf_stem(self.zone)}.pdf")
        return f'<p class="tradebook-pdf"><a href="{esc(url)}">{esc(label)}</a></p>'

    def introduction_html(self) -> str:
        """The introduction paragraph, the link to the printable fiche, then the
        caveats, fictitious-data, missing-flux and partial-year boxes."""
        intro = " ".join(inline_html(s) for s in self.introduction_sentences())
        parts = [f'<p class="tradebook-intro">{intro}</p>', self.pdf_link_html()]
        parts += [admonition_html(n.kind, n.css, n.title, list(n.sentences))
                  for n in self.notices()]
        return "\n".join(p for p in parts if p)

    def anomaly_lines(self) -> list[str]:
        """One line per anomaly of the data that concerns this page: what the code
        is, its rows and euros."""
        from tradebook.formatting import format_eur, format_number

        return [f"{a.describe()} : {format_number(a.rows, 0)} ligne(s), {format_eur(a.euros)}"
                for a in self.fiche.anomalies]

    def anomalies_html(self, listing: "Listing") -> str:
        """The data's anomalies that concern this page, as a list."""
        items = "".join(f"<li>{esc(line)}</li>" for line in listing.items)
        return (f'<div class="tradebook-anomalies"><p>{esc(listing.intro)}</p>'
                f"<ul>{items}</ul></div>")

    def method_values(self) -> dict[str, Any]:
        """Variables of the method section's text."""
        rules = self.fiche.rules
        return {"annee": self.fiche.annee, "regle_produits": rules.produits_sankey,
                "regle_pays": rules.pays_sankey, "regle_rouges": rules.liens_rouges,
                "regle_partenaires": rules.partenaires, **self.links()}

    # -- sections --------------------------------------------------------------

    def section_items(self, section: str) -> list[Item]:
        """What a section shows for the page's zone, in order: the one walk over the
        registry that the page (:meth:`section_blocks`) and the printable fiche
        (:mod:`tradebook.printable`) both render."""
        items: list[Item] = []
        for entry in figures.entries(section, self.level):
            if isinstance(entry, Statement):
                items.append(Sentences(tuple(figures.statement_sentences(
                    entry, self.fiche, markdown_escape)), "total"))
            elif entry.key in self.rendered:  # a figure hidden when empty is not there
                items += self.figure_items(entry)
        if section == "methode":
            items.append(Sentences(tuple(figures.page_texts(
                "page.methode", self.method_values(), markdown_escape))))
            if self.fiche.anomalies:
                intro = figures.page_texts("page.anomalies", {"n": len(self.fiche.anomalies)})
                items.append(Listing(" ".join(intro), tuple(self.anomaly_lines())))
        if not items and section not in figures.sections(self.level):
            note = figures.page_texts("page.hors_niveau",
                                      {"de_niveau": LEVEL_WORDS[self.level]})[0]
            items.append(Note(note))
        return items

    def figure_items(self, figure: Figure) -> list[Item]:
        """A figure of the page, then its comparisons with the region and France."""
        # a national view's charts (maps with their geometry) go to _static, like the
        # charts shared by many pages: the page's HTML stays light; so do a region's and
        # France's own charts that other pages show in comparison (their Sankeys, the
        # heaviest specs: France's page held 67 kB of them)
        label = f"{self.view}-{figure.key}" if self.view else ""
        if not self.view and self.level in figure.comparisons:
            label = f"{self.level}-{self.zone.code}-{figure.key}"
        spec = self.specs[figure.key] if figure.draws_chart(self.level) else None
        items: list[Item] = [Drawn(self.rendered[figure.key], spec, label)]
        for level in figure.comparisons:
            if level == "region" and self.level == "departement" and self.zone.single_area:
                note = figures.page_texts("page.region_seule", {"region": self.zone.region_nom})
                items.append(Note(note[0]))
                continue
            if not self.compares_with(level):
                continue
            zone = self.comparison_zone(level)
            other = _zone_rendered(self.data, zone, figure.key)
            items.append(Drawn(other, _zone_spec(self.data, zone, figure.key),
                               f"{level}-{zone.code}-{figure.key}", other.comparison,
                               (self.data, zone)))
        return items

    def section_blocks(self, section: str) -> list[Block]:
        """A section's items as book blocks: HTML, and the charts' specs."""
        blocks: list[Block] = []
        for item in self.section_items(section):
            if isinstance(item, Sentences):
                body = " ".join(inline_html(s) for s in item.markdown)
                css = ' class="tradebook-total"' if item.role == "total" else ""
                blocks.append(Block(html=f"<p{css}>{body}</p>"))
            elif isinstance(item, Note):
                blocks.append(Block(html=note_html(item.text)))
            elif isinstance(item, Listing):
                blocks.append(Block(html=self.anomalies_html(item)))
            else:
                if item.heading:
                    blocks.append(Block(
                        html=f'<h3 class="tradebook-comparaison">{esc(item.heading)}</h3>'))
                if item.spec is not None and item.rendered.values["vide"]:
                    # nothing to draw: one sentence, as in the printable fiche, rather
                    # than a chart card, its message and a reading key saying it again
                    blocks.append(Block(html=empty_note(item.rendered)))
                    continue
                texts = self._texts_block(item.rendered)
                if item.spec is not None and item.shared is not None:
                    # a comparison is the same on every page of the region: its
                    # reading key and table travel with its shared chart
                    blocks.append(Block(spec=item.spec, label=item.label,
                                        companion=texts.html))
                    continue
                if item.spec is not None:
                    blocks.append(Block(spec=item.spec, label=item.label))
                blocks.append(texts)
        return blocks

    def _texts_block(self, rendered: Rendered) -> Block:
        """The reading key and the data table of a drawn figure (folded, or open and
        sortable with a link to its CSV file)."""
        if not rendered.figure.open_table:
            return Block(html=key_note(rendered.reading_key) + "\n"
                         + table_html(rendered.table, rendered.summary))
        table = compact_table(rendered.table, lambda page: self.link(f"{page}.html"),
                              "tradebook-triable")
        return Block(html=key_note(rendered.reading_key)
                     + f'\n<div class="tradebook-tableau" role="region" tabindex="0" '
                     f'aria-label="{esc(rendered.summary)}">{table}</div>'
                     + self.csv_link(rendered))

    def csv_link(self, rendered: Rendered) -> str:
        """In the book, a link to the table's CSV file (written to ``_static``)."""
        if render.requested_mode() != render.BOOK_MODE:
            return ""
        from tradebook import fiche as exports
        from tradebook.files import write_text_atomic

        flavour = exports.CSV_FLAVOURS["excel-fr"]
        text = exports.csv_text(exports.csv_frame(rendered.csv, exports.source_mark(self.fiche)),
                                flavour)
        name = f"{exports.file_prefix(self.fiche)}_{rendered.figure.key}.csv"
        static = Path(os.environ.get(STATIC_ENV) or paths.BOOK / "_static")
        target = static / TABLES / name
        if not target.is_file() or target.read_bytes() != text.encode(flavour.encoding):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, text, encoding=flavour.encoding, newline="")
        url = self.link(f"_static/{TABLES}/{name}")
        label = figures.page_texts("page.telecharger_csv")[0]
        return (f'<p class="tradebook-csv"><a href="{url}" download="{name}">{esc(label)}</a>'
                "</p>")

    def section_html(self, section: str) -> str:
        """A whole section as book HTML (charts drawn by the site's Vega bundle)."""
        return "\n".join(self.block_html(b) for b in self.section_blocks(section))

    def block_html(self, block: Block) -> str:
        """The book HTML of one block: a shared chart lives in ``_static``."""
        if block.spec is None:
            return block.html
        if not block.label:
            return render.chart_html(block.spec)
        static = Path(os.environ.get(STATIC_ENV) or paths.BOOK / "_static")
        return render.shared_chart_html(block.spec, block.label, static / SHARED_CHARTS,
                                        self.link(f"_static/{SHARED_CHARTS}"), block.companion)

    # -- what the cells display -------------------------------------------------

    def title(self) -> None:
        """Display the page title as a Markdown heading (the book runner turns this
        cell into a real Markdown cell, so that the table of contents sees it)."""
        from IPython.display import Markdown, display

        display(Markdown(f"# {self.title_text()}"))

    def introduction(self) -> None:
        """Display the introduction, the fictitious-data and the partial-year boxes."""
        from IPython.display import HTML, display

        display(HTML(self.introduction_html()))

    def section(self, section: str) -> None:
        """Display one section: in the book as one HTML block, elsewhere with each
        chart as an SVG (or PNG) image drawn offline, described for screen readers."""
        from IPython.display import HTML, display

        mode = render.requested_mode()
        if mode == render.BOOK_MODE:
            display(HTML(self.section_html(section)))
            return
        for block in self.section_blocks(section):
            display(HTML(block.html if block.spec is None else
                         render.image_html(block.spec, mode) + block.companion))
