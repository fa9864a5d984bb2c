"""Stage 1: read and validate DGDDI files (data files and label files).

Label files come with real quirks: a BOM on ``Libelle_A129.txt``, cp1252 in
``Libelle_CPF4_rev2.1.txt`` although documented as UTF-8, labels containing
``;`` in double quotes, CRLF line ends.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tradebook.errors import InvalidDataError

BOM = b"\xef\xbb\xbf"


def decode_label_bytes(raw: bytes, name: str) -> str:
    """Decode a label file: UTF-8 (BOM tolerated), else cp1252 as DGDDI really ships."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:1000]:
        raise InvalidDataError(
            f"{name} : encodage UTF-16 détecté. Réenregistrez le fichier en UTF-8 "
            "ou reprenez le fichier d'origine de la DGDDI."
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict")


def read_label_file(
    source: Path | bytes, *, name: str | None = None, columns: int = 4
) -> list[tuple[str, ...]]:
    """Parse a DGDDI ``;``-separated label file into tuples of ``columns`` strings.

    ``source`` is a path or the raw bytes of a ZIP member (then ``name`` names it
    in error messages). Blank lines are ignored; any other line without exactly
    ``columns`` fields raises :class:`InvalidDataError` naming the line.
    """
    if isinstance(source, Path):
        name = name or source.name
        raw = source.read_bytes()
    else:
        raw = source
        name = name or "fichier de libellés"
    try:
        text = decode_label_bytes(raw, name)
    except UnicodeDecodeError as exc:  # pragma: no cover - cp1252 decodes almost anything
        raise InvalidDataError(f"{name} : encodage illisible ({exc}).") from exc
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
    for record in reader:
        if not record or all(not field.strip() for field in record):
            continue
        if len(record) != columns:
            raise InvalidDataError(
                f"{name}, ligne {reader.line_num} : {len(record)} champs au lieu de "
                f"{columns}. Vérifiez que le fichier n'est pas tronqué ou modifié."
            )
        rows.append(tuple(field.strip() for field in record))
    return rows
