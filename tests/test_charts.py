"""Charts and tables: Vega-Lite validity, rendered marks, geometry, French text, snapshots.

Fixtures are plain DataFrames with the columns of the indicators contract,
built here by hand-written rules, so these tests do not depend on the
indicators' code: a realistic département (18 products x 16 countries, a
skewed deterministic matrix, top-10 buckets with ``AUTRES``, 5 red links).

Snapshots of the specs live in ``tests/snapshots/``; regenerate them with
``TRADEBOOK_UPDATE_SNAPSHOTS=1 pytest tests/test_charts.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import altair as alt
import jsonschema
import pandas as pd
import pytest

from tradebook import charts, evolution_charts, figures, nomenclatures, render, style, tables
from tradebook.charts import (
    ChartContext,
    ChartWords,
    context_of,
    partners_chart,
    sankey_chart,
    save_chart,
    treemap_chart,
)
from tradebook.formatting import VEGA_FORMAT_LOCALE, format_eur, format_percent
from tradebook.exposure import areas_overview, compute_exposure
from tradebook.indicators import Fiche
from tradebook.texts import Rules

NNBSP, NBSP, MINUS = "\u202f", "\u00a0", "\u2212"
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TRADEBOOK_UPDATE_SNAPSHOTS") == "1"
KEYS = ["partenaires", "produits_exportations", "produits_importations",
        "flux_exportations", "flux_importations", "etats_unis", "specialisation", "dependances"]
PORTRAIT = KEYS[:5]  # the charts of the ANCT portrait, with their snapshots


# --------------------------------------------------------------------------- fixtures

PRODUCTS = [
    ("C29A", "Produits de l'industrie automobile"),
    ("C28B", "Autres machines d'usage général"),
    ("C21Z", "Produits pharmaceutiques"),
    ("C10E", "Produits laitiers et glaces"),
    ("C20A", "Produits chimiques de base, produits azotés, matières plastiques et "
             "caoutchouc synthétique"),
    ("C22B", "Produits en plastique"),
    ("C25E", "Coutellerie, outillage, quincaillerie et ouvrages divers en métaux"),
    ("C10A", "Viande et produits à base de viande"),
    ("C27A", "Moteurs, génératrices et transformateurs électriques"),
    ("C16Z", "Bois, articles en bois"),
    ("C24A", "Produits sidérurgiques et de première transformation de l'acier"),
    ("C17A", "Pâte à papier, papier et carton"),
    ("A01Z", "Produits de la culture et de l'élevage"),
    ("C14Z", "Articles d'habillement"),
    ("C23A", "Verre et articles en verre"),
    ("C26A", "Composants et cartes électroniques"),
    ("C11Z", "Boissons"),
    ("C13Z", "Produits de l'industrie textile"),
]
COUNTRIES = [
    ("DE", "Allemagne"), ("BE", "Belgique"), ("ES", "Espagne"), ("IT", "Italie"),
    ("GB", "Royaume-Uni"), ("US", "Etats-Unis"), ("CN", "Chine"), ("NL", "Pays-Bas"),
    ("CH", "Suisse"), ("PL", "Pologne"), ("KR", "Corée (République de)"),
    ("BA", "Bosnie-Herzégovine"), ("AE", "Emirats arabes unis"), ("MA", "Maroc"),
    ("JP", "Japon"), ("SE", "Suède"),
]
AUTRES = "AUTRES"


def _matrix(flux: str) -> pd.DataFrame:
    """Long table (produit, pays, valeur) of a deterministic, skewed trade matrix."""
    rows = []
    for i, (p, _) in enumerate(PRODUCTS):
        for j, (c, _) in enumerate(COUNTRIES):
            shift = 3 if flux == "importations" else 0
            weight_p = 1.0 / (1 + ((i + shift) % len(PRODUCTS))) ** 1.3
            weight_c = 1.0 / (1 + ((j * 7 + (5 if flux == "importations" else 0)) % 16)) ** 1.1
            twist = 1 + ((i * 31 + j * 17) % 11) / 10
            value = int(round(610_000_000 * weight_p * weight_c * twist))
            if (i + j) % 7 == 3:
                value = 0  # some pairs do not trade
            rows.append((p, c, value))
    return pd.DataFrame(rows, columns=["produit", "pays", "valeur"])


def _labels(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs) | {AUTRES: "Autres"}


def products_of(matrix: pd.DataFrame) -> pd.DataFrame:
    """Every product with a non-zero value, with its share, sorted desc."""
    sums = matrix.groupby("produit")["valeur"].sum()
    sums = sums[sums != 0].reset_index().sort_values(["valeur", "produit"],
                                                      ascending=[False, True])
    total = sums["valeur"].sum()
    labels = _labels(PRODUCTS)
    return pd.DataFrame({
        "code": sums["produit"].to_numpy(), "libelle": [labels[c] for c in sums["produit"]],
        "valeur": sums["valeur"].astype("int64").to_numpy(),
        "part": (sums["valeur"] / total).to_numpy(),
    })


def flows_of(matrix: pd.DataFrame, n: int = 10, n_red: int = 5) -> pd.DataFrame:
    """Sankey links with top-``n`` buckets and ``n_red`` red named links."""
    def top(key: str) -> list[str]:
        sums = matrix.groupby(key)["valeur"].sum().reset_index()
        sums = sums.sort_values(["valeur", key], ascending=[False, True])
        return list(sums[key][:n])
    keep_p, keep_c = top("produit"), top("pays")
    links = matrix.assign(
        produit=matrix["produit"].where(matrix["produit"].isin(keep_p), AUTRES),
        pays=matrix["pays"].where(matrix["pays"].isin(keep_c), AUTRES),
    ).groupby(["produit", "pays"], as_index=False)["valeur"].sum()
    links = links[links["valeur"] != 0].sort_values(
        ["valeur", "produit", "pays"], ascending=[False, True, True]).reset_index(drop=True)
    named = (links["produit"] != AUTRES) & (links["pays"] != AUTRES)
    links["rouge"] = links.index.isin(links.index[named][:n_red])
    links["produit_libelle"] = links["produit"].map(_labels(PRODUCTS))
    links["pays_libelle"] = links["pays"].map(_labels(COUNTRIES))
    return links[["produit", "produit_libelle", "pays", "pays_libelle", "valeur", "rouge"]]


def partners_of(exports: pd.DataFrame, imports: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """Union of the top-``n`` countries at export and at import."""
    exp = exports.groupby("pays")["valeur"].sum()
    imp = imports.groupby("pays")["valeur"].sum()
    codes = sorted(set(exp.nlargest(n).index) | set(imp.nlargest(n).index))
    frame = pd.DataFrame({"pays": codes, "libelle": [_labels(COUNTRIES)[c] for c in codes],
                          "importations": imp.reindex(codes, fill_value=0).astype("int64").values,
                          "exportations": exp.reindex(codes, fill_value=0).astype("int64").values})
    frame["solde"] = frame["exportations"] - frame["importations"]
    frame["libelle_dgddi"] = frame["libelle"]
    frame["_v"] = frame["exportations"] + frame["importations"]
    return frame.sort_values(["_v", "pays"], ascending=[False, True]).drop(
        columns="_v").reset_index(drop=True)


def rows_of(exports: pd.DataFrame, imports: pd.DataFrame) -> pd.DataFrame:
    """The prepared rows behind the two matrices (one CPF4 per A129 product)."""
    frames = [m.assign(flux=code) for m, code in ((exports, "E"), (imports, "I"))]
    rows = pd.concat(frames, ignore_index=True).rename(columns={"produit": "a129"})
    rows["cpf4"] = rows["a129"]
    rows["masse"] = 0
    return rows[rows["valeur"] != 0][["flux", "a129", "cpf4", "pays", "valeur", "masse"]]


def realistic_fiche(donnees_fictives: bool = False, annee_partielle: bool = False,
                    zone: nomenclatures.Zone | None = None) -> Fiche:
    """A fiche for the Orne, 2024, with the realistic matrices."""
    exports, imports = _matrix("exportations"), _matrix("importations")
    exp_total, imp_total = int(exports["valeur"].sum()), int(imports["valeur"].sum())
    zone = zone or nomenclatures.departement_zone(nomenclatures.resolve_departement("61"))
    totaux = SimpleNamespace(
        exportations=exp_total, importations=imp_total, solde=exp_total - imp_total,
        part_region_exportations=0.052, part_region_importations=0.041,
        part_france_exportations=0.0031, part_france_importations=0.0024)
    rows = rows_of(exports, imports)
    no_areas = pd.DataFrame({"niveau": [], "zone": [], "flux": [], "pays": [], "valeur": []})
    exposure = compute_exposure(rows, rows, None, no_areas, no_areas,
                                {"a129": _labels(PRODUCTS), "cpf4": _labels(PRODUCTS)}, Rules())
    return Fiche(
        zone=zone, annee=2024, niveau="a129", donnees_fictives=donnees_fictives,
        annee_partielle=annee_partielle, totaux=totaux,
        partenaires=partners_of(exports, imports),
        produits={"exportations": products_of(exports), "importations": products_of(imports)},
        flux={"exportations": flows_of(exports), "importations": flows_of(imports)},
        rules=Rules(), rows=rows, exposition=exposure,
        departements=None if zone.type == "departement" else areas_overview(
            [d.code_dgddi for d in nomenclatures.departements_of(zone.code)], no_areas, no_areas),
        labels={"a129": _labels(PRODUCTS), "pays": _labels(COUNTRIES),
                "pays_dgddi": _labels(COUNTRIES)},
    )


def fiche_charts(fiche: Fiche) -> dict[str, alt.TopLevelMixin]:
    """Every chart of a fiche, through the figure registry."""
    return {key: rendered.chart for key, rendered in figures.render_all(fiche).items()}


def words(title: str = "Titre", **labels: str) -> ChartWords:
    """Chart words for a builder called directly."""
    defaults = {"importations": "Importations (M€)", "exportations": "Exportations (M€)",
                "solde": "Solde", "gauche": "Produits", "droite": "Pays"}
    return ChartWords(title, ("Sous-titre",), "Description.", "Rien à montrer.",
                      {**defaults, **labels})


@pytest.fixture(scope="module")
def fiche() -> SimpleNamespace:
    return realistic_fiche()


@pytest.fixture(scope="module")
def fiche_charts_real(fiche) -> dict[str, alt.TopLevelMixin]:
    return fiche_charts(fiche)


@pytest.fixture(scope="module")
def scenes(fiche_charts_real) -> dict[str, dict]:
    """Vega scenegraphs of the five charts (rendered once per module)."""
    return {key: scene_of(chart) for key, chart in fiche_charts_real.items()}


# --------------------------------------------------------------------------- helpers


def scene_of(chart: alt.TopLevelMixin) -> dict:
    """The rendered scenegraph of a chart, with the French number locale."""
    return render.scenegraph_of(chart.to_dict())


def mark_nodes(scene: dict, name: str) -> list[dict]:
    """Every scenegraph mark node called ``name``."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("marktype") and node.get("name") == name:
                found.append(node)
            for item in node.get("items", []):
                walk(item)

    walk(scene["scenegraph"])
    return found


