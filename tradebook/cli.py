"""Command line: ``python -m tradebook <commande>``, in French.

Each subcommand is a thin handler calling into its module; modules are imported
lazily so that ``--help`` answers at once. argparse speaks French (its messages are
translated, an unknown option is named with the nearest one) and exits with status 2
on any usage error. :func:`run` turns every failure into one French line on stderr:
user errors (:class:`TradebookError`) and files that cannot be read or written
(``OSError``, named with the option that gave the path) exit with status 2, a bug
with status 1, Ctrl-C with 130 and SIGTERM with 143; ``-v``/``--verbeux`` adds the
warnings and the traceback.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import math
import os
import re
import signal
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tradebook.errors import (
    FileAccessError,
    InvalidDataError,
    Terminated,
    TradebookError,
    file_access_error,
)
from tradebook.formatting import format_number
from tradebook.paths import PREPARED, RAW, SAMPLE_SOURCES, SAMPLE_ZIP, TEMPLATE

DEFAULT_YEAR = 2024


# argparse's messages, translated. argparse passes each message through its module's
# ``_`` and ``ngettext`` (gettext) before formatting it; :func:`french_argparse` swaps
# them for lookups in these catalogues while our parsers run. Keys are argparse's own
# message ids for Python 3.11 to 3.13 (tests check that none of the running Python's
# ids is missing). Section titles end with a space so that argparse's heading colon
# reads « options : ».
ARGPARSE_FRENCH: dict[str, str] = {
    "usage: ": "usage : ",
    "%(heading)s:": "%(heading)s:",
    "positional arguments": "arguments ",
    "options": "options ",
    "subcommands": "commandes ",
    "show this help message and exit": "affiche cette aide et quitte",
    "show program's version number and exit": "affiche la version du programme et quitte",
    " (default: %(default)s)": " (défaut : %(default)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "%(prog)s: warning: %(message)s\n": "%(prog)s : avertissement : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "cette option ne prend pas de valeur (reçu : « %s »)",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'une des options %s est obligatoire",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "unexpected option string: %s": "option inattendue : %s",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : « %(value)s »",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : « %(value)s » (choisissez parmi %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue : « %(parser_name)s » (choix : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "argument '%(argument_name)s' is deprecated": "l'argument « %(argument_name)s » est obsolète",
    "command '%(parser_name)s' is deprecated": "la commande « %(parser_name)s » est obsolète",
    "option '%(option)s' is deprecated": "l'option « %(option)s » est obsolète",
    # Mistakes in the parser's definition (raised while it is built, never by the user).
    "%r is not callable": "%r n'est pas appelable",
    "'required' is an invalid argument for positionals":
        "« required » n'est pas permis pour un argument positionnel",
    ".__call__() not defined": ".__call__() n'est pas défini",
    'argument "-" with mode %r': "argument « - » avec le mode %r",
    "cannot have multiple subparser arguments": "un seul groupe de commandes est permis",
    "cannot merge actions - two groups are named %r":
        "fusion impossible : deux groupes s'appellent %r",
    "conflicting subparser alias: %s": "alias de commande en double : %s",
    "conflicting subparser: %s": "commande en double : %s",
    "dest= is required for options like %r": "dest= est obligatoire pour une option comme %r",
    "invalid conflict_resolution value: %r": "valeur de conflict_resolution invalide : %r",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r":
        "option %(option)r invalide : elle doit commencer par l'un des caractères %(prefix_chars)r",
    "mutually exclusive arguments must be optional":
        "des arguments mutuellement exclusifs doivent être des options",
}
# singular id -> (French singular, French plural); French uses the singular for 0 and 1.
ARGPARSE_FRENCH_PLURALS: dict[str, tuple[str, str]] = {
    "conflicting option string: %s": ("option en double : %s", "options en double : %s"),
    "expected %s argument": ("%s valeur est attendue", "%s valeurs sont attendues"),
}


def french_gettext(message: str) -> str:
    """argparse's ``_``: the French text of ``message`` (unchanged when unknown)."""
    return ARGPARSE_FRENCH.get(message, message)


def french_ngettext(singular: str, plural: str, n: int) -> str:
    """argparse's ``ngettext``, French plural rule."""
    if singular in ARGPARSE_FRENCH_PLURALS:
        one, many = ARGPARSE_FRENCH_PLURALS[singular]
        return one if n < 2 else many
    return singular if n == 1 else plural


