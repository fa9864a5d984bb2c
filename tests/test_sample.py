"""The illustrative sample: layout, quirks, determinism, calibration and shape.

The committed ZIPs (``data/sample/``: the 2024 publication, T4 2023 to T4 2024, and
the 2023 publication, T1 to T4 2023) are parsed here with a small independent
parser, so that these tests check the generator, not the project's reader (a
separate test checks that the reader accepts both with no rejected row).
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
from tradebook.formatting import format_eur
from tradebook.paths import SAMPLE_PREVIOUS_ZIP, SAMPLE_SOURCES, SAMPLE_ZIP

FIELDS = ["flux", "trimestre", "annee", "departement", "region", "a129", "cpf4", "pays",
          "valeur", "masse"]
SMALL_SCALE = 0.03
LINE = re.compile(rb"^[EI];[1-4];20(23|24);[0-9][0-9A-E];[0-9]{2};[A-Z][0-9]{2}[A-Z];"
                  rb"[0-9]{4};[A-Z]{2};[1-9][0-9]*;[0-9]+\r$", re.MULTILINE)
CELL = ["flux", "departement", "cpf4", "pays"]
BIG = ["75", "59", "13", "31", "76", "69", "92", "67", "44", "33"]
SMALL = ["48", "23", "15", "05", "09"]
OVERSEAS = ["9A", "9B", "9C", "9D", "9E"]


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


def assemble_2023(previous: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """2023 as a reader of both publications sees it: the later one wins for T4."""
    return pd.concat([previous[(previous["annee"] == 2023) & (previous["trimestre"] < 4)],
                      latest[latest["annee"] == 2023]], ignore_index=True)


@pytest.fixture(scope="module")
def committed() -> Path:
    for path in SAMPLE_SOURCES:
        if not path.exists():
            pytest.fail(f"{path} absent : lancez python scripts/make_sample.py")
    return SAMPLE_ZIP


@pytest.fixture(scope="module")
def latest(committed: Path) -> pd.DataFrame:
    return read_rows(committed)


@pytest.fixture(scope="module")
def previous(committed: Path) -> pd.DataFrame:
    return read_rows(SAMPLE_PREVIOUS_ZIP)


@pytest.fixture(scope="module")
def rows_2024(latest: pd.DataFrame) -> pd.DataFrame:
    return latest[latest["annee"] == 2024]


@pytest.fixture(scope="module")
def rows_2023(previous: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    return assemble_2023(previous, latest)


@pytest.fixture(scope="module")
def totals(rows_2023: pd.DataFrame, rows_2024: pd.DataFrame) -> pd.DataFrame:
    """Flux x département x year totals in euros (columns 2023, 2024)."""
    return pd.concat({year: frame.groupby(["flux", "departement"])["valeur"].sum()
                      for year, frame in ((2023, rows_2023), (2024, rows_2024))}, axis=1)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small sample (same generator, few rows), seed 7."""
    return sample.write_sample(tmp_path_factory.mktemp("small") / "small.zip", seed=7,
                               scale=SMALL_SCALE)


def total(frame: pd.DataFrame, flux: str) -> int:
    return int(frame.loc[frame["flux"] == flux, "valeur"].sum())


def page_codes() -> list[str]:
    return [d.code_dgddi for d in nomenclatures.page_departements()]


# ----------------------------------------------------------------- determinism
def test_same_seed_gives_same_bytes(small: Path, tmp_path: Path):
    again = sample.write_sample(tmp_path / "again.zip", seed=7, scale=SMALL_SCALE)
    assert again.read_bytes() == small.read_bytes()
    assert sample.previous_path(again).read_bytes() == sample.previous_path(small).read_bytes()


def test_other_seed_gives_other_data(small: Path, tmp_path: Path):
    other = sample.write_sample(tmp_path / "other.zip", seed=8, scale=SMALL_SCALE)
    a, b = members(small), members(other)
    assert a[sample.EXPORT_FILE] != b[sample.EXPORT_FILE]
    assert a[sample.A129_FILE] == b[sample.A129_FILE]  # labels do not depend on the seed


def test_committed_zips_are_a_fresh_generation_with_the_default_seed(committed: Path,
                                                                    tmp_path: Path):
    """Same members, order, dates and contents (compressed bytes may differ with zlib)."""
    fresh = sample.write_sample(tmp_path / committed.name)
    for old_path, new_path in ((committed, fresh),
                               (SAMPLE_PREVIOUS_ZIP, sample.previous_path(fresh))):
        with zipfile.ZipFile(old_path) as old, zipfile.ZipFile(new_path) as new:
            assert [(i.filename, i.date_time, i.CRC, i.file_size) for i in old.infolist()] == \
                   [(i.filename, i.date_time, i.CRC, i.file_size) for i in new.infolist()]
        assert members(old_path) == members(new_path)


