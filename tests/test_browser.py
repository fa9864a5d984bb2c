"""A real 3-département book opened in headless Chromium, offline.

One book is built per test session (runner + Jupyter Book, strict) into a
temporary folder and served on 127.0.0.1. The browser is cut from the network but
127.0.0.1, and every request for elsewhere is recorded. Skipped only when Chromium
is missing outside CI; in CI (variable ``CI`` set) a missing Chromium is a failure.

The checks themselves live in :mod:`tradebook.sitecheck`, which
``scripts/check_site.py`` runs on every page of the whole book in CI: the site is
checked here and there by the same functions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from tradebook import book, figures, paths, sitecheck

pytestmark = [pytest.mark.browser, pytest.mark.book]

CODES = ["61", "2A", "976"]  # Orne, Corsica (typed 2A, page 20), Mayotte
PAGES = ["departements/61.html", "departements/20.html", "departements/976.html",
         "france.html", "regions/28.html", "regions/94.html", "exposition-etats-unis.html",
         "departements/index.html"]
FRENCH_AMOUNT = re.compile(r"\d{1,3}(?:\u202f\d{3})*,\d\u00a0M€")
CHARTS = {"exposition-etats-unis.html": 4, "departements/index.html": 1}  # at least


@pytest.fixture(scope="session")
def chromium() -> str:
    path = sitecheck.chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium est introuvable alors que CI est défini : .ci/run doit l'installer")
        pytest.skip("Chromium absent (apt-get install chromium) : tests navigateur ignorés hors CI")
    return path


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, chromium):
    """A strict build of a 3-département book from the sample, in a temporary folder."""
    from tradebook.prepare import ensure_prepared

    layout = book.DEFAULT_LAYOUT.copy_sources(tmp_path_factory.mktemp("livre"))
    prepared = ensure_prepared(list(paths.SAMPLE_SOURCES), 2024)  # as make book: two years
    summary = book.build_book(book.select_departements(CODES), prepared, workers=2,
                              timeout=300, progress=False, log=lambda *a: None, layout=layout)
    assert summary.site == "construit"
    return layout


@pytest.fixture(scope="session")
def site_url(built_book):
    with sitecheck.served(built_book.published) as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium):
    with sitecheck.chromium_browser(chromium) as instance:
        yield instance


@pytest.fixture(scope="session")
def visits(browser, site_url):
    opened = {path: sitecheck.Visit(browser, site_url, path, wait_for_charts=path in PAGES)
              for path in [*PAGES, "introduction.html"]}
    yield opened
    for visit in opened.values():
        visit.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_chart_drew_svg_marks(visits, path):
    page = visits[path].page
    counts = sitecheck.chart_mark_counts(page)
    assert len(counts) >= CHARTS.get(path, 7), counts
    assert all(n > 0 for n in counts), counts
    assert "indisponible" not in page.inner_text("main")
    assert sitecheck.chart_problems(page, CHARTS.get(path, 7)) == []


@pytest.mark.parametrize("path", [*PAGES, "departements/index.html", "introduction.html"])
def test_no_console_error_and_nothing_left_the_machine(visits, path):
    visit = visits[path]
    assert visit.response is not None and visit.response.ok
    assert visit.errors == []
    assert visit.blocked == []


@pytest.mark.parametrize("path", PAGES)
def test_french_numbers_on_page_and_in_charts(visits, path):
    page = visits[path].page
    text = page.inner_text("main")
    assert FRENCH_AMOUNT.search(text), "montant au format français absent du texte"
    chart_text = page.evaluate(
        "() => [...document.querySelectorAll('.tradebook-chart svg text')]"
        ".map(t => t.textContent).join(' ')")
    assert re.search(r"\d,\d|\d\u202f\d{3}", chart_text), "nombres non français dans les graphiques"
    assert not re.search(r"\d\.\d\s*M€", chart_text), "point décimal anglais dans les graphiques"
    assert "Clé de lecture" in text and "Données fictives" in text


def internal_links(page, base: str) -> set[str]:
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    origin = urlparse(base).netloc
    return {h.split("#")[0] for h in hrefs if urlparse(h).netloc == origin}


@pytest.mark.parametrize("path", ["departements/index.html", "departements/61.html"])
def test_navigation_links_resolve(visits, site_url, path):
    import urllib.request

    page = visits[path].page
    links = internal_links(page, site_url)
    assert links
    for link in sorted(links):
        with urllib.request.urlopen(link) as response:
            assert response.status == 200, link
    if path == "departements/index.html":
        targets = {urlparse(l).path for l in links}
        assert {"/departements/61.html", "/departements/20.html",
                "/departements/976.html"} <= targets
    else:
        assert page.locator("a.right-next").count() == 1
        assert page.locator("a.left-prev").count() == 1


def test_page_titles_and_headings_carry_the_name(visits):
    page = visits["departements/61.html"].page
    assert page.title().startswith("Orne (61)")
    assert page.locator("main h1").first.inner_text().startswith("Orne (61)")
    headings = [h.rstrip("#").strip()
                for h in page.locator("main article h2").all_inner_texts()]
    assert headings == [figures.texts().text(f"sections.{s}.titre")
                        for s in figures.sections("departement")]
    sidebar = page.locator("nav.bd-docs-nav").inner_text()
    assert "Normandie" in sidebar and "Orne (61)" in sidebar


def test_pages_stay_light(built_book):
    sizes = {p: (built_book.published / p).stat().st_size for p in PAGES}
    assert max(sizes.values()) < sitecheck.MAX_PAGE_BYTES, sizes


def test_the_france_and_region_pages_link_their_departements(visits, site_url):
    targets = {urlparse(link).path for link in internal_links(visits["france.html"].page,
                                                             site_url)}
    assert {"/departements/61.html", "/departements/20.html", "/departements/976.html",
            "/regions/28.html", "/regions/94.html", "/exposition-etats-unis.html"} <= targets
    region = {urlparse(link).path for link in internal_links(visits["regions/28.html"].page,
                                                            site_url)}
    assert "/departements/61.html" in region
    rows = visits["regions/28.html"].page.locator("table.tradebook-triable tbody tr").count()
    assert rows == 5  # the five départements of Normandie


def test_sortable_table_sorts_french_numbers(visits):
    page = visits["departements/index.html"].page
    table = page.locator("table.tradebook-triable").first
    header = table.locator("thead th").nth(3)
    assert header.inner_text().startswith("Exportations")
    button = header.locator("button")
    button.click()  # ascending
    button.click()  # descending
    first = table.locator("tbody tr").first.locator("td").nth(1).inner_text()
    assert first == "Haute-Garonne"  # the sample's largest exporter
    assert header.get_attribute("aria-sort") == "descending"


def test_the_map_draws_every_departement_and_switches_indicator(visits):
    page = visits["departements/index.html"].page
    shapes = page.evaluate("() => document.querySelectorAll("
                           "'.tradebook-chart svg g[class*=\"departements_\"] path').length")
    assert shapes >= 101
    select = page.locator(".tradebook-chart select")
    assert select.count() == 1
    select.select_option("solde")
    assert sitecheck.aria_problems(page) == []  # redrawn, still one image named in French
    select.select_option("exportations")


def test_a_page_loads_only_the_shared_charts_it_draws(built_book):
    """Jupyter Book lists every script of _static in every page's head: the shared
    charts (2.7 MB on the whole book) stay out of it, each page loading its own."""
    site = built_book.published
    shared = {p.name for p in (site / "_static" / "graphiques").glob("*.js")}
    assert len(shared) > 10
    for path in [*PAGES, "methodologie.html"]:
        html = (site / path).read_text(encoding="utf-8")
        head = html[:html.index("<body")]
        assert "graphiques/" not in head, path
        loaded = re.findall(r'<script src="[^"]*graphiques/([^"?]+)"', html)
        assert len(loaded) == len(set(loaded)) and set(loaded) <= shared, path
    page = (site / "departements" / "61.html").read_text(encoding="utf-8")
    regions = {name.split("-")[0] for name in re.findall(
        r'graphiques/region-(\d+-flux_\w+)-', page)}
    assert regions == {"28"}  # Normandy's comparisons, not every region's


def test_the_extension_names_the_folder_of_the_shared_charts():
    from tradebook import report, sphinxext

    assert sphinxext.SHARED_SCRIPTS == f"{report.SHARED_CHARTS}/"


def test_vega_is_served_locally(built_book):
    bundle = built_book.published / "_static" / "tradebook-vega.js"
    assert bundle.is_file() and bundle.stat().st_size > 100_000
    page = (built_book.published / "departements" / "61.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?:", page)
    assert not re.search(r"<link[^>]+href=\"https?:[^\"]+\.(css|js|woff2?)", page)


def search_index(site: Path) -> dict:
    """The Sphinx search index of a built site (``Search.setIndex({...})``)."""
    import json

    text = (site / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def pages_with(index: dict, word: str) -> set[str]:
    """Pages whose indexed text holds ``word`` (as the French stemmer stores it)."""
    from sphinx.search.fr import SearchFrench

    stem = SearchFrench({}).stem(word.lower())
    pages = set()
    for table in ("terms", "titleterms"):
        found = index[table].get(stem, [])
        pages |= {index["docnames"][i] for i in ([found] if isinstance(found, int) else found)}
    return pages


def test_search_finds_the_usual_names(built_book):
    index = search_index(built_book.published)
    assert "departements/20" in pages_with(index, "2B")
    assert "departements/20" in pages_with(index, "Haute") & pages_with(index, "Corse")
    assert {"departements/61", "departements/976"} <= pages_with(index, "États")  # « États-Unis »


FICHES = {"departements/61.html": "61.pdf", "departements/20.html": "20.pdf",
          "departements/976.html": "976.pdf", "france.html": "france.pdf",
          "regions/28.html": "region-28.pdf", "regions/94.html": "region-94.pdf"}


@pytest.mark.parametrize("path", PAGES)
def test_every_fiche_links_its_pdf_near_the_top(visits, site_url, path):
    """« Télécharger la fiche (PDF) » above the first section, and the PDF is served;
    the national views have no fiche."""
    import urllib.request

    page = visits[path].page
    link = page.locator("main a", has_text="Télécharger la fiche (PDF)")
    if path not in FICHES:
        assert link.count() == 0
        return
    assert link.count() == 1
    assert link.evaluate("a => a.compareDocumentPosition(document.querySelector('main article h2')) "
                         "& Node.DOCUMENT_POSITION_FOLLOWING") != 0
    url = link.evaluate("a => a.href")
    assert url == urljoin(site_url, f"pdf/{FICHES[path]}")
    with urllib.request.urlopen(url) as response:
        assert response.read(5) == b"%PDF-"


def test_the_site_publishes_exactly_the_fiches_of_its_pages(built_book):
    assert sorted(p.name for p in (built_book.published / "pdf").iterdir()) == sorted(
        FICHES.values())


def test_numbers_are_right_aligned_in_every_table(visits):
    """Numeric columns are named once by a class of their table; the style sheet
    right-aligns their cells (and no text column)."""
    page = visits["departements/61.html"].page
    aligns = page.evaluate(
        "() => [...document.querySelectorAll('table.tradebook-table')]"
        ".filter(t => t.tBodies[0].rows.length).map(t => {"
        "  const heads = [...t.tHead.rows[0].cells];"
        "  const row = t.tBodies[0].rows[0];"
        "  return heads.map((h, i) => [h.classList.contains('num'),"
        "    getComputedStyle(row.cells[i]).textAlign]);"
        "})")
    assert aligns
    for table in aligns:
        for numeric, align in table:
            assert (align == "right") is numeric, table


# --------------------------------------------------------------------------- themes (#11)

CONTRAST_PAGES = [*PAGES, "introduction.html"]


@pytest.mark.parametrize("path", CONTRAST_PAGES)
def test_every_text_reads_in_the_dark_theme(visits, path):
    """The fictitious-data box, the caveats, the reading keys, notes, links to the PDF and
    CSV, the tables' summaries, the comparison headings, the sortable tables and the
    map's select: at least 4.5:1 against what is behind them in the dark theme."""
    assert sitecheck.contrast_problems(visits[path].page, "dark") == []


