"""The figure registry and the texts: one entry per figure, texts that read true.

- the registry is complete and consistent with ``data/textes.yml``;
- a throwaway figure registered in a fixture appears in the page, the CSV export
  and the images, with nothing else edited (the guide's recipe);
- the texts file is validated when loaded, and each error names the text;
- reading keys and subtitles describe what is drawn, for small zones too
  (Mayotte, Corse, a zone with a single partner);
- no amount shows as « 0,0 M€ », no non-zero share as « 0,0 % »;
- an empty figure reads as clean French: no « .. », « : . » or « 0 produit ».
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest

from tradebook import charts, fiche as fiche_module, figures, nomenclatures, paths, render
from tradebook import report
from tradebook.sitecheck import EMPTY_PLACEHOLDER
from tradebook import texts as texts_module
from tradebook.charts import ChartContext, ChartWords
from tradebook.indicators import Fiche, sums_by
from tradebook.texts import Rules, TextError, TextSchema, Texts, agree

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def prepared():
    from tradebook.prepare import ensure_prepared

    return ensure_prepared(paths.SAMPLE_ZIP, 2024)


def page_of(prepared, code: str) -> report.Page:
    return report.load(code, 2024, str(prepared.path))


def page_text(page: report.Page) -> str:
    """Everything a page shows as text (HTML of every section, chart specs)."""
    html = page.introduction_html() + "".join(page.section_html(s)
                                              for s in figures.sections(page.level))
    return html + json.dumps(list(page.specs.values()), ensure_ascii=False)


# --------------------------------------------------------------------------- registry


def test_every_figure_has_its_texts_and_a_known_section():
    texts = figures.texts()
    sections = figures.sections()
    keys = [e.key for e in figures.REGISTRY]
    assert len(keys) == len(set(keys))
    for entry in figures.REGISTRY:
        assert entry.section in sections, entry.key
    for figure in figures.figures():
        for name in figures.FIGURE_TEXTS:
            assert texts.has(figure.texts_key(name)), (figure.key, name)


def test_sections_follow_the_texts_file_order():
    assert figures.sections("departement") == ["balance", "produits", "exportations",
                                               "importations", "evolution", "exposition",
                                               "methode"]


# --------------------------------------------------------------------------- a throwaway figure


def concentration(fiche: Fiche) -> pd.DataFrame:
    """A toy indicator: each export partner's share of the exports."""
    sums = sums_by(fiche.rows, "exportations", "pays")
    total = int(sums.sum())
    return pd.DataFrame({"pays": sums.index, "valeur": sums.to_numpy(),
                         "part": sums.to_numpy() / total if total else 0.0})


def concentration_chart(data: pd.DataFrame, ctx: ChartContext, words: ChartWords):
    import altair as alt

    body = alt.Chart(data).mark_bar().encode(x="valeur:Q", y="pays:N")
    return charts._framed(body, ctx, words)


THROWAWAY_TEXTS = """
  concentration:
    titre: Concentration des clients
    sous_titre: ["{n_clients:# client|# clients}"]
    cle: ["Le premier client reçoit {premiere_part} des exportations {de_zone}."]
    resume: "Données du graphique : concentration des clients {de_zone}"
    description: "Barres des {n_clients:# client|# clients}."
    vide: Aucun client.
"""

THROWAWAY = figures.Figure(
    key="concentration", section="balance", data=concentration, chart=concentration_chart,
    table=lambda data: data.rename(columns={"pays": "Pays"}),
    csv=lambda data, fiche: data.rename(columns={"valeur": "valeur_eur"}),
    variables=lambda data, fiche: {
        "n_clients": len(data),
        "premiere_part": fiche_module.format_percent(data["part"].max() if len(data) else 0)},
    names=frozenset({"n_clients", "premiere_part"}),
    empty=lambda data: data.empty,
)


@pytest.fixture
def throwaway(tmp_path, monkeypatch):
    """The figure registered, and its text block added to a copy of the texts."""
    text = texts_module.TEXTS_FILE.read_text(encoding="utf-8")
    text = text.replace("\nfigures:\n", "\nfigures:\n" + THROWAWAY_TEXTS.lstrip("\n"), 1)
    path = tmp_path / "textes.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(texts_module, "TEXTS_FILE", path)
    with figures.registered(THROWAWAY, before="produits_exportations"):
        yield


