"""The illustrative sample: layout, quirks, determinism, calibration and shape.

The committed ZIP (``data/sample/``) is parsed here with a small independent
parser, so that these tests check the generator, not the project's reader (a
separate test checks that the reader accepts the sample with no rejected row).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tradebook import nomenclatures, sample
from tradebook.errors import TradebookError
from tradebook.paths import SAMPLE_ZIP

FIELDS = ["flux", "trimestre", "annee", "departement", "region", "a129", "cpf4", "pays",
          "valeur", "masse"]
SMALL_SCALE = 0.03
LINE = re.compile(rb"^[EI];[1-4];20(23|24);[0-9][0-9A-E];[0-9]{2};[A-Z][0-9]{2}[A-Z];"
                  rb"[0-9]{4};[A-Z]{2};[1-9][0-9]*;[0-9]+\r$", re.MULTILINE)


# ----------------------------------------------------------------- helpers and fixtures
def read_rows(zip_path: Path) -> pd.DataFrame:
    """Both data files of a sample ZIP as one DataFrame (codes as strings)."""
    frames = []
    with zipfile.ZipFile(zip_path) as zf:
        for name in (sample.EXPORT_FILE, sample.IMPORT_FILE):
            table = pacsv.read_csv(
                io.BytesIO(zf.read(name)),
                read_options=pacsv.ReadOptions(column_names=FIELDS),
                parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False),
                convert_options=pacsv.ConvertOptions(column_types={
                    **{f: pa.string() for f in FIELDS},
                    "trimestre": pa.int8(), "annee": pa.int16(),
                    "valeur": pa.int64(), "masse": pa.int64()}),
            )
            frames.append(table.to_pandas())
    return pd.concat(frames, ignore_index=True)


def members(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture(scope="module")
def committed() -> Path:
    if not SAMPLE_ZIP.exists():
        pytest.fail(f"{SAMPLE_ZIP} absent : lancez python scripts/make_sample.py")
    return SAMPLE_ZIP


@pytest.fixture(scope="module")
def rows(committed: Path) -> pd.DataFrame:
    return read_rows(committed)


@pytest.fixture(scope="module")
def rows_2024(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["annee"] == 2024]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small sample (same generator, few rows), seed 7."""
    return sample.write_sample(tmp_path_factory.mktemp("small") / "small.zip", seed=7,
                               scale=SMALL_SCALE)


def total(frame: pd.DataFrame, flux: str) -> int:
    return int(frame.loc[frame["flux"] == flux, "valeur"].sum())


# ----------------------------------------------------------------- determinism
def test_same_seed_gives_same_bytes(small: Path, tmp_path: Path):
    again = sample.write_sample(tmp_path / "again.zip", seed=7, scale=SMALL_SCALE)
    assert again.read_bytes() == small.read_bytes()


def test_other_seed_gives_other_data(small: Path, tmp_path: Path):
    other = sample.write_sample(tmp_path / "other.zip", seed=8, scale=SMALL_SCALE)
    a, b = members(small), members(other)
    assert a[sample.EXPORT_FILE] != b[sample.EXPORT_FILE]
    assert a[sample.A129_FILE] == b[sample.A129_FILE]  # labels do not depend on the seed


def test_committed_zip_is_a_fresh_generation_with_the_default_seed(committed: Path,
                                                                  tmp_path: Path):
    """Same members, order, dates and contents (compressed bytes may differ with zlib)."""
    fresh = sample.write_sample(tmp_path / "fresh.zip")
    with zipfile.ZipFile(committed) as old, zipfile.ZipFile(fresh) as new:
        assert [(i.filename, i.date_time, i.CRC, i.file_size) for i in old.infolist()] == \
               [(i.filename, i.date_time, i.CRC, i.file_size) for i in new.infolist()]
    assert members(committed) == members(fresh)


def test_zip_layout_is_fixed(committed: Path):
    with zipfile.ZipFile(committed) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == list(sample.MEMBER_ORDER)
    assert {i.date_time for i in infos} == {sample.ZIP_DATE}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


