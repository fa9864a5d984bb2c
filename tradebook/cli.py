"""Command line: ``python -m tradebook <commande>``, in French.

Each subcommand is a thin handler calling into its module; modules are imported
lazily so that ``--help`` answers at once. User errors (:class:`TradebookError`)
print their French message on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradebook.errors import InvalidDataError, TradebookError
from tradebook.formatting import format_number
from tradebook.paths import PREPARED, RAW, SAMPLE_SOURCES, SAMPLE_ZIP, TEMPLATE

DEFAULT_YEAR = 2024


class FrenchParser(argparse.ArgumentParser):
    """argparse with French section titles and exit status 2 on usage errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message: str):  # noqa: D102 - argparse hook
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {message}\n")


def default_sources() -> list[Path]:
    """The sample publications that exist, oldest first (the later one wins the
    quarters both hold): ``paths.SAMPLE_SOURCES``, or the single sample ZIP."""
    return [p for p in SAMPLE_SOURCES if p.exists()] or [SAMPLE_ZIP]


class _SourcesAction(argparse.Action):
    """``--donnees A B`` and ``--donnees A --donnees B`` both give ``[A, B]``; the first
    use replaces the default instead of extending it."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102
        current = getattr(namespace, self.dest, None)
        current = [] if current is None or current is self.default else list(current)
        setattr(namespace, self.dest, current + list(values))


def _flux_name(text: str) -> str:
    """argparse type of ``--flux-absent``: ``exportations``/``importations`` -> ``E``/``I``."""
    from tradebook.reading import flux_code

    try:
        return flux_code(text)
    except InvalidDataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads DGDDI data."""
    parser.add_argument(
        "--donnees", type=Path, nargs="+", action=_SourcesAction, default=default_sources(),
        metavar="CHEMIN",
        help="ZIP DGDDI, dossier des fichiers bruts ou dossier de données préparées ; "
             "plusieurs sources de la plus ancienne à la plus récente (la dernière qui contient "
             "un trimestre le fournit) ; défaut : l'échantillon fictif",
    )
    parser.add_argument("--annee", type=int, default=DEFAULT_YEAR, metavar="AAAA",
                        help=f"année civile à présenter (défaut : {DEFAULT_YEAR})")
    parser.add_argument("--skip-invalid", "--ignorer-invalides", action="store_true",
                        dest="skip_invalid",
                        help="écarter les lignes invalides (chacune est signalée) au lieu d'échouer")
    parser.add_argument("--allow-partial-year", "--annee-partielle", action="store_true",
                        dest="allow_partial_year",
                        help="accepter une année dont un trimestre manque : seuls les "
                             "trimestres communs aux deux flux sont gardés (pages marquées "
                             "« année partielle »)")
    parser.add_argument("--flux-absent", "--missing-flux", type=_flux_name, default=None,
                        dest="missing_flux", metavar="FLUX",
                        help="déclarer qu'un flux manque vraiment aux sources (exportations ou "
                             "importations) ; les pages le signalent")


