"""Derive the project's own nomenclature tables from DGDDI's official label files.

Maintenance tool, run by hand when DGDDI publishes new labels:

    python scripts/build_nomenclatures.py ../shared/reference/dgddi

It reads the official files with their quirks (through ``tradebook.reading``),
adds what DGDDI does not publish (COG codes, INSEE regions, CPF4 -> A129 links)
and writes tidy UTF-8 CSV tables to ``data/nomenclatures/``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradebook.reading import read_label_file  # noqa: E402

OUT = ROOT / "data" / "nomenclatures"

# DGDDI region code -> (INSEE region code, INSEE region name). "24" (DOM) is
# split: each overseas département is a region of its own.
DGDDI_TO_INSEE_REGION = {
    "01": ("32", "Hauts-de-France"),
    "03": ("11", "Île-de-France"),
    "04": ("24", "Centre-Val de Loire"),
    "05": ("28", "Normandie"),
    "07": ("53", "Bretagne"),
    "08": ("52", "Pays de la Loire"),
    "09": ("75", "Nouvelle-Aquitaine"),
    "12": ("76", "Occitanie"),
    "13": ("44", "Grand Est"),
    "16": ("27", "Bourgogne-Franche-Comté"),
    "18": ("84", "Auvergne-Rhône-Alpes"),
    "21": ("93", "Provence-Alpes-Côte d'Azur"),
    "22": ("94", "Corse"),
}
# Overseas départements: DGDDI code -> (COG code, name, INSEE region code).
OVERSEAS = {
    "9A": ("971", "Guadeloupe", "01"),
    "9B": ("972", "Martinique", "02"),
    "9C": ("973", "Guyane", "03"),
    "9D": ("974", "La Réunion", "04"),
    "9E": ("976", "Mayotte", "06"),
}
# Official COG names where DGDDI's label differs in spelling.
COG_NAMES = {"21": "Côte-d'Or"}
# French article of each name, as in the COG's "type de nom en clair" (so that
# pages say "de l'Orne", "du Calvados", "des Landes", "de Paris").
ARTICLES = {
    "l'": "01 02 03 09 10 11 12 27 28 34 35 36 37 38 61 91 60 89 07".split(),
    "le": "14 15 18 25 29 30 32 39 41 45 46 47 49 56 59 62 63 67 68 69 81 82 83 84 90 94 95".split(),
    "la": "16 17 19 20 21 23 24 26 31 33 42 43 44 48 50 51 52 53 54 55 57 58 70 71 72 73 74 76 77 80 85 86 87 93 9A 9B 9C".split(),
    "les": "04 05 06 08 13 22 40 64 65 66 78 79 88 92".split(),
}
ARTICLE_OF = {code: article for article, codes in ARTICLES.items() for code in codes}
# INSEE order used in publications: metropolitan regions, then overseas.
# French article of each region's name ("de la Normandie", "des Hauts-de-France").
REGION_ARTICLES = {"11": "l'", "24": "le", "27": "la", "28": "la", "32": "les", "44": "le",
                   "52": "les", "53": "la", "75": "la", "76": "l'", "84": "l'", "93": "la",
                   "94": "la", "01": "la", "02": "la", "03": "la", "04": "", "06": ""}
OVERSEAS_REGIONS = {reg for _, _, reg in OVERSEAS.values()}
REGION_ORDER = ["11", "24", "27", "28", "32", "44", "52", "53", "75", "76",
                "84", "93", "94", "01", "02", "03", "04", "06"]

# A129 product group -> CPF rév. 2.1 groups (3 digits) or divisions (2 digits).
A129_TO_CPF = {
    "A01Z": ["01"], "A02Z": ["02"], "A03Z": ["03"],
    "B05Z": ["05"], "B06Z": ["06"], "B07Z": ["07"], "B08Z": ["08"],
    "C10A": ["101"], "C10B": ["102"], "C10C": ["103"], "C10D": ["104"],
    "C10E": ["105"], "C10F": ["106"], "C10G": ["107"], "C10H": ["108"],
    "C10K": ["109"], "C11Z": ["11"], "C12Z": ["12"], "C13Z": ["13"],
    "C14Z": ["14"], "C15Z": ["15"], "C16Z": ["16"], "C17A": ["171"],
    "C17B": ["172"], "C18Z": ["18"], "C19Z": ["19"], "C20A": ["201"],
    "C20B": ["204"], "C20C": ["202", "203", "205", "206"], "C21Z": ["21"],
    "C22A": ["221"], "C22B": ["222"], "C23A": ["231"],
    "C23B": ["232", "233", "234", "235", "236", "237", "239"],
    "C24A": ["241", "242", "243"], "C24B": ["244"], "C24C": ["245"],
    "C25A": ["251"], "C25B": ["252", "253"], "C25C": ["254"],
    "C25E": ["255", "256", "257", "259"], "C26A": ["261"], "C26B": ["262"],
    "C26C": ["263"], "C26D": ["264"], "C26E": ["265"], "C26F": ["266"],
    "C26G": ["267", "268"], "C27A": ["275"],
    "C27B": ["271", "272", "273", "274", "279"], "C28A": ["281", "282"],
    "C28B": ["283"], "C28C": ["284"], "C28D": ["289"], "C29A": ["291"],
    "C29B": ["292", "293"], "C30A": ["301"], "C30B": ["302"], "C30C": ["303"],
    "C30D": ["304"], "C30E": ["309"], "C31Z": ["31"], "C32A": ["321", "322"],
    "C32B": ["325"], "C32C": ["323", "324", "329"], "D35A": ["351"],
    "D35B": ["352"], "E37Z": ["37"], "E38Z": ["38"], "J58Z": ["58"],
    "J59Z": ["59"], "M71Z": ["71"], "M74Z": ["74"], "R90Z": ["90"],
    "R91Z": ["91"], "S96Z": ["96"],
}


def a129_of(cpf4: str) -> str:
    """A129 parent of a CPF4 code, or '' when the code is not a good."""
    for a129, prefixes in A129_TO_CPF.items():
        if any(cpf4.startswith(p) for p in prefixes):
            return a129
    return ""


def departement_rows(source: Path) -> list[dict[str, str]]:
    """Rows of departements.csv, in DGDDI file order."""
    rows = []
    for rec in read_label_file(source / "Departement_region.txt", columns=4):
        code, label, reg_dgddi, reg_label = rec
        if code in OVERSEAS:
            cog, name, reg = OVERSEAS[code]
            cogs, reg_name = cog, name
        else:
            reg, reg_name = DGDDI_TO_INSEE_REGION[reg_dgddi]
            cogs = {"20": "2A 2B", "99": ""}.get(code, code)
            name = COG_NAMES.get(code, label)
        rows.append({
            "code_dgddi": code, "libelle_dgddi": label,
            "codes_cog": cogs, "nom": name,
            "region_dgddi": reg_dgddi, "libelle_region_dgddi": reg_label,
            "region_insee": reg, "region_nom": reg_name,
            "article": ARTICLE_OF.get(code, ""),
            "page": "non" if code == "99" else "oui",
        })
    return rows


def region_rows(deps: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows of regions.csv, in publication order."""
    names = {d["region_insee"]: d["region_nom"] for d in deps}
    return [{"code_insee": c, "nom": names[c], "ordre": str(i + 1),
             "article": REGION_ARTICLES[c],
             # an overseas département is a region of its own: its page serves the region
             "page": "non" if c in OVERSEAS_REGIONS else "oui"}
            for i, c in enumerate(REGION_ORDER)]


def label_rows(path: Path, with_a129: bool = False) -> list[dict[str, str]]:
    """Rows of a label table (code, libelle, debut, fin[, a129])."""
    rows = []
    for code, label, start, end in read_label_file(path, columns=4):
        row = {"code": code, "libelle": label, "debut": start, "fin": end}
        if with_a129:
            row["a129"] = a129_of(code)
        rows.append(row)
    return rows


def write_csv(name: str, rows: list[dict[str, str]]) -> None:
    """Write one tidy UTF-8 CSV table (comma separated, minimal quoting)."""
    with open(OUT / name, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="dossier des fichiers DGDDI officiels")
    args = parser.parse_args()
    deps = departement_rows(args.source)
    write_csv("departements.csv", deps)
    write_csv("regions.csv", region_rows(deps))
    write_csv("a129.csv", label_rows(args.source / "Libelle_A129.txt"))
    write_csv("cpf4.csv", label_rows(args.source / "Libelle_CPF4_rev2.1.txt", with_a129=True))
    write_csv("pays.csv", label_rows(args.source / "Libelle_PAYS.txt"))


if __name__ == "__main__":
    main()
