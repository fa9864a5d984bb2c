"""Browser checks of a built site, shared by the browser tests and the CI check.

``tests/test_browser.py`` runs them on its 3-département book, ``scripts/check_site.py``
on every page of the whole book (``.ci/run``): the same functions, so both test the
same things. Each check takes a Playwright page already opened on a book page and
returns its problems as French sentences (an empty list when all is well):

- :func:`chart_problems`: every chart drawn as SVG marks, no « indisponible »;
- :func:`contrast_problems`: in the light or dark theme, every visible text of the
  page (outside the charts' SVG) has a WCAG contrast of at least 4.5:1 with what is
  behind it;
- :func:`card_problems`: in the dark theme, every chart sits on a light, bordered card;
- :func:`width_problems`: at a phone width (390 px), the page does not scroll
  sideways (data tables opened) and every chart fits its column;
- :func:`aria_problems`: every chart is an image named by its French description,
  nothing in its SVG keeping Vega's English roles and labels;
- :func:`weight_problems`: the page's HTML under 300 kB;
- :func:`print_problems` (tests only: printing is slow): printed to A4, no sidebar
  or header, no heading last on its page, no chart split between pages.

:func:`chromium_browser` starts Chromium cut from the network but 127.0.0.1;
:class:`Visit` opens pages in one tab, recording console errors and every request
that does not go to the local server. :func:`check_site` visits the pages of a site
one after the other in one tab and runs :func:`page_problems` on each. Playwright
and pypdf are imported inside the functions that use them: the package does not
need them to build books.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socketserver
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urljoin

from tradebook.formatting import format_number

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
# The network cut at the browser: every request but those to 127.0.0.1 goes to a proxy
# that does not exist, and fails (routing requests instead would disable the HTTP cache,
# and every page would load and compile the 900 kB Vega bundle again).
OFFLINE_ARGS = ["--proxy-server=http://127.0.0.1:9"]
PHONE_WIDTH = 390
MIN_CONTRAST = 4.5
MAX_PAGE_BYTES = 300_000  # a page's HTML, without the shared scripts of _static
CHART_TIMEOUT_MS = 30_000
# Words of Vega's automatic English ARIA texts ("Y-axis for a discrete scale…",
# "Title text '…'", "group mark container") and its raw field dumps ("valeur: 3; etiquette: x").
ENGLISH_ARIA = re.compile(r"\b(axis|Title text|mark container|scale with|visualization|"
                          r"graphics-)|\w: [^;\n]*; \w+: ")
# Placeholders left empty in a generated sentence: "..", " : .", "(, )" or a count of
# nothing ("0 produit"): what an empty figure's texts must never read.
EMPTY_PLACEHOLDER = re.compile(
    r"(?<!\.)\.\.(?!\.)|\s:\s*[.;,]|\(\s*[,;)]|[,;]\s*\)"
    r"|\b0\s+(?:produit|pays|lien|dépendance|département|client|fournisseur)s?\b")


def chromium_path() -> str | None:
    """Debian's Chromium (or ``$CHROMIUM``), or None."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