def items(scene: dict, name: str) -> list[dict]:
    """Items drawn by the mark ``name`` (one per bar, tile, node or label)."""
    return [item for node in mark_nodes(scene, f"{name}_marks") for item in node["items"]]


def bands(scene: dict, name: str) -> list[dict]:
    """Sankey bands of the area mark ``name``: one path per link (facet)."""
    return [node for node in mark_nodes(scene, f"{name}_marks") if node["marktype"] == "area"]


def all_texts(scene: dict) -> list[str]:
    """Every piece of text drawn (titles, labels...), multi-line texts joined."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("marktype") == "text":
                for item in node.get("items", []):
                    text = item.get("text")
                    found.append("\n".join(text) if isinstance(text, list) else str(text))
            for item in node.get("items", []):
                walk(item)

    walk(scene["scenegraph"])
    return found


def vega_lite_schema_errors(spec: dict) -> list[str]:
    """Errors of ``spec`` against the Vega-Lite JSON schema Altair ships."""
    schema = alt.vegalite.v6.schema.load_schema()
    validator = jsonschema.Draft7Validator(schema)
    return [error.message for error in validator.iter_errors(spec)]


# --------------------------------------------------------------------------- every chart


@pytest.mark.parametrize("key", KEYS)
def test_spec_validates_against_vega_lite_schema(fiche_charts_real, key):
    spec = fiche_charts_real[key].to_dict(validate=True)
    assert spec["$schema"].endswith(f"{alt.SCHEMA_VERSION}.json")
    assert vega_lite_schema_errors(spec) == []


def test_schema_check_can_fail():
    assert vega_lite_schema_errors({"mark": "not-a-mark"})


@pytest.mark.parametrize("key", KEYS)
def test_chart_has_french_locale_title_subtitle_and_source(fiche_charts_real, key):
    spec = fiche_charts_real[key].to_dict()
    assert spec["config"]["locale"]["number"]["thousands"] == NNBSP
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "Orne (61), 2024" in spec["title"]["text"]
    assert spec["title"]["subtitle"]
    assert spec["description"].startswith(spec["title"]["text"])  # for screen readers
    footer = spec["vconcat"][0]["title"]
    assert footer["orient"] == "bottom"
    assert footer["text"] == ["Source : DGDDI, 2024"]


@pytest.mark.parametrize("key", KEYS)
def test_rendered_width_is_at_most_600_px(scenes, key):
    assert scenes[key]["width"] <= style.MAX_WIDTH


def test_width_stays_within_600_px_with_long_zone_and_all_notes():
    paca = nomenclatures.region_zone(nomenclatures.resolve_region("93"))
    built = fiche_charts(realistic_fiche(True, True, paca))
    for key in ("partenaires", "produits_importations"):  # the longest titles
        assert scene_of(built[key])["width"] <= style.MAX_WIDTH, key
    long = nomenclatures.Zone("region", "00", "Territoire d'industrie "
                              "Flers-Argentan-Alençon et Pays de la Ferté-Macé")
    chart = fiche_charts(realistic_fiche(True, True, long))["partenaires"]
    assert chart.to_dict(validate=False)["title"]["text"] == [
        "Principaux pays partenaires", f"{long.nom}, 2024"]  # too long: two lines
    assert scene_of(chart)["width"] <= style.MAX_WIDTH


def test_fictitious_mention_only_for_the_sample(fiche_charts_real):
    fictitious = fiche_charts(realistic_fiche(donnees_fictives=True))
    real = fiche_charts_real  # donnees_fictives=False
    for key in KEYS:
        footer = fictitious[key].to_dict(validate=False)["vconcat"][0]["title"]["text"]
        assert footer == ["Source : DGDDI, 2024", style.FICTITIOUS_NOTE], key
        spec = json.dumps(real[key].to_dict(validate=False), ensure_ascii=False)
        assert "fictives" not in spec, key
    drawn = all_texts(scene_of(fictitious["flux_exportations"]))
    assert any(style.FICTITIOUS_NOTE in text for text in drawn)


def test_partial_year_is_said_in_the_source_line():
    chart = partners_chart(realistic_fiche().partenaires,
                           ChartContext("Orne (61)", 2025, annee_partielle=True), words())
    assert any("Source : DGDDI, 2025 (année partielle)" in t for t in all_texts(scene_of(chart)))


def test_context_of_fiche(fiche):
    ctx = context_of(fiche)
    assert ctx == ChartContext("Orne (61)", 2024, False, False, Rules())
    normandie = nomenclatures.region_zone(nomenclatures.resolve_region("28"))
    assert context_of(realistic_fiche(zone=normandie)).zone_nom == "Normandie"


def test_svg_renders_with_french_numbers(fiche_charts_real, fiche):
    svg = charts.render_svg(fiche_charts_real["partenaires"])
    assert svg.lstrip().startswith("<svg")
    top = fiche.partenaires.iloc[0]
    assert format_eur(top["importations"], "M€").split(NBSP)[0] in svg


# --------------------------------------------------------------------------- partners


def test_partners_two_bars_per_country_and_one_balance_label(scenes, fiche):
    assert len(items(scenes["partenaires"], "barres")) == 2 * len(fiche.partenaires)
    assert len(items(scenes["partenaires"], "soldes")) == len(fiche.partenaires)
    values = items(scenes["partenaires"], "valeurs")
    assert len(values) == 2 * len(fiche.partenaires)
    first = fiche.partenaires.iloc[0]
    by_text = {v["text"]: v["align"] for v in values}
    assert by_text[format_eur(first["importations"], "M€").split(NBSP)[0]] == "right"
    assert by_text[format_eur(first["exportations"], "M€").split(NBSP)[0]] == "left"


def test_partners_imports_left_in_blue_exports_right_in_violet(scenes):
    bars = items(scenes["partenaires"], "barres")
    zero = min(b["x"] + b["width"] for b in bars if b["fill"] == style.IMPORTS)
    for bar in bars:
        if bar["fill"] == style.IMPORTS:
            assert bar["x"] + bar["width"] == pytest.approx(max(
                b["x"] + b["width"] for b in bars if b["fill"] == style.IMPORTS), abs=0.01)
        else:
            assert bar["fill"] == style.EXPORTS
            assert bar["x"] >= zero - 0.01
    assert {b["fill"] for b in bars} == {style.IMPORTS, style.EXPORTS}


def test_partners_balance_sign_in_text_and_colour(scenes, fiche):
    labels = {item["text"]: item["fill"] for item in items(scenes["partenaires"], "soldes")}
    for balance in fiche.partenaires["solde"]:
        text = charts.format_signed_eur(balance, "M€")
        assert text in labels
        if balance < 0:
            assert text.startswith(MINUS) and labels[text] == style.NEGATIVE
        else:
            assert text.startswith("+") and labels[text] == style.POSITIVE
    assert any(t.startswith(MINUS) for t in labels) and any(t.startswith("+") for t in labels)


def test_partners_long_names_shortened_with_full_name_in_tooltip():
    partners = pd.DataFrame({
        "pays": ["XX", "DE"], "libelle": ["Saint-Vincent-et-les-Grenadines du Nord", "Allemagne"],
        "importations": [5_000_000, 1_000_000], "exportations": [1_000_000, 2_000_000],
        "solde": [-4_000_000, 1_000_000]})
    chart = partners_chart(partners, ChartContext("Orne (61)", 2024), words())
    spec = json.dumps(chart.to_dict(), ensure_ascii=False)
    texts = all_texts(scene_of(chart))
    assert "Saint-Vincent-et-les-Grenadines du Nord" in spec  # tooltip field
    assert any(t.endswith("…") and t.startswith("Saint-Vincent") for t in texts)
    assert "Saint-Vincent-et-les-Grenadines du Nord" not in texts


def test_partners_single_partner_and_no_imports():
    partners = pd.DataFrame({"pays": ["BE"], "libelle": ["Belgique"], "importations": [0],
                             "exportations": [350_000], "solde": [350_000]})
    scene = scene_of(partners_chart(partners, ChartContext("Lozère (48)", 2024), words()))
    assert len(items(scene, "barres")) == 2
    assert [i["text"] for i in items(scene, "soldes")] == [f"+350,0{NBSP}k€"]


# --------------------------------------------------------------------------- treemaps


@pytest.mark.parametrize("flux", ["importations", "exportations"])
def test_treemap_one_tile_per_product_area_proportional(scenes, fiche, flux):
    products = fiche.produits[flux]
    tiles = items(scenes[f"produits_{flux}"], "tuiles")
    assert len(tiles) == len(charts.treemap_items(products, Rules())) == len(products)
    total_area = sum(t["width"] * t["height"] for t in tiles)
    assert total_area == pytest.approx(charts.TREEMAP_WIDTH * charts.TREEMAP_HEIGHT, rel=1e-6)
    areas = sorted((t["width"] * t["height"] / total_area for t in tiles), reverse=True)
    assert areas == pytest.approx(sorted(products["part"], reverse=True), abs=1e-6)
    shades = set(style.FLUX_SHADES[flux])
    assert {t["fill"] for t in tiles} <= shades


def test_treemap_subtitle_has_total_and_balance(fiche_charts_real, fiche):
    subtitle = fiche_charts_real["produits_exportations"].to_dict()["title"]["subtitle"][0]
    assert format_eur(fiche.totaux.exportations) in subtitle
    assert charts.format_signed_eur(fiche.totaux.solde) in subtitle


def test_treemap_labels_are_french_and_only_where_they_fit(fiche):
    rows = charts.treemap_rows(fiche.produits["exportations"], "exportations", Rules())
    labelled = rows[rows["nom"] != ""]
    assert 0 < len(labelled) < len(rows)  # the realistic fixture has tiles too small
    biggest = rows.iloc[0]
    top = fiche.produits["exportations"].iloc[0]
    expected = f"{format_eur(top['valeur'], 'M€')} · {format_percent(top['part'])}"
    assert biggest["chiffres"] == expected
    for row in labelled.itertuples():
        lines = row.nom.split("\n") + ([row.chiffres] if row.chiffres else [])
        width = max(charts.text_width(line, style.SMALL_SIZE) for line in row.chiffres.split("\n")
                    + row.nom.split("\n"))
        assert width <= row.x2 - row.x - 2 * charts.TILE_PAD
        assert len(row.nom.split("\n") + row.chiffres.split("\n")) * charts.LINE <= (
            row.y2 - row.y) or not lines


def test_tile_label_degrades_with_size():
    name = "Produits laitiers et glaces"
    full = charts.tile_label(name, "202,1 M€", "3,4 %", 300, 100)
    assert full == ([name], ["202,1 M€ · 3,4 %"])
    narrow = charts.tile_label(name, "202,1 M€", "3,4 %", 70, 70)
    assert narrow == (["Produits", "laitiers et", "glaces"], ["202,1 M€"])
    assert charts.tile_label(name, "202,1 M€", "3,4 %", 20, 20) == ([], [])


def test_treemap_groups_a_long_tail_but_keeps_the_total():
    n = 60
    values = [10_000_000 // (i + 1) ** 2 for i in range(n)]
    total = sum(values)
    products = pd.DataFrame({"code": [f"P{i:02d}" for i in range(n)],
                             "libelle": [f"Produit {i}" for i in range(n)],
                             "valeur": values, "part": [v / total for v in values]})
    tiles = charts.treemap_items(products, Rules())
    assert len(tiles) < n
    assert tiles["valeur"].sum() == total
    grouped = n - (len(tiles) - 1)
    assert tiles.iloc[-1]["code"] == "AUTRES"
    assert tiles.iloc[-1]["libelle"] == f"{grouped}{NBSP}autres produits"
    assert charts.grouped_products(products, Rules()) == grouped
    scene = scene_of(treemap_chart(products, "importations", ChartContext("X", 2024), words()))
    assert len(items(scene, "tuiles")) == len(tiles)
    assert len(tables.products_table(products)) == n  # the table keeps every product


def test_treemap_without_products_says_so():
    fiche = realistic_fiche()
    fiche.produits["exportations"] = pd.DataFrame({"code": [], "libelle": [], "valeur": [],
                                                   "part": []})
    rendered = figures.render(figures.figure("produits_exportations"), fiche)
    texts = all_texts(scene_of(rendered.chart))
    assert any("Aucun produit exporté" in t for t in texts)
    assert rendered.reading_key == ["Aucune exportation n'est enregistrée en 2024."]


def test_unknown_flux_is_refused(fiche):
    with pytest.raises(ValueError, match="flux inconnu"):
        treemap_chart(fiche.produits["exportations"], "export", ChartContext("X", 2024), words())


# --------------------------------------------------------------------------- Sankey


@pytest.mark.parametrize("flux", ["exportations", "importations"])
def test_sankey_one_band_per_link_red_ones_in_red(scenes, fiche, flux):
    flows = fiche.flux[flux]
    scene = scenes[f"flux_{flux}"]
    grey, red = bands(scene, "liens_gris"), bands(scene, "liens_rouges")
    assert len(grey) + len(red) == len(flows)
    assert len(red) == int(flows["rouge"].sum()) == 5
    assert all(b["items"][0]["fill"] == style.RED_LINK for b in red)
    assert all(b["items"][0]["fill"] == style.GREY_LINK for b in grey)
    n_nodes = flows["produit"].nunique() + flows["pays"].nunique()
    assert len(items(scene, "noeuds")) == n_nodes


@pytest.mark.parametrize("flux", ["exportations", "importations"])
def test_sankey_geometry_stacks_links_on_nodes(fiche, flux):
    flows = fiche.flux[flux]
    nodes, links = charts.sankey_layout(flows, flux, int(flows["valeur"].sum()))
    for side, end, key in (("gauche", "0", "source"), ("droite", "1", "cible")):
        column = nodes[nodes["cote"] == side].reset_index(drop=True)
        assert column.iloc[-1]["libelle"] == "Autres"  # Autres last
        named = column.iloc[:-1]
        assert list(named["y0"]) == sorted(named["y0"])
        values = [int(v.replace(NBSP + "M€", "").replace(NNBSP, "").replace(",", ""))
                  for v in named["valeur_txt"]]
        assert values == sorted(values, reverse=True)  # biggest first
        for code, group in links.groupby(key):
            node = nodes[(nodes["cote"] == side)
                         & (nodes["libelle"] == group[f"{key}_libelle"].iloc[0])].iloc[0]
            stacked = group.sort_values(f"ya{end}")
            assert stacked[f"ya{end}"].iloc[0] == pytest.approx(node["y0"], abs=0.02)
            assert stacked[f"yb{end}"].iloc[-1] == pytest.approx(node["y1"], abs=0.02)
            tops, bottoms = stacked[f"ya{end}"].to_numpy(), stacked[f"yb{end}"].to_numpy()
            gaps = tops[1:] - bottoms[:-1]
            assert abs(gaps).max(initial=0) < 0.02  # contiguous, no overlap
    thickness = links["yb0"] - links["ya0"]
    assert (thickness / links["valeur"]).std() < 1e-9 * 1e3 / links["valeur"].min() + 1e-6


def test_sankey_node_labels_have_french_values_and_do_not_overlap(scenes, fiche):
    scene = scenes["flux_exportations"]
    left = [i for i in items(scene, "etiquettes") if i["align"] == "right"]
    texts = ["\n".join(i["text"]) if isinstance(i["text"], list) else i["text"] for i in left]
    top_product = fiche.produits["exportations"].iloc[0]
    assert any(format_eur(top_product["valeur"], "M€") in t for t in texts)
    assert any(t.startswith("Autres") for t in texts)
    nodes, _ = charts.sankey_layout(fiche.flux["exportations"], "exportations",
                                    fiche.totaux.exportations)
    for side in ("gauche", "droite"):
        column = nodes[nodes["cote"] == side]
        heights = [charts.LINE * (1 + t.count("\n")) for t in column["etiquette"]]
        tops = list(column["ty"])
        for i in range(1, len(tops)):
            assert tops[i] >= tops[i - 1] + heights[i - 1] - 0.01


def node(code: str, name: str, height: float) -> dict:
    """A Sankey node as ``distinct_node_labels`` reads it."""
    return {"code": code, "libelle": name, "valeur_txt": f"12,3{NBSP}M€", "y0": 0, "y1": height}


def shown_name(label: str) -> str:
    """What a node label shows of the name: every line but the value."""
    return label.removesuffix(f"12,3{NBSP}M€").rstrip(" \n")


@pytest.mark.parametrize("height", [10, 30])  # name and value on one line, on two lines
def test_sankey_labels_sharing_a_long_prefix_stay_distinct(height):
    hunting = "Produits de la culture et de l'élevage, de la chasse et services annexes"
    fishing = "Produits de la culture et de l'élevage, de la pêche et de l'aquaculture"
    short = [charts.node_label(name, f"12,3{NBSP}M€", height) for name in (hunting, fishing)]
    assert short[0] == short[1]  # shortened alone, both read « Produits de la culture et… »
    labels = charts.distinct_node_labels([node("A01Z", hunting, height),
                                          node("A03Z", fishing, height),
                                          node("C10E", "Produits laitiers et glaces", height)])
    names = [shown_name(label) for label in labels]
    assert len(set(names)) == 3
    assert names[2] == "Produits laitiers et glaces"  # a name without a twin is left alone
    room = charts.max_chars(charts.LABEL_AREA - charts.LABEL_GAP, style.SMALL_SIZE)
    assert all(len(line) <= room for label in labels for line in label.split("\n"))
    assert all(label.endswith(f"12,3{NBSP}M€") for label in labels)


def test_sankey_labels_alike_even_on_two_lines_get_their_codes():
    first = "Produits de la culture et de l'élevage, de la chasse et services annexes, lot A"
    second = "Produits de la culture et de l'élevage, de la chasse et services annexes, lot B"
    labels = charts.distinct_node_labels([node("A01Z", first, 10), node("A03Z", second, 10)])
    names = [shown_name(label) for label in labels]
    assert names[0] != names[1]
    assert names[0].endswith("(A01Z)") and names[1].endswith("(A03Z)")


def test_spread_labels_keeps_order_spacing_and_bounds():
    pos = charts.spread_labels([10, 11, 12, 100], [12, 12, 24, 12], 0, 105)
    assert pos[0] >= 6 and pos[-1] <= 99
    assert pos[1] - pos[0] >= 12 and pos[2] - pos[1] >= 18
    assert charts.spread_labels([50], [12], 0, 100) == [50]


def test_sankey_import_reads_countries_to_products(fiche_charts_real):
    spec = fiche_charts_real["flux_importations"].to_dict()
    text = json.dumps(spec, ensure_ascii=False)
    assert "Pays d'origine" in text and "des pays d'origine vers les produits" in text


def test_sankey_with_few_links_and_no_red():
    flows = pd.DataFrame({"produit": ["C10E"], "produit_libelle": ["Produits laitiers et glaces"],
                          "pays": ["BE"], "pays_libelle": ["Belgique"], "valeur": [1_200_000],
                          "rouge": [False]})
    scene = scene_of(sankey_chart(flows, "exportations", ChartContext("X", 2024), words(),
                                  1_200_000))
    assert len(bands(scene, "liens_gris")) == 1 and bands(scene, "liens_rouges") == []
    assert len(items(scene, "noeuds")) == 2


def test_sankey_without_flows_says_so():
    empty = pd.DataFrame({c: [] for c in ["produit", "produit_libelle", "pays", "pays_libelle",
                                          "valeur", "rouge"]})
    fiche = realistic_fiche()
    fiche.flux["importations"] = empty
    fiche.totaux.importations = 0
    chart = figures.render(figures.figure("flux_importations"), fiche).chart
    assert any("Aucune importation" in t for t in all_texts(scene_of(chart)))


def test_sankey_spec_stays_compact(fiche_charts_real):
    """Six Sankeys per page must fit in the 300 KB page budget with the rest."""
    size = len(json.dumps(fiche_charts_real["flux_exportations"].to_dict(),
                          ensure_ascii=False, separators=(",", ":")).encode())
    assert size < 40_000


# --------------------------------------------------------------------------- export


def test_save_chart_writes_svg_and_png_atomically(tmp_path, fiche_charts_real):
    svg, png = save_chart(fiche_charts_real["partenaires"], tmp_path / "images" / "partenaires")
    assert svg.name == "partenaires.svg" and png.name == "partenaires.png"
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        "partenaires.png", "partenaires.svg"]
    assert svg.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- the year before

PREVIOUS_YEAR = 2023
SIGNED_AMOUNT = re.compile(r"[+\u2212]\d{1,3}(?:\u202f\d{3})*,\d\u00a0[kM]?€")
SIGNED_CHANGE = re.compile(r"\((?:[+\u2212]\d{1,3}(?:\u202f\d{3})*,\d+\u00a0%|0,0\u00a0%|–)\)")


def previous_matrix(flux: str) -> pd.DataFrame:
    """The same trade a year earlier, by hand-written rules: each pair moved by -30 %
    to +30 %, some pairs traded then and not now (and none of product C13Z now
    traded then), so that products rise, fall, appear and vanish."""
    now = _matrix(flux)
    rows = []
    for k, (p, c, value) in enumerate(now.itertuples(index=False)):
        i, j = k // len(COUNTRIES), k % len(COUNTRIES)
        factor = 1 + ((i * 13 + j * 5 + (2 if flux == "importations" else 0)) % 13 - 6) / 20
        before = int(round(value * factor))
        if value == 0 and (i * j) % 5 == 1:
            before = 4_000_000 + 100_000 * i  # a pair that stopped
        if p == "C13Z":
            before = 0  # a product new this year
        rows.append((p, c, before))
    return pd.DataFrame(rows, columns=["produit", "pays", "valeur"])


def changes_of(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Every product traded in either year, by absolute change desc, ties by code."""
    sums_now = now.groupby("produit")["valeur"].sum()
    sums_before = before.groupby("produit")["valeur"].sum()
    codes = sorted(c for c in set(sums_now.index) | set(sums_before.index)
                   if sums_now.get(c, 0) or sums_before.get(c, 0))
    labels = _labels(PRODUCTS)
    frame = pd.DataFrame({"code": codes, "libelle": [labels[c] for c in codes],
                          "valeur": [int(sums_now.get(c, 0)) for c in codes],
                          "valeur_precedente": [int(sums_before.get(c, 0)) for c in codes]})
    frame["variation_eur"] = frame["valeur"] - frame["valeur_precedente"]
    frame["variation"] = [v / b if b else None
                          for v, b in zip(frame["variation_eur"], frame["valeur_precedente"])]
    frame["_taille"] = frame["variation_eur"].abs()
    frame = frame.sort_values(["_taille", "code"], ascending=[False, True], kind="mergesort")
    return frame.drop(columns="_taille").reset_index(drop=True)


