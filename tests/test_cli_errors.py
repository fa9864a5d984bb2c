"""The command line never shows a traceback nor English: usage errors, file errors,
hostile input, internal errors; French messages and exit status 2 (1 for a bug)."""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dgddi_fixtures import write_source
from tradebook import cli, paths

ENGLISH = ("usage:", "error:", "invalid choice", "invalid int", "invalid float", "expected ",
           "required", "not allowed", "unrecognized", "arguments:", "show this help",
           "positional", "choose from", "Traceback")


def parse_error(args: list[str], capsys) -> str:
    """The usage error printed for ``args`` (status 2 checked)."""
    with pytest.raises(SystemExit) as caught:
        cli.main(args)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    for word in ENGLISH:
        assert word not in err, err
    return err


# --------------------------------------------------------------------------- argparse in French


@pytest.mark.parametrize("args, message", [
    (["fiche"], "erreur : l'une des options --departement --region --france est obligatoire"),
    (["fiche", "--france", "--niveau", "cpf5"],
     "argument --niveau : choix invalide : « cpf5 » (choisissez parmi"),
    (["prepare", "--annee", "abc"], "argument --annee : « abc » n'est pas un nombre entier"),
    (["book", "--processus", "deux"], "argument --processus : « deux » n'est pas un nombre entier"),
    (["book", "--delai", "vite"], "argument --delai : « vite » n'est pas un nombre"),
    (["book", "--delai", "nan"], "argument --delai : « nan » n'est pas un nombre fini"),
    (["echantillon", "--echelle", "inf"], "argument --echelle : « inf » n'est pas un nombre fini"),
    (["prepare", "--annee"], "argument --annee : une valeur est attendue"),
    (["fiche", "--departement", "61", "--region", "28"],
     "argument --region : incompatible avec l'argument --departement"),
    (["fiche", "--france", "en", "trop"], "erreur : arguments non reconnus : en trop"),
    (["fiche", "--france", "--json=oui"], "argument --json : cette option ne prend pas de valeur"),
    (["fiche", "--departemnt", "61"],
     "option inconnue : --departemnt ; vouliez-vous dire --departement ?"),
    (["book", "--departemnts", "61"],
     "option inconnue : --departemnts ; vouliez-vous dire --departements ?"),
    (["fiche", "--france", "--xyz"],
     "option inconnue : --xyz (python -m tradebook fiche --help liste les options)"),
    (["prepar"], "commande inconnue : prepar ; vouliez-vous dire prepare ?"),
    (["--bavard", "book"], "option inconnue : --bavard (python -m tradebook --help"),
])
def test_usage_errors_are_french_with_status_2(args, message, capsys):
    err = parse_error(args, capsys)
    assert err.startswith("usage : python -m tradebook")
    assert message in err


