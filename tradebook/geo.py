"""The map geometry shipped in ``data/geo/``: load it once, check it, publish it.

``data/geo/departements.topojson`` is derived from IGN's boundaries by
``scripts/build_geo.py``. It is a TopoJSON topology whose object
:data:`OBJECT` holds the 101 COG départements, each with the properties
``code`` (COG), ``nom`` and ``dgddi`` (the DGDDI area it belongs to: ``20`` for
2A and 2B, ``9A``...``9E`` overseas). Coordinates are planar (Lambert-93 metres
for metropolitan France, overseas départements scaled into inset frames, Paris
and its inner ring enlarged in a zoom frame) and are drawn with Vega-Lite's
identity projection, y axis reflected. The file's ``metadata`` member carries the
attribution, licence, source, how the file was derived, its extent and the inset
frames.

This module only reads JSON: building the file needs pyproj, shapely and
topojson, which the book itself does not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tradebook import nomenclatures
from tradebook.errors import InvalidDataError
from tradebook.files import write_bytes_atomic
from tradebook.paths import DATA, ROOT

GEO_DIR = DATA / "geo"
GEOMETRY_PATH = GEO_DIR / "departements.topojson"
OBJECT = "departements"
ATTRIBUTION = "IGN – Admin Express COG 2018"
REBUILD_HINT = "Reconstruisez-le avec « python scripts/build_geo.py »."
PROPERTIES = ("code", "nom", "dgddi")
STATIC_FOLDER = "geo"  # sub-folder of the site's _static where pages find the geometry
PROJECTION = {"type": "identity", "reflectY": True}


class GeometryError(InvalidDataError):
    """The shipped geometry file is missing, malformed or incomplete."""


@dataclass(frozen=True)
class Inset:
    """A frame drawn on the map: an overseas département or the Paris zoom."""

    code: str  # COG code of the overseas département, or "zoom"
    nom: str  # the name written in the frame
    codes: tuple[str, ...]  # COG codes drawn inside it
    cadre: tuple[float, float, float, float]  # x0, y0, x1, y1 in map units


@dataclass(frozen=True)
class Geometry:
    """The loaded geometry: the topology as Vega reads it, and what it says about itself."""

    topology: dict[str, Any]
    path: Path
    attribution: str
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1 of everything drawn
    insets: tuple[Inset, ...]
    sha256: str

    @property
    def properties(self) -> list[dict[str, str]]:
        """The properties of every shape (``code``, ``nom``, ``dgddi``), in file order."""
        return [dict(g["properties"]) for g in self.topology["objects"][OBJECT]["geometries"]]

    @property
    def aspect(self) -> float:
        """Height over width of the extent."""
        x0, y0, x1, y1 = self.extent
        return (y1 - y0) / (x1 - x0)

    @property
    def static_name(self) -> str:
        """File name of the published copy, with a content hash (no stale cache)."""
        return f"{GEOMETRY_PATH.stem}-{self.sha256[:12]}{GEOMETRY_PATH.suffix}"


def expected_shapes() -> dict[str, str]:
    """COG code -> DGDDI area code of the 101 départements the map must draw
    (from :mod:`tradebook.nomenclatures`; Monaco has no COG shape)."""
    return {cog: dep.code_dgddi for dep in nomenclatures.departements() for cog in dep.codes_cog}


def _where(path: Path) -> str:
    """``path`` as shown in messages: relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def check_geometry(topology: Any, path: Path = GEOMETRY_PATH) -> None:
    """Raise :class:`GeometryError` unless ``topology`` holds exactly the 101 COG shapes,
    each once, with their properties and DGDDI codes, plus the attribution."""
    where = _where(path)
    if not isinstance(topology, dict) or topology.get("type") != "Topology":
        raise GeometryError(f"{where} n'est pas une topologie TopoJSON. {REBUILD_HINT}")
    geometries = topology.get("objects", {}).get(OBJECT, {}).get("geometries")
    if not isinstance(geometries, list):
        raise GeometryError(f"{where} n'a pas d'objet « {OBJECT} ». {REBUILD_HINT}")
    expected = expected_shapes()
    seen: dict[str, int] = {}
    for index, geometry in enumerate(geometries, start=1):
        props = geometry.get("properties") or {}
        missing = [name for name in PROPERTIES if not props.get(name)]
        if missing:
            raise GeometryError(f"{where} : la forme n° {index} n'a pas de propriété "
                                f"{', '.join(missing)}. {REBUILD_HINT}")
        code = props["code"]
        if code not in expected:
            raise GeometryError(f"{where} : la forme n° {index} a un code inconnu du COG "
                                f"(« {code} »). {REBUILD_HINT}")
        if code in seen:
            raise GeometryError(f"{where} : le département {code} est dessiné deux fois "
                                f"(formes n° {seen[code]} et {index}). {REBUILD_HINT}")
        if props["dgddi"] != expected[code]:
            raise GeometryError(f"{where} : le département {code} porte le code DGDDI "
                                f"« {props['dgddi']} » au lieu de « {expected[code]} ». "
                                f"{REBUILD_HINT}")
        if not geometry.get("arcs"):
            raise GeometryError(f"{where} : la forme du département {code} est vide. "
                                f"{REBUILD_HINT}")
        seen[code] = index
    absent = [code for code in expected if code not in seen]
    if absent:
        raise GeometryError(f"{where} : {len(absent)} département(s) sans forme "
                            f"({', '.join(absent)}) ; la carte doit en dessiner "
                            f"{len(expected)}. {REBUILD_HINT}")
    if (topology.get("metadata") or {}).get("attribution") != ATTRIBUTION:
        raise GeometryError(f"{where} ne porte pas l'attribution « {ATTRIBUTION} ». "
                            f"{REBUILD_HINT}")


