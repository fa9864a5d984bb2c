"""Maps of France: colour classes, French legend and tooltips, rendered shapes, sizes,
the reader's choice of indicator, and a real browser drawing two maps from one file.

Fixtures are built by hand: 100 areas with exports of 100, 200, ... 10 000 M€
(each value once), Corsica given 10 000 and the overseas areas one value per class,
so that the expected classes and colours can be worked out on paper.
"""

from __future__ import annotations

import functools
import http.server
import json
import math
import os
import re
import shutil
import socketserver
import threading
from pathlib import Path

import pandas as pd
import pytest

from tradebook import geo, maps, nomenclatures, render, style
from tradebook.charts import ChartContext
from tradebook.formatting import format_eur, format_percent, format_signed_eur

NNBSP, NBSP, MINUS = "\u202f", "\u00a0", "\u2212"
CTX = ChartContext("France", 2024)
PURPLES = ("#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")
RDBU = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
# Quintiles of 100, 200, ... 10 000 (numpy's linear rule, positions 19,8 ; 39,6 ; 59,4 ;
# 79,2 of the sorted values): 2 080, 4 060, 6 040, 8 020, rounded to two significant digits.
EXPORT_BREAKS = (2100.0, 4100.0, 6000.0, 8000.0)
PINNED = {"20": 10_000, "9A": 100, "9B": 3_000, "9C": 5_000, "9D": 7_000, "9E": 9_000}
PINNED_CLASS = {"2A": 4, "2B": 4, "971": 0, "972": 1, "973": 2, "974": 3, "976": 4}


def table(values: dict[str, float], fmt=format_eur, monaco: bool = False) -> pd.DataFrame:
    """A values table in the input contract, ranked by value (1 = largest)."""
    deps = nomenclatures.departement_by_dgddi()
    rows = [{"dgddi": code, "nom": deps[code].nom, "valeur": float(v),
             "valeur_txt": fmt(v) if not math.isnan(v) else "", "url": f"{deps[code].code}.html"}
            for code, v in values.items()]
    frame = pd.DataFrame(rows)
    frame["rang"] = frame["valeur"].rank(ascending=False, method="min")
    if monaco:  # not ranked among the départements, and never drawn
        frame.loc[len(frame)] = {"dgddi": "99", "nom": "Monaco", "valeur": 1e12,
                                 "valeur_txt": "x", "url": "99.html", "rang": math.nan}
    return frame


def export_values() -> dict[str, float]:
    """100 areas, each of 100, 200, ... 10 000 M€ once, with :data:`PINNED` in place."""
    codes = [d.code_dgddi for d in nomenclatures.page_departements()]
    free = [v for v in range(100, 10_001, 100) if v not in PINNED.values()]
    values = dict(zip([c for c in codes if c not in PINNED], free))
    values.update(PINNED)
    return {code: values[code] * 1e6 for code in codes}


def balance_values() -> dict[str, float]:
    """Balances of −49, ... +50 M€ (two areas per step), terciles of |v| at 17 and 33."""
    codes = [d.code_dgddi for d in nomenclatures.page_departements()]
    return {code: (i - 49) * 1e6 for i, code in enumerate(codes)}


@pytest.fixture(scope="module")
def exports() -> pd.DataFrame:
    return table(export_values(), monaco=True)


@pytest.fixture(scope="module")
def all_tables(exports) -> dict[str, pd.DataFrame]:
    codes = [d.code_dgddi for d in nomenclatures.page_departements()]
    shares = {c: (i % 30 + 1) / 100 for i, c in enumerate(codes)}
    return {"exportations": exports, "importations": table(export_values()),
            "solde": table(balance_values(), format_signed_eur),
            "part_etats_unis": table(shares, format_percent),
            "part_hors_ue": table(shares, format_percent)}


def group(svg: str, name: str) -> str:
    """The SVG of the mark group named ``name`` (Vega names it ``name_<view>_marks``)."""
    match = re.search(rf'<g class="mark-[a-z]+ role-mark {name}_\d+_marks".*?</g>', svg, re.S)
    assert match, name
    return match.group(0)


