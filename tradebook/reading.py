"""Stage 1: read and validate DGDDI sources (data files and label files).

Data files ``REGIONAL_CPF4PAYS{E,I}.txt``: no header, ``;`` separated, UTF-8,
10 fields (flux, trimestre, année, département, région, A129, CPF4, pays, valeur,
masse), one row per quarter and key (flux, trimestre, année, département, CPF4,
pays). They are parsed with pyarrow and validated with vectorised checks; Python
only loops over the rows that fail. Every kept row remembers its file and line
(columns ``fichier`` and ``ligne``) so that later stages can name them.

A preparation may read several sources (ZIPs, folders, TXT files) in order: for
each (year, quarter) the source given last that holds it wins, both flux, and the
others' rows of that quarter are left out (see :func:`read_sources`).

Label files come with real quirks: a BOM on ``Libelle_A129.txt``, cp1252 in
``Libelle_CPF4_rev2.1.txt`` although documented as UTF-8, labels containing
``;`` in double quotes, CRLF line ends.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tradebook import nomenclatures
from tradebook.errors import InvalidDataError, MissingDataError
from tradebook.formatting import format_number

BOM = b"\xef\xbb\xbf"
EXPORT_FILE = "REGIONAL_CPF4PAYSE.txt"
IMPORT_FILE = "REGIONAL_CPF4PAYSI.txt"
DATA_FILES = {EXPORT_FILE: "E", IMPORT_FILE: "I"}
FLUXES = ("E", "I")
FLUX_NAMES = {"E": "exportations", "I": "importations"}
FICTITIOUS_MARKER = "DONNEES_FICTIVES.txt"
# Label tables of the source (file name prefix, lower case) -> project table name.
LABEL_FILES = {"libelle_a129": "a129", "libelle_cpf4": "cpf4", "libelle_pays": "pays"}
COLUMNS = ["flux", "trimestre", "annee", "departement", "region_dgddi",
           "a129", "cpf4", "pays", "valeur", "masse"]
N_FIELDS = len(COLUMNS)
FILE_COLUMN = "fichier"  # display name of the file a kept row comes from
LINE_COLUMN = "ligne"  # its line number in that file (1-based)
# The key DGDDI never repeats within a file (A129 and region follow from it).
KEY_COLUMNS = ["flux", "trimestre", "annee", "departement", "cpf4", "pays"]
FIRST_YEAR = 1990
MAX_DIGITS = 18
# Largest value or mass accepted on a line: 18 significant digits (leading zeros
# allowed), the same rule on both parse paths. Sums are checked separately.
MAX_VALUE = 10 ** MAX_DIGITS - 1
# Largest decompressed size of a ZIP member (or a file) read into memory. The real
# export file is about 70 MB for 5 quarters and its key space (départements x CPF4 x
# countries) caps its growth; preparing needs about twice the text in memory, so
# 1 GiB (15 times the real file) keeps a hostile or damaged archive from exhausting
# a laptop while leaving ample room for real publications.
MAX_MEMBER_BYTES = 1 << 30
SHOWN_PROBLEMS = 10
# Bytes that never occur in a DGDDI text file (tab included; CR and LF are line ends).
_CONTROL_BYTES = bytes(range(0x00, 0x0A)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20)) + b"\x7f"
_OTHER_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
# A byte that never occurs in a valid data line (a control byte, refused before
# parsing): the line path reads each line as one field.
_LINE_DELIMITER = "\x01"
_UTF16_PROBE = 64  # bytes looked at to tell UTF-16 text


# --------------------------------------------------------------------------- encodings

def check_not_utf16(raw: bytes, name: str) -> None:
    """Refuse UTF-16 text (a UTF-16 byte-order mark, or NUL bytes in every few of the
    first bytes, as ASCII text saved in UTF-16 has) with the fix, naming the file."""
    head = raw[:_UTF16_PROBE]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (head and head.count(0) * 4 >= len(head)):
        raise InvalidDataError(
            f"{name}, ligne 1 : le fichier est en UTF-16, pas en UTF-8. Réenregistrez-le en "
            "UTF-8 (sans en-tête) ou reprenez le fichier d'origine de la DGDDI."
        )


def _check_utf8(raw: bytes, name: str) -> None:
    """Raise a French error naming the line when the bytes are not UTF-8 text."""
    check_not_utf16(raw, name)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidDataError(
            f"{name}, ligne {line} : octets non UTF-8 ({raw[exc.start:exc.start + 4]!r}) ; le "
            "fichier a sans doute été réenregistré en cp1252/Latin-1. Réenregistrez-le en UTF-8 "
            "ou reprenez le fichier d'origine de la DGDDI."
        ) from exc


def _check_control_characters(raw: bytes, name: str) -> None:
    """Refuse a data file holding a control character anywhere (NUL, tab, \\x01...),
    naming the line of the first one. One C-speed pass over the whole file."""
    found = raw.translate(None, _OTHER_BYTES)
    if not found:
        return
    check_not_utf16(raw, name)
    position = min(raw.find(bytes([byte])) for byte in set(found))
    line = raw.count(b"\n", 0, position) + 1
    raise InvalidDataError(
        f"{name}, ligne {line} : caractère de contrôle inattendu (octet 0x{raw[position]:02X}) : "
        "le fichier est endommagé ou ce n'est pas un fichier texte DGDDI. Reprenez le fichier "
        "d'origine de la DGDDI."
    )


# --------------------------------------------------------------------------- labels

def decode_label_bytes(raw: bytes, name: str) -> str:
    """Decode a label file: UTF-8 (BOM tolerated), else cp1252 as DGDDI really ships."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    check_not_utf16(raw, name)
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


# --------------------------------------------------------------------------- results