# ----------------------------------------------------------------- calibration
def test_2024_totals_match_published_figures_to_the_euro(rows_2024: pd.DataFrame):
    normandie = rows_2024[rows_2024["region"] == sample.NORMANDIE_DGDDI]
    orne = rows_2024[rows_2024["departement"] == "61"]
    assert set(normandie["departement"]) == {"14", "27", "50", "61", "76"}
    assert total(rows_2024, "E") == 580_354_500_000
    assert total(rows_2024, "I") == 684_776_300_000
    assert total(normandie, "E") == 38_690_200_000
    assert total(normandie, "I") == 49_841_200_000
    assert total(orne, "E") == 1_446_300_000
    assert total(orne, "I") == 1_428_900_000


def test_calibration_holds_at_any_scale_and_seed(small: Path):
    frame = read_rows(small)
    frame = frame[frame["annee"] == 2024]
    assert total(frame, "E") == sample.FRANCE_2024["E"]
    assert total(frame, "I") == sample.FRANCE_2024["I"]
    orne = frame[frame["departement"] == sample.ORNE]
    assert (total(orne, "E"), total(orne, "I")) == (sample.ORNE_2024["E"], sample.ORNE_2024["I"])


def test_2023_differs_plausibly(rows: pd.DataFrame):
    for flux in ("E", "I"):
        ratio = total(rows[rows["annee"] == 2023], flux) / total(rows[rows["annee"] == 2024], flux)
        assert 0.005 < abs(ratio - 1) < 0.10, (flux, ratio)


def test_round_groups_hits_every_target():
    rng = np.random.default_rng(0)
    groups = np.sort(rng.integers(0, 5, 1000))
    values = rng.random(1000) * 1e6
    targets = np.bincount(groups, weights=values).round().astype(np.int64) + np.arange(5) - 2
    scaled = values * targets[groups] / np.bincount(groups, weights=values)[groups]
    result = sample.round_groups(scaled, groups, targets)
    assert result.dtype == np.int64
    assert np.array_equal(np.bincount(groups, weights=result).astype(np.int64), targets)
    assert np.all(np.abs(result - scaled) < 1.0 + 1e-6)


# ----------------------------------------------------------------- coverage and codes
def test_all_101_areas_both_years_every_quarter(rows: pd.DataFrame):
    expected = {d.code_dgddi for d in nomenclatures.departements()}
    assert len(expected) == 101
    assert {"20", "9A", "9B", "9C", "9D", "9E", "99"} <= expected
    quarters = rows.groupby(["flux", "departement", "annee"])["trimestre"].nunique()
    assert len(quarters) == 2 * 101 * 2
    assert set(rows["departement"]) == expected
    assert (quarters == 4).all()
    assert set(rows["annee"]) == {2023, 2024}


def test_codes_follow_the_nomenclature_tables(rows: pd.DataFrame):
    region = {d.code_dgddi: d.region_dgddi for d in nomenclatures.departements()}
    assert (rows["region"] == rows["departement"].map(region)).all()
    parent = nomenclatures.cpf4_to_a129()
    assert (rows["a129"] == rows["cpf4"].map(parent)).all()
    for year in (2023, 2024):
        valid = set(nomenclatures.labels_valid_in("pays", year))
        assert set(rows.loc[rows["annee"] == year, "pays"]) <= valid - {"EU"}
    assert "C30D" not in set(rows["a129"])  # military equipment is excluded
    assert (rows["valeur"] > 0).all() and (rows["masse"] >= 0).all()
    assert not rows.duplicated(["flux", "annee", "trimestre", "departement", "cpf4",
                                "pays"]).any()


