"""Reading and validating DGDDI files: every quirk of the real format, every error."""

from __future__ import annotations

import zipfile

import pyarrow as pa
import pytest

from dgddi_fixtures import (EXPORTS, IMPORTS, QUARTERS, row, rows, write_lines,
                            write_source, write_zip)
from tradebook import reading
from tradebook.errors import InvalidDataError, MissingDataError


def _sorted(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))


@pytest.fixture
def clean(tmp_path) -> reading.RawData:
    return reading.read_source(write_source(tmp_path / "clean"))


def test_reads_both_files_with_codes_as_strings(clean):
    table = clean.table
    assert table.column_names == reading.COLUMNS
    assert table.num_rows == len(rows("E")) + len(rows("I"))
    assert clean.report.rows_read == clean.report.rows_kept == table.num_rows
    assert clean.report.rows_rejected == 0 and clean.report.problems == []
    first = table.slice(0, 1).to_pylist()[0]
    assert first["departement"] == "61" and first["region_dgddi"] == "05"
    assert first["cpf4"] == "0111"
    assert set(table.column("departement").to_pylist()) >= {"01", "20", "9A", "99"}
    assert pa.types.is_integer(table.schema.field("trimestre").type)
    assert pa.types.is_integer(table.schema.field("annee").type)
    assert table.schema.field("valeur").type == pa.int64()
    assert table.schema.field("masse").type == pa.int64()
    assert set(table.column("flux").to_pylist()) == {"E", "I"}
    assert clean.donnees_fictives is False
    assert clean.labels == {}


@pytest.mark.parametrize("options", [
    {"newline": "\r\n"},
    {"bom": True},
    {"final_newline": False},
    {"newline": "\r\n", "bom": True, "final_newline": False},
])
def test_tolerates_crlf_bom_and_missing_final_newline(tmp_path, clean, options):
    raw = reading.read_source(write_source(tmp_path / "quirky", **options))
    assert raw.report.rows_rejected == 0
    assert _sorted(raw.table) == _sorted(clean.table)


def test_blank_lines_are_counted_not_rejected(tmp_path, clean):
    lines = rows("E")
    lines.insert(3, "")
    raw = reading.read_source(write_source(tmp_path / "blank", exports=lines + [""]))
    assert raw.report.rows_rejected == 0
    assert raw.report.blank_lines == 2
    assert _sorted(raw.table) == _sorted(clean.table)


def test_reads_zip_with_label_quirks_and_marker(tmp_path, clean):
    folder = write_source(tmp_path / "raw")
    path = write_zip(tmp_path / "dgddi.zip", folder, fictitious=True, prefix="sous-dossier/")
    raw = reading.read_source(path)
    assert _sorted(raw.table) == _sorted(clean.table)
    assert raw.donnees_fictives is True
    a129 = dict((code, label) for code, label, *_ in raw.labels["a129"])
    assert a129["A01Z"] == "Produits de la culture et de l’élevage (ZIP)"  # BOM stripped
    assert a129["C10A"] == "Viandes; conserves (ZIP)"  # quoted ';'
    cpf4 = raw.labels["cpf4"]
    assert ("0111", "Céréales du ZIP", "201501", "999912") in cpf4  # cp1252 decoded
    assert raw.sources[0]["name"] == "dgddi.zip" and len(raw.sources[0]["sha256"]) == 64
    assert raw.sources[0]["octets"] == path.stat().st_size


def test_zip_without_marker_is_real_data(tmp_path):
    folder = write_source(tmp_path / "raw")
    raw = reading.read_source(write_zip(tmp_path / "dgddi.zip", folder, labels=False))
    assert raw.donnees_fictives is False and raw.labels == {}


def test_folder_marker_and_labels(tmp_path):
    folder = write_source(tmp_path / "raw")
    (folder / "DONNEES_FICTIVES.txt").write_text("x", encoding="utf-8")
    (folder / "Libelle_PAYS.txt").write_bytes(b"BE;Belgique;190001;999912\r\n")
    raw = reading.read_source(folder)
    assert raw.donnees_fictives is True
    assert raw.labels["pays"] == [("BE", "Belgique", "190001", "999912")]
    assert {s["name"] for s in raw.sources} == {EXPORTS, IMPORTS, "DONNEES_FICTIVES.txt",
                                                "Libelle_PAYS.txt"}
    assert raw.sources == reading.source_digests(folder)  # same digests as the cache key