@dataclass
class ValidationReport:
    """What the read kept and rejected; ``problems`` lists (file, line, reason)."""

    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    euros_rejected: int = 0
    rows_rejected_value_unknown: int = 0
    rows_repeated: int = 0
    blank_lines: int = 0
    problems: list[tuple[str, int, str]] = field(default_factory=list)
    files: dict[str, dict[str, int]] = field(default_factory=dict)

    def merge(self, other: ValidationReport) -> None:
        """Add another file's report to this one."""
        self.rows_read += other.rows_read
        self.rows_kept += other.rows_kept
        self.rows_rejected += other.rows_rejected
        self.euros_rejected += other.euros_rejected
        self.rows_rejected_value_unknown += other.rows_rejected_value_unknown
        self.rows_repeated += other.rows_repeated
        self.blank_lines += other.blank_lines
        self.problems.extend(other.problems)
        self.files.update(other.files)

    def to_dict(self, max_problems: int | None = None) -> dict:
        """The report for the manifest (French keys); ``max_problems`` caps the list."""
        problems = self.problems if max_problems is None else self.problems[:max_problems]
        return {
            "lignes_lues": self.rows_read,
            "lignes_gardees": self.rows_kept,
            "lignes_rejetees": self.rows_rejected,
            "euros_rejetes": self.euros_rejected,
            "lignes_rejetees_valeur_illisible": self.rows_rejected_value_unknown,
            "lignes_repetees": self.rows_repeated,
            "lignes_vides_ignorees": self.blank_lines,
            "fichiers": self.files,
            "nombre_problemes": len(self.problems),
            "problemes": [{"fichier": f, "ligne": n, "motif": r} for f, n, r in problems],
        }


@dataclass
class RawData:
    """Validated rows of one or several DGDDI sources, with report, labels, provenance.

    ``encoded`` holds the rows with dictionary-encoded code columns (fast to filter
    and group) plus ``fichier`` and ``ligne``; ``table`` gives the 10 data columns
    with plain string codes. ``files`` maps each flux present to its data file(s);
    ``missing_flux`` is the flux the user declared absent (``--flux-absent``).
    ``quarter_sources`` says which source gave each (year, quarter); ``replaced``
    lists the rows of a quarter left out because a later source holds it.
    """

    encoded: pa.Table
    report: ValidationReport
    labels: dict[str, list[tuple[str, ...]]]
    donnees_fictives: bool
    sources: list[dict]
    files: dict[str, str] = field(default_factory=dict)  # flux -> data file name(s)
    missing_flux: str | None = None
    source_paths: list[str] = field(default_factory=list)
    quarter_sources: dict[tuple[int, int], str] = field(default_factory=dict)
    replaced: list[dict] = field(default_factory=list)
    _decoded: pa.Table | None = field(default=None, repr=False)
    _quarters: dict[str, list[tuple[int, int]]] | None = field(default=None, repr=False)

    @property
    def table(self) -> pa.Table:
        """The rows: codes as strings, ``trimestre``/``annee`` int16, values int64."""
        if self._decoded is None:
            self._decoded = decode_table(self.encoded.select(COLUMNS))
        return self._decoded

    def quarters(self) -> dict[str, list[tuple[int, int]]]:
        """Flux -> sorted (year, quarter) pairs present in the kept rows (computed once)."""
        if self._quarters is None:
            self._quarters = quarters_of(self.encoded)
        return {flux: list(pairs) for flux, pairs in self._quarters.items()}


def quarters_of(table: pa.Table) -> dict[str, list[tuple[int, int]]]:
    """Flux -> sorted (year, quarter) pairs present in a table of rows."""
    pairs = table.group_by(["flux", "annee", "trimestre"]).aggregate([])
    out: dict[str, list[tuple[int, int]]] = {}
    for flux, year, quarter in zip(*(pairs.column(c).to_pylist()
                                      for c in ("flux", "annee", "trimestre"))):
        out.setdefault(str(flux), []).append((year, quarter))
    return {flux: sorted(v) for flux, v in out.items()}


def decode_table(table: pa.Table) -> pa.Table:
    """The same table with dictionary columns cast to plain strings."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        columns[name] = (pc.cast(column, pa.string())
                         if pa.types.is_dictionary(column.type) else column)
    return pa.table(columns)


def exact_sum(values: pa.Array | pa.ChunkedArray) -> int:
    """Exact sum of int64 values (nulls ignored) as a Python int, never wrapping.

    Each value is split into its high and low 32-bit halves; neither sum of halves
    can leave int64 below 2**31 rows, and Python recombines them exactly.
    """
    high = pc.sum(pc.shift_right(values, 32)).as_py() or 0
    low = pc.sum(pc.bit_wise_and(values, 0xFFFFFFFF)).as_py() or 0
    return (high << 32) + low


def dictionary_array(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """One dictionary-encoded chunk (string columns are encoded, chunks unified)."""
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type) and column.num_chunks > 1:
            column = column.unify_dictionaries()
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)


def sorted_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Integer codes of a column whose order follows the sorted distinct values.

    Returns the code of every row (int64) and the sorted dictionary they index.
    """
    column = dictionary_array(column)
    dictionary = column.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    indices = column.indices.to_numpy(zero_copy_only=False)
    return rank[indices], dictionary.take(pa.array(order))


def row_keys(table: pa.Table, keys: Sequence[str]) -> np.ndarray:
    """One int64 per row, equal exactly when two rows agree on every column of ``keys``.

    Codes are combined in mixed radix; when the product of distinct counts would
    leave int64, the partial key is first renumbered densely (at most one code per row).
    """
    combined = np.zeros(table.num_rows, dtype=np.int64)
    capacity = 1
    for key in keys:
        column = table.column(key)
        if pa.types.is_integer(column.type):
            values = column.to_numpy()
            low = int(values.min()) if len(values) else 0
            codes, size = values - low, (int(values.max()) - low + 1 if len(values) else 1)
        else:
            encoded = dictionary_array(column)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            size = max(len(encoded.dictionary), 1)
        if capacity * size >= 2 ** 62:
            _, combined = np.unique(combined, return_inverse=True)
            capacity = int(combined.max()) + 1 if len(combined) else 1
        combined *= size  # in place: one int64 array for the whole key
        combined += codes
        capacity *= size
    return combined