def fills(svg_group: str) -> list[str]:
    return re.findall(r'<path [^>]*?fill="(#[0-9a-f]{6})"', svg_group)


@pytest.fixture(scope="module")
def export_chart(exports):
    return maps.choropleth(exports, "exportations", CTX)


@pytest.fixture(scope="module")
def export_svg(export_chart) -> str:
    return maps.map_svg(export_chart)


# --------------------------------------------------------------------------- classes


def test_nice_rounding_and_the_decimals_of_a_bound():
    assert maps.nice(1234) == 1200 and maps.nice(-987) == -990 and maps.nice(0.0347) == 0.035
    assert maps.nice(0) == 0
    assert [maps.bound_decimals(v) for v in (1200, 25, 2.5, 0.35, 9.0, 0.5)] == [0, 0, 1, 2, 0, 1]


def test_amounts_fall_in_rounded_quintiles():
    classes = maps.classify(list(export_values().values()), maps.INDICATORS["exportations"])
    assert classes.breaks == EXPORT_BREAKS
    assert classes.unit == "M€" and classes.colors == PURPLES
    assert classes.color_of(2_099e6) == PURPLES[0] and classes.color_of(2_100e6) == PURPLES[1]
    assert classes.color_of(10_000e6) == PURPLES[4]
    assert classes.color_of(math.nan) == maps.NO_DATA_COLOR


def test_class_labels_are_french():
    classes = maps.classify(list(export_values().values()), maps.INDICATORS["exportations"])
    assert classes.bound_texts == [f"2{NNBSP}100", f"4{NNBSP}100", f"6{NNBSP}000", f"8{NNBSP}000"]
    assert classes.labels[0] == f"moins de 2{NNBSP}100{NBSP}M€"
    assert classes.labels[1] == f"de 2{NNBSP}100 à 4{NNBSP}100{NBSP}M€"
    assert classes.labels[-1] == f"8{NNBSP}000{NBSP}M€ et plus"


def test_shares_are_classed_in_percent_with_decimal_commas():
    shares = [k / 100 for k in range(1, 31)]  # 1 % ... 30 %: quintiles 6,8 ; 12,6 ; 18,4 ; 24,2
    classes = maps.classify(shares, maps.INDICATORS["part_etats_unis"])
    assert classes.unit == "%" and classes.breaks == (6.8, 13.0, 18.0, 24.0)
    assert classes.bound_texts == ["6,8", "13", "18", "24"]
    assert classes.color_of(0.068) == maps.YLGNBU[1]


def test_the_balance_scale_is_diverging_and_centred_on_zero():
    classes = maps.classify(list(balance_values().values()), maps.INDICATORS["solde"])
    # sorted |v| = 0, 1, 1, 2, 2, ... 49, 49, 50: positions 33 and 66 hold 17 and 33.
    assert classes.breaks == (-33.0, -17.0, 0.0, 17.0, 33.0)
    assert classes.colors == RDBU
    assert classes.bound_texts == [f"{MINUS}33", f"{MINUS}17", "0", "17", "33"]
    assert classes.color_of(-1e6) == RDBU[2] and classes.color_of(0) == RDBU[3]
    assert classes.color_of(-49e6) == RDBU[0] and classes.color_of(50e6) == RDBU[5]


def test_a_balance_with_coinciding_terciles_keeps_symmetric_classes():
    classes = maps.classify([-100e6, 100e6, 100e6, -100e6], maps.INDICATORS["solde"])
    assert classes.breaks == (-100.0, 0.0, 100.0) and classes.colors == RDBU[1:5]


def test_rank_text_is_french():
    assert maps.rank_text(1, 100) == "1er sur 100"
    assert maps.rank_text(3.0, 100) == "3e sur 100"
    assert maps.rank_text(math.nan, 100) == "–"


# --------------------------------------------------------------------------- rendered maps


def test_svg_has_the_101_shapes_the_frames_and_their_names(export_svg):
    assert len(fills(group(export_svg, "departements"))) == 101
    frames = group(export_svg, "cadres")
    assert frames.count("<path") == 6
    names = group(export_svg, "noms_encarts")
    for name in ["Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte", "Paris et"]:
        assert name in names


