"""Derive the book's map geometry, ``data/geo/departements.topojson``, from IGN's boundaries.

Maintenance tool, run by hand (the département boundaries have not changed since 2018):

    python scripts/build_geo.py [SOURCE] [--sortie FICHIER]

SOURCE defaults to ``../shared/reference/geo/departements-avec-outre-mer.geojson``
(IGN Admin Express COG 2018, Licence Ouverte), relative to the repository. The script

1. reads and checks the 101 COG départements (WGS84), with their DGDDI area codes
   taken from :mod:`tradebook.nomenclatures`;
2. projects metropolitan France in Lambert-93 (EPSG:2154) and each overseas
   département in its official conformal projection (UTM), then scales the five
   overseas départements into a column of frames on the left and adds an enlarged
   copy of Paris and its inner ring in a frame over the Channel, as INSEE and IGN
   maps do;
3. drops islets too small to see, simplifies the whole coverage at once (GEOS
   coverage simplification: neighbours keep one shared border, no gap, no sliver);
4. writes a quantised TopoJSON topology (each border stored once) with the
   attribution, licence, source and derivation in its ``metadata`` member.

The same input gives the same bytes. Needs pyproj, shapely and topojson
(``requirements.txt``); the book itself only reads the result (:mod:`tradebook.geo`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely
import topojson
from shapely import affinity
from shapely.geometry import MultiPolygon, box, mapping, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradebook import geo  # noqa: E402
from tradebook.errors import InvalidDataError, TradebookError  # noqa: E402
from tradebook.files import write_bytes_atomic  # noqa: E402
from tradebook.formatting import format_number  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "geo" / "departements-avec-outre-mer.geojson"

WGS84 = "EPSG:4326"
METROPOLE_CRS = "EPSG:2154"  # RGF93 / Lambert-93
# Overseas départements, top to bottom in the inset column, with their official
# conformal projections.
OVERSEAS_CRS = {
    "971": "EPSG:5490",  # RGAF09 / UTM zone 20N (Guadeloupe)
    "972": "EPSG:5490",  # RGAF09 / UTM zone 20N (Martinique)
    "973": "EPSG:2972",  # RGFG95 / UTM zone 22N (Guyane)
    "974": "EPSG:2975",  # RGR92 / UTM zone 40S (La Réunion)
    "976": "EPSG:4471",  # RGM04 / UTM zone 38S (Mayotte)
}
ZOOM_CODES = ("75", "92", "93", "94")
ZOOM_CODE = "zoom"
ZOOM_NAME = "Paris et petite couronne"

# Layout, in map units (Lambert-93 metres).
COLUMN_WIDTH = 260_000  # the overseas column (a 10 px name fits at 350 px)
COLUMN_GAP = 40_000  # between the column and metropolitan France's bounding box
FRAME_GAP = 20_000  # between two frames of the column
ZOOM_SIZE = (235_000, 240_000)  # width, height of the zoom frame, over the Channel
ZOOM_BOTTOM = 185_000  # its bottom lies this far below the top of metropolitan France
LABEL_BAND = 50_000  # top band of a frame kept free for its name (one line)
ZOOM_LABEL_BAND = 100_000  # the same for the zoom frame (two lines)
FRAME_MARGIN = 0.08  # share of a frame left empty around its shapes
CLEARANCE = 5_000  # minimum distance between a frame and metropolitan shapes

MIN_PART_AREA = 4e6  # m² (after scaling): smaller islets are invisible at 600 px
TOLERANCE = 1_500.0  # coverage simplification, about the side of the triangles removed
QUANTIZATION = 10_000  # grid of the TopoJSON coordinates (points per side)
MAX_BYTES = 300_000


@dataclass(frozen=True)
class Shape:
    """One département: COG code, name, DGDDI area and its geometry."""

    code: str
    nom: str
    dgddi: str
    geometry: shapely.Geometry


# --------------------------------------------------------------------------- reading


def cog_sort_key(code: str) -> tuple[int, str]:
    """Sort key giving 01...19, 2A, 2B, 21...95, 971...976."""
    return len(code), code.replace("2A", "20.1").replace("2B", "20.2")


def read_source(path: Path) -> list[Shape]:
    """The 101 départements of the source GeoJSON, checked, in COG order."""
    where = str(path)
    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidDataError(f"Fichier source introuvable : {where}. Donnez le chemin du "
                               "GeoJSON des départements (IGN Admin Express COG 2018).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDataError(f"{where} n'est pas un GeoJSON lisible ({exc}).") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise InvalidDataError(f"{where} n'est pas une FeatureCollection GeoJSON.")
    expected = geo.expected_shapes()
    shapes: dict[str, Shape] = {}
    for index, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        code, nom = str(props.get("code", "")), str(props.get("nom", ""))
        if code not in expected or not nom:
            raise InvalidDataError(f"{where} : l'entité n° {index} a un code « {code} » ou un nom "
                                   "manquant ou inconnu du COG (attendu : propriétés code et nom).")
        if code in shapes:
            raise InvalidDataError(f"{where} : le département {code} apparaît deux fois "
                                   f"(l'entité n° {index} est en double).")
        geometry = shape(feature.get("geometry") or {"type": "Polygon", "coordinates": []})
        if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
            raise InvalidDataError(f"{where} : le département {code} ({nom}) n'a pas de "
                                   f"polygone (géométrie {geometry.geom_type}).")
        if not geometry.is_valid:
            raise InvalidDataError(f"{where} : le polygone du département {code} ({nom}) est "
                                   f"invalide ({shapely.is_valid_reason(geometry)}).")
        shapes[code] = Shape(code, nom, expected[code], geometry)
    absent = sorted(set(expected) - set(shapes), key=cog_sort_key)
    if absent:
        raise InvalidDataError(f"{where} : {len(absent)} département(s) absent(s) "
                               f"({', '.join(absent)}) ; il en faut {len(expected)}.")
    return [shapes[code] for code in sorted(shapes, key=cog_sort_key)]


# --------------------------------------------------------------------------- projection and layout


def project(geometry: shapely.Geometry, crs: str) -> shapely.Geometry:
    """``geometry`` (WGS84 longitude, latitude) projected into ``crs`` (metres)."""
    transformer = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)

    def convert(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=True)
        return np.column_stack([x, y])

    return shapely.transform(geometry, convert)


def fit_into(geometry: shapely.Geometry, frame: tuple[float, float, float, float],
             band: float = LABEL_BAND) -> tuple[shapely.Geometry, float]:
    """``geometry`` scaled (same factor on both axes) and moved to fill ``frame`` minus its
    top label ``band`` and margins, centred; returns it with the scale factor."""
    x0, y0, x1, y1 = frame
    y1 -= band
    room_x, room_y = (x1 - x0) * (1 - 2 * FRAME_MARGIN), (y1 - y0) * (1 - 2 * FRAME_MARGIN)
    gx0, gy0, gx1, gy1 = geometry.bounds
    factor = min(room_x / (gx1 - gx0), room_y / (gy1 - gy0))
    scaled = affinity.scale(geometry, factor, factor, origin=(0, 0))
    sx0, sy0, sx1, sy1 = scaled.bounds
    moved = affinity.translate(scaled, (x0 + x1 - sx0 - sx1) / 2, (y0 + y1 - sy0 - sy1) / 2)
    return moved, factor


def column_frames(metropole: tuple[float, float, float, float]
                  ) -> dict[str, tuple[float, float, float, float]]:
    """Frames of the overseas départements: a column left of metropolitan France,
    as tall as it, in the order of :data:`OVERSEAS_CRS`."""
    mx0, my0, _, my1 = metropole
    right = mx0 - COLUMN_GAP
    count = len(OVERSEAS_CRS)
    height = (my1 - my0 - FRAME_GAP * (count - 1)) / count
    frames = {}
    for i, code in enumerate(OVERSEAS_CRS):
        top = my1 - i * (height + FRAME_GAP)
        frames[code] = (right - COLUMN_WIDTH, top - height, right, top)
    return frames


def zoom_frame(metropole: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Frame of the Paris zoom: at the top left corner of metropolitan France's box, over
    the Channel, reaching a little above the box to leave room for its name."""
    mx0, _, _, my1 = metropole
    width, height = ZOOM_SIZE
    return mx0, my1 - ZOOM_BOTTOM, mx0 + width, my1 - ZOOM_BOTTOM + height