def build_parser() -> argparse.ArgumentParser:
    """The full French command-line parser."""
    parser = FrenchParser(
        prog="python -m tradebook",
        description="Le commerce extérieur de la France, département par département "
                    "(données de la DGDDI) : téléchargement, préparation, fiches et livre.",
    )
    sub = parser.add_subparsers(dest="commande", metavar="COMMANDE", parser_class=FrenchParser,
                                title="commandes")
    sub.required = True

    fetch = sub.add_parser("fetch", help="télécharger le ZIP DGDDI (ou importer un ZIP téléchargé à la main)",
                           description="Télécharge le ZIP des statistiques régionales et départementales "
                                       "de la DGDDI, vérifie qu'il contient les deux fichiers de données "
                                       "et le place dans data/raw/.")
    source = fetch.add_mutually_exclusive_group()
    source.add_argument("--url", help="adresse du ZIP (défaut : réglage TRADEBOOK_DGDDI_URL ou adresse documentée)")
    source.add_argument("--zip", type=Path, metavar="CHEMIN", help="ZIP ou fichier TXT déjà téléchargé à importer")
    fetch.add_argument("--destination", type=Path, default=RAW, metavar="DOSSIER",
                       help="dossier de destination (défaut : data/raw/)")
    fetch.add_argument("--delai", type=float, default=60.0, metavar="SECONDES",
                       help="délai d'attente réseau en secondes (défaut : 60)")
    fetch.set_defaults(handler=run_fetch)

    prepare = sub.add_parser("prepare", help="convertir une année en table Parquet compacte",
                             description="Lit et valide les fichiers DGDDI, somme les 4 trimestres "
                                         "de l'année (et garde l'année précédente quand elle est "
                                         "complète) et écrit des tables Parquet et leur manifeste.")
    add_data_options(prepare)
    prepare.add_argument("--sortie", type=Path, default=None, metavar="DOSSIER",
                         help="dossier de sortie (défaut : data/prepared/<année>/)")
    prepare.set_defaults(handler=run_prepare)

    fiche = sub.add_parser("fiche", help="calculer la fiche d'un département, d'une région ou de la France",
                           description="Calcule les indicateurs du portrait ANCT et les exporte "
                                       "en JSON, CSV ou images.")
    zone = fiche.add_mutually_exclusive_group(required=True)
    zone.add_argument("--departement", metavar="CODE", help="code ou nom du département (61, 2A, 971, orne...)")
    zone.add_argument("--region", metavar="CODE", help="code région INSEE (28) ou DGDDI (05), ou son nom (normandie)")
    zone.add_argument("--france", action="store_true", help="la France entière")
    add_data_options(fiche)
    fiche.add_argument("--niveau", choices=["a129", "cpf4"], default="a129",
                       help="niveau de produits (défaut : a129)")
    fiche.add_argument("--json", action="store_true", help="écrire la fiche en JSON sur la sortie standard")
    fiche.add_argument("--csv", type=Path, metavar="DOSSIER", help="écrire les tableaux en CSV dans DOSSIER")
    fiche.add_argument("--images", type=Path, metavar="DOSSIER", help="écrire les graphiques en SVG et PNG dans DOSSIER")
    fiche.add_argument("--csv-format", choices=["excel-fr", "international"], default="excel-fr",
                       dest="csv_format",
                       help="excel-fr : « ; » et virgule décimale, pour Excel en français (défaut) ; "
                            "international : « , » et point décimal")
    fiche.set_defaults(handler=run_fiche)

    book = sub.add_parser("book", help="exécuter les fiches et construire le livre HTML",
                          description="Prépare les données, exécute le notebook modèle pour chaque "
                                      "département (en parallèle) et construit le site avec Jupyter Book.")
    add_data_options(book)
    book.add_argument("--departements", nargs="+", metavar="CODE",
                      help="limiter le livre à ces départements (défaut : tous)")
    book.add_argument("--processus", type=int, default=None, metavar="N",
                      help="nombre de processus en parallèle (défaut : nombre de cœurs)")
    book.add_argument("--delai", type=float, default=300.0, metavar="SECONDES",
                      help="délai maximal d'exécution d'une page (défaut : 300)")
    book.add_argument("--sans-site", action="store_true", dest="no_site",
                      help="exécuter les pages sans construire le site HTML")
    book.set_defaults(handler=run_book)

    sample = sub.add_parser("echantillon", help="générer l'échantillon fictif au format DGDDI",
                            description="Génère le ZIP d'échantillon fictif, déterministe, "
                                        "au format exact des fichiers DGDDI.")
    sample.add_argument("--sortie", type=Path, default=SAMPLE_ZIP, metavar="CHEMIN", help="ZIP à écrire")
    sample.add_argument("--graine", type=int, default=None, metavar="N", help="graine du générateur")
    sample.add_argument("--echelle", type=float, default=1.0, metavar="X",
                        help="facteur de taille (plusieurs millions de lignes au-delà de 10 ; jamais versionné)")
    sample.set_defaults(handler=run_sample)

    template = sub.add_parser("modele", help="régénérer le notebook modèle des pages",
                              description="Écrit notebooks/fiche_departement.ipynb à partir du "
                                          "registre des figures et de data/textes.yml.")
    template.set_defaults(handler=run_template)
    return parser