def fiche_with_previous_year() -> Fiche:
    """The realistic Orne compared with its previous year (the evolution block built
    here by hand, in the contract of :mod:`tradebook.evolution`)."""
    from dataclasses import replace

    from tradebook.evolution import Evolution, FluxChange

    base = realistic_fiche()
    now = {flux: _matrix(flux) for flux in ("exportations", "importations")}
    before = {flux: previous_matrix(flux) for flux in now}
    by_country = {flux: before[flux].groupby("pays")["valeur"].sum() for flux in now}
    partners = base.partenaires
    history = pd.DataFrame({"pays": partners["pays"].to_numpy(), **{
        f"{flux}_precedent": [int(by_country[flux].get(c, 0)) for c in partners["pays"]]
        for flux in now}})
    by_product = {flux: before[flux].groupby("produit")["valeur"].sum() for flux in now}
    evolution = Evolution(
        annee_precedente=PREVIOUS_YEAR,
        exportations=FluxChange(int(now["exportations"]["valeur"].sum()),
                                int(before["exportations"]["valeur"].sum())),
        importations=FluxChange(int(now["importations"]["valeur"].sum()),
                                int(before["importations"]["valeur"].sum())),
        partenaires=history,
        produits={flux: pd.DataFrame({"code": base.produits[flux]["code"].to_numpy(),
                                      "valeur_precedent": [int(by_product[flux].get(c, 0))
                                                           for c in base.produits[flux]["code"]]})
                  for flux in now},
        variations={flux: changes_of(now[flux], before[flux]) for flux in now},
    )
    return replace(base, evolution=evolution)


