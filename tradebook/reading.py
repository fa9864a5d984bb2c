"""Stage 1: read and validate DGDDI files (data files and label files).

Data files ``REGIONAL_CPF4PAYS{E,I}.txt``: no header, ``;`` separated, UTF-8,
10 fields (flux, trimestre, année, département, région, A129, CPF4, pays, valeur,
masse), one row per quarter. They are read with pyarrow as one string column per
line (so that row index = line number - 1), split on ``;`` and validated with
vectorised checks; Python only loops over the rows that fail.

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
FICTITIOUS_MARKER = "DONNEES_FICTIVES.txt"
# Label tables of the source (file name prefix, lower case) -> project table name.
LABEL_FILES = {"libelle_a129": "a129", "libelle_cpf4": "cpf4", "libelle_pays": "pays"}
COLUMNS = ["flux", "trimestre", "annee", "departement", "region_dgddi",
           "a129", "cpf4", "pays", "valeur", "masse"]
N_FIELDS = len(COLUMNS)
FIRST_YEAR = 1990
MAX_DIGITS = 18  # int64 holds every 18-digit number
SHOWN_PROBLEMS = 10
# A byte that never occurs in a valid data line: each line is read as one field.
_LINE_DELIMITER = "\x01"
_FLUX_NAMES = {"E": "exportations", "I": "importations"}


# --------------------------------------------------------------------------- labels

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


# --------------------------------------------------------------------------- results

@dataclass
class ValidationReport:
    """What the read kept and rejected; ``problems`` lists (file, line, reason)."""

    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    euros_rejected: int = 0
    rows_rejected_value_unknown: int = 0
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
            "lignes_vides_ignorees": self.blank_lines,
            "fichiers": self.files,
            "nombre_problemes": len(self.problems),
            "problemes": [{"fichier": f, "ligne": n, "motif": r} for f, n, r in problems],
        }


@dataclass
class RawData:
    """Validated rows of a DGDDI source, with its report, labels and provenance.

    ``encoded`` holds the rows with dictionary-encoded code columns (fast to filter
    and group); ``table`` gives the same rows with plain string codes.
    """

    encoded: pa.Table
    report: ValidationReport
    labels: dict[str, list[tuple[str, ...]]]
    donnees_fictives: bool
    sources: list[dict]
    files: dict[str, str] = field(default_factory=dict)  # flux -> data file name
    _decoded: pa.Table | None = field(default=None, repr=False)

    @property
    def table(self) -> pa.Table:
        """The rows: codes as strings, ``trimestre``/``annee`` int16, values int64."""
        if self._decoded is None:
            self._decoded = decode_table(self.encoded)
        return self._decoded

    def quarters(self) -> dict[str, list[tuple[int, int]]]:
        """Flux -> sorted (year, quarter) pairs present in the kept rows."""
        pairs = self.encoded.group_by(["flux", "annee", "trimestre"]).aggregate([])
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


# --------------------------------------------------------------------------- sources

@dataclass
class _Member:
    """One file of a source: its display name and a way to get its bytes."""

    name: str
    display: str
    loader: object  # callable () -> bytes

    def read(self) -> bytes:
        return self.loader()


def file_digest(path: Path) -> dict:
    """name / sha256 / octets of a file, hashed in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"name": path.name, "sha256": digest.hexdigest(), "octets": path.stat().st_size}


def _zip_members(path: Path) -> list[_Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InvalidDataError(
            f"{path} n'est pas une archive ZIP valide ({exc}). Téléchargez à nouveau le "
            "fichier de la DGDDI (python -m tradebook fetch) ou donnez le dossier des fichiers TXT."
        ) from exc
    members = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        base = PurePosixPath(info.filename).name

        def load(info=info) -> bytes:
            try:
                with zipfile.ZipFile(path) as zf:
                    return zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise InvalidDataError(
                    f"{path.name} : le membre {info.filename} est illisible ({exc}). "
                    "L'archive est probablement tronquée : téléchargez-la à nouveau."
                ) from exc

        members.append(_Member(base, f"{path.name}/{info.filename}", load))
    archive.close()
    return members


def _folder_members(path: Path) -> list[_Member]:
    return [_Member(p.name, p.name, p.read_bytes) for p in sorted(path.iterdir()) if p.is_file()]


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
                "indiquez lequel préparer avec --donnees CHEMIN_DU_ZIP."
            )
    return path


def source_members(path: Path, *, digest_data: bool = True
                   ) -> tuple[list[_Member], list[dict]]:
    """The files of a source (ZIP, folder or single TXT) and their digests.

    For a folder, ``digest_data=False`` leaves out the data files' digests (the
    caller hashes the bytes it reads anyway); see :func:`bytes_digest`.
    """
    path = resolve_source(path)
    if path.is_dir():
        members = _folder_members(path)
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
    return [_Member(path.name, path.name, path.read_bytes)], [file_digest(path)]