@pytest.mark.parametrize("path", CONTRAST_PAGES)
def test_every_text_reads_in_the_light_theme(visits, path):
    assert sitecheck.contrast_problems(visits[path].page, "light") == []


@pytest.mark.parametrize("path", PAGES)
def test_charts_sit_on_a_light_bordered_card_in_the_dark_theme(visits, path):
    assert sitecheck.card_problems(visits[path].page) == []


def test_the_dark_theme_is_the_readers_choice(browser, site_url):
    """The reader's choice, stored as the theme stores it, opens the page in the dark
    theme with the fictitious-data box readable: the check's attribute switch is what
    the theme's own switch does."""
    visit = sitecheck.Visit(browser, site_url)
    try:
        visit.context.add_init_script("localStorage.setItem('mode', 'dark');"
                                      "localStorage.setItem('theme', 'dark');")
        visit.open("departements/61.html")
        page = visit.page
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        box = page.locator(".tradebook-fictif p:not(.admonition-title)")
        colours = box.evaluate("p => [getComputedStyle(p).color, "
                               "getComputedStyle(p.closest('.admonition')).backgroundColor]")
        assert colours[0] != colours[1]
        assert sitecheck.contrast_problems(page, "dark") == []
    finally:
        visit.close()


# --------------------------------------------------------------------------- phones (#12)