# --------------------------------------------------------------------------- serving


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that logs nothing. The site has no icon: the browser's own
    request for ``/favicon.ico`` gets an empty answer rather than a 404, which Chromium
    would log as a console error when it happens to ask."""

    def log_message(self, *args: Any) -> None:  # noqa: D102
        pass

    def send_head(self):  # noqa: D102
        if self.path == "/favicon.ico" and not Path(self.translate_path(self.path)).is_file():
            self.send_response(204)
            self.end_headers()
            return None
        return super().send_head()


class QuietServer(socketserver.ThreadingTCPServer):
    """A threading server that does not print a browser closing a connection early
    (a tab closed while it loads) as an error."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: D102
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served on 127.0.0.1 (a free port) for the time of the block; yields
    the base URL, ending with ``/``."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium_browser(executable: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright, cut from the network but 127.0.0.1,
    closed at the end of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=CHROMIUM_ARGS + OFFLINE_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """A browser tab on the local site at ``base``: every request that is not for it (nor
    ``data:`` or ``blob:``) recorded in ``blocked`` (and failing, the browser being cut
    from the network by :func:`chromium_browser`), console errors and page errors
    recorded in ``errors``. Opened on ``path`` at desktop size, its charts drawn;
    :meth:`open` reuses the tab for another page (and the browser's cache with it)."""

    def __init__(self, browser: Any, base: str, path: str | None = None,
                 wait_for_charts: bool = True):
        self.base = base
        self.path = ""
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.response: Any = None
        self.context = browser.new_context(viewport=dict(DESKTOP))
        self.page = self.context.new_page()
        origin = base.rstrip("/")
        self.page.on("request", lambda request: self._watch(request.url, origin))
        self.page.on("console",
                     lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if path is not None:
            self.open(path, wait_for_charts)

    def open(self, path: str, wait_for_charts: bool = True) -> "Visit":
        """Load ``path`` (relative to the site) in this tab, at desktop size, with fresh
        records of errors and blocked requests; wait for its charts."""
        if self.page.viewport_size != DESKTOP:  # left at a phone width by a check
            self.page.goto("about:blank")  # no relayout of the page left
            self.page.set_viewport_size(dict(DESKTOP))
        self.path, self.blocked, self.errors = path, [], []
        self.response = self.page.goto(urljoin(self.base, path), wait_until="load")
        if wait_for_charts:
            wait_for_charts_drawn(self.page)
        return self

    def _watch(self, url: str, origin: str) -> None:
        if not (url.startswith(origin + "/") or url.startswith(("data:", "blob:"))):
            self.blocked.append(url)

    def load_problems(self) -> list[str]:
        """The page did not load, logged an error, or asked for something off the machine."""
        problems = []
        if self.response is None or not self.response.ok:
            status = "aucune réponse" if self.response is None else self.response.status
            problems.append(f"la page ne se charge pas ({status})")
        problems += [f"erreur dans la console : {e}" for e in self.errors]
        problems += [f"requête hors de la machine : {url}" for url in self.blocked]
        return problems

    def close(self) -> None:
        self.context.close()


# --------------------------------------------------------------------------- charts

CHARTS_SETTLED = ("() => [...document.querySelectorAll('.tradebook-chart')].every("
                  "d => d.querySelector('svg.marks') || d.textContent.includes('indisponible'))")


def wait_for_charts_drawn(page: Any, timeout_ms: int = CHART_TIMEOUT_MS) -> None:
    """Wait until every chart of the page is drawn (or has failed)."""
    page.wait_for_function(CHARTS_SETTLED, timeout=timeout_ms)


def chart_mark_counts(page: Any) -> list[int]:
    """For each chart of the page, how many SVG marks (paths, texts) Vega drew."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.tradebook-chart')].map(d => "
        "d.querySelectorAll('svg g[class*=\"mark-\"] path, svg g[class*=\"mark-\"] text')"
        ".length)")


def chart_problems(page: Any, minimum: int = 0) -> list[str]:
    """Every chart drew marks (and the page has at least ``minimum`` charts); no
    « Graphique indisponible »."""
    counts = chart_mark_counts(page)
    problems = []
    if len(counts) < minimum:
        problems.append(f"{len(counts)} graphique(s) au lieu d'au moins {minimum}")
    empty = [i + 1 for i, n in enumerate(counts) if n == 0]
    if empty:
        problems.append(f"graphique(s) n° {', '.join(map(str, empty))} sans aucune marque SVG")
    if page.evaluate("() => [...document.querySelectorAll('.tradebook-chart')]"
                     ".some(d => d.textContent.includes('indisponible'))"):
        problems.append("« Graphique indisponible » affiché")
    return problems


# --------------------------------------------------------------------------- themes

# The theme's colours change with CSS transitions: they are switched off first, so that
# the colours measured are the theme's, not a step of the animation.
SET_THEME = r"""
theme => {
  if (!document.getElementById('tradebook-sans-transition')) {
    const style = document.createElement('style');
    style.id = 'tradebook-sans-transition';
    style.textContent = '*, *::before, *::after { transition: none !important; '
                        + 'animation: none !important; }';
    document.head.appendChild(style);
  }
  document.documentElement.dataset.theme = theme;
  document.documentElement.dataset.mode = theme;
}
"""


@contextmanager
def theme(page: Any, name: str) -> Iterator[None]:
    """The page shown in the ``light`` or ``dark`` theme of pydata-sphinx-theme for
    the time of the block (it reads ``<html data-theme>``), then in its own again."""
    before = page.evaluate("() => document.documentElement.dataset.theme || 'light'")
    if before == name:  # already shown so (nested in another check): nothing to redo
        yield
        return
    page.evaluate(SET_THEME, name)
    try:
        yield
    finally:
        page.evaluate(SET_THEME, before)


# Every visible text node outside SVG: its colour composited over the backgrounds
# behind it (the element's and its ancestors', down to the canvas), and the WCAG ratio.
CONTRAST_JS = r"""
(minimum) => {
  const ctx = document.createElement('canvas').getContext('2d');
  function rgba(value) {
    let m = /^rgba?\(([^)]+)\)$/.exec(value);
    if (!m) {
      ctx.fillStyle = '#000'; ctx.fillStyle = value;
      const v = ctx.fillStyle;
      if (v[0] === '#') return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16),
                                parseInt(v.slice(5, 7), 16), 1];
      m = /^rgba?\(([^)]+)\)$/.exec(v);
      if (!m) return null;
    }
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3])).concat([1]);
  const lum = c => {
    const l = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const hex = c => '#' + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
  const root = document.documentElement, body = document.body;
  const rootBg = rgba(getComputedStyle(root).backgroundColor);
  const bodyBg = rgba(getComputedStyle(body).backgroundColor);
  const white = [255, 255, 255, 1];
  // CSS propagates the body's background to the canvas when the root has none
  const bodyOnCanvas = !(rootBg && rootBg[3] > 0);
  const canvasBg = over(bodyOnCanvas ? (bodyBg || white) : rootBg, white);
  const cache = new Map();
  function background(el) {
    if (!el || el === root) return {color: canvasBg, opacity: 1, image: false};
    if (cache.has(el)) return cache.get(el);
    const parent = background(el.parentElement);
    const s = getComputedStyle(el);
    let color = parent.color;
    const own = rgba(s.backgroundColor);
    if (own && own[3] > 0 && !(el === body && bodyOnCanvas)) color = over(own, color);
    const result = {color, opacity: parent.opacity * Number(s.opacity),
                    image: parent.image || (s.backgroundImage !== 'none' && !s.backgroundImage.startsWith('url('))};
    cache.set(el, result);
    return result;
  }
  function where(el) {
    const parts = [];
    for (let e = el; e && e !== body && parts.length < 4; e = e.parentElement) {
      const cls = [...e.classList].filter(c => !c.startsWith('tb-chart')).slice(0, 2).join('.');
      parts.unshift(e.tagName.toLowerCase() + (cls ? '.' + cls : ''));
    }
    return parts.join(' > ');
  }
  const width = root.scrollWidth, failures = new Map();
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text) continue;
    let el = node.parentElement;
    if (el.closest('script, style, noscript, template, svg, title')) continue;
    if (el.tagName === 'OPTION') {
      const select = el.closest('select');
      if (!select || select.value !== el.value) continue;
      el = select;
    }
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true,
                             contentVisibilityAuto: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;  // visually hidden, for screen readers
    if (el.tagName !== 'SELECT') {
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (!rects.length) continue;
      if (rects.every(r => r.right + scrollX <= 0 || r.left + scrollX >= width)) continue;
    }
    const s = getComputedStyle(el);
    const back = background(el);
    if (back.image) continue;  // a gradient or pattern: not measured
    const fg = rgba(s.color);
    if (!fg) continue;
    const shown = over([fg[0], fg[1], fg[2], fg[3] * back.opacity], back.color);
    const r = ratio(shown, back.color);
    if (r + 1e-6 < minimum) {
      const key = where(el) + '|' + hex(shown) + '|' + hex(back.color);
      if (!failures.has(key)) failures.set(key, {where: where(el), text: text.slice(0, 60),
        color: hex(shown), background: hex(back.color), ratio: Math.round(r * 100) / 100});
    }
  }
  return [...failures.values()];
}
"""


def contrast_failures(page: Any, minimum: float = MIN_CONTRAST) -> list[dict]:
    """The page's visible texts (outside SVG) whose contrast is under ``minimum``, in
    the theme it shows: ``where`` (CSS path), ``text``, ``color``, ``background``,
    ``ratio``; one per place and colour pair."""
    return page.evaluate(CONTRAST_JS, minimum)


def contrast_problems(page: Any, theme_name: str, minimum: float = MIN_CONTRAST) -> list[str]:
    """Texts under ``minimum`` contrast in the ``theme_name`` theme."""
    word = {"light": "clair", "dark": "sombre"}[theme_name]
    with theme(page, theme_name):
        failures = contrast_failures(page, minimum)
    return [f"thème {word} : contraste {format_number(f['ratio'], 2)}:1 ({f['color']} sur "
            f"{f['background']}) pour « {f['text']} » ({f['where']})" for f in failures]


CARD_JS = r"""
() => [...document.querySelectorAll('.tradebook-chart')].map(d => {
  const s = getComputedStyle(d);
  return {background: s.backgroundColor, border: parseFloat(s.borderTopWidth) || 0,
          borderStyle: s.borderTopStyle, color: s.color};
})
"""


def card_problems(page: Any) -> list[str]:
    """In the dark theme, every chart sits on a light card with a border (its palette
    was chosen for a white background)."""
    from tradebook.style import relative_luminance

    def luminance(css: str) -> float:
        values = [int(float(v)) for v in re.findall(r"[\d.]+", css)[:3]]
        return relative_luminance("#" + "".join(f"{v:02x}" for v in values)) if len(values) == 3 \
            else 0.0

    with theme(page, "dark"):
        cards = page.evaluate(CARD_JS)
    problems = []
    for i, card in enumerate(cards, start=1):
        if luminance(card["background"]) < 0.85:
            problems.append(f"thème sombre : le graphique n° {i} n'est pas sur un fond clair "
                            f"({card['background']})")
        if card["border"] < 1 or card["borderStyle"] in ("none", "hidden"):
            problems.append(f"thème sombre : le graphique n° {i} n'a pas de bordure")
    return problems


# --------------------------------------------------------------------------- widths

WIDTH_JS = r"""
() => {
  document.querySelectorAll('details.tradebook-donnees').forEach(d => { d.open = true; });
  const root = document.documentElement;
  const article = document.querySelector('main article') || document.querySelector('main');
  const column = article.getBoundingClientRect();
  const charts = [...document.querySelectorAll('.tradebook-chart')].map((d, i) => {
    const box = d.getBoundingClientRect();
    const svg = d.querySelector('svg.marks');
    const drawn = svg ? svg.getBoundingClientRect() : box;
    const sizes = svg ? [...svg.querySelectorAll('text')].map(t => {
      const size = parseFloat(getComputedStyle(t).fontSize) || 0;
      const scale = svg.getBoundingClientRect().width / (svg.viewBox.baseVal.width || svg.getBoundingClientRect().width);
      return size * scale;
    }) : [];
    return {n: i + 1, left: box.left, right: box.right, svgLeft: drawn.left, svgRight: drawn.right,
            scrolls: d.scrollWidth > d.clientWidth + 1,
            smallest: sizes.length ? Math.min(...sizes) : null};
  });
  const result = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
                  column: [column.left, column.right], charts};
  document.querySelectorAll('details.tradebook-donnees').forEach(d => { d.open = false; });
  return result;
}
"""


@contextmanager
def viewport_width(page: Any, width: int, restore: bool = True) -> Iterator[None]:
    """The page laid out ``width`` px wide for the time of the block (and left so
    without ``restore``)."""
    before = page.viewport_size or dict(DESKTOP)
    page.set_viewport_size({"width": width, "height": before["height"]})
    try:
        yield
    finally:
        if restore:
            page.set_viewport_size(before)


def width_layout(page: Any, width: int, restore: bool = True) -> dict:
    """The page's layout at ``width`` px (data tables opened): its scroll width, the
    main column's edges, each chart's box, drawing and smallest text size."""
    with viewport_width(page, width, restore):
        return page.evaluate(WIDTH_JS)


def width_problems(page: Any, width: int = PHONE_WIDTH, min_text_px: float = 0,
                   restore: bool = True) -> list[str]:
    """At ``width`` px, the page does not scroll sideways (data tables opened: a wide
    table scrolls in its own box), and every chart fits the column, unscrolled, with
    chart text at least ``min_text_px`` tall once scaled. ``restore``: the page gets
    its width back (:func:`page_problems`, last, leaves it)."""
    layout = width_layout(page, width, restore)
    problems = []
    if layout["scrollWidth"] > layout["clientWidth"] + 1:
        problems.append(f"à {width} px, la page défile de côté ({layout['scrollWidth']} px "
                        f"de large pour {layout['clientWidth']} px)")
    left, right = layout["column"]
    for chart in layout["charts"]:
        n = chart["n"]
        if chart["left"] < left - 1 or chart["right"] > right + 1:
            problems.append(f"à {width} px, le graphique n° {n} déborde de la colonne")
        if chart["svgLeft"] < chart["left"] - 1 or chart["svgRight"] > chart["right"] + 1:
            problems.append(f"à {width} px, le dessin du graphique n° {n} dépasse de son cadre "
                            f"({round(chart['svgRight'] - chart['svgLeft'])} px pour "
                            f"{round(chart['right'] - chart['left'])} px)")
        if chart["scrolls"]:
            problems.append(f"à {width} px, le graphique n° {n} défile de côté")
        if chart["smallest"] is not None and chart["smallest"] < min_text_px:
            problems.append(f"à {width} px, le texte du graphique n° {n} ne mesure que "
                            f"{format_number(chart['smallest'], 1)} px")
    return problems


# --------------------------------------------------------------------------- accessibility

ARIA_JS = r"""
() => [...document.querySelectorAll('.tradebook-chart')].map(d => {
  const svg = d.querySelector('svg.marks');
  const inner = svg ? [...svg.querySelectorAll('[role], [aria-label], [aria-roledescription]')]
    .map(e => [e.getAttribute('role'), e.getAttribute('aria-label'),
               e.getAttribute('aria-roledescription')].filter(Boolean).join(' ')) : [];
  return {role: svg && svg.getAttribute('role'), label: svg && svg.getAttribute('aria-label'),
          roledescription: svg && svg.getAttribute('aria-roledescription'), inner};
})
"""


def aria_problems(page: Any) -> list[str]:
    """Every chart is an image (``role="img"``) named by its French description, and
    nothing inside its SVG carries a role or a label of Vega's (English: "group mark
    container", "Title text '…'", "X-axis for a discrete scale…")."""
    problems = []
    for i, chart in enumerate(page.evaluate(ARIA_JS), start=1):
        if chart["inner"]:
            problems.append(f"le graphique n° {i} garde {len(chart['inner'])} rôle(s) ou "
                            f"étiquette(s) de Vega, dont « {chart['inner'][0][:80]} »")
        if chart["role"] != "img":
            problems.append(f"le graphique n° {i} n'est pas une image pour les lecteurs d'écran "
                            f"(role « {chart['role']} »)")
        label = chart["label"] or ""
        if len(label) < 20:
            problems.append(f"le graphique n° {i} n'a pas de description")
        elif ENGLISH_ARIA.search(label) or EMPTY_PLACEHOLDER.search(label):
            problems.append(f"description du graphique n° {i} mal formée : « {label[:120]} »")
        if chart["roledescription"]:
            problems.append(f"le graphique n° {i} est annoncé comme « {chart['roledescription']} »")
    return problems