def test_no_command_prints_the_french_usage_and_exits_2():
    result = subprocess.run([sys.executable, "-m", "tradebook"], capture_output=True,
                            text=True, cwd=paths.ROOT, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage : python -m tradebook [-h] [-v] COMMANDE ...")
    assert ("erreur : aucune commande ; choisissez-en une parmi : fetch, prepare, fiche, book, "
            "echantillon, modele") in result.stderr


def test_help_is_french_with_french_flags_first(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["fiche", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for word in ENGLISH:
        assert word not in out
    assert out.startswith("usage : python -m tradebook fiche")
    assert "\noptions :\n" in out and "affiche cette aide et quitte" in out
    assert "--ignorer-invalides, --skip-invalid" in out
    assert "--annee-partielle, --allow-partial-year" in out
    assert "--format-csv {excel-fr,international}, --csv-format" in out
    assert "-v, --verbeux" in out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = capsys.readouterr().out
    assert "\ncommandes :\n" in top and "\noptions :\n" in top


def test_english_aliases_still_work():
    args = cli.build_parser().parse_args(["fiche", "--france", "--skip-invalid",
                                          "--allow-partial-year", "--csv-format", "international"])
    assert args.skip_invalid and args.allow_partial_year and args.csv_format == "international"


@pytest.mark.parametrize("argv", [["-v", "fiche", "--france"], ["fiche", "--france", "-v"],
                                  ["fiche", "--verbeux", "--france"]])
def test_verbose_before_or_after_the_command(argv):
    assert cli.build_parser().parse_args(argv).verbeux is True
    assert cli.build_parser().parse_args(["fiche", "--france"]).verbeux is False


def argparse_message_ids() -> set[str]:
    """Every message id the running Python's argparse passes to ``_`` or ``ngettext``."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("_", "ngettext") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                ids.add(first.value)
    return ids


def test_every_argparse_message_has_a_french_text():
    ids = argparse_message_ids()
    assert "usage: " in ids and "expected one argument" in ids  # the scan works
    missing = ids - set(cli.ARGPARSE_FRENCH) - set(cli.ARGPARSE_FRENCH_PLURALS)
    assert not missing, f"messages d'argparse sans traduction : {sorted(missing)}"


def test_french_plural_rule():
    assert cli.french_ngettext("expected %s argument", "expected %s arguments", 1) % 1 == \
        "1 valeur est attendue"
    assert cli.french_ngettext("expected %s argument", "expected %s arguments", 3) % 3 == \
        "3 valeurs sont attendues"


def test_argparse_is_left_as_found(capsys):
    """The translation lasts only while our parsers run: other argparse users (pytest
    itself) keep their own messages."""
    import gettext

    with pytest.raises(SystemExit):
        cli.main(["fiche"])
    capsys.readouterr()
    assert argparse._ is gettext.gettext and argparse.ngettext is gettext.ngettext
    plain = argparse.ArgumentParser(prog="autre")
    assert plain.format_usage().startswith("usage: autre")


# --------------------------------------------------------------------------- file errors


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user may enter (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="tradebook-cli-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for child in path.rglob("*"):
        if child.is_dir() and not child.is_symlink():
            child.chmod(0o755)
    subprocess.run(["rm", "-rf", str(path)], check=True)


@pytest.fixture
def read_only(shared_dir) -> Path:
    path = shared_dir / "lecture-seule"
    path.mkdir(mode=0o555)
    path.chmod(0o555)
    return path


def run_unprivileged(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m tradebook ARGS`` as a user without special rights: as root (who may
    write anywhere) the command runs as ``nobody`` through util-linux's ``setpriv``, so
    that folder rights apply."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("tests lancés en root sans setpriv : droits des dossiers inopérants")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run([*prefix, sys.executable, "-m", "tradebook", *args],
                          capture_output=True, text=True, cwd=paths.ROOT, timeout=timeout,
                          env={**os.environ, "HOME": "/tmp"})


def assert_french_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr, result.stderr
    assert result.stderr.startswith("Erreur : "), result.stderr
    for part in parts:
        assert part in result.stderr


@pytest.fixture(scope="module")
def prepared_dir() -> Path:
    from tradebook.prepare import ensure_prepared

    return Path(ensure_prepared(paths.SAMPLE_ZIP, 2024).path)


def test_prepare_into_a_read_only_folder(read_only):
    out = read_only / "annee"
    result = run_unprivileged("prepare", "--sortie", str(out))
    assert_french_error(result, f"Impossible d'écrire dans {out} (--sortie) : permission refusée.",
                        "Choisissez un emplacement où vous avez ce droit")
    assert list(read_only.iterdir()) == []


def test_fetch_into_a_read_only_folder(read_only):
    result = run_unprivileged("fetch", "--zip", str(paths.SAMPLE_ZIP), "--destination",
                              str(read_only))
    assert_french_error(result, f"Impossible d'écrire dans {read_only} (--destination) : "
                                "permission refusée.")


def test_fiche_csv_into_a_read_only_folder(read_only, prepared_dir):
    result = run_unprivileged("fiche", "--france", "--donnees", str(prepared_dir),
                              "--csv", str(read_only))
    assert_french_error(result, f"Impossible d'écrire dans {read_only} (--csv) : "
                                "permission refusée.")
    assert list(read_only.iterdir()) == []


def test_sample_into_a_read_only_folder(read_only):
    result = run_unprivileged("echantillon", "--sortie", str(read_only / "e.zip"),
                              "--echelle", "0.01")
    assert_french_error(result, f"Impossible d'écrire dans {read_only / 'e.zip'} (--sortie) : "
                                "permission refusée.")


def test_unreadable_data_are_not_called_a_damaged_archive(shared_dir):
    secret = shared_dir / "secret.zip"
    secret.write_bytes(paths.SAMPLE_ZIP.read_bytes())
    secret.chmod(0o600)
    closed = shared_dir / "ferme"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    for path in (secret, closed):
        result = run_unprivileged("prepare", "--donnees", str(path), "--sortie",
                                  str(shared_dir / "o"))
        assert_french_error(result, f"Impossible de lire {path} (--donnees) : permission refusée.")
    result = run_unprivileged("fetch", "--zip", str(secret), "--destination", str(shared_dir))
    assert_french_error(result, f"Impossible de lire {secret} (--zip) : permission refusée.")


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_fetch_destination_is_a_file(tmp_path, capsys):
    afile = tmp_path / "fichier"
    afile.write_text("x")
    code, out, err = run(["fetch", "--zip", str(paths.SAMPLE_ZIP), "--destination", str(afile)],
                         capsys)
    assert code == 2 and "Traceback" not in err
    assert (f"Erreur : Impossible d'écrire dans {afile} (--destination) : un fichier de ce nom "
            "existe déjà là où un dossier est attendu.") in err


def test_fiche_csv_where_a_table_name_is_a_folder(tmp_path, capsys, prepared_dir):
    """An existing output folder holding a folder under one of the CSV names."""
    out = tmp_path / "tableaux"
    (out / "france_2024_partenaires.csv").mkdir(parents=True)
    code, _, err = run(["fiche", "--france", "--donnees", str(prepared_dir), "--csv", str(out)],
                       capsys)
    assert code == 2 and "Traceback" not in err
    assert (f"Impossible d'écrire dans {out / 'france_2024_partenaires.csv'} (--csv) : c'est "
            "un dossier, un fichier est attendu.") in err


def test_sample_output_is_a_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("tradebook.sample.write_sample",
                        lambda *a, **k: pytest.fail("rows generated before the path was checked"))
    code, _, err = run(["echantillon", "--sortie", str(tmp_path)], capsys)
    assert code == 2
    assert f"Erreur : {tmp_path} est un dossier : --sortie attend le chemin du ZIP" in err


@pytest.mark.parametrize("url", ["pas une adresse", "ftp://exemple.fr/a.zip", "http://",
                                 "http://hote:port/a.zip", "file:///tmp/a.zip"])
def test_fetch_url_that_is_not_a_web_address(url, tmp_path, capsys):
    code, _, err = run(["fetch", "--url", url, "--destination", str(tmp_path)], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"Erreur : « {url} » n'est pas une adresse web valable" in err
    assert "--zip CHEMIN" in err
    assert list(tmp_path.iterdir()) == []


def test_data_path_that_is_a_pipe_does_not_block(shared_dir):
    fifo = shared_dir / "tube"
    os.mkfifo(fifo)
    result = subprocess.run([sys.executable, "-m", "tradebook", "prepare", "--donnees", str(fifo),
                             "--sortie", str(shared_dir / "o")], capture_output=True, text=True,
                            cwd=paths.ROOT, timeout=60)
    assert_french_error(result, f"{fifo} (--donnees) n'est ni un fichier ni un dossier")


@pytest.mark.parametrize("command", [["prepare", "--sortie", "{tmp}/o"], ["fiche", "--france"]])
def test_data_path_that_is_a_device(command, tmp_path, capsys):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command] + ["--donnees", "/dev/null"]
    code, _, err = run(args, capsys)
    assert code == 2
    assert "Erreur : /dev/null (--donnees) n'est ni un fichier ni un dossier" in err


def test_year_far_away_is_a_french_error(tmp_path, capsys):
    src = write_source(tmp_path / "raw")
    code, _, err = run(["prepare", "--donnees", str(src), "--annee", "99999",
                        "--sortie", str(tmp_path / "o")], capsys)
    assert code == 2 and "Erreur : L'année 99999 est absente" in err


def test_os_error_without_known_option_names_the_folder_not_the_temporary_file():
    """A temporary name is shown as the folder being written."""
    from tradebook.errors import file_access_error

    error = cli.describe_os_error(
        PermissionError(13, "Permission denied", "/srv/site/.html-nouveau-ab12cd"),
        argparse.Namespace())
    assert str(error) == ("Impossible d'écrire dans /srv/site : permission refusée. Choisissez "
                          "un emplacement où vous avez ce droit, ou modifiez les droits "
                          "(ls -l, chmod).")
    full = file_access_error(OSError(28, "No space left on device", "/data/x"))
    assert str(full) == ("Impossible d'accéder à /data/x : plus de place sur le disque. "
                         "Libérez de la place ou choisissez un autre disque.")


def test_any_os_error_reaching_the_command_line_is_french(monkeypatch, capsys, tmp_path):
    def disk_full(args):
        raise OSError(28, "No space left on device", str(tmp_path / "o" / ".x.1234abcd.tmp"))

    monkeypatch.setattr(cli, "run_prepare", disk_full)
    code, _, err = run(["prepare", "--sortie", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err == (f"Erreur : Impossible d'écrire dans {tmp_path / 'o'} (--sortie) : plus de "
                   "place sur le disque. Libérez de la place ou choisissez un autre disque.\n")


# --------------------------------------------------------------------------- bugs, interruptions


def test_internal_error_is_french_and_traced_only_with_verbose(monkeypatch, capsys):
    def bug(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "run_template", bug)
    code, out, err = run(["modele"], capsys)
    assert code == 1
    assert err == ("Erreur : erreur interne inattendue (ZeroDivisionError : division by zero). "
                   "Ce n'est pas une erreur de votre part ; relancez avec --verbeux pour la "
                   "trace et signalez-la.\n")
    code, out, err = run(["modele", "--verbeux"], capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError" in err
    assert err.rstrip().endswith("signalez-la.")


def test_warnings_only_with_verbose(monkeypatch, capsys):
    import warnings

    def noisy(args):
        warnings.warn("bruit d'une bibliothèque", FutureWarning)
        return 0

    monkeypatch.setattr(cli, "run_template", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run(["modele"], capsys) == (0, "", "")
    assert caught == []
    with pytest.warns(FutureWarning, match="bruit d'une bibliothèque"):
        assert run(["modele", "-v"], capsys)[0] == 0


def test_ctrl_c_during_prepare(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("tradebook.reading.read_sources", interrupted)
    src = write_source(tmp_path / "raw")
    code, _, err = run(["prepare", "--donnees", str(src), "--sortie", str(tmp_path / "o")], capsys)
    assert (code, err) == (130, "Interrompu (Ctrl-C).\n")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, message", [
    (["fiche", "--departement", "", "--json"],
     "Erreur : Département vide : donnez un code (61, 2A, 971...) ou un nom (Orne, Calvados)."),
    (["fiche", "--departement", "  ", "--json"], "Erreur : Département vide"),
    (["fiche", "--region", "", "--json"],
     "Erreur : Région vide : donnez un code région INSEE (28) ou un nom (Normandie)."),
    (["book", "--departements", "61", ""], "Erreur : Département vide"),
])
def test_an_empty_code_on_the_command_line_is_a_french_error(args, message, capsys):
    """Issue 9, defect 8: ``--departement ""`` was a ValueError traceback, status 1."""
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.startswith(message) and "Traceback" not in err, err