def repeated_rows(table: pa.Table, keys: Sequence[str] = KEY_COLUMNS
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose key already appeared on an earlier row, and that earliest row.

    Returns two aligned index arrays (repeat, first occurrence), empty in the usual
    case, which costs one sort of one integer per row.
    """
    empty = np.zeros(0, dtype=np.int64)
    if table.num_rows < 2:
        return empty, empty
    ordered = row_keys(table, keys)
    ordered.sort()  # in place; numpy's sort beats a hash set of distinct integers here
    if not (ordered[1:] == ordered[:-1]).any():
        return empty, empty
    key = row_keys(table, keys)  # a repeat exists: find the rows, in their order
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    run = np.cumsum(starts) - 1
    first_of_run = order[np.flatnonzero(starts)]
    repeats = np.flatnonzero(~starts)
    return order[repeats], first_of_run[run[repeats]]


# --------------------------------------------------------------------------- sources

@dataclass
class _Member:
    """One file of a source: its name, its display name and a way to get its bytes."""

    name: str
    display: str
    loader: Callable[[], bytes]

    def read(self) -> bytes:
        return self.loader()


def file_digest(path: Path) -> dict:
    """name / sha256 / octets of a file, hashed in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"name": path.name, "sha256": digest.hexdigest(), "octets": path.stat().st_size}


def _too_big(display: str, size: int | str) -> InvalidDataError:
    shown = format_number(size, 0) if isinstance(size, int) else size
    return InvalidDataError(
        f"{display} : {shown} octets une fois décompressé, au-delà de la limite de "
        f"{format_number(MAX_MEMBER_BYTES, 0)} octets (MAX_MEMBER_BYTES). Ce n'est pas un "
        "fichier de la DGDDI (le fichier réel des exportations fait environ 70 Mo) : "
        "reprenez l'archive d'origine."
    )


def read_zip_member(path: Path, info: zipfile.ZipInfo, display: str) -> bytes:
    """The bytes of one ZIP member, refused when bigger than :data:`MAX_MEMBER_BYTES`:
    first from the sizes in the ZIP header, then while decompressing (headers can lie),
    so a bomb is never expanded in full."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise _too_big(display, info.file_size)
    try:
        with zipfile.ZipFile(path) as zf, zf.open(info) as fh:
            data = fh.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise InvalidDataError(
            f"{path.name} : le membre {info.filename} est illisible ({exc}). "
            "L'archive est probablement tronquée : téléchargez-la à nouveau."
        ) from exc
    if len(data) > MAX_MEMBER_BYTES:
        raise _too_big(display, f"plus de {format_number(MAX_MEMBER_BYTES, 0)}")
    return data


def _read_file(path: Path) -> bytes:
    """A file's bytes, refused beyond :data:`MAX_MEMBER_BYTES` before reading them."""
    size = path.stat().st_size
    if size > MAX_MEMBER_BYTES:
        raise _too_big(path.name, size)
    return path.read_bytes()


def _zip_members(path: Path) -> list[_Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InvalidDataError(
            f"{path} n'est pas une archive ZIP valide ({exc}). Téléchargez à nouveau le "
            "fichier de la DGDDI (python -m tradebook fetch) ou donnez le dossier des fichiers TXT."
        ) from exc
    members = []
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            display = f"{path.name}/{info.filename}"
            members.append(_Member(PurePosixPath(info.filename).name, display,
                                   lambda info=info, display=display:
                                   read_zip_member(path, info, display)))
    return members


def _folder_members(path: Path, prefix: str = "") -> list[_Member]:
    return [_Member(p.name, prefix + p.name, lambda p=p: _read_file(p))
            for p in sorted(path.iterdir()) if p.is_file()]


def resolve_source(path: Path) -> Path:
    """The source to read: ``path`` itself, or the only ZIP of a folder without TXT data
    files (``data/raw/`` after ``fetch``)."""
    path = Path(path)
    if not path.exists():
        raise MissingDataError(
            f"Source introuvable : {path}. Donnez le ZIP DGDDI, le dossier des fichiers "
            "REGIONAL_CPF4PAYS*.txt ou téléchargez-les avec « python -m tradebook fetch »."
        )
    if path.is_dir() and not any(_is_data_file(p.name) for p in path.iterdir()):
        zips = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip" and p.is_file())
        if len(zips) == 1:
            return zips[0]
        if len(zips) > 1:
            raise MissingDataError(
                f"{path} contient plusieurs ZIP ({', '.join(p.name for p in zips)}) : "
                "indiquez lesquels préparer avec --donnees ANCIEN.zip RECENT.zip."
            )
    return path


def source_members(path: Path, *, digest_data: bool = True, prefix: str = ""
                   ) -> tuple[list[_Member], list[dict]]:
    """The files of a source (ZIP, folder or single TXT) and their digests.

    For a folder, ``digest_data=False`` leaves out the data files' digests (the
    caller hashes the bytes it reads anyway); see :func:`bytes_digest`. ``prefix``
    goes before the display name of a folder's files (several sources are read).
    """
    path = resolve_source(path)
    if path.is_dir():
        members = _folder_members(path, prefix)
        used = [m for m in members if (_is_data_file(m.name) and digest_data)
                or _label_table(m.name) or m.name.upper() == FICTITIOUS_MARKER.upper()]
        return members, [file_digest(path / m.name) for m in used]
    if zipfile.is_zipfile(path):
        return _zip_members(path), [file_digest(path)]
    if path.suffix.lower() == ".zip":
        raise InvalidDataError(
            f"{path} n'est pas une archive ZIP valide (fichier tronqué ou page web enregistrée "
            "sous ce nom ?). Téléchargez à nouveau le ZIP de la DGDDI "
            "(python -m tradebook fetch) ou donnez le dossier des fichiers TXT."
        )
    return [_Member(path.name, path.name, lambda: _read_file(path))], [file_digest(path)]


def source_digests(path: Path) -> list[dict]:
    """SHA-256 of the files that make up a source (used as the cache key)."""
    return sorted(source_members(path)[1], key=lambda d: d["name"])


def bytes_digest(name: str, data: bytes) -> dict:
    """name / sha256 / octets of bytes already in memory (same form as file_digest)."""
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "octets": len(data)}


