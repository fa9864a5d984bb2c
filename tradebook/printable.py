"""Stage 5: a zone's printable fiche, from its page.

The PDF shows what the page shows: the same registry entries, in the same
sections, with the same texts (``data/textes.yml``) and the same chart specs,
walked once by :meth:`tradebook.report.Page.section_items`. This module only
turns those items into the document model of :mod:`tradebook.pdf`:

- sentences (Markdown with ``**bold**`` and links) become paragraphs of plain
  runs, the links kept as their text;
- a drawn figure becomes its chart's SVG (vl-convert, from the page's spec), its
  screen-reader description as alternative text and its reading key as caption;
  a comparison gets its heading; a figure drawn as a table only (France's list of
  départements) becomes a table; an empty figure, its reading key as a note;
- the cover takes the page's title, introduction and boxes, with three tiles
  (exports, imports, balance); the fiche ends with « Contexte et méthodologie ».

Comparison charts (the region's and France's Sankeys) are drawn once per
process and reused by every page that shows them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd

from tradebook import figures, pdf, render, style
from tradebook.formatting import format_eur, format_percent, format_signed_eur
from tradebook.pdf import (PdfBlock, PdfDocument, PdfFigure, PdfKeyFigure, PdfLabels,
                           PdfNotice, PdfParagraph, PdfRun, PdfSection, PdfSubheading,
                           PdfTable)
from tradebook.report import Drawn, Listing, Note, Page, Sentences, is_numeric_column

SvgOf = Callable[[dict], str]
COMPARISON_SCALE = 0.72  # the region's and France's charts, below the zone's own
TREEMAP_SCALE = 0.8  # the two treemaps, so that both fit one page
SCALES = {"produits_exportations": TREEMAP_SCALE, "produits_importations": TREEMAP_SCALE}
METHOD_SECTION = "methode"  # the page's own method section (links, anomalies)
FLUX = ("exportations", "importations")


# --------------------------------------------------------------------------- text


def runs_of(markdown: str) -> tuple[PdfRun, ...]:
    """One sentence of Markdown as plain runs: ``**bold**`` kept, a link as its text,
    escapes resolved (the text is never markup in the PDF)."""
    from tradebook.report import markdown_parser

    tokens = markdown_parser().parseInline(markdown)[0].children or []
    runs: list[PdfRun] = []
    bold = False
    for token in tokens:
        if token.type == "strong_open":
            bold = True
        elif token.type == "strong_close":
            bold = False
        elif token.type in ("text", "code_inline"):
            runs.append(PdfRun(token.content, bold))
        elif token.type in ("softbreak", "hardbreak"):
            runs.append(PdfRun(" ", bold))
    return merged(runs)


def merged(runs: list[PdfRun]) -> tuple[PdfRun, ...]:
    """Neighbouring runs of the same weight as one."""
    out: list[PdfRun] = []
    for run in runs:
        if out and out[-1].bold == run.bold:
            out[-1] = PdfRun(out[-1].text + run.text, run.bold)
        elif run.text:
            out.append(run)
    return tuple(out)


def paragraph(sentences: tuple[str, ...] | list[str], role: str = "body") -> PdfParagraph:
    """Sentences of Markdown as one paragraph."""
    runs: list[PdfRun] = []
    for i, sentence in enumerate(sentences):
        if i:
            runs.append(PdfRun(" "))
        runs += runs_of(sentence)
    return PdfParagraph(merged(runs), role)


def plain_text(sentences: tuple[str, ...] | list[str]) -> str:
    """Sentences of Markdown as plain text."""
    return "".join(run.text for run in paragraph(sentences).runs)


# --------------------------------------------------------------------------- charts


@lru_cache(maxsize=256)
def _shared_svg(shared: tuple, key: str, svg_of: SvgOf) -> str:
    """A comparison chart's SVG, drawn once per process (``shared``: data and zone)."""
    from tradebook.report import _zone_spec

    return svg_of(_zone_spec(*shared, key))


def table_block(frame: pd.DataFrame, caption: str) -> PdfTable:
    """A French table as a PDF table (numbers right-aligned)."""
    from tradebook.tables import Link

    def cell(value: object) -> str:
        if isinstance(value, Link):
            return value.text
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "–"
        return str(value)

    header = tuple(str(c) for c in frame.columns)
    rows = tuple(tuple(cell(v) for v in row) for row in frame.itertuples(index=False, name=None))
    numeric = tuple(is_numeric_column(frame[c].map(str)) for c in frame.columns)
    return PdfTable(header, rows, numeric, caption)


def drawn_blocks(item: Drawn, svg_of: SvgOf) -> list[PdfBlock]:
    """A figure of the page, or a comparison: its heading, its chart (or table, or
    note when empty) and its reading key."""
    rendered = item.rendered
    blocks: list[PdfBlock] = [PdfSubheading(item.heading)] if item.heading else []
    if item.spec is None:
        return blocks + [paragraph(rendered.reading_key, "note"),
                         table_block(rendered.table, rendered.summary)]
    if rendered.values["vide"]:
        return blocks + [paragraph(rendered.reading_key, "note")]
    key = rendered.figure.key
    svg = (_shared_svg(item.shared, key, svg_of) if item.shared is not None
           else svg_of(item.spec))
    scale = COMPARISON_SCALE if item.heading else SCALES.get(key, 1.0)
    alt = item.spec.get("description") or rendered.words.description
    return blocks + [PdfFigure(svg=svg, alt=str(alt), caption=tuple(rendered.reading_key),
                               scale=scale)]


