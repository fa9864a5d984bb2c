"""The printable fiche: Typst typesetting of a PdfDocument (tradebook/pdf.py), and
the document of a zone's page (tradebook/printable.py).

Real documents are the pages of Orne (61), Mayotte (976) and Corse (2A, the zone
20) on the sample, through :func:`tradebook.printable.page_document`; their text
is read back with pypdf.

Page counts: a département's fiche of the sample fills 7 to 11 A4 pages (cover and
partners; the two treemaps; the exports and the imports, each with the region's
and France's Sankeys, 2 or 3 pages each; the change over a year; exposure and
dependences, 1 or 2 pages; context and method). A region's or France's fiche adds
its départements (a chart and a table, or France's table of 101 areas).
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pypdf
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dgddi_fixtures import write_source  # noqa: E402
from tradebook import nomenclatures, pdf, printable, report  # noqa: E402
from tradebook.errors import TradebookError  # noqa: E402
from tradebook.fiche import fiche_to_dict  # noqa: E402
from tradebook.formatting import format_eur, format_percent  # noqa: E402
from tradebook.pdf import (PdfDocument, PdfFigure, PdfKeyFigure, PdfParagraph,  # noqa: E402
                           PdfRun, PdfSection, PdfSubheading, PdfTable)

CODES = ("61", "976", "2A")
PAGES = range(7, 12)  # 7 to 11 pages, see the module docstring
BANNER = "Données fictives : ne pas citer"
TINY_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" '
            'viewBox="0 0 300 120"><rect width="300" height="120" fill="#7a3e9d"/>'
            '<text x="10" y="60" font-family="Marianne, Arial, sans-serif" '
            'font-size="14px">Allemagne 12,5 M€</text></svg>')
TALL_SVG = TINY_SVG.replace('height="120"', 'height="520"').replace("0 0 300 120", "0 0 300 520")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pages() -> dict[str, report.Page]:
    """The pages of 61, 976 and 2A on the sample (its two publications)."""
    return {code: report.load(departement=code, annee=2024) for code in CODES}


@pytest.fixture(scope="module")
def documents(pages) -> dict[str, PdfDocument]:
    """The fiches of 61, 976 and 2A as PdfDocuments."""
    return {code: printable.page_document(page) for code, page in pages.items()}


@pytest.fixture(scope="module")
def pdfs(documents, tmp_path_factory) -> dict[str, Path]:
    """The three PDFs, typeset in parallel into one folder."""
    folder = tmp_path_factory.mktemp("pdf") / "fiches"
    written = pdf.typeset_many(list(documents.items()), folder, workers=2)
    return dict(zip(CODES, written))


@pytest.fixture(scope="module")
def page_texts(pdfs) -> dict[str, list[str]]:
    """The text of each page of the three PDFs (pypdf is slow on chart text: read once)."""
    return {code: [page.extract_text() for page in pypdf.PdfReader(path).pages]
            for code, path in pdfs.items()}


def folded(text: str) -> str:
    """U+00A0 as a space and runs of white space folded (see :func:`read_text`)."""
    return re.sub(r"[ \u00a0\n]+", " ", text)


def read_text(path_or_bytes) -> str:
    """The PDF's text with no-break spaces as spaces (Typst maps U+00A0 to the
    space glyph, so extraction gives U+0020) and runs of white space folded.
    U+202F, the thousands separator, is kept."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    reader = pypdf.PdfReader(source)
    return folded("\n".join(page.extract_text() for page in reader.pages))


def plain(text: str) -> str:
    """A formatted figure as it reads back from the PDF (U+00A0 as a space)."""
    return text.replace("\u00a0", " ")


def small_document(*sections: PdfSection, fictitious: bool = False, **fields) -> PdfDocument:
    """A hand-made document around the given sections."""
    values = dict(title="Les indicateurs clés : commerce extérieur", zone_name="Orne (61)",
                  year=2024, intro="Une fiche d'essai.", sections=sections,
                  source="Source : DGDDI, 2024", fictitious=fictitious,
                  labels=printable.labels(), author="tradebook")
    values.update(fields)
    return PdfDocument(**values)


# --------------------------------------------------------------------------- the three fiches


