"""Pure map builders: France by département, coloured by an indicator.

Input contract, one DataFrame per indicator with one row per DGDDI area:
``dgddi`` (area code), ``nom``, ``valeur`` (float: euros for amounts and the
balance, a fraction for shares; NaN when not available), ``valeur_txt`` (the
value formatted in French), ``rang`` (1 = first; NaN when not ranked) and
``url`` (the area's page, relative to the page that draws the map). Monaco
(``99``) is not drawn and its row, if any, is ignored; the single Corsica area
``20`` colours both 2A and 2B.

Design choices:

- Colours come in classes (quintiles with rounded bounds for amounts and
  shares; for the balance, three classes on each side of 0 with symmetric
  bounds): with skewed amounts a continuous scale would leave most of France
  in one pale shade. Palettes are ColorBrewer ramps known to read under
  colour-blindness (single-hue purples and blues, YlGnBu; RdBu for the balance,
  red for deficits). Classes and colours are computed here, so the legend, the
  tooltips and the static images read exactly the same French text.
- The legend is a stepped colour bar drawn as a small view above the map: one
  row of swatches with the rounded bounds under them, which fits 350 px.
- The shapes are a shared TopoJSON file (:mod:`tradebook.geo`) in planar
  coordinates, drawn with the identity projection: loaded from ``geometry_url``
  in the browser (one file per site, cached), inlined otherwise for vl-convert,
  which cannot read local files.
- :func:`indicator_map` draws several indicators in one chart, switched by a
  Vega-Lite parameter bound to a labelled native ``<select>``: one spec and one
  geometry for the page, keyboard and screen-reader friendly, and one table
  (:func:`map_table`) giving every indicator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from tradebook import geo, nomenclatures, style
from tradebook.charts import (
    ChartContext,
    SharedData,
    max_chars,
    render_png,
    render_svg,
    save_chart,
    text_width,
    wrap,
)
from tradebook.exposure import MONACO
from tradebook.formatting import NBSP, UNITS, common_unit, format_number

style.enable_theme()

DESKTOP_WIDTH = 600  # px, the whole chart
PHONE_WIDTH = 350  # px: a 390 px screen less the page margins
PADDING = 8  # px, the theme's padding on each side
STROKE_ROOM = 3  # px: frame strokes stick out of the view by half their width (and a pixel of rounding)
COLUMNS = ("dgddi", "nom", "valeur", "valeur_txt", "rang", "url")
PARAM = "indicateur"

# ColorBrewer ramps (colorbrewer2.org, "colorblind safe"), lightest step dropped so that
# the first class still stands out from the white page.
PURPLES = ("#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")
BLUES = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
YLGNBU = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
RDBU = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
NO_DATA_COLOR = "#9aa5b1"
NO_DATA_TEXT = "non disponible"
BORDER_COLOR = "#ffffff"
BORDER_WIDTH = 0.5
FRAME_COLOR = style.MUTED
QUANTILES = (0.2, 0.4, 0.6, 0.8)
BALANCE_QUANTILES = (1 / 3, 2 / 3)

LEGEND_HEIGHT = 46  # px: title, colour bar, bounds
SWATCH_Y, SWATCH_HEIGHT = 17, 12
MAX_SWATCH = 60  # px per class
NO_DATA_GAP = 16
LABEL_LINE = 12  # px per line of a frame's name
LABEL_INSET = 3  # px between a frame's corner and its name


@dataclass(frozen=True)
class Indicator:
    """What a map can show: its French name, its kind and its palette."""

    key: str
    label: str  # e.g. « Exportations »
    kind: str  # "montant", "solde" or "part"
    palette: tuple[str, ...]


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("exportations", "Exportations", "montant", PURPLES),
    Indicator("importations", "Importations", "montant", BLUES),
    Indicator("solde", "Solde commercial", "solde", RDBU),
    Indicator("part_etats_unis", "Part des États-Unis dans les exportations", "part", YLGNBU),
    Indicator("part_hors_ue", "Part des pays hors UE dans les exportations", "part", YLGNBU),
)}


@dataclass(frozen=True)
class Classes:
    """The colour classes of one map: ``breaks`` (ascending, in ``unit``) cut the values
    into ``len(breaks) + 1`` classes, lower bounds included."""

    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    unit: str  # "M€", "k€", "€" or "%"
    per_unit: float  # value of one unit in the input's terms (1e6 for M€, 0.01 for %)

    def color_of(self, value: float) -> str:
        """The colour of an input value (NaN: the no-data grey)."""
        if value is None or not math.isfinite(value):
            return NO_DATA_COLOR
        return self.colors[int(np.searchsorted(self.breaks, value / self.per_unit, "right"))]

    @property
    def bound_texts(self) -> list[str]:
        """The bounds in French (``1 200``, ``2,5``, ``−300``)."""
        return [format_number(b, bound_decimals(b)) for b in self.breaks]

    @property
    def labels(self) -> list[str]:
        """One French label per class: ``moins de 250``, ``de 250 à 700``, ``4 000 et plus``."""
        texts, unit = self.bound_texts, f"{NBSP}{self.unit}"
        if not texts:
            return ["toutes les valeurs"]
        middle = [f"de {a} à {b}{unit}" for a, b in zip(texts, texts[1:])]
        return [f"moins de {texts[0]}{unit}", *middle, f"{texts[-1]}{unit} et plus"]


# --------------------------------------------------------------------------- classes


def nice(value: float) -> float:
    """``value`` rounded to two significant digits (``1 234`` -> ``1 200``)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 1)
    return round(round(value / step) * step, 10)