@contextmanager
def french_argparse() -> Iterator[None]:
    """argparse speaks French inside the block (re-entrant; restored on exit)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = french_gettext, french_ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*[.,]\d+$")


class FrenchParser(argparse.ArgumentParser):
    """argparse in French: messages, help and usage; an unknown option is named with the
    nearest known one; every usage error exits with status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        with french_argparse():
            super().__init__(*args, **kwargs)
        self._positionals.title = "arguments "
        self._optionals.title = "options "
        self.commands: dict[str, argparse.ArgumentParser] = {}
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def add_subparsers(self, **kwargs):  # noqa: D102 - argparse API
        action = super().add_subparsers(**kwargs)
        self.commands = action.choices
        return action

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse API
        with french_argparse():
            return super().parse_args(args, namespace)

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102 - argparse API
        args = sys.argv[1:] if args is None else list(args)
        with french_argparse():
            problem = self.unknown_word(args)
            if problem:
                self.error(problem)
            return super().parse_known_args(args, namespace)

    def unknown_word(self, args: list[str]) -> str | None:
        """The French complaint about the first unknown option (or command) of ``args``,
        with the nearest known one, or None. Options after the command belong to it."""
        for word in args:
            if word == "--":
                return None
            if not word.startswith("-") or word == "-" or NEGATIVE_NUMBER.match(word):
                if self.commands:
                    return None if word in self.commands else self.unknown_command(word)
                continue
            if not self.knows_option(word):
                return unknown_message("option inconnue", word.split("=", 1)[0],
                                       [o for o in self._option_string_actions if o.startswith("--")],
                                       f"{self.prog} --help liste les options")
        if self.commands and not any(w in ("-h", "--help") for w in args):
            return ("aucune commande ; choisissez-en une parmi : " + ", ".join(self.commands)
                    + f" ({self.prog} --help pour l'aide)")
        return None

    def knows_option(self, word: str) -> bool:
        """True when argparse would take ``word`` as one of this parser's options: exact,
        ``--option=valeur``, a prefix of one or more (argparse reports an ambiguous
        one), or grouped short flags."""
        known = self._option_string_actions
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            return name in known or any(o.startswith(name) for o in known if o.startswith("--"))
        return word[:2] in known

    def unknown_command(self, word: str) -> str:
        """The complaint about an unknown command."""
        return unknown_message("commande inconnue", word, list(self.commands),
                               "commandes : " + ", ".join(self.commands))

    def format_usage(self) -> str:  # noqa: D102 - argparse API
        with french_argparse():
            return super().format_usage()

    def format_help(self) -> str:  # noqa: D102 - argparse API
        with french_argparse():
            return super().format_help()

    def error(self, message: str):  # noqa: D102 - argparse hook
        with french_argparse():
            super().error(message)


def unknown_message(what: str, word: str, choices: list[str], otherwise: str) -> str:
    """« <what> : <word> ; vouliez-vous dire <nearest> ? », or the ``otherwise`` hint."""
    nearest = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if nearest:
        return f"{what} : {word} ; vouliez-vous dire {nearest[0]} ?"
    return f"{what} : {word} ({otherwise})"


def integer(text: str) -> int:
    """argparse type: a whole number, refused in French."""
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier") from None


