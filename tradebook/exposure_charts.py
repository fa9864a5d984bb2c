"""Charts of the exposure section: exports to the United States by product,
specialisation against France, import dependences.

Pure builders in the style of :mod:`tradebook.charts` (same helpers, theme and
framing): each takes the list of :mod:`tradebook.exposure`, the chart context and
its French words, and draws the ``ctx.rules.produits_exposition`` first items
(the table beside the chart keeps every item).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from tradebook import style
from tradebook.charts import (
    ChartContext,
    ChartWords,
    _data,
    _empty,
    _expr,
    _field,
    _framed,
    _layered,
    _mark,
    _tooltips,
    _unique_labels,
    _unit,
)
from tradebook.formatting import UNITS, common_unit, format_eur, format_number, format_percent

LABEL_CHARS = 30  # product names on the axis, shortened (full name in the tooltip)
ROW = 26  # px per product
PLOT_WIDTH = 300
LABEL_ROOM = 1.6  # x domain = largest bar x this, leaving room for the value labels
US_COLOR = style.EXPORTS
ABOVE_ONE = style.EXPORTS  # specialised products
BELOW_ONE = style.MUTED


def _axis_labels(frame: pd.DataFrame) -> list[str]:
    """Shortened, distinct product names for the y axis."""
    return _unique_labels(frame["libelle"], frame["code"], LABEL_CHARS)


def _y(order: list[str]) -> dict:
    """The product axis, in the given order."""
    return _field("etiquette", sort=order, title=None,
                  axis={"domain": False, "labelFontSize": style.SMALL_SIZE, "labelLimit": 190,
                        "labelPadding": 6, "ticks": False})


# --------------------------------------------------------------------------- United States


def us_rows(products: pd.DataFrame, n: int) -> tuple[pd.DataFrame, str]:
    """The ``n`` largest products exported to the US, with their bar and label texts."""
    top = products.head(n).reset_index(drop=True)
    unit = common_unit(top["valeur"])
    return pd.DataFrame({
        "code": top["code"], "libelle": top["libelle"], "etiquette": _axis_labels(top),
        "valeur": [round(v / UNITS[unit][0], 4) for v in top["valeur"]],
        "valeur_txt": [format_eur(v, unit) for v in top["valeur"]],
        "part_txt": [format_percent(p) for p in top["part_du_produit"]],
        "part_us_txt": [format_percent(p) for p in top["part_des_exportations_us"]],
        "texte": [f"{format_eur(v, unit)} · {format_percent(p)} du produit"
                  for v, p in zip(top["valeur"], top["part_du_produit"])],
    }), unit


def us_chart(products: pd.DataFrame, ctx: ChartContext, words: ChartWords) -> alt.VConcatChart:
    """Horizontal bars: the products exported most to the US (bar = value), each
    labelled with the share of the product's exports that goes to the US."""
    if products.empty:
        return _empty(ctx, words)
    data, unit = us_rows(products, ctx.rules.produits_exposition)
    order = list(data["etiquette"])
    extent = max(float(data["valeur"].max()), 1e-9) * LABEL_ROOM
    x = _field("valeur", "quantitative", scale={"domain": [0, extent], "nice": False},
               axis=None)
    tooltip = _tooltips([("libelle", "Produit"), ("code", "Code"),
                         ("valeur_txt", "Exportations vers les États-Unis"),
                         ("part_txt", "Part des exportations du produit"),
                         ("part_us_txt", "Part des exportations vers les États-Unis")])
    rows = _data(data)
    bars = _unit(rows, _mark("bar", color=US_COLOR, height={"band": 0.7}),
                 {"tooltip": tooltip, "x": x, "y": _y(order)}, name="barres")
    labels = _unit(rows, _mark("text", align="left", baseline="middle", color=style.TEXT, dx=4,
                               fontSize=style.SMALL_SIZE),
                   {"text": _field("texte"), "tooltip": tooltip, "x": x, "y": _y(order)},
                   name="valeurs")
    return _framed(_layered([bars, labels], PLOT_WIDTH, ROW * len(order)), ctx, words)


# --------------------------------------------------------------------------- specialisation


