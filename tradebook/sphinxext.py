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

It also lets Sphinx read in parallel: ``sphinx_external_toc`` always loads
``sphinx_multitoc_numbering``, which does not declare itself parallel-safe
(Sphinx then warns and reads serially, and ``-W`` turns the warning into a
failure). That extension only replaces the collector's section numbering, run
in the main process after reading, so it is declared safe here.
"""

from __future__ import annotations

import re
from typing import Any, Callable

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


SHARED_SCRIPTS = "graphiques/"  # report.SHARED_CHARTS, below _static


def page_scripts_only(app: Any, config: Any) -> None:
    """Drop the shared chart scripts that Jupyter Book added to every page's head."""
    def shared(entry: Any) -> bool:
        name = entry[0] if isinstance(entry, (tuple, list)) else entry
        return isinstance(name, str) and name.startswith(SHARED_SCRIPTS)

    config.html_js_files = [entry for entry in config.html_js_files if not shared(entry)]


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: memoise the French search stemmer, skip data tables, keep the
    shared chart scripts out of every page's head."""
    from sphinx import search
    from sphinx.search import fr

    app.connect("config-inited", page_scripts_only)
    fr.SearchFrench.stem = memoised(fr.SearchFrench.stem)
    if hasattr(search.IndexBuilder, "_word_collector") and hasattr(search, "WordStore"):
        search.IndexBuilder._word_collector = word_collector
    multitoc = app.extensions.get("sphinx_multitoc_numbering")
    if multitoc is not None:
        multitoc.parallel_read_safe = True
        multitoc.parallel_write_safe = True
    return {"parallel_read_safe": True, "parallel_write_safe": True}