@pytest.mark.parametrize("width", [sitecheck.PHONE_WIDTH, 600, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_no_sideways_scroll_and_every_chart_fits_its_column(visits, path, width):
    assert sitecheck.width_problems(visits[path].page, width) == []


def test_a_phone_reader_can_see_a_chart_at_its_own_size(visits):
    """« Taille réelle » shows the chart unscaled, scrolling inside its card: the page
    itself still does not scroll sideways; pressed again, the chart fits again."""
    page = visits["departements/61.html"].page
    with sitecheck.viewport_width(page, sitecheck.PHONE_WIDTH):
        chart = page.locator(".tradebook-chart").nth(3)  # the Sankey of exports
        button = chart.locator("button.tradebook-taille")
        assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
        natural = chart.evaluate("d => d.querySelector('svg.marks').viewBox.baseVal.width")
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        drawn = chart.evaluate("d => d.querySelector('svg.marks').getBoundingClientRect().width")
        assert drawn == pytest.approx(natural, abs=1)
        assert chart.evaluate("d => d.scrollWidth > d.clientWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= sitecheck.PHONE_WIDTH
        button.click()
    assert sitecheck.width_problems(page) == []
    with sitecheck.viewport_width(page, 1280):
        assert not button.is_visible()  # a desktop chart is shown at its own size already


# --------------------------------------------------------------------------- print (#13)


@pytest.mark.parametrize("path", ["departements/61.html", "regions/28.html"])
def test_the_printed_page_is_the_page_alone_with_headings_kept_with_their_charts(
        browser, site_url, path):
    """Printed to A4: no sidebar, header or « Contenu » box, no heading last on its page,
    no chart split between pages; and fewer pages than without the print style sheet."""
    visit = sitecheck.Visit(browser, site_url, path)
    try:
        assert sitecheck.print_problems(visit.page) == []
        printed = sitecheck.printed_page_count(visit.page)
        assert printed < sitecheck.printed_page_count(visit.page, with_print_rules=False)
    finally:
        visit.close()


def test_the_print_check_sees_a_sidebar_and_an_orphan_heading(browser, site_url):
    """The print check can fail: the page printed with the theme's sidebar forced in and
    a tall block pushing a heading to the foot of a page."""
    visit = sitecheck.Visit(browser, site_url, "departements/61.html")
    try:
        visit.page.evaluate(sitecheck.DROP_PRINT_RULES)
        visit.page.add_style_tag(content="@media print { .bd-sidebar-primary { display: block "
                                         "!important; } }")
        problems = sitecheck.print_problems(visit.page)
        assert any("marge" in p for p in problems), problems
    finally:
        visit.close()


# --------------------------------------------------------------------------- screen readers (#14)


@pytest.mark.parametrize("path", PAGES)
def test_charts_are_images_named_by_their_french_description(visits, path):
    page = visits[path].page
    assert sitecheck.aria_problems(page) == []
    labels = page.evaluate("() => [...document.querySelectorAll('.tradebook-chart svg.marks')]"
                           ".map(s => s.getAttribute('aria-label'))")
    tree = page.locator("main").aria_snapshot()
    for label in labels:
        assert label and not sitecheck.ENGLISH_ARIA.search(label)
    assert "group mark container" not in tree and "Title text" not in tree


def test_the_first_chart_reads_its_registry_description(visits):
    """The partners chart of the Orne is announced by the description of data/textes.yml."""
    page = visits["departements/61.html"].page
    label = page.locator(".tradebook-chart svg.marks").first.get_attribute("aria-label")
    assert label.startswith("Principaux pays partenaires — Orne (61), 2024.")
    assert "Barres horizontales opposées par pays" in label
    assert label.endswith("Premier partenaire\u00a0: Belgique.")


# --------------------------------------------------------------------------- CI (the whole site)


def test_the_site_check_of_ci_passes_on_this_book(built_book, browser):
    """``scripts/check_site.py``'s check, every page of this book: what CI runs on the
    whole book."""
    pages = sitecheck.site_pages(built_book.published)
    assert set(PAGES) <= set(pages) and "index.html" not in pages  # a redirection
    report = sitecheck.check_site(built_book.published, browser=browser)
    assert report.pages == pages
    assert {p: found for p, found in report.problems.items() if found} == {}


def test_the_site_check_reports_a_broken_page(tmp_path, browser):
    """A page with an unreadable text, a request off the machine and a console error
    fails the check, with each problem named in French; so does a page too heavy."""
    (tmp_path / "page.html").write_text(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><main><article><p style="color:#777;background:#888">Illisible</p>'
        '<img src="http://example.com/x.png" alt=""><script>console.error("panne")</script>'
        "</article></main></body></html>", encoding="utf-8")
    report = sitecheck.check_site(tmp_path, browser=browser)
    found = "\n".join(report.problems["page.html"])
    assert "Illisible" in found and "example.com" in found and "panne" in found
    assert not report.ok
    (tmp_path / "lourde.html").write_text("<!doctype html><title>x</title><main><article>"
                                          + "<p>x</p>" * 40_000 + "</article></main>")
    heavy = sitecheck.check_site(tmp_path, ["lourde.html"], browser=browser)
    assert heavy.problems["lourde.html"] == ["la page pèse 320,1\u00a0ko, au-delà de 300\u00a0ko"]


def test_the_check_script_says_what_fails_in_french_and_exits_2(tmp_path, chromium):
    import subprocess
    import sys

    script = paths.ROOT / "scripts" / "check_site.py"
    empty = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                           text=True, timeout=60)
    assert empty.returncode == 2
    assert "ne contient pas de site construit" in empty.stderr and "make book" in empty.stderr
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><main><article><p>Lisible</p>'
        '<script>console.error("panne")</script></article></main></body></html>',
        encoding="utf-8")
    broken = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "CHROMIUM": chromium})
    assert broken.returncode == 2, broken.stderr
    assert "Erreur : 1 page sur 1 a des problèmes" in broken.stderr
    assert "- index.html" in broken.stderr and "erreur dans la console : panne" in broken.stderr
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>x</title></head>'
        "<body><main><article><p>Lisible</p></article></main></body></html>", encoding="utf-8")
    fine = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CHROMIUM": chromium})
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.splitlines()[-1].startswith("Site vérifié : 1 page sans problème en ")


@pytest.mark.parametrize("path, title", [("departements/61.html", "Orne (61)"),
                                          ("departements/976.html", "Mayotte (976)"),
                                          ("regions/28.html", "Normandie"),
                                          ("france.html", "France")])
def test_each_page_marks_itself_in_the_sidebar(visits, path, title):
    """The navigation, drawn once per folder, carries the marks of the page shown."""
    page = visits[path].page
    current = page.locator("nav.bd-docs-nav li.current.active")
    assert current.count() == 1
    assert current.inner_text().strip() == title
    assert page.locator("nav.bd-docs-nav ul.current").count() == 1
    assert page.locator("nav.bd-docs-nav ul.current li.current").count() == 1
