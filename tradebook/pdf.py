"""Stage 5: the printable fiche, typeset with Typst from a small document model.

A page layer builds a :class:`PdfDocument` (sections of paragraphs, figures,
tables and sub-headings, with plain French text and the charts' SVG); this
module turns it into an A4 PDF through the one template of
``tradebook/templates/fiche.typ``. Nothing reader-facing is written as Typst
markup: the text goes to the template as JSON data (``data.json``), the charts
as SVG files, both in memory (a dict of virtual files given to the compiler).

Typography: every reader-facing string goes through :func:`french_typography`
(no-break spaces before ``:`` ``;`` ``!`` ``?`` ``%`` and inside « », typographic
apostrophe); numbers come already formatted by :mod:`tradebook.formatting`.
The font is Lato (SIL OFL 1.1, from the pinned ``fontpkg-lato`` wheel): static
weights, full French coverage (U+202F, U+00A0, « », œ, É, ’, −, €). The charts
are laid out by vl-convert in Lato too (:func:`tradebook.render.static_spec`), so
their labels keep exactly their room once Typst draws them. System fonts are
ignored: the same PDF on every machine, nothing fetched at run time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence, Union

import typst

from tradebook.errors import TradebookError
from tradebook.style import STATIC_FONT, STATIC_FONT_DIR
from tradebook.files import current_umask, write_bytes_atomic
from tradebook.nomenclatures import Zone

TEMPLATE = Path(__file__).resolve().parent / "templates" / "fiche.typ"
FONT_FAMILY = STATIC_FONT  # the charts are drawn in it too (render.static_spec)
FONT_DIR = STATIC_FONT_DIR
CHART_WIDTH_PX = 600  # the widest chart (style.MAX_WIDTH) ...
CHART_SCALE = 0.86  # ... takes this share of the text width at scale 1 (labels ~7.8 pt)
DATA_FILE = "data.json"
# PDF/A-2a (archivable, tagged) and PDF/UA-1 (accessible: title, language, alt texts).
PDF_STANDARDS = ("a-2a", "ua-1")
LAYOUT_LABEL = "<tb-layout>"  # the template's layout marks (see layout_marks)
NBSP = "\u00a0"


class PdfError(TradebookError):
    """A fiche could not be typeset (the message names the zone and Typst's error)."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class PdfRun:
    """A piece of a paragraph, bold or not (plain text, never markup)."""

    text: str
    bold: bool = False


PARAGRAPH_ROLES = ("body", "total", "note")


@dataclass(frozen=True)
class PdfParagraph:
    """A paragraph: ``body`` text, a ``total`` (the key figures, set off and kept
    with what follows) or a ``note`` (small, muted)."""

    runs: tuple[PdfRun, ...]
    role: str = "body"

    def __post_init__(self) -> None:
        if self.role not in PARAGRAPH_ROLES:
            raise ValueError(f"role must be one of {PARAGRAPH_ROLES}, got {self.role!r}")

    @classmethod
    def of(cls, text: str, role: str = "body") -> "PdfParagraph":
        """A paragraph of one plain run."""
        return cls((PdfRun(text),), role)


SVG_WIDTH = re.compile(r"<svg\b[^>]*?\swidth=\"([0-9.]+)(?:px)?\"")


@dataclass(frozen=True)
class PdfFigure:
    """A chart: its SVG (from vl-convert), its alternative text, and the sentences
    of its reading key (« Clé de lecture »), kept on the chart's page. ``scale``
    shrinks a secondary chart (0.72 for the comparison Sankeys) below the common
    scale of the fiche."""

    svg: str
    alt: str
    caption: tuple[str, ...] = ()
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.alt.strip():
            raise ValueError("a figure needs an alternative text (PDF/UA)")

    @property
    def width_fraction(self) -> float:
        """Share of the text width: every chart at the same scale (its pixel width
        over :data:`CHART_WIDTH_PX`, times :data:`CHART_SCALE`), times ``scale``."""
        found = SVG_WIDTH.search(self.svg[:2000])
        pixels = float(found.group(1)) if found else CHART_WIDTH_PX
        return min(1.0, pixels / CHART_WIDTH_PX * CHART_SCALE * self.scale)


MAX_UNBROKEN_ROWS = 30  # a longer table may break across pages, its header repeated


@dataclass(frozen=True)
class PdfTable:
    """A table of formatted cells; ``numeric[i]`` right-aligns column ``i``. A table of
    up to :data:`MAX_UNBROKEN_ROWS` rows stays on one page; a longer one (France's
    101 areas) breaks across pages with its header repeated."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    caption: str = ""

    @property
    def breakable(self) -> bool:
        """Whether the table may continue on the next page."""
        return len(self.rows) > MAX_UNBROKEN_ROWS

    def __post_init__(self) -> None:
        widths = {len(self.header), *(len(r) for r in self.rows)}
        if len(widths) != 1:
            raise ValueError(f"every row needs {len(self.header)} cells, got {sorted(widths)}")
        if self.numeric and len(self.numeric) != len(self.header):
            raise ValueError("numeric needs one flag per column")


@dataclass(frozen=True)
class PdfSubheading:
    """A heading inside a section (e.g. « Pour comparaison : la région »)."""

    text: str


PdfBlock = Union[PdfParagraph, PdfFigure, PdfTable, PdfSubheading]


@dataclass(frozen=True)
class PdfSection:
    """A titled section of the fiche."""

    heading: str
    blocks: tuple[PdfBlock, ...]


@dataclass(frozen=True)
class PdfKeyFigure:
    """A key figure of the cover (« Exportations », « 1 446,3 M€ », « 3,7 % de la
    région »), set large in a tile; ``tone`` colours it: ``exports``, ``imports``,
    ``positive``, ``negative`` or ``neutral``."""

    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"

    def __post_init__(self) -> None:
        if self.tone not in KEY_FIGURE_TONES:
            raise ValueError(f"tone must be one of {KEY_FIGURE_TONES}, got {self.tone!r}")


KEY_FIGURE_TONES = ("exports", "imports", "positive", "negative", "neutral")


@dataclass(frozen=True)
class PdfNotice:
    """A box under the introduction (a caveat of the zone, a partial year)."""

    title: str
    text: str


@dataclass(frozen=True)
class PdfLabels:
    """The words of the fiche's furniture, from the texts (``data/textes.yml``):
    the fictitious-data banner, the partial-year mark, the caption's « Clé de
    lecture », and the page number's words around the two numbers (« page », « sur »,
    "")."""

    banner: str
    banner_detail: str
    partial_year: str
    reading_key: str
    page_words: tuple[str, str, str]

    def __post_init__(self) -> None:
        if len(self.page_words) != 3:
            raise ValueError("page_words: the words before, between and after the numbers")


@dataclass(frozen=True)
class PdfDocument:
    """One zone's printable fiche."""

    title: str  # « Les indicateurs clés : commerce extérieur »
    zone_name: str  # « Orne (61) »
    year: int
    intro: str
    sections: tuple[PdfSection, ...]
    source: str  # the footer line of every page
    fictitious: bool
    labels: PdfLabels
    author: str
    partial_year: bool = False
    subtitle: str = ""  # under the zone's name on the cover, e.g. « Région Normandie »
    year_text: str = ""  # « Données 2024 » on the cover
    key_figures: tuple[PdfKeyFigure, ...] = ()  # tiles under the introduction
    notices: tuple[PdfNotice, ...] = ()  # boxes under the tiles
    keywords: tuple[str, ...] = ()

    @property
    def full_title(self) -> str:
        """The PDF's title metadata: ``title — zone, year``."""
        return f"{self.title} — {self.zone_name}, {self.year}"