def test_data_files_are_dgddi_text(committed: Path):
    data = members(committed)
    for name, flux in ((sample.EXPORT_FILE, b"E"), (sample.IMPORT_FILE, b"I")):
        raw = data[name]
        raw.decode("utf-8")
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert raw.endswith(b"\r\n")
        lines = raw.count(b"\n")
        assert raw.count(b"\r\n") == lines
        assert len(LINE.findall(raw)) == lines  # every line: 10 well-formed fields, no header
        assert raw.count(b"\n" + (b"I" if flux == b"E" else b"E") + b";") == 0


# ----------------------------------------------------------------- realism and sparsity
def test_row_count_and_zip_size(committed: Path, rows: pd.DataFrame):
    assert 200_000 <= len(rows) <= 600_000
    assert committed.stat().st_size < 12_000_000


def test_sparse_with_small_and_large_departements(rows_2024: pd.DataFrame):
    exports = rows_2024[rows_2024["flux"] == "E"]
    partners = exports.groupby("departement")["pays"].nunique()
    assert (partners[["48", "9E", "23"]] < 10).all(), partners[["48", "9E", "23"]]
    products = exports.groupby("departement")["cpf4"].nunique()
    assert (products < 10).sum() >= 3
    cells = exports.groupby("departement")[["cpf4", "pays"]].apply(
        lambda t: len(t.drop_duplicates()))
    assert (cells > 100).sum() >= 30
    assert cells.max() > 1000
    possible = 101 * rows_2024["cpf4"].nunique() * rows_2024["pays"].nunique()
    assert len(exports[["departement", "cpf4", "pays"]].drop_duplicates()) < 0.05 * possible


def test_partners_follow_gravity(rows_2024: pd.DataFrame):
    for flux in ("E", "I"):
        frame = rows_2024[rows_2024["flux"] == flux]
        top = frame.groupby("pays")["valeur"].sum().nlargest(10).index
        assert {"DE", "BE", "IT", "ES", "US", "NL"} <= set(top), list(top)
        assert 150 <= frame["pays"].nunique() <= 250
    assert {"QU", "XK", "XS", "QR", "QS"} <= set(rows_2024["pays"])


def test_local_specialisations(rows_2024: pd.DataFrame):
    def top_a129(dep: str, flux: str) -> str:
        frame = rows_2024[(rows_2024["departement"] == dep) & (rows_2024["flux"] == flux)]
        return frame.groupby("a129")["valeur"].sum().idxmax()

    assert top_a129("31", "E") == "C30C"
    assert top_a129("51", "E") == "C11Z"
    assert top_a129("76", "I") == "B06Z"
    assert top_a129("13", "I") == "B06Z"
    assert top_a129("75", "I") == "B06Z"  # natural gas, booked to Paris
    energy = rows_2024[rows_2024["a129"].isin(["D35A", "D35B"]) | (rows_2024["cpf4"] == "0620")]
    assert set(energy["departement"]) == {"75"}
    electricity = rows_2024[rows_2024["a129"] == "D35A"]
    assert len(electricity) and (electricity["masse"] == 0).all()
    sizes = rows_2024[rows_2024["flux"] == "E"].groupby("departement")["valeur"].sum()
    assert sizes["23"] < 0.001 * sizes.sum() and sizes["48"] < 0.001 * sizes.sum()


def test_overseas_trade_with_neighbours_and_the_eu(rows_2024: pd.DataFrame):
    overseas = rows_2024[rows_2024["departement"].isin(sample.OVERSEAS_NEIGHBOURS)]
    near = overseas.apply(lambda r: r["pays"] in sample.OVERSEAS_NEIGHBOURS[r["departement"]]
                          or r["pays"] in sample.EU_MEMBERS, axis=1)
    assert overseas.loc[near, "valeur"].sum() > 0.6 * overseas["valeur"].sum()