@pytest.mark.parametrize("code", CODES)
def test_fiche_holds_name_totals_and_shares_as_the_json(code, pages, page_texts):
    """The département's name, its totals in French format and its shares of the
    region and of France, exactly as ``fiche --json`` gives them."""
    page = pages[code]
    data = fiche_to_dict(page.fiche)
    text = folded("\n".join(page_texts[code]))
    assert data["zone"]["nom"] in text
    for flux in ("exportations", "importations"):
        figures = data[flux]
        assert plain(format_eur(figures["total_eur"])) in text
        assert plain(format_percent(figures["part_france"])) + f" des {flux} de la France" in text
        if page.zone.single_area:
            assert f"Le département forme à lui seul la région {page.zone.region_nom}" in text
            assert (f"La région {page.zone.region_nom} se compose de ce seul département"
                    in text)
        else:
            region_share = plain(format_percent(figures["part_region"]))
            assert f"{region_share} des {flux} de la Normandie" in text


def test_orne_totals_hand_worked(page_texts):
    """The sample keeps the published 2024 totals of the Orne: 1 446,3 M€ of exports,
    1 428,9 M€ of imports, solde +17,4 M€ (thousands separated by U+202F); the
    cover's tiles give them first."""
    text = folded("\n".join(page_texts["61"]))
    cover = folded(page_texts["61"][0])
    assert "EXPORTATIONS 1\u202f446,3 M€ 3,7 % de la région" in cover
    assert "IMPORTATIONS 1\u202f428,9 M€ 2,9 % de la région" in cover
    assert "SOLDE COMMERCIAL +17,4 M€" in cover
    assert "Exportations de l’Orne en 2024 : 1\u202f446,3 M€" in text
    assert "Importations de l’Orne en 2024 : 1\u202f428,9 M€" in text
    assert "Solde commercial (exportations moins importations) : +17,4 M€" in text


@pytest.mark.parametrize("code", CODES)
def test_page_count_in_documented_range(code, page_texts):
    assert len(page_texts[code]) in PAGES


@pytest.mark.parametrize("code", CODES)
def test_banner_source_and_page_numbers_on_every_page(code, page_texts):
    total = len(page_texts[code])
    for number, page in enumerate(page_texts[code], start=1):
        text = folded(page)
        assert BANNER in text
        assert "Source : DGDDI, 2024" in text
        assert f"page {number} sur {total}" in text


def test_metadata_title_author_keywords_language(pdfs, documents):
    reader = pypdf.PdfReader(pdfs["61"])
    meta = reader.metadata
    assert plain(meta.title) == "Les indicateurs clés : commerce extérieur — Orne (61), 2024"
    assert meta.author == "tradebook, d’après les données de la DGDDI"
    assert documents["61"].author == "tradebook, d'après les données de la DGDDI"
    assert "Orne" in meta["/Keywords"]
    assert str(reader.trailer["/Root"]["/Lang"]).startswith("fr")


def test_figures_carry_alternative_text(pdfs, documents):
    """Every chart's ARIA description is the /Alt of a Figure in the tagged PDF."""
    reader = pypdf.PdfReader(pdfs["61"])
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
    alts = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for child in node:
                walk(child)
        elif isinstance(node, pypdf.generic.DictionaryObject):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    figures = [b for s in documents["61"].sections for b in s.blocks if isinstance(b, PdfFigure)]
    assert len(alts) == len(figures)
    assert alts[0] == pdf.french_typography(figures[0].alt)


def test_headings_stay_with_what_follows_and_charts_never_split(documents):
    for code, doc in documents.items():
        marks = pdf.layout_marks(doc)
        for mark, after in zip(marks, marks[1:]):
            if mark["kind"] in ("heading", "subheading"):
                assert after["page"] == mark["page"], (code, mark, after)
            if mark["kind"] in ("figure", "table"):
                assert after["kind"] == f"{mark['kind']}-end"
                assert after["page"] == mark["page"], (code, mark)


# --------------------------------------------------------------------------- other data


def test_no_banner_for_real_data(tmp_path):
    """A fiche of DGDDI-layout data that is not the sample has no fictitious banner."""
    from tradebook.prepare import ensure_prepared

    prepared = ensure_prepared(write_source(tmp_path / "raw"), 2024, cache_dir=tmp_path / "cache")
    assert not prepared.donnees_fictives
    page = report.load(departement="61", annee=2024, donnees=str(prepared.path))
    text = read_text(pdf.typeset(printable.page_document(page)))
    assert "Orne (61)" in text
    assert "fictive" not in text.lower()


# --------------------------------------------------------------------------- engine