def _is_data_file(name: str) -> bool:
    return _flux_of(name) is not None


def _label_table(name: str) -> str | None:
    lower = name.lower()
    if not lower.endswith(".txt"):
        return None
    for prefix, table in LABEL_FILES.items():
        if lower.startswith(prefix):
            return table
    return None


def _flux_of(name: str) -> str | None:
    for data_name, flux in DATA_FILES.items():
        if name.upper() == data_name.upper():
            return flux
    return None


def flux_code(text: str) -> str:
    """``E``/``I`` for a flux given as a code or a French or English word."""
    words = {"e": "E", "i": "I", "exportations": "E", "importations": "I",
             "exports": "E", "imports": "I", "export": "E", "import": "I"}
    code = words.get(str(text).strip().lower())
    if code is None:
        raise InvalidDataError(
            f"Flux inconnu : « {text} ». Écrivez exportations ou importations.")
    return code


# --------------------------------------------------------------------------- reading sources

@dataclass
class _SourceRows:
    """What one source gave: its rows, report, labels and provenance."""

    path: Path
    table: pa.Table
    report: ValidationReport
    labels: dict[str, list[tuple[str, ...]]]
    fictitious: bool
    digests: list[dict]
    files: dict[str, str]


def read_source(path: Path, *, skip_invalid: bool = False,
                missing_flux: str | None = None) -> RawData:
    """Read and validate one DGDDI source: a ZIP, a folder of TXT files or one TXT file.

    See :func:`read_sources`.
    """
    return read_sources([path], skip_invalid=skip_invalid, missing_flux=missing_flux)


def read_sources(paths: Sequence[Path], *, skip_invalid: bool = False,
                 missing_flux: str | None = None) -> RawData:
    """Read and validate DGDDI sources given in order (oldest publication first).

    Each source must hold both flux, unless ``missing_flux`` (``"E"`` or ``"I"``)
    says which one is really missing. Every row is checked, including that no key
    repeats within a source; by default any bad row raises :class:`InvalidDataError`
    listing the first problems of all sources. With ``skip_invalid`` bad rows (and
    repeats, after their first occurrence) are dropped and each one is listed in the
    report, with the euros they carried. For each (year, quarter), the rows of the
    last source holding it are kept, both flux, and the others' are left out.
    """
    if not paths:
        raise MissingDataError("Aucune source de données : donnez --donnees CHEMIN.")
    if missing_flux is not None:
        missing_flux = flux_code(missing_flux)
    resolved = [resolve_source(Path(p)) for p in paths]
    several = len(resolved) > 1
    parts = [_read_one(path, prefix=f"{path}/" if several and path.is_dir() else "",
                       missing_flux=missing_flux) for path in resolved]
    report = ValidationReport()
    for part in parts:
        report.merge(part.report)
    if report.problems and not skip_invalid:
        raise InvalidDataError(problems_message(report))
    table, quarter_sources, replaced = _latest_quarters(parts)
    quarters = quarters_of(table)
    if len(parts) == 1:
        quarter_sources = {pair: str(resolved[0])
                           for pair in sorted({p for found in quarters.values() for p in found})}
    labels: dict[str, list[tuple[str, ...]]] = {}
    for part in reversed(parts):  # a later source's label wins a tie (see label_table)
        for name, rows in part.labels.items():
            labels.setdefault(name, []).extend(rows)
    files: dict[str, list[str]] = {}
    for part in parts:
        for flux, name in part.files.items():
            files.setdefault(flux, []).append(name)
    return RawData(
        encoded=table, report=report, labels=labels,
        donnees_fictives=any(part.fictitious for part in parts),
        sources=[digest for part in parts for digest in part.digests],
        files={flux: ", ".join(names) for flux, names in sorted(files.items())},
        missing_flux=missing_flux, source_paths=[str(p) for p in resolved],
        quarter_sources=quarter_sources, replaced=replaced, _quarters=quarters,
    )