def test_zip_layout_is_fixed(committed: Path):
    for path in SAMPLE_SOURCES:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        assert [i.filename for i in infos] == list(sample.MEMBER_ORDER)
        assert {i.date_time for i in infos} == {sample.ZIP_DATE}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_the_2023_publication_sits_beside_the_2024_one():
    assert sample.previous_path(SAMPLE_ZIP) == SAMPLE_PREVIOUS_ZIP
    assert SAMPLE_SOURCES == (SAMPLE_PREVIOUS_ZIP, SAMPLE_ZIP)  # oldest first, the later wins
    assert sample.previous_path(Path("/tmp/x/gros.zip")) == Path("/tmp/x/gros_2023.zip")


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
    # the shares the ANCT fiche prints for the Orne
    assert f"{100 * 1_446_300_000 / 38_690_200_000:.1f}" == "3.7"
    assert f"{100 * 1_446_300_000 / 580_354_500_000:.2f}" == "0.25"


def test_calibration_holds_at_any_scale_and_seed(small: Path):
    frame = read_rows(small)
    frame = frame[frame["annee"] == 2024]
    assert total(frame, "E") == sample.FRANCE_2024["E"]
    assert total(frame, "I") == sample.FRANCE_2024["I"]
    orne = frame[frame["departement"] == sample.ORNE]
    assert (total(orne, "E"), total(orne, "I")) == (sample.ORNE_2024["E"], sample.ORNE_2024["I"])


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


# ----------------------------------------------------------------- sizes of the départements
def test_every_departement_has_its_own_total(totals: pd.DataFrame):
    """Distinct as printed (0,1 M€), for the 100 pages and Monaco, in both flows."""
    for flux in ("E", "I"):
        column = totals.loc[flux, 2024]
        assert len(column) == 101
        printed = {format_eur(v, "M€") for v in column[page_codes()]}
        assert len(printed) == 100, flux
        assert format_eur(column["99"], "M€") not in printed


def test_distinct_totals_at_any_seed(small: Path):
    frame = read_rows(small)
    sums = frame[frame["annee"] == 2024].groupby(["flux", "departement"])["valeur"].sum()
    for flux in ("E", "I"):
        assert len({format_eur(v, "M€") for v in sums[flux]}) == 101


def test_crowded_flags_both_values_of_a_close_pair():
    values = np.array([1_000_000, 5_000_000, 1_150_000, 9_000_000])
    assert sample.crowded(values, 200_000).tolist() == [True, False, True, False]
    assert not sample.crowded(values, 100_000).any()


def test_sizes_are_heavy_tailed(totals: pd.DataFrame):
    for flux in ("E", "I"):
        pages = totals.loc[flux, 2024][page_codes()]
        ranks = pages.rank(ascending=False)
        assert pages.nlargest(10).sum() > 0.35 * totals.loc[flux, 2024].sum(), flux
        assert pages.max() > 300 * pages.min(), flux
        assert 2e9 < pages.median() < 5e9, flux
        assert (ranks[BIG] <= 25).all() and (ranks[BIG] <= 10).sum() >= 8, ranks[BIG]
        assert (ranks[SMALL] > 85).all(), ranks[SMALL]
        # log-normal-like: the logs spread over orders of magnitude, not a few huge ones
        assert 0.4 < np.log10(pages).std() < 0.8, flux
    exports, imports = totals.loc["E", 2024], totals.loc["I", 2024]
    assert (imports[OVERSEAS] > 5 * exports[OVERSEAS]).all()
    assert imports.idxmax() == "75"  # gas and electricity, by convention


# ----------------------------------------------------------------- 2023 against 2024
def test_2023_totals_differ_by_a_few_per_cent(totals: pd.DataFrame):
    for flux in ("E", "I"):
        ratio = totals.loc[flux, 2023] / totals.loc[flux, 2024]
        france = totals.loc[flux, 2023].sum() / totals.loc[flux, 2024].sum()
        assert 0.005 < abs(france - 1) < 0.06, (flux, france)
        assert 0.01 < (ratio - 1).abs().median() < 0.06, flux
        assert ratio.between(0.8, 1.25).all(), ratio[~ratio.between(0.8, 1.25)]
        assert ratio.round(3).nunique() > 50