def test_a_new_figure_is_one_entry_one_indicator_one_text_block(throwaway, prepared, tmp_path):
    page = page_of(prepared, "61")
    html = page.section_html("balance")
    assert html.count('class="tradebook-chart"') == 2  # partners, then the new figure
    assert "Concentration des clients" in json.dumps(page.specs["concentration"],
                                                     ensure_ascii=False)
    assert f"Le premier client reçoit" in html
    assert "Données du graphique : concentration des clients de l'Orne".replace(
        " :", f"{NBSP}:") in html
    written = fiche_module.write_csv(page.fiche, tmp_path / "csv")
    assert tmp_path / "csv" / "departement_61_2024_concentration.csv" in written
    table = pd.read_csv(tmp_path / "csv" / "departement_61_2024_concentration.csv", sep=";",
                        encoding="utf-8-sig", decimal=",")
    assert table["valeur_eur"].sum() == page.fiche.totaux.exportations  # nothing lost
    images = fiche_module.write_images(page.fiche, tmp_path / "img")
    assert tmp_path / "img" / "departement_61_2024_concentration.svg" in images
    assert "Concentration des clients" in (tmp_path / "img" /
                                          "departement_61_2024_concentration.svg").read_text()


GUIDE = paths.BOOK / "guide-analyste.md"
RECIPE_BLOCK = re.compile(r"^(?P<indent> *)```(?P<lang>python|yaml)\n(?P<body>.*?)^(?P=indent)```",
                          re.M | re.S)


def recipe_blocks() -> list[tuple[str, str]]:
    """The code blocks of the guide's « Ajouter un indicateur », as (language, code)."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Ajouter un indicateur"):]
    section = section[:section.index("\n## ", 1)]
    return [(m["lang"], "".join(line.removeprefix(m["indent"])  # the list item's indent only
                                for line in m["body"].splitlines(keepends=True)))
            for m in RECIPE_BLOCK.finditer(section)]


def test_the_guides_recipe_works_as_written(tmp_path, monkeypatch, prepared):
    """Every block of the recipe pasted where it says (its first line names the file):
    the new figure shows in the page, the CSV export and the images, and the
    recipe's own test passes."""
    import test_indicators

    from tradebook import indicators, tables

    modules = {"tradebook/indicators.py": indicators, "tradebook/charts.py": charts,
               "tradebook/tables.py": tables, "tests/test_indicators.py": test_indicators}
    blocks = recipe_blocks()
    python = [code for lang, code in blocks if lang == "python"]
    yaml_blocks = [code for lang, code in blocks if lang == "yaml"]
    assert len(yaml_blocks) == 1
    files = [code.splitlines()[0] for code in python]
    assert files == ["# tradebook/indicators.py", "# tradebook/charts.py",
                     "# tradebook/tables.py", "# tradebook/figures.py",
                     "# tradebook/figures.py", "# tests/test_indicators.py"]
    figures_namespace = dict(vars(figures))
    entries, tests = [], []
    for code in python:
        target = code.splitlines()[0].removeprefix("# ")
        if target == "tradebook/figures.py":
            body = "\n".join(code.splitlines()[1:])
            if body.lstrip().startswith("Figure("):
                entries.extend(eval(f"({body}\n)", figures_namespace))  # "Figure(...),"
            else:
                exec(body, figures_namespace)  # the import line
            continue
        module = modules[target]
        namespace = dict(vars(module))
        exec(code, namespace)
        for name, value in namespace.items():
            if name not in vars(module):
                monkeypatch.setattr(module, name, value, raising=False)
                if name.startswith("test_"):
                    tests.append(value)
    assert [e.key for e in entries] == ["concentration"] and len(tests) == 1
    tests[0]()  # the recipe's test passes on its own indicator

    text = texts_module.TEXTS_FILE.read_text(encoding="utf-8")
    text = text.replace("\nfigures:\n", "\nfigures:\n" + yaml_blocks[0], 1)
    path = tmp_path / "textes.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(texts_module, "TEXTS_FILE", path)
    with figures.registered(*entries, before="produits_exportations"):
        page = page_of(prepared, "61")
        html = page.section_html("balance")
        assert html.count('class="tradebook-chart"') == 2  # partners, then the new figure
        assert "Le premier client reçoit" in html
        written = fiche_module.write_csv(page.fiche, tmp_path / "csv")
        csv_file = tmp_path / "csv" / "departement_61_2024_concentration.csv"
        assert csv_file in written
        table = pd.read_csv(csv_file, sep=";", encoding="utf-8-sig", decimal=",")
        assert table["valeur_eur"].sum() == page.fiche.totaux.exportations  # nothing lost
        images = fiche_module.write_images(page.fiche, tmp_path / "img")
        svg = tmp_path / "img" / "departement_61_2024_concentration.svg"
        assert svg in images and "Concentration des clients" in svg.read_text()
        # the key added to test_charts.KEYS, as the recipe says: the checks of every chart
        import test_charts

        charts_of_orne = test_charts.fiche_charts(test_charts.realistic_fiche())
        test_charts.test_spec_validates_against_vega_lite_schema(charts_of_orne, "concentration")
        test_charts.test_chart_has_french_locale_title_subtitle_and_source(charts_of_orne,
                                                                           "concentration")
        scene = test_charts.scene_of(charts_of_orne["concentration"])
        test_charts.test_rendered_width_is_at_most_600_px({"concentration": scene},
                                                          "concentration")
        assert len(test_charts.items(scene, "barres")) == Rules().partenaires
        assert any(re.fullmatch(r"\d+,\d+\u00a0%", t) for t in test_charts.all_texts(scene))