EVOLUTION_KEYS = ["partenaires", "evolution_exportations", "evolution_importations"]


@pytest.fixture(scope="module")
def compared() -> Fiche:
    return fiche_with_previous_year()


@pytest.fixture(scope="module")
def compared_charts(compared) -> dict[str, alt.TopLevelMixin]:
    return fiche_charts(compared)


@pytest.fixture(scope="module")
def compared_scenes(compared_charts) -> dict[str, dict]:
    return {key: scene_of(compared_charts[key]) for key in EVOLUTION_KEYS}


def test_the_fixture_s_changes_add_up_to_the_totals(compared):
    for flux in ("exportations", "importations"):
        changes = compared.evolution.variations[flux]
        change = getattr(compared.evolution, flux)
        assert int(changes["variation_eur"].sum()) == change.variation_eur  # nothing lost
        assert int(changes["valeur"].sum()) == getattr(compared.totaux, flux)
        assert (changes["variation_eur"] > 0).any() and (changes["variation_eur"] < 0).any()
    assert "C13Z" in set(compared.evolution.variations["exportations"]["code"])


@pytest.mark.parametrize("key", EVOLUTION_KEYS)
def test_charts_with_the_previous_year_validate_and_stay_within_600_px(compared_charts,
                                                                        compared_scenes, key):
    spec = compared_charts[key].to_dict(validate=True)
    assert vega_lite_schema_errors(spec) == []
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "Orne (61), 2024" in spec["title"]["text"]
    assert spec["vconcat"][0]["title"]["text"] == ["Source : DGDDI, 2024"]
    assert compared_scenes[key]["width"] <= style.MAX_WIDTH


