"""Assemble a :class:`tradebook.pdf.PdfDocument` from today's fiche, charts and
reading keys (used by tests/test_pdf.py and scripts/bench_pdf.py).

The page layer will own this assembly later; here it only has to give the PDF
engine real documents: the sections of a département's page, its five charts,
its region's and France's Sankey diagrams, the totals sentences.
"""

from __future__ import annotations

from typing import Callable

from tradebook import charts, nomenclatures, style
from tradebook.formatting import format_eur, format_share, format_signed_eur
from tradebook.indicators import Fiche, compute_fiche
from tradebook.nomenclatures import Departement, Zone
from tradebook.pdf import (PdfDocument, PdfFigure, PdfKeyFigure, PdfParagraph, PdfRun,
                           PdfSection, PdfSubheading)
from tradebook.report import capitalised, reading_key

TITLE = "Les indicateurs clés : commerce extérieur"
FLUX = ("exportations", "importations")
METHOD = (
    "Les échanges sont rattachés au département d'où part la marchandise (exportations) "
    "ou où elle arrive (importations), selon la logistique et non selon le lieu de "
    "production : les grands ports concentrent les hydrocarbures, et les importations de "
    "gaz naturel et d'électricité sont comptées à Paris par convention.",
    "Ce sont des données brutes de collecte (matériel militaire exclu, non-réponse non "
    "corrigée) : leurs sommes diffèrent des chiffres nationaux de référence. Les "
    "exportations sont valorisées FAB et les importations CAF. Depuis 2022, l'enquête "
    "EMEBI a remplacé la DEB pour les échanges avec l'Union européenne.",
    "Les produits suivent la nomenclature A129 ; les 10 premiers produits et les 10 premiers "
    "pays sont détaillés, les autres regroupés dans « Autres ».",
)

SvgOf = Callable[[charts.alt.TopLevelMixin], str]


def zone_label(zone: Zone) -> str:
    """« Orne (61) », « Normandie », « France »."""
    return f"{zone.nom} ({zone.code})" if zone.type == "departement" else zone.nom


SCALES = {"produits_exportations": 0.8, "produits_importations": 0.8}
COMPARISON_SCALE = 0.72


def figure_of(chart, sentences: list[str], svg_of: SvgOf = charts.render_svg,
              scale: float = 1.0) -> PdfFigure:
    """A chart as a PDF figure: its SVG, its ARIA description as alternative text."""
    alt = chart.description if isinstance(chart.description, str) else ""
    return PdfFigure(svg=svg_of(chart), alt=alt, caption=tuple(capitalised(sentences)),
                     scale=scale)


def totals_paragraph(fiche: Fiche, flux: str, region_alone: bool) -> PdfParagraph:
    """« Exportations du département en 2024 : **1 446,3 M€**, soit **3,7 %** … »."""
    totals = fiche.totaux
    runs = [PdfRun(f"{flux.capitalize()} en {fiche.annee} : "),
            PdfRun(format_eur(getattr(totals, flux)), bold=True)]
    shares = []
    region = getattr(totals, f"part_region_{flux}")
    france = getattr(totals, f"part_france_{flux}")
    if region is not None and not region_alone:
        shares.append((format_share(region), f" de la région {fiche.zone.region_nom}"))
    if france is not None:
        shares.append((format_share(france), " de la France"))
    for i, (share, words) in enumerate(shares):
        runs += [PdfRun(", soit " if i == 0 else " et "), PdfRun(share, bold=True),
                 PdfRun(words)]
    runs.append(PdfRun("."))
    if flux == "importations":
        runs += [PdfRun(" Solde commercial : "),
                 PdfRun(format_signed_eur(totals.solde), bold=True), PdfRun(".")]
    return PdfParagraph(tuple(runs), role="total")


_COMPARISONS: dict[tuple, PdfFigure] = {}


def _comparison(prepared, zone_type: str, code: str, key: str,
                svg_of: SvgOf) -> PdfFigure:
    """A region's or France's figure, built once for every département."""
    cache_key = (id(prepared), zone_type, code, key, svg_of)
    if cache_key not in _COMPARISONS:
        zone = (nomenclatures.france_zone() if zone_type == "france" else
                nomenclatures.region_zone(nomenclatures.region_by_code()[code]))
        fiche = compute_fiche(prepared, zone)
        _COMPARISONS[cache_key] = figure_of(charts.fiche_chart(fiche, key),
                                            reading_key(fiche, key), svg_of, COMPARISON_SCALE)
    return _COMPARISONS[cache_key]