def test_a_figure_without_its_text_block_is_refused_at_load(monkeypatch):
    with figures.registered(THROWAWAY):
        with pytest.raises(TextError, match="texte manquant « figures.concentration"):
            figures.texts()
    assert figures.texts().has("figures.partenaires.titre")  # the registry is restored


# --------------------------------------------------------------------------- texts validation


def texts_of(body: str) -> Texts:
    import yaml

    rules = {f.name: getattr(Rules(), f.name) for f in fields(Rules)}
    data = yaml.safe_load(body) or {}
    data["regles"] = rules
    return Texts(data, "essai.yml")


SCHEMA = TextSchema({"page.total": frozenset({"valeur", "n"})})


def test_unknown_text_is_an_error_naming_it():
    with pytest.raises(TextError, match="texte inconnu « page.totaux »"):
        texts_of("page: {totaux: 'x'}").validate(SCHEMA)


def test_placeholder_the_code_does_not_provide_is_an_error_naming_the_text():
    with pytest.raises(TextError, match=r"texte « page.total » : la variable « montant »"):
        texts_of("page: {total: 'Total : {montant}'}").validate(SCHEMA)


def test_condition_on_an_unknown_variable_is_an_error():
    with pytest.raises(TextError, match="« autre »"):
        texts_of("page:\n  total:\n    - {texte: 'a', si: autre}\n").validate(SCHEMA)


def test_malformed_count_form_and_braces_are_errors():
    with pytest.raises(TextError, match="forme « {n:produits} » invalide"):
        texts_of("page: {total: '{n:produits}'}")
    with pytest.raises(TextError, match="accolades mal formées"):
        texts_of("page: {total: 'Total {valeur'}")


def test_missing_value_at_render_time_names_the_text():
    texts = texts_of("page: {total: 'Total : {valeur}'}").validate(SCHEMA)
    with pytest.raises(TextError, match="« page.total » : valeur\\(s\\) manquante\\(s\\) pour valeur"):
        texts.text("page.total", {})