# --------------------------------------------------------------------------- print

PRINT_JS = r"""
() => {
  const article = document.querySelector('main article');
  const clean = t => t.replace(/[#¶]/g, '').replace(/\s+/g, ' ').trim();
  const inArticle = clean(article.innerText);
  const headings = [...article.querySelectorAll('h2, h3')].map(h => clean(h.textContent))
    .filter(Boolean);
  const aside = [...document.querySelectorAll('.bd-sidebar-primary a, .bd-sidebar-secondary a,'
                                            + ' .bd-header a, .bd-sidebar-secondary .tocsection')]
    .map(a => clean(a.textContent)).filter(t => t.length > 3 && !inArticle.includes(t));
  const charts = [...document.querySelectorAll('.tradebook-chart svg.marks')].map(svg => {
    const titles = [...svg.querySelectorAll('.role-title-text text')].map(t => {
      const first = t.querySelector('tspan');
      return clean((first || t).textContent);
    }).filter(t => !t.startsWith('Source'));
    return titles.length ? titles[titles.length - 1] : '';
  }).filter(Boolean);
  return {headings, aside: [...new Set(aside)], charts};
}
"""
DROP_PRINT_RULES = r"""
() => {
  for (const sheet of document.styleSheets) {
    if (!sheet.href || !sheet.href.includes('tradebook.css')) continue;
    for (let i = sheet.cssRules.length - 1; i >= 0; i--) {
      const rule = sheet.cssRules[i];
      if (rule.media && rule.media.mediaText.includes('print')) sheet.deleteRule(i);
    }
  }
}
"""
SOURCE_LINE = "Source : DGDDI"