@pytest.mark.parametrize("flux", ["exportations", "importations"])
def test_changes_chart_draws_the_largest_changes_green_up_red_down(compared, compared_scenes,
                                                                   flux):
    scene = compared_scenes[f"evolution_{flux}"]
    changes = compared.evolution.variations[flux]
    shown = changes[changes["variation_eur"] != 0].head(Rules().produits_exposition)
    bars = items(scene, "barres")
    assert len(bars) == len(shown) == Rules().produits_exposition
    assert len(items(scene, "valeurs")) == len(shown)
    zero_x = evolution_charts.PLOT_WIDTH / 2  # the domain is symmetric around 0
    # bars top down in the order of the changes, each on its side of zero, in its colour
    assert [round(b["y"], 3) for b in bars] == sorted(round(b["y"], 3) for b in bars)
    by_y = sorted(bars, key=lambda b: b["y"])
    for bar, change in zip(by_y, shown["variation_eur"]):
        if change > 0:
            assert bar["fill"] == style.POSITIVE and bar["x"] == pytest.approx(zero_x, abs=0.01)
        else:
            assert bar["fill"] == style.NEGATIVE
            assert bar["x"] + bar["width"] == pytest.approx(zero_x, abs=0.01)
    # bar lengths proportional to the changes in euros
    ratios = [b["width"] / abs(c) for b, c in zip(by_y, shown["variation_eur"])]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-3)