def test_bad_rules_are_refused():
    import yaml

    rules = {f.name: getattr(Rules(), f.name) for f in fields(Rules)}
    with pytest.raises(TextError, match="règle « liens_rouges »"):
        Texts({"regles": {**rules, "liens_rouges": -1}})
    with pytest.raises(TextError, match="règle « partenaires »"):
        Texts({"regles": {**rules, "partenaires": 2.5}})
    with pytest.raises(TextError, match="manquantes \\['tuiles_max'\\]"):
        Texts({"regles": {k: v for k, v in rules.items() if k != "tuiles_max"}})


def test_the_shipped_texts_are_valid_and_a_broken_copy_is_refused(tmp_path, monkeypatch):
    assert figures.texts().rules.liens_rouges == 5
    broken = tmp_path / "textes.yml"
    shutil.copy(texts_module.TEXTS_FILE, broken)
    broken.write_text(broken.read_text(encoding="utf-8").replace("{premier_solde}",
                                                                 "{premier_soldes}"),
                      encoding="utf-8")
    monkeypatch.setattr(texts_module, "TEXTS_FILE", broken)
    with pytest.raises(TextError, match="figures.partenaires.cle.*premier_soldes"):
        figures.texts()


@pytest.mark.parametrize("count, forms, expected", [
    (0, "# produit|# produits", "0 produit"), (1, "# produit|# produits", "1 produit"),
    (2, "# produit|# produits", "2 produits"), (1, "le trimestre|les trimestres", "le trimestre"),
    (0, "aucun flux|le flux|les # flux", "aucun flux"), (3, "aucun|un|les # flux", "les 3 flux"),
    (1200, "# pays|# pays", "1\u202f200 pays"),
])
def test_counts_agree_in_number(count, forms, expected):
    assert agree(count, forms) == expected


def test_conditional_sentences():
    texts = texts_of("page:\n  total:\n    - {texte: 'un', si: n}\n    - {texte: 'aucun', sauf: n}\n"
                     ).validate(SCHEMA)
    assert texts.sentences("page.total", {"n": 2, "valeur": ""}) == ["un"]
    assert texts.sentences("page.total", {"n": 0, "valeur": ""}) == ["aucun"]


# --------------------------------------------------------------------------- texts read true


def red_count(links: pd.DataFrame) -> int:
    return int(links["rouge"].sum())


@pytest.mark.parametrize("code", ["976", "20", "61", "75"])
def test_sankey_texts_describe_what_is_drawn(prepared, code):
    page = page_of(prepared, code)
    for flux in ("exportations", "importations"):
        rendered = page.rendered[f"flux_{flux}"]
        links = rendered.data.links
        if links.empty:
            continue
        subtitle = " ".join(rendered.words.subtitle)
        key = " ".join(rendered.reading_key)
        n_red = red_count(links)
        if n_red > 1:
            assert f"les {n_red} principaux flux" in subtitle
            assert f"Les {n_red} flux en rouge" in key
        elif n_red == 1:
            assert "le principal flux" in subtitle and "Le flux en rouge" in key
        has_others = "AUTRES" in set(links["produit"])
        assert ("regroupés dans" in key or "regroupé dans" in key) == (
            has_others or "AUTRES" in set(links["pays"])), (code, flux, key)
        products = {c for c in links["produit"] if c != "AUTRES"}
        if not has_others:
            expected = ("Le seul produit" if len(products) == 1
                        else f"Les {len(products)} produits")
            assert expected in key, (code, flux, key)


def test_mayotte_reads_true(prepared):
    page = page_of(prepared, "976")
    exports = page.rendered["flux_exportations"]
    n_red = red_count(exports.data.links)
    own = " ".join([*exports.words.subtitle, *exports.reading_key]).lower()
    assert n_red < 5 and f"les {n_red} flux en rouge" in own and "les 5 " not in own
    n_products = len({c for c in exports.data.links["produit"] if c != "AUTRES"})
    assert f"{n_products} produit" in " ".join(exports.words.description.split())
    assert "se compose de ce seul département" in page.section_html("exportations")


