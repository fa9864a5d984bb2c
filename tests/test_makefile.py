"""``make``: the installation step is quiet unless it fails, and ``make book`` shows only
what the command prints (a stand-in Python records what make runs)."""

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
