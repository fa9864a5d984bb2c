"""The shipped map geometry: its 101 shapes, codes, metadata, size, topology, and its build.

The rebuild tests run ``scripts/build_geo.py`` on the reference GeoJSON in
``../shared/reference/geo`` and are skipped, with the reason, when it is absent.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tradebook import geo

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_geo.py"
SOURCE = ROOT.parent / "shared" / "reference" / "geo" / "departements-avec-outre-mer.geojson"
MAX_BYTES = 300_000  # the ceiling
BUDGET_BYTES = 100_000  # what the page weight can afford today (the file is about 75 kB)

# Hand-written, not derived from the nomenclature code under test.
COG_CODES = ([f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"]
             + [f"{n}" for n in range(21, 96)] + ["971", "972", "973", "974", "976"])
OVERSEAS_DGDDI = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9E"}


@pytest.fixture(scope="module")
def geometry() -> geo.Geometry:
    return geo.load_geometry()


@pytest.fixture
def topology(geometry) -> dict:
    """A private copy of the shipped topology, free to damage."""
    return copy.deepcopy(geometry.topology)


def shapes_by_code(geometry: geo.Geometry) -> dict[str, dict]:
    return {g["properties"]["code"]: g for g in geometry.topology["objects"][geo.OBJECT]["geometries"]}


def arc_ids(geometry: dict) -> set[int]:
    """The arcs (as indexes, reversed ones folded) of a TopoJSON polygon or multipolygon."""
    rings = geometry["arcs"] if geometry["type"] == "Polygon" else [
        ring for polygon in geometry["arcs"] for ring in polygon]
    return {i if i >= 0 else ~i for ring in rings for i in ring}


def decoded_points(topology: dict, geometry: dict) -> list[tuple[float, float]]:
    """The map coordinates of every point of a shape's arcs (delta decoding, transform)."""
    (kx, ky), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    points = []
    for index in arc_ids(geometry):
        x = y = 0
        for dx, dy in topology["arcs"][index]:
            x, y = x + dx, y + dy
            points.append((x * kx + tx, y * ky + ty))
    return points


# --------------------------------------------------------------------------- the shipped file


def test_the_map_has_exactly_the_101_cog_shapes_in_cog_order(geometry):
    assert geo.shape_codes(geometry) == COG_CODES
    assert len(COG_CODES) == 101


def test_corsica_shapes_belong_to_area_20_and_overseas_to_9a_9e(geometry):
    dgddi = {p["code"]: p["dgddi"] for p in geometry.properties}
    assert dgddi["2A"] == dgddi["2B"] == "20"
    assert {code: dgddi[code] for code in OVERSEAS_DGDDI} == OVERSEAS_DGDDI
    others = [c for c in COG_CODES if c not in ("2A", "2B", *OVERSEAS_DGDDI)]
    assert all(dgddi[c] == c for c in others)


def test_monaco_is_not_drawn(geometry):
    assert "99" not in {p["dgddi"] for p in geometry.properties}
    assert not any("Monaco" in p["nom"] for p in geometry.properties)


def test_every_shape_has_its_properties_and_a_french_name(geometry):
    names = {p["code"]: p["nom"] for p in geometry.properties}
    assert all(set(p) == {"code", "nom", "dgddi"} for p in geometry.properties)
    assert names["2A"] == "Corse-du-Sud" and names["974"] == "La Réunion"
    assert names["61"] == "Orne"


def test_metadata_carries_attribution_licence_source_and_derivation(geometry):
    meta = geometry.topology["metadata"]
    assert geometry.attribution == meta["attribution"] == "IGN – Admin Express COG 2018"
    assert "Licence Ouverte" in meta["licence"]
    assert "IGN" in meta["source"] and "COG 2018" in meta["source"]
    assert "Lambert-93" in meta["derivation"] and "identité" in meta["derivation"]
    assert len(meta["source_sha256"]) == 64


def test_file_is_small(geometry):
    size = geometry.path.stat().st_size
    assert size <= MAX_BYTES
    assert size <= BUDGET_BYTES, f"géométrie de {size} octets : budget de poids des pages dépassé"


def test_insets_frame_the_overseas_departements_and_the_paris_zoom(geometry):
    insets = {i.code: i for i in geometry.insets}
    assert list(insets) == ["971", "972", "973", "974", "976", "zoom"]
    assert [insets[c].nom for c in OVERSEAS_DGDDI] == [
        "Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"]
    assert insets["zoom"].codes == ("75", "92", "93", "94")
    shapes = shapes_by_code(geometry)
    for code in OVERSEAS_DGDDI:
        x0, y0, x1, y1 = insets[code].cadre
        points = decoded_points(geometry.topology, shapes[code])
        tolerance = max(geometry.topology["transform"]["scale"])  # one quantisation step
        assert all(x0 - tolerance <= x <= x1 + tolerance and y0 - tolerance <= y <= y1 + tolerance
                   for x, y in points), code
    # Paris is drawn twice (true place and zoom): its points fall inside the zoom frame too.
    zx0, zy0, zx1, zy1 = insets["zoom"].cadre
    paris = decoded_points(geometry.topology, shapes["75"])
    assert any(zx0 <= x <= zx1 and zy0 <= y <= zy1 for x, y in paris)
    assert any(not (zx0 <= x <= zx1 and zy0 <= y <= zy1) for x, y in paris)