class OnePartner:
    """Prepared data where the Lozère exports one product to one country, nothing else."""

    annee, donnees_fictives, annee_partielle, trimestres = 2024, False, False, [1, 2, 3, 4]
    flux_absents, anomalies = (), []
    previous, previous_reason = None, "Pas d'année précédente dans ce test."

    def rows(self, zone):
        return pd.DataFrame({"flux": ["E"], "a129": ["C10E"], "cpf4": ["1051"], "pays": ["BE"],
                             "valeur": [350_000], "masse": [10]})

    def totals(self):
        return pd.DataFrame({
            "niveau": ["departement", "departement", "region", "region", "france", "france"],
            "zone": ["48", "48", "76", "76", "FR", "FR"], "flux": ["E", "I"] * 3,
            "valeur": [350_000, 0, 7_000_000, 9_000_000, 70_000_000, 90_000_000]})

    def country_totals(self):
        return pd.DataFrame({"niveau": ["departement"], "zone": ["48"], "flux": ["E"],
                             "pays": ["BE"], "valeur": [350_000]})

    def labels(self, table):
        return {"a129": {"C10E": "Produits laitiers et glaces"}, "pays": {"BE": "Belgique"},
                "cpf4": {}}[table]


def test_one_partner_zone_says_so():
    from tradebook.indicators import compute_fiche

    zone = nomenclatures.resolve_zone(departement="lozère")
    fiche = compute_fiche(OnePartner(), zone)
    partners = figures.render(figures.figure("partenaires"), fiche)
    assert partners.words.subtitle[0] == f"1 pays{NBSP}: tous les partenaires de la Lozère"
    assert "(1 pays ici)" in " ".join(partners.reading_key)
    flows = figures.render(figures.figure("flux_exportations"), fiche)
    key = " ".join(flows.reading_key)
    assert "Le seul produit exporté figure dans le diagramme." in key
    assert "Le seul pays client figure dans le diagramme." in key
    assert "Le flux en rouge est le plus important" in key and "Autres" not in key
    assert flows.words.subtitle[1] == ("En rouge, le principal flux entre un produit et un pays "
                                       "nommés")
    imports = figures.render(figures.figure("flux_importations"), fiche)
    assert imports.reading_key == ["Aucune importation n'est enregistrée en 2024."]
    assert " ".join(imports.words.subtitle).startswith(f"Importations{NBSP}: 0{NBSP}€")


def figure_texts(rendered: figures.Rendered, spec: dict) -> list[str]:
    """What a figure says: the screen-reader description of its chart, its subtitle,
    reading key and table summary."""
    return [spec.get("description", ""), *rendered.words.subtitle, *rendered.reading_key,
            rendered.summary]


@pytest.mark.parametrize("code", ["05", "48", "976"])
def test_empty_figures_read_as_one_clean_french_sentence(prepared, code):
    """Hautes-Alpes and Mayotte export nothing to the US, Lozère has no import dependence:
    the description of such a chart is its title and its « nothing » message."""
    page = page_of(prepared, code)
    empty = [key for key, r in page.rendered.items() if r.values["vide"]]
    assert empty, "la zone devait avoir au moins une figure vide"
    for key, rendered in page.rendered.items():
        for text in figure_texts(rendered, page.specs[key]):
            assert not EMPTY_PLACEHOLDER.search(text), (code, key, text)
    us = page.specs["etats_unis"]["description"] if "etats_unis" in empty else None
    if us is not None:
        assert us.endswith("2024. Aucune exportation vers les États-Unis.")


def test_a_nearly_empty_zone_reads_as_clean_french():
    """Every figure of a zone with one export and no import, empty ones included."""
    from tradebook.indicators import compute_fiche

    fiche = compute_fiche(OnePartner(), nomenclatures.resolve_zone(departement="lozère"))
    rendered = figures.render_all(fiche)
    assert sum(r.values["vide"] for r in rendered.values()) >= 3
    for key, r in rendered.items():
        for text in figure_texts(r, render.chart_spec(r.chart)):
            assert not EMPTY_PLACEHOLDER.search(text), (key, text)


@pytest.mark.parametrize("code", ["20", "976", "48", "23"])
def test_no_amount_shows_as_zero_millions_and_no_share_as_zero(prepared, code):
    text = page_text(page_of(prepared, code))
    assert not re.search(r"(?<![\d,])0,0\u00a0M€", text), code
    for match in re.finditer(r"(?<![\d,])(0,0+)\u00a0%", text):
        raise AssertionError(f"{code}: part nulle affichée « {match.group(0)} »")