def source_digests(path: Path) -> list[dict]:
    """SHA-256 of the files that make up a source (used as the cache key)."""
    return sorted(source_members(path)[1], key=lambda d: d["name"])


def bytes_digest(name: str, data: bytes) -> dict:
    """name / sha256 / octets of bytes already in memory (same form as file_digest)."""
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "octets": len(data)}


def _is_data_file(name: str) -> bool:
    return name.upper() in {n.upper() for n in DATA_FILES}


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


# --------------------------------------------------------------------------- data files

def read_source(path: Path, *, skip_invalid: bool = False) -> RawData:
    """Read and validate a DGDDI source: a ZIP, a folder of TXT files or one TXT file.

    Every row is checked; by default any bad row raises :class:`InvalidDataError`
    listing the first problems. With ``skip_invalid`` bad rows are dropped and each
    one is listed in the report, with the euros they carried.
    """
    path = resolve_source(path)
    members, sources = source_members(path, digest_data=False)
    data = [m for m in members if _is_data_file(m.name)]
    if path.is_file() and not zipfile.is_zipfile(path):
        data = members  # a single TXT data file, whatever its name
    elif len({m.name.upper() for m in data}) < len(data):
        names = ", ".join(sorted(m.display for m in data))
        raise InvalidDataError(
            f"{path} : fichiers de données en double ({names}). Gardez un seul "
            "REGIONAL_CPF4PAYSE.txt et un seul REGIONAL_CPF4PAYSI.txt."
        )
    elif len(data) < len(DATA_FILES):
        found = {m.name.upper() for m in data}
        missing = [n for n in DATA_FILES if n.upper() not in found]
        raise MissingDataError(
            f"{path} : fichier(s) de données absent(s) : {', '.join(missing)}. Le ZIP ou le "
            "dossier DGDDI doit contenir REGIONAL_CPF4PAYSE.txt (exportations) et "
            "REGIONAL_CPF4PAYSI.txt (importations)."
        )
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
            sources.append(digest)
        tables.append(table)
        report.merge(file_report)
        named = _flux_of(member.name)
        for flux in (named,) if named else _fluxes_in(table):
            files.setdefault(flux, member.display)
    if report.problems and not skip_invalid:
        raise InvalidDataError(problems_message(report))
    labels = {}
    for member in members:
        table_name = _label_table(member.name)
        if table_name:
            labels[table_name] = read_label_file(member.read(), name=member.display, columns=4)
    fictitious = any(m.name.upper() == FICTITIOUS_MARKER.upper() for m in members)
    table = pa.concat_tables(tables) if tables else empty_table()
    table = table.unify_dictionaries().combine_chunks()
    sources = sorted(sources, key=lambda d: d["name"])
    return RawData(table, report, labels, fictitious, sources, files)


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


def empty_table() -> pa.Table:
    """A table with the data columns (encoded form) and no rows."""
    return pa.table({c: pa.array([], type=_column_type(c)) for c in COLUMNS})


CODE_COLUMNS = ["flux", "departement", "region_dgddi", "a129", "cpf4", "pays"]
INT_TYPES = {"trimestre": pa.int16(), "annee": pa.int16(), "valeur": pa.int64(),
             "masse": pa.int64()}
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def _column_type(name: str) -> pa.DataType:
    return INT_TYPES.get(name, _DICTIONARY)


def _check_encoding(raw: bytes, name: str) -> None:
    """Raise a French error naming the line when the bytes are not UTF-8 text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise InvalidDataError(
            f"{name}, ligne 1 : le fichier est en UTF-16, pas en UTF-8. Réenregistrez-le en "
            "UTF-8 (sans en-tête) ou reprenez le fichier d'origine de la DGDDI."
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidDataError(
            f"{name}, ligne {line} : octets non UTF-8 ({raw[exc.start:exc.start + 4]!r}) ; le "
            "fichier a sans doute été réenregistré en cp1252/Latin-1. Réenregistrez-le en UTF-8 "
            "ou reprenez le fichier d'origine de la DGDDI."
        ) from exc


def _read_lines(raw: bytes, name: str) -> pa.StringArray:
    """Each line of the file as one string (CRLF, BOM, missing final newline tolerated)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    if not raw or raw.isspace():
        return pa.array([], type=pa.string())
    delimiter_at = raw.find(_LINE_DELIMITER.encode())
    if delimiter_at >= 0 or b"\x00" in raw[:4096]:
        _check_encoding(raw, name)
        line = raw.count(b"\n", 0, max(delimiter_at, 0)) + 1
        raise InvalidDataError(
            f"{name}, ligne {line} : caractère de contrôle inattendu : ce n'est pas un fichier "
            "texte DGDDI. Reprenez le fichier d'origine de la DGDDI."
        )
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
        _check_encoding(raw, name)
        raise InvalidDataError(f"{name} : fichier illisible ({exc}).") from exc
    return table.column("line").combine_chunks()