@pytest.mark.parametrize("flux", ["exportations", "importations"])
def test_changes_chart_labels_say_the_change_in_french(compared, compared_scenes, flux):
    scene = compared_scenes[f"evolution_{flux}"]
    changes = compared.evolution.variations[flux]
    shown = changes[changes["variation_eur"] != 0].head(Rules().produits_exposition)
    labels = [i["text"] for i in sorted(items(scene, "valeurs"), key=lambda i: i["y"])]
    unit = charts.common_unit(shown["variation_eur"])
    for label, row in zip(labels, shown.itertuples()):
        amount, _, change = label.partition(" (")
        assert SIGNED_AMOUNT.fullmatch(amount), label
        assert SIGNED_CHANGE.fullmatch(f"({change}"), label
        assert amount == charts.format_signed_eur(row.variation_eur, unit)
        if row.valeur_precedente == 0:
            assert change == "–)"  # new this year: no relative change
    assert (f"Variation depuis {PREVIOUS_YEAR} des {len(shown)} produits dont les {flux} ont "
            "le plus changé") in all_texts(scene)  # the subtitle counts the bars drawn


def test_changes_chart_without_any_change_says_so():
    still = pd.DataFrame({"code": ["C29A"], "libelle": ["Produits de l'industrie automobile"],
                          "valeur": [5_000_000], "valeur_precedente": [5_000_000],
                          "variation_eur": [0], "variation": [0.0]})
    scene = scene_of(evolution_charts.changes_chart(still, ChartContext("Orne (61)", 2024),
                                   words(annee="Valeur 2024", annee_precedente="Valeur 2023")))
    assert items(scene, "barres") == []
    assert "Rien à montrer." in all_texts(scene)


