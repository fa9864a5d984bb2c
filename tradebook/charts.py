"""Pure chart builders: partners (butterfly), products (treemaps), flows (Sankey).

Every builder takes the DataFrames of :mod:`tradebook.indicators` and a
:class:`ChartContext` and returns an Altair chart with a French title, a subtitle
giving the total, a source line at the bottom, French-formatted tooltips and a
width of at most 600 px. Geometry that Vega-Lite cannot do (treemap layout,
Sankey stacking) is computed here in Python, in pixels; the Sankey bands are
generated in Vega-Lite from one row per link to keep pages small.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import altair as alt
import numpy as np
import pandas as pd
import squarify

from tradebook import render, style
from tradebook.files import write_bytes_atomic
from tradebook.formatting import (
    common_unit,
    format_eur,
    format_number,
    format_percent,
    format_signed_eur,
    shown_unit,
    UNITS,
)
from tradebook.indicators import flux_code
from tradebook.nomenclatures import AUTRES
from tradebook.texts import Rules

style.enable_theme()

CHAR_WIDTH = 0.53  # average glyph width as a fraction of the font size (Arial-like)
ELLIPSIS = "…"
BOLD_FACTOR = 1.1  # bold glyphs are about 10 % wider


@dataclass(frozen=True)
class ChartContext:
    """What every chart of a fiche says besides its data."""

    zone_nom: str
    annee: int
    donnees_fictives: bool = False
    annee_partielle: bool = False
    rules: Rules = field(default_factory=Rules)

    @property
    def source(self) -> list[str]:
        """Source lines for the bottom of the chart."""
        return style.source_lines(self.annee, self.donnees_fictives, self.annee_partielle)

    def titled(self, text: str) -> str | list[str]:
        """``text — zone, year``, on two lines when too long for the chart width."""
        title = f"{text} — {self.zone_nom}, {self.annee}"
        if text_width(title, style.TITLE_SIZE * BOLD_FACTOR) <= style.MAX_WIDTH - 40:
            return title
        return [text, f"{self.zone_nom}, {self.annee}"]


@dataclass(frozen=True)
class ChartWords:
    """The French words of one chart, rendered from ``data/textes.yml`` by the
    figure registry: its title (the zone and year are appended), subtitle lines,
    screen-reader description, the message drawn when there is nothing to show,
    and short labels drawn inside the chart (column headers...)."""

    title: str
    subtitle: tuple[str, ...] = ()
    description: str = ""
    empty: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """One inside label; a missing one is a programming error, said plainly."""
        try:
            return self.labels[name]
        except KeyError:
            raise KeyError(f"étiquette « {name} » absente de textes.yml pour « {self.title} »") \
                from None


def context_of(fiche: Any) -> ChartContext:
    """The chart context of a fiche."""
    return ChartContext(
        zone_nom=fiche.zone.titre,
        annee=int(fiche.annee),
        donnees_fictives=bool(fiche.donnees_fictives),
        annee_partielle=bool(fiche.annee_partielle),
        rules=fiche.rules,
    )


# --------------------------------------------------------------------------- text helpers


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of ``text`` at font ``size``."""
    return len(text) * size * CHAR_WIDTH


def max_chars(width_px: float, size: float) -> int:
    """How many characters fit in ``width_px`` at font ``size``."""
    return max(0, int(width_px / (size * CHAR_WIDTH)))


