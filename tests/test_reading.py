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


def test_single_txt_file_needs_the_missing_flux_declared(tmp_path):
    # Was accepted as a whole source (imports silently at 0 €): now refused unless the
    # user says which flux is really missing.
    path = write_lines(tmp_path / "export.txt", rows("E"))
    with pytest.raises(MissingDataError) as err:
        reading.read_source(path)
    message = str(err.value)
    assert "aucune donnée d'importations" in message
    assert "--flux-absent importations" in message
    raw = reading.read_source(path, missing_flux="importations")
    assert raw.table.num_rows == len(rows("E"))
    assert raw.files == {"E": "export.txt"}  # only the flux it holds
    assert raw.missing_flux == "I"
    table, quarters, partial = reading.select_year(raw, 2024)
    assert quarters == [1, 2, 3, 4] and not partial


def test_declared_missing_flux_must_really_be_missing(tmp_path):
    with pytest.raises(InvalidDataError, match="déclarées absentes par --flux-absent"):
        reading.read_source(write_source(tmp_path / "raw"), missing_flux="I")


def test_folder_with_one_flux_file_accepted_only_when_declared(tmp_path):
    folder = tmp_path / "raw"
    write_lines(folder / IMPORTS, rows("I"))
    with pytest.raises(MissingDataError, match="REGIONAL_CPF4PAYSE.txt absent"):
        reading.read_source(folder)
    raw = reading.read_source(folder, missing_flux="E")
    assert set(raw.quarters()) == {"I"} and raw.missing_flux == "E"


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


@pytest.mark.parametrize("content", [b"", b"\n\n\r\n", b"\xef\xbb\xbf"])
def test_empty_data_file_is_refused_as_empty(tmp_path, content):
    # Was read as a source lacking 4 quarters, with --allow-partial-year suggested:
    # that option then gave every export at 0 €.
    folder = write_source(tmp_path / "raw")
    (folder / EXPORTS).write_bytes(content)
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder, skip_invalid=True)
    message = str(err.value)
    assert f"{EXPORTS} : fichier vide" in message
    assert "partial" not in message and "partielle" not in message


def test_leading_zeros_and_letters_survive(tmp_path):
    lines = [row(dep="01", region="18", cpf4="0111", pays="0A"), row(dep="9A", region="24")]
    raw = reading.read_source(write_lines(tmp_path / "x.txt", lines), missing_flux="I")
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


# --------------------------------------------------------------------------- v2: values

# (text of the value field, accepted?) — the same verdict whichever parse path runs.
VALUE_RULE = [
    ("999999999999999999", True),  # 18 digits: the largest value
    ("0000000000000000000000042", True),  # leading zeros do not count
    ("1000000000000000000", False),  # 19 digits, under 2**63: was accepted on the fast path
    ("9223372036854775807", False),
    ("9223372036854775808", False),
    (" 5", False),  # pyarrow's integer parser trims spaces: the fast path is skipped
    ("-0", False),
]


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "slow"])
@pytest.mark.parametrize("value, accepted", VALUE_RULE, ids=[v for v, _ in VALUE_RULE])
def test_both_parse_paths_give_the_same_verdict_on_a_value(tmp_path, value, accepted,
                                                           blank_line):
    lines = rows("E") + [row(pays="IT", valeur=value)] + ([""] if blank_line else [])
    folder = write_source(tmp_path / "raw", exports=lines)
    if accepted:
        raw = reading.read_source(folder)
        kept = raw.table.filter(pa.compute.equal(raw.table.column("pays"), "IT"))
        assert kept.column("valeur").to_pylist() == [int(value)]
        return
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(folder)
    assert (f"{EXPORTS}, ligne {len(rows('E')) + 1} : valeur « {value} » : un entier positif "
            "ou nul d'au plus 18 chiffres est attendu") in str(err.value)


@pytest.mark.parametrize("blank_line", [False, True], ids=["fast", "slow"])
def test_a_year_beyond_int16_is_a_clear_error(tmp_path, blank_line):
    # The line path used to raise pyarrow's ArrowInvalid (a traceback) on it.
    lines = rows("E") + [row(annee=99999)] + ([""] if blank_line else [])
    with pytest.raises(InvalidDataError, match="année « 99999 » invalide"):
        reading.read_source(write_source(tmp_path / "raw", exports=lines))


def test_exact_sum_does_not_wrap():
    values = pa.array([2 ** 62, 2 ** 62, 2 ** 62, 5], pa.int64())
    assert reading.exact_sum(values) == 3 * 2 ** 62 + 5  # int64 would wrap round
    assert reading.exact_sum(pa.array([], pa.int64())) == 0


# --------------------------------------------------------------------------- v2: repeated keys

def test_repeated_key_is_an_error_naming_both_lines(tmp_path):
    lines = rows("E")
    first = 64
    fields = lines[first - 1].split(";")
    fields[8] = "12345"  # another value: still the same key
    lines.append(";".join(fields))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(write_source(tmp_path / "raw", exports=lines))
    message = str(err.value)
    assert "1 ligne(s) invalide(s)" in message
    assert (f"{EXPORTS}, ligne {len(lines)} : clé répétée (même flux, trimestre, année, "
            f"département, CPF4 et pays) : déjà vue en {EXPORTS}, ligne {first}") in message


def test_a_quarter_appended_twice_is_dropped_with_skip_invalid(tmp_path, clean):
    t4 = [line for line in rows("E") if line.startswith("E;4;2024;")]
    folder = write_source(tmp_path / "raw", exports=rows("E") + t4)
    raw = reading.read_source(folder, skip_invalid=True)
    report = raw.report
    assert report.rows_repeated == report.rows_rejected == len(t4)
    assert report.euros_rejected == sum(int(line.split(";")[8]) for line in t4)
    assert report.files[EXPORTS]["lignes_gardees"] == len(rows("E"))
    assert [n for _, n, _ in report.problems] == list(range(len(rows("E")) + 1,
                                                           len(rows("E")) + len(t4) + 1))
    assert _sorted(raw.table) == _sorted(clean.table)  # nothing summed twice