def _read_one(path: Path, *, prefix: str, missing_flux: str | None) -> _SourceRows:
    """Read one source: its data files (both at once), repeated keys, labels, marker."""
    members, digests = source_members(path, digest_data=False, prefix=prefix)
    single_txt = path.is_file() and not zipfile.is_zipfile(path)
    data = members if single_txt else [m for m in members if _is_data_file(m.name)]
    if len({m.name.upper() for m in data}) < len(data):
        names = ", ".join(sorted(m.display for m in data))
        raise InvalidDataError(
            f"{path} : fichiers de données en double ({names}). Gardez un seul "
            "REGIONAL_CPF4PAYSE.txt et un seul REGIONAL_CPF4PAYSI.txt."
        )
    if not single_txt:
        _check_flux_present(path, {_flux_of(m.name) for m in data}, missing_flux, False)
    data = sorted(data, key=lambda m: m.name.upper())
    digest_bytes = path.is_dir()

    def read_member(member: _Member) -> tuple[pa.Table, ValidationReport, dict | None]:
        content = member.read()
        digest = bytes_digest(member.name, content) if digest_bytes else None
        table, file_report = read_data_bytes(content, member.display,
                                             expected_flux=_flux_of(member.name))
        return table, file_report, digest

    # Both files at once: pyarrow and hashlib release the GIL, so the checks of one
    # file overlap the parsing of the other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(read_member, data))
    tables, report, files = [], ValidationReport(), {}
    for member, (table, file_report, digest) in zip(data, results):
        if digest:
            digests.append(digest)
        tables.append(table)
        report.merge(file_report)
        named = _flux_of(member.name)
        for flux in (named,) if named else _fluxes_in(table):
            files.setdefault(flux, member.display)
    if single_txt:
        _check_flux_present(path, set(files), missing_flux, True)
    table = pa.concat_tables(tables).unify_dictionaries().combine_chunks()
    del tables, results  # never empty (a source holds a flux); free the parts first
    table = _drop_repeats(table, report)
    labels = {}
    for member in members:
        table_name = _label_table(member.name)
        if table_name:
            labels[table_name] = read_label_file(member.read(), name=member.display, columns=4)
    fictitious = any(m.name.upper() == FICTITIOUS_MARKER.upper() for m in members)
    return _SourceRows(path, table, report, labels, fictitious,
                       sorted(digests, key=lambda d: d["name"]), files)


def _check_flux_present(path: Path, present: set[str], missing_flux: str | None,
                        single_txt: bool) -> None:
    """A source holds both flux, or exactly the one the user did not declare absent."""
    for flux in FLUXES:
        name = FLUX_NAMES[flux]
        if flux == missing_flux and flux in present:
            raise InvalidDataError(
                f"{path} contient des {name}, déclarées absentes par --flux-absent {name} : "
                "retirez cette option."
            )
        if flux != missing_flux and flux not in present:
            file = next(n for n, f in DATA_FILES.items() if f == flux)
            held = ("ce fichier ne contient pas de lignes d'" + name if single_txt
                    else f"fichier {file} absent")
            raise MissingDataError(
                f"{path} : aucune donnée d'{name} ({held}). Une source DGDDI contient les deux "
                f"flux : donnez le ZIP complet ou le dossier de REGIONAL_CPF4PAYSE.txt et "
                f"REGIONAL_CPF4PAYSI.txt. Si les {name} manquent vraiment, relancez avec "
                f"--flux-absent {name} : les pages diront que ce flux est absent."
            )


def _drop_repeats(table: pa.Table, report: ValidationReport) -> pa.Table:
    """Reject every row whose key (flux, quarter, year, département, CPF4, country)
    appeared earlier in the source: each becomes a problem naming both lines."""
    repeats, firsts = repeated_rows(table)
    if not len(repeats):
        return table
    names = table.column(FILE_COLUMN)
    lines = table.column(LINE_COLUMN)
    for repeat, first in zip(repeats.tolist(), firsts.tolist()):
        report.problems.append((names[repeat].as_py(), lines[repeat].as_py(), (
            "clé répétée (même flux, trimestre, année, département, CPF4 et pays) : déjà "
            f"vue en {names[first].as_py()}, ligne {lines[first].as_py()}")))
    report.problems.sort(key=lambda p: (p[0], p[1]))
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[repeats] = True
    dropped = table.filter(pa.array(mask))
    report.rows_repeated += len(repeats)
    report.rows_rejected += len(repeats)
    report.rows_kept -= len(repeats)
    report.euros_rejected += exact_sum(dropped.column("valeur"))
    for name, count in zip(*np.unique(decode_table(dropped.select([FILE_COLUMN]))
                                      .column(FILE_COLUMN).to_numpy(zero_copy_only=False),
                                      return_counts=True)):
        report.files[str(name)]["lignes_gardees"] -= int(count)
    return table.filter(pa.array(~mask))


def _latest_quarters(parts: list[_SourceRows]
                     ) -> tuple[pa.Table, dict[tuple[int, int], str], list[dict]]:
    """The rows of each (year, quarter) from the last source holding it.

    Returns the rows, (year, quarter) -> source path, and what was left out of the
    earlier sources (source, year, quarter, rows, replaced by).
    """
    if len(parts) == 1:
        return parts[0].table, {}, []  # the caller gives every quarter to the one source
    held = [{pair for pairs in quarters_of(part.table).values() for pair in pairs}
            for part in parts]
    winner = {pair: i for i, pairs in enumerate(held) for pair in pairs}
    tables, replaced = [], []
    for i, part in enumerate(parts):
        lost = sorted(pair for pair in held[i] if winner[pair] != i)
        table = part.table
        if lost:
            pair_code = (table.column("annee").to_numpy().astype(np.int64) * 10
                         + table.column("trimestre").to_numpy())
            codes = np.array([year * 10 + quarter for year, quarter in lost])
            out = np.isin(pair_code, codes)
            for (year, quarter), code in zip(lost, codes):
                replaced.append({"source": str(part.path), "annee": year, "trimestre": quarter,
                                 "lignes": int((pair_code == code).sum()),
                                 "remplace_par": str(parts[winner[(year, quarter)]].path)})
            table = table.filter(pa.array(~out))
        tables.append(table)
    table = pa.concat_tables(tables).unify_dictionaries().combine_chunks() \
        if len(tables) > 1 else tables[0]
    sources = {pair: str(parts[i].path) for pair, i in sorted(winner.items())}
    return table, sources, replaced


def _fluxes_in(table: pa.Table) -> list[str]:
    """Flux values present in a (validated) table."""
    if table.num_rows == 0:
        return []
    return sorted(set(pc.unique(decode_table(table.select(["flux"])).column("flux"))
                      .to_pylist()))