def _parse_typed(raw: bytes) -> pa.Table | None:
    """Fast path: pyarrow parses the 10 fields straight into their types (codes
    dictionary-encoded, numbers as integers). None when any line would not parse
    (wrong field count, empty line, text in a number...): the line path then says why.
    """
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    if not raw or raw.isspace() or raw.find(_LINE_DELIMITER.encode()) >= 0 \
            or b"\x00" in raw[:4096]:
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
            readable = _digits(text)
            fields[column] = pc.cast(pc.if_else(readable, text, pa.scalar(None, pa.string())),
                                     INT_TYPES[column], safe=False)
        else:
            fields[column] = pc.dictionary_encode(text)
    return fields, texts, counts, lines


def read_data_bytes(raw: bytes, name: str, *, expected_flux: str | None = None
                    ) -> tuple[pa.Table, ValidationReport]:
    """Parse and validate one data file; returns the valid rows and the file's report.

    Code columns come back dictionary-encoded; see :func:`decode_table`.
    """
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
    truncated = bool(raw) and not raw.endswith((b"\n", b"\r"))

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

    kept = pa.table({c: fields[c] for c in COLUMNS})
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
    """Sum of readable (non-negative) values over rejected rows, and the count of others."""
    if not bad.any():
        return 0, 0
    rejected = values.filter(pa.array(bad))
    readable = pc.fill_null(pc.greater_equal(rejected, 0), False)
    total = pc.sum(rejected.filter(readable)).as_py() or 0
    return int(total), int(len(rejected) - pc.sum(readable).as_py())


def _digits(arr: pa.Array) -> pa.Array:
    """True where the string is 1 to 18 ASCII digits (a non-negative int64)."""
    length = pc.utf8_length(arr)
    return pc.and_(pc.ascii_is_decimal(arr),
                   pc.and_(pc.greater(length, 0), pc.less_equal(length, MAX_DIGITS)))


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
            f"{_FLUX_NAMES[expected_flux]} (fichiers inversés ?)")))
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
        checks.append((_bad_int(fields[col], 0), lambda j, col=col, label=label: (
            f"{label} {_quoted(text(col, j))} : un entier positif ou nul est attendu "
            "(euros pour la valeur, kg pour la masse)")))
    return checks


# --------------------------------------------------------------------------- year selection

def select_year(raw: RawData, annee: int, *, allow_partial_year: bool = False
                ) -> tuple[pa.Table, list[int], bool]:
    """Rows of ``annee``; checks that each data file holds its 4 quarters.

    Returns the rows, the quarters present (for every flux) and whether the year
    is partial. Raises :class:`MissingDataError` naming missing quarters and files.
    """
    present = raw.quarters()
    if not any(year == annee for pairs in present.values() for year, _ in pairs):
        raise MissingDataError(
            f"L'année {annee} est absente des données. "
            f"Présents : {_describe_present(present, raw)}."
            " Choisissez une de ces années avec --annee, ou prenez un fichier DGDDI plus récent."
        )
    missing: list[str] = []
    quarters_all: set[int] = set()
    for flux in sorted(set(present) | set(raw.files)):
        quarters = {q for year, q in present.get(flux, []) if year == annee}
        quarters_all |= quarters
        lacking = sorted({1, 2, 3, 4} - quarters)
        if lacking:
            names = ", ".join(f"T{q} {annee}" for q in lacking)
            missing.append(f"{raw.files.get(flux, flux)} ({_FLUX_NAMES[flux]}) : {names}")
    if missing and not allow_partial_year:
        raise MissingDataError(
            f"Année {annee} incomplète : trimestre(s) manquant(s) dans " + " ; ".join(missing)
            + ". Une année se compose de ses 4 trimestres. Choisissez une année complète, ou "
            "relancez avec --allow-partial-year (les pages seront marquées « année partielle »)."
        )
    table = raw.encoded.filter(pc.equal(raw.encoded.column("annee"), annee))
    both = set.intersection(*[{q for y, q in present.get(f, []) if y == annee}
                              for f in sorted(set(present) | set(raw.files))])
    return table, sorted(both if missing else quarters_all), bool(missing)


def _describe_present(present: dict[str, list[tuple[int, int]]], raw: RawData) -> str:
    if not present:
        return "aucune ligne valide"
    parts = []
    for flux, pairs in sorted(present.items()):
        text = ", ".join(f"T{q} {y}" for y, q in pairs)
        parts.append(f"{raw.files.get(flux, flux)} ({_FLUX_NAMES[flux]}) : {text}")
    return " ; ".join(parts)
