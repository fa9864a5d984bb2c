"""The chart of the largest changes by product against the previous year.

A diverging bar chart in the style of :mod:`tradebook.charts`: for one flux, the
``ctx.rules.produits_exposition`` products whose value moved most (in euros),
bars to the right in green for a rise, to the left in red for a fall, each
labelled with its signed change and relative change.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from tradebook import style
from tradebook.charts import (
    ChartContext,
    ChartWords,
    _data,
    _empty,
    _field,
    _framed,
    _layered,
    _mark,
    _tooltips,
    _unit,
)
from tradebook.exposure_charts import ROW, _axis_labels, _y
from tradebook.formatting import UNITS, common_unit, format_eur, format_signed_eur
from tradebook.tables import change_text

PLOT_WIDTH = 300
LABEL_ROOM = 2.2  # each side's domain = largest change x this, room for the labels


def change_rows(changes: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` largest changes with their bar and label texts."""
    top = changes[changes["variation_eur"] != 0].head(n).reset_index(drop=True)
    unit = common_unit(top["variation_eur"])
    return pd.DataFrame({
        "code": top["code"], "libelle": top["libelle"], "etiquette": _axis_labels(top),
        "variation": [round(v / UNITS[unit][0], 4) for v in top["variation_eur"]],
        # a fall's label sits right of the zero line, a rise's after its bar
        "position_txt": [max(round(v / UNITS[unit][0], 4), 0.0) for v in top["variation_eur"]],
        "texte": [f"{format_signed_eur(v, unit)} ({change_text(n, b)})"
                  for v, n, b in zip(top["variation_eur"], top["valeur"],
                                     top["valeur_precedente"])],
        "valeur_txt": [format_eur(v) for v in top["valeur"]],
        "precedente_txt": [format_eur(v) for v in top["valeur_precedente"]],
        "couleur": [style.POSITIVE if v > 0 else style.NEGATIVE for v in top["variation_eur"]],
    })


def changes_chart(changes: pd.DataFrame, ctx: ChartContext, words: ChartWords) -> alt.VConcatChart:
    """Diverging bars of the largest changes by product (green up, red down)."""
    data = change_rows(changes, ctx.rules.produits_exposition)
    if data.empty:
        return _empty(ctx, words)
    order = list(data["etiquette"])
    extent = max(float(data["variation"].abs().max()), 1e-9) * LABEL_ROOM
    x = _field("variation", "quantitative", scale={"domain": [-extent, extent], "nice": False},
               axis=None)
    tooltip = _tooltips([("libelle", "Produit"), ("texte", "Évolution"),
                         ("valeur_txt", words.label("annee")),
                         ("precedente_txt", words.label("annee_precedente"))])
    rows = _data(data)
    y = _y(order)
    bars = _unit(rows, _mark("bar", height={"band": 0.7}),
                 {"color": _field("couleur", scale=None), "tooltip": tooltip, "x": x, "y": y},
                 name="barres")
    labels = _unit(rows, _mark("text", align="left", baseline="middle", color=style.TEXT, dx=4,
                               fontSize=style.SMALL_SIZE),
                   {"text": _field("texte"), "tooltip": tooltip,
                    "x": _field("position_txt", "quantitative",
                                scale={"domain": [-extent, extent], "nice": False}, axis=None),
                    "y": y}, name="valeurs")
    zero = _unit(_data(pd.DataFrame({"zero": [0.0]})), _mark("rule", color=style.MUTED),
                 {"x": _field("zero", "quantitative",
                              scale={"domain": [-extent, extent], "nice": False}, axis=None)})
    return _framed(_layered([bars, zero, labels], PLOT_WIDTH, ROW * len(order)), ctx, words)
