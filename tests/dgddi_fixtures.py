"""Small DGDDI-layout sources written by the tests themselves (no committed fixtures).

``write_source(folder)`` writes ``REGIONAL_CPF4PAYSE.txt`` and
``REGIONAL_CPF4PAYSI.txt`` holding 5 quarters (T4 2023 to T4 2024) for a few
areas chosen for their quirks: Orne (61, DGDDI region 05), Calvados (14, 05),
Corsica (20, region 22), Guadeloupe (9A, DOM 24), Monaco (99, PACA 21),
Bouches-du-Rhône (13, 21), Ain (01, 18). ``write_publication(zip, quarters, offset=...)``
writes one DGDDI publication (both flux, label files) for the multi-source tests.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

EXPORTS = "REGIONAL_CPF4PAYSE.txt"
IMPORTS = "REGIONAL_CPF4PAYSI.txt"
QUARTERS = [(2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4)]
AREAS = [("61", "05"), ("14", "05"), ("20", "22"), ("9A", "24"), ("99", "21"),
         ("13", "21"), ("01", "18")]
PRODUCTS = [("A01Z", "0111"), ("C10A", "1011"), ("C29A", "2910")]
COUNTRIES = ["BE", "DE", "US"]


def row(flux="E", trimestre=1, annee=2024, dep="61", region="05", a129="A01Z",
        cpf4="0111", pays="BE", valeur=100, masse=10) -> str:
    """One data line (no line end)."""
    return ";".join(str(v) for v in (flux, trimestre, annee, dep, region, a129, cpf4,
                                     pays, valeur, masse))


def value_of(flux: str, year: int, quarter: int, area: int, product: int, country: int) -> int:
    """A deterministic value in euros for one row (so tests can recompute sums)."""
    return (1 + area) * 1000 + product * 100 + country * 10 + quarter + (year - 2023) * 7 + (
        5 if flux == "I" else 0)


def rows(flux: str, quarters=QUARTERS, offset: int = 0) -> list[str]:
    """All fixture lines of one flux (``offset`` euros added to every value, as a
    revised publication would)."""
    out = []
    for year, quarter in quarters:
        for a, (dep, region) in enumerate(AREAS):
            for p, (a129, cpf4) in enumerate(PRODUCTS):
                for c, pays in enumerate(COUNTRIES):
                    value = value_of(flux, year, quarter, a, p, c) + offset
                    out.append(row(flux, quarter, year, dep, region, a129, cpf4, pays,
                                   value, value // 3))
    return out


def total(flux: str, quarters=QUARTERS, offset: int = 0, deps: set[str] | None = None) -> int:
    """Sum of the values :func:`rows` gives for ``quarters`` (of ``deps``, default all)."""
    return sum(value_of(flux, year, quarter, a, p, c) + offset
               for year, quarter in quarters
               for a, (dep, _) in enumerate(AREAS) if deps is None or dep in deps
               for p in range(len(PRODUCTS)) for c in range(len(COUNTRIES)))


def quarters_of_year(year: int) -> list[tuple[int, int]]:
    """The 4 (year, quarter) pairs of a year."""
    return [(year, q) for q in (1, 2, 3, 4)]


def write_lines(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False,
                final_newline: bool = True, encoding: str = "utf-8") -> Path:
    """Write data lines with the given line end, BOM and final newline."""
    text = newline.join(lines) + (newline if final_newline else "")
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_source(folder: Path, *, exports: list[str] | None = None,
                 imports: list[str] | None = None, **kwargs) -> Path:
    """A raw folder with both data files (fixture rows unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_lines(folder / EXPORTS, rows("E") if exports is None else exports, **kwargs)
    write_lines(folder / IMPORTS, rows("I") if imports is None else imports, **kwargs)
    return folder


# Label files as DGDDI ships them: BOM + CRLF on A129, cp1252 on CPF4, quoted ';'.
A129_LABELS = ("A01Z;Produits de la culture et de l’élevage (ZIP);200901;999912\r\n"
               'C10A;"Viandes; conserves (ZIP)";200901;999912\r\n')
CPF4_LABELS = ("0111;Céréales du ZIP;201501;999912\r\n"
               "1011;Viandes de boucherie (ancien);201501;202312\r\n"
               "1011;Viandes de boucherie (nouveau);202401;999912\r\n")
PAYS_LABELS = "BE;Belgique (ZIP);190001;999912\r\nAN;Antilles néerlandaises;190001;201212\r\n"


def write_zip(path: Path, folder: Path, *, labels: bool = True, fictitious: bool = False,
              prefix: str = "") -> Path:
    """A DGDDI-style ZIP of ``folder``'s data files, with label files and marker."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in (EXPORTS, IMPORTS):
            if (folder / name).exists():
                zf.write(folder / name, prefix + name)
        if labels:
            zf.writestr(prefix + "Libelle_A129.txt", b"\xef\xbb\xbf" + A129_LABELS.encode())
            zf.writestr(prefix + "Libelle_CPF4_rev2.1.txt", CPF4_LABELS.encode("cp1252"))
            zf.writestr(prefix + "Libelle_PAYS.txt", PAYS_LABELS.encode())
        if fictitious:
            zf.writestr(prefix + "DONNEES_FICTIVES.txt", "Données fictives.\n")
    return path


def write_publication(path: Path, quarters, *, offset: int = 0, fictitious: bool = False) -> Path:
    """A DGDDI-style ZIP at ``path`` holding both flux for ``quarters`` (values raised by
    ``offset``, as a later publication revises them), with label files."""
    folder = path.parent / f".{path.stem}-txt"
    write_source(folder, exports=rows("E", quarters, offset), imports=rows("I", quarters, offset))
    return write_zip(path, folder, fictitious=fictitious)