def drop_specks(geometry: shapely.Geometry) -> shapely.Geometry:
    """``geometry`` without the polygons smaller than :data:`MIN_PART_AREA` (the largest
    one always stays)."""
    parts = sorted(shapely.get_parts(geometry), key=lambda p: -p.area)
    kept = [parts[0]] + [p for p in parts[1:] if p.area >= MIN_PART_AREA]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def rounded(values: tuple[float, ...]) -> list[float]:
    """Map coordinates rounded to the metre (metadata)."""
    return [round(float(v)) for v in values]


def layout(shapes: list[Shape]) -> tuple[list[Shape], list[dict]]:
    """Every shape projected and placed in the map plane, and the inset frames
    (metadata ``encarts``)."""
    placed = {s.code: Shape(s.code, s.nom, s.dgddi,
                            project(s.geometry, METROPOLE_CRS)) for s in shapes
              if s.code not in OVERSEAS_CRS}
    metropole = tuple(shapely.total_bounds([s.geometry for s in placed.values()]))
    mainland = shapely.union_all([s.geometry for s in placed.values()])
    insets = []
    by_code = {s.code: s for s in shapes}
    for code, frame in column_frames(metropole).items():
        geometry, factor = fit_into(project(by_code[code].geometry, OVERSEAS_CRS[code]), frame)
        placed[code] = Shape(code, by_code[code].nom, by_code[code].dgddi, geometry)
        insets.append({"code": code, "nom": by_code[code].nom, "codes": [code],
                       "cadre": rounded(frame), "projection": OVERSEAS_CRS[code],
                       "echelle": round(factor, 4)})
    frame = zoom_frame(metropole)
    zoomed, factor = fit_into(shapely.GeometryCollection([placed[c].geometry for c in ZOOM_CODES]),
                              frame, ZOOM_LABEL_BAND)
    for code, copy in zip(ZOOM_CODES, shapely.get_parts(zoomed)):
        original = placed[code]
        parts = [*shapely.get_parts(original.geometry), *shapely.get_parts(copy)]
        placed[code] = Shape(code, original.nom, original.dgddi, MultiPolygon(parts))
    insets.append({"code": ZOOM_CODE, "nom": ZOOM_NAME, "codes": list(ZOOM_CODES),
                   "cadre": rounded(frame), "projection": METROPOLE_CRS,
                   "echelle": round(factor, 4)})
    for inset in insets:
        if mainland.distance(box(*inset["cadre"])) < CLEARANCE:
            raise RuntimeError(f"encart {inset['nom']} : son cadre touche la métropole ; "
                               "revoir les constantes de mise en page")
    return [placed[s.code] for s in shapes], insets