def test_single_txt_file(tmp_path):
    path = write_lines(tmp_path / "export.txt", rows("E"))
    raw = reading.read_source(path)
    assert raw.table.num_rows == len(rows("E"))
    assert raw.files == {"E": "export.txt"}  # only the flux it holds
    table, quarters, partial = reading.select_year(raw, 2024)
    assert quarters == [1, 2, 3, 4] and not partial


def test_missing_data_file_in_folder(tmp_path):
    folder = tmp_path / "raw"
    write_lines(folder / EXPORTS, rows("E"))
    with pytest.raises(MissingDataError, match="REGIONAL_CPF4PAYSI.txt"):
        reading.read_source(folder)


def test_missing_source_and_bad_zip(tmp_path):
    with pytest.raises(MissingDataError, match="introuvable"):
        reading.read_source(tmp_path / "absent.zip")
    bad = tmp_path / "faux.zip"
    bad.write_bytes(b"PK\x03\x04 pas vraiment un zip")
    with pytest.raises(InvalidDataError):
        reading.read_source(bad)


BAD_ROWS = [
    (row(flux="X"), "flux « X »"),
    (row(trimestre=5), "trimestre « 5 »"),
    (row(annee=1850), "année « 1850 »"),
    (row(annee="20x4"), "année « 20x4 »"),
    (row(dep="2A", region="22"), "code département « 2A » inconnu"),
    (row(dep="00"), "code département « 00 » inconnu"),
    (row(region="77"), "code région « 77 » inconnu"),
    (row(dep="61", region="18"), "le département 61 n'appartient pas à la région DGDDI 18"),
    (row(a129=""), "code A129 vide"),
    (row(cpf4=" "), "code CPF4 vide"),
    (row(pays=""), "code pays vide"),
    (row(valeur=-5), "valeur « -5 »"),
    (row(valeur="12,5"), "valeur « 12,5 »"),
    (row(masse="1.5"), "masse « 1.5 »"),
    (row(masse=""), "masse vide"),
    (";;;;;;;;;", "flux vide"),
    (row() + ";", "11 champ(s) au lieu de 10"),
    ("E;1;2024;61;05", "5 champ(s) au lieu de 10"),
    (row(flux="I"), "flux « I » dans le fichier des exportations"),
]


