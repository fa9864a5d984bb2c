"""Stage 1: download the DGDDI ZIP (or import one downloaded by hand) into ``data/raw/``.

The download shows a tqdm progress bar, honours a network timeout, resumes an
interrupted transfer with an HTTP ``Range`` request when the server supports it
(otherwise it starts again cleanly), gives up after a bounded number of attempts,
checks that the result is a ZIP holding both data files and only then moves it
atomically into place. Every failure is a French :class:`FetchError`.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from tradebook import __version__
from tradebook.errors import TradebookError
from tradebook.files import atomic_path
from tradebook.formatting import format_number
from tradebook.reading import DATA_FILES, MAX_MEMBER_BYTES, N_FIELDS

ENV_URL = "TRADEBOOK_DGDDI_URL"
# Documented default. NOT CONFIRMED: DGDDI publishes the yearly ZIP on "Le chiffre du
# commerce extérieur" (lekiosque.finances.gouv.fr, menu « Téléchargement » >
# « Bases complètes ») and its address changes between releases. This default is that
# download area; when it does not answer with the ZIP itself, the error tells the user
# to copy the ZIP's address from the site (--url, or TRADEBOOK_DGDDI_URL) or to
# download it by hand and import it with --zip.
DEFAULT_URL = "https://lekiosque.finances.gouv.fr/site_fr/telechargement/telechargement_SGBD.asp"
DEFAULT_NAME = "dgddi_regional_cpf4pays.zip"
MAX_ATTEMPTS = 4
CHUNK = 1 << 16
RETRY_PAUSE = 0.5
_HELP = ("Copiez l'adresse du ZIP depuis lekiosque.finances.gouv.fr (« Téléchargement » > "
         "« Bases complètes ») et passez-la avec --url (ou le réglage TRADEBOOK_DGDDI_URL), ou "
         "téléchargez le fichier à la main puis importez-le avec --zip CHEMIN.")


class FetchError(TradebookError):
    """A download or import failed (network, HTTP error, truncated or wrong file)."""


def default_url() -> str:
    """The ZIP address: the ``TRADEBOOK_DGDDI_URL`` setting, else :data:`DEFAULT_URL`."""
    return os.environ.get(ENV_URL, "").strip() or DEFAULT_URL


def check_url(url: str) -> str:
    """``url`` when it is an ``http(s)://host/...`` address, else a French :class:`FetchError`
    (urllib would raise ``ValueError`` on « pas une adresse »)."""
    text = url.strip()
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(c.isspace() for c in text)):
        raise FetchError(
            f"« {url} » n'est pas une adresse web valable : --url (ou le réglage {ENV_URL}) "
            "attend une adresse complète commençant par https:// (ou http://), par exemple "
            "https://www.douane.gouv.fr/…/fichier.zip. Pour un fichier déjà sur votre disque, "
            f"utilisez --zip CHEMIN. {_HELP}"
        )
    return text


def file_name(url: str) -> str:
    """Name of the downloaded file: the URL's last path segment if it is a ``.zip``."""
    name = PurePosixPath(urllib.parse.urlparse(url).path).name
    name = re.sub(r"[^A-Za-z0-9._-]", "_", urllib.parse.unquote(name))
    return name if name.lower().endswith(".zip") else DEFAULT_NAME


class _Retry(Exception):
    """An attempt failed in a way worth retrying (``resume``: keep the partial file)."""

    def __init__(self, message: str, resume: bool):
        super().__init__(message)
        self.resume = resume


