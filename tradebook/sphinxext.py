"""A small Sphinx extension loaded by the book's ``_config.yml``.

Sphinx stems every word of every page for the French search index with the
pure-Python Snowball stemmer, word after word: on the 100 pages of the book
(their data tables hold thousands of numbers and labels) this took more time
than everything else in the build. Stemming is a pure function of the word, so
the stems are memoised here, once per build process. The data tables behind
the charts (collapsed ``<details>`` blocks of numbers) are left out of the
index: their text repeats the charts' and the reading keys', which stay indexed.

Jupyter Book 1 lists every ``*.js`` file it finds under ``_static`` in
``html_js_files``, which puts every chart script shared between pages
(``_static/graphiques/``: the regions' and France's Sankeys, the national maps) in the
``<head>`` of every page: about 2 MB of specs loaded and run by each page, the
methodology included. Those are left out of ``html_js_files`` here; each page loads
the few it draws itself, from its own ``<script>`` tags.

The theme draws the sidebar's navigation for every page from the whole table of
contents (Sphinx resolves the global toctree, then BeautifulSoup rewrites it): about
half of the site's build. The book's table of contents is flat (parts of pages, no
page under a page), so the navigation of two pages of one folder differs only by
the « current » marks of the page and of its part: it is drawn once per folder,
without those marks, and each page gets its own marks put back. Whatever does not
have that exact shape is drawn by the theme as before.

It also lets Sphinx read in parallel: ``sphinx_external_toc`` always loads
``sphinx_multitoc_numbering``, which does not declare itself parallel-safe
(Sphinx then warns and reads serially, and ``-W`` turns the warning into a
failure). That extension only replaces the collector's section numbering, run
in the main process after reading, so it is declared safe here.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Callable

from tradebook import paths

_STEMS: dict[str, str] = {}
DATA_TABLE = re.compile(r'<details class="tradebook-donnees">.*?</details>', re.DOTALL)


def memoised(stem: Callable[[Any, str], str]) -> Callable[[Any, str], str]:
    """``stem(self, word)`` computed once per distinct word."""
    if getattr(stem, "tradebook_memoised", False):
        return stem

    def cached_stem(self: Any, word: str) -> str:
        try:
            return _STEMS[word]
        except KeyError:
            result = _STEMS[word] = stem(self, word)
            return result

    cached_stem.tradebook_memoised = True  # type: ignore[attr-defined]
    return cached_stem


def searchable_html(text: str) -> str:
    """The words of a raw HTML output worth indexing: no data tables, scripts or
    styles, and tags replaced by spaces (Sphinx glues table cells together)."""
    text = DATA_TABLE.sub(" ", text)
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = re.sub(r"<script.*?</script>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    return re.sub(r"<[^<]+?>", " ", text)


def word_collector(self: Any, doctree: Any) -> Any:
    """Sphinx 7.4's ``IndexBuilder._word_collector`` with :func:`searchable_html`."""
    from docutils import nodes
    from sphinx.search import WordStore, _is_meta_keywords

    word_store = WordStore()
    split = self.lang.split
    language = self.lang.lang

    def visit(node: Any) -> None:
        if isinstance(node, nodes.comment):
            return
        if isinstance(node, nodes.raw):
            if "html" in node.get("format", "").split():
                word_store.words.extend(split(searchable_html(node.astext())))
            return
        if isinstance(node, nodes.meta) and _is_meta_keywords(node, language):
            word_store.words.extend(k.strip() for k in node["content"].split(","))
        elif isinstance(node, nodes.Text):
            word_store.words.extend(split(node.astext()))
        elif isinstance(node, nodes.title):
            title, is_main_title = node.astext(), len(word_store.titles) == 0
            ids = node.parent["ids"]
            title_node_id = None if is_main_title else ids[0] if ids else None
            word_store.titles.append((title, title_node_id))
            word_store.title_words.extend(split(title))
        for child in node.children:
            visit(child)

    visit(doctree)
    return word_store


SHARED_SCRIPTS = f"{paths.SHARED_CHARTS}/"  # below _static


def page_scripts_only(app: Any, config: Any) -> None:
    """Drop the shared chart scripts that Jupyter Book added to every page's head."""
    def shared(entry: Any) -> bool:
        name = entry[0] if isinstance(entry, (tuple, list)) else entry
        return isinstance(name, str) and name.startswith(SHARED_SCRIPTS)

    config.html_js_files = [entry for entry in config.html_js_files if not shared(entry)]


