"""``make``: the installation step is quiet unless it fails, and ``make book`` shows only
what the command prints (a stand-in Python records what make runs); ``.ci/run``
installs its tools, tests, builds the whole book and checks every page (stand-in
``make`` and ``apt-get`` record what it runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tradebook import paths

FAKE_PYTHON = """#!/bin/sh
# Stands in for the virtual environment's Python: pip is noisy, and fails with ECHEC set.
if [ "$2" = "pip" ]; then
  echo "Obtaining file:///projet (bruit de pip)"
  echo "  BuildBackendWarning: Editable installation." >&2
  if [ -n "$ECHEC" ] && [ "$4" = "-r" ]; then
    echo "ERROR: No matching distribution found for pandas" >&2
    exit 1
  fi
  exit 0
fi
echo "commande : $*"
"""


@pytest.fixture
def venv(tmp_path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make absent")
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    python = folder / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return folder


def make(venv: Path, *targets: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(paths.ROOT),
                           f"VENV={venv}", *targets], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_installation_is_quiet_when_it_works(venv):
    result = make(venv, f"{venv}/.installed")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Installation des dépendances dans {venv}/…\n"
    assert result.stderr == ""
    assert (venv / ".installed").is_file()
    assert "Editable installation" in (venv / "installation.log").read_text()


def test_installation_shows_pip_output_when_it_fails(venv):
    result = make(venv, f"{venv}/.installed", ECHEC="1")
    assert result.returncode != 0
    assert "ERROR: No matching distribution found for pandas" in result.stderr
    assert (f"Erreur : l'installation des dépendances a échoué (journal : "
            f"{venv}/installation.log).") in result.stderr
    assert not (venv / ".installed").exists()


def test_make_book_prints_only_the_command_output(venv):
    (venv / ".installed").touch()
    result = make(venv, "book", "DEPARTEMENTS=61 14")
    assert result.returncode == 0, result.stderr
    # no DONNEES: the command's default (the sample's two publications)
    assert result.stdout == "commande : -m tradebook book --annee 2024 --departements 61 14\n"
    sources = make(venv, "book", "DONNEES=a.zip b.zip")
    assert sources.stdout == "commande : -m tradebook book --donnees a.zip b.zip --annee 2024\n"
    verbose = make(venv, "book", "VERBEUX=1")
    assert verbose.stdout.rstrip().endswith("--annee 2024 --verbeux")


def test_make_check_site_checks_the_built_site(venv):
    (venv / ".installed").touch()
    result = make(venv, "check-site")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "commande : scripts/check_site.py _build/html\n"


RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$JOURNAL"
"""


@pytest.mark.parametrize("installed", [False, True])
def test_ci_installs_its_tools_then_tests_builds_the_whole_book_and_checks_it(
        tmp_path, installed):
    """On a machine without Chromium and poppler-utils, ``.ci/run`` installs them with
    apt; then ``make test``, ``make book`` (no département list: the whole book) and
    ``make check-site``, in that order; with both there, it installs nothing."""
    tools = tmp_path / "bin"
    tools.mkdir()
    journal = tmp_path / "journal"
    stand_ins = ["make", "apt-get"] + (["chromium", "pdftotext"] if installed else [])
    for name in stand_ins:
        (tools / name).write_text(RECORDER)
        (tools / name).chmod(0o755)
    for name in ("dirname", "basename"):  # what the script and the recorder need
        (tools / name).symlink_to(shutil.which(name))
    result = subprocess.run([shutil.which("bash"), str(paths.ROOT / ".ci" / "run")],
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": str(tools), "JOURNAL": str(journal)})
    assert result.returncode == 0, result.stderr
    apt = [] if installed else ["apt-get update -qq",
                                "apt-get install -y -qq chromium poppler-utils"]
    assert journal.read_text().splitlines() == [*apt, "make test", "make book",
                                                "make check-site"]