def download(url: str, dest: Path, *, timeout: float, attempts: int = MAX_ATTEMPTS) -> Path:
    """Download the DGDDI ZIP at ``url`` into the folder ``dest``; return its path.

    ``dest`` may also name the ZIP file itself (``.../nom.zip``).
    The partial file lives beside the target as ``.NAME.part`` until the ZIP is
    verified, then it is renamed into place (atomic on one file system).
    """
    url = check_url(url)
    dest = Path(dest)
    target = dest if dest.suffix.lower() == ".zip" else dest / file_name(url)
    dest = target.parent
    dest.mkdir(parents=True, exist_ok=True)
    part = dest / f".{target.name}.part"
    part.unlink(missing_ok=True)
    last = ""
    try:
        for attempt in range(1, attempts + 1):
            try:
                _attempt(url, part, timeout)
                break
            except _Retry as exc:
                last = str(exc)
                if not exc.resume:
                    part.unlink(missing_ok=True)
                if attempt < attempts:
                    time.sleep(RETRY_PAUSE * attempt)
        else:
            raise FetchError(
                f"Téléchargement de {url} impossible après {attempts} tentatives : {last}. "
                f"Vérifiez la connexion et l'adresse, ou : {_HELP}"
            )
        verify_archive(part, origin=url)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def _attempt(url: str, part: Path, timeout: float) -> None:
    """One HTTP request: resume from ``part``'s size when it exists."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": f"tradebook/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # range beyond the file: start again
            raise _Retry("reprise refusée par le serveur (HTTP 416)", resume=False) from exc
        if exc.code >= 500 or exc.code == 429:
            raise _Retry(f"erreur du serveur HTTP {exc.code}", resume=True) from exc
        raise FetchError(f"{url} : erreur HTTP {exc.code} ({exc.reason}). {_HELP}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Retry(f"erreur réseau ({reason})", resume=True) from exc
    with response:
        partial = response.status == 206
        resumed = bool(have) and partial and _range_start(response) == have
        if partial and not resumed:
            raise _Retry("reprise incohérente (plage inattendue)", resume=False)
        mode = "ab" if resumed else "wb"
        start = have if resumed else 0
        length = response.headers.get("Content-Length")
        expected = start + int(length) if length and length.isdigit() else None
        received = _copy(response, part, mode, start, expected, url)
    if expected is not None and received < expected:
        supports_range = resumed or response.headers.get("Accept-Ranges", "").lower() == "bytes"
        raise _Retry(f"téléchargement tronqué ({received} octets reçus sur {expected})",
                     resume=supports_range)


def _range_start(response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _copy(response, part: Path, mode: str, start: int, expected: int | None, url: str) -> int:
    """Stream the body into ``part`` with a progress bar; return the bytes now held."""
    received = start
    with open(part, mode) as fh, tqdm(total=expected, initial=start, unit="o", unit_scale=True,
                                      unit_divisor=1024, desc=file_name(url), leave=False,
                                      disable=None) as bar:
        while True:
            try:
                chunk = response.read(CHUNK)
            except http.client.IncompleteRead as exc:
                fh.write(exc.partial)
                received += len(exc.partial)
                break
            except (OSError, socket.timeout, http.client.HTTPException):
                break  # connection cut or stalled: the size check decides
            if not chunk:
                break
            fh.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    return received


def verify_archive(path: Path, *, origin: str | Path) -> None:
    """Check that ``path`` is an intact ZIP holding both DGDDI data files."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not zipfile.is_zipfile(path):
        looks_html = b"<html" in head.lower() or b"<!doctype" in head.lower()
        kind = "une page web (HTML)" if looks_html else "un fichier qui n'est pas une archive ZIP"
        raise FetchError(f"{origin} : la réponse est {kind}, pas le ZIP de la DGDDI. {_HELP}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = {PurePosixPath(n).name.upper() for n in zf.namelist()}
            huge = [i for i in zf.infolist() if i.file_size > MAX_MEMBER_BYTES]
            broken = None if huge else zf.testzip()  # do not expand a bomb to test it
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FetchError(f"{origin} : archive ZIP endommagée ({exc}). "
                         "Téléchargez-la à nouveau.") from exc
    if huge:
        raise FetchError(
            f"{origin} : le membre {huge[0].filename} ferait {format_number(huge[0].file_size, 0)} "
            f"octets une fois décompressé, au-delà de la limite de "
            f"{format_number(MAX_MEMBER_BYTES, 0)} octets : ce n'est pas le ZIP de la DGDDI "
            "(son plus gros fichier fait environ 70 Mo). Téléchargez-le à nouveau."
        )
    if broken:
        raise FetchError(f"{origin} : le membre {broken} de l'archive est endommagé (somme de "
                         "contrôle fausse). Téléchargez-la à nouveau.")
    missing = [n for n in DATA_FILES if n.upper() not in names]
    if missing:
        raise FetchError(
            f"{origin} : l'archive ne contient pas {', '.join(missing)}. Ce n'est pas le ZIP des "
            "statistiques régionales et départementales de la DGDDI (il doit contenir "
            "REGIONAL_CPF4PAYSE.txt et REGIONAL_CPF4PAYSI.txt)."
        )


def import_archive(path: Path, dest: Path) -> Path:
    """Copy a ZIP (or one TXT data file) downloaded by hand into ``dest``, verified.

    A TXT file is stored under its DGDDI name (``REGIONAL_CPF4PAYSE.txt`` for
    exports, ``...I.txt`` for imports, told by its name or its first line).
    """
    path, dest = Path(path), Path(dest)
    if not path.is_file():
        raise FetchError(f"Fichier introuvable : {path}. {_HELP}")
    if zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
        verify_archive(path, origin=path)
        name = path.name
    else:
        name = _txt_name(path)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / name
    if target.exists() and target.resolve() == path.resolve():
        return target
    with atomic_path(target) as tmp:
        shutil.copyfile(path, tmp)
    return target


def _txt_name(path: Path) -> str:
    """DGDDI name of a TXT data file, after checking its first line looks like data."""
    with open(path, "rb") as fh:
        first = fh.readline(4096)
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    try:
        fields = first.decode("utf-8").rstrip("\r\n").split(";")
    except UnicodeDecodeError as exc:
        raise FetchError(f"{path}, ligne 1 : le fichier n'est pas en UTF-8 : ce n'est pas un "
                         f"fichier de données DGDDI. {_HELP}") from exc
    if len(fields) != N_FIELDS or fields[0] not in ("E", "I"):
        raise FetchError(
            f"{path}, ligne 1 : {len(fields)} champ(s) ; un fichier de données DGDDI a 10 champs "
            f"séparés par « ; » et commence par E ou I. Importez le ZIP de la DGDDI ou l'un des "
            "fichiers REGIONAL_CPF4PAYSE.txt / REGIONAL_CPF4PAYSI.txt."
        )
    for name, flux in DATA_FILES.items():
        if path.name.upper() == name.upper():
            return name
    return next(name for name, flux in DATA_FILES.items() if flux == fields[0])