def test_country_names_are_the_ones_readers_expect(prepared):
    page = page_of(prepared, "75")
    names = set(page.fiche.labels["pays"].values())
    assert {"États-Unis", "Émirats arabes unis", "Tchéquie", "Corée du Sud",
            "Hong Kong"} <= names
    assert "Etats-Unis" not in names
    assert page.fiche.labels["pays"]["XC"] == "Ceuta"  # DGDDI's label where CLDR has none
    table = page.rendered["partenaires"].table
    assert list(table.columns)[:3] == ["Pays", "Code", "Libellé DGDDI"]


# --------------------------------------------------------------------------- caveats


@pytest.mark.parametrize("code, words", [
    ("75", "gaz naturel et d'électricité"), ("2B", "Haute-Corse (2B)"),
    ("971", "France métropolitaine"), ("976", "France métropolitaine"), ("13", "hydrocarbures"),
])
def test_page_caveats_come_from_the_table(prepared, code, words):
    intro = page_of(prepared, code).introduction_html()
    assert 'class="admonition note tradebook-avertissement"' in intro and words in intro


def test_pages_without_a_caveat_have_no_box(prepared):
    assert "tradebook-avertissement" not in page_of(prepared, "61").introduction_html()


def test_a_malformed_caveat_row_names_its_line(tmp_path):
    path = tmp_path / "avertissements.csv"
    path.write_text("zones,texte\ndepartement:75,Texte\n75,Sans type\n", encoding="utf-8")
    with pytest.raises(TextError, match="avertissements.csv, ligne 3"):
        texts_module.read_caveats(path)


# --------------------------------------------------------------------------- what every page says about its data


def page_from(folder: Path, tmp_path, **options) -> report.Page:
    """The Orne's page on prepared fixture data."""
    from tradebook.prepare import prepare

    prepared = prepare(folder, 2024, tmp_path / "prepare", **options)
    return report.load("61", 2024, str(prepared.path))


def test_a_partial_year_page_names_its_quarters(tmp_path):
    from dgddi_fixtures import rows as fixture_rows, write_source

    quarters = [(2024, 1), (2024, 2), (2024, 3)]
    folder = write_source(tmp_path / "brut", exports=fixture_rows("E", quarters),
                          imports=fixture_rows("I", [*quarters, (2024, 4)]))
    page = page_from(folder, tmp_path, allow_partial_year=True)
    assert page.fiche.trimestres == (1, 2, 3)  # the same quarters for both flux
    intro = page.introduction_html()
    assert "Année partielle" in intro and "les trimestres T1, T2 et T3" in intro


def test_a_page_says_a_flux_is_missing(tmp_path):
    from dgddi_fixtures import EXPORTS, rows as fixture_rows, write_lines

    folder = tmp_path / "brut"
    write_lines(folder / EXPORTS, fixture_rows("E"))
    page = page_from(folder, tmp_path, missing_flux="importations")
    intro = page.introduction_html()
    assert "tradebook-flux-absent" in intro
    assert "Les importations ne figurent pas dans les données fournies" in intro


def test_the_method_section_lists_the_anomalies_of_the_page(tmp_path):
    from dgddi_fixtures import row, rows as fixture_rows, write_source

    exports = fixture_rows("E") + [row("E", 2, 2024, "61", "05", "C29A", "9999", "BE", 5_000, 1),
                                   row("E", 2, 2024, "14", "05", "C29A", "2910", "ZZ", 7, 1)]
    folder = write_source(tmp_path / "brut", exports=exports)
    page = page_from(folder, tmp_path)
    text = page.section_html("methode")
    assert "tradebook-anomalies" in text and "9999" in text and "5,0" in text
    assert "ZZ" not in text  # that unknown country is Calvados's, not the Orne's