# --------------------------------------------------------------------------- typography

_SPACE = "[ \u00a0\u202f]"
_BEFORE_PUNCT = re.compile(rf"{_SPACE}+([:;!?%»])")
_AFTER_GUILLEMET = re.compile(rf"«{_SPACE}*")
_BEFORE_GUILLEMET = re.compile(r"(?<=\S)»")


def french_typography(text: str) -> str:
    """French print typography on plain text: a no-break space (U+00A0) instead of
    the space before ``: ; ! ? %`` and ``»`` and after ``«`` (added inside « » when
    missing), and the typographic apostrophe ’. Numbers formatted by
    :mod:`tradebook.formatting` (U+202F thousands) pass unchanged."""
    text = _BEFORE_PUNCT.sub(NBSP + r"\1", text)
    text = _AFTER_GUILLEMET.sub("«" + NBSP, text)
    text = _BEFORE_GUILLEMET.sub(NBSP + "»", text)
    return text.replace("'", "\u2019")


_FONT_FAMILY_ATTR = re.compile(r"font-family=(\"[^\"]*\"|'[^']*')")
_PATH_TAG = re.compile(r"<path\b[^>]*>")


def _fill_opacity(match: re.Match[str]) -> str:
    """A filled, unstroked path's ``opacity`` as ``fill-opacity`` (the same look)."""
    tag = match.group(0)
    if "stroke=" in tag or "fill-opacity=" in tag:
        return tag
    return tag.replace(' opacity="', ' fill-opacity="', 1)


_PATH_DATA = re.compile(r'\sd="([^"]*)"')
_DECIMAL = re.compile(r"(-?\d+)\.(\d)\d*")