def parse_geometry(payload: bytes, path: Path = GEOMETRY_PATH) -> Geometry:
    """The :class:`Geometry` held in ``payload`` (the bytes of a geometry file), checked."""
    try:
        topology = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeometryError(f"{_where(path)} est illisible ({exc}). {REBUILD_HINT}") from None
    check_geometry(topology, path)
    meta = topology["metadata"]
    insets = tuple(Inset(code=i["code"], nom=i["nom"], codes=tuple(i["codes"]),
                         cadre=tuple(i["cadre"])) for i in meta.get("encarts", []))
    return Geometry(topology=topology, path=Path(path), attribution=meta["attribution"],
                    extent=tuple(meta["etendue"]), insets=insets,
                    sha256=hashlib.sha256(payload).hexdigest())


@lru_cache(maxsize=4)
def load_geometry(path: Path = GEOMETRY_PATH) -> Geometry:
    """The geometry file, read and checked once per process. Do not mutate the result:
    every chart of the process shares it."""
    try:
        payload = Path(path).read_bytes()
    except OSError:
        raise GeometryError(f"Fichier de géométrie introuvable : {_where(path)}. "
                            f"{REBUILD_HINT}") from None
    return parse_geometry(payload, path)


def shape_codes(geometry: Geometry | None = None) -> list[str]:
    """COG codes of the shapes, in file order (01...19, 2A, 2B, 21...95, 971...976)."""
    return [p["code"] for p in (geometry or load_geometry()).properties]


def publish_geometry(static_dir: Path, geometry: Geometry | None = None) -> Path:
    """Copy the geometry file into ``static_dir/geo/`` under its hashed name (unless the
    same copy is there) and return its path; pages then load it by URL, once."""
    geometry = geometry or load_geometry()
    target = Path(static_dir) / STATIC_FOLDER / geometry.static_name
    if not target.is_file():
        write_bytes_atomic(target, geometry.path.read_bytes(), mode=0o644)
    return target


def geometry_url(static_url: str, geometry: Geometry | None = None) -> str:
    """URL of the published geometry, given the URL of the site's ``_static`` folder
    as seen from the page (``../_static``)."""
    geometry = geometry or load_geometry()
    return f"{static_url.rstrip('/')}/{STATIC_FOLDER}/{geometry.static_name}"


def geometry_data(url: str | None = None, geometry: Geometry | None = None) -> dict[str, Any]:
    """Vega-Lite ``data`` of the shapes: loaded from ``url`` (browser: one shared file,
    cached), or inlined when ``url`` is None (vl-convert cannot read local files)."""
    fmt = {"type": "topojson", "feature": OBJECT}
    if url is not None:
        return {"url": url, "format": fmt}
    return {"values": (geometry or load_geometry()).topology, "format": fmt}