CURRENT_ITEM = '<li class="toctree-l1 current active"><a class="current reference internal" href="#">'
ITEM = '<li class="toctree-l1"><a class="reference internal" href="{href}">'
CURRENT_PART = '<ul class="current nav bd-sidenav">'
PART = '<ul class="nav bd-sidenav">'
_NAVIGATION: dict[tuple, str] = {}  # (folder, arguments) -> navigation without marks


def unmarked(html: str, href: str) -> str | None:
    """The sidebar's navigation of the page at ``href`` without its « current » marks;
    None unless it has exactly the flat shape (one current page, one current part)."""
    if html.count(CURRENT_ITEM) != 1 or html.count(CURRENT_PART) != 1:
        return None
    plain = html.replace(CURRENT_ITEM, ITEM.format(href=href)).replace(CURRENT_PART, PART)
    return None if "current" in plain else plain


def marked(plain: str, href: str) -> str | None:
    """The unmarked navigation with the « current » marks of the page at ``href`` and
    of its part; None when the page is not listed exactly once."""
    item = ITEM.format(href=href)
    if plain.count(item) != 1:
        return None
    at = plain.index(item)
    part = plain.rfind(PART, 0, at)
    if part < 0:
        return None
    return (plain[:part] + CURRENT_PART + plain[part + len(PART):at] + CURRENT_ITEM
            + plain[at + len(item):])


def shared_navigation(app: Any, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    """Wrap the theme's ``generate_toctree_html`` of a page: the sidebar's navigation
    drawn once per folder, then marked for the page (see the module's docstring)."""
    draw = context.get("generate_toctree_html")
    if draw is None:
        return
    folder = posixpath.dirname(pagename)
    href = posixpath.basename(app.builder.get_target_uri(pagename))

    def generate(kind: str, startdepth: int = 1, show_nav_level: int = 1, **kwargs: Any):
        if kind != "sidebar":
            return draw(kind, startdepth, show_nav_level, **kwargs)
        key = (folder, startdepth, show_nav_level, tuple(sorted(kwargs.items())))
        plain = _NAVIGATION.get(key)
        if plain is None:
            html = str(draw(kind, startdepth, show_nav_level, **kwargs))
            plain = unmarked(html, href)
            if plain is None:
                return html
            _NAVIGATION[key] = plain
        page = marked(plain, href)
        return page if page is not None else draw(kind, startdepth, show_nav_level, **kwargs)

    context["generate_toctree_html"] = generate


SIDEBAR_CHECK = "update_and_remove_templates"  # pydata's check for empty sidebar templates


def navigation_before_the_sidebar_check(app: Any) -> None:
    """Put :func:`shared_navigation` after the theme's own set-up of a page (which
    defines ``generate_toctree_html``) and before its check for empty sidebar
    templates, which draws each sidebar once more to see whether it is empty (the
    theme is set up by then: its listeners are known)."""
    listeners = app.events.listeners.get("html-page-context", [])
    check = next((listener for listener in listeners
                  if getattr(listener.handler, "__name__", "") == SIDEBAR_CHECK), None)
    if check is None:
        app.connect("html-page-context", shared_navigation, priority=900)
        return
    app.disconnect(check.id)
    app.connect("html-page-context", shared_navigation, priority=check.priority)
    app.connect("html-page-context", check.handler, priority=check.priority)


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: memoise the French search stemmer, skip data tables, keep the
    shared chart scripts out of every page's head, draw the sidebar's navigation once
    per folder."""
    from sphinx import search
    from sphinx.search import fr

    app.connect("config-inited", page_scripts_only)
    app.connect("builder-inited", navigation_before_the_sidebar_check)
    fr.SearchFrench.stem = memoised(fr.SearchFrench.stem)
    if hasattr(search.IndexBuilder, "_word_collector") and hasattr(search, "WordStore"):
        search.IndexBuilder._word_collector = word_collector
    multitoc = app.extensions.get("sphinx_multitoc_numbering")
    if multitoc is not None:
        multitoc.parallel_read_safe = True
        multitoc.parallel_write_safe = True
    return {"parallel_read_safe": True, "parallel_write_safe": True}