def _tenths(match: re.Match[str]) -> str:
    """A path's coordinates to a tenth of a pixel (0.025 mm once printed): the same
    drawing, with fewer digits to write into the PDF."""
    return ' d="' + _DECIMAL.sub(r"\1.\2", match.group(1)) + '"'


def svg_for_print(svg: str) -> bytes:
    """The chart's SVG as UTF-8 bytes, its font stack replaced by the fiche's font
    (the only sans-serif Typst is given), the ``opacity`` of filled paths without
    stroke (the Sankey bands) written as ``fill-opacity`` (the same rendering, but
    without one transparency group per band, which halves the PDF of a Sankey
    diagram), and path coordinates cut to a tenth of a pixel."""
    svg = _FONT_FAMILY_ATTR.sub(f'font-family="{FONT_FAMILY}"', svg)
    svg = _PATH_DATA.sub(_tenths, svg)
    return _PATH_TAG.sub(_fill_opacity, svg).encode("utf-8")


# --------------------------------------------------------------------------- payload


def block_payload(block: PdfBlock, figure_file: str) -> dict[str, Any]:
    """The JSON object of one block (``figure_file`` names a figure's SVG)."""
    fr = french_typography
    if isinstance(block, PdfParagraph):
        return {"kind": "paragraph", "role": block.role,
                "runs": [{"text": fr(r.text), "bold": r.bold} for r in block.runs]}
    if isinstance(block, PdfFigure):
        return {"kind": "figure", "file": figure_file, "alt": fr(block.alt),
                "width": block.width_fraction, "caption": [fr(s) for s in block.caption]}
    if isinstance(block, PdfTable):
        numeric = list(block.numeric) or [False] * len(block.header)
        return {"kind": "table", "header": [fr(c) for c in block.header],
                "rows": [[fr(c) for c in row] for row in block.rows],
                "numeric": numeric, "caption": fr(block.caption), "breakable": block.breakable}
    if isinstance(block, PdfSubheading):
        return {"kind": "subheading", "text": fr(block.text)}
    raise TypeError(f"not a PDF block: {type(block).__name__}")


def document_files(doc: PdfDocument) -> dict[str, bytes]:
    """The virtual files of one compilation: the template, ``data.json`` and one
    SVG per figure (``figures/3.svg``)."""
    fr = french_typography
    files: dict[str, bytes] = {"main.typ": template_bytes()}
    sections = []
    for section in doc.sections:
        blocks = []
        for block in section.blocks:
            name = ""
            if isinstance(block, PdfFigure):
                name = f"figures/{len(files)}.svg"
                files[name] = svg_for_print(block.svg)
            blocks.append(block_payload(block, name))
        sections.append({"heading": fr(section.heading), "blocks": blocks})
    data = {
        "meta": {"title": fr(doc.full_title), "author": fr(doc.author),
                 "keywords": [fr(k) for k in doc.keywords]},
        "font": FONT_FAMILY,
        "title": fr(doc.title), "zone": fr(doc.zone_name), "subtitle": fr(doc.subtitle),
        "year": int(doc.year), "year_text": fr(doc.year_text),
        "intro": fr(doc.intro), "source": fr(doc.source),
        "fictitious": bool(doc.fictitious), "partial_year": bool(doc.partial_year),
        "key_figures": [{"label": fr(k.label), "value": fr(k.value), "detail": fr(k.detail),
                         "tone": k.tone} for k in doc.key_figures],
        "notices": [{"title": fr(n.title), "text": fr(n.text)} for n in doc.notices],
        "labels": {"banner": fr(doc.labels.banner), "banner_detail": fr(doc.labels.banner_detail),
                   "partial_year": fr(doc.labels.partial_year),
                   "reading_key": fr(doc.labels.reading_key),
                   "page_words": [fr(w) for w in doc.labels.page_words]},
        "sections": sections,
    }
    files[DATA_FILE] = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return files


@lru_cache(maxsize=1)
def template_bytes() -> bytes:
    """The Typst template, read once per process."""
    return TEMPLATE.read_bytes()


# --------------------------------------------------------------------------- typesetting


_THREAD = threading.local()


def compiler() -> typst.Compiler:
    """This thread's Typst compiler, with the fiche's font and no system font
    (Typst's caches are shared by the process; a compiler is cheap to make)."""
    if getattr(_THREAD, "compiler", None) is None:
        _THREAD.compiler = typst.Compiler(font_paths=[str(FONT_DIR)], ignore_system_fonts=True)
    return _THREAD.compiler


