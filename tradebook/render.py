"""Offline Altair rendering for the book, and static images for print.

Altair's default renderer loads Vega from a CDN. The book instead ships one
Vega + Vega-Lite + vega-embed bundle in the site's ``_static`` folder
(:func:`write_vega_bundle`, built by vl-convert-python, followed by the book's
chart helper) and each chart is an HTML ``<div>`` plus a one-line script calling
the helper, which runs ``vegaEmbed`` with the French number locale and the SVG
renderer and names the chart by its French description for screen readers.

How a page shows its charts is chosen by the environment variable
:data:`RENDERER_ENV`:

- ``livre`` (set by the book runner for its kernels): the offline HTML above;
- unset or ``svg``: static SVG images drawn by vl-convert, so that a notebook run
  with plain papermill, opened in JupyterLab or converted by nbconvert shows its
  charts without internet (Altair's own renderer would load Vega from a CDN);
- ``png``: PNG images, for tools that do not show SVG.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from tradebook.files import write_text_atomic
from tradebook.formatting import VEGA_FORMAT_LOCALE

# altair and vl_convert are imported inside the functions that use them: the book
# runner's worker processes import this module for its constants and file helpers.

RENDERER_ENV = "TRADEBOOK_RENDERER"
BOOK_MODE = "livre"
SVG_MODE = "svg"
PNG_MODE = "png"
MODES = (BOOK_MODE, SVG_MODE, PNG_MODE)
BUNDLE_NAME = "tradebook-vega.js"
PNG_SCALE = 2

# vega-embed options: SVG output (the browser test counts SVG marks), French
# locale, and an action menu limited to local exports (no online editor).
EMBED_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}
EMBED_I18N = {
    "CLICK_TO_VIEW_ACTIONS": "Afficher les actions",
    "PNG_ACTION": "Enregistrer en PNG",
    "SVG_ACTION": "Enregistrer en SVG",
    "COMPILED_ACTION": "Voir le Vega compilé",
    "EDITOR_ACTION": "Ouvrir dans l'éditeur Vega",
    "SOURCE_ACTION": "Voir la source",
}

_chart_counter = itertools.count(1)
MISSING_BUNDLE = "Graphique indisponible : les fichiers Vega du site ne sont pas chargés."

# The chart helper appended to the bundle: ``tradebookChart(id, spec)`` draws ``spec`` in
# the element ``id`` once the page is loaded (``__OPTIONS__``: :func:`embed_options`). Vega's SVG
# still carries English roles and labels where its config cannot switch them off (the
# root group, titles): they are removed, and the SVG becomes one image (``role="img"``)
# named by the spec's French description. A « Taille réelle » button lets a phone reader
# see a chart scaled down to the column at its own size. A failure shows a French
# message instead.
CHART_HELPER = """/* tradebook : dessin des graphiques du livre. */
(function () {
  "use strict";
  var options = __OPTIONS__;
  var VEGA_ARIA = ["role", "aria-label", "aria-roledescription"];
  function unlabel(svg) {
    var named = svg.querySelectorAll("[role], [aria-label], [aria-roledescription]");
    Array.prototype.forEach.call(named, function (node) {
      VEGA_ARIA.forEach(function (name) { node.removeAttribute(name); });
    });
  }
  function describe(element, spec) {
    var svg = element.querySelector("svg.marks");
    if (!svg) return;
    unlabel(svg);
    svg.removeAttribute("aria-roledescription");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", spec.description || element.getAttribute("aria-label") || "");
    // Vega draws again when the reader changes a parameter (the map's indicator), with
    // its roles and labels: they go again
    if (window.MutationObserver) {
      new MutationObserver(function () { unlabel(svg); }).observe(svg, {
        subtree: true, childList: true, attributes: true, attributeFilter: VEGA_ARIA});
    }
  }
  function fullSize(element) {
    // On a phone the chart is scaled down to the column; this button (shown by
    // tradebook.css on narrow screens only) shows it at its own size, scrolling inside
    // its card.
    var button = document.createElement("button");
    button.type = "button";
    button.className = "tradebook-taille";
    button.textContent = "Taille réelle";
    button.title = "Afficher le graphique à sa taille réelle, en le faisant défiler";
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      var full = element.classList.toggle("tradebook-taille-reelle");
      button.setAttribute("aria-pressed", full ? "true" : "false");
    });
    element.appendChild(button);
  }
  function fail(element, message, error) {
    if (element) element.textContent = "Graphique indisponible : " + message;
    console.error(error || message);
  }
  window.tradebookChart = function (id, spec) {
    function draw() {
      var element = document.getElementById(id);
      if (!window.vegaEmbed || !spec || !element) {
        fail(element, "les fichiers Vega du site ne sont pas chargés.",
             "tradebook: vegaEmbed or spec missing for " + id);
        return;
      }
      window.vegaEmbed(element, spec, options).then(function () {
        describe(element, spec);
        fullSize(element);
      }).catch(function (error) { fail(element, String(error), error); });
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", draw);
    } else {
      draw();
    }
  };
})();
"""


# --------------------------------------------------------------------------- versions


@lru_cache(maxsize=None)
def vegalite_version() -> str:
    """The Vega-Lite version bundled by vl-convert matching Altair's schema (``6.4``).

    Takes the exact major.minor when vl-convert has it, else its newest version
    with the same major; fails when the major is missing (an Altair/vl-convert
    mismatch that would draw nothing).
    """
    import altair as alt
    import vl_convert as vlc

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    available = vlc.get_vegalite_versions()
    if f"{major}.{minor}" in available:
        return f"{major}.{minor}"
    same_major = [v for v in available if v.split(".")[0] == major]
    if not same_major:
        raise RuntimeError(
            f"vl-convert {vlc.__version__} ne fournit pas Vega-Lite {major} "
            f"(Altair {alt.__version__} produit des specs {alt.SCHEMA_VERSION}) ; "
            "mettez à jour vl-convert-python."
        )
    return max(same_major, key=lambda v: tuple(int(p) for p in v.split(".")))


# --------------------------------------------------------------------------- bundle


def vega_bundle_text() -> str:
    """The Vega/Vega-Lite/vega-embed bundle as a script defining ``window.vegaEmbed``,
    followed by the book's chart helper (:data:`CHART_HELPER`, ``window.tradebookChart``).

    vl-convert's bundle declares top-level constants that clash with Sphinx's
    own scripts, so it is wrapped in a function scope; its snippet assigns
    ``vegaEmbed``, ``vega`` and ``vegaLite`` to ``window``.
    """
    import vl_convert as vlc

    with stderr_silenced():  # vl-convert 2 prints its bundler's passes (« tree-shaker »)
        bundle = vlc.javascript_bundle(vl_version=vegalite_version())
    return f"{bundle_header()}(function () {{\n{bundle}\n}})();\n{chart_helper()}"


def chart_helper() -> str:
    """The script of :data:`CHART_HELPER` with the book's embed options filled in."""
    return CHART_HELPER.replace("__OPTIONS__", compact_json(embed_options()))


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """The process's standard error (file descriptor 2, where native code writes)
    sent to ``/dev/null`` for the time of a block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def bundle_header() -> str:
    """First line of the bundle, naming the versions it was assembled from and the
    chart helper's digest (a new helper rewrites the bundle)."""
    import vl_convert as vlc

    digest = hashlib.sha1(chart_helper().encode("utf-8")).hexdigest()[:10]
    return (f"/* Vega, Vega-Lite {vegalite_version()} et vega-embed, "
            f"assemblés par vl-convert {vlc.__version__} pour tradebook "
            f"(graphiques {digest}). */\n")