# --------------------------------------------------------------------------- simplification and output


def simplify(shapes: list[Shape]) -> list[Shape]:
    """Islets dropped, then the whole coverage simplified at once (shared borders stay shared)."""
    geometries = [drop_specks(s.geometry) for s in shapes]
    if not shapely.coverage_is_valid(geometries):
        bad = [s.code for s, edges in zip(shapes, shapely.coverage_invalid_edges(geometries))
               if not edges.is_empty]
        raise InvalidDataError(f"Les départements {', '.join(bad)} se chevauchent ou leurs "
                               "frontières communes ne coïncident pas : la source n'est pas une "
                               "partition propre du territoire.")
    simplified = shapely.coverage_simplify(geometries, TOLERANCE)
    if not shapely.coverage_is_valid(simplified):
        raise RuntimeError("la simplification a produit des chevauchements")
    return [Shape(s.code, s.nom, s.dgddi, g) for s, g in zip(shapes, simplified)]


def derivation_text() -> str:
    """How the file was made, in French, for its metadata."""
    return (
        "Métropole en Lambert-93 (EPSG:2154) ; départements d'outre-mer dans leur projection "
        "UTM officielle, mis à l'échelle dans des encarts à gauche (échelles propres à chaque "
        f"encart) ; {ZOOM_NAME} agrandis dans un encart au-dessus de la Manche. Îlots de moins "
        f"de {format_number(MIN_PART_AREA / 1e6, 0)}\u00a0km² (après mise à l'échelle) retirés ; "
        "simplification de couverture de GEOS (Visvalingam-Whyatt, frontières communes "
        f"conservées) avec une tolérance de {format_number(TOLERANCE, 0)}\u00a0m ; topologie "
        f"TopoJSON quantifiée sur {format_number(QUANTIZATION, 0)} points de côté. "
        "Coordonnées planes : dessiner avec la projection identité, axe y inversé."
    )