def flux_section(prepared, fiche: Fiche, flux: str, own: PdfFigure,
                 svg_of: SvgOf) -> PdfSection:
    """« Exportations »: the total, the Sankey, the region's and France's Sankeys."""
    key = f"flux_{flux}"
    zone = fiche.zone
    areas = nomenclatures.departements_of(zone.region_code)
    alone = [d.code_dgddi for d in areas] == [zone.dgddi]
    blocks = [totals_paragraph(fiche, flux, alone), own,
              PdfSubheading(f"Pour comparaison : {flux} de la région {zone.region_nom}")]
    if alone:
        blocks.append(PdfParagraph.of(
            f"La région {zone.region_nom} se compose de ce seul département : son "
            "diagramme est celui présenté ci-dessus.", role="note"))
    else:
        blocks.append(_comparison(prepared, "region", zone.region_code, key, svg_of))
    blocks += [PdfSubheading(f"Pour comparaison : {flux} de la France"),
               _comparison(prepared, "france", "FR", key, svg_of)]
    return PdfSection(flux.capitalize(), tuple(blocks))


def key_figures(fiche: Fiche, region_alone: bool) -> tuple[PdfKeyFigure, ...]:
    """The cover's tiles: exports and imports with their shares, the balance."""
    tiles = []
    for flux, tone in (("exportations", "exports"), ("importations", "imports")):
        totals = fiche.totaux
        region = getattr(totals, f"part_region_{flux}")
        france = getattr(totals, f"part_france_{flux}")
        detail = (f"{format_share(france)} de la France" if region_alone or region is None
                  else f"{format_share(region)} de la région")
        tiles.append(PdfKeyFigure(flux.capitalize(), format_eur(getattr(totals, flux)),
                                  detail, tone))
    solde = fiche.totaux.solde
    tiles.append(PdfKeyFigure("Solde commercial", format_signed_eur(solde),
                              "exportations moins importations",
                              "negative" if solde < 0 else "positive"))
    return tuple(tiles)


def fiche_document(prepared, dep: Departement,
                   svg_of: SvgOf = charts.render_svg) -> PdfDocument:
    """The printable fiche of a département, from today's indicators and charts."""
    zone = nomenclatures.departement_zone(dep)
    fiche = compute_fiche(prepared, zone)
    built = charts.fiche_charts(fiche)
    fig = {key: figure_of(chart, reading_key(fiche, key), svg_of, SCALES.get(key, 1.0))
           for key, chart in built.items()}
    alone = [d.code_dgddi for d in nomenclatures.departements_of(dep.region)] == [dep.code_dgddi]
    comparison = "de la France" if alone else f"de la région {zone.region_nom} et de la France"
    intro = (f"Cette fiche décrit les échanges de marchandises {dep.de_nom} avec l'étranger en "
             f"{fiche.annee}, d'après les statistiques régionales et départementales de la "
             "DGDDI : ses principaux pays partenaires, les produits qu'il exporte et importe, "
             f"puis les flux qui relient produits et pays, comparés à ceux {comparison}. Les "
             "montants sont comptés au lieu de dédouanement, pas au lieu de production.")
    sections = (
        PdfSection("Balance commerciale territoriale", (fig["partenaires"],)),
        PdfSection("Principaux produits échangés", (
            PdfParagraph.of("Les produits exportés, puis les produits importés, en part de la "
                            "valeur totale."),
            fig["produits_exportations"], fig["produits_importations"])),
        *(flux_section(prepared, fiche, flux, fig[f"flux_{flux}"], svg_of) for flux in FLUX),
        PdfSection("Contexte et méthodologie", tuple(PdfParagraph.of(t) for t in METHOD)),
    )
    return PdfDocument(
        title=TITLE, zone_name=zone_label(zone), year=int(fiche.annee), intro=intro,
        sections=sections,
        source=style.source_line(fiche.annee, fiche.donnees_fictives, fiche.annee_partielle),
        fictitious=bool(fiche.donnees_fictives), partial_year=bool(fiche.annee_partielle),
        subtitle=f"Région {zone.region_nom}", key_figures=key_figures(fiche, alone),
        keywords=("commerce extérieur", "DGDDI", zone.nom, str(fiche.annee)),
    )