def test_same_key_in_both_flux_files_is_not_a_repeat(clean):
    assert clean.report.rows_repeated == 0  # E and I rows share every other field


def test_repeated_rows_finds_first_occurrences():
    table = pa.table({"a": ["x", "y", "x", "x", "z"], "b": [1, 2, 1, 1, 1]})
    repeats, firsts = reading.repeated_rows(table, ["a", "b"])
    assert repeats.tolist() == [2, 3] and firsts.tolist() == [0, 0]


# --------------------------------------------------------------------------- v2: control chars

@pytest.mark.parametrize("char", ["\x00", "\t", "\x1f"])
def test_control_character_after_the_first_4096_bytes_is_refused_with_its_line(tmp_path, char):
    lines = rows("E")
    target = 200  # well past byte 4096
    assert len("\n".join(lines[:target - 1]).encode()) > 4096
    lines[target - 1] = lines[target - 1].replace("0111", "01" + char + "1")
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(write_source(tmp_path / "raw", exports=lines), skip_invalid=True)
    assert f"{EXPORTS}, ligne {target} : caractère de contrôle inattendu" in str(err.value)


# --------------------------------------------------------------------------- v2: ZIP size

def test_zip_member_over_the_limit_is_refused_from_its_header(tmp_path, monkeypatch):
    path = write_zip(tmp_path / "dgddi.zip", write_source(tmp_path / "raw"), labels=False)
    monkeypatch.setattr(reading, "MAX_MEMBER_BYTES", 1000)
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, *a, **k: opened.append(a) or pytest.fail("lu"))
    with pytest.raises(InvalidDataError) as err:
        reading.read_source(path)
    assert "au-delà de la limite de 1\u202f000 octets" in str(err.value)
    assert opened == []


def test_zip_member_whose_header_lies_is_not_expanded(tmp_path, monkeypatch):
    folder = write_source(tmp_path / "raw")
    path = tmp_path / "menteur.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(folder / EXPORTS, EXPORTS)
        zf.write(folder / IMPORTS, IMPORTS)
    real = (folder / EXPORTS).stat().st_size
    data = bytearray(path.read_bytes())
    # Claim a tenth of the real size in the local header and the central directory.
    small = (real // 10).to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset:at + offset + 4] = small
    path.write_bytes(bytes(data))
    monkeypatch.setattr(reading, "MAX_MEMBER_BYTES", real // 5)
    with pytest.raises(InvalidDataError, match="illisible|au-delà de la limite"):
        reading.read_source(path)


# --------------------------------------------------------------------------- v2: several sources

def _publications(tmp_path):
    """The 2023 publication (4 quarters of 2023) and the 2024 one (T4 2023 revised by
    +1000 € a row, and 2024)."""
    from dgddi_fixtures import quarters_of_year, write_publication
    older = write_publication(tmp_path / "pub2023.zip", quarters_of_year(2023))
    newer = write_publication(tmp_path / "pub2024.zip", QUARTERS, offset=1000)
    return older, newer


def _t4_2023_exports(raw: reading.RawData) -> int:
    """Euros of the T4 2023 export rows kept."""
    table = raw.table
    mask = pa.compute.and_(pa.compute.and_(pa.compute.equal(table.column("annee"), 2023),
                                           pa.compute.equal(table.column("trimestre"), 4)),
                           pa.compute.equal(table.column("flux"), "E"))
    return sum(table.filter(mask).column("valeur").to_pylist())


def test_the_source_given_last_wins_each_quarter(tmp_path):
    from dgddi_fixtures import quarters_of_year, total
    older, newer = _publications(tmp_path)
    raw = reading.read_sources([older, newer])
    assert _t4_2023_exports(raw) == total("E", [(2023, 4)], offset=1000)
    assert raw.report.rows_repeated == 0
    assert raw.table.num_rows == 2 * (len(rows("E", quarters_of_year(2023)[:3]))
                                      + len(rows("E")))  # nothing counted twice
    assert raw.quarter_sources[(2023, 4)] == str(newer)
    assert raw.quarter_sources[(2023, 1)] == str(older)
    assert raw.quarter_sources[(2024, 1)] == str(newer)
    assert raw.replaced == [{"source": str(older), "annee": 2023, "trimestre": 4,
                             "lignes": len(rows("E", [(2023, 4)])) * 2,
                             "remplace_par": str(newer)}]
    assert raw.files["E"] == f"pub2023.zip/{EXPORTS}, pub2024.zip/{EXPORTS}"


def test_source_order_matters(tmp_path):
    from dgddi_fixtures import total
    older, newer = _publications(tmp_path)
    raw = reading.read_sources([newer, older])
    assert _t4_2023_exports(raw) == total("E", [(2023, 4)])
    assert raw.quarter_sources[(2023, 4)] == str(older)


def test_problems_of_several_sources_are_gathered_with_their_folder(tmp_path):
    first = write_source(tmp_path / "a", exports=rows("E") + [row(pays="")])
    second = write_source(tmp_path / "b", imports=rows("I") + [row(flux="I", masse="x")])
    with pytest.raises(InvalidDataError) as err:
        reading.read_sources([first, second])
    message = str(err.value)
    assert message.startswith("2 ligne(s) invalide(s)")
    assert f"{first}/{EXPORTS}, ligne {len(rows('E')) + 1} : code pays vide" in message
    assert f"{second}/{IMPORTS}, ligne {len(rows('I')) + 1} : masse « x »" in message