def _plain(text: str) -> str:
    """``text`` in compatibility form (no ligatures, no-break spaces as spaces), its
    spacing collapsed: PDF text and page text compare equal."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", text).split())


def printed_lines(pdf: bytes) -> list[list[tuple[float, str]]]:
    """The text lines of each page of a PDF, top down, as (height on the page in
    points, text), read with pypdf from the positions of the text runs."""
    import io

    import pypdf

    pages = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        runs: list[tuple[float, float, str]] = []

        def visit(text: str, cm: list, tm: list, font: Any, size: Any) -> None:
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((y, x, text))

        page.extract_text(visitor_text=visit)
        lines: list[list[Any]] = []
        for y, x, text in sorted(runs, key=lambda r: (-r[0], r[1])):
            if lines and abs(lines[-1][0] - y) < 1.5:
                lines[-1][1].append((x, text))
            else:
                lines.append([y, [(x, text)]])
        pages.append([(y, _plain(" ".join(t for _, t in sorted(parts)))) for y, parts in lines])
    return pages


def print_pdf(page: Any) -> bytes:
    """The page printed to A4 by Chromium, as the reader's « Imprimer » would."""
    return page.pdf(format="A4", print_background=True)


def print_problems(page: Any, pdf: bytes | None = None) -> list[str]:
    """On paper: no sidebar, header or in-page contents; no heading last on its page;
    no chart split (its title and its source line on the same page)."""
    info = page.evaluate(PRINT_JS)
    pages = printed_lines(print_pdf(page) if pdf is None else pdf)
    problems = []
    aside = set(info["aside"]) | {"Contenu"}
    for number, lines in enumerate(pages, start=1):
        for _, text in lines:
            if text in aside:
                problems.append(f"page imprimée {number} : « {text} » vient de la marge ou de "
                                "l'en-tête")
    for heading in map(_plain, info["headings"]):
        found = [(n, i) for n, lines in enumerate(pages) for i, (_, text) in enumerate(lines)
                 if text == heading or (len(text) >= 12 and heading.startswith(text))]
        if not found:
            problems.append(f"titre « {heading} » introuvable dans la page imprimée")
        for n, i in found:  # the heading itself, and its entry in a printed contents list
            if not [t for _, t in pages[n][i + 1:] if not heading.endswith(t)]:
                problems.append(f"page imprimée {n + 1} : le titre « {heading} » finit la "
                                "page, séparé de ce qu'il annonce")
    titles = set(map(_plain, info["charts"]))
    for number, lines in enumerate(pages, start=1):
        open_charts = 0
        for _, text in lines:
            if text in titles:
                open_charts += 1
            elif text.startswith(SOURCE_LINE) and open_charts:
                open_charts -= 1
        if open_charts:
            problems.append(f"page imprimée {number} : {open_charts} graphique(s) coupé(s) "
                            "entre deux pages")
    return problems