def section_blocks(page: Page, section: str, svg_of: SvgOf) -> list[PdfBlock]:
    """A section of the page as PDF blocks, in the page's order."""
    texts = figures.texts()
    blocks: list[PdfBlock] = []
    if texts.has(f"sections.{section}.introduction"):
        blocks.append(paragraph(texts.sentences(f"sections.{section}.introduction", {})))
    for item in page.section_items(section):
        if isinstance(item, Sentences):
            blocks.append(paragraph(item.markdown, "total" if item.role == "total" else "body"))
        elif isinstance(item, Note):
            blocks.append(PdfParagraph.of(item.text, "note"))
        elif isinstance(item, Listing):
            blocks += [PdfParagraph.of(item.intro, "note"),
                       *(PdfParagraph.of(f"– {line}", "note") for line in item.items)]
        elif isinstance(item, Drawn):
            blocks += drawn_blocks(item, svg_of)
    return blocks


# --------------------------------------------------------------------------- cover


def key_figures(page: Page) -> tuple[PdfKeyFigure, ...]:
    """The cover's tiles: exports and imports with their share of the region (of
    France for a département alone in its region, a region), and the balance."""
    texts, totals = figures.texts(), page.fiche.totaux
    tiles = []
    for flux, tone in zip(FLUX, ("exports", "imports")):
        region = getattr(totals, f"part_region_{flux}")
        france = getattr(totals, f"part_france_{flux}")
        if region is not None and not page.zone.single_area:
            detail = texts.text("pdf.tuiles.part_region", {"part": format_percent(region)})
        elif france is not None:
            detail = texts.text("pdf.tuiles.part_france", {"part": format_percent(france)})
        else:
            detail = ""
        tiles.append(PdfKeyFigure(texts.text(f"pdf.tuiles.{flux}"),
                                  format_eur(getattr(totals, flux)), detail, tone))
    tiles.append(PdfKeyFigure(texts.text("pdf.tuiles.solde"), format_signed_eur(totals.solde),
                              texts.text("pdf.tuiles.solde_detail"),
                              "negative" if totals.solde < 0 else "positive"))
    return tuple(tiles)


def labels() -> PdfLabels:
    """The words of the fiche's furniture (banner, page numbers), from the texts."""
    texts = figures.texts()
    page_words = texts.text("pdf.page", {"numero": "\0", "total": "\0"}).split("\0")
    return PdfLabels(banner=texts.text("pdf.bandeau"),
                     banner_detail=texts.text("pdf.bandeau_detail"),
                     partial_year=texts.text("pdf.annee_partielle"),
                     reading_key=texts.text("page.cle"),
                     page_words=tuple(page_words))


def method_section(page: Page) -> PdfSection:
    """« Contexte et méthodologie »: where the figures come from and what they
    cannot say, the page's rules, then the data's anomalies for this zone."""
    texts, rules = figures.texts(), page.fiche.rules
    values = {"regle_produits": rules.produits_sankey, "regle_pays": rules.pays_sankey,
              "regle_rouges": rules.liens_rouges}
    blocks: list[PdfBlock] = [PdfParagraph.of(s) for s in texts.sentences("pdf.methode", values)]
    for item in page.section_items(METHOD_SECTION):
        if isinstance(item, Listing):
            blocks += [PdfParagraph.of(item.intro, "note"),
                       *(PdfParagraph.of(f"– {line}", "note") for line in item.items)]
    return PdfSection(texts.text("pdf.methode_titre"), tuple(blocks))


def page_document(page: Page, svg_of: SvgOf = render.svg_of) -> PdfDocument:
    """The printable fiche of a zone's page (a département, a region or France)."""
    if page.view:
        raise ValueError(f"a national view has no printable fiche: {page.view}")
    texts, fiche, zone = figures.texts(), page.fiche, page.zone
    sections = tuple(
        PdfSection(texts.text(f"sections.{name}.titre"), tuple(blocks))
        for name in figures.sections(page.level) if name != METHOD_SECTION
        for blocks in [section_blocks(page, name, svg_of)] if blocks)
    notices = tuple(PdfNotice(n.title, plain_text(n.sentences)) for n in page.notices()
                    if n.css != "tradebook-fictif")
    subtitle = (texts.text("pdf.region", {"region": zone.region_nom})
                if zone.type == "departement" else "")
    return PdfDocument(
        title=texts.text("pdf.titre"), zone_name=zone.titre, year=int(fiche.annee),
        intro=plain_text(page.introduction_sentences()),
        sections=(*sections, method_section(page)),
        source=style.source_line(fiche.annee, fiche.donnees_fictives, fiche.annee_partielle),
        fictitious=bool(fiche.donnees_fictives), partial_year=bool(fiche.annee_partielle),
        subtitle=subtitle, year_text=texts.text("pdf.donnees", {"annee": fiche.annee}),
        key_figures=key_figures(page), notices=notices, labels=labels(),
        author=texts.text("pdf.auteur"),
        keywords=("commerce extérieur", "DGDDI", zone.nom, str(fiche.annee)),
    )


def write_page_pdf(page: Page, folder: str | Path, svg_of: SvgOf = render.svg_of) -> Path:
    """Typeset the page's fiche into ``folder/<stem>.pdf`` (``61.pdf``,
    ``region-28.pdf``, ``france.pdf``) atomically; return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return pdf.write_pdf(page_document(page, svg_of), folder / f"{pdf.pdf_stem(page.zone)}.pdf")