def shorten(text: str, limit: int, whole_words: bool = False) -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``…``.

    The cut falls at a word boundary when one lies in the second half (always,
    with ``whole_words``, unless the first word alone is too long).
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS if limit == 1 else ""
    cut = text[: limit - 1]
    if text[limit - 1] != " ":
        space = cut.rfind(" ")
        if space > 0 and (whole_words or space >= limit // 2):
            cut = cut[:space]
    return cut.rstrip(" ,;:-–'(") + ELLIPSIS


def wrap(text: str, width_chars: int, max_lines: int) -> list[str]:
    """``text`` wrapped on ``width_chars`` in at most ``max_lines`` lines, the last
    one shortened with ``…``; ``[]`` when a word of an earlier line does not fit."""
    if width_chars < 4:
        return []
    lines = textwrap.wrap(text, width_chars, break_long_words=False, break_on_hyphens=True)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = lines[: max_lines - 1] + [shorten(rest, width_chars, whole_words=True)]
    if any(len(line) > width_chars for line in lines[:-1]):
        return []
    return lines[:-1] + [shorten(lines[-1], width_chars)]


# --------------------------------------------------------------------------- framing


def _title(text: str | list[str], subtitle: str | list[str]) -> alt.TitleParams:
    """Top title block."""
    return alt.TitleParams(text=text, subtitle=subtitle)


def _source_title(ctx: ChartContext) -> alt.TitleParams:
    """Source line(s), drawn under the chart."""
    return alt.TitleParams(
        text=ctx.source, orient="bottom", anchor="start", fontSize=style.SOURCE_SIZE,
        fontWeight="normal", color=style.MUTED, offset=14, lineHeight=14,
    )


def sentence(text: str) -> str:
    """``text`` as a sentence: stripped, ending with a full stop unless it already ends
    with one (or ``!``, ``?``, ``…``)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ELLIPSIS)) else f"{text}."


def _framed(body: alt.TopLevelMixin, ctx: ChartContext, words: ChartWords,
            subtitle: list[str] | None = None) -> alt.VConcatChart:
    """``body`` with the title and subtitle above and the source line below; the
    description is the text screen readers announce (ARIA)."""
    title = ctx.titled(words.title)
    lines = list(words.subtitle if subtitle is None else subtitle)
    heading = title if isinstance(title, str) else " — ".join(title)
    summary = " ".join(sentence(part) for part in [heading, *lines, words.description]
                       if part.strip())
    body = body.copy(deep=False)  # what .properties() does, without re-validating
    body.title = _source_title(ctx)
    return alt.VConcatChart(vconcat=[body], spacing=0, title=_title(title, lines),
                            description=summary)


class SharedData(alt.InlineData):
    """Inline rows shared, not deep-copied, by the copies Altair makes of a chart.

    Altair deep-copies every sub-chart when layering and concatenating; rows
    given as a DataFrame escape the copy but are converted to JSON values again
    for each layer at ``to_dict`` time. Converted once and never mutated, the
    rows can be shared: the serialised spec is the same (one named dataset per
    distinct table), without the repeated conversions and copies. Specs from
    ``to_dict`` hold these very rows in their ``datasets``: do not mutate them.
    """

    _class_is_valid_at_instantiation = False  # rows already converted; checking them is slow

    def __deepcopy__(self, memo: Any = None) -> "SharedData":
        """The object itself: its values are never mutated."""
        return self


def _plain_records(frame: pd.DataFrame) -> list[dict] | None:
    """The rows of ``frame`` as Altair's sanitiser would give them, read directly when
    there is nothing to sanitise (string, boolean, integer or finite float columns
    named by strings, no missing value); ``None`` otherwise."""
    for name, column in frame.items():
        kind = column.dtype.kind
        plain = isinstance(column.dtype, pd.StringDtype) or kind in "biu" or (
            kind == "f" and bool(np.isfinite(column.to_numpy()).all()))
        if not isinstance(name, str) or not plain or column.isna().any():
            return None
    return frame.to_dict(orient="records")


def _data(frame: pd.DataFrame) -> SharedData | dict:
    """``frame`` converted once by the active Altair data transformer (as ``to_dict``
    would for each layer), shared by reference when it yields inline values.

    Frames with nothing to sanitise go to the transformer as ready-made rows,
    which it passes through (the row limit still applies); that is several times
    faster than Altair's column-by-column sanitiser, for the same values.
    """
    records = _plain_records(frame)
    converted = alt.data_transformers.get()(frame if records is None else {"values": records})
    if isinstance(converted, dict) and set(converted) == {"values"}:
        return SharedData(values=converted["values"])
    return converted


def _layered(layers: list[alt.Chart], width: float, height: float) -> alt.LayerChart:
    """The layers drawn in one ``width`` x ``height`` panel."""
    return alt.LayerChart(layer=layers, width=width, height=height)


# Layers are built from plain Vega-Lite dicts (keys in the order Altair writes
# them): Altair deep-copies every layer several times while layering and
# concatenating, and a schema object carries all its unset properties (a mark
# definition has about a hundred), so plain dicts make building several times
# faster for the same spec. The tests validate every chart against the schema.


def _unit(data: Any, mark: dict, encoding: dict[str, Any], **props: Any) -> alt.Chart:
    """One layer: ``data`` drawn with ``mark`` and ``encoding`` (channel -> dict);
    ``props`` are other chart properties (name, transform, width...)."""
    return alt.Chart(data, mark=mark, encoding=alt.FacetedEncoding(**encoding), **props)


def _mark(kind: str, **props: Any) -> dict:
    """Mark definition of type ``kind``."""
    return {"type": kind, **dict(sorted(props.items()))}


def _field(field: str, kind: str | None = "nominal", **props: Any) -> dict:
    """Channel definition of ``field`` (``kind``: its Vega-Lite type, None for x2/y2)."""
    spec = {"field": field, **props} if kind is None else {"field": field, "type": kind, **props}
    return dict(sorted(spec.items()))


def _expr(expression: str) -> dict:
    """A Vega expression, as mark properties take it."""
    return {"expr": expression}


def _tooltips(fields: list[tuple[str, str]]) -> list[dict]:
    """Nominal tooltip channels from (field, title) pairs."""
    return [_field(field, title=title) for field, title in fields]


def _pixel_scale(extent: float, reverse: bool = False) -> dict:
    """Identity scale for coordinates already computed in pixels."""
    return {"domain": [0, extent], "nice": False, "reverse": reverse, "zero": False}


def _pixel_position(field: str, extent: float, reverse: bool = False) -> dict:
    """Quantitative position channel of ``field`` on the pixel scale, without axis
    (``reverse`` for y: pixels run top down)."""
    return _field(field, "quantitative", scale=_pixel_scale(extent, reverse), axis=None)


def _empty(ctx: ChartContext, words: ChartWords) -> alt.VConcatChart:
    """A framed chart that only says there is nothing to draw."""
    message = words.empty
    body = _unit(_data(pd.DataFrame({"message": [message]})),
                 _mark("text", align="left", baseline="middle", color=style.MUTED,
                       fontSize=style.LABEL_SIZE),
                 {"text": _field("message"), "x": {"value": 0}, "y": {"value": 20}},
                 width=560, height=40)
    return _framed(body, ctx, words, [message])


# --------------------------------------------------------------------------- partners

PARTNER_LABEL_CHARS = 20
PARTNER_ROW = 28  # px per country
PARTNER_PLOT_WIDTH = 350
PARTNER_LABEL_ROOM = 1.42  # x domain = largest bar x this, leaving room for value labels
BALANCE_OFFSET = 10  # px between the plot and the balance column
BALANCE_COLORS = {"négatif": style.NEGATIVE, "positif": style.POSITIVE, "nul": style.MUTED}


def _unique_labels(labels: Iterable[str], codes: Iterable[str], limit: int) -> list[str]:
    """Shortened labels, made unique by appending the code when two collide."""
    labels, codes = list(labels), list(codes)
    short = [shorten(str(lab), limit) for lab in labels]
    return [s if short.count(s) == 1 else f"{s} ({c})" for s, c in zip(short, codes)]


def _sign_class(value: float, unit: str) -> str:
    """``négatif``, ``positif`` or ``nul`` as shown (a balance rounding to 0 is ``nul``)."""
    shown = format_signed_eur(value, unit)
    if shown.startswith("+"):
        return "positif"
    return "négatif" if shown.startswith("\u2212") else "nul"


def partners_unit(partners: pd.DataFrame) -> str:
    """The unit of the partners chart: that of its largest amount."""
    return common_unit(list(partners["importations"]) + list(partners["exportations"]))


def bar_value_text(value: float, unit: str) -> str:
    """A bar's value label: the number alone in the chart's unit (the header names
    it), with its own unit when too small for it (``5,1 k€``, never ``0,0``)."""
    if shown_unit(value, unit) != unit:
        return format_eur(abs(value), unit)
    return format_number(abs(value) / UNITS[unit][0], UNITS[unit][1])


def partners_rows(partners: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Long table for the butterfly chart (two rows per country) and its unit; with
    the previous year's values (columns ``exportations_precedent``,
    ``importations_precedent``) when the frame has them."""
    unit = partners_unit(partners)
    labels = _unique_labels(partners["libelle"], partners["pays"], PARTNER_LABEL_CHARS)
    history = "exportations_precedent" in partners.columns
    rows = []
    for rec, label in zip(partners.itertuples(index=False), labels):
        sign = _sign_class(rec.solde, unit)
        common = {
            "pays": rec.pays, "etiquette": label, "libelle": rec.libelle,
            "importations_txt": format_eur(rec.importations, unit),
            "exportations_txt": format_eur(rec.exportations, unit),
            "solde_txt": format_signed_eur(rec.solde, unit),
            "couleur_solde": BALANCE_COLORS[sign],
        }
        if history:
            common.update(importations_precedent_txt=format_eur(rec.importations_precedent, unit),
                          exportations_precedent_txt=format_eur(rec.exportations_precedent, unit))
        for flux, value, before in (
                ("Importations", -rec.importations,
                 -rec.importations_precedent if history else None),
                ("Exportations", rec.exportations, rec.exportations_precedent if history else None)):
            row = {**common, "flux": flux, "valeur": round(value / UNITS[unit][0], 4),
                   "valeur_txt": bar_value_text(value, unit)}
            row["position_txt"] = row["valeur"]  # the value label goes past bar and tick
            if history:
                row["precedent"] = round(before / UNITS[unit][0], 4)
                furthest = max(abs(row["valeur"]), abs(row["precedent"]))
                row["position_txt"] = -furthest if flux == "Importations" else furthest
            rows.append(row)
    return pd.DataFrame(rows), unit


def partners_chart(partners: pd.DataFrame, ctx: ChartContext,
                   words: ChartWords) -> alt.VConcatChart:
    """Butterfly chart: imports to the left (blue), exports to the right (violet),
    the balance per country as a signed, coloured label on the right."""
    if partners.empty:
        return _empty(ctx, words)
    data, _ = partners_rows(partners)
    history = "precedent" in data.columns
    order = list(dict.fromkeys(data["etiquette"]))
    largest = data[["valeur", "precedent"]].abs().max().max() if history else \
        data["valeur"].abs().max()
    extent = max(float(largest), 1e-9) * PARTNER_LABEL_ROOM
    height = PARTNER_ROW * len(order)
    y = _field("etiquette", sort=order, title=None,
               axis={"domain": False, "labelFontSize": style.LABEL_SIZE, "labelLimit": 150,
                     "labelPadding": 8, "ticks": False})
    x_scale = {"domain": [-extent, extent], "nice": False}
    x = _field("valeur", "quantitative", scale=x_scale, axis=None)
    header_x = _field("x", "quantitative", scale=x_scale, axis=None)
    balance_x = {"value": PARTNER_PLOT_WIDTH + BALANCE_OFFSET}
    previous = words.labels.get("precedent", "")
    tooltip = _tooltips([("libelle", words.labels.get("entite", "Pays")),
                         ("importations_txt", "Importations"),
                         ("exportations_txt", "Exportations"),
                         ("solde_txt", "Solde (exportations − importations)"),
                         *([("importations_precedent_txt", f"Importations {previous}"),
                            ("exportations_precedent_txt", f"Exportations {previous}")]
                           if history else [])])
    rows = _data(data)
    bars = _unit(rows, _mark("bar", height={"band": 0.68}), {
        "color": _field("flux", legend=None, scale={
            "domain": ["Importations", "Exportations"], "range": [style.IMPORTS, style.EXPORTS]}),
        "tooltip": tooltip, "x": x, "y": y}, name="barres")
    is_import = "datum.flux == 'Importations'"
    values = _unit(rows, _mark(
        "text", align=_expr(f"{is_import} ? 'right' : 'left'"), baseline="middle",
        color=style.TEXT, dx=_expr(f"{is_import} ? -3 : 3"), fontSize=style.SMALL_SIZE,
    ), {"text": _field("valeur_txt"), "tooltip": tooltip,
        "x": _field("position_txt", "quantitative", scale=x_scale, axis=None), "y": y},
        name="valeurs")
    zero = _unit(_data(pd.DataFrame({"x": [0]})),
                 _mark("rule", color=style.MUTED, strokeWidth=1), {"x": header_x})
    balance = _unit(rows, _mark("text", align="left", baseline="middle", fontSize=style.LABEL_SIZE,
                                fontWeight="bold"),
                    {"color": _field("couleur_solde", scale=None), "text": _field("solde_txt"),
                     "tooltip": tooltip, "x": balance_x, "y": y},
                    name="soldes", transform=[{"filter": "datum.flux == 'Exportations'"}])
    headers = pd.DataFrame({
        "texte": [words.label("importations"), words.label("exportations")],
        "x": [-extent / 2, extent / 2], "couleur": [style.IMPORTS, style.EXPORTS],
    })
    header_mark = {"baseline": "bottom", "dy": -6, "fontSize": style.LABEL_SIZE,
                   "fontWeight": "bold"}
    flux_headers = _unit(_data(headers), _mark("text", **header_mark), {
        "color": _field("couleur", scale=None), "text": _field("texte"), "x": header_x,
        "y": {"value": 0}})
    balance_header = _unit(_data(pd.DataFrame({"texte": [words.label("solde")]})),
                           _mark("text", align="left", **header_mark),
                           {"text": _field("texte"), "x": balance_x, "y": {"value": 0}})
    layers = [bars, zero, values, balance, flux_headers, balance_header]
    if history:  # last year's level: a dark tick across each bar
        layers.insert(1, _unit(rows, _mark("tick", color=style.TEXT, opacity=1, thickness=2,
                                           bandSize=PARTNER_ROW * 0.8),
                               {"tooltip": tooltip, "x": _field("precedent", "quantitative",
                                                                scale=x_scale, axis=None),
                                "y": y}, name="annee_precedente"))
    return _framed(_layered(layers, PARTNER_PLOT_WIDTH, height), ctx, words)


# --------------------------------------------------------------------------- treemaps

TREEMAP_WIDTH = 560
TREEMAP_HEIGHT = 340
TILE_PAD = 4  # px of padding inside a tile
LINE = 13  # px per text line
MIN_NAME_CHARS = 12  # a shortened name must show at least this much
OTHERS_LABEL = "autres produits"

def treemap_items(products: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Products drawn as tiles: the largest ones (at most ``rules.tuiles_max``, each at
    least ``rules.part_min_tuile`` of the total), the tail grouped as one tile."""
    products = products[products["valeur"] > 0].reset_index(drop=True)
    keep = (products.index < rules.tuiles_max) & (products["part"] >= rules.part_min_tuile)
    keep |= products.index == 0
    items = products.loc[keep, ["code", "libelle", "valeur", "part"]].copy()
    items["autres"] = False
    tail = products.loc[~keep]
    if len(tail) == 1:
        items = pd.concat([items, tail.assign(autres=False)[items.columns]], ignore_index=True)
    elif len(tail) > 1:
        items.loc[len(items)] = {
            "code": AUTRES, "libelle": f"{len(tail)}\u00a0{OTHERS_LABEL}",
            "valeur": int(tail["valeur"].sum()), "part": float(tail["part"].sum()), "autres": True,
        }
    return items.reset_index(drop=True)


def tile_label(name: str, value: str, share: str, dx: float, dy: float
               ) -> tuple[list[str], list[str]]:
    """Label of a tile of ``dx`` x ``dy`` px: (name lines, figure lines).

    Tries the name on three, two, then one line; for each, figures on one line
    (``v · s``), on two lines, the value alone, then none. Words are never cut
    except on the last name line; if the first word does not fit, or the name
    would show less than ``MIN_NAME_CHARS`` characters, the tile has no label
    (its tooltip still gives everything).
    """
    room = dx - 2 * TILE_PAD
    chars = max_chars(room, style.SMALL_SIZE)
    first_word = name.split(" ", 1)[0]
    if len(first_word) > chars:
        return [], []
    candidates = ([f"{value} · {share}"], [value, share], [value], [])
    figure_options = [option for option in candidates
                      if all(text_width(f, style.SMALL_SIZE) <= room for f in option)]
    for max_lines in (3, 2, 1):
        for figures in figure_options:
            lines = wrap(name, chars, max_lines)
            shown = sum(len(line.rstrip(ELLIPSIS)) for line in lines)
            if shown < min(len(name), MIN_NAME_CHARS):
                continue  # "Produits…" says nothing: better no name at all
            if (len(lines) + len(figures)) * LINE + 2 * TILE_PAD <= dy:
                return lines, figures
    return [], []


def grouped_products(products: pd.DataFrame, rules: Rules) -> int:
    """How many products the treemap groups into its « autres produits » tile (0 if none)."""
    items = treemap_items(products, rules)
    return int(len(products[products["valeur"] > 0]) - len(items) + items["autres"].sum())


def treemap_rows(products: pd.DataFrame, flux: str, rules: Rules) -> pd.DataFrame:
    """Tiles in pixels (squarify), with colours, label lines and tooltip texts."""
    items = treemap_items(products, rules)
    sizes = squarify.normalize_sizes(items["valeur"].astype(float).tolist(),
                                     TREEMAP_WIDTH, TREEMAP_HEIGHT)
    rects = squarify.squarify(sizes, 0, 0, TREEMAP_WIDTH, TREEMAP_HEIGHT)
    shades = style.FLUX_SHADES[flux]
    unit = common_unit(items["valeur"])
    rows = []
    for rank, (item, rect) in enumerate(zip(items.itertuples(index=False), rects)):
        shade = min(rank * len(shades) // max(len(items), 1), len(shades) - 1)
        color = style.OTHERS_SHADE if item.autres else shades[shade]
        value, share = format_eur(item.valeur, unit), format_percent(item.part)
        name_lines, figures = tile_label(item.libelle, value, share, rect["dx"], rect["dy"])
        rows.append({
            "code": item.code, "libelle": item.libelle, "valeur_txt": value, "part_txt": share,
            "x": rect["x"], "x2": rect["x"] + rect["dx"],
            "y": rect["y"], "y2": rect["y"] + rect["dy"],
            "tx": rect["x"] + TILE_PAD, "ty": rect["y"] + TILE_PAD,
            "ty_chiffres": rect["y"] + TILE_PAD + LINE * len(name_lines),
            "nom": "\n".join(name_lines), "chiffres": "\n".join(figures),
            "couleur": color, "couleur_texte": style.text_color_on(color),
        })
    return pd.DataFrame(rows)


def _tile_text(rows: Any, name: str, field: str, y_field: str, tooltip: list[dict],
               **mark_props: Any) -> alt.Chart:
    """Text layer of the treemap: ``field`` at (tx, ``y_field``) where it is not empty."""
    mark = _mark("text", align="left", baseline="top", fontSize=style.SMALL_SIZE,
                 lineBreak="\n", lineHeight=LINE, **mark_props)
    return _unit(rows, mark, {
        "color": _field("couleur_texte", scale=None), "text": _field(field), "tooltip": tooltip,
        "x": _pixel_position("tx", TREEMAP_WIDTH),
        "y": _pixel_position(y_field, TREEMAP_HEIGHT, reverse=True),
    }, name=name, transform=[{"filter": f"datum.{field} != ''"}])


def treemap_chart(products: pd.DataFrame, flux: str, ctx: ChartContext,
                  words: ChartWords) -> alt.VConcatChart:
    """Treemap of the products of one flux, area proportional to value."""
    flux_code(flux)
    total = int(products["valeur"].sum()) if not products.empty else 0
    if total <= 0:
        return _empty(ctx, words)
    data = treemap_rows(products, flux, ctx.rules)
    tooltip = _tooltips([("libelle", "Produit"), ("code", "Code"), ("valeur_txt", "Valeur"),
                         ("part_txt", "Part du total")])
    rows = _data(data)
    tiles = _unit(rows, _mark("rect", stroke="white", strokeWidth=1.5), {
        "color": _field("couleur", scale=None), "tooltip": tooltip,
        "x": _pixel_position("x", TREEMAP_WIDTH), "x2": _field("x2", None),
        "y": _pixel_position("y", TREEMAP_HEIGHT, reverse=True), "y2": _field("y2", None),
    }, name="tuiles")
    names = _tile_text(rows, "noms", "nom", "ty", tooltip, fontWeight="bold")
    figures = _tile_text(rows, "chiffres", "chiffres", "ty_chiffres", tooltip)
    body = _layered([tiles, names, figures], TREEMAP_WIDTH, TREEMAP_HEIGHT)
    return _framed(body, ctx, words)


# --------------------------------------------------------------------------- Sankey

SANKEY_WIDTH = 580
SANKEY_HEIGHT = 430
SANKEY_TOP = 22  # px reserved above the nodes for the column headers
NODE_WIDTH = 10
NODE_GAP = 5
LABEL_AREA = 190  # px for the labels on each side
LABEL_GAP = 4
BAND_STEPS = 12  # segments of a red band: smooth at twice the print size (8 shows angles)
GREY_BAND_STEPS = 8  # the faint grey bands: no angle shows at 45 % opacity
TWO_LINE_NODE = 21  # px: nodes at least this tall get name and value on two lines
COORD_DECIMALS = 2  # px precision of the geometry sent to Vega

SANKEY_SIDES = {  # flux -> field of the left column, of the right column
    "exportations": ("produit", "pays"),
    "importations": ("pays", "produit"),
}


def _node_order(links: list[dict], key: str) -> list[dict]:
    """Nodes of one column (code, libelle, valeur) by value desc, code asc, ``AUTRES`` last."""
    nodes: dict[str, dict] = {}
    for link in links:
        node = nodes.setdefault(link[key], {"code": link[key], "libelle": link[f"{key}_libelle"],
                                            "valeur": 0})
        node["valeur"] += link["valeur"]
    return sorted(nodes.values(), key=lambda n: (n["code"] == AUTRES, -n["valeur"], n["code"]))


def _stack_nodes(nodes: list[dict], scale: float) -> None:
    """Set the vertical position (y0, y1 in px) of each node of a column, in place."""
    top = SANKEY_TOP
    for node in nodes:
        node["y0"], node["y1"] = top, top + node["valeur"] * scale
        top = node["y1"] + NODE_GAP


def spread_labels(centers: list[float], heights: list[float], low: float,
                  high: float) -> list[float]:
    """Label centres as close as possible to ``centers`` without overlapping
    (label ``i`` is ``heights[i]`` px tall) and within [low, high]; ``centers``
    ascending. A forward pass pushes labels down, a backward pass pulls them up."""
    pos = list(centers)
    for i in range(len(pos)):
        floor = low + heights[i] / 2 if i == 0 else (
            pos[i - 1] + (heights[i - 1] + heights[i]) / 2)
        pos[i] = max(pos[i], floor)
    for i in range(len(pos) - 1, -1, -1):
        ceiling = high - heights[i] / 2 if i == len(pos) - 1 else (
            pos[i + 1] - (heights[i + 1] + heights[i]) / 2)
        pos[i] = min(pos[i], ceiling)
    return pos


def node_label(name: str, value: str, height: float) -> str:
    """Node label: name and value on two lines when the node is tall enough,
    else on one line, the name shortened to fit the label area."""
    room = max_chars(LABEL_AREA - LABEL_GAP, style.SMALL_SIZE)
    if height >= TWO_LINE_NODE:
        return f"{shorten(name, room)}\n{value}"
    return f"{shorten(name, room - len(value) - 1)} {value}"


def _label_name(label: str, value: str) -> str:
    """The name part of a node label (its value removed)."""
    return label.removesuffix(value).rstrip(" \n")


def distinct_node_labels(nodes: list[dict]) -> list[str]:
    """Labels of one column's nodes, no two showing the same name: a name shortened
    like another's is wrapped on two lines, and the code is added if that is not
    enough (``Produits de la…`` never stands twice)."""
    room = max_chars(LABEL_AREA - LABEL_GAP, style.SMALL_SIZE)
    labels = [node_label(n["libelle"], n["valeur_txt"], n["y1"] - n["y0"]) for n in nodes]

    def clashes() -> set[int]:
        names = [_label_name(label, n["valeur_txt"]) for label, n in zip(labels, nodes)]
        return {i for i, name in enumerate(names) if names.count(name) > 1}

    for i in clashes():
        lines = wrap(nodes[i]["libelle"], room, 2) or [shorten(nodes[i]["libelle"], room)]
        labels[i] = "\n".join([*lines, nodes[i]["valeur_txt"]])
    for i in clashes():
        code = f" ({nodes[i]['code']})"
        labels[i] = f"{shorten(nodes[i]['libelle'], room - len(code))}{code}\n{nodes[i]['valeur_txt']}"
    return labels


def sankey_layout(flows: pd.DataFrame, flux: str, total: float
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node rectangles and link end coordinates (px) of a two-column Sankey.

    Nodes are stacked top-down by value (``AUTRES`` last) with a fixed gap; at
    each node, its links are stacked in the order of the nodes at their other
    end, so that bands do not cross needlessly. Plain Python: the tables are tiny.
    """
    left_key, right_key = SANKEY_SIDES[flux]
    records = [r for r in flows.to_dict("records") if r["valeur"] > 0]
    left, right = _node_order(records, left_key), _node_order(records, right_key)
    flow_sum = float(sum(r["valeur"] for r in records))
    n = max(len(left), len(right))
    scale = (SANKEY_HEIGHT - SANKEY_TOP - NODE_GAP * (n - 1)) / flow_sum
    _stack_nodes(left, scale)
    _stack_nodes(right, scale)
    unit = common_unit([flow_sum])
    share_base = total if total else flow_sum
    for side, nodes, x0 in (("gauche", left, LABEL_AREA),
                            ("droite", right, SANKEY_WIDTH - LABEL_AREA - NODE_WIDTH)):
        for node in nodes:
            node.update(cote=side, x0=x0, x1=x0 + NODE_WIDTH,
                        valeur_txt=format_eur(node["valeur"], unit),
                        part_txt=format_percent(node["valeur"] / share_base),
                        tx=x0 - LABEL_GAP if side == "gauche" else x0 + NODE_WIDTH + LABEL_GAP,
                        couleur=style.NODE_OTHER if node["code"] == AUTRES
                        else style.FLUX_COLORS[flux])
        for node, label in zip(nodes, distinct_node_labels(nodes)):
            node["etiquette"] = label
        heights = [LINE * (1 + node["etiquette"].count("\n")) for node in nodes]
        centers = spread_labels([(node["y0"] + node["y1"]) / 2 for node in nodes], heights,
                                SANKEY_TOP, SANKEY_HEIGHT)
        for node, center, height in zip(nodes, centers, heights):
            node["ty"] = center - height / 2
    links = _link_geometry(records, left, right, left_key, right_key, scale)
    for link in links:
        link["valeur_txt"] = format_eur(link["valeur"], unit)
        link["part_txt"] = format_percent(link["valeur"] / share_base)
    nodes_df = pd.DataFrame(left + right)
    coords = ["y0", "y1", "ty"]
    nodes_df[coords] = nodes_df[coords].round(COORD_DECIMALS)
    return nodes_df, pd.DataFrame(links)


def _link_geometry(records: list[dict], left: list[dict], right: list[dict],
                   left_key: str, right_key: str, scale: float) -> list[dict]:
    """One row per link with its top (ya) and bottom (yb) y at the left (0) and
    right (1) ends, stacked at each node in the order of the other column."""
    rank_l = {node["code"]: i for i, node in enumerate(left)}
    rank_r = {node["code"]: i for i, node in enumerate(right)}
    links = sorted(({
        "source": r[left_key], "cible": r[right_key],
        "source_libelle": r[f"{left_key}_libelle"], "cible_libelle": r[f"{right_key}_libelle"],
        "valeur": r["valeur"], "rouge": bool(r["rouge"]), "epaisseur": r["valeur"] * scale,
    } for r in records), key=lambda k: (rank_l[k["source"]], rank_r[k["cible"]]))
    for end, key, nodes, order in (("0", "source", left, None), ("1", "cible", right, rank_l)):
        tops = {node["code"]: node["y0"] for node in nodes}
        other = "source" if key == "cible" else "cible"
        ordered = links if order is None else sorted(
            links, key=lambda k: (rank_r[k["cible"]], rank_l[k[other]]))
        for link in ordered:
            link[f"ya{end}"] = tops[link[key]]
            link[f"yb{end}"] = tops[link[key]] = tops[link[key]] + link["epaisseur"]
    for link in links:
        for name in ("ya0", "ya1", "yb0", "yb1"):
            link[name] = round(link[name], COORD_DECIMALS)
        link["lien"] = f"{link['source_libelle']} → {link['cible_libelle']}"
    return links


def _bands(links: Any, name: str, keep: str, color: str, opacity: float,
           steps: int = BAND_STEPS) -> alt.Chart:
    """Smooth S-shaped bands of the links where ``keep`` holds, generated in Vega-Lite
    from the 4 end coordinates: x runs linearly from the left nodes to the right
    ones, y follows a smoothstep sampled at ``steps`` + 1 points."""
    x0, x1 = LABEL_AREA + NODE_WIDTH, SANKEY_WIDTH - LABEL_AREA - NODE_WIDTH
    calculate = [
        ("step", f"sequence(0, {steps + 1})"), ("t", f"datum.step / {steps}"),
        ("s", "datum.t * datum.t * (3 - 2 * datum.t)"), ("bx", f"{x0} + datum.t * {x1 - x0}"),
        ("by0", "datum.ya0 + datum.s * (datum.ya1 - datum.ya0)"),
        ("by1", "datum.yb0 + datum.s * (datum.yb1 - datum.yb0)"),
    ]
    steps = [{"calculate": expression, "as": field} for field, expression in calculate]
    transform = [{"filter": keep}, steps[0], {"flatten": ["step"]}, *steps[1:]]
    return _unit(links, _mark("area", color=color, opacity=opacity, orient="vertical"), {
        "detail": _field("lien"),
        "tooltip": _tooltips([("lien", "Flux"), ("valeur_txt", "Valeur"),
                              ("part_txt", "Part du total")]),
        "x": _pixel_position("bx", SANKEY_WIDTH),
        "y": _pixel_position("by0", SANKEY_HEIGHT, reverse=True), "y2": _field("by1", None),
    }, name=name, transform=transform)


def sankey_chart(flows: pd.DataFrame, flux: str, ctx: ChartContext, words: ChartWords,
                 total: float) -> alt.VConcatChart:
    """Two-column Sankey of one flux: node bars and S-shaped bands, red main links;
    ``total`` is the flux total (the base of the shares in the tooltips)."""
    flux_code(flux)
    if flows.empty or float(flows["valeur"].sum()) <= 0:
        return _empty(ctx, words)
    nodes, links = sankey_layout(flows, flux, total)
    links_data = _data(links[["lien", "valeur_txt", "part_txt", "rouge",
                              "ya0", "ya1", "yb0", "yb1"]])
    grey = _bands(links_data, "liens_gris", "!datum.rouge", style.GREY_LINK, 0.45,
                  GREY_BAND_STEPS)
    red = _bands(links_data, "liens_rouges", "datum.rouge", style.RED_LINK, 0.75)
    nodes_data = _data(nodes[["cote", "libelle", "valeur_txt", "part_txt", "etiquette",
                              "x0", "x1", "y0", "y1", "tx", "ty", "couleur"]])
    node_tooltip = _tooltips([("libelle", "Nom"), ("valeur_txt", "Valeur"),
                              ("part_txt", "Part du total")])
    bars = _unit(nodes_data, _mark("rect"), {
        "color": _field("couleur", scale=None), "tooltip": node_tooltip,
        "x": _pixel_position("x0", SANKEY_WIDTH), "x2": _field("x1", None),
        "y": _pixel_position("y0", SANKEY_HEIGHT, reverse=True), "y2": _field("y1", None),
    }, name="noeuds")
    align = _expr("datum.cote == 'gauche' ? 'right' : 'left'")
    labels = _unit(nodes_data, _mark("text", align=align, baseline="top", fontSize=style.SMALL_SIZE,
                                     lineBreak="\n", lineHeight=LINE), {
        "text": _field("etiquette"), "tooltip": node_tooltip,
        "x": _pixel_position("tx", SANKEY_WIDTH),
        "y": _pixel_position("ty", SANKEY_HEIGHT, reverse=True),
    }, name="etiquettes")
    heads = pd.DataFrame({"texte": [words.label("gauche"), words.label("droite")],
                          "cote": ["gauche", "droite"],
                          "x": [LABEL_AREA + NODE_WIDTH, SANKEY_WIDTH - LABEL_AREA - NODE_WIDTH]})
    head_marks = _unit(_data(heads), _mark("text", align=align, baseline="top",
                                           fontSize=style.LABEL_SIZE, fontWeight="bold"),
                       {"text": _field("texte"), "x": _pixel_position("x", SANKEY_WIDTH),
                        "y": {"value": 0}})
    body = _layered([grey, red, bars, labels, head_marks], SANKEY_WIDTH, SANKEY_HEIGHT)
    return _framed(body, ctx, words)


# --------------------------------------------------------------------------- rendering


def render_svg(chart: alt.TopLevelMixin) -> str:
    """SVG text of a chart, rendered offline by vl-convert with French numbers."""
    return render.svg_of(chart.to_dict())


def render_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """PNG bytes of a chart (``scale`` x the CSS pixel size)."""
    return render.png_of(chart.to_dict(), scale)


PUBLISHED_MODE = 0o644  # images are published, whatever the umask


def save_chart(chart: alt.TopLevelMixin, base: Path) -> tuple[Path, Path]:
    """Write ``base.svg`` and ``base.png``; returns both paths."""
    base = Path(base)
    svg, png = base.with_name(base.name + ".svg"), base.with_name(base.name + ".png")
    write_bytes_atomic(svg, render_svg(chart).encode("utf-8"), mode=PUBLISHED_MODE)
    write_bytes_atomic(png, render_png(chart), mode=PUBLISHED_MODE)
    return svg, png