def test_typeset_many_publishes_nothing_when_one_fiche_fails(documents, tmp_path):
    """A broken chart in Mayotte's fiche: French error naming the zone and Typst's
    message; the folder keeps its previous PDFs and no staging folder is left."""
    folder = tmp_path / "pdf"
    folder.mkdir()
    (folder / "61.pdf").write_bytes(b"previous")
    good = documents["61"]
    broken_figure = PdfFigure(svg="<svg><g></svg>", alt="Un graphique cassé.")
    broken = small_document(PdfSection("Exportations", (broken_figure,)),
                            zone_name="Mayotte (976)")
    with pytest.raises(TradebookError) as error:
        pdf.typeset_many([("61", good), ("976", broken)], folder, workers=2)
    message = str(error.value)
    assert "976.pdf" in message and "Mayotte (976)" in message
    assert "SVG" in message  # Typst's own words: failed to parse SVG
    assert "aucun PDF n'a été publié" in message
    assert "61.pdf" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pdf"]
    assert (folder / "61.pdf").read_bytes() == b"previous"


def test_typeset_many_replaces_the_folder_whole(tmp_path):
    folder = tmp_path / "pdf"
    folder.mkdir()
    (folder / "old.pdf").write_bytes(b"old")
    doc = small_document(PdfSection("Balance", (PdfParagraph.of("Texte."),)))
    written = pdf.typeset_many([("61", doc), ("region-28", doc), ("france", doc)], folder,
                               workers=2)
    assert [p.name for p in written] == ["61.pdf", "region-28.pdf", "france.pdf"]
    assert sorted(p.name for p in folder.iterdir()) == ["61.pdf", "france.pdf", "region-28.pdf"]
    assert all(p.read_bytes().startswith(b"%PDF-") for p in written)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pdf"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_typeset_many_refuses_unsafe_names(tmp_path):
    doc = small_document()
    with pytest.raises(ValueError):
        pdf.typeset_many([("../61", doc)], tmp_path / "pdf")
    with pytest.raises(ValueError):
        pdf.typeset_many([("61", doc), ("61", doc)], tmp_path / "pdf")


def test_write_pdf_is_atomic_and_reports_typst_errors(tmp_path):
    target = tmp_path / "61.pdf"
    target.write_bytes(b"previous")
    broken = small_document(PdfSection("S", (PdfFigure(svg="pas du SVG", alt="x"),)))
    with pytest.raises(pdf.PdfError, match=r"Orne \(61\) n'a pas pu être composée par Typst"):
        pdf.write_pdf(broken, target)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["61.pdf"]


def test_user_text_is_never_markup():
    """Typst syntax in the data is printed as it is, and changes nothing."""
    nasty = "#set page(width: 3cm) *gras* _it_ $x^2$ <lbl> @ref [crochets] \\ `code` // fin"
    doc = small_document(
        PdfSection(nasty, (PdfParagraph((PdfRun(nasty), PdfRun(nasty, bold=True))),
                           PdfSubheading(nasty),
                           PdfTable(("Pays", "Valeur"), ((nasty, "1 M€"),), (False, True)))),
        zone_name=nasty, intro=nasty, key_figures=(PdfKeyFigure(nasty, nasty, nasty),))
    data = pdf.typeset(doc)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert float(reader.pages[0].mediabox.width) == pytest.approx(595.28, abs=0.1)  # A4
    text = read_text(data)
    assert text.count("#set page(width: 3cm) *gras* _it_ $x^2$ <lbl> @ref [crochets]") >= 9


def test_heading_is_kept_with_its_chart_at_a_page_bottom():
    """Wherever filler text ends, a section heading is never the last thing of a
    page: it moves with the chart that follows."""
    filler = "Texte de remplissage pour pousser le titre vers le bas de la page. " * 6
    for count in range(8, 17):
        doc = small_document(
            PdfSection("Remplissage", tuple(PdfParagraph.of(filler) for _ in range(count))),
            PdfSection("Exportations", (PdfFigure(svg=TALL_SVG, alt="Un graphique haut."),)),
            PdfSection("Suite", (PdfSubheading("Pour comparaison"),
                                 PdfFigure(svg=TALL_SVG, alt="Un autre graphique."))))
        marks = pdf.layout_marks(doc)
        for mark, after in zip(marks, marks[1:]):
            if mark["kind"] in ("heading", "subheading"):
                assert after["page"] == mark["page"], (count, mark, after)


