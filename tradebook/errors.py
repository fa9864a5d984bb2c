"""Errors shown to users: French messages, exit status 2 at the command line."""

from __future__ import annotations

import errno
from pathlib import Path


class TradebookError(Exception):
    """A problem with the user's input, explained in French.

    The message names the file, the line and the fix where they are known.
    The command line prints it on stderr and exits with status 2.
    """

    exit_code = 2


class InvalidDataError(TradebookError):
    """A data file is malformed, truncated or in the wrong encoding."""


class UnknownCodeError(TradebookError):
    """A département or region code that does not exist."""


class MissingDataError(TradebookError):
    """The requested year, quarter or zone is absent from the data."""


class FileAccessError(TradebookError):
    """A file or folder the user named cannot be read or written (rights, full disk,
    a file where a folder is expected...)."""


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM.

    Raised by the command line's SIGTERM handler; a subclass of
    :class:`KeyboardInterrupt` so that every clean-up written for Ctrl-C (removing
    temporary files, stopping child processes) also runs on SIGTERM.
    """


# errno -> (French reason, French fix). The fix is a sentence ending with a full stop.
_OS_REASONS: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission refusée",
                   "Choisissez un emplacement où vous avez ce droit, ou modifiez les droits "
                   "(ls -l, chmod)."),
    errno.EPERM: ("opération non permise",
                  "Choisissez un autre emplacement, ou modifiez les droits (ls -l, chmod)."),
    errno.EROFS: ("système de fichiers en lecture seule",
                  "Choisissez un emplacement sur un disque accessible en écriture."),
    errno.ENOSPC: ("plus de place sur le disque",
                   "Libérez de la place ou choisissez un autre disque."),
    errno.EDQUOT: ("quota de disque dépassé",
                   "Libérez de la place ou choisissez un autre disque."),
    errno.EEXIST: ("un fichier de ce nom existe déjà là où un dossier est attendu",
                   "Choisissez un autre chemin, ou déplacez ce fichier."),
    errno.ENOTDIR: ("un élément du chemin est un fichier, pas un dossier",
                    "Vérifiez le chemin : chacun de ses éléments doit être un dossier."),
    errno.EISDIR: ("c'est un dossier, un fichier est attendu",
                   "Donnez le chemin d'un fichier (par exemple DOSSIER/nom.zip)."),
    errno.ENOENT: ("chemin introuvable",
                   "Vérifiez l'orthographe du chemin et que ses dossiers existent."),
    errno.ENAMETOOLONG: ("nom trop long", "Choisissez un chemin plus court."),
    errno.ELOOP: ("trop de liens symboliques", "Vérifiez les liens symboliques de ce chemin."),
    errno.ENXIO: ("périphérique ou tube sans lecteur",
                  "Donnez un fichier ordinaire ou un dossier."),
    errno.EIO: ("erreur d'entrée-sortie du disque",
                "Vérifiez le disque (câble, réseau, montage) puis relancez."),
    errno.EMFILE: ("trop de fichiers ouverts", "Fermez d'autres programmes puis relancez."),
    errno.ENFILE: ("trop de fichiers ouverts", "Fermez d'autres programmes puis relancez."),
    errno.EBUSY: ("ressource occupée", "Réessayez quand elle sera libre."),
    errno.EXDEV: ("déplacement entre deux disques impossible",
                  "Choisissez un emplacement sur le même disque."),
}


def os_reason(exc: OSError) -> tuple[str, str]:
    """The French reason and fix of an operating-system error."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    name = errno.errorcode.get(exc.errno or 0, "inconnue")
    return (f"erreur du système ({name})",
            "Vérifiez ce chemin ; relancez avec --verbeux pour le détail.")


def file_access_error(exc: OSError, path: Path | str | None = None, *,
                      action: str = "accéder à", option: str | None = None) -> FileAccessError:
    """A French :class:`FileAccessError` for ``exc``: « Impossible d'<action> <path>
    (<option>) : <reason>. <fix> ». ``path`` defaults to the path the system names."""
    shown = path if path is not None else (exc.filename2 or exc.filename)
    elided = "d'" if action[:1] in "aeéiou" else "de "
    target = f" {shown}" if shown is not None else ""
    where = f" ({option})" if option else ""
    reason, fix = os_reason(exc)
    return FileAccessError(f"Impossible {elided}{action}{target}{where} : {reason}. {fix}")