def test_partners_with_the_previous_year_draw_one_tick_per_bar_at_last_year_s_level(
        compared, compared_scenes):
    scene = compared_scenes["partenaires"]
    partners = compared.partenaires
    history = compared.evolution.partenaires
    bars, ticks = items(scene, "barres"), items(scene, "annee_precedente")
    assert len(bars) == len(ticks) == 2 * len(partners)
    exports = [b for b in bars if b["fill"] == style.EXPORTS]
    imports = [b for b in bars if b["fill"] == style.IMPORTS]
    zero = min(b["x"] for b in exports)
    scale = max(b["width"] for b in exports) / partners["exportations"].max()  # px per euro
    by_row = lambda marks: sorted(marks, key=lambda m: m["y"])  # noqa: E731
    expected_exports = dict(zip(history["pays"], history["exportations_precedent"]))
    expected_imports = dict(zip(history["pays"], history["importations_precedent"]))
    tick_centres = sorted((t["y"] + t.get("height", 0) / 2, t["x"] + t.get("width", 0) / 2)
                          for t in ticks)
    rows = list(zip(tick_centres[0::2], tick_centres[1::2]))
    assert len(rows) == len(partners)
    for (left, right), code in zip(rows, partners["pays"]):
        (_, x1), (_, x2) = left, right
        low, high = sorted([x1, x2])
        assert high == pytest.approx(zero + expected_exports[code] * scale, abs=1.5)
        assert low == pytest.approx(zero - expected_imports[code] * scale, abs=1.5)
    # last year's bars and this year's share the scale: this year's exports add up
    assert sum(b["width"] for b in exports) == pytest.approx(
        partners["exportations"].sum() * scale, rel=1e-3)
    assert sum(b["width"] for b in imports) == pytest.approx(
        partners["importations"].sum() * scale, rel=1e-3)