def run_fetch(args: argparse.Namespace) -> int:
    """Handler of ``fetch``."""
    from tradebook import fetch

    if args.zip is not None:
        path = fetch.import_archive(args.zip, args.destination)
    else:
        path = fetch.download(args.url or fetch.default_url(), args.destination, timeout=args.delai)
    print(f"Données DGDDI prêtes : {path}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Handler of ``prepare``."""
    from tradebook import prepare

    out = args.sortie or PREPARED / str(args.annee)
    prepared = prepare.prepare(args.donnees, args.annee, out, skip_invalid=args.skip_invalid,
                               allow_partial_year=args.allow_partial_year,
                               missing_flux=args.missing_flux)
    print(prepare.summary(prepared))
    return 0


def run_fiche(args: argparse.Namespace) -> int:
    """Handler of ``fiche``: resolve the zone (before reading any data, so that an
    unknown code fails at once), load the data, export."""
    from tradebook import fiche, nomenclatures
    from tradebook.indicators import compute_fiche
    from tradebook.prepare import ensure_prepared

    if args.region:
        note = nomenclatures.region_code_note(args.region)
        if note:
            print(f"Note : {note}", file=sys.stderr)
    zone = nomenclatures.resolve_zone(args.departement, args.region, args.france)
    prepared = ensure_prepared(args.donnees, args.annee, skip_invalid=args.skip_invalid,
                               allow_partial_year=args.allow_partial_year,
                               missing_flux=args.missing_flux)
    computed = compute_fiche(prepared, zone, args.niveau)
    info = sys.stderr if args.json else sys.stdout
    if args.json:
        print(fiche.fiche_to_json(computed))
    if args.csv is not None:
        written = fiche.write_csv(computed, args.csv, args.csv_format)
        print(f"{len(written)} tableaux CSV écrits dans {args.csv}", file=info)
    if args.images is not None:
        written = fiche.write_images(computed, args.images)
        print(f"{len(written)} images (SVG et PNG) écrites dans {args.images}", file=info)
    if not (args.json or args.csv is not None or args.images is not None):
        print(fiche.summary(computed))
    return 0


def run_book(args: argparse.Namespace) -> int:
    """Handler of ``book``: resolve every code first, then prepare, execute, build."""
    from tradebook import book
    from tradebook.prepare import ensure_prepared

    zones = book.select_departements(args.departements)
    workers, timeout = book.check_options(args.processus, args.delai)
    prepared = ensure_prepared(args.donnees, args.annee, skip_invalid=args.skip_invalid,
                               allow_partial_year=args.allow_partial_year,
                               missing_flux=args.missing_flux)
    print(f"Livre {prepared.annee} : {len(zones)} département(s), {workers} processus"
          + (" (données fictives)" if prepared.donnees_fictives else "") + ".")
    summary = book.build_book(zones, prepared, workers=workers, timeout=timeout,
                              site=not args.no_site)
    execution = format_number(summary.timings.get("execution", 0), 1)
    site = format_number(summary.timings.get("site", 0), 1)
    print(f"Pages exécutées : {len(summary.executed)}, inchangées : {len(summary.skipped)} "
          f"({execution} s ; site : {site} s).")
    if args.no_site:
        print(f"Notebooks exécutés dans {book.DEFAULT_LAYOUT.pages}/ (site non construit).")
        return 0
    state = "à jour, rien à reconstruire" if summary.site == "inchangé" else "construit"
    print(f"Site {state} : ouvrez {book.DEFAULT_LAYOUT.published / 'index.html'} "
          f"ou lancez « make serve » puis http://127.0.0.1:8000/")
    return 0


def run_template(args: argparse.Namespace) -> int:
    """Handler of ``modele``: write the template notebook generated from the registry."""
    from tradebook.files import write_text_atomic
    from tradebook.template import template_text

    write_text_atomic(TEMPLATE, template_text())
    print(f"Notebook modèle écrit : {TEMPLATE}")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """Handler of ``echantillon``."""
    from tradebook import sample

    path = sample.write_sample(args.sortie, seed=args.graine, scale=args.echelle)
    print(f"Échantillon fictif écrit : {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except TradebookError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly.
        sys.stderr.close()
        return 0