def metadata(source: Path, insets: list[dict], extent: tuple[float, ...]) -> dict:
    """The ``metadata`` member of the topology."""
    return {
        "titre": "Départements français, outre-mer en encarts",
        "attribution": geo.ATTRIBUTION,
        "licence": "Licence Ouverte / Open Licence (Etalab)",
        "source": ("Tracés : IGN, Admin Express COG, édition 2018 ; codes et noms : INSEE, "
                   "COG 2018 ; conversion en GeoJSON par le projet gregoiredavid/france-geojson"),
        "source_fichier": source.name,
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "derivation": derivation_text(),
        "script": "scripts/build_geo.py",
        "outils": {"geos": shapely.geos_version_string, "proj": pyproj.proj_version_str,
                   "pyproj": pyproj.__version__, "shapely": shapely.__version__,
                   "topojson": topojson.__version__},
        "etendue": rounded(extent),
        "encarts": insets,
    }


def topology_bytes(shapes: list[Shape], meta: dict) -> bytes:
    """The TopoJSON topology of ``shapes`` with ``meta``, as compact, key-sorted UTF-8 JSON."""
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": s.code, "nom": s.nom, "dgddi": s.dgddi},
         "geometry": mapping(s.geometry)} for s in shapes]}
    topology = topojson.Topology(collection, prequantize=QUANTIZATION,
                                 object_name=geo.OBJECT).to_dict()
    topology.pop("bbox", None)  # the extent is in the metadata, frames included
    for geometry in topology["objects"][geo.OBJECT]["geometries"]:
        geometry.pop("id", None)
    topology["metadata"] = meta
    text = json.dumps(topology, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (text + "\n").encode("utf-8")


def build(source: Path) -> bytes:
    """The bytes of the geometry file derived from ``source``, checked."""
    pyproj.network.set_network_enabled(False)  # same transformations everywhere
    shapes, insets = layout(read_source(source))
    shapes = simplify(shapes)
    frames = [box(*i["cadre"]) for i in insets]
    extent = tuple(shapely.total_bounds([*(s.geometry for s in shapes), *frames]))
    payload = topology_bytes(shapes, metadata(source, insets, extent))
    geo.parse_geometry(payload)  # the shape checker of the book
    if len(payload) > MAX_BYTES:
        raise RuntimeError(f"géométrie de {len(payload)} octets, au-delà de {MAX_BYTES}")
    return payload


def main(argv: list[str] | None = None) -> int:
    """Build the geometry file; French errors, exit status 2."""
    parser = argparse.ArgumentParser(description="Dériver data/geo/departements.topojson "
                                     "des contours de l'IGN (Admin Express COG 2018).")
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                        help="GeoJSON des départements (par défaut : %(default)s)")
    parser.add_argument("--sortie", type=Path, default=geo.GEOMETRY_PATH,
                        help="fichier écrit (par défaut : %(default)s)")
    args = parser.parse_args(argv)
    try:
        payload = build(args.source)
    except TradebookError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return exc.exit_code
    write_bytes_atomic(args.sortie, payload, mode=0o644)
    print(f"{args.sortie} : {format_number(len(payload) / 1000, 0)}\u00a0ko, "
          f"{len(shapes_of(payload))} départements")
    return 0


def shapes_of(payload: bytes) -> list[dict]:
    """The shapes of a built file (for the summary line)."""
    return json.loads(payload)["objects"][geo.OBJECT]["geometries"]


if __name__ == "__main__":
    sys.exit(main())