def number(text: str) -> float:
    """argparse type: a finite decimal number (``2.5`` or ``2,5``), refused in French."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre fini")
    return value


def add_verbose_option(parser: argparse.ArgumentParser, default=False) -> None:
    """``-v``/``--verbeux``, before or after the command."""
    parser.add_argument("-v", "--verbeux", action="store_true", default=default,
                        help="afficher aussi les détails : avertissements, journaux des "
                             "processus, trace des erreurs (pour le débogage)")


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
    parser.add_argument("--annee", type=integer, default=DEFAULT_YEAR, metavar="AAAA",
                        help=f"année civile à présenter (défaut : {DEFAULT_YEAR})")
    parser.add_argument("--ignorer-invalides", "--skip-invalid", action="store_true",
                        dest="skip_invalid",
                        help="écarter les lignes invalides (chacune est signalée) au lieu d'échouer")
    parser.add_argument("--annee-partielle", "--allow-partial-year", action="store_true",
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
    add_verbose_option(parser)
    sub = parser.add_subparsers(dest="commande", metavar="COMMANDE", parser_class=FrenchParser,
                                title="commandes ")
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
    fetch.add_argument("--delai", type=number, default=60.0, metavar="SECONDES",
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
                                       "en JSON, CSV, images ou fiche PDF.")
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
    fiche.add_argument("--pdf", type=Path, metavar="DOSSIER",
                       help="écrire la fiche imprimable dans DOSSIER (61.pdf, region-28.pdf, "
                            "france.pdf ; produits en A129, comme la page du livre)")
    fiche.add_argument("--format-csv", "--csv-format", choices=["excel-fr", "international"],
                       default="excel-fr",
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
    book.add_argument("--processus", type=integer, default=None, metavar="N",
                      help="nombre de pages exécutées en parallèle (défaut : nombre de cœurs plus un)")
    book.add_argument("--delai", type=number, default=300.0, metavar="SECONDES",
                      help="délai maximal d'exécution d'une page (défaut : 300)")
    book.add_argument("--sans-site", action="store_true", dest="no_site",
                      help="exécuter les pages sans construire le site HTML")
    book.set_defaults(handler=run_book)

    sample = sub.add_parser("echantillon", help="générer l'échantillon fictif au format DGDDI",
                            description="Génère le ZIP d'échantillon fictif, déterministe, "
                                        "au format exact des fichiers DGDDI.")
    sample.add_argument("--sortie", type=Path, default=SAMPLE_ZIP, metavar="CHEMIN", help="ZIP à écrire")
    sample.add_argument("--graine", type=integer, default=None, metavar="N", help="graine du générateur")
    sample.add_argument("--echelle", type=number, default=1.0, metavar="X",
                        help="facteur de taille (plusieurs millions de lignes au-delà de 10 ; jamais versionné)")
    sample.set_defaults(handler=run_sample)

    template = sub.add_parser("modele", help="régénérer le notebook modèle des pages",
                              description="Écrit notebooks/fiche_departement.ipynb à partir du "
                                          "registre des figures et de data/textes.yml.")
    template.set_defaults(handler=run_template)
    for command in sub.choices.values():
        add_verbose_option(command, default=argparse.SUPPRESS)  # keeps a -v given before
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
    if args.pdf is not None:
        from tradebook import printable, report

        page = report.zone_page(zone, [prepared.path], prepared.annee)
        written = printable.write_page_pdf(page, fiche.output_folder(args.pdf))
        print(f"Fiche PDF écrite : {written}", file=info)
    if not (args.json or any(getattr(args, o) is not None for o in ("csv", "images", "pdf"))):
        print(fiche.summary(computed))
    return 0


def say(message: str) -> None:
    """Print a progress line at once (stdout may be a pipe)."""
    print(message, flush=True)


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
          + (" (données fictives)" if prepared.donnees_fictives else "") + ".", flush=True)
    layout = book.DEFAULT_LAYOUT
    summary = book.build_book(zones, prepared, workers=workers, timeout=timeout,
                              site=not args.no_site, log=say, layout=layout,
                              verbose=args.verbeux)
    execution = format_number(summary.timings.get("execution", 0), 1)
    site = format_number(summary.timings.get("site", 0), 1)
    print(f"Pages exécutées : {len(summary.executed)}, inchangées : {len(summary.skipped)} "
          f"({execution} s ; site : {site} s).")
    if args.no_site:
        print(f"Notebooks exécutés dans {layout.pages}/ (site non construit).")
        return 0
    state = "à jour, rien à reconstruire" if summary.site == "inchangé" else "construit"
    print(f"Site {state} : ouvrez {layout.published / 'index.html'} "
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
    """Handler of ``echantillon`` (a folder given as ``--sortie`` is refused before the
    rows are generated)."""
    from tradebook import sample

    if args.sortie.is_dir():
        raise FileAccessError(
            f"{args.sortie} est un dossier : --sortie attend le chemin du ZIP à écrire, par "
            f"exemple {args.sortie / SAMPLE_ZIP.name}."
        )
    path = sample.write_sample(args.sortie, seed=args.graine, scale=args.echelle)
    print(f"Échantillon fictif écrit : {path}")
    return 0


# Options naming a path: argparse dest -> (option, what the command does with it).
PATH_OPTIONS: dict[str, tuple[str, str]] = {
    "donnees": ("--donnees", "lire"),
    "zip": ("--zip", "lire"),
    "sortie": ("--sortie", "écrire dans"),
    "destination": ("--destination", "écrire dans"),
    "csv": ("--csv", "écrire dans"),
    "images": ("--images", "écrire dans"),
    "pdf": ("--pdf", "écrire dans"),
}
INPUT_OPTIONS = ("donnees", "zip")
# Temporary names beside a target: files.atomic_path (.NAME.xxxx.tmp), tempfile.mkdtemp
# (.NAME.tmp-xxxx), fetch (.NAME.part), book.publish (.html-nouveau-xxxx).
TEMPORARY_NAME = re.compile(r"^\.(.+\.tmp|.+\.tmp-\w+|.+\.part|html-\w+-.*)$")


def option_paths(args: argparse.Namespace, dest: str) -> list[Path]:
    """The paths given to option ``dest`` (none, one, or a list)."""
    value = getattr(args, dest, None)
    values = value if isinstance(value, (list, tuple)) else [value]
    return [Path(v) for v in values if isinstance(v, (str, os.PathLike))]


def check_inputs(args: argparse.Namespace) -> None:
    """Refuse, in French, an input path that exists but cannot be read as a file or a
    folder (a pipe would block the command for ever, a device or a forbidden file
    would be misreported as a damaged archive)."""
    for dest in INPUT_OPTIONS:
        option = PATH_OPTIONS[dest][0]
        for path in option_paths(args, dest):
            if not path.exists():
                continue  # the command says what it expected there
            if not (path.is_file() or path.is_dir()):
                raise FileAccessError(
                    f"{path} ({option}) n'est ni un fichier ni un dossier (tube, périphérique…) : "
                    "donnez le ZIP de la DGDDI, le dossier de ses fichiers ou un dossier de "
                    "données préparées.")
            wanted = os.R_OK | (os.X_OK if path.is_dir() else 0)
            if not os.access(path, wanted):
                raise file_access_error(PermissionError(errno.EACCES, "", str(path)), path,
                                        action="lire", option=option)


def shown_path(name: Path) -> tuple[Path, bool]:
    """The path to show for ``name``: its folder when it is one of our temporary names
    (then True: the command was writing there)."""
    if TEMPORARY_NAME.match(name.name):
        return name.parent, True
    return name, False


def concerns(name: Path, given: Path) -> bool:
    """True when the system's ``name`` is the user's path ``given``, lies inside it, or
    is a temporary file written beside it."""
    name, given = Path(os.path.abspath(name)), Path(os.path.abspath(given))
    # a temporary file beside it: its own (.NAME.xxx.tmp), or a companion's (the sample
    # writes its previous publication, NAME_2023.zip, beside NAME.zip)
    beside = name.parent == given.parent and (name.name.startswith(f".{given.name}.")
                                              or bool(TEMPORARY_NAME.match(name.name)))
    return name == given or given in name.parents or beside


def describe_os_error(exc: OSError, args: argparse.Namespace) -> FileAccessError:
    """A French message for an ``OSError`` that reached the command line, naming the
    user's path and option when the error concerns one of them."""
    names = [Path(n) for n in (exc.filename2, exc.filename) if isinstance(n, (str, os.PathLike))]
    for dest, (option, action) in PATH_OPTIONS.items():
        for given in option_paths(args, dest):
            for name in names:
                if concerns(name, given):
                    inside = Path(os.path.abspath(name)).parent == Path(os.path.abspath(given))
                    shown = shown_path(name)[0] if inside else given
                    return file_access_error(exc, shown, action=action, option=option)
    if names:
        shown, writing = shown_path(names[0])
        return file_access_error(exc, shown, action="écrire dans" if writing else "accéder à")
    return file_access_error(exc)


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the block (SIGINT already raises
    ``KeyboardInterrupt``), so that clean-up code runs and children are stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report_error(message: str, verbose: bool) -> None:
    """Print ``Erreur : message`` on stderr, after the traceback when ``verbose``."""
    if verbose:
        traceback.print_exc()
    print(f"Erreur : {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; every failure becomes a French message and a status:
    2 for the user's input or files, 1 for a failed build or an internal error, 130
    for Ctrl-C, 143 for SIGTERM."""
    verbose = args.verbeux
    try:
        with signals_as_exceptions(), warnings.catch_warnings():
            if not verbose:
                warnings.simplefilter("ignore")
            check_inputs(args)
            return args.handler(args)
    except TradebookError as exc:
        report_error(str(exc), verbose)
        return exc.exit_code
    except Terminated:
        print("Arrêté (signal SIGTERM).", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("Interrompu (Ctrl-C).", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly.
        sys.stderr.close()
        return 0
    except OSError as exc:
        error = describe_os_error(exc, args)
        report_error(str(error), verbose)
        return error.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: say so in French, trace on demand
        report_error(f"erreur interne inattendue ({type(exc).__name__} : {exc}). Ce n'est pas "
                     "une erreur de votre part ; relancez avec --verbeux pour la trace et "
                     "signalez-la.", verbose)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for any usage error)."""
    return run(build_parser().parse_args(argv))