def typst_message(exc: BaseException) -> str:
    """Typst's error as one line of text (its first lines, hints included)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:6]) or type(exc).__name__


def typeset(doc: PdfDocument) -> bytes:
    """The PDF of ``doc``; raises :class:`PdfError` naming the zone and Typst's error."""
    try:
        return compiler().compile(input=document_files(doc), pdf_standards=list(PDF_STANDARDS))
    except typst.TypstError as exc:
        raise PdfError(f"La fiche PDF de {doc.zone_name} n'a pas pu être composée par "
                       f"Typst : {typst_message(exc)}") from exc


def layout_marks(doc: PdfDocument) -> list[dict[str, Any]]:
    """Where the template put each heading and block, in reading order: ``{"kind",
    "page"}`` with kind ``heading``, ``subheading``, ``paragraph``, ``figure``,
    ``table``, ``long-table`` (one that may break, see :class:`PdfTable`), and
    ``figure-end`` / ``table-end`` / ``long-table-end`` after it (to check that no
    heading is left alone at a page bottom and no chart or short table is split)."""
    raw = typst.query(document_files(doc), LAYOUT_LABEL, field="value",
                      font_paths=[str(FONT_DIR)], ignore_system_fonts=True)
    return json.loads(raw)


def pdf_stem(zone: Zone) -> str:
    """File stem of a zone's PDF: ``61``, ``region-28``, ``france``."""
    if zone.type == "france":
        return "france"
    return zone.code if zone.type == "departement" else f"region-{zone.code}"


def write_pdf(doc: PdfDocument, path: Path) -> Path:
    """Typeset ``doc`` into ``path`` atomically; return ``path``."""
    return write_bytes_atomic(Path(path), typeset(doc))


def _typeset_named(item: tuple[str, PdfDocument]) -> tuple[str, bytes | None, str]:
    """Worker: ``(name, pdf, "")`` or ``(name, None, French error message)``."""
    name, doc = item
    try:
        return name, typeset(doc), ""
    except PdfError as exc:
        return name, None, str(exc)


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_names(names: Sequence[str]) -> None:
    """File stems must be plain (``61``, ``region-28``, ``france``) and unique."""
    bad = [n for n in names if not SAFE_NAME.match(n)]
    if bad:
        raise ValueError(f"file names must be plain stems, got {bad[:5]}")
    if len(set(names)) != len(names):
        raise ValueError("file names must be unique")


def failure_message(failures: Sequence[tuple[str, str]], total: int) -> str:
    """The French report of failed fiches (at most five named in full)."""
    lines = [f"{len(failures)} fiche(s) PDF sur {total} n'ont pas pu être composées ; "
             "aucun PDF n'a été publié :"]
    lines += [f"- {name}.pdf : {message}" for name, message in failures[:5]]
    if len(failures) > 5:
        lines.append(f"- et {len(failures) - 5} autre(s)")
    return "\n".join(lines)


def swap_folder(staging: Path, folder: Path) -> None:
    """Put the complete ``staging`` folder in the place of ``folder``."""
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        os.replace(folder, old / folder.name)
        os.replace(staging, folder)
        shutil.rmtree(old)
    else:
        os.replace(staging, folder)


def typeset_many(docs: Sequence[tuple[str, PdfDocument]], folder: Path,
                 workers: int = 2) -> list[Path]:
    """Typeset every ``(name, doc)`` into ``folder/name.pdf``, ``workers`` threads at
    a time.

    The PDFs are written into a staging folder beside ``folder``, which replaces
    ``folder`` only when every fiche succeeded (so ``folder`` then holds exactly
    these PDFs). A failure leaves ``folder`` as it was and raises
    :class:`PdfError` naming each failed fiche with Typst's message.
    """
    folder = Path(folder)
    names = [name for name, _ in docs]
    check_names(names)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
    try:
        failures = []
        for name, pdf, error in _run(docs, workers):
            if pdf is None:
                failures.append((name, error))
            else:
                (staging / f"{name}.pdf").write_bytes(pdf)
        if failures:
            raise PdfError(failure_message(failures, len(docs)))
        os.chmod(staging, 0o777 & ~current_umask())
        swap_folder(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / f"{name}.pdf" for name in names]


def _run(docs: Sequence[tuple[str, PdfDocument]],
         workers: int) -> list[tuple[str, bytes | None, str]]:
    """Typeset in this thread (``workers <= 1``) or in ``workers`` threads: Typst
    releases the GIL while it compiles, so threads run in parallel without the
    start-up and pickling of processes."""
    if workers <= 1 or len(docs) <= 1:
        return [_typeset_named(item) for item in docs]
    with ThreadPoolExecutor(max_workers=min(workers, len(docs))) as pool:
        return list(pool.map(_typeset_named, docs))