def write_vega_bundle(static_dir: Path) -> Path:
    """Write the bundle into ``static_dir`` (atomically), unless the file there was
    assembled from the same versions (assembling it takes seconds)."""
    static_dir = Path(static_dir)
    static_dir.mkdir(parents=True, exist_ok=True)
    target = static_dir / BUNDLE_NAME
    if target.is_file():
        with open(target, encoding="utf-8") as fh:
            if fh.readline() == bundle_header().rstrip("\n") + "\n" and target.stat().st_size > 1000:
                return target
    text = vega_bundle_text()
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return target
    write_text_atomic(target, text)
    return target


# --------------------------------------------------------------------------- renderers


def compact_json(value: Any) -> str:
    """JSON without spaces, safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def chart_id(spec: dict, text: str | None = None) -> str:
    """A page-unique element id for one chart (``text``: its :func:`compact_json`,
    when already computed)."""
    text = compact_json(spec) if text is None else text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"tb-chart-{digest}-{next(_chart_counter)}"


def embed_options() -> dict[str, Any]:
    """The vega-embed options of every chart of the book. ``config.aria`` false: no
    English ARIA text from Vega-Lite on the marks and axes (``X-axis for a discrete
    scale…``, raw ``valeur: 3; etiquette: …``); the chart is one image named by its
    French description (:data:`CHART_HELPER`), its data table beside it."""
    from tradebook.style import theme_config

    return {"renderer": "svg", "actions": EMBED_ACTIONS, "i18n": EMBED_I18N,
            "formatLocale": VEGA_FORMAT_LOCALE,
            "config": {**theme_config()["config"], "aria": False}}


def page_spec(spec: dict) -> dict:
    """A spec as the book's pages carry it: its config without what the options of
    every chart (:func:`embed_options`, in the shared bundle) already give, the
    theme; Vega-Lite merges the two, the spec's own config first. A page of ten
    charts is 14 KB lighter."""
    shared = embed_options()["config"]
    own = {k: v for k, v in spec.get("config", {}).items() if shared.get(k) != v}
    light = {k: v for k, v in spec.items() if k != "config"}
    return {"config": own, **light} if own else light


def chart_label(spec: dict) -> str:
    """Accessible name of a chart: its title, else « Graphique »."""
    title = spec.get("title") or spec.get("description") or "Graphique"
    if isinstance(title, dict):
        title = title.get("text", "Graphique")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def chart_html(spec: dict) -> str:
    """HTML drawing ``spec`` (inlined in the page) with the global ``vegaEmbed``."""
    spec = page_spec(spec)
    text = compact_json(spec)
    return embed_html(chart_id(spec, text), chart_label(spec), text)


def shared_chart_html(spec: dict, name: str, folder: Path, url: str, companion: str = "") -> str:
    """HTML drawing a chart shared by many pages (a region's or France's).

    The spec goes once into ``folder/<name>-<hash>.js`` (a script registering it
    in ``window.tradebookSpecs``, which also works when the site is opened from
    disk), and the page loads it from ``url`` (the folder's URL from the page).
    ``companion``, HTML shown under the chart on every page that shows it (its
    reading key and data table), goes into the same file and is inserted in place
    as the page is read. Names carry a content hash, so a page never draws another
    run's data.
    """
    spec = page_spec(spec)
    text = compact_json(spec)
    shared_text = compact_json(companion) if companion else ""
    digest = hashlib.sha1((text + shared_text).encode("utf-8")).hexdigest()[:12]
    file_name = f"{name}-{digest}.js"
    key = json.dumps(file_name)
    target = Path(folder) / file_name
    script = (f"window.tradebookSpecs = window.tradebookSpecs || {{}};\n"
              f"window.tradebookSpecs[{key}] = {text};\n")
    if companion:
        script += (f"window.tradebookHtml = window.tradebookHtml || {{}};\n"
                   f"window.tradebookHtml[{key}] = {shared_text};\n")
    if not target.is_file() or target.read_text(encoding="utf-8") != script:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, script)
    element = chart_id(spec, text)
    html = (f'<script src="{url.rstrip("/")}/{file_name}"></script>\n'
            + embed_html(element, chart_label(spec), f"(window.tradebookSpecs || {{}})[{key}]"))
    if companion:
        html += (f'\n<div id="{element}-texte"></div><script>(function () {{\n'
                 f'  var html = (window.tradebookHtml || {{}})[{key}];\n'
                 f'  if (html) {{ document.getElementById("{element}-texte").outerHTML = html; }}\n'
                 "})();</script>")
    return html


def embed_html(element: str, aria: str, spec_js: str) -> str:
    """The ``<div>`` and the script drawing the JavaScript expression ``spec_js`` in it
    with the bundle's ``tradebookChart`` (:data:`CHART_HELPER`), once the page is loaded.

    Without the bundle, a French message takes the chart's place and the error goes
    to the console (the browser test fails on console errors).
    """
    return (
        f'<div id="{element}" class="tradebook-chart" role="figure" aria-label="{aria}"></div>\n'
        f"<script>(window.tradebookChart || function (id) {{ "
        f"document.getElementById(id).textContent = \"{MISSING_BUNDLE}\"; "
        f"console.error(\"tradebook: bundle missing for \" + id); }})"
        f'("{element}", {spec_js});</script>'
    )


def chart_spec(chart: Any) -> dict:
    """The Vega-Lite spec of a chart, theme applied, without schema validation.

    The book renders hundreds of charts built by :mod:`tradebook.charts`, whose
    own tests validate them; skipping validation here saves a third of the time.
    """
    return chart.to_dict(validate=False)


@lru_cache(maxsize=1)
def _static_converter():
    """vl-convert, with the static font (:data:`tradebook.style.STATIC_FONT`) registered
    once per process."""
    import vl_convert as vlc

    from tradebook.style import STATIC_FONT_DIR

    vlc.register_font_directory(str(STATIC_FONT_DIR))
    return vlc


def static_spec(spec: dict) -> dict:
    """``spec`` drawn offline: the theme's font stack (a browser's fonts) replaced by
    the shipped static font, so that charts are measured and drawn alike on every
    machine (vl-convert takes the first family of a stack, not the first present),
    and, as in the book, no English ARIA text from Vega-Lite on every mark (``bx:
    200; by0: 347,46…``, ``area mark``): the image is described by its French
    description, its marks are drawing."""
    from tradebook.style import FONT, STATIC_FONT

    def replaced(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: replaced(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replaced(v) for v in value]
        return STATIC_FONT if value == FONT else value

    static = {k: (v if k == "datasets" else replaced(v)) for k, v in spec.items()}
    static["config"] = {**static.get("config", {}), "aria": False}
    return static


def _drawn(output: str, spec: dict, **options: Any) -> Any:
    """``spec`` drawn offline by vl-convert (``output``: ``svg``, ``png`` or
    ``scenegraph``), as :func:`static_spec` makes it, with French numbers."""
    convert = getattr(_static_converter(), f"vegalite_to_{output}")
    return convert(static_spec(spec), vl_version=vegalite_version(),
                   format_locale=dict(VEGA_FORMAT_LOCALE), **options)


def svg_of(spec: dict) -> str:
    """SVG text of a Vega-Lite spec, drawn offline by vl-convert with French numbers."""
    return _drawn("svg", spec)


def png_of(spec: dict, scale: float = PNG_SCALE) -> bytes:
    """PNG bytes of a Vega-Lite spec (``scale`` x its CSS pixel size), French numbers."""
    return _drawn("png", spec, scale=scale)


def scenegraph_of(spec: dict) -> dict:
    """Vega's scenegraph of a spec drawn offline (sizes, marks), as :func:`svg_of` lays
    it out."""
    return _drawn("scenegraph", spec)


def requested_mode() -> str:
    """The display mode asked for by :data:`RENDERER_ENV` (``svg`` when unset)."""
    mode = os.environ.get(RENDERER_ENV, "").strip().lower() or SVG_MODE
    if mode not in MODES:
        raise ValueError(
            f"{RENDERER_ENV}={mode!r} : valeur inconnue ; utilisez "
            f"{', '.join(MODES)} ou laissez la variable vide."
        )
    return mode


def image_html(spec: dict, mode: str) -> str:
    """A chart as an ``<img>`` drawn offline (SVG, or PNG in ``png`` mode), its
    description as alternative text: JupyterLab shows it in an untrusted notebook,
    nbconvert keeps it, and nothing is loaded from the network."""
    if mode == PNG_MODE:
        source = "data:image/png;base64," + base64.b64encode(png_of(spec)).decode("ascii")
    else:
        source = ("data:image/svg+xml;base64,"
                  + base64.b64encode(svg_of(spec).encode("utf-8")).decode("ascii"))
    alt = chart_label({"title": spec.get("description") or spec.get("title")})
    return (f'<figure class="tradebook-image"><img src="{source}" alt="{alt}" '
            'style="max-width: 100%; height: auto"/></figure>')