def printed_page_count(page: Any, with_print_rules: bool = True) -> int:
    """How many A4 pages the page prints to, with or without the print rules of
    ``tradebook.css`` (dropped from the page for good)."""
    import io

    import pypdf

    if not with_print_rules:
        page.evaluate(DROP_PRINT_RULES)
    return len(pypdf.PdfReader(io.BytesIO(print_pdf(page))).pages)


# --------------------------------------------------------------------------- a site


@dataclass
class SiteReport:
    """What :func:`check_site` found: each page's problems, and how long it took."""

    pages: list[str]
    problems: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


REDIRECT = re.compile(rb"<meta[^>]+http-equiv=\"?refresh", re.IGNORECASE)


def site_pages(folder: Path) -> list[str]:
    """Every HTML page of a built site, as paths relative to it (``departements/61.html``),
    but the redirections (the root ``index.html`` sends the reader to the introduction,
    which is checked)."""
    folder = Path(folder)
    pages = []
    for path in sorted(folder.rglob("*.html")):
        relative = path.relative_to(folder)
        if relative.parts[0].startswith("_"):
            continue
        with open(path, "rb") as fh:
            if REDIRECT.search(fh.read(1000)):
                continue
        pages.append(relative.as_posix())
    return pages


def weight_problems(folder: Path, path: str) -> list[str]:
    """The page's HTML weighs less than :data:`MAX_PAGE_BYTES` (its charts' shared specs
    and the Vega bundle, in ``_static``, are loaded once for the site)."""
    size = (Path(folder) / path).stat().st_size
    if size < MAX_PAGE_BYTES:
        return []
    return [f"la page pèse {format_number(size / 1000, 1)}\u00a0ko, au-delà de "
            f"{format_number(MAX_PAGE_BYTES / 1000, 0)}\u00a0ko"]