def test_frames_do_not_overlap_and_lie_in_the_extent(geometry):
    ex0, ey0, ex1, ey1 = geometry.extent
    frames = [i.cadre for i in geometry.insets]
    for a, (x0, y0, x1, y1) in enumerate(frames):
        assert ex0 <= x0 < x1 <= ex1 and ey0 <= y0 < y1 <= ey1
        for bx0, by0, bx1, by1 in frames[a + 1:]:
            assert x1 <= bx0 or bx1 <= x0 or y1 <= by0 or by1 <= y0


def test_neighbours_share_their_borders(geometry):
    """Topology-preserving simplification: a common border is one arc used by both
    neighbours, and no arc is used by more than two shapes (no gap, no sliver)."""
    shapes = shapes_by_code(geometry)
    for a, b in [("61", "14"), ("2A", "2B"), ("75", "92"), ("59", "62"), ("13", "84")]:
        assert arc_ids(shapes[a]) & arc_ids(shapes[b]), (a, b)
    uses = Counter(i for g in shapes.values() for i in arc_ids(g))
    assert max(uses.values()) == 2


# --------------------------------------------------------------------------- the checker


def test_checker_accepts_the_shipped_file(topology):
    geo.check_geometry(topology)


def test_checker_catches_a_missing_shape(topology):
    geometries = topology["objects"][geo.OBJECT]["geometries"]
    geometries[:] = [g for g in geometries if g["properties"]["code"] != "2B"]
    with pytest.raises(geo.GeometryError, match=r"1 département\(s\) sans forme \(2B\)"):
        geo.check_geometry(topology)


def test_checker_catches_a_shape_drawn_twice(topology):
    geometries = topology["objects"][geo.OBJECT]["geometries"]
    geometries.append(copy.deepcopy(geometries[0]))
    with pytest.raises(geo.GeometryError, match="01 est dessiné deux fois"):
        geo.check_geometry(topology)


def test_checker_catches_a_wrong_dgddi_code(topology):
    shape = next(g for g in topology["objects"][geo.OBJECT]["geometries"]
                 if g["properties"]["code"] == "2A")
    shape["properties"]["dgddi"] = "2A"
    with pytest.raises(geo.GeometryError, match="« 2A » au lieu de « 20 »"):
        geo.check_geometry(topology)


def test_checker_catches_a_missing_attribution(topology):
    del topology["metadata"]["attribution"]
    with pytest.raises(geo.GeometryError, match="IGN – Admin Express COG 2018"):
        geo.check_geometry(topology)


def test_a_missing_or_broken_file_gets_a_french_message_with_the_fix(tmp_path):
    with pytest.raises(geo.GeometryError, match="introuvable.*scripts/build_geo.py"):
        geo.load_geometry(tmp_path / "absent.topojson")
    broken = tmp_path / "casse.topojson"
    broken.write_bytes(b'{"type": "Topology", "objects"')
    with pytest.raises(geo.GeometryError, match="casse.topojson est illisible"):
        geo.load_geometry(broken)


# --------------------------------------------------------------------------- publication


def test_publish_writes_one_hashed_copy_and_its_url(tmp_path, geometry):
    target = geo.publish_geometry(tmp_path)
    assert target == tmp_path / "geo" / geometry.static_name
    assert target.read_bytes() == geometry.path.read_bytes()
    assert geo.publish_geometry(tmp_path) == target  # idempotent
    assert geo.geometry_url("../_static/") == f"../_static/geo/{geometry.static_name}"
    assert geo.geometry_data("u.topojson") == {
        "url": "u.topojson", "format": {"type": "topojson", "feature": "departements"}}
    assert geo.geometry_data()["values"] is geometry.topology


# --------------------------------------------------------------------------- the build script


def run_script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


@pytest.mark.skipif(not SOURCE.is_file(), reason="../shared/reference/geo absent : "
                    "reconstruction de la géométrie impossible")
def test_rebuild_gives_the_same_bytes_as_the_shipped_file(tmp_path, geometry):
    out = tmp_path / "departements.topojson"
    result = run_script(str(SOURCE), "--sortie", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == geometry.path.read_bytes()
    assert "101 départements" in result.stdout


@pytest.mark.skipif(not SOURCE.is_file(), reason="../shared/reference/geo absent : "
                    "reconstruction de la géométrie impossible")
def test_a_source_missing_a_departement_is_refused_in_french_and_writes_nothing(tmp_path):
    collection = json.loads(SOURCE.read_text(encoding="utf-8"))
    collection["features"] = [f for f in collection["features"]
                              if f["properties"]["code"] != "976"]
    source = tmp_path / "incomplet.geojson"
    source.write_text(json.dumps(collection), encoding="utf-8")
    out = tmp_path / "sortie.topojson"
    result = run_script(str(source), "--sortie", str(out))
    assert result.returncode == 2
    assert "incomplet.geojson" in result.stderr and "absent(s) (976)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [source]


def test_a_missing_source_is_refused_in_french(tmp_path):
    result = run_script(str(tmp_path / "nulle-part.geojson"), "--sortie", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "Fichier source introuvable" in result.stderr and "Traceback" not in result.stderr