def test_paragraph_leading_into_a_chart_moves_with_it():
    filler = "Texte de remplissage pour pousser le titre vers le bas de la page. " * 6
    for count in range(8, 17):
        doc = small_document(PdfSection("Remplissage", (
            *(PdfParagraph.of(filler) for _ in range(count)),
            PdfParagraph.of("Les produits exportés, puis importés."),
            PdfFigure(svg=TALL_SVG, alt="Un graphique haut."))))
        marks = pdf.layout_marks(doc)
        assert marks[-3]["page"] == marks[-2]["page"], count


def test_table_cells_and_figure_scale():
    table = PdfTable(("Pays", "Exportations"), (("Allemagne", "12,5 M€"), ("Italie", "3,0 M€")),
                     (False, True), caption="Principaux pays")
    text = read_text(pdf.typeset(small_document(PdfSection("Tableau", (table,)))))
    assert "Principaux pays" in text and "Allemagne 12,5 M€" in text
    assert PdfFigure(svg=TINY_SVG, alt="a").width_fraction == pytest.approx(300 / 600 * 0.86)
    assert PdfFigure(svg=TINY_SVG, alt="a", scale=0.5).width_fraction == pytest.approx(
        300 / 600 * 0.86 * 0.5)
    with pytest.raises(ValueError):
        PdfTable(("a", "b"), (("1",),))
    with pytest.raises(ValueError):
        PdfFigure(svg=TINY_SVG, alt=" ")
    with pytest.raises(ValueError):
        PdfKeyFigure("Solde", "+1 M€", tone="vert")


def test_band_opacity_becomes_fill_opacity_only_where_it_looks_the_same():
    svg = ('<svg><path d="M0,0h5" fill="#9aa5b1" opacity="0.45"/>'
           '<path d="M0,0h5" fill="#d62728" stroke="#000" opacity="0.75"/>'
           '<text opacity="0.5">a</text></svg>')
    assert pdf.svg_for_print(svg).decode() == (
        '<svg><path d="M0,0h5" fill="#9aa5b1" fill-opacity="0.45"/>'
        '<path d="M0,0h5" fill="#d62728" stroke="#000" opacity="0.75"/>'
        '<text opacity="0.5">a</text></svg>')


def test_path_coordinates_are_cut_to_a_tenth_of_a_pixel():
    svg = ('<svg><path d="M200,347.46L207.5,347.526L-215.04,3Z" fill="#9aa5b1"/>'
           '<text x="12.345">1,25 M€</text></svg>')
    assert pdf.svg_for_print(svg).decode() == (
        '<svg><path d="M200,347.4L207.5,347.5L-215.0,3Z" fill="#9aa5b1"/>'
        '<text x="12.345">1,25 M€</text></svg>')


def test_chart_text_is_set_in_the_fiche_font():
    assert pdf.svg_for_print(TINY_SVG).count(b'font-family="Lato"') == 1
    data = pdf.typeset(small_document(PdfSection("S", (PdfFigure(svg=TINY_SVG, alt="a"),))))
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert fonts <= {"Lato-Regular", "Lato-Bold", "Lato-Black"}
    assert "Allemagne 12,5 M€" in read_text(data)


@pytest.mark.parametrize("text, expected", [
    ("Clé de lecture : premier", "Clé de lecture\u00a0: premier"),
    ("soit 3,7 % ; puis !", "soit 3,7\u00a0%\u00a0; puis\u00a0!"),
    ("« Autres »", "«\u00a0Autres\u00a0»"),
    ("«Autres»", "«\u00a0Autres\u00a0»"),
    ("l'Orne, d'après", "l\u2019Orne, d\u2019après"),
    ("1\u202f446,3\u00a0M€", "1\u202f446,3\u00a0M€"),
    ("10:30 et http://x", "10:30 et http://x"),
])
def test_french_typography(text, expected):
    assert pdf.french_typography(text) == expected


def test_pdf_stem_per_zone():
    dep = nomenclatures.departement_zone(nomenclatures.resolve_departement("61"))
    region = nomenclatures.region_zone(nomenclatures.resolve_region("28"))
    assert pdf.pdf_stem(dep) == "61"
    assert pdf.pdf_stem(region) == "region-28"
    assert pdf.pdf_stem(nomenclatures.france_zone()) == "france"


# --------------------------------------------------------------------------- the page's document


def test_markdown_sentences_become_plain_runs():
    runs = printable.runs_of("Exportations : **1\u202f446,3 M€**, voir la "
                             "[méthodologie](../methodologie.html) \\*sic\\*.")
    assert runs == (PdfRun("Exportations : "), PdfRun("1\u202f446,3 M€", bold=True),
                    PdfRun(", voir la méthodologie *sic*."))
    assert printable.plain_text(["**Un.**", "Deux [liens](a.html)."]) == "Un. Deux liens."