def test_partners_and_products_move_more_than_totals(rows_2023, rows_2024, totals):
    """Big partners and products of a département change by 5-30 % typically."""
    dep_change = (totals[2023] / totals[2024] - 1).abs().median()
    for key in ("pays", "a129"):
        sums = pd.concat({year: frame.groupby(["flux", "departement", key])["valeur"].sum()
                          for year, frame in ((2023, rows_2023), (2024, rows_2024))}, axis=1)
        big = sums[sums[2024] > 50e6].dropna()
        change = (big[2023] / big[2024] - 1).abs()
        assert len(big) > 500
        assert 2 * dep_change < change.median() < 0.3, (key, change.median())


def test_partners_appear_and_vanish(rows_2023: pd.DataFrame, rows_2024: pd.DataFrame):
    def partners(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
        return set(map(tuple, frame[["flux", "departement", "pays"]].drop_duplicates().values))

    before, after = partners(rows_2023), partners(rows_2024)
    for changed in (after - before, before - after):
        assert 100 < len(changed) < 0.1 * len(before & after)
        assert len({dep for _, dep, _ in changed}) > 50  # everywhere, not in a few places
    # a département's main partners do not vanish
    top = rows_2024.groupby(["flux", "departement", "pays"])["valeur"].sum()
    top = top[top > 0.05 * top.groupby(level=[0, 1]).transform("sum")]
    assert set(top.index) <= before


def test_both_publications_hold_their_quarters(previous: pd.DataFrame, latest: pd.DataFrame):
    expected = {d.code_dgddi for d in nomenclatures.departements()}
    assert len(expected) == 101
    assert {"20", "9A", "9B", "9C", "9D", "9E", "99"} <= expected
    for frame, quarters in ((latest, sample.PUBLICATIONS[2024]),
                            (previous, sample.PUBLICATIONS[2023])):
        assert set(frame["departement"]) == expected
        held = frame.groupby(["flux", "departement"])[["annee", "trimestre"]].apply(
            lambda t: tuple(sorted(set(zip(t["annee"], t["trimestre"])))))
        assert len(held) == 2 * 101
        assert set(held) == {tuple(quarters)}
    assert sample.PUBLICATIONS[2024] == ((2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4))


def test_t4_2023_is_revised_slightly(previous: pd.DataFrame, latest: pd.DataFrame):
    """The 2024 publication revises the 2023 one's T4 2023 by a few tenths of a per cent."""
    first = previous[previous["trimestre"] == 4].set_index(CELL)["valeur"]
    revised = latest[latest["annee"] == 2023].set_index(CELL)["valeur"]
    both = pd.concat([first, revised], axis=1, keys=["first", "revised"], join="inner")
    change = (both["revised"] / both["first"] - 1).abs()
    assert 0.1 < (change > 0).mean() < 0.6
    assert change.max() < 0.01
    assert (change[change > 0] > 0.0005).mean() > 0.9  # tenths of a per cent, not noise
    only_first, only_revised = len(first) - len(both), len(revised) - len(both)
    assert 0 < only_first < 0.01 * len(both) and 0 < only_revised < 0.02 * len(both)
    assert 0 < abs(first.sum() / revised.sum() - 1) < 0.005


# ----------------------------------------------------------------- coverage and codes
def test_codes_follow_the_nomenclature_tables(previous: pd.DataFrame, latest: pd.DataFrame):
    rows = pd.concat([previous, latest], ignore_index=True)
    region = {d.code_dgddi: d.region_dgddi for d in nomenclatures.departements()}
    assert (rows["region"] == rows["departement"].map(region)).all()
    parent = nomenclatures.cpf4_to_a129()
    assert (rows["a129"] == rows["cpf4"].map(parent)).all()
    for year in (2023, 2024):
        valid = set(nomenclatures.labels_valid_in("pays", year))
        assert set(rows.loc[rows["annee"] == year, "pays"]) <= valid - {"EU"}
    assert "C30D" not in set(rows["a129"])  # military equipment is excluded
    assert (rows["valeur"] > 0).all() and (rows["masse"] >= 0).all()
    for frame in (previous, latest):
        assert not frame.duplicated(["flux", "annee", "trimestre", "departement", "cpf4",
                                     "pays"]).any()


def test_data_files_are_dgddi_text(committed: Path):
    for path in SAMPLE_SOURCES:
        data = members(path)
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
def test_row_counts_and_zip_sizes(committed: Path, latest: pd.DataFrame,
                                  previous: pd.DataFrame):
    assert 200_000 <= len(latest) <= 600_000
    assert 0.6 * len(latest) < len(previous) < len(latest)  # 4 quarters against 5
    assert sum(path.stat().st_size for path in SAMPLE_SOURCES) < 12_000_000


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


def test_united_states_shares_vary(rows_2024: pd.DataFrame):
    """The exposure pages rank départements by the share of exports to the US."""
    exports = rows_2024[rows_2024["flux"] == "E"]
    by_dep = exports.groupby("departement")["valeur"].sum()
    to_us = exports[exports["pays"] == "US"].groupby("departement")["valeur"].sum()
    share = (to_us.reindex(by_dep.index, fill_value=0) / by_dep)[page_codes()]
    assert 0.04 < to_us.sum() / by_dep.sum() < 0.10  # national share
    assert (share < 0.005).sum() >= 5  # a few hardly trade with the US
    assert (share > 0.12).sum() >= 8
    assert share.std() > 0.04
    assert share.round(3).nunique() > 60
    ranks = share.rank(ascending=False)
    assert ranks["16"] <= 5  # cognac
    assert share[["75", "27", "45"]].min() > share.median()  # luxury, pharmacy
    assert share[["48", "23", "9E"]].max() < 0.005


def test_product_mixes_follow_the_type_of_territory(rows_2024: pd.DataFrame):
    def shares(dep: str, flux: str) -> pd.Series:
        frame = rows_2024[(rows_2024["departement"] == dep) & (rows_2024["flux"] == flux)]
        sums = frame.groupby("a129")["valeur"].sum()
        return sums / sums.sum()

    def top_a129(dep: str, flux: str) -> str:
        return shares(dep, flux).idxmax()

    assert top_a129("31", "E") == "C30C"
    for dep in ("13", "33", "92", "44"):
        assert shares(dep, "E")["C30C"] > 0.15, dep  # aerospace
    for dep in ("51", "16"):
        assert top_a129(dep, "E") == "C11Z", dep  # champagne, cognac
    assert shares("33", "E")["C11Z"] > 0.15 and shares("21", "E")["C11Z"] > 0.3
    for dep in ("27", "69"):
        assert top_a129(dep, "E") == "C21Z", dep
    assert shares("76", "E")["C21Z"] > 0.05 and shares("45", "E")["C21Z"] > 0.1
    for dep in ("22", "29"):
        assert top_a129(dep, "E") == "C10A", dep  # Brittany's agrifood
    for dep in ("78", "25", "59", "35"):
        assert shares(dep, "E")[["C29A", "C29B"]].sum() > 0.15, dep  # cars
    for dep in ("13", "76", "75"):
        assert top_a129(dep, "I") == "B06Z", dep  # crude oil at ports, gas at Paris
    for dep in ("59", "44"):
        assert shares(dep, "I")["B06Z"] > 0.1, dep
    crude = rows_2024[rows_2024["cpf4"] == "0610"]
    assert set(crude["departement"]) <= set(sample.RESERVED_CPF4["0610"])
    energy = rows_2024[rows_2024["a129"].isin(["D35A", "D35B"]) | (rows_2024["cpf4"] == "0620")]
    assert set(energy["departement"]) == {"75"}
    electricity = rows_2024[rows_2024["a129"] == "D35A"]
    assert len(electricity) and (electricity["masse"] == 0).all()


def test_overseas_trade_with_neighbours_and_the_eu(rows_2024: pd.DataFrame):
    overseas = rows_2024[rows_2024["departement"].isin(sample.OVERSEAS_NEIGHBOURS)]
    near = overseas.apply(lambda r: r["pays"] in sample.OVERSEAS_NEIGHBOURS[r["departement"]]
                          or r["pays"] in sample.EU_MEMBERS, axis=1)
    assert overseas.loc[near, "valeur"].sum() > 0.6 * overseas["valeur"].sum()


def test_territory_boosts_take_the_largest_type_then_the_specialisation():
    # 13 is a port (C19Z 5 for exports) and aerospace; its own table sets C30C to 3.
    boosts = sample.territory_boosts("13", "E")
    assert boosts["C19Z"] == 5 and boosts["B06Z"] == 0.3 and boosts["C30C"] == 3
    assert sample.territory_boosts("13", "I")["B06Z"] == 6
    assert sample.territory_boosts("99", "E") == {"C20B": 6, "C32A": 5, "C21Z": 3}


def test_churn_spares_the_heavy_items():
    rng = np.random.default_rng(0)
    weights = np.array([50.0, 30, 10, 5, 2, 1.5] + [0.01] * 994)
    masks = sample.churn_masks(rng, weights, rate=0.5)
    assert masks[:6].all()  # the heaviest and any item above 1 % of the weight
    one_year = ~masks.all(axis=1)
    assert 400 < one_year.sum() < 600 and masks.any(axis=1).all()
    assert 0.4 < masks[one_year, 0].mean() < 0.6  # either year, evenly


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
    other = members(SAMPLE_PREVIOUS_ZIP)
    for name in (sample.A129_FILE, sample.CPF4_FILE, sample.PAYS_FILE, sample.DEPARTEMENTS_FILE):
        assert other[name] == data[name], name


def test_label_files_are_byte_identical_to_dgddi(reference_dir: Path):
    """Generated from the project's tables, they reproduce the official files exactly."""
    for name, data in sample.label_files().items():
        assert data == (reference_dir / name).read_bytes(), name


def test_marker_says_fictitious(committed: Path):
    for path in SAMPLE_SOURCES:
        text = members(path)[sample.MARKER_FILE].decode("utf-8")
        assert "DONNÉES FICTIVES" in text and "ne pas citer" in text
        assert "ne sont pas des données de la DGDDI" in text
        assert f"--graine {sample.DEFAULT_SEED}" in text
        assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    latest = members(SAMPLE_ZIP)[sample.MARKER_FILE].decode("utf-8")
    previous = members(SAMPLE_PREVIOUS_ZIP)[sample.MARKER_FILE].decode("utf-8")
    assert "Publication fictive 2024 : T4 2023, T1 2024, T2 2024, T3 2024, T4 2024." in latest
    assert "Publication fictive 2023 : T1 2023, T2 2023, T3 2023, T4 2023." in previous
    assert "T4 2023 est provisoire" in previous and "T4 2023 y est révisé" in latest


def test_reader_accepts_both_publications_without_rejection(committed: Path,
                                                            latest: pd.DataFrame,
                                                            previous: pd.DataFrame):
    reading = pytest.importorskip("tradebook.reading")
    for path, rows in ((SAMPLE_ZIP, latest), (SAMPLE_PREVIOUS_ZIP, previous)):
        raw = reading.read_source(path)
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
    assert sample.write_sample(target, seed=3, scale=SMALL_SCALE) == target
    assert zipfile.is_zipfile(target) and zipfile.is_zipfile(tmp_path / "sub" / "s_2023.zip")
    assert sorted(p.name for p in target.parent.iterdir()) == ["s.zip", "s_2023.zip"]


def test_a_failed_write_replaces_neither_publication(tmp_path: Path, monkeypatch):
    target = tmp_path / "s.zip"
    target.write_bytes(b"old 2024")
    sample.previous_path(target).write_bytes(b"old 2023")
    calls = []
    real = sample.write_zip

    def fail_second(path, members, **options):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disque plein")
        real(path, members, **options)

    monkeypatch.setattr(sample, "write_zip", fail_second)
    with pytest.raises(OSError):
        sample.write_sample(target, seed=3, scale=SMALL_SCALE)
    assert target.read_bytes() == b"old 2024"
    assert sample.previous_path(target).read_bytes() == b"old 2023"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zip", "s_2023.zip"]


def test_scale_multiplies_rows_not_totals(small: Path, latest: pd.DataFrame):
    few = read_rows(small)
    assert len(few) < 0.2 * len(latest)
    assert total(few[few["annee"] == 2024], "E") == total(latest[latest["annee"] == 2024], "E")


def test_command_line(tmp_path: Path, capsys):
    from tradebook.cli import main

    out = tmp_path / "cli.zip"
    assert main(["echantillon", "--sortie", str(out), "--graine", "7",
                 "--echelle", str(SMALL_SCALE)]) == 0
    assert "Échantillon fictif écrit" in capsys.readouterr().out
    api = sample.write_sample(tmp_path / "api.zip", seed=7, scale=SMALL_SCALE)
    assert members(out)[sample.EXPORT_FILE] == members(api)[sample.EXPORT_FILE]
    assert members(sample.previous_path(out)) == members(sample.previous_path(api))


def test_describe_counts_lines(small: Path):
    text = sample.describe(small)
    counts = sample.count_lines(small)
    assert sum(counts.values()) == len(read_rows(small))
    assert "lignes" in text and "Mo" in text