def specialisation_rows(products: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` largest export products with their index and texts."""
    top = products.head(n).reset_index(drop=True)
    top = top[top["indice"].notna() & (top["indice"] > 0)].reset_index(drop=True)
    return pd.DataFrame({
        "code": top["code"], "libelle": top["libelle"], "etiquette": _axis_labels(top),
        "indice": top["indice"].astype(float), "un": 1.0,
        "indice_txt": [format_number(i, 2) for i in top["indice"]],
        "valeur_txt": [format_eur(v) for v in top["valeur"]],
        "part_txt": [format_percent(p) for p in top["part"]],
        "part_france_txt": [format_percent(p) for p in top["part_france"]],
        "couleur": [ABOVE_ONE if i >= 1 else BELOW_ONE for i in top["indice"]],
    })


def log_domain(values: pd.Series) -> list[float]:
    """A log-scale domain centred on 1 holding every value (at least 1/4 to 4)."""
    spread = max([4.0, *(max(v, 1 / v) for v in values if v > 0)])
    spread = 2 ** math.ceil(math.log2(spread * 1.15))
    return [1 / spread, spread]


def specialisation_chart(products: pd.DataFrame, ctx: ChartContext,
                         words: ChartWords) -> alt.VConcatChart:
    """Lollipops on a log scale centred on 1: each of the largest export products'
    specialisation index against France (above 1, the zone is specialised in it)."""
    data = specialisation_rows(products, ctx.rules.produits_exposition)
    if data.empty:
        return _empty(ctx, words)
    order = list(data["etiquette"])
    scale = {"type": "log", "domain": log_domain(data["indice"]), "nice": False}
    x = _field("indice", "quantitative", scale=scale,
               axis={"title": words.label("axe"), "grid": True, "labelFontSize": style.SMALL_SIZE,
                     "format": ",.2~f", "tickCount": 5})
    tooltip = _tooltips([("libelle", "Produit"), ("valeur_txt", "Exportations"),
                         ("part_txt", "Part des exportations"),
                         ("part_france_txt", "Part dans les exportations françaises"),
                         ("indice_txt", "Indice de spécialisation")])
    rows = _data(data)
    y = _y(order)
    stems = _unit(rows, _mark("rule", strokeWidth=2), {
        "color": _field("couleur", scale=None), "tooltip": tooltip, "x": x,
        "x2": _field("un", None), "y": y}, name="tiges")
    dots = _unit(rows, _mark("circle", size=70, opacity=1), {
        "color": _field("couleur", scale=None), "tooltip": tooltip, "x": x, "y": y},
        name="points")
    values = _unit(rows, _mark("text", align=_expr("datum.indice >= 1 ? 'left' : 'right'"),
                               baseline="middle", color=style.TEXT,
                               dx=_expr("datum.indice >= 1 ? 7 : -7"), fontSize=style.SMALL_SIZE),
                   {"text": _field("indice_txt"), "x": x, "y": y}, name="indices")
    one = _unit(_data(pd.DataFrame({"un": [1.0]})), _mark("rule", color=style.TEXT, strokeWidth=1),
                {"x": _field("un", "quantitative", scale=scale)})
    return _framed(_layered([one, stems, dots, values], PLOT_WIDTH, ROW * len(order)), ctx, words)


# --------------------------------------------------------------------------- dependences

DEPENDENCE_COLUMNS_X = {"valeur": 0, "fournisseur": 130, "hors_ue": 300}
DEPENDENCE_WIDTH = 360


def dependence_rows(products: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` largest dependences with the texts of their columns."""
    top = products.head(n).reset_index(drop=True)
    unit = common_unit(top["valeur"])
    largest = max(int(top["valeur"].max()), 1) if not top.empty else 1
    return pd.DataFrame({
        "code": top["code"], "libelle": top["libelle"], "etiquette": _axis_labels(top),
        "barre": [int(v) / largest * 100 for v in top["valeur"]],
        "valeur_txt": [format_eur(v, unit) for v in top["valeur"]],
        "fournisseur_txt": [f"{c} ({format_percent(p)})"
                            for c, p in zip(top["premier_pays_libelle"], top["part_premier_pays"])],
        "hors_ue_txt": [format_percent(p) for p in top["part_hors_ue"]],
        "hhi_txt": [format_number(h, 2) for h in top["hhi"]],
    })


def dependence_chart(products: pd.DataFrame, ctx: ChartContext,
                     words: ChartWords) -> alt.VConcatChart:
    """A table drawn as a chart: for each dependence, its product, a bar of its
    imports, the main supplier and its share, the share from outside the EU."""
    if products.empty:
        return _empty(ctx, words)
    data = dependence_rows(products, ctx.rules.produits_exposition)
    order = list(data["etiquette"])
    tooltip = _tooltips([("libelle", "Produit"), ("code", "Code CPF4"),
                         ("valeur_txt", "Importations"), ("fournisseur_txt", "Premier fournisseur"),
                         ("hors_ue_txt", "Part hors UE"), ("hhi_txt", "Indice HHI des origines")])
    rows = _data(data)
    y = _y(order)
    bar_x = _field("barre", "quantitative", scale={"domain": [0, 100 * DEPENDENCE_WIDTH / 60],
                                                    "nice": False}, axis=None)
    bars = _unit(rows, _mark("bar", color=style.IMPORTS, height={"band": 0.6}, opacity=0.35),
                 {"tooltip": tooltip, "x": bar_x, "y": y}, name="barres")
    layers = [bars]
    for name, x in DEPENDENCE_COLUMNS_X.items():
        layers.append(_unit(rows, _mark("text", align="left", baseline="middle", color=style.TEXT,
                                        dx=3, fontSize=style.SMALL_SIZE),
                            {"text": _field(f"{name}_txt"), "tooltip": tooltip,
                             "x": {"value": x}, "y": y}, name=f"colonne_{name}"))
    heads = pd.DataFrame({"texte": [words.label(n) for n in DEPENDENCE_COLUMNS_X],
                          "x": list(DEPENDENCE_COLUMNS_X.values())})
    layers.append(_unit(_data(heads), _mark("text", align="left", baseline="bottom", dx=3, dy=-4,
                                            fontSize=style.SMALL_SIZE, fontWeight="bold"),
                        {"text": _field("texte"),
                         "x": _field("x", "quantitative", scale=None, axis=None),
                         "y": {"value": 0}}))
    return _framed(_layered(layers, DEPENDENCE_WIDTH, ROW * len(order)), ctx, words)


# --------------------------------------------------------------------------- rankings


def ranking_rows(frame: pd.DataFrame, value: str, text: str, n: int) -> pd.DataFrame:
    """The ``n`` first rows of ``frame`` (already ranked) as bars: ``code``, ``libelle``,
    the bar ``value`` and the label ``text`` columns."""
    top = frame.head(n).reset_index(drop=True)
    return pd.DataFrame({"code": top["code"], "libelle": top["libelle"],
                         "etiquette": _axis_labels(top), "valeur": top[value].astype(float),
                         "texte": top[text]})


def ranking_chart(frame: pd.DataFrame, ctx: ChartContext, words: ChartWords,
                  color: str = US_COLOR) -> alt.VConcatChart:
    """Horizontal bars of a ranking (``frame``: ``code``, ``libelle``, ``etiquette``,
    ``valeur``, ``texte``, in rank order), each labelled with its text."""
    if frame.empty:
        return _empty(ctx, words)
    order = list(frame["etiquette"])
    extent = max(float(frame["valeur"].max()), 1e-9) * LABEL_ROOM
    x = _field("valeur", "quantitative", scale={"domain": [0, extent], "nice": False},
               axis=None)
    tooltip = _tooltips([("libelle", words.labels.get("entite", "Nom")),
                         ("texte", words.labels.get("valeur", "Valeur"))])
    rows = _data(frame)
    bars = _unit(rows, _mark("bar", color=color, height={"band": 0.7}),
                 {"tooltip": tooltip, "x": x, "y": _y(order)}, name="barres")
    labels = _unit(rows, _mark("text", align="left", baseline="middle", color=style.TEXT, dx=4,
                               fontSize=style.SMALL_SIZE),
                   {"text": _field("texte"), "tooltip": tooltip, "x": x, "y": _y(order)},
                   name="valeurs")
    return _framed(_layered([bars, labels], PLOT_WIDTH, ROW * len(order)), ctx, words)