def problems_message(report: ValidationReport, shown: int = SHOWN_PROBLEMS) -> str:
    """French message listing the first problems, how many there are and the fix."""
    count = len(report.problems)
    lines = [f"{count} ligne(s) invalide(s) dans les données DGDDI"
             f" ({_fmt_int(report.rows_read)} lignes lues). Premiers problèmes :"]
    lines += [f"  - {f}, ligne {n} : {reason}" for f, n, reason in report.problems[:shown]]
    if count > shown:
        lines.append(f"  ... et {count - shown} autre(s).")
    lines.append("Corrigez le fichier (ou reprenez le fichier d'origine de la DGDDI), ou relancez "
                 "avec --skip-invalid pour écarter ces lignes : chacune sera listée dans le "
                 "rapport de préparation, avec les euros écartés.")
    return "\n".join(lines)


def _fmt_int(n: int) -> str:
    return format_number(n, 0)


CODE_COLUMNS = ["flux", "departement", "region_dgddi", "a129", "cpf4", "pays"]
INT_TYPES = {"trimestre": pa.int16(), "annee": pa.int16(), "valeur": pa.int64(),
             "masse": pa.int64()}
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def _column_type(name: str) -> pa.DataType:
    return INT_TYPES.get(name, _DICTIONARY)


# --------------------------------------------------------------------------- data files

def _read_lines(raw: bytes, name: str) -> pa.StringArray:
    """Each line of the file as one string (CRLF and missing final newline tolerated;
    the caller has stripped the BOM and refused control characters)."""
    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=_LINE_DELIMITER, quote_char=False,
                                             escape_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()},
                                                 strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        _check_utf8(raw, name)
        raise InvalidDataError(f"{name} : fichier illisible ({exc}).") from exc
    return table.column("line").combine_chunks()


def _parse_typed(raw: bytes) -> pa.Table | None:
    """Fast path: pyarrow parses the 10 fields straight into their types (codes
    dictionary-encoded, numbers as integers). None when any line would not parse
    (wrong field count, empty line, text in a number...): the line path then says why.

    pyarrow's integer parser also takes `` 5`` and ``-0``, which the rule of
    :func:`_digits` refuses: a file holding a space or a minus sign takes the line path,
    so that both paths give the same verdict on every value.
    """
    if b" " in raw or b"-" in raw:
        return None
    malformed = []

    def on_invalid(row) -> str:
        malformed.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(column_names=COLUMNS, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False, escape_char=False,
                                             ignore_empty_lines=False,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: _column_type(c) for c in COLUMNS},
                strings_can_be_null=False, null_values=[]),
        )
    except pa.ArrowInvalid:
        return None
    if malformed or table.num_rows == 0:
        return None
    table = table.unify_dictionaries().combine_chunks()
    # pyarrow turns an empty line into a row of empty fields: let the line path decide.
    if "" in table.column("flux").chunk(0).dictionary.to_pylist():
        return None
    return table


def _parse_lines(raw: bytes, name: str) -> tuple[dict[str, pa.Array], dict[str, pa.Array],
                                                 np.ndarray, pa.Array]:
    """Slow path: each line split on ``;``. Returns the typed fields of the 10-field
    lines (unreadable numbers as nulls), their text, the field count of every line and
    the lines themselves."""
    lines = _read_lines(raw, name)
    parts = pc.split_pattern(lines, ";")
    counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    good_shape = counts == N_FIELDS
    shaped = parts.filter(pa.array(good_shape)) if not good_shape.all() else parts
    flat = shaped.flatten()
    size = len(shaped)
    texts = {c: pc.take(flat, np.arange(i, size * N_FIELDS, N_FIELDS))
             for i, c in enumerate(COLUMNS)}
    fields = {}
    for column, text in texts.items():
        if column in INT_TYPES:
            fields[column] = _integers(text, INT_TYPES[column])
        else:
            fields[column] = pc.dictionary_encode(text)
    return fields, texts, counts, lines


def _integers(text: pa.Array, kind: pa.DataType) -> pa.Array:
    """The integers of a text column, null where :func:`_digits` refuses the text or
    the number does not fit ``kind``."""
    none = pa.scalar(None, pa.int64())
    values = pc.cast(pc.if_else(_digits(text), text, pa.scalar(None, pa.string())), pa.int64())
    if kind != pa.int64():
        limit = int(np.iinfo(kind.to_pandas_dtype()).max)
        values = pc.cast(pc.if_else(pc.less_equal(values, limit), values, none), kind)
    return values