def test_corsica_and_overseas_shapes_take_their_dgddi_area_values(export_svg, export_chart):
    colours = dict(zip(geo.shape_codes(), fills(group(export_svg, "departements"))))
    assert {code: colours[code] for code in PINNED_CLASS} == {
        code: PURPLES[k] for code, k in PINNED_CLASS.items()}
    shapes = mark_items(render.scenegraph_of(maps.static_map(export_chart).to_dict()),
                        "departements_1_marks")
    by_code = dict(zip(geo.shape_codes(), (item["description"] for item in shapes)))
    expected = f"Corse : Exportations 10{NNBSP}000,0{NBSP}M€, rang 1er sur 100"
    assert by_code["2A"] == by_code["2B"] == expected  # what a hover on either shows


def mark_items(node, name: str) -> list[dict]:
    """The items of the mark ``name`` in a Vega scenegraph."""
    if isinstance(node, dict):
        if node.get("name") == name:
            return node.get("items", [])
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return []
    for child in children:
        found = mark_items(child, name)
        if found:
            return found
    return []


def test_every_area_is_drawn_and_monaco_is_ignored(exports):
    areas = maps.area_rows({"exportations": maps.check_values(exports, "exportations")},
                           {"exportations": maps.classify(exports["valeur"],
                                                          maps.INDICATORS["exportations"])})
    assert sorted(a["dgddi"] for a in areas) == sorted(
        d.code_dgddi for d in nomenclatures.page_departements())
    assert all(a["t_exportations"] != "x" for a in areas)


def test_legend_and_tooltips_are_french(exports, export_svg):
    spec = maps.choropleth(exports, "exportations", CTX).to_dict()  # validated
    texts = spec_values(spec, "texte")
    assert f"Exportations, en{NBSP}M€" in texts
    assert f"2{NNBSP}100" in texts and f"8{NNBSP}000" in texts
    assert f">8{NNBSP}000</text>" in export_svg  # drawn as such
    tooltip = find_encoding(spec, "tooltip")
    assert [t["title"] for t in tooltip] == ["Département", "Exportations", "Rang"]
    assert "Fond de carte : IGN – Admin Express COG 2018" in export_svg


def test_the_balance_legend_is_centred_on_zero(all_tables):
    svg = maps.map_svg(maps.choropleth(all_tables["solde"], "solde", CTX))
    assert fills(group(svg, "legende_couleurs")) == list(RDBU)
    bounds = re.findall(r">([^<]*)</text>", group(svg, "legende_textes"))[1:]
    assert bounds == [f"{MINUS}33", f"{MINUS}17", "0", "17", "33"]


def test_a_missing_value_is_grey_and_named_in_the_legend(exports):
    damaged = exports.copy()
    damaged.loc[damaged["dgddi"] == "61", "valeur"] = math.nan
    svg = maps.map_svg(maps.choropleth(damaged, "exportations", CTX))
    colours = dict(zip(geo.shape_codes(), fills(group(svg, "departements"))))
    assert colours["61"] == maps.NO_DATA_COLOR
    assert "non disponible" in group(svg, "legende_textes")


def test_an_area_without_a_row_is_grey_and_unlinked(exports):
    areas = maps.area_rows({"exportations": exports[exports["dgddi"] != "9E"]},
                           {"exportations": maps.classify(exports["valeur"],
                                                          maps.INDICATORS["exportations"])})
    mayotte = next(a for a in areas if a["dgddi"] == "9E")
    assert mayotte == {"dgddi": "9E", "nom": "Mayotte", "c_exportations": maps.NO_DATA_COLOR,
                       "t_exportations": "non disponible", "r_exportations": "–"}


@pytest.mark.parametrize("palette", [maps.PURPLES, maps.BLUES, maps.YLGNBU])
def test_sequential_palettes_darken_at_every_step(palette):
    """Lightness alone orders the classes, whatever the reader's colour vision."""
    luminance = [style.relative_luminance(c) for c in palette]
    assert all(a > b for a, b in zip(luminance, luminance[1:]))
    assert style.contrast_ratio(palette[0], "#ffffff") > 1.2  # the first class shows on white