def test_totals_set_the_value_and_both_shares_in_bold(documents):
    """As on the ANCT fiche: the total with its shares of the region and of France in bold."""
    exports = next(s for s in documents["61"].sections if s.heading == "Exportations")
    total = next(b for b in exports.blocks if isinstance(b, PdfParagraph) and b.role == "total")
    assert [r.text for r in total.runs if r.bold] == ["1\u202f446,3\u00a0M€", "3,7\u00a0%",
                                                      "0,25\u00a0%"]


def test_the_fiche_follows_the_page_sections(documents):
    headings = [s.heading for s in documents["61"].sections]
    assert headings == ["Balance commerciale avec les principaux pays partenaires",
                        "Principaux produits échangés", "Exportations", "Importations",
                        "Évolution sur un an", "Exposition et dépendances",
                        "Contexte et méthodologie"]
    exports = next(s for s in documents["61"].sections if s.heading == "Exportations")
    subheadings = [b.text for b in exports.blocks if isinstance(b, PdfSubheading)]
    assert subheadings == ["Pour comparaison\u00a0: exportations de la Normandie",
                           "Pour comparaison\u00a0: exportations de la France"]
    mayotte = next(s for s in documents["976"].sections if s.heading == "Exportations")
    assert not any("Mayotte" in b.text for b in mayotte.blocks if isinstance(b, PdfSubheading))


@pytest.fixture(scope="module")
def upper_documents() -> dict[str, PdfDocument]:
    """The fiches of Normandie and of France."""
    return {"region-28": printable.page_document(report.load(region="28", annee=2024)),
            "france": printable.page_document(report.load(france=True, annee=2024))}


def test_region_and_france_fiches(upper_documents):
    """A region's fiche has its départements' chart; France's has the table of every
    area, which breaks across pages with its header repeated."""
    region, france = upper_documents["region-28"], upper_documents["france"]
    assert region.zone_name == "Normandie" and france.zone_name == "France"
    areas = next(s for s in france.sections if s.heading == "Les départements")
    table = next(b for b in areas.blocks if isinstance(b, PdfTable))
    assert len(table.rows) == 101 and table.breakable
    assert table.rows[0][:2] == ("01", "Ain")
    pages = [folded(p.extract_text()) for p in
             pypdf.PdfReader(io.BytesIO(pdf.typeset(france))).pages]
    assert sum(" ".join(table.header[:3]) in p for p in pages) >= 2  # repeated header
    assert len(pages) in range(9, 14)
    region_pages = pypdf.PdfReader(io.BytesIO(pdf.typeset(region))).pages
    text = folded(" ".join(p.extract_text() for p in region_pages))
    assert "Calvados" in text and "Orne" in text and len(region_pages) in range(8, 13)
    for doc in (region, france):
        marks = pdf.layout_marks(doc)
        for mark, after in zip(marks, marks[1:]):
            if mark["kind"] in ("heading", "subheading"):
                assert after["page"] == mark["page"], (doc.zone_name, mark, after)
            if mark["kind"] in ("figure", "table"):
                assert after == {"kind": f"{mark['kind']}-end", "page": mark["page"]}


def test_a_typst_failure_names_the_zone_and_writes_nothing(pages, tmp_path):
    with pytest.raises(pdf.PdfError) as error:
        printable.write_page_pdf(pages["976"], tmp_path, svg_of=lambda spec: "<svg><g></svg>")
    assert "Mayotte (976)" in str(error.value) and "SVG" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_fiche_of_a_departement_a_region_and_france(tmp_path, capsys):
    from tradebook import cli

    folder = tmp_path / "fiches"
    for zone in (["--departement", "orne"], ["--region", "normandie"], ["--france"]):
        assert cli.main(["fiche", *zone, "--pdf", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["61.pdf", "france.pdf", "region-28.pdf"]
    assert "Fiche PDF écrite" in capsys.readouterr().out
    text = read_text(folder / "61.pdf")
    assert "Orne (61)" in text and "1\u202f446,3 M€" in text
    (tmp_path / "fichier").write_text("")
    assert cli.main(["fiche", "--france", "--pdf", str(tmp_path / "fichier")]) == 2
    assert "n'est pas un dossier" in capsys.readouterr().err
