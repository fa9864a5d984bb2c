"""The book: offline renderer, report one-liners, runner, table of contents, template.

Fast tests check the pure pieces; tests marked ``book`` execute the template with
papermill (the runner's warm kernels, and plain papermill as an analyst would).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import altair as alt
import nbformat
import pandas as pd
import pytest

from cli_in_layout import layout_under
from tradebook import book, cli, figures, nomenclatures, paths, render, report
from tradebook.errors import TradebookError, UnknownCodeError

EDGE_AREAS = {  # what the user types -> page code
    "75": "75",    # Paris: the largest totals
    "2A": "20",    # Corsica typed as one of its COG codes -> area 20
    "9E": "976",   # Mayotte by its DGDDI code
    "48": "48",    # Lozère: a small département with fewer than 10 partner countries
}
NBSP, NNBSP = "\u00a0", "\u202f"
FRENCH_AMOUNT = re.compile(r"\d{1,3}(?:\u202f\d{3})*,\d\u00a0M€")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def prepared():
    """The illustrative sample, prepared (cached under data/prepared/)."""
    from tradebook.prepare import ensure_prepared

    if not paths.SAMPLE_ZIP.is_file():
        pytest.fail(f"échantillon absent : {paths.SAMPLE_ZIP} (make sample)")
    return ensure_prepared(paths.SAMPLE_ZIP, 2024)


@pytest.fixture
def layout(tmp_path) -> book.Layout:
    """A private copy of the book's sources, so tests never touch book/ or _build/."""
    return book.DEFAULT_LAYOUT.copy_sources(tmp_path)


@pytest.fixture(scope="session")
def edge_pages(tmp_path_factory, prepared):
    """The edge areas executed by the runner (papermill on warm kernels), no site."""
    layout = book.DEFAULT_LAYOUT.copy_sources(tmp_path_factory.mktemp("bord"))
    deps = book.select_departements(list(EDGE_AREAS))
    jobs = book.plan_pages(deps, Path(prepared.path), prepared.annee, layout)
    results = book.execute_pages(jobs, workers=2, timeout=300, layout=layout, progress=False)
    return layout, {r.code.removeprefix("departements/"): r for r in results}


# --------------------------------------------------------------------------- selection


def test_codes_are_resolved_deduplicated_and_sorted():
    deps = book.select_departements(["61", "2a", "14", "61", "971", "2B"])
    assert [d.code for d in deps] == ["14", "20", "61", "971"]


def test_all_pages_by_default():
    deps = book.select_departements(None)
    assert len(deps) == 100
    assert "99" not in {d.dgddi for d in deps}
    assert all(isinstance(d, nomenclatures.Zone) for d in deps)


@pytest.mark.parametrize("code, words", [("2C", "Département inconnu"), ("99", "Monaco")])
def test_bad_code_is_refused_in_french(code, words):
    with pytest.raises(UnknownCodeError, match=words):
        book.select_departements(["61", code])