def test_the_diverging_palette_is_light_in_the_middle_and_dark_at_both_ends():
    luminance = [style.relative_luminance(c) for c in maps.RDBU]
    assert luminance[:3] == sorted(luminance[:3])
    assert luminance[3:] == sorted(luminance[3:], reverse=True)
    assert maps.NO_DATA_COLOR not in (*maps.PURPLES, *maps.BLUES, *maps.YLGNBU, *maps.RDBU)


@pytest.mark.parametrize("width", [maps.DESKTOP_WIDTH, maps.PHONE_WIDTH])
def test_the_map_fits_its_column_with_legible_text(exports, width):
    chart = maps.choropleth(exports, "exportations", CTX, width=width)
    svg = maps.map_svg(chart)
    size = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    assert int(size.group(1)) <= width
    sizes = spec_values(chart.to_dict(), "fontSize")
    assert sizes and min(sizes) >= 10


# --------------------------------------------------------------------------- page variants


def test_the_browser_variant_loads_the_geometry_by_url_and_links_pages(exports):
    url = geo.geometry_url("../_static")
    chart = maps.choropleth(exports, "exportations", CTX, geometry_url=url)
    spec = chart.to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert f'"url": "{url}"' in text and '"arcs"' not in text
    assert find_encoding(spec, "href") == {"field": "url", "type": "nominal"}
    assert len(render.compact_json(spec).encode("utf-8")) < 40_000
    for static in (maps.map_svg, maps.map_png):
        with pytest.raises(ValueError, match="geometry_url"):
            static(chart)


def test_the_index_map_lets_the_reader_choose_the_indicator(all_tables):
    chart = maps.indicator_map(all_tables, CTX, default="solde",
                               geometry_url=geo.geometry_url("_static"))
    spec = chart.to_dict()  # validated against the Vega-Lite schema
    (param,) = spec["params"]
    assert param["value"] == "solde"
    assert param["bind"]["input"] == "select" and param["bind"]["name"] == "Indicateur : "
    assert param["bind"]["options"] == list(maps.INDICATORS)
    assert param["bind"]["labels"][3] == "Part des États-Unis dans les exportations"
    titles = [t["title"] for t in find_encoding(spec, "tooltip")]
    assert titles == ["Département", "Indicateur", "Valeur", "Rang"]
    assert len(render.compact_json(spec).encode("utf-8")) < 80_000
    svg = maps.map_svg(maps.indicator_map(all_tables, CTX, default="solde"))
    assert fills(group(svg, "legende_couleurs")) == list(RDBU)  # only the chosen legend


def test_the_map_table_gives_every_area_in_french(all_tables):
    one = maps.map_table({"exportations": all_tables["exportations"]})
    assert list(one.columns) == ["Code", "Département", "Exportations", "Rang"]
    assert len(one) == 100
    corse = one[one["Code"] == "20"].iloc[0]
    assert corse["Département"] == "Corse" and corse["Rang"] == "1er sur 100"
    assert corse["Exportations"] == f"10{NNBSP}000,0{NBSP}M€"
    assert one[one["Département"] == "Guadeloupe"].iloc[0]["Code"] == "971"
    every = maps.map_table(all_tables)
    assert list(every.columns)[2:] == [i.label for i in maps.INDICATORS.values()]


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.drop(columns="rang"), "colonnes manquantes rang"),
    (lambda t: t.assign(dgddi=t["dgddi"].replace("61", "9Z")), "codes DGDDI inconnus 9Z"),
    (lambda t: t.assign(dgddi=t["dgddi"].replace("61", "14")), "codes DGDDI en double 14"),
])
def test_bad_values_are_refused(exports, damage, message):
    with pytest.raises(ValueError, match=message):
        maps.choropleth(damage(exports), "exportations", CTX)


# --------------------------------------------------------------------------- helpers