# ----------------------------------------------------------------- label files and marker
def test_label_file_quirks(committed: Path):
    data = members(committed)
    a129 = data[sample.A129_FILE]
    assert a129.startswith(b"\xef\xbb\xbf") and a129.count(b"\r\n") == a129.count(b"\n") == 76
    for code in (b"C26E", b"C26G", b"C32C"):
        line = next(x for x in a129.split(b"\r\n") if x.lstrip(b"\xef\xbb\xbf").startswith(code))
        assert re.fullmatch(rb'[A-Z0-9]{4};"[^"]*;[^"]*";\d{6};\d{6}', line), line
    cpf4 = data[sample.CPF4_FILE]
    with pytest.raises(UnicodeDecodeError):
        cpf4.decode("utf-8")
    assert "Céréales".encode("cp1252") in cpf4 and cpf4.count(b"\r\n") == 576
    pays = data[sample.PAYS_FILE].decode("utf-8")
    assert not pays.startswith("\ufeff") and pays.count("\r\n") == 289
    assert "SU;Union soviétique;190001;199205\r\n" in pays  # expired rows are kept
    deps = data[sample.DEPARTEMENTS_FILE].decode("utf-8")
    assert deps.count("\r\n") == 101 and "20;Corse;22;Corse\r\n" in deps
    assert "9E;Mayotte;24;DOM\r\n" in deps and "99;Principauté de Monaco;21;" in deps


def test_label_files_are_byte_identical_to_dgddi(reference_dir: Path):
    """Generated from the project's tables, they reproduce the official files exactly."""
    for name, data in sample.label_files().items():
        assert data == (reference_dir / name).read_bytes(), name


def test_marker_says_fictitious(committed: Path):
    text = members(committed)[sample.MARKER_FILE].decode("utf-8")
    assert "DONNÉES FICTIVES" in text and "ne pas citer" in text
    assert "ne sont pas des données de la DGDDI" in text
    assert f"--graine {sample.DEFAULT_SEED}" in text


def test_reader_accepts_the_sample_without_rejection(committed: Path, rows: pd.DataFrame):
    reading = pytest.importorskip("tradebook.reading")
    if not hasattr(reading, "read_source"):
        pytest.skip("tradebook.reading.read_source pas encore disponible")
    raw = reading.read_source(committed)
    assert raw.report.rows_rejected == 0
    assert raw.donnees_fictives is True
    assert raw.table.num_rows == len(rows)
    assert sorted(raw.labels) == ["a129", "cpf4", "pays"]


# ----------------------------------------------------------------- API and command line
def test_write_is_atomic_and_checks_its_arguments(tmp_path: Path):
    with pytest.raises(TradebookError, match="Échelle invalide"):
        sample.write_sample(tmp_path / "x.zip", scale=0)
    with pytest.raises(TradebookError, match="Graine invalide"):
        sample.write_sample(tmp_path / "x.zip", seed=-1, scale=SMALL_SCALE)
    assert list(tmp_path.iterdir()) == []
    target = tmp_path / "sub" / "s.zip"
    target.parent.mkdir()
    target.write_bytes(b"old")
    sample.write_sample(target, seed=3, scale=SMALL_SCALE)
    assert zipfile.is_zipfile(target)
    assert [p.name for p in target.parent.iterdir()] == ["s.zip"]


def test_scale_multiplies_rows_not_totals(small: Path, rows: pd.DataFrame):
    few = read_rows(small)
    assert len(few) < 0.2 * len(rows)
    assert total(few[few["annee"] == 2024], "E") == total(rows[rows["annee"] == 2024], "E")


def test_command_line(tmp_path: Path, capsys):
    from tradebook.cli import main

    out = tmp_path / "cli.zip"
    assert main(["echantillon", "--sortie", str(out), "--graine", "7",
                 "--echelle", str(SMALL_SCALE)]) == 0
    assert "Échantillon fictif écrit" in capsys.readouterr().out
    assert members(out)[sample.EXPORT_FILE] == \
        members(sample.write_sample(tmp_path / "api.zip", seed=7, scale=SMALL_SCALE))[
            sample.EXPORT_FILE]


def test_describe_counts_lines(small: Path):
    text = sample.describe(small)
    counts = sample.count_lines(small)
    assert sum(counts.values()) == len(read_rows(small))
    assert "lignes" in text and "Mo" in text