def page_problems(visit: Visit, phone_width: int = PHONE_WIDTH) -> list[str]:
    """Every check on one opened page, in a fixed order; the page is left at the phone
    width (:meth:`Visit.open` sets the desktop width again)."""
    page = visit.page
    problems = visit.load_problems()
    problems += chart_problems(page)
    problems += aria_problems(page)
    problems += contrast_problems(page, "light")
    with theme(page, "dark"):  # one switch for both checks of the dark theme
        problems += contrast_problems(page, "dark")
        problems += card_problems(page)
    problems += width_problems(page, phone_width, restore=False)  # the next page resets it
    return problems


def check_site(folder: Path, pages: Sequence[str] | None = None, *, browser: Any = None,
               chromium: str | None = None,
               progress: Callable[[str, list[str]], None] | None = None) -> SiteReport:
    """Open each page of the site in ``folder`` (every one by default), served on
    127.0.0.1 with the network cut, one after the other in one tab of ``browser`` (a
    Chromium of :func:`chromium_browser`; else one is started, from ``chromium`` or
    :func:`chromium_path`); run :func:`page_problems` on each."""
    paths = list(pages) if pages is not None else site_pages(folder)
    report = SiteReport(paths)
    start = time.monotonic()
    with served(Path(folder)) as base, _browser(browser, chromium) as instance:
        visit = Visit(instance, base)
        try:
            for path in paths:
                try:
                    visit.open(path)
                    report.problems[path] = weight_problems(folder, path) + page_problems(visit)
                except Exception as exc:  # a page that never settles: a timeout
                    report.problems[path] = [f"la page ne s'affiche pas : "
                                             f"{str(exc).splitlines()[0]}"]
                if progress is not None:
                    progress(path, report.problems[path])
        finally:
            visit.close()
    report.seconds = time.monotonic() - start
    return report


@contextmanager
def _browser(browser: Any, chromium: str | None) -> Iterator[Any]:
    """``browser`` itself, or a Chromium started for the time of the block."""
    if browser is not None:
        yield browser
        return
    executable = chromium or chromium_path()
    if executable is None:
        raise FileNotFoundError("Chromium est introuvable (apt-get install chromium)")
    with chromium_browser(executable) as started:
        yield started