def spec_values(node, key: str) -> list:
    """Every value of ``key`` anywhere in a spec (data rows included)."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += spec_values(v, key)
    elif isinstance(node, list):
        for v in node:
            found += spec_values(v, key)
    return found


def find_encoding(spec: dict, channel: str):
    """The ``channel`` encoding of the département shapes layer."""
    layer = next(layer for view in spec["vconcat"] for layer in view.get("layer", [])
                 if layer.get("name", "").startswith("departements"))
    return layer["encoding"][channel]


# --------------------------------------------------------------------------- browser


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, recording each request's path and status instead of printing it."""

    requests: list[tuple[str, str]] = []

    def log_request(self, code="-", size="-"):  # noqa: D102
        CountingHandler.requests.append((self.path, str(int(code)) if code != "-" else code))

    def log_message(self, *args):  # noqa: D102
        pass


@pytest.mark.browser
def test_a_page_with_two_maps_loads_the_geometry_once_and_works(tmp_path, all_tables):
    chromium = next((c for c in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                                 shutil.which("chromium")) if c and Path(c).is_file()), None)
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium est introuvable alors que CI est défini")
        pytest.skip("Chromium absent (apt-get install chromium) : test navigateur ignoré")
    render.write_vega_bundle(tmp_path / "_static")
    geo.publish_geometry(tmp_path / "_static")
    url = geo.geometry_url("_static")
    charts = [maps.indicator_map(all_tables, CTX, geometry_url=url),
              maps.choropleth(all_tables["solde"], "solde", CTX, geometry_url=url,
                              width=maps.PHONE_WIDTH)]
    body = "".join(render.chart_html(render.chart_spec(c)) for c in charts)
    (tmp_path / "carte.html").write_text(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><link rel="icon" '
        'href="data:,"><script src="_static/tradebook-vega.js"></script></head>'
        f"<body>{body}</body></html>", encoding="utf-8")
    (tmp_path / "61.html").write_text(
        '<!doctype html><link rel="icon" href="data:,"><title>Orne</title>', encoding="utf-8")
    CountingHandler.requests = []
    server = socketserver.ThreadingTCPServer(
        ("127.0.0.1", 0), functools.partial(CountingHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        seen = in_own_thread(functools.partial(drive_map_page, chromium, base))
    finally:
        server.shutdown()
        server.server_close()
    assert seen["errors"] == []
    assert "Orne" in seen["tooltip"] and "Exportations" in seen["tooltip"]
    assert "Solde commercial" in seen["tooltip_solde"] and "sur 100" in seen["tooltip_solde"]
    assert seen["after_click"] == base + "61.html"
    # Downloaded once; the second map may revalidate its cached copy (304, no body).
    geometry = [status for path, status in CountingHandler.requests if "topojson" in path]
    assert geometry.count("200") == 1 and set(geometry) <= {"200", "304"}


def in_own_thread(work):
    """``work()`` run in a thread of its own, its exception re-raised: Playwright's sync API
    refuses to start where another session (tests/test_browser.py's) holds the loop."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=180)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def drive_map_page(chromium: str, base: str) -> dict:
    """Open ``carte.html``, hover Orne, switch to the balance, click: what the reader saw."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # Requests are watched, not routed: routing would disable the HTTP cache.
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else
                errors.append(f"requête externe : {r.url}"))
        page.goto(base + "carte.html")
        shapes = ".tradebook-chart g[class*='departements_'] path"
        page.wait_for_function(f"() => document.querySelectorAll(\"{shapes}\").length == 202",
                               timeout=30_000)
        orne = page.locator(".tradebook-chart").first.locator(
            "g[class*='departements_'] path").nth(geo.shape_codes().index("61"))
        orne.hover()
        tooltip = page.locator("#vg-tooltip-element")
        tooltip.wait_for(state="visible")
        seen = {"tooltip": tooltip.inner_text()}
        page.select_option("select", "solde")
        page.mouse.move(0, 0)
        orne.hover()
        page.wait_for_function("() => document.querySelector('#vg-tooltip-element')"
                               ".innerText.includes('Solde commercial')")
        seen["tooltip_solde"] = tooltip.inner_text()
        orne.click()
        page.wait_for_url(base + "61.html")
        seen["after_click"] = page.url
        browser.close()
    return {**seen, "errors": errors}