def read_data_bytes(raw: bytes, name: str, *, expected_flux: str | None = None
                    ) -> tuple[pa.Table, ValidationReport]:
    """Parse and validate one data file; returns the valid rows and the file's report.

    Code columns come back dictionary-encoded (see :func:`decode_table`), with the
    file's ``name`` in ``fichier`` and each row's line number in ``ligne``. An empty
    file, a control character or a non-UTF-8 byte refuses the whole file.
    """
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    if not raw or raw.isspace():
        raise InvalidDataError(
            f"{name} : fichier vide (aucune ligne de données). Le téléchargement ou la copie a "
            "sans doute échoué : reprenez le fichier d'origine de la DGDDI."
        )
    _check_control_characters(raw, name)
    parsed = _parse_typed(raw)
    if parsed is not None:
        fields = {c: parsed.column(c).chunk(0) for c in COLUMNS}
        texts: dict[str, pa.Array] = {}
        n = parsed.num_rows
        counts = np.full(n, N_FIELDS)
        lines = None
    else:
        fields, texts, counts, lines = _parse_lines(raw, name)
        n = len(counts)
    good_shape = counts == N_FIELDS
    truncated = not raw.endswith((b"\n", b"\r"))

    def text(column: str, j: int) -> str:
        value = (texts[column] if column in texts else fields[column])[j].as_py()
        return "" if value is None else str(value)

    shaped_rows = np.flatnonzero(good_shape)
    bad = np.zeros(len(shaped_rows), dtype=bool)
    reasons: dict[int, str] = {}
    for mask, describe in _field_checks(fields, expected_flux, text):
        fresh = np.flatnonzero(mask & ~bad)
        bad |= mask
        for j in fresh:
            reasons[int(shaped_rows[j])] = describe(int(j))
    blank = 0
    for i in np.flatnonzero(~good_shape):
        if lines[int(i)].as_py().strip():
            reasons[int(i)] = f"{counts[i]} champ(s) au lieu de {N_FIELDS} séparés par « ; »"
        else:
            blank += 1  # an empty line carries no data: tolerated, counted
    if 0 in reasons and _looks_like_header(lines[0].as_py() if lines is not None
                                           else text("flux", 0)):
        reasons[0] += " (ligne d'en-tête ? Les fichiers DGDDI n'en ont pas : supprimez-la)"
    if truncated and n and (n - 1) in reasons:
        reasons[n - 1] += " (dernière ligne coupée : fichier tronqué ?)"

    kept = pa.table({
        **{c: fields[c] for c in COLUMNS},
        FILE_COLUMN: pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(len(shaped_rows), dtype=np.int32)), pa.array([name])),
        LINE_COLUMN: pa.array((shaped_rows + 1).astype(np.int32)),
    })
    if bad.any():
        kept = kept.filter(pa.array(~bad))
    shape_errors = int((~good_shape).sum()) - blank
    euros, unknown = _rejected_euros(fields["valeur"], bad)
    report = ValidationReport(
        rows_read=n - blank, rows_kept=kept.num_rows, rows_rejected=n - blank - kept.num_rows,
        euros_rejected=euros, rows_rejected_value_unknown=unknown + shape_errors,
        blank_lines=blank,
        problems=[(name, i + 1, reasons[i]) for i in sorted(reasons)],
        files={name: {"lignes_lues": n - blank, "lignes_gardees": kept.num_rows,
                      "lignes_vides": blank}},
    )
    return kept, report


def _looks_like_header(first: str) -> bool:
    return first.strip().lstrip("\ufeff").lower().startswith("flux")


def _rejected_euros(values: pa.Array, bad: np.ndarray) -> tuple[int, int]:
    """Exact sum of readable values over rejected rows, and the count of others."""
    if not bad.any():
        return 0, 0
    rejected = values.filter(pa.array(bad))
    readable = pc.fill_null(pc.and_(pc.greater_equal(rejected, 0),
                                    pc.less_equal(rejected, MAX_VALUE)), False)
    return exact_sum(rejected.filter(readable)), int(len(rejected) - pc.sum(readable).as_py())


def _digits(arr: pa.Array) -> pa.Array:
    """True where the string is ASCII digits with at most :data:`MAX_DIGITS` significant
    ones (leading zeros allowed): a number from 0 to :data:`MAX_VALUE`."""
    significant = pc.utf8_length(pc.utf8_ltrim(arr, characters="0"))
    return pc.and_(pc.ascii_is_decimal(arr),
                   pc.and_(pc.greater(pc.utf8_length(arr), 0),
                           pc.less_equal(significant, MAX_DIGITS)))


def _quoted(text: str) -> str:
    return f"« {text} »" if text else "vide"


def _by_value(arr: pa.DictionaryArray, value_mask) -> np.ndarray:
    """A per-row mask from a mask over the dictionary's distinct values."""
    values = np.asarray(value_mask, dtype=bool)
    return values[arr.indices.to_numpy(zero_copy_only=False)]


def _bad_int(arr: pa.Array, low: int, high: int | None = None) -> np.ndarray:
    """True where the integer is missing or outside [low, high]."""
    ok = pc.greater_equal(arr, low)
    if high is not None:
        ok = pc.and_(ok, pc.less_equal(arr, high))
    return ~pc.fill_null(ok, False).to_numpy(zero_copy_only=False)