def test_partners_with_the_previous_year_say_it_in_french(compared, compared_charts,
                                                          compared_scenes):
    spec = json.dumps(compared_charts["partenaires"].to_dict(), ensure_ascii=False)
    assert f"Trait noir : le niveau de {PREVIOUS_YEAR}".replace(" :", f"{NBSP}:") in spec
    assert f"Exportations {PREVIOUS_YEAR}" in spec and f"Importations {PREVIOUS_YEAR}" in spec
    first, before = compared.partenaires.iloc[0], compared.evolution.partenaires.iloc[0]
    unit = charts.partners_unit(compared.partenaires)
    assert format_eur(before["exportations_precedent"], unit) in spec  # in the tooltip
    values = [i["text"] for i in items(compared_scenes["partenaires"], "valeurs")]
    assert charts.bar_value_text(first["exportations"], unit) in values
    assert all(re.fullmatch(r"\d{1,3}(?:\u202f\d{3})*,\d", v) for v in values)
    # each value label lies beyond both its bar and last year's tick
    labels = items(compared_scenes["partenaires"], "valeurs")
    ticks = items(compared_scenes["partenaires"], "annee_precedente")
    zero = min(b["x"] for b in items(compared_scenes["partenaires"], "barres")
               if b["fill"] == style.EXPORTS)
    for label in labels:
        row = [t for t in ticks if abs(t["y"] + t.get("height", 0) / 2 - label["y"]) < 1]
        same_side = [t for t in row if (t["x"] >= zero) == (label["align"] == "left")]
        assert same_side
        tick_x = same_side[0]["x"] + same_side[0].get("width", 0) / 2
        if label["align"] == "left":
            assert label["x"] >= tick_x - 0.01
        else:
            assert label["x"] <= tick_x + 0.01


# --------------------------------------------------------------------------- tables


def fiche_tables(fiche: Fiche) -> dict[str, pd.DataFrame]:
    """Every table of a fiche, through the figure registry."""
    return {key: rendered.table for key, rendered in figures.render_all(fiche).items()}


def test_fiche_tables_have_the_chart_keys_and_french_headers(fiche):
    result = fiche_tables(fiche)
    assert list(result) == KEYS
    assert list(result["partenaires"].columns) == [
        "Pays", "Code", "Libellé DGDDI", "Importations", "Exportations", "Solde"]
    assert list(result["produits_exportations"].columns) == [
        "Code", "Produit", "Valeur", "Part du total"]
    assert list(result["flux_exportations"].columns)[:2] == ["Produit", "Pays de destination"]
    assert list(result["flux_importations"].columns)[:2] == ["Pays d'origine", "Produit"]


def test_tables_keep_every_row_with_french_values(fiche):
    result = fiche_tables(fiche)
    partners = fiche.partenaires
    assert len(result["partenaires"]) == len(partners)
    first = result["partenaires"].iloc[0]
    assert first["Importations"] == format_eur(partners.iloc[0]["importations"], "M€")
    assert first["Solde"] == charts.format_signed_eur(partners.iloc[0]["solde"], "M€")
    products = result["produits_importations"]
    assert len(products) == len(fiche.produits["importations"])
    assert products.iloc[0]["Part du total"] == format_percent(
        fiche.produits["importations"].iloc[0]["part"])
    flows = result["flux_exportations"]
    assert len(flows) == len(fiche.flux["exportations"])
    assert (flows["Flux principal (en rouge)"] == "oui").sum() == 5
    assert all(re.fullmatch(r"[\d\u202f]+,\d\u00a0(M|k)?€", v) for v in flows["Valeur"])


def test_tables_write_to_csv_in_utf8(tmp_path, fiche):
    path = tmp_path / "partenaires.csv"
    tables.partners_table(fiche.partenaires).to_csv(path, index=False, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "Pays,Code,Libellé DGDDI,Importations,Exportations,Solde"
    assert MINUS in text and NNBSP in text


# --------------------------------------------------------------------------- snapshots


def normalise(spec: dict) -> dict:
    """Spec without the parts that change with the Altair version."""
    spec = dict(spec)
    spec.pop("$schema", None)
    return spec


@pytest.mark.parametrize("key", PORTRAIT)
def test_spec_snapshot(fiche_charts_real, key):
    path = SNAPSHOTS / f"{key}.json"
    spec = normalise(fiche_charts_real[key].to_dict())
    text = json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"instantané absent : {path} (TRADEBOOK_UPDATE_SNAPSHOTS=1 pour le créer)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"la spécification de {key} a changé ; si c'est voulu, régénérez les instantanés "
        "avec TRADEBOOK_UPDATE_SNAPSHOTS=1")


# --------------------------------------------------------------------------- style


def test_tile_text_is_readable_on_every_shade():
    """WCAG AA: labels on treemap tiles contrast at least 4.5:1 with the fill."""
    fills = [*style.IMPORT_SHADES, *style.EXPORT_SHADES, style.OTHERS_SHADE]
    for fill in fills:
        assert style.contrast_ratio(fill, style.text_color_on(fill)) >= 4.5, fill
    assert style.text_color_on("#000000") == style.WHITE
    assert style.text_color_on("#ffffff") == style.TEXT


def test_source_lines():
    assert style.source_lines(2024) == ["Source : DGDDI, 2024"]
    assert style.source_lines(2025, donnees_fictives=True, annee_partielle=True) == [
        "Source : DGDDI, 2025 (année partielle)", style.FICTITIOUS_NOTE]
    assert style.source_line(2024, True) == f"Source : DGDDI, 2024. {style.FICTITIOUS_NOTE}"


def test_theme_is_registered_and_enabled_by_charts():
    assert alt.theme.active == style.THEME_NAME
    assert style.THEME_NAME in alt.theme.names()
    spec = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(x="a:Q").to_dict()
    assert spec["config"]["locale"]["number"]["minus"] == MINUS