def bound_decimals(value: float) -> int:
    """Decimals showing a two-significant-digit bound in full, no trailing zero
    (``2,5``, ``0,35``, ``9``, ``1 200``)."""
    if value == 0:
        return 0
    most = max(0, 1 - math.floor(math.log10(abs(value))))
    return next(d for d in range(most + 1) if round(value, d) == round(value, most))


def spread(palette: Sequence[str], count: int) -> tuple[str, ...]:
    """``count`` colours of ``palette``, evenly spaced, from its light end to its dark end."""
    if count >= len(palette):
        return tuple(palette)
    if count == 1:
        return (palette[len(palette) // 2],)
    return tuple(palette[round(i * (len(palette) - 1) / (count - 1))] for i in range(count))


def display_unit(values: np.ndarray, kind: str) -> tuple[str, float]:
    """The unit of the legend and its value in the input's terms."""
    if kind == "part":
        return "%", 0.01
    unit = common_unit(values)
    return unit, float(UNITS[unit][0])


def classify(values: Sequence[float], indicator: Indicator) -> Classes:
    """The colour classes of ``values`` (NaN ignored) for ``indicator``."""
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    unit, per_unit = display_unit(finite, indicator.kind)
    scaled = finite / per_unit
    if indicator.kind == "solde":
        return _balance_classes(np.abs(scaled), unit, per_unit)
    if scaled.size == 0:
        return Classes((), spread(indicator.palette, 1), unit, per_unit)
    low, high = float(scaled.min()), float(scaled.max())
    breaks = sorted({b for b in (nice(float(np.quantile(scaled, q))) for q in QUANTILES)
                     if low < b <= high})
    return Classes(tuple(breaks), spread(indicator.palette, len(breaks) + 1), unit, per_unit)


def _balance_classes(sizes: np.ndarray, unit: str, per_unit: float) -> Classes:
    """Classes symmetric around 0 for a balance: deficits in red, surpluses in blue, the
    bounds at the terciles of the absolute values (fewer when they coincide)."""
    if sizes.size == 0 or float(sizes.max()) == 0:
        return Classes((0.0,), RDBU[2:4], unit, per_unit)
    steps = sorted({b for b in (nice(float(np.quantile(sizes, q))) for q in BALANCE_QUANTILES)
                    if b > 0})
    breaks = (*(-b for b in reversed(steps)), 0.0, *steps)
    side = len(steps) + 1
    colors = (*RDBU[3 - side:3], *RDBU[3:3 + side])
    return Classes(tuple(breaks), colors, unit, per_unit)


# --------------------------------------------------------------------------- values


def rank_text(rang: float, total: int) -> str:
    """``1er sur 100``, ``3e sur 100``; ``–`` when not ranked."""
    if rang is None or not math.isfinite(rang):
        return "–"
    rang = int(rang)
    return f"{rang}{'er' if rang == 1 else 'e'} sur {total}"


def check_values(values: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of ``values`` drawn on the map (Monaco dropped), checked."""
    if key not in INDICATORS:
        raise ValueError(f"indicateur inconnu : {key!r} (attendu : {', '.join(INDICATORS)})")
    missing = [c for c in COLUMNS if c not in values.columns]
    if missing:
        raise ValueError(f"valeurs de « {key} » : colonnes manquantes {', '.join(missing)}")
    rows = values[values["dgddi"].astype(str) != MONACO]
    codes = rows["dgddi"].astype(str)
    unknown = sorted(set(codes) - set(geo.expected_shapes().values()))
    if unknown:
        raise ValueError(f"valeurs de « {key} » : codes DGDDI inconnus {', '.join(unknown)}")
    doubles = sorted(set(codes[codes.duplicated()]))
    if doubles:
        raise ValueError(f"valeurs de « {key} » : codes DGDDI en double {', '.join(doubles)}")
    return rows


def area_rows(tables: Mapping[str, pd.DataFrame], classes: Mapping[str, Classes]
              ) -> list[dict[str, Any]]:
    """One row per drawn DGDDI area (the lookup table of the shapes): ``dgddi``, ``nom``,
    ``url`` and, per indicator ``k``, its colour ``c_k``, text ``t_k`` and rank ``r_k``."""
    drawn = list(dict.fromkeys(p["dgddi"] for p in geo.load_geometry().properties))
    names = nomenclatures.departement_by_dgddi()
    rows = {code: {"dgddi": code, "nom": names[code].nom, "url": None} for code in drawn}
    for key, table in tables.items():
        total = int(table["valeur"].notna().sum())  # « 25e sur 100 », as the pages say
        for code in drawn:
            rows[code].update({f"c_{key}": NO_DATA_COLOR, f"t_{key}": NO_DATA_TEXT,
                               f"r_{key}": "–"})
        for rec in table.itertuples(index=False):
            row = rows.get(str(rec.dgddi))
            if row is None:  # Monaco: not drawn
                continue
            row["nom"] = str(rec.nom)
            if isinstance(rec.url, str) and rec.url:
                row["url"] = rec.url
            value = float(rec.valeur) if pd.notna(rec.valeur) else math.nan
            row[f"c_{key}"] = classes[key].color_of(value)
            if math.isfinite(value):
                row[f"t_{key}"] = str(rec.valeur_txt)
            row[f"r_{key}"] = rank_text(float(rec.rang) if pd.notna(rec.rang) else math.nan,
                                        total)
    return [{k: v for k, v in row.items() if v is not None} for row in rows.values()]


def map_table(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The French table behind a map: code, département, each indicator's value, and
    its rank when there is one indicator."""
    areas = area_rows({k: check_values(t, k) for k, t in tables.items()},
                      {k: classify(t["valeur"], INDICATORS[k]) for k, t in tables.items()})
    names = nomenclatures.departement_by_dgddi()
    columns: dict[str, list[str]] = {
        "Code": [names[a["dgddi"]].code for a in areas],
        "Département": [a["nom"] for a in areas],
    }
    for key in tables:
        columns[INDICATORS[key].label] = [a[f"t_{key}"] for a in areas]
    if len(tables) == 1:
        columns["Rang"] = [a[f"r_{next(iter(tables))}"] for a in areas]
    return pd.DataFrame(columns, dtype=object)


# --------------------------------------------------------------------------- text


def split_label(text: str, width_px: float, size: float) -> str:
    """``text`` on one line when it fits ``width_px``, else on two lines split at the
    space that balances them best (the shorter first line on a tie)."""
    words = text.split(" ")
    if text_width(text, size) <= width_px or len(words) == 1:
        return text
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    first, second = min(splits, key=lambda s: (max(len(s[0]), len(s[1])), len(s[0])))
    return f"{first}\n{second}"


def wrapped(text: str, width_px: float, size: float, max_lines: int = 3) -> list[str]:
    """``text`` wrapped to ``width_px`` at font ``size`` (at most ``max_lines`` lines)."""
    return wrap(text, max_chars(width_px, size), max_lines) or [text]


def legend_title(indicator: Indicator, classes: Classes) -> str:
    """``Exportations, en M€``."""
    return f"{indicator.label}, en{NBSP}{classes.unit}"


# --------------------------------------------------------------------------- layers


def _field(name: str, kind: str = "nominal", **props: Any) -> dict[str, Any]:
    """A channel definition of field ``name``."""
    return {"field": name, "type": kind, **props}


def _pixels(name: str, extent: float, reverse: bool = False) -> dict[str, Any]:
    """A position channel whose values are already pixels (no axis)."""
    return _field(name, "quantitative", axis=None,
                  scale={"domain": [0, extent], "nice": False, "zero": False, "reverse": reverse})


def _only_current() -> dict[str, str]:
    """Keep the legend rows of the indicator chosen by the parameter."""
    return {"filter": f"datum.indicateur == {PARAM}"}


def _shapes_layer(data: dict, areas: list[dict], keys: Sequence[str]) -> alt.Chart:
    """The départements: joined to ``areas`` by DGDDI code, coloured by the chosen
    indicator, with a French tooltip and ARIA label; loaded from a URL (the browser),
    they also link to each page (vl-convert would resolve links against its own base)."""
    fields = sorted({f for row in areas for f in row} - {"dgddi"})
    labels = ", ".join(f"'{k}': '{INDICATORS[k].label}'" for k in keys)
    transform = [
        {"lookup": "properties.dgddi", "from": {"data": {"values": areas}, "key": "dgddi",
                                               "fields": fields}},
        {"calculate": f"datum['c_' + {PARAM}]", "as": "couleur"},
        {"calculate": f"datum['t_' + {PARAM}]", "as": "valeur_txt"},
        {"calculate": f"datum['r_' + {PARAM}]", "as": "rang_txt"},
        {"calculate": f"{{{labels}}}[{PARAM}]", "as": "indicateur_nom"},
        {"calculate": "datum.nom + ' : ' + datum.indicateur_nom + ' ' + datum.valeur_txt"
                      " + ', rang ' + datum.rang_txt", "as": "description"},
    ]
    if len(keys) == 1:
        tooltip = [_field("nom", title="Département"),
                   _field("valeur_txt", title=INDICATORS[keys[0]].label),
                   _field("rang_txt", title="Rang")]
    else:
        tooltip = [_field("nom", title="Département"),
                   _field("indicateur_nom", title="Indicateur"),
                   _field("valeur_txt", title="Valeur"), _field("rang_txt", title="Rang")]
    encoding = {"color": _field("couleur", scale=None), "description": _field("description"),
                "tooltip": tooltip}
    mark = {"type": "geoshape", "stroke": BORDER_COLOR, "strokeWidth": BORDER_WIDTH}
    if "url" in data:
        source = alt.UrlData(url=data["url"], format=data["format"])
    else:
        source = SharedData(values=data["values"], format=data["format"])
    if any(row.get("url") for row in areas):  # the pages of the book: a click opens them
        encoding["href"] = _field("url")
        mark["cursor"] = "pointer"
    return alt.Chart(source, mark=mark, encoding=alt.FacetedEncoding(**encoding),
                     transform=transform, name="departements")


def _frames_layers(geometry: geo.Geometry, map_width: float, size: float
                   ) -> list[alt.Chart]:
    """The inset frames (thin boxes) and their names, in their top left corners."""
    x0, _, x1, _ = geometry.extent
    px_per_unit = map_width / (x1 - x0)
    boxes, names = [], []
    for inset in geometry.insets:
        fx0, fy0, fx1, fy1 = inset.cadre
        ring = [[fx0, fy0], [fx1, fy0], [fx1, fy1], [fx0, fy1], [fx0, fy0]]
        boxes.append({"type": "Feature", "properties": {"nom": inset.nom},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
        room = (fx1 - fx0) * px_per_unit - 2 * LABEL_INSET
        names.append({"nom": split_label(inset.nom, room, size), "x": fx0, "y": fy1})
    frames = alt.Chart(alt.InlineData(values=boxes),
                       mark={"type": "geoshape", "filled": False, "stroke": FRAME_COLOR,
                             "strokeWidth": 0.8}, name="cadres")
    labels = alt.Chart(alt.InlineData(values=names),
                       mark={"type": "text", "align": "left", "baseline": "top",
                             "dx": LABEL_INSET, "dy": LABEL_INSET, "fontSize": size,
                             "lineBreak": "\n", "lineHeight": LABEL_LINE, "color": style.MUTED},
                       encoding=alt.FacetedEncoding(
                           longitude=_field("x", "quantitative"),
                           latitude=_field("y", "quantitative"), text=_field("nom")),
                       name="noms_encarts")
    return [frames, labels]


def legend_rows(key: str, classes: Classes, width: float, has_missing: bool
                ) -> tuple[list[dict], list[dict]]:
    """Swatches and texts of the stepped colour bar of one indicator, in pixels."""
    indicator = INDICATORS[key]
    no_data_room = (NO_DATA_GAP + SWATCH_HEIGHT + 4
                    + text_width(NO_DATA_TEXT, style.SMALL_SIZE)) if has_missing else 0
    step = min(MAX_SWATCH, (width - no_data_room - 2) / len(classes.colors))
    swatches = [{"indicateur": key, "x": i * step, "x2": (i + 1) * step, "couleur": c}
                for i, c in enumerate(classes.colors)]
    texts = [{"indicateur": key, "x": 0, "y": 0, "texte": legend_title(indicator, classes),
              "align": "left"}]
    texts += [{"indicateur": key, "x": (i + 1) * step, "y": SWATCH_Y + SWATCH_HEIGHT + 3,
               "texte": t, "align": "center"} for i, t in enumerate(classes.bound_texts)]
    if has_missing:
        x = len(classes.colors) * step + NO_DATA_GAP
        swatches.append({"indicateur": key, "x": x, "x2": x + SWATCH_HEIGHT,
                         "couleur": NO_DATA_COLOR})
        texts.append({"indicateur": key, "x": x + SWATCH_HEIGHT + 4, "y": SWATCH_Y,
                      "texte": NO_DATA_TEXT, "align": "left"})
    return swatches, texts


def _legend_view(swatches: list[dict], texts: list[dict], width: float) -> alt.LayerChart:
    """The legend above the map (rows of every indicator, the chosen one shown)."""
    rects = alt.Chart(alt.InlineData(values=swatches), mark={"type": "rect"},
                      encoding=alt.FacetedEncoding(
                          x=_pixels("x", width), x2={"field": "x2"},
                          y={"value": SWATCH_Y}, y2={"value": SWATCH_Y + SWATCH_HEIGHT},
                          color=_field("couleur", scale=None)),
                      transform=[_only_current()], name="legende_couleurs")
    words = alt.Chart(alt.InlineData(values=texts),
                      mark={"type": "text", "baseline": "top", "fontSize": style.SMALL_SIZE,
                            "align": {"expr": "datum.align"}, "color": style.TEXT},
                      encoding=alt.FacetedEncoding(
                          x=_pixels("x", width), y=_pixels("y", LEGEND_HEIGHT, reverse=True),
                          text=_field("texte")),
                      transform=[_only_current()], name="legende_textes")
    return alt.LayerChart(layer=[rects, words], width=width, height=LEGEND_HEIGHT)


# --------------------------------------------------------------------------- charts


def _subtitle(keys: Sequence[str], classes: Mapping[str, Classes], width: float) -> list[str]:
    """What the colours mean and what a click does, wrapped to the chart width."""
    if len(keys) > 1:
        text = ("Choisissez l'indicateur sous la carte. Couleurs par classes de valeurs ; "
                "un clic sur un département ouvre sa page.")
    elif INDICATORS[keys[0]].kind == "solde":
        text = ("Déficit en rouge, excédent en bleu, classes symétriques autour de 0 ; "
                "un clic sur un département ouvre sa page.")
    else:
        text = ("Classes d'effectifs voisins (quantiles), bornes arrondies ; un clic sur "
                "un département ouvre sa page.")
    return wrapped(text, width, style.SUBTITLE_SIZE)


def _description(tables: Mapping[str, pd.DataFrame], classes: Mapping[str, Classes]) -> str:
    """What screen readers announce: the indicator(s), the classes, the extremes."""
    parts = []
    for key, table in tables.items():
        ranked = table[table["valeur"].notna()].sort_values("valeur", ascending=False)
        extremes = ""
        if not ranked.empty:
            top, bottom = ranked.iloc[0], ranked.iloc[-1]
            extremes = (f" ; plus forte valeur : {top['nom']} ({top['valeur_txt']}), plus "
                        f"faible : {bottom['nom']} ({bottom['valeur_txt']})")
        parts.append(f"{INDICATORS[key].label} : classes {', '.join(classes[key].labels)}"
                     f"{extremes}.")
    return ("Carte des départements de France, outre-mer en encarts à gauche, Paris et "
            "petite couronne agrandis en haut à gauche. " + " ".join(parts)
            + " Le tableau associé donne chaque département.")


def _source_lines(ctx: ChartContext, geometry: geo.Geometry) -> list[str]:
    """The source line(s) and the map's attribution."""
    return [*ctx.source, f"Fond de carte : {geometry.attribution}"]


def indicator_map(tables: Mapping[str, pd.DataFrame], ctx: ChartContext, *,
                  default: str | None = None, width: int = DESKTOP_WIDTH,
                  geometry_url: str | None = None, title: str = "Les départements"
                  ) -> alt.VConcatChart:
    """Map of France coloured by one of several indicators (``tables``: indicator key ->
    values), the reader choosing with a French ``<select>`` (no choice with one table).

    ``width`` is the whole chart's (600 desktop, 350 phone). ``geometry_url`` is the URL
    of the published geometry (:func:`tradebook.geo.geometry_url`): the browser variant,
    whose départements link to their pages; None inlines the geometry, without links, for
    static images (:func:`map_svg`, :func:`map_png`, :func:`save_map`).
    """
    if not tables:
        raise ValueError("aucun indicateur à cartographier")
    keys = list(tables)
    default = default or keys[0]
    if default not in tables:
        raise ValueError(f"indicateur par défaut absent des valeurs : {default!r}")
    checked = {k: check_values(t, k) for k, t in tables.items()}
    classes = {k: classify(t["valeur"].astype(float), INDICATORS[k]) for k, t in checked.items()}
    geometry = geo.load_geometry()
    view_width = width - 2 * PADDING - STROKE_ROOM
    map_height = round(view_width * geometry.aspect)
    label_size = style.SMALL_SIZE
    areas = area_rows(checked, classes)
    swatches, texts = [], []
    for key in keys:
        missing = any(a[f"t_{key}"] == NO_DATA_TEXT for a in areas)
        s, t = legend_rows(key, classes[key], view_width, missing)
        swatches += s
        texts += t
    shapes = _shapes_layer(geo.geometry_data(geometry_url, geometry), areas, keys)
    body = alt.LayerChart(layer=[shapes, *_frames_layers(geometry, view_width, label_size)],
                          width=view_width, height=map_height, projection=geo.PROJECTION,
                          title=alt.TitleParams(
                              text=_source_lines(ctx, geometry), orient="bottom", anchor="start",
                              fontSize=style.SOURCE_SIZE, fontWeight="normal",
                              color=style.MUTED, offset=10, lineHeight=14))
    param: dict[str, Any] = {"name": PARAM, "value": default}
    if len(keys) > 1:
        param["bind"] = {"input": "select", "options": keys,
                         "labels": [INDICATORS[k].label for k in keys], "name": "Indicateur : "}
    heading = f"{title} — {ctx.zone_nom}, {ctx.annee}"
    return alt.VConcatChart(
        vconcat=[_legend_view(swatches, texts, view_width), body], spacing=6,
        params=[alt.VariableParameter(**param)],
        title=alt.TitleParams(text=wrapped(heading, view_width, style.TITLE_SIZE * 1.1, 2),
                              subtitle=_subtitle(keys, classes, view_width)),
        description=_description(checked, classes))


def choropleth(values: pd.DataFrame, indicator: str, ctx: ChartContext, *,
               width: int = DESKTOP_WIDTH, geometry_url: str | None = None,
               title: str | None = None) -> alt.VConcatChart:
    """Map of France coloured by one indicator (a key of :data:`INDICATORS`)."""
    if indicator not in INDICATORS:
        raise ValueError(f"indicateur inconnu : {indicator!r} (attendu : {', '.join(INDICATORS)})")
    return indicator_map({indicator: values}, ctx, width=width, geometry_url=geometry_url,
                         title=title or f"{INDICATORS[indicator].label} par département")


def map_svg(chart: alt.TopLevelMixin) -> str:
    """SVG of a map, rendered offline by vl-convert with French numbers."""
    return render_svg(static_map(chart))


def map_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """PNG of a map (``scale`` x its CSS pixel size)."""
    return render_png(static_map(chart), scale=scale)


def save_map(chart: alt.TopLevelMixin, base: Path) -> tuple[Path, Path]:
    """Write ``base.svg`` and ``base.png`` of a map; returns both paths."""
    return save_chart(static_map(chart), base)


def static_map(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``chart`` itself, refused when it loads its geometry from a URL: vl-convert cannot
    read it and would draw an empty map without a word."""
    if _has_url(chart.to_dict(validate=False)):
        raise ValueError("carte construite avec geometry_url : reconstruisez-la sans URL "
                         "(géométrie intégrée) pour une image statique")
    return chart


def _has_url(node: Any) -> bool:
    """True when a spec (or part of it) loads data from a URL (inline rows not searched)."""
    if isinstance(node, dict):
        if "url" in node:
            return True
        return any(_has_url(v) for k, v in node.items() if k not in ("datasets", "values"))
    if isinstance(node, list):
        return any(_has_url(v) for v in node)
    return False