def test_wrong_code_fails_before_any_data_or_kernel(monkeypatch, capsys):
    def forbidden(*args, **kwargs):
        raise AssertionError("called before the codes were validated")

    monkeypatch.setattr(book, "execute_pages", forbidden)
    monkeypatch.setattr(book, "build_book", forbidden)
    monkeypatch.setattr("tradebook.prepare.ensure_prepared", forbidden)
    status = cli.main(["book", "--departements", "61", "2C", "14"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Département inconnu : « 2C »" in err


@pytest.mark.parametrize("option, value", [("--processus", "0"), ("--processus", "-3"),
                                           ("--delai", "0"), ("--delai", "-1")])
def test_invalid_options_fail_early(monkeypatch, capsys, option, value):
    monkeypatch.setattr("tradebook.prepare.ensure_prepared",
                        lambda *a, **k: pytest.fail("data read before options were checked"))
    assert cli.main(["book", "--departements", "61", option, value]) == 2
    assert "doit" in capsys.readouterr().err


# --------------------------------------------------------------------------- table of contents


def toc_files(text: str) -> list[str]:
    return re.findall(r"(?:root|file): (\S+)", text)


def test_committed_toc_is_the_generated_one():
    """Snapshot: the top-level _toc.yml is exactly what the runner generates for all pages."""
    generated = book.toc_yaml(book.book_zones(book.select_departements(None)))
    assert book.DEFAULT_LAYOUT.toc.read_text(encoding="utf-8") == generated


def test_toc_order():
    text = book.toc_yaml(book.book_zones(book.select_departements(None)))
    files = toc_files(text)
    assert files[:6] == ["introduction", "methodologie", "guide-analyste", "france",
                         "departements/index", "exposition-etats-unis"]
    pages = [f.split("/")[1] for f in files[5:] if f.startswith("departements/")]
    assert len(pages) == 100 and len(set(pages)) == 100
    assert [f for f in files if f.startswith("regions/")] == [
        f"regions/{r.code}" for r in nomenclatures.page_regions()]
    assert len(nomenclatures.page_regions()) == 13
    captions = re.findall(r"caption: \"(.+)\"", text)[2:]
    assert captions == [r.nom for r in nomenclatures.regions()]
    normandie = text.split('caption: "Normandie"')[1].split("caption:")[0]
    assert toc_files(normandie) == ["regions/28", *[f"departements/{c}"
                                                    for c in ("14", "27", "50", "61", "76")]]
    corse = text.split('caption: "Corse"')[1].split("caption:")[0]
    assert toc_files(corse) == ["regions/94", "departements/20"]
    mayotte = text.split('caption: "Mayotte"')[1].split("caption:")[0]
    assert toc_files(mayotte) == ["departements/976"]  # its own page serves as its region's
    assert pages[-5:] == ["971", "972", "973", "974", "976"]


def test_toc_of_a_selection_has_only_its_regions():
    text = book.toc_yaml(book.book_zones(book.select_departements(["61", "2A"])))
    assert toc_files(text)[3:] == ["france", "departements/index", "exposition-etats-unis",
                                   "regions/28", "departements/61", "regions/94",
                                   "departements/20"]
    assert '"Bretagne"' not in text


# --------------------------------------------------------------------------- runner pieces


def test_committed_template_is_the_generated_one():
    """Snapshot: the template notebook is what the registry and the texts generate."""
    from tradebook.template import template_text

    assert paths.TEMPLATE.read_text(encoding="utf-8") == template_text()


def test_page_notebook_titles_the_page_and_drops_the_analyst_note():
    from tradebook import template

    nb = template.template_notebook()
    page = template.page_notebook(nb, "Orne (61)", "departement")
    markdown = [c for c in page.cells if c.cell_type == "markdown"]
    assert markdown[0].source == "# Orne (61)"  # a real heading: the toc sees it
    assert not any(template.TEMPLATE_ONLY_TAG in c.metadata.get("tags", []) for c in page.cells)
    assert not any("page.title()" in c.source for c in page.cells)
    dropped = 2 * (len(figures.sections()) - len(figures.sections("departement")))
    assert len(page.cells) == len(nb.cells) - 1 - dropped
    headings = [c.source.splitlines()[0] for c in markdown[1:]]
    assert headings == [f"## {figures.texts().text(f'sections.{s}.titre')}"
                        for s in figures.sections("departement")]


def test_page_notebook_drops_sections_without_entries_for_the_level():
    from tradebook import template

    extra = figures.Statement("essai", "methode", ("page.solde",), lambda f: {},
                              frozenset({"solde"}), levels=frozenset({"region"}))
    with figures.registered(extra):
        # "methode" now has an entry for regions only: département pages drop it.
        assert "methode" not in figures.sections("departement")
        page = template.page_notebook(template.template_notebook(), "Orne (61)", "departement")
        assert not any("section-methode" in c.metadata.get("tags", []) for c in page.cells)
    assert "methode" in figures.sections("departement")


def test_template_is_thin_and_tagged():
    nb = nbformat.read(paths.TEMPLATE, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    parameters = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1
    assert 'departement = "61"' in parameters[0].source  # a string, not an integer
    for cell in code:
        tags = cell.metadata.get("tags", [])
        assert "remove-input" in tags or "remove-cell" in tags
        if cell is not parameters[0]:
            assert len(cell.source.strip().splitlines()) == 1
    text = json.dumps(nb, ensure_ascii=False)
    assert "{{" not in text  # nothing left for a reader to see raw
    headings = [c.source for c in nb.cells if c.cell_type == "markdown"
                and c.source.startswith("## ")]
    assert len(headings) == len(figures.sections())


def test_site_key_tracks_the_sphinx_extension(layout, tmp_path, monkeypatch):
    """The site is built with tradebook.sphinxext: a change of its code rebuilds it."""
    from tradebook import sphinxext

    before = book.site_key(layout, "toc", [], "index")
    assert book.site_key(layout, "toc", [], "index") == before
    changed = tmp_path / "sphinxext.py"
    changed.write_text(Path(sphinxext.__file__).read_text() + "\n# autre\n")
    monkeypatch.setattr(sphinxext, "__file__", str(changed))
    assert book.site_key(layout, "toc", [], "index") != before


def test_page_key_tracks_every_input(prepared):
    deps = book.select_departements(["61"])
    job = book.plan_pages(deps, Path(prepared.path), 2024)[0]
    base = book.page_key("t", "c", "d", {"departement": "61", "annee": 2024})
    assert base != book.page_key("t2", "c", "d", {"departement": "61", "annee": 2024})
    assert base != book.page_key("t", "c2", "d", {"departement": "61", "annee": 2024})
    assert base != book.page_key("t", "c", "d2", {"departement": "61", "annee": 2024})
    assert base != book.page_key("t", "c", "d", {"departement": "14", "annee": 2024})
    assert job.key == book.plan_pages(deps, Path(prepared.path), 2024)[0].key  # stable


def test_every_data_file_a_page_reads_is_hashed():
    hashed = set(paths.page_data_files())
    from tradebook import geo, texts

    for read_by_pages in (texts.CAVEATS_FILE, geo.GEOMETRY_PATH, texts.TEXTS_FILE,
                          paths.NOMENCLATURES / "departements.csv"):
        assert read_by_pages in hashed
    assert not any(paths.SAMPLE_DIR in p.parents for p in hashed)  # keyed by data_hash


def test_editing_a_caveat_changes_the_page_key(tmp_path, monkeypatch, prepared):
    """Issue 8: an edited Paris caveat must re-execute 75 (it stayed stale)."""
    root = tmp_path / "depot"
    shutil.copytree(paths.ROOT / "tradebook", root / "tradebook",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(paths.DATA, root / "data", ignore=shutil.ignore_patterns(*paths.NOT_PAGE_INPUTS))
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "DATA", root / "data")
    paris = book.select_departements(["75"])

    def key() -> str:
        return book.plan_pages(paris, Path(prepared.path), 2024)[0].key

    before = key()
    (root / "data" / "raw").mkdir()
    (root / "data" / "raw" / "publication.zip").write_bytes(b"PK")  # a source: not a page input
    assert key() == before
    caveats = root / "data" / "avertissements.csv"
    caveats.write_text(caveats.read_text(encoding="utf-8").replace("Par convention", "Selon l'usage"),
                       encoding="utf-8")
    assert key() != before
    geometry = root / "data" / "geo" / "departements.topojson"
    edited = key()
    geometry.write_bytes(geometry.read_bytes() + b"\n")
    assert key() != edited


def test_only_changed_or_missing_pages_run(tmp_path):
    zones = book.select_departements(["14", "61", "50"])
    jobs = [book.PageJob(zone, {}, f"cle-{zone.code}", tmp_path / f"{zone.code}.ipynb",
                         tmp_path / f"{zone.code}.pdf")
            for zone in (zones[0], zones[2], zones[1])]
    for job in jobs:
        job.output.write_text("{}")
        job.pdf.write_bytes(b"%PDF-")
    state = {"departements/14": "cle-14", "departements/50": "cle-50",
             "departements/61": "ancienne-cle"}
    assert [j.zone.code for j in book.pages_to_run(jobs, state)] == ["61"]
    jobs[0].output.unlink()
    jobs[2].pdf.unlink()  # 50's printable fiche is missing: its page runs again
    assert [j.zone.code for j in book.pages_to_run(jobs, state)] == ["14", "61", "50"]


def test_publish_swaps_and_never_leaves_half_a_site(tmp_path, monkeypatch):
    built, target = tmp_path / "construit", tmp_path / "_build" / "html"
    built.mkdir()
    (built / "index.html").write_text("nouveau")
    target.mkdir(parents=True)
    (target / "index.html").write_text("ancien")

    def broken_copy(src, dst, **kwargs):
        Path(dst, "index.html").write_text("à moitié")
        raise OSError("disque plein")

    monkeypatch.setattr(book.shutil, "copytree", broken_copy)
    with pytest.raises(OSError):
        book.publish(built, "cle", target)
    assert (target / "index.html").read_text() == "ancien"
    assert sorted(p.name for p in target.parent.iterdir()) == ["html"]
    monkeypatch.undo()
    book.publish(built, "cle", target)
    assert (target / "index.html").read_text() == "nouveau"
    assert book.published_key(target) == "cle"
    assert sorted(p.name for p in target.parent.iterdir()) == ["html"]


def test_national_views_link_only_the_pages_of_the_book(prepared, layout):
    zones = book.book_zones(book.select_departements(["61", "2A"]))
    pages = book.national_pages(prepared, layout, book.book_page_list(zones))
    index = pages[layout.source / "departements" / "index.md"]
    assert index.startswith("# Les départements\n")
    assert "## Carte et tableau des départements" in index  # a real heading
    assert '<a href="../departements/61.html">Orne</a>' in index
    assert '<a href="../departements/14.html">' not in index  # Calvados is not in this book
    assert FRENCH_AMOUNT.search(index) and "Données fictives" in index
    us = pages[layout.source / "exposition-etats-unis.md"]
    assert "# L'exposition aux États-Unis" in us and "departements/61.html" in us
    shared = list((layout.static / "graphiques").glob("etats_unis-carte_etats_unis-*.js"))
    assert len(shared) == 1 and len(us.encode()) < 300_000  # the map's spec is shared


@pytest.mark.parametrize("zone", [{"france": True}, {"region": "11"}])
def test_the_charts_other_pages_compare_with_are_shared_by_their_own_page_too(
        prepared, layout, zone):
    """France's and a region's Sankeys are every département page's comparisons: their
    own page loads their specs from _static as well (France's page held 67 kB of them
    and went past 300 kB in the whole book); their reading keys and tables stay on the
    page, searchable."""
    with book.book_rendering(layout):
        page = report.load(annee=2024, donnees=str(prepared.path), **zone)
        html = page.section_html("exportations")
    name = f"{page.level}-{page.zone.code}-flux_exportations-"
    shared = list((layout.static / "graphiques").glob(f"{name}*.js"))
    assert len(shared) == 1 and f"/{shared[0].name}" in html
    assert '"$schema"' not in html  # no spec left inline
    assert "Clé de lecture" in html and 'class="tradebook-donnees"' in html


def test_failure_report_lists_every_page():
    text = book.failure_report([book.PageResult("61", False, error="cellule 4 : ValueError : x"),
                                book.PageResult("14", False, error="délai dépassé")])
    assert "2 page(s) en échec" in text and "61 : cellule 4" in text and "14 : délai" in text


# --------------------------------------------------------------------------- renderer


def test_display_mode_is_svg_outside_the_book(monkeypatch):
    monkeypatch.delenv(render.RENDERER_ENV, raising=False)
    assert render.requested_mode() == "svg"
    monkeypatch.setenv(render.RENDERER_ENV, "livre")
    assert render.requested_mode() == "livre"
    monkeypatch.setenv(render.RENDERER_ENV, "pdf")
    with pytest.raises(ValueError, match="valeur inconnue"):
        render.requested_mode()


def test_book_chart_html_is_offline():
    spec = alt.Chart(pd.DataFrame({"x": [1500.5]})).mark_bar().encode(x="x:Q").to_dict()
    html = render.chart_html(spec)
    assert "tradebookChart" in html  # the bundle's helper, which calls vegaEmbed
    helper = render.chart_helper()
    assert "window.vegaEmbed(" in helper and '"renderer":"svg"' in helper
    assert '"aria":false}' in helper  # no English ARIA text from Vega
    assert "cdn" not in html.lower() and not re.search(r"(src|href)=\"?https?:", html)


def test_page_specs_leave_the_theme_to_the_shared_bundle():
    """The theme's config is in the bundle's options, once for the site; a page's spec
    keeps only the config that differs from it."""
    from tradebook import style

    style.enable_theme()
    spec = alt.Chart(pd.DataFrame({"x": [1500.5]})).mark_bar().encode(x="x:Q").to_dict()
    assert spec["config"]["locale"]["number"]["thousands"] == NNBSP
    assert "config" not in render.page_spec(spec)
    assert render.embed_options()["config"]["locale"] == spec["config"]["locale"]
    assert '"thousands":"\u202f"' in render.chart_helper()
    own = {**spec, "config": {**spec["config"], "padding": 2}}
    assert render.page_spec(own)["config"] == {"padding": 2}
    assert "config" not in render.chart_html(spec).split("tradebookChart", 1)[1]


def test_svg_image_formats_numbers_in_french_and_has_alt_text():
    spec = alt.Chart(pd.DataFrame({"x": [1234.5]})).mark_text().encode(
        text=alt.Text("x:Q", format=",.1f")).properties(description="Un nombre").to_dict()
    assert f"1{NNBSP}234,5" in render.svg_of(spec)
    html = render.image_html(spec, "svg")
    assert html.startswith('<figure class="tradebook-image"><img src="data:image/svg+xml;base64,')
    assert 'alt="Un nombre"' in html
    assert "data:image/png;base64," in render.image_html(spec, "png")


def test_vega_bundle_matches_altair_and_is_scoped(tmp_path):
    major = alt.SCHEMA_VERSION.lstrip("v").split(".")[0]
    assert render.vegalite_version().split(".")[0] == major
    path = render.write_vega_bundle(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "(function () {"
    assert text.rstrip().endswith("})();")
    assert "window.vegaEmbed" in text
    assert text.endswith(render.chart_helper())  # the book's chart helper follows Vega
    mtime = path.stat().st_mtime_ns
    render.write_vega_bundle(tmp_path)
    assert path.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


def test_shared_chart_is_written_once_and_referenced(tmp_path):
    spec = {"mark": "bar", "data": {"values": [{"a": 1}]}}
    first = render.shared_chart_html(spec, "france-FR-x", tmp_path, "../_static/g")
    files = list(tmp_path.glob("france-FR-x-*.js"))
    assert len(files) == 1
    assert f'src="../_static/g/{files[0].name}"' in first
    assert "tradebookSpecs" in files[0].read_text()
    render.shared_chart_html({"mark": "point"}, "france-FR-x", tmp_path, "../_static/g")
    assert len(list(tmp_path.glob("france-FR-x-*.js"))) == 2  # other data, other name


# --------------------------------------------------------------------------- report


def test_compact_table_right_aligns_numbers():
    table = pd.DataFrame({"Pays": ["Allemagne", "Italie"],
                          "Valeur": [f"1{NNBSP}446,3{NBSP}M€", f"−3,1{NBSP}M€"],
                          "Part": [f"12,3{NBSP}%", "–"]})
    html = report.compact_table(table)
    assert "<th>Pays</th>" in html and '<th class="num">Valeur</th>' in html
    assert 'class="table tradebook-table tradebook-n2 tradebook-n3"' in html
    assert "<td>12,3\u00a0%</td>" in html and "<td>Allemagne</td>" in html
    assert "\n" not in html
    css = (paths.BOOK / "_static" / "tradebook.css").read_text(encoding="utf-8")
    assert all(f"table.tradebook-n{i} td:nth-child({i})" in css
               for i in range(1, report.MAX_NUMERIC_COLUMN + 1))


def test_page_texts(prepared, monkeypatch):
    monkeypatch.delenv(render.RENDERER_ENV, raising=False)
    page = report.load("61", 2024, str(prepared.path))
    intro = page.introduction_html()
    assert "Données fictives" in intro and "comparés à ceux de la Normandie et de la France" in intro
    text = page.section_html("importations")
    assert "des importations de la Normandie" in text and "Solde commercial" in text
    assert FRENCH_AMOUNT.search(text)
    assert f'<p class="tradebook-cle"><strong>Clé de lecture{NBSP}:</strong> Le diagramme' in text
    assert "Pour comparaison : importations de la Normandie".replace(" :", f"{NBSP}:") in text
    corse = report.load("2A", 2024, str(prepared.path))
    assert corse.zone.single_area and not page.zone.single_area
    exports = corse.section_html("exportations")
    assert "forme à lui seul la région Corse" in exports
    assert "se compose de ce seul département" in exports
    assert "Pour comparaison" in exports and "de la Corse" not in exports.split(
        "Pour comparaison")[1].split("</h3>")[0]


def test_each_data_block_of_a_section_names_its_zone(prepared, monkeypatch):
    """Issue 9, defect 14: the zone's, the region's and France's flows on one page are
    three data blocks, each titled with the zone it shows, never three alike."""
    monkeypatch.delenv(render.RENDERER_ENV, raising=False)
    page = report.load("61", 2024, str(prepared.path))
    for section, flux in (("exportations", "exportations"), ("importations", "importations")):
        summaries = [item.rendered.summary for item in page.section_items(section)
                     if isinstance(item, report.Drawn)
                     and item.rendered.figure.key == f"flux_{flux}"]
        assert summaries == [
            f"Données du graphique{NBSP}: flux d'{flux} {zone}, 2024"
            for zone in ("de l'Orne", "de la Normandie", "de la France")], summaries


@pytest.mark.parametrize("typed, link, words", [
    ("61", "../regions/28.html", f"Page de la région{NBSP}: <a href=\"../regions/28.html\">"
                                 "Normandie</a>."),
    ("2A", "../regions/94.html", f"Page de la région{NBSP}: <a href=\"../regions/94.html\">"
                                 "Corse</a>."),  # Corsica's area 20: region 94 has a page
    ("976", "../departements/976.html", f"Mayotte forme une région à elle seule{NBSP}: cette "
                                        "page est aussi <a href=\"../departements/976.html\">"
                                        "celle de la région</a>."),
    ("971", "../departements/971.html", "La Guadeloupe forme une région à elle seule"),
])
def test_a_departement_page_links_its_region_s_page(prepared, monkeypatch, typed, link, words):
    """Issue 11: a département's introduction links its region's page; an overseas
    département is a region of its own, its page serves, and the link points to it."""
    monkeypatch.delenv(paths.BOOK_PAGES_ENV, raising=False)
    intro = report.load(typed, 2024, str(prepared.path)).introduction_html()
    assert intro.count(f'href="{link}"') == 1
    assert words in intro
    for above in (report.load(region="28", annee=2024, donnees=str(prepared.path)),
                  report.load(france=True, annee=2024, donnees=str(prepared.path))):
        intro = above.introduction_html()  # above the département: no such sentence
        assert "Page de la région" not in intro and "à elle seule" not in intro


def test_the_region_link_only_points_to_a_page_of_the_book(prepared, monkeypatch):
    page = report.load("61", 2024, str(prepared.path))
    monkeypatch.setenv(paths.BOOK_PAGES_ENV, "departements/61,france")  # no regions/28
    assert "regions/28.html" not in page.introduction_html()
    assert "Page de la région" not in page.introduction_html()
    monkeypatch.setenv(paths.BOOK_PAGES_ENV, "departements/61,regions/28,france")
    assert 'href="../regions/28.html"' in page.introduction_html()


@pytest.mark.parametrize("typed, words", [("976", "Aucune exportation de Mayotte"),
                                          ("05", "Aucune exportation des Hautes-Alpes")])
def test_a_departement_exporting_nothing_to_the_us_is_not_given_a_rank_in_words(
        prepared, typed, words):
    """The 8 areas without exports to the US rank 93 to 100 by code alone: the page
    says they export nothing there; the JSON keeps the rank (its contract)."""
    from tradebook import fiche as exports

    page = report.load(typed, 2024, str(prepared.path))
    block = page.fiche.exposition.exportations
    assert block.total > 0 and block.etats_unis == 0
    summary = page.section_html("exposition")
    assert f"{words} ne va aux États-Unis (France{NBSP}:" in summary
    assert "rang" not in summary.split("Hors de l")[0]  # the summary's first sentences
    assert f"<strong>0{NBSP}%</strong> des exportations" not in summary
    contract = exports.fiche_to_dict(page.fiche)["exposition"]["exportations"]
    assert contract["part_etats_unis"] == 0.0
    assert contract["rang_part_etats_unis"] == block.rang_part_etats_unis >= 93
    assert contract["nb_departements"] == 100
    ranked = report.load("61", 2024, str(prepared.path)).section_html("exposition")
    assert "des exportations de l'Orne vont aux États-Unis (rang " in ranked


def test_page_by_name_and_for_region_or_france(prepared):
    assert report.load("calvados", 2024, str(prepared.path)).zone.code == "14"
    region = report.load(region="normandie", annee=2024, donnees=str(prepared.path))
    assert region.zone.type == "region" and region.link("methodologie.html") == \
        "../methodologie.html"
    france = report.load(france=True, annee=2024, donnees=str(prepared.path))
    assert france.link("methodologie.html") == "methodologie.html"
    assert "Pour comparaison" not in france.section_html("exportations")


# --------------------------------------------------------------------------- executed template


@pytest.mark.book
@pytest.mark.parametrize("typed, code", list(EDGE_AREAS.items()))
def test_template_runs_for_edge_areas(edge_pages, typed, code):
    layout, results = edge_pages
    result = results[code]
    assert result.ok, result.error
    nb = nbformat.read(layout.pages / f"{code}.ipynb", as_version=4)
    dep = nomenclatures.resolve_departement(typed)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert markdown[0].source == f"# {dep.nom} ({code})"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    assert f'departement = "{code}"' in injected[0].source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert html.count('class="tradebook-chart"') >= 7
    # a figure with nothing to show is one sentence (tradebook-vide), not a chart and key
    assert html.count("Clé de lecture") + html.count('class="tradebook-vide"') >= 7
    assert html.count("<details") + html.count('class="tradebook-vide"') >= 7
    assert "Données fictives" in html
    assert nb.metadata.tradebook["cle"]


@pytest.mark.book
def test_region_comparison_only_when_the_region_has_several_areas(edge_pages):
    layout, _ = edge_pages
    compare = f"Pour comparaison{NBSP}: exportations"
    for code, region in (("20", None), ("976", None), ("75", "de l'Île-de-France"),
                         ("48", "de l'Occitanie")):
        nb = nbformat.read(layout.pages / f"{code}.ipynb", as_version=4)
        text = "".join(o.get("data", {}).get("text/html", "")
                       for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        headings = re.findall(r'<h3 class="tradebook-comparaison">(.*?)</h3>', text)
        expected = [f"{compare} {region}"] if region else []
        assert [h for h in headings if "exportations" in h] == [
            *expected, f"{compare} de la France"], code
        assert ("se compose de ce seul département" in text) is (region is None), code


def test_region_batches_group_pages_and_balance_workers():
    deps = book.select_departements(None)
    jobs = [book.PageJob(d, {}, "", Path(d.code), Path(f"{d.code}.pdf")) for d in deps]
    batches = book.region_batches(jobs, workers=2)
    assert sorted(j.code for b in batches for j in b) == sorted(j.code for j in jobs)
    assert all(len({j.region for j in b}) == 1 for b in batches)
    assert max(len(b) for b in batches) <= 25
    assert [len(b) for b in batches] == sorted((len(b) for b in batches), reverse=True)


@pytest.mark.book
def test_failed_page_is_listed_and_site_not_published(layout, prepared, monkeypatch):
    layout.published.mkdir(parents=True)
    (layout.published / "index.html").write_text("ancien site")
    plan = book.plan_pages

    def plan_with_a_broken_page(zones, prepared_dir, annee, lay):
        jobs = plan(zones, prepared_dir, annee, lay)
        index = next(i for i, j in enumerate(jobs) if j.code == "departements/05")
        bad = jobs[index]
        jobs[index] = dataclasses.replace(bad, parameters={**bad.parameters, "annee": 1999})
        return jobs

    monkeypatch.setattr(book, "plan_pages", plan_with_a_broken_page)
    with pytest.raises(book.BookError) as caught:
        book.build_book(book.select_departements(["48", "05"]), prepared, workers=2,
                        timeout=300, progress=False, log=lambda *a: None, layout=layout)
    message = str(caught.value)
    assert "1 page(s) en échec" in message and "departements/05 : cellule" in message
    assert "MissingDataError" in message
    assert (layout.published / "index.html").read_text() == "ancien site"
    assert (layout.failed / "departements-05.ipynb").is_file()
    assert (layout.pages / "48.ipynb").is_file()
    assert set(book.read_state(layout.state)) == {"france", "regions/76", "regions/93",
                                                  "departements/48"}


@pytest.mark.book
def test_a_fiche_that_cannot_be_printed_fails_its_page_and_publishes_nothing(layout, prepared):
    """The kernel writes each page's PDF once its cells have run: when it cannot, the
    page fails with the reason, and neither the site nor any PDF is published."""
    layout.published.mkdir(parents=True)
    (layout.published / "index.html").write_text("ancien site")
    layout.cache.mkdir(parents=True, exist_ok=True)
    layout.pdf.write_text("un fichier à la place du dossier des fiches")
    with pytest.raises(book.BookError) as caught:
        book.build_book(book.select_departements(["976"]), prepared, workers=1,
                        timeout=300, progress=False, log=lambda *a: None, layout=layout)
    message = str(caught.value)
    assert "departements/976 : fiche PDF : FileExistsError" in message
    assert "france : fiche PDF" in message
    assert (layout.published / "index.html").read_text() == "ancien site"
    assert not (layout.published / "pdf").exists()
    assert "departements/976" not in book.read_state(layout.state)


GENERATED = ["sortie.ipynb", "fiches/departement_61_2024_partenaires.csv",
             "book/_static/tableaux/france_2024_departements.csv"]


def test_what_the_guide_and_the_book_write_is_ignored_by_git():
    """The analyst's outputs (``sortie.ipynb``, ``fiches/``) and the CSV files the
    book writes into ``book/_static/tableaux/`` are never committed."""
    lines = (paths.ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"sortie.ipynb", "fiches/", "book/_static/tableaux/"} <= set(lines)
    if shutil.which("git") is None or not (paths.ROOT / ".git").exists():
        pytest.skip("pas de dépôt git ici : seul le contenu de .gitignore est vérifié")
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *GENERATED],
                             cwd=paths.ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == GENERATED
    tracked = subprocess.run(["git", "ls-files", "book/_static/tableaux"], cwd=paths.ROOT,
                             capture_output=True, text=True, check=True)
    assert tracked.stdout == ""


GUIDE_PAPERMILL = "papermill notebooks/fiche_departement.ipynb sortie.ipynb -r departement 14"
EXTERNAL_ADDRESS = ("192.0.2.1", 80)  # TEST-NET-1: never routed, and not local


def offline_sandbox() -> list[str] | None:
    """The command prefix that runs a shell command without network (a new network
    namespace holding only the loopback, up, for the kernel's local sockets), or
    ``None`` when this machine does not allow unprivileged namespaces."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    return ["unshare", "-rn", "sh", "-c"] if probe.returncode == 0 else None


def run_offline(command: str, **kwargs) -> subprocess.CompletedProcess:
    """``command`` (a shell command line) in the offline sandbox."""
    sandbox = offline_sandbox()
    assert sandbox is not None
    return subprocess.run([*sandbox, f"ip link set lo up && {command}"], **kwargs)


def test_the_offline_sandbox_cuts_the_network():
    if offline_sandbox() is None:
        pytest.skip("unshare -rn indisponible ici (espaces de noms réseau non autorisés) : "
                    "le test papermill tourne alors sans couper le réseau")
    probe = (f"{sys.executable} -c \"import socket; s = socket.socket(); s.settimeout(3); "
             f"print(s.connect_ex({EXTERNAL_ADDRESS!r}))\"")
    result = run_offline(probe, capture_output=True, text=True, check=True)
    assert result.stdout.strip() not in ("", "0")  # unreachable: no route out


@pytest.mark.book
def test_analyst_runs_the_template_with_plain_papermill(tmp_path):
    """The guide's own command, exactly (``papermill notebooks/fiche_departement.ipynb
    sortie.ipynb -r departement 14``, no ``-p donnees``), with the network cut when
    this machine allows it, gives a report: headings that name Calvados, charts as
    SVG images (no CDN, nothing to load), and nbconvert turns it into a readable
    HTML page."""
    guide = (paths.BOOK / "guide-analyste.md").read_text(encoding="utf-8")
    assert f"\n{GUIDE_PAPERMILL}\n" in guide
    env = {k: v for k, v in os.environ.items() if k != render.RENDERER_ENV}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # .venv/bin
    (tmp_path / "notebooks").symlink_to(paths.NOTEBOOKS)  # run as from the repository,
    out = tmp_path / "sortie.ipynb"                       # without writing into it
    if offline_sandbox() is not None:
        result = run_offline(GUIDE_PAPERMILL, env=env, cwd=tmp_path, capture_output=True,
                             text=True)
    else:  # said by test_the_offline_sandbox_cuts_the_network's skip
        result = subprocess.run(GUIDE_PAPERMILL.split(), env=env, cwd=tmp_path,
                                capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    data = [o.get("data", {}) for o in outputs]
    assert data[0]["text/markdown"] == "# Calvados (14)" or any(
        d.get("text/markdown") == "# Calvados (14)" for d in data)
    images = [d["text/html"] for d in data if "data:image/svg+xml" in d.get("text/html", "")]
    assert len(images) >= len(figures.figures("departement"))
    titles = tuple(f'alt="{figures.texts().text(f.texts_key("titre"))}'
                   for f in figures.figures("departement"))
    assert all(any(t in i for t in titles) for i in images)  # described for screen readers
    text = json.dumps(nb, ensure_ascii=False)
    assert "{{" not in text and "cdn.jsdelivr" not in text and "vega@" not in text
    assert not re.search(r"<script[^>]+src=", text)
    assert "du Calvados" in text
    html = tmp_path / "sortie.html"
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(out),
                    "--output", html.name], check=True, cwd=tmp_path, capture_output=True)
    page = html.read_text(encoding="utf-8")
    assert "<h1" in page and "Calvados (14)" in page
    assert page.count("data:image/svg+xml") >= len(images)
    assert "No description has been provided" not in page


def test_execution_errors_are_described_in_french():
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    cell = PapermillExecutionError(4, 5, "page = ...", "MissingDataError",
                                   "Aucune donnée pour 61\nsuite", [])
    assert book.execution_error(cell, 300) == "cellule 4 : MissingDataError : Aucune donnée pour 61"
    assert book.execution_error(CellTimeoutError("x"), 300) == (
        "délai dépassé : la page a pris plus de 300 s")
    assert "noyau Python s'est arrêté" in book.execution_error(DeadKernelError("mort"), 300)


def test_published_site_holds_what_readers_use_and_the_pages_pdfs(tmp_path):
    built, target = tmp_path / "built", tmp_path / "_build" / "html"
    (built / "_static" / "scripts").mkdir(parents=True)
    (built / "_static" / "locales" / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (built / "_static" / "locales" / "fr" / "LC_MESSAGES" / "booktheme.mo").write_text("mo")
    (built / "_static" / "scripts" / "theme.js").write_text("js")
    (built / "_static" / "scripts" / "theme.js.map").write_text("map")
    (built / "_static" / "fonts").mkdir()
    for name in ("fa-solid-900.ttf", "fa-solid-900.woff2", "seule.ttf"):
        (built / "_static" / "fonts" / name).write_text("police")
    (built / "index.html").write_text("accueil")
    fiches = tmp_path / "fiches"
    fiches.mkdir()
    (fiches / "61.pdf").write_bytes(b"%PDF-61")
    book.publish(built, "cle", target, pdfs=[fiches / "61.pdf"])
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        ".tradebook-site.json", "_static/fonts/fa-solid-900.woff2", "_static/fonts/seule.ttf",
        "_static/scripts/theme.js", "index.html", "pdf/61.pdf"]
    assert (target / "pdf" / "61.pdf").read_bytes() == b"%PDF-61"


def test_publishing_a_smaller_book_drops_pages_of_earlier_builds(tmp_path):
    """Sphinx keeps old HTML in its work folder: a 2-page book must not publish a third."""
    built, target = tmp_path / "built", tmp_path / "_build" / "html"
    (built / "departements").mkdir(parents=True)
    for name in ("index.html", "61.html", "14.html", "75.html"):
        (built / "departements" / name).write_text(name)
    (built / "index.html").write_text("accueil")
    (built / "regions").mkdir()
    for name in ("28.html", "11.html"):
        (built / "regions" / name).write_text(name)
    (built / "france.html").write_text("France")
    book.publish(built, "cle", target, ["france", "regions/28", "departements/61",
                                        "departements/14"])
    assert sorted(p.name for p in (target / "departements").iterdir()) == [
        "14.html", "61.html", "index.html"]
    assert sorted(p.name for p in (target / "regions").iterdir()) == ["28.html"]
    assert (target / "france.html").is_file()
    book.publish(built, "cle", target, ["departements/61"])
    assert not (target / "france.html").exists() and not list((target / "regions").iterdir())


def test_a_region_of_one_departement_is_not_offered_as_a_comparison():
    mayotte = book.select_departements(["976"])[0]
    assert mayotte.single_area
    assert not book.select_departements(["61"])[0].single_area


# --------------------------------------------------------------------------- lock, signals, children

IN_LAYOUT = Path(__file__).with_name("cli_in_layout.py")  # see its docstring


@pytest.fixture
def start_cli():
    """``start_cli(root, *args)``: the real command line in a real process (own session,
    Ctrl-C not ignored), with the book's folders under ``root``; killed at the end of
    the test if still running."""
    import signal

    started: list[subprocess.Popen] = []

    def start(root: Path, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(IN_LAYOUT), str(root), *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=paths.ROOT, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def read_until(stream, marker: str, seen: list[str], limit: float = 240.0) -> None:
    """Read ``stream`` line by line into ``seen`` until a line holds ``marker``."""
    import queue
    import threading

    lines: queue.Queue = queue.Queue()

    def reader():
        for line in iter(stream.readline, ""):
            lines.put(line)
            if marker in line:
                return
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=limit)
        except queue.Empty:
            line = None
        if line is None:
            pytest.fail(f"« {marker} » jamais affiché ; reçu : {''.join(seen)}")
        seen.append(line)
        if marker in line:
            return


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), fields[0], command)
    return table


def descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live descendant of ``pid``."""
    table = process_table()
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state, command) in table.items():
            if ppid == parent and state != "Z" and child not in found:
                found[child] = command
                todo.append(child)
    return found


def wait_for_descendant(pid: int, words: str, limit: float = 240.0) -> dict[int, str]:
    """The descendants of ``pid`` once one of them runs a command holding ``words``."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = descendants(pid)
        if any(words in command for command in found.values()):
            return found
        time.sleep(0.2)
    pytest.fail(f"aucun processus « {words} » lancé par {pid}")


def still_alive(pids) -> list[int]:
    """Those of ``pids`` still running (zombies count as ended), after up to 2 s."""
    import time

    deadline = time.monotonic() + 2.0
    while True:
        table = process_table()
        alive = [p for p in pids if p in table and table[p][1] != "Z"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


@pytest.fixture
def book_root(tmp_path, edge_pages, prepared) -> Path:
    """A book under tmp_path whose page 48 is already executed (copied from the runner's
    session pages, with its key): a run of ``book --departements 48`` goes straight to
    the site."""
    executed, results = edge_pages
    assert results["48"].ok, results["48"].error
    root = tmp_path / "livre"
    target = book.DEFAULT_LAYOUT.copy_sources(root)
    target.pages.mkdir(parents=True)
    shutil.copy2(executed.pages / "48.ipynb", target.pages / "48.ipynb")
    shutil.copytree(executed.static / "graphiques", target.static / "graphiques")
    jobs = book.plan_pages(book.select_departements(["48"]), Path(prepared.path),
                           prepared.annee, target)
    book.write_state({j.code: j.key for j in jobs}, target.state)
    return root


@pytest.mark.book
def test_a_second_book_run_waits_for_the_first_and_speaks_only_french(tmp_path, prepared,
                                                                      start_cli):
    """Two real processes: while one holds the book's lock, ``book`` says who holds it
    and waits, writing nothing; once the lock is free it builds and publishes, printing
    only its French lines and a progress bar; no lock file is left."""
    root = tmp_path / "livre"
    layout = book.DEFAULT_LAYOUT.copy_sources(root)
    release = tmp_path / "liberer"
    holder = start_cli(root, "--tenir-verrou", str(release))
    read_until(holder.stdout, "verrou pris", [])
    waiter = start_cli(root, "book", "--departements", "48")
    seen: list[str] = []
    read_until(waiter.stdout, "attente", seen)
    assert waiter.poll() is None  # still waiting
    assert not layout.pages.exists() and not layout.published.exists()
    release.touch()
    out, err = waiter.communicate(timeout=400)
    assert holder.wait(timeout=30) == 0
    assert waiter.returncode == 0, err
    lines = ("".join(seen) + out).splitlines()
    assert lines[1] == f"Une autre construction du livre est en cours (PID {holder.pid}) : attente…"
    assert lines[0] == (f"Livre 2024 : 1 département(s), {book.default_workers()} processus "
                        "(données fictives).")
    assert lines[2] == "Construction du site…"
    assert re.fullmatch(r"Pages exécutées : \d+, inchangées : 0 \(\d+,\d s ; site : \d+,\d s\)\.",
                        lines[3])
    assert lines[4].startswith(f"Site construit : ouvrez {layout.published / 'index.html'}")
    assert len(lines) == 5
    bar = [piece for piece in re.split(r"[\r\n]+", err) if piece.strip()]
    assert bar and all(piece.startswith("Exécution des pages\u00a0: ") for piece in bar), err
    assert (layout.published / "departements" / "48.html").is_file()
    assert not (layout.cache / book.LOCK_NAME).exists()


def test_infinite_page_time_limit_is_refused():
    with pytest.raises(TradebookError, match="--delai doit être un nombre de secondes positif"):
        book.check_options(1, float("inf"))


def test_the_lock_is_exclusive_and_leaves_no_file(layout):
    """In one process: the lock file names its holder and disappears on release, also
    when the block fails."""
    import fcntl
    import os

    lock = layout.cache / book.LOCK_NAME
    with book.build_lock(layout, log=pytest.fail):
        assert lock.read_text().strip() == str(os.getpid())
        with open(lock) as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert not lock.exists()
    with pytest.raises(RuntimeError), book.build_lock(layout, log=pytest.fail):
        raise RuntimeError
    assert not lock.exists()


@pytest.mark.book
def test_sigterm_during_the_site_build_stops_sphinx_and_publishes_nothing(book_root, start_cli):
    layout = layout_under(book_root)
    run = start_cli(book_root, "book", "--departements", "48")
    children = wait_for_descendant(run.pid, "-m tradebook.book")  # Sphinx's process
    run.send_signal(15)
    out, err = run.communicate(timeout=60)
    assert still_alive(children) == []
    assert not layout.published.exists()
    assert run.returncode == 143, err
    assert "Arrêté (signal SIGTERM)." in err
    assert "Traceback" not in err and "Site construit" not in out
    assert not (layout.cache / book.LOCK_NAME).exists()


@pytest.mark.book
def test_ctrl_c_during_the_pages_stops_workers_and_kernels_quietly(tmp_path, prepared,
                                                                   start_cli):
    """Ctrl-C reaches the whole process group, as from a terminal."""
    import os
    import signal

    root = tmp_path / "livre"
    run = start_cli(root, "book", "--departements", "48", "14", "--processus", "2")
    children = wait_for_descendant(run.pid, "ipykernel_launcher")
    kernels = [c for c in children.values() if "ipykernel_launcher" in c]
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert still_alive(children) == []
    connection_files = [c.split(" -f ")[1].split()[0] for c in kernels]
    assert connection_files and not any(Path(f).exists() for f in connection_files)
    assert not any(Path(f).parent.name.startswith("tradebook-noyaux-")
                   and Path(f).parent.exists() for f in connection_files)
    for noise in ("Traceback", "DeadKernelError", "KeyboardInterrupt", "Exception"):
        assert noise not in err
    assert run.returncode == 130, err
    assert "Interrompu (Ctrl-C)." in err
    assert not (root / "_build").exists()
    assert not (root / "cache" / book.LOCK_NAME).exists()


NAVIGATION = (
    '<p class="caption"><span class="caption-text">Normandie</span></p>\n'
    '<ul class="current nav bd-sidenav">\n'
    '<li class="toctree-l1"><a class="reference internal" href="../regions/28.html">Normandie</a></li>\n'
    '<li class="toctree-l1 current active"><a class="current reference internal" href="#">Orne (61)</a></li>\n'
    '</ul>\n'
    '<p class="caption"><span class="caption-text">Corse</span></p>\n'
    '<ul class="nav bd-sidenav">\n'
    '<li class="toctree-l1"><a class="reference internal" href="20.html">Corse (20)</a></li>\n'
    '</ul>\n')


def test_the_sidebar_is_drawn_once_per_folder_and_marked_for_each_page():
    """The theme's navigation of 61 without its marks, then marked for 20: the page
    and its part, nothing else; a page missing from it, or a navigation of another
    shape, is left to the theme."""
    from tradebook import sphinxext

    plain = sphinxext.unmarked(NAVIGATION, "61.html")
    assert "current" not in plain
    assert sphinxext.marked(plain, "61.html") == NAVIGATION
    corse = sphinxext.marked(plain, "20.html")
    assert corse.count("current") == 3  # its part's <ul>, its <li> and its link
    assert corse.index('<ul class="current nav bd-sidenav">') > corse.index("Corse</span>")
    assert 'href="#">Corse (20)</a>' in corse and 'href="61.html">Orne (61)' in corse
    assert sphinxext.marked(plain, "search.html") is None
    nested = NAVIGATION.replace('<li class="toctree-l1"><a class="reference internal" '
                                'href="20.html">', '<li class="toctree-l2 current">'
                                '<a class="reference internal" href="20.html">')
    assert sphinxext.unmarked(nested, "61.html") is None


def test_the_reset_between_pages_clears_the_namespace_without_a_full_collection(monkeypatch):
    """A warm kernel starts each page with an empty namespace, as a fresh one; the
    reset's full garbage collection is skipped for it, and gc.collect is itself again
    afterwards."""
    import gc

    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    calls = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(generation) or 0)
    patched = gc.collect
    shell.user_ns["page"] = "Orne (61)"
    assert shell.run_cell(book.RESET_CODE).success
    assert "page" not in shell.user_ns and "_tradebook_reset" not in shell.user_ns
    assert calls == [] and gc.collect is patched