@pytest.mark.parametrize("bad, reason", BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_each_bad_row_is_named_with_file_line_and_reason(tmp_path, bad, reason):
    lines = rows("E")
    lines.insert(4, bad)  # line 5
    folder = write_source(tmp_path / "raw", exports=lines)
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    message = str(err.value)
    assert f"{EXPORTS}, ligne 5 : {reason}" in message
    assert "1 ligne(s) invalide(s)" in message
    assert "--skip-invalid" in message


def test_skip_invalid_reports_every_dropped_row_and_euros(tmp_path, clean):
    lines = rows("E")
    lines[0:0] = [row(flux="X", valeur=700), row(trimestre=9, valeur=50), "E;1;2024;61"]
    folder = write_source(tmp_path / "raw", exports=lines)
    raw = reading.read_source(folder, skip_invalid=True)
    report = raw.report
    assert report.rows_read == clean.report.rows_read + 3
    assert report.rows_rejected == 3
    assert report.rows_kept == clean.table.num_rows
    assert report.euros_rejected == 750
    assert report.rows_rejected_value_unknown == 1
    assert [(f, n) for f, n, _ in report.problems] == [(EXPORTS, 1), (EXPORTS, 2), (EXPORTS, 3)]
    assert _sorted(raw.table) == _sorted(clean.table)
    as_dict = report.to_dict()
    assert as_dict["lignes_rejetees"] == 3 and as_dict["euros_rejetes"] == 750
    assert as_dict["problemes"][0] == {"fichier": EXPORTS, "ligne": 1,
                                      "motif": "flux « X » au lieu de E ou I"}


def test_message_lists_first_ten_problems_and_the_count(tmp_path):
    lines = rows("E") + [row(pays="") for _ in range(25)]
    folder = write_source(tmp_path / "raw", exports=lines)
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    message = str(err.value)
    assert message.startswith("25 ligne(s) invalide(s)")
    assert message.count("code pays vide") == 10
    assert "... et 15 autre(s)" in message


def test_problems_in_both_files_are_gathered(tmp_path):
    exports, imports = rows("E"), rows("I")
    exports.append(row(trimestre=0))
    imports.insert(0, row(flux="I", masse="abc"))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(write_source(tmp_path / "raw", exports=exports, imports=imports))
    message = str(err.value)
    assert f"{EXPORTS}, ligne {len(exports)} : trimestre « 0 »" in message
    assert f"{IMPORTS}, ligne 1 : masse « abc »" in message


def test_truncated_last_line_is_reported_on_its_line(tmp_path):
    lines = rows("E")
    lines[-1] = lines[-1][:12]
    folder = write_source(tmp_path / "raw", exports=lines, final_newline=False)
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    assert f"{EXPORTS}, ligne {len(lines)} :" in str(err.value)
    assert "tronqué" in str(err.value)
    raw = reading.read_source(folder, skip_invalid=True)
    assert raw.report.rows_rejected == 1


def test_non_utf8_bytes_name_the_line(tmp_path):
    lines = rows("E")
    folder = write_source(tmp_path / "raw", exports=lines)
    data = (folder / EXPORTS).read_bytes().split(b"\n")
    data[6] = data[6].replace(b"BE", b"B\xe9")  # cp1252 'é'
    (folder / EXPORTS).write_bytes(b"\n".join(data))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder, skip_invalid=True)
    message = str(err.value)
    assert f"{EXPORTS}, ligne 7 : octets non UTF-8" in message
    assert "UTF-8" in message and "Réenregistrez" in message


def test_utf16_file_is_refused_with_the_fix(tmp_path):
    folder = write_source(tmp_path / "raw")
    (folder / IMPORTS).write_bytes("\n".join(rows("I")).encode("utf-16"))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    assert f"{IMPORTS}, ligne 1 : le fichier est en UTF-16" in str(err.value)


def test_control_character_is_refused(tmp_path):
    lines = rows("E")
    lines[2] = lines[2] + "\x01"
    with pytest.raises(InvalidDataError, match="ligne 3 : caractère de contrôle"):
        reading.read_source(write_source(tmp_path / "raw", exports=lines))


def test_slow_path_gives_the_same_rows_as_fast_path(tmp_path, clean):
    lines = rows("E") + ["E;1"]  # one short line forces the line-by-line path
    raw = reading.read_source(write_source(tmp_path / "raw", exports=lines), skip_invalid=True)
    assert raw.table.schema == clean.table.schema
    assert _sorted(raw.table) == _sorted(clean.table)


# --------------------------------------------------------------------------- year selection

def test_select_year_takes_its_four_quarters(clean):
    table, quarters, partial = reading.select_year(clean, 2024)
    assert quarters == [1, 2, 3, 4] and partial is False
    assert set(table.column("annee").to_pylist()) == {2024}
    assert table.num_rows == clean.table.num_rows * 4 // 5


def test_missing_quarter_names_quarters_and_file(tmp_path):
    quarters = [q for q in QUARTERS if q != (2024, 3)]
    folder = write_source(tmp_path / "raw", imports=rows("I", quarters))
    raw = reading.read_source(folder)
    with pytest.raises(MissingDataError) as err:
        reading.select_year(raw, 2024)
    message = str(err.value)
    assert f"{IMPORTS} (importations) : T3 2024" in message
    assert EXPORTS not in message
    assert "--allow-partial-year" in message
    table, present, partial = reading.select_year(raw, 2024, allow_partial_year=True)
    assert partial is True and present == [1, 2, 4]


def test_year_absent_lists_what_is_present(clean):
    with pytest.raises(MissingDataError) as err:
        reading.select_year(clean, 2021)
    message = str(err.value)
    assert "L'année 2021 est absente" in message
    assert "T4 2023, T1 2024, T2 2024, T3 2024, T4 2024" in message