def test_a_region_s_departements_chart_is_in_the_order_its_subtitle_says(prepared):
    """« classés par échanges cumulés »: Normandie's départements by exports plus
    imports, largest first (they came in code order); ties by code; nothing dropped."""
    page = report.load(region="28", annee=2024, donnees=str(prepared.path))
    areas = page.fiche.departements
    shown = figures.areas_as_partners(areas)
    assert list(shown["libelle"]) == ["Seine-Maritime", "Eure", "Calvados", "Manche", "Orne"]
    assert shown["exportations"].sum() == areas["exportations"].sum()
    tied = pd.DataFrame({"code": ["50", "14"], "nom": ["Manche", "Calvados"],
                         "exportations": [3, 2], "importations": [1, 2], "solde": [2, 0]})
    assert list(figures.areas_as_partners(tied)["pays"]) == ["14", "50"]

    def sorts(node):
        if isinstance(node, dict):
            if isinstance(node.get("sort"), list):
                yield node["sort"]
            for value in node.values():
                yield from sorts(value)
        elif isinstance(node, list):
            for value in node:
                yield from sorts(value)

    drawn = {tuple(order) for order in sorts(page.specs["departements"])}
    assert drawn == {("Seine-Maritime", "Eure", "Calvados", "Manche", "Orne")}


def test_a_departement_exporting_nothing_to_the_us_has_no_rank_on_show(prepared):
    """As on its page (« Aucune exportation … ne va aux États-Unis »), a département
    exporting nothing to the US has no rank on the national views: its place among
    the others at 0 % would be the order of the codes. The map still counts every
    département (« 25e sur 100 », as the pages say); the JSON and the CSV keep the
    contract's rank."""
    from tradebook import maps, tables
    from tradebook.exposure import us_ranking
    from tradebook.indicators import compute_fiche

    france = compute_fiche(prepared, nomenclatures.france_zone())
    areas = france.departements
    nothing = set(areas.loc[areas["page"] & (areas["etats_unis"] == 0), "code"])
    assert {"15", "23", "976"} <= nothing  # Cantal, Creuse, Mayotte in the sample
    shares = figures.map_tables(areas, "")["part_etats_unis"]
    unranked = set(areas.set_index("dgddi").loc[shares.loc[shares["rang"].isna(), "dgddi"],
                                                 "code"])
    assert unranked == nothing
    assert shares["rang"].max() == len(shares) - len(nothing)
    rows = {r["dgddi"]: r for r in maps.area_rows({"part_etats_unis": shares},
                                                  {"part_etats_unis": maps.classify(
                                                      shares["valeur"], maps.INDICATORS[
                                                          "part_etats_unis"])})}
    assert rows["9E"]["r_part_etats_unis"] == "–"
    assert rows["61"]["r_part_etats_unis"] == "25e sur 100"
    ranking = us_ranking(areas)
    shown = tables.us_ranking_table(ranking).set_index("Code")
    assert shown.loc["976", "Rang (part)"] == shown.loc["976", "Rang (valeur)"] == "–"
    assert shown.loc["61", "Rang (part)"] == "25"
    raw = figures.ranking_csv(ranking, france).set_index("code")
    assert raw.loc["976", "rang_part"] == 100
    key = " ".join(figures.render_all(france, "etats_unis")["classement_part_etats_unis"]
                   .reading_key)
    assert (f"{len(nothing)} départements n'exportent rien vers les États-Unis\u00a0: le "
            "tableau ne leur donne pas de rang (–).") in key


@pytest.mark.parametrize("code, key", [("61", "dependances"), ("976", "etats_unis")])
def test_an_empty_figure_is_one_sentence_on_the_page(prepared, code, key):
    """No chart card whose message the reading key then says again: the figure's
    title and its reading key, in one paragraph, as in the printable fiche."""
    page = page_of(prepared, code)
    rendered = page.rendered[key]
    assert rendered.values["vide"]
    html = page.section_html("exposition")
    note = (f'<p class="tradebook-vide"><strong>{rendered.words.title}{NBSP}:</strong> '
            f"{rendered.reading_key[0]}")
    assert note in html
    assert rendered.words.empty not in html.replace(rendered.reading_key[0], "")
    assert html.count('class="tradebook-chart"') == 2  # the two figures with something