def _field_checks(fields: dict[str, pa.Array], expected_flux: str | None, text):
    """(bad-row mask, reason builder) pairs, in the order rows are checked.

    Code checks run on each column's distinct values, then map to rows.
    """
    deps = nomenclatures.departement_by_dgddi()
    regions = sorted(nomenclatures.dgddi_region_codes())
    last_year = _dt.date.today().year + 1
    values = {c: fields[c].dictionary.to_pylist() for c in CODE_COLUMNS}
    checks = []

    flux_ok = np.array([v in ("E", "I") for v in values["flux"]], dtype=bool)
    checks.append((_by_value(fields["flux"], ~flux_ok),
                   lambda j: f"flux {_quoted(text('flux', j))} au lieu de E ou I"))
    if expected_flux:
        other = np.array([v in ("E", "I") and v != expected_flux for v in values["flux"]],
                         dtype=bool)
        checks.append((_by_value(fields["flux"], other), lambda j: (
            f"flux « {text('flux', j)} » dans le fichier des "
            f"{FLUX_NAMES[expected_flux]} (fichiers inversés ?)")))
    checks.append((_bad_int(fields["trimestre"], 1, 4),
                   lambda j: f"trimestre {_quoted(text('trimestre', j))} au lieu de 1 à 4"))
    checks.append((_bad_int(fields["annee"], FIRST_YEAR, last_year), lambda j: (
        f"année {_quoted(text('annee', j))} invalide (attendu : {FIRST_YEAR} à {last_year})")))
    dep_ok = np.array([v in deps for v in values["departement"]], dtype=bool)
    checks.append((_by_value(fields["departement"], ~dep_ok), lambda j: (
        f"code département {_quoted(text('departement', j))} inconnu (codes DGDDI : 01 à 95, "
        "20 pour la Corse, 9A à 9E pour l'outre-mer, 99 Monaco)")))
    region_ok = np.array([v in regions for v in values["region_dgddi"]], dtype=bool)
    checks.append((_by_value(fields["region_dgddi"], ~region_ok), lambda j: (
        f"code région {_quoted(text('region_dgddi', j))} inconnu (codes région DGDDI : "
        f"{', '.join(regions)})")))
    # Expected region of each distinct département, as an index into the region values.
    region_index = {v: i for i, v in enumerate(values["region_dgddi"])}
    expected = np.array([region_index.get(deps[v].region_dgddi, -1) if v in deps else -1
                         for v in values["departement"]], dtype=np.int64)
    dep_idx = fields["departement"].indices.to_numpy(zero_copy_only=False)
    reg_idx = fields["region_dgddi"].indices.to_numpy(zero_copy_only=False)
    mismatch = (expected[dep_idx] != reg_idx) & dep_ok[dep_idx] & region_ok[reg_idx]
    checks.append((mismatch, lambda j: (
        f"le département {text('departement', j)} n'appartient pas à la région DGDDI "
        f"{text('region_dgddi', j)} (attendu : {deps[text('departement', j)].region_dgddi})")))
    for col, label in (("a129", "code A129"), ("cpf4", "code CPF4"), ("pays", "code pays")):
        empty = np.array([not v.strip() for v in values[col]], dtype=bool)
        checks.append((_by_value(fields[col], empty), lambda j, label=label: f"{label} vide"))
    for col, label in (("valeur", "valeur"), ("masse", "masse")):
        checks.append((_bad_int(fields[col], 0, MAX_VALUE), lambda j, col=col, label=label: (
            f"{label} {_quoted(text(col, j))} : un entier positif ou nul d'au plus "
            f"{MAX_DIGITS} chiffres est attendu (euros pour la valeur, kg pour la masse)")))
    return checks



# --------------------------------------------------------------------------- year selection

def select_year(raw: RawData, annee: int, *, allow_partial_year: bool = False
                ) -> tuple[pa.Table, list[int], bool]:
    """Rows of ``annee``; checks that each flux holds the 4 quarters.

    Returns the rows, the quarters kept and whether the year is partial. A partial
    year (``allow_partial_year``) keeps only the quarters present for every flux, so
    that exports and imports cover the same months; the rows of the other quarters
    are left out (see :func:`left_out_quarters`). Raises :class:`MissingDataError`
    naming missing quarters and files, or when the flux share no quarter.
    """
    present = raw.quarters()
    if not any(year == annee for pairs in present.values() for year, _ in pairs):
        raise MissingDataError(
            f"L'année {annee} est absente des données. "
            f"Présents : {_describe_present(present, raw)}."
            " Choisissez une de ces années avec --annee, ou prenez un fichier DGDDI plus récent."
        )
    fluxes = sorted(set(present) | set(raw.files))
    by_flux = {flux: {q for year, q in present.get(flux, []) if year == annee}
               for flux in fluxes}
    missing: list[str] = []
    for flux in fluxes:
        lacking = sorted({1, 2, 3, 4} - by_flux[flux])
        if lacking:
            names = ", ".join(f"T{q} {annee}" for q in lacking)
            missing.append(f"{raw.files.get(flux, flux)} ({FLUX_NAMES[flux]}) : {names}")
    if missing and not allow_partial_year:
        raise MissingDataError(
            f"Année {annee} incomplète : trimestre(s) manquant(s) dans " + " ; ".join(missing)
            + ". Une année se compose de ses 4 trimestres. Choisissez une année complète, ou "
            "relancez avec --allow-partial-year (les pages seront marquées « année partielle »)."
        )
    common = sorted(set.intersection(*by_flux.values()))
    if not common:
        held = " ; ".join(f"{FLUX_NAMES[f]} : {_quarter_list(by_flux[f], annee)}"
                          for f in fluxes)
        raise MissingDataError(
            f"Année {annee} : aucun trimestre commun aux deux flux ({held}). Un solde ne "
            "compare que les mêmes trimestres : prenez des fichiers DGDDI de la même publication."
        )
    table = raw.encoded.filter(pc.and_(pc.equal(raw.encoded.column("annee"), annee),
                                       pc.is_in(raw.encoded.column("trimestre"),
                                                pa.array(common, pa.int16()))))
    return table, common, bool(missing)


def left_out_quarters(raw: RawData, annee: int, quarters: Sequence[int]) -> dict[str, dict]:
    """Flux -> quarters of ``annee`` present but not kept, with their rows and euros
    (a partial year keeps only the quarters common to both flux)."""
    rows = raw.encoded.filter(pc.and_(
        pc.equal(raw.encoded.column("annee"), annee),
        pc.invert(pc.is_in(raw.encoded.column("trimestre"), pa.array(quarters, pa.int16())))))
    out = {}
    for flux, pairs in quarters_of(rows).items():
        mine = rows.filter(pc.equal(rows.column("flux"), flux))
        out[flux] = {"trimestres": [q for _, q in pairs], "lignes": mine.num_rows,
                     "euros": exact_sum(mine.column("valeur"))}
    return out


def _quarter_list(quarters: set[int], annee: int) -> str:
    return ", ".join(f"T{q} {annee}" for q in sorted(quarters)) or "aucun trimestre"


def _describe_present(present: dict[str, list[tuple[int, int]]], raw: RawData) -> str:
    if not present:
        return "aucune ligne valide"
    parts = []
    for flux, pairs in sorted(present.items()):
        text = ", ".join(f"T{q} {y}" for y, q in pairs)
        parts.append(f"{raw.files.get(flux, flux)} ({FLUX_NAMES[flux]}) : {text}")
    return " ; ".join(parts)
