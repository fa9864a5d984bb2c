"""Command line for the data layer: ``prepare`` and ``fetch`` exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dgddi_fixtures import EXPORTS, IMPORTS, QUARTERS, row, rows, write_source, write_zip
from tradebook import cli, paths


@pytest.fixture
def source(tmp_path) -> Path:
    return write_source(tmp_path / "raw")


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_prepare_subprocess_success(source, tmp_path):
    zip_path = write_zip(tmp_path / "dgddi.zip", source)
    out = tmp_path / "prepared"
    result = subprocess.run(
        [sys.executable, "-m", "tradebook", "prepare", "--donnees", str(zip_path),
         "--annee", "2024", "--sortie", str(out)],
        capture_output=True, text=True, cwd=paths.ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Données préparées" in result.stdout and "Année 2024" in result.stdout
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["annee"] == 2024


def test_prepare_subprocess_bad_input_exits_2(tmp_path):
    src = write_source(tmp_path / "raw", exports=rows("E") + [row(dep="2A", region="22")])
    result = subprocess.run(
        [sys.executable, "-m", "tradebook", "prepare", "--donnees", str(src),
         "--annee", "2024", "--sortie", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=paths.ROOT, timeout=120,
    )
    assert result.returncode == 2
    assert "Erreur : 1 ligne(s) invalide(s)" in result.stderr
    assert f"{EXPORTS}, ligne {len(rows('E')) + 1} : code département « 2A » inconnu" in result.stderr
    assert result.stdout == ""


def test_prepare_malformed_file(tmp_path, capsys):
    src = write_source(tmp_path / "raw", imports=rows("I")[:5] + ["I;1;2024;61;05;A01Z"])
    code, out, err = run(["prepare", "--donnees", str(src), "--sortie", str(tmp_path / "o")], capsys)
    assert code == 2
    assert f"{IMPORTS}, ligne 6 : 6 champ(s) au lieu de 10" in err
    assert "--skip-invalid" in err


def test_prepare_skip_invalid(tmp_path, capsys):
    src = write_source(tmp_path / "raw", exports=rows("E") + [row(valeur="abc")])
    code, out, err = run(["prepare", "--donnees", str(src), "--sortie", str(tmp_path / "o"),
                          "--skip-invalid"], capsys)
    assert code == 0, err
    assert "rejetées : 1" in out and "valeur « abc »" in out


def test_prepare_missing_quarter_and_override(tmp_path, capsys):
    src = write_source(tmp_path / "raw", exports=rows("E", QUARTERS[:3]))
    code, out, err = run(["prepare", "--donnees", str(src), "--annee", "2024",
                          "--sortie", str(tmp_path / "o")], capsys)
    assert code == 2
    assert f"{EXPORTS} (exportations) : T3 2024, T4 2024" in err
    code, out, err = run(["prepare", "--donnees", str(src), "--annee", "2024", "--sortie",
                          str(tmp_path / "o"), "--annee-partielle"], capsys)
    assert code == 0 and "année partielle" in out


def test_prepare_year_absent(source, tmp_path, capsys):
    code, out, err = run(["prepare", "--donnees", str(source), "--annee", "2019",
                          "--sortie", str(tmp_path / "o")], capsys)
    assert code == 2 and "L'année 2019 est absente" in err


def test_prepare_source_absent(tmp_path, capsys):
    code, out, err = run(["prepare", "--donnees", str(tmp_path / "nulle_part.zip")], capsys)
    assert code == 2 and "Source introuvable" in err


def test_prepare_help_is_french(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["prepare", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "somme les 4 trimestres" in out and "--skip-invalid" in out


def test_fetch_zip_import(source, tmp_path, capsys):
    zip_path = write_zip(tmp_path / "dgddi.zip", source)
    code, out, err = run(["fetch", "--zip", str(zip_path), "--destination",
                          str(tmp_path / "dest")], capsys)
    assert code == 0, err
    assert "Données DGDDI prêtes" in out and (tmp_path / "dest" / "dgddi.zip").exists()


def test_fetch_bad_input_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("tradebook.fetch.RETRY_PAUSE", 0.0)
    bad = tmp_path / "faux.zip"
    bad.write_text("bonjour", encoding="utf-8")
    code, out, err = run(["fetch", "--zip", str(bad), "--destination", str(tmp_path / "d")],
                         capsys)
    assert code == 2 and "pas le ZIP de la DGDDI" in err
    code, out, err = run(["fetch", "--url", "http://127.0.0.1:9/x.zip", "--destination",
                          str(tmp_path / "d"), "--delai", "0.5"], capsys)
    assert code == 2 and "Erreur : Téléchargement de http://127.0.0.1:9/x.zip impossible" in err


def test_closed_stdout_pipe_ends_quietly(monkeypatch, capsys):
    """`python -m tradebook fiche ... --json | head` must end without a traceback."""
    from tradebook import cli

    def reader_went_away(args):
        raise BrokenPipeError

    monkeypatch.setattr(cli, "run_fiche", reader_went_away)
    monkeypatch.setattr("sys.stderr", __import__("io").StringIO())
    assert cli.main(["fiche", "--france"]) == 0


# --------------------------------------------------------------------------- v2

def test_one_flux_file_is_refused_then_accepted_when_declared(tmp_path, capsys):
    from dgddi_fixtures import write_lines
    path = write_lines(tmp_path / EXPORTS, rows("E"))
    code, out, err = run(["prepare", "--donnees", str(path), "--sortie", str(tmp_path / "o")],
                         capsys)
    assert code == 2 and out == ""
    assert "aucune donnée d'importations" in err and "--flux-absent importations" in err
    for option in ("--flux-absent", "--missing-flux"):
        code, out, err = run(["prepare", "--donnees", str(path), "--sortie", str(tmp_path / "o"),
                              option, "importations"], capsys)
        assert code == 0, err
        assert "Flux absent : importations" in out
        assert "importations absentes des sources" in err
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["flux_absents"] == ["I"]


def test_unknown_flux_name_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["prepare", "--flux-absent", "services"])
    assert exc.value.code == 2
    assert "Flux inconnu : « services »" in capsys.readouterr().err


def test_empty_file_error_does_not_suggest_a_partial_year(tmp_path, capsys):
    src = write_source(tmp_path / "raw", exports=[], final_newline=False)
    code, out, err = run(["prepare", "--donnees", str(src), "--sortie", str(tmp_path / "o"),
                          "--annee-partielle"], capsys)
    assert code == 2
    assert f"{EXPORTS} : fichier vide" in err
    assert "partial" not in err and "partielle" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("style", ["one flag", "repeated flag"])
def test_several_sources_on_the_command_line(tmp_path, capsys, style):
    from dgddi_fixtures import quarters_of_year, write_publication
    older = write_publication(tmp_path / "pub2023.zip", quarters_of_year(2023))
    newer = write_publication(tmp_path / "pub2024.zip", QUARTERS, offset=1000)
    sources = (["--donnees", str(older), str(newer)] if style == "one flag"
               else ["--donnees", str(older), "--donnees", str(newer)])
    code, out, err = run(["prepare", *sources, "--sortie", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert ("Trimestres et sources : T1 2023, T2 2023, T3 2023 : pub2023.zip ; T4 2023, "
            "T1 2024, T2 2024, T3 2024, T4 2024 : pub2024.zip") in out
    assert "Année précédente 2023 préparée" in out
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["donnees"] == [str(older), str(newer)]


def test_default_sources_are_the_sample_publications(tmp_path, monkeypatch):
    older, newer = tmp_path / "ancien.zip", tmp_path / "recent.zip"
    monkeypatch.setattr(cli, "SAMPLE_SOURCES", (older, newer))
    monkeypatch.setattr(cli, "SAMPLE_ZIP", newer)
    newer.write_bytes(b"")
    assert cli.build_parser().parse_args(["prepare"]).donnees == [newer]  # 2023 not there yet
    older.write_bytes(b"")
    assert cli.build_parser().parse_args(["prepare"]).donnees == [older, newer]
    args = cli.build_parser().parse_args(["fiche", "--france", "--donnees", "x.zip"])
    assert args.donnees == [Path("x.zip")]  # replaces the default, does not extend it
    assert paths.SAMPLE_SOURCES == (paths.SAMPLE_PREVIOUS_ZIP, paths.SAMPLE_ZIP)


def test_makefile_passes_several_sources():
    def dry_run(*variables: str) -> str:
        result = subprocess.run(["make", "--no-print-directory", "-n", "book", *variables], capture_output=True,
                                text=True, cwd=paths.ROOT, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert dry_run('DONNEES=A.zip B.zip').endswith("book --donnees A.zip B.zip --annee 2024")
    assert "--donnees" not in dry_run()  # the CLI default: paths.SAMPLE_SOURCES


def test_fetch_refuses_an_oversized_member_from_its_header(source, tmp_path, capsys,
                                                           monkeypatch):
    zip_path = write_zip(tmp_path / "dgddi.zip", source)
    monkeypatch.setattr("tradebook.fetch.MAX_MEMBER_BYTES", 1000)
    monkeypatch.setattr("zipfile.ZipFile.testzip", lambda self: pytest.fail("décompressé"))
    code, out, err = run(["fetch", "--zip", str(zip_path), "--destination",
                          str(tmp_path / "dest")], capsys)
    assert code == 2 and "au-delà de la limite de 1\u202f000 octets" in err
    assert not (tmp_path / "dest" / "dgddi.zip").exists()