def test_partial_year_2023_is_refused_by_default(clean):
    with pytest.raises(MissingDataError, match="T1 2023, T2 2023, T3 2023"):
        reading.select_year(clean, 2023)


# --------------------------------------------------------------------------- label files

def test_label_file_quirks(tmp_path):
    path = tmp_path / "Libelle_A129.txt"
    path.write_bytes(b"\xef\xbb\xbfC26E;\"Instruments; horlogerie\";200901;999912\r\n\r\n")
    assert reading.read_label_file(path) == [("C26E", "Instruments; horlogerie", "200901",
                                              "999912")]
    cp = "0111;Céréales;201501;999912\r\n".encode("cp1252")
    assert reading.read_label_file(cp, name="x")[0][1] == "Céréales"
    with pytest.raises(InvalidDataError, match="x, ligne 1 : 3 champs au lieu de 4"):
        reading.read_label_file(b"A;B;C\r\n", name="x")
    with pytest.raises(InvalidDataError, match="UTF-16"):
        reading.read_label_file("A;B;C;D".encode("utf-16"), name="x")


def test_truncated_zip_member_is_reported(tmp_path):
    folder = write_source(tmp_path / "raw")
    path = write_zip(tmp_path / "dgddi.zip", folder)
    data = path.read_bytes()
    cut = tmp_path / "coupe.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidDataError, match="n'est pas une archive ZIP valide"):
        reading.read_source(cut)


def test_corrupted_zip_member_is_reported(tmp_path):
    folder = write_source(tmp_path / "raw")
    path = write_zip(tmp_path / "dgddi.zip", folder, labels=False)
    data = bytearray(path.read_bytes())
    data[200:400] = bytes(200)  # damage the first member's compressed bytes
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidDataError, match="illisible"):
        reading.read_source(path)


def test_duplicate_data_files_in_zip(tmp_path):
    folder = write_source(tmp_path / "raw")
    path = write_zip(tmp_path / "dgddi.zip", folder, labels=False)
    with zipfile.ZipFile(path, "a") as zf:
        zf.write(folder / EXPORTS, "copie/" + EXPORTS)
    with pytest.raises(InvalidDataError, match="en double"):
        reading.read_source(path)


def test_empty_data_file_gives_a_clear_year_error(tmp_path):
    folder = write_source(tmp_path / "raw", exports=[], final_newline=False)
    raw = reading.read_source(folder)
    assert raw.report.rows_read == len(rows("I"))
    with pytest.raises(MissingDataError) as err:
        reading.select_year(raw, 2024)
    assert f"{EXPORTS} (exportations) : T1 2024, T2 2024, T3 2024, T4 2024" in str(err.value)


def test_leading_zeros_and_letters_survive(tmp_path):
    lines = [row(dep="01", region="18", cpf4="0111", pays="0A"), row(dep="9A", region="24")]
    raw = reading.read_source(write_lines(tmp_path / "x.txt", lines))
    assert raw.table.column("departement").to_pylist() == ["01", "9A"]
    assert raw.table.column("pays").to_pylist() == ["0A", "BE"]
    assert raw.table.column("cpf4").to_pylist() == ["0111", "0111"]


def test_header_line_is_reported_with_a_hint(tmp_path):
    header = "Flux;Trimestre;Année;Code département;Code région;Code A129;Code CPF4;" \
             "Code Pays;Valeur;Masse"
    folder = write_source(tmp_path / "raw", exports=[header] + rows("E"))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    assert f"{EXPORTS}, ligne 1 : flux « Flux » au lieu de E ou I (ligne d'en-tête ?" in str(err.value)


def test_folder_holding_one_zip_reads_the_zip(tmp_path, clean):
    folder = write_source(tmp_path / "txt")
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    write_zip(raw_dir / "dgddi.zip", folder)
    raw = reading.read_source(raw_dir)
    assert _sorted(raw.table) == _sorted(clean.table)
    assert raw.sources[0]["name"] == "dgddi.zip"
    write_zip(raw_dir / "autre.zip", folder)
    with pytest.raises(MissingDataError, match="plusieurs ZIP"):
        reading.read_source(raw_dir)
