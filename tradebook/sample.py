"""The illustrative sample: two deterministic, clearly fictitious DGDDI publications.

``write_sample`` writes two ZIPs laid out exactly like DGDDI's regional download
(``REGIONAL_CPF4PAYSE.txt``, ``REGIONAL_CPF4PAYSI.txt`` and the label files with
their real quirks) plus a ``DONNEES_FICTIVES.txt`` marker, so that a fresh clone
builds the whole book offline through the same code paths as real data:

- the "2024 publication" (the path given): the last 5 quarters, T4 2023 to T4 2024,
  as DGDDI's "dernière publication" file;
- the "2023 publication" (:func:`previous_path`, ``..._2023.zip`` beside it): T1 to
  T4 2023, whose T4 2023 is the preliminary version of the quarter that the 2024
  publication revises (a few tenths of a per cent on some cells, rare cells missing
  or extra). The later publication wins for a quarter both hold, so 2023 read from
  both (T1-T3 from the 2023 ZIP, T4 from the 2024 ZIP) is the generator's true 2023.

How the numbers are made (all vectorised with numpy; Python only loops over the
202 flux x département groups, never over rows):

1. Each département gets a 2024 total per flux: a plausible order of magnitude
   (:data:`SIZES_M_EUR`, heavy-tailed like the real départements) times a small
   log-normal jitter, rescaled so that France, Normandie and Orne match the
   published 2024 figures to the euro, and redrawn until no two totals print alike
   to 0,1 M€. Its 2023 total differs by a few per cent.
2. Each group draws its products and partner countries by weighted sampling
   without replacement (Gumbel top-k): national product mix x the mix of its types
   of territory (port, aerospace, wine, pharmacy...) x local specialisations;
   gravity weights x borders x the département's affinity with the United States,
   overseas neighbours, and product-specific partners (crude oil from producers,
   spirits and pharmacy to the United States...). Small groups get few products
   and partners, large ones hundreds.
3. The group's cells (product x country) are drawn the same way from the joint
   weights. Their 2023 value is the 2024 one times product, partner and cell
   factors (tens of per cent); outside a group's main ones, a few partners and
   products trade in one year only. Each cell is present in some of the 8 quarters
   (big cells in all of them), and every group x year total is split over the rows
   and rounded to whole euros with the largest-remainder method, so totals are exact.
4. Masses come from a unit value per A129 group (€/kg) with noise; electricity
   has no mass.
5. The 2023 publication's T4 2023 is the true one, slightly revised.

Everything comes from one ``numpy.random.Generator`` seeded with ``seed``, in a
fixed order, and the ZIPs have fixed timestamps, member order and compression:
the same seed gives the same bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tradebook import nomenclatures
from tradebook.errors import TradebookError
from tradebook.files import atomic_path

DEFAULT_SEED = 20240061
YEARS = (2023, 2024)
FLOWS = ("E", "I")
# Quarter slots 0-7: the 4 quarters of each year, in order.
SLOTS = tuple((year, quarter) for year in YEARS for quarter in (1, 2, 3, 4))
# The two publications (the year they are named after -> the quarters they hold).
LATEST, PREVIOUS = 2024, 2023
PUBLICATIONS = {
    LATEST: ((2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4)),
    PREVIOUS: ((2023, 1), (2023, 2), (2023, 3), (2023, 4)),
}
REVISED_QUARTER = (2023, 4)  # in both: preliminary in PREVIOUS, revised (true) in LATEST

EXPORT_FILE = "REGIONAL_CPF4PAYSE.txt"
IMPORT_FILE = "REGIONAL_CPF4PAYSI.txt"
MARKER_FILE = "DONNEES_FICTIVES.txt"
A129_FILE = "Libelle_A129.txt"
CPF4_FILE = "Libelle_CPF4_rev2.1.txt"
PAYS_FILE = "Libelle_PAYS.txt"
DEPARTEMENTS_FILE = "Departement_region.txt"
# Fixed member order: the marker first, so that whoever opens the ZIP sees it.
MEMBER_ORDER = (MARKER_FILE, EXPORT_FILE, IMPORT_FILE, A129_FILE, CPF4_FILE, PAYS_FILE,
                DEPARTEMENTS_FILE)
ZIP_DATE = (2025, 1, 1, 0, 0, 0)
CHUNK_ROWS = 500_000  # rows per text chunk streamed into the ZIP
MAX_LINE_BYTES = 64  # upper bound of a data line (10 short fields)
ZIP64_LIMIT = 1 << 31
EOL = "\r\n"  # DGDDI's files are Windows text files; the data files follow suit.

# ----------------------------------------------------------------- calibration (euros)
FRANCE_2024 = {"E": 580_354_500_000, "I": 684_776_300_000}
NORMANDIE_DGDDI = "05"
NORMANDIE_2024 = {"E": 38_690_200_000, "I": 49_841_200_000}
ORNE = "61"
ORNE_2024 = {"E": 1_446_300_000, "I": 1_428_900_000}

# Plausible 2024 orders of magnitude in M€ (exports, imports), close to what the real
# départements weigh: a heavy tail led by Haute-Garonne (aircraft), Nord, Paris (gas
# and electricity imports by convention) and the ports, down to Lozère and Creuse;
# overseas imports far above exports. Each is then multiplied by a log-normal
# jitter (SIZE_JITTER) and the whole table rescaled to the calibrated totals (Orne
# is its published figure).
SIZES_M_EUR = """
01 9800 8900|02 4600 4100|03 2100 1900|04 1300 960|05 250 360|06 5000 6300
07 1700 1500|08 2700 2100|09 630 480|10 3200 2300|11 1200 1300|12 1500 890
13 20000 35000|14 3900 4400|15 360 260|16 6200 1900|17 3400 4000|18 2200 1500
19 1300 850|20 200 710|21 3800 3300|22 2900 3000|23 150 130|24 1300 1100
25 7400 5300|26 3600 3700|27 8200 7200|28 5900 5900|29 3600 3700|30 2900 3300
31 42000 20100|32 1100 440|33 12000 8000|34 3400 4900|35 6400 7100|36 1100 930
37 3500 3200|38 10500 11500|39 1800 1200|40 2700 2100|41 2400 2100|42 4800 4500
43 1400 810|44 13500 18000|45 8700 9700|46 780 520|47 1600 1400|48 100 79
49 5000 5300|50 3100 2100|51 8100 3600|52 1800 1000|53 2600 2000|54 4100 4700
55 1600 1300|56 2900 3200|57 10200 11600|58 810 640|59 32600 43300|60 9700 12100
61 1446 1429|62 10000 11800|63 7100 4000|64 6900 4500|65 1600 1100|66 3500 5100
67 14200 14200|68 10800 10500|69 17300 21100|70 1500 1200|71 4900 3700
72 4100 3800|73 3000 2700|74 6000 4700|75 29400 65900|76 20500 35500
77 10100 15800|78 10900 19500|79 1800 1300|80 4300 4000|81 1600 1300|82 1500 1200
83 2000 3400|84 3200 3800|85 3800 3400|86 2000 2000|87 2200 1700|88 2700 2400
89 2000 1700|90 3400 2000|91 10500 18500|92 21500 35000|93 8500 14400
94 8100 17500|95 9900 18900|99 730 970|9A 240 3100|9B 330 3300|9C 160 1800
9D 360 5700|9E 14 620
"""
SIZE_JITTER = 0.08
# Totals closer than this are redrawn: more than 0,1 M€ apart, they never print alike.
MIN_GAP_EUR = 200_000
MAX_SIZE_DRAWS = 200
# 2023 relative to 2024 for France (2024 exports slightly down, imports down with
# energy prices), then a per-département log-normal spread.
RATIO_2023 = {"E": 1.012, "I": 1.040}
RATIO_2023_SPREAD = 0.035

# ----------------------------------------------------------------- products
# National mix by A129 group, % of exports and imports (C30D, military, is excluded
# from the statistics as DGDDI excludes military equipment).
A129_WEIGHTS = """
A01Z 3.2 3.0|A02Z 0.2 0.1|A03Z 0.2 0.5|B05Z 0.01 0.4|B06Z 0.1 9.0|B07Z 0.05 0.4
B08Z 0.2 0.3|C10A 1.0 1.3|C10B 0.3 0.8|C10C 0.5 0.9|C10D 0.4 0.6|C10E 1.4 0.7
C10F 0.6 0.3|C10G 0.6 0.5|C10H 1.6 1.5|C10K 0.5 0.3|C11Z 4.0 0.8|C12Z 0.1 0.6
C13Z 1.0 1.2|C14Z 2.0 3.2|C15Z 2.5 1.7|C16Z 0.4 0.5|C17A 0.4 0.5|C17B 0.8 0.8
C18Z 0.05 0.05|C19Z 2.8 5.5|C20A 5.0 4.5|C20B 3.8 1.0|C20C 2.2 1.6|C21Z 6.5 5.2
C22A 1.1 1.0|C22B 1.6 1.8|C23A 0.6 0.4|C23B 0.8 0.9|C24A 2.0 2.3|C24B 2.2 2.6
C24C 0.2 0.2|C25A 0.2 0.3|C25B 0.3 0.3|C25C 0.2 0.1|C25E 2.0 2.3|C26A 1.6 2.0
C26B 0.8 2.6|C26C 0.6 2.2|C26D 0.2 0.8|C26E 2.0 1.6|C26F 0.5 0.6|C26G 0.4 0.5
C27A 0.5 1.1|C27B 2.4 3.2|C28A 3.8 3.8|C28B 0.6 0.6|C28C 0.4 0.5|C28D 2.0 1.8
C29A 4.0 6.8|C29B 3.0 3.2|C30A 0.9 0.5|C30B 0.5 0.2|C30C 11.0 5.2|C30D 0 0
C30E 0.3 0.7|C31Z 0.4 1.2|C32A 1.5 0.9|C32B 1.1 1.3|C32C 0.8 1.4|D35A 1.2 0.5
D35B 0.05 0.2|E37Z 0.01 0.01|E38Z 0.5 0.3|J58Z 0.3 0.3|J59Z 0.05 0.05|M71Z 0.01 0.01
M74Z 0.01 0.01|R90Z 0.4 0.3|R91Z 0.2 0.1|S96Z 0.02 0.02
"""
# Groups made in a few places: weight multiplied by this factor in départements
# where neither a type of territory nor a specialisation names them.
LOCALISED = {"C30C": 0.03, "B06Z": 0.05, "C19Z": 0.3, "C29A": 0.3, "C11Z": 0.4,
             "C30A": 0.1, "C30B": 0.2, "C22A": 0.4, "C24A": 0.4, "C21Z": 0.3, "C20B": 0.4,
             "C15Z": 0.4, "C32A": 0.1, "R90Z": 0.05, "R91Z": 0.05, "A03Z": 0.3,
             "D35A": 0.0, "D35B": 0.0}
# Products booked to a few départements only: crude oil at refinery ports,
# natural gas, electricity and gas distribution at Paris by convention.
RESERVED_CPF4 = {"0610": ("76", "13", "44", "59", "69", "33"), "0620": ("75",)}
RESERVED_A129 = {"D35A": ("75",), "D35B": ("75",)}
# Fixed shares of a CPF4 code inside its A129 group (others are drawn at random).
CHILD_SHARES = {
    "0610": 0.6, "0620": 0.4, "1910": 0.02, "1920": 0.98, "2110": 0.15, "2120": 0.85,
    "1101": 0.35, "1102": 0.5, "1103": 0.01, "1104": 0.01, "1105": 0.06, "1106": 0.01,
    "1107": 0.06, "3511": 0.97, "3512": 0.01, "3513": 0.01, "3514": 0.01,
    "1081": 0.15, "2441": 0.3,
}
Boost = float | tuple[float, float]  # both flows, or (exports, imports)
# Product mix of each type of territory: A129 -> boost.
TERRITORY_MIXES: dict[str, dict[str, Boost]] = {
    "port": {"B06Z": (0.3, 6), "C19Z": (5, 4), "C20A": 2.5, "C10D": 2, "C24A": 1.5},
    "aero": {"C30C": (8, 4), "C26E": 2, "C26A": 1.5, "C25E": 1.5},
    "vin": {"C11Z": (10, 1.5), "A01Z": 1.3, "C23A": 1.5, "C16Z": 1.3},
    "pharma": {"C21Z": (6, 4), "C20B": 1.8, "C20C": 1.5},
    "agro": {"C10A": 5, "C10E": 3.5, "C10K": 3, "C10H": 2, "C10C": 2, "A01Z": 2.5},
    "auto": {"C29A": (9, 6), "C29B": 4, "C22A": 1.5, "C22B": 1.5},
    "luxe": {"C15Z": 5, "C32A": 6, "C20B": 4, "C14Z": 3, "R90Z": 6, "R91Z": 6},
    "rural": {"A01Z": 5, "C10A": 2.5, "C10E": 3, "C16Z": 3, "C10K": 2, "A02Z": 3,
              "C28B": (1.5, 3), "C26B": 0.3, "C26C": 0.3, "C26D": 0.3},
    "industrie": {"C24A": 3, "C25E": 2.5, "C28A": 2, "C22B": 2, "C24B": 2, "C25B": 2,
                  "C28D": 1.5},
    "logistique": {"C26B": (1.5, 3), "C26C": (1.5, 3), "C14Z": (1.2, 3), "C32C": (1.5, 2.5),
                   "C27A": (1.2, 2.5), "C26D": (1.2, 2.5)},
}
# Types of territory of each département (several allowed; a group's boost is the
# largest its types give).
TERRITORIES = {
    "port": "13 76 44 59",
    "aero": "31 33 13 92 64 65 06 44 77 78 91",
    "vin": "51 16 33 21 17 11 34 89 84 10 71 30 66 24 47 32 49 37 41 26 20",
    "pharma": "27 76 45 37 67 69 28 92 60 14 41 91 94 68 63",
    "agro": "22 29 35 56 53 50 49 85 72 14 61 79 62 80 02 44 59 40 64",
    "auto": "78 25 59 57 68 35 72 90 70 93 62 76 95 88",
    "luxe": "75 92 06",
    "rural": "48 23 15 12 43 46 32 19 03 58 36 52 55 70 09 05 04 24 47 82 79 86 87 18 89",
    "industrie": "57 54 42 71 08 62 60 01 38 74 39 88 90 52 58 18 03 69 63 02",
    "logistique": "93 94 95 77 91 45 60 69 13",
}
# Local specialisations: département -> A129 -> boost (it overrides the types).
SPECIALISATIONS: dict[str, dict[str, Boost]] = {
    "01": {"C22B": 4, "C28A": 2}, "02": {"C11Z": 3, "C10H": 3, "C23A": 2},
    "03": {"C29B": 2}, "04": {"C20A": 6, "C20B": 4},
    "05": {"C10C": 3}, "06": {"C20B": 6, "C30C": 8, "C26E": 2},
    "07": {"C23B": 3, "C10C": 2}, "08": {"C24C": 5, "C29B": 3},
    "09": {"C17A": 3, "C30C": 4, "C24B": 4}, "10": {"C11Z": 8, "C13Z": 4, "C14Z": 3},
    "12": {"C29B": 4, "C10E": 6},
    "13": {"C24A": 4, "C30C": 3, "C20A": 4},
    "14": {"C29B": 2, "C26A": 2}, "15": {"C10E": 10, "A01Z": 3},
    "16": {"C11Z": 20, "C22B": 2, "C17A": 2}, "17": {"C30A": 8, "C30B": 6, "C30C": 3, "A03Z": 3},
    "18": {"C25C": 5, "C30C": 3, "C27B": 2}, "19": {"C27B": 4},
    "20": {"C11Z": 4, "C19Z": (0.1, 12), "C10A": 3}, "21": {"C11Z": 6, "C10H": 3},
    "22": {"C10A": 7, "C10K": 5, "A03Z": 2}, "23": {"C16Z": 8, "C10A": 4, "C28D": 3},
    "24": {"C10A": 4, "C21Z": 3, "C17B": 2}, "25": {"C29A": 8, "C29B": 5, "C26E": 5},
    "26": {"C23B": 2, "C10H": 3, "C21Z": 2}, "27": {"C21Z": 9, "C20B": 8, "C29B": 2},
    "28": {"C20B": 10, "C21Z": 4}, "29": {"C10A": 7, "A03Z": 6, "C10B": 6, "C30A": 3},
    "30": {"C20A": 3, "C32C": 2}, "31": {"C30C": (20, 8), "C26A": 3, "C26E": 2},
    "32": {"C11Z": 8, "A01Z": 4, "C10A": 3},
    "33": {"C11Z": (14, 2), "C30C": 3, "C19Z": 2, "C16Z": 2, "B06Z": (0.2, 2)},
    "34": {"C21Z": 2, "C11Z": 4}, "35": {"C29A": (5, 2.5), "C10A": 4, "C26C": 3},
    "36": {"C15Z": 4, "C30C": 2, "C22A": 2}, "37": {"C21Z": 7, "C29B": 2},
    "38": {"C26A": 10, "C20A": 4, "C27B": 3, "C28A": 2}, "39": {"C22B": 3, "C10E": 4, "C31Z": 3},
    "40": {"C16Z": 6, "C17A": 4, "C10A": 3, "C30C": 2}, "41": {"C21Z": 3, "C20B": 3},
    "42": {"C25E": 4, "C28A": 2, "C13Z": 3}, "43": {"C22B": 3, "C13Z": 3},
    "44": {"C30C": 3, "C30A": 10, "C10H": 2},
    "45": {"C21Z": 4, "C20B": 6, "C28A": 2}, "46": {"C30C": 4, "C10A": 3},
    "47": {"A01Z": 4, "C10C": 5, "C21Z": 3}, "48": {"C10E": 12, "A01Z": 8, "C16Z": 6},
    "49": {"A01Z": 4, "C11Z": 3, "C26A": 3, "C15Z": 3}, "50": {"C10E": 6, "A03Z": 5, "C30A": 3},
    "51": {"C11Z": (20, 2), "A01Z": 3, "C10F": 3}, "52": {"C24C": 5, "C32B": 4},
    "53": {"C10E": 7, "C10A": 5}, "54": {"C24A": 4, "C23A": 2, "C17A": 3},
    "55": {"C17A": 3, "C10E": 3}, "56": {"C10A": 5, "C30A": 3, "C10B": 4, "A03Z": 3},
    "57": {"C24A": 4, "C29A": 4, "C20A": 3}, "58": {"C22A": 3, "C28A": 2},
    "59": {"C24A": 5, "C29A": (5, 2.5), "C10H": 2, "C30B": 4},
    "60": {"C20B": 3, "C28B": 4, "C20A": 2},
    "61": {"C10E": 4, "C29B": 3, "C16Z": 2, "C27B": 2, "C22B": 2}, "62": {"C23A": 6, "C29B": 3},
    "63": {"C22A": 18, "C21Z": 3}, "64": {"C30C": 6, "C20A": 5},
    "65": {"C30C": 5, "C27B": 3, "C30B": 4}, "66": {"A01Z": (4, 6), "C10C": 2},
    "67": {"C21Z": 3, "C29B": 3, "C10H": 3, "C11Z": 2}, "68": {"C29A": 6, "C21Z": 3, "C20A": 3},
    "69": {"C21Z": 6, "C20A": 4, "C19Z": 2, "C29A": 2, "C13Z": 2, "B06Z": (0.1, 2)},
    "70": {"C29B": 5}, "71": {"C24A": 3, "C28A": 3, "C25B": 3},
    "72": {"C29B": 5, "C10A": 3}, "73": {"C24B": 6, "C28A": 2},
    "74": {"C25E": 7, "C26E": 3, "C32C": 3},
    "75": {"B06Z": (0.3, 9), "D35A": (30, 10), "D35B": (2, 4), "C15Z": 7, "C32A": 10,
           "C14Z": 4, "C20B": 5, "R90Z": 10, "R91Z": 10},
    "76": {"B06Z": (0.3, 12), "C19Z": (8, 5), "C20A": 4, "C29B": 2, "C21Z": 4},
    "77": {"C30C": 5, "C21Z": 3, "C10H": 2}, "78": {"C29A": 12, "C29B": 5, "C30C": 4},
    "79": {"C10E": 4, "C28D": 3}, "80": {"C10H": 3, "C30C": 4, "C28B": 2},
    "81": {"C21Z": 4, "C15Z": 3}, "82": {"A01Z": 5, "C10C": 3}, "83": {"C30A": 4, "C11Z": 4},
    "84": {"A01Z": 4, "C10C": 5, "C11Z": 3}, "85": {"C30A": 10, "C10A": 3},
    "86": {"C29B": 3, "C10E": 3}, "87": {"C27B": 5, "C23B": 3, "C15Z": 3},
    "88": {"C16Z": 4, "C13Z": 5, "C17A": 3}, "89": {"C11Z": 6, "C28D": 2},
    "90": {"C28A": 10, "C30B": 4, "C27B": 3}, "91": {"C26E": 4, "C26A": 3, "C21Z": 3},
    "92": {"C21Z": 5, "C26C": 3, "C30C": 5}, "93": {"C14Z": (2, 5), "C32A": 2},
    "94": {"A01Z": (1, 5), "C10H": 3, "C10C": 3},
    "95": {"C26B": 4, "C26C": 4, "C32A": 3, "C14Z": 2},
    "9A": {"A01Z": 15, "C11Z": 8, "C19Z": (0.1, 10), "C29A": (0.1, 3)},
    "9B": {"A01Z": 15, "C11Z": 8, "C19Z": (2, 10), "C29A": (0.1, 3)},
    "9C": {"C30C": (8, 1), "A03Z": 10, "C24B": (10, 1), "C19Z": (0.1, 10)},
    "9D": {"C10H": (10, 1), "C11Z": 6, "A03Z": 5, "C19Z": (0.1, 10), "C29A": (0.1, 3)},
    "9E": {"A03Z": 40, "A01Z": 20, "C19Z": (0.1, 20), "C10A": (1, 10)},
    "99": {"C20B": 6, "C32A": 5, "C21Z": 3},
}
# Unit values, € per kg, by A129 group (electricity has no mass).
UNIT_VALUES = """
A01Z 0.6|A02Z 0.15|A03Z 4|B05Z 0.15|B06Z 0.5|B07Z 0.3|B08Z 0.08|C10A 4|C10B 8|C10C 2
C10D 1.5|C10E 4|C10F 0.6|C10G 4|C10H 5|C10K 0.8|C11Z 6|C12Z 60|C13Z 8|C14Z 30|C15Z 60
C16Z 0.5|C17A 0.7|C17B 2|C18Z 10|C19Z 0.8|C20A 1.2|C20B 12|C20C 4|C21Z 150|C22A 5
C22B 4|C23A 2|C23B 0.4|C24A 1.2|C24B 5|C24C 5|C25A 4|C25B 5|C25C 40|C25E 10|C26A 300
C26B 100|C26C 300|C26D 40|C26E 150|C26F 200|C26G 150|C27A 8|C27B 20|C28A 25|C28B 10
C28C 30|C28D 30|C29A 15|C29B 12|C30A 20|C30B 25|C30C 1500|C30D 50|C30E 30|C31Z 6
C32A 3000|C32B 80|C32C 20|D35A 0|D35B 0.5|E37Z 0.1|E38Z 0.3|J58Z 10|J59Z 50|M71Z 100
M74Z 80|R90Z 2000|R91Z 500|S96Z 20
"""

# ----------------------------------------------------------------- partner countries
# Gravity weights, % of exports and imports; other valid codes get a random long tail.
GRAVITY = """
DE 14.0 15.5|BE 10.0 10.5|IT 9.5 8.5|ES 8.5 7.8|US 5.5 7.0|NL 4.6 8.0|GB 5.5 3.4
CH 4.6 3.0|CN 4.0 8.5|PL 2.2 2.0|PT 1.3 1.2|IE 0.8 1.6|AT 1.1 0.9|SE 1.1 0.8|CZ 0.9 1.0
JP 1.4 1.0|KR 1.0 0.8|IN 0.9 0.9|TR 1.2 1.2|SG 1.3 0.4|AE 1.0 0.3|SA 0.7 0.6|MA 1.1 1.0
DZ 0.9 0.8|TN 0.7 0.8|HK 0.9 0.1|CA 0.8 0.5|BR 0.7 0.5|MX 0.5 0.3|AU 0.6 0.2|LU 0.9 0.6
DK 0.7 0.5|FI 0.4 0.3|NO 0.5 1.8|GR 0.6 0.2|RO 0.7 0.6|HU 0.6 0.6|SK 0.4 0.6|TW 0.4 0.6
VN 0.2 1.0|TH 0.3 0.5|BD 0.05 0.6|KZ 0.1 0.8|NG 0.2 0.5|LY 0.1 0.3|IL 0.3 0.2|QA 0.4 0.3
EG 0.4 0.2|ZA 0.3 0.2|SN 0.3 0.05|CI 0.3 0.3|RU 0.1 0.5|UA 0.3 0.2|SI 0.3 0.3|BG 0.3 0.2
HR 0.2 0.1|LT 0.2 0.2|EE 0.1 0.1|LV 0.1 0.1|IQ 0.1 0.3|AZ 0.05 0.4|CL 0.2 0.1|AR 0.2 0.2
ID 0.2 0.4|MY 0.3 0.4|PH 0.1 0.1|NZ 0.1 0.1|KW 0.2 0.1|QU 0.15 0.1|QR 0.05 0.02
QS 0.1 0.02|QP 0.01 0.01|QQ 0.005 0.005|XK 0.01 0.005|XS 0.08 0.06|XC 0.01 0.003
XL 0.01 0.003|FR 0 0.05
"""
TAIL_MAX_WEIGHT = 0.12
# Never partners: the EU aggregate, and French overseas départements (not foreign).
EXCLUDED_PARTNERS = frozenset({"EU", "GP", "MQ", "GF", "RE", "YT", "MC"})
EU_MEMBERS = frozenset("AT BE BG CY CZ DE DK EE ES FI GR HR HU IE IT LT LU LV MT NL PL PT "
                       "RO SE SI SK".split())
# Border and sea-side partners: département -> country -> boost.
NEIGHBOURS: dict[str, dict[str, float]] = {
    "59": {"BE": 2.5}, "62": {"BE": 1.5, "GB": 1.8}, "08": {"BE": 2.5}, "02": {"BE": 1.5},
    "54": {"LU": 4, "BE": 1.5, "DE": 1.3}, "55": {"LU": 2.5, "BE": 1.5},
    "57": {"DE": 2, "LU": 4}, "67": {"DE": 2.2}, "68": {"DE": 1.8, "CH": 3}, "90": {"CH": 2},
    "25": {"CH": 3}, "39": {"CH": 2}, "01": {"CH": 2.5}, "74": {"CH": 3.5, "IT": 1.3},
    "73": {"IT": 2}, "05": {"IT": 2}, "04": {"IT": 1.5}, "06": {"IT": 2.5},
    "99": {"IT": 2.5, "CH": 2}, "64": {"ES": 2.5}, "65": {"ES": 2}, "31": {"ES": 1.5},
    "09": {"ES": 2.5, "AD": 20}, "66": {"ES": 3, "AD": 10, "MA": 2}, "11": {"ES": 1.8},
    "20": {"IT": 4}, "50": {"GB": 2}, "14": {"GB": 1.6}, "76": {"GB": 1.5},
    "35": {"GB": 1.4}, "22": {"GB": 1.5}, "29": {"GB": 1.5, "IE": 1.5},
    "13": {"DZ": 2, "TN": 1.5, "MA": 1.3}, "94": {"MA": 1.5, "ES": 1.4},
    "47": {"ES": 1.5, "MA": 1.5},
}
# Overseas départements: their neighbours weigh like big partners, the EU stays,
# the rest of the world fades.
OVERSEAS_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "9A": ("DM", "AG", "LC", "DO", "HT", "KN", "BB", "TT", "VC", "SX", "US"),
    "9B": ("LC", "DM", "BB", "TT", "VC", "DO", "GD", "AG", "CW", "US"),
    "9C": ("BR", "SR", "GY", "TT", "US"),
    "9D": ("MU", "MG", "SC", "KM", "ZA", "IN", "CN", "SG", "AE", "TH"),
    "9E": ("KM", "MG", "TZ", "MU", "KE", "ZA"),
}
OVERSEAS_OTHERS = 0.08
# Product-specific partners: (flux, A129) -> (factor for other countries, {country: factor}).
PRODUCT_PARTNERS: dict[tuple[str, str], tuple[float, dict[str, float]]] = {
    ("I", "B06Z"): (0.05, {"NO": 30, "US": 12, "KZ": 40, "LY": 40, "NG": 40, "SA": 25,
                           "DZ": 25, "IQ": 30, "AZ": 40, "RU": 20, "QA": 30, "GB": 3}),
    ("I", "C19Z"): (0.5, {"US": 4, "SA": 8, "IN": 6, "AE": 6, "KW": 10, "BE": 3, "NL": 3}),
    ("E", "C19Z"): (0.5, {"QS": 40, "QR": 30, "BE": 2, "ES": 2, "CH": 3, "GB": 2}),
    ("E", "D35A"): (0.0, {"ES": 1, "DE": 1, "BE": 1, "CH": 1, "IT": 1, "GB": 1}),
    ("I", "D35A"): (0.0, {"ES": 1, "DE": 1, "BE": 1, "CH": 1, "IT": 1, "GB": 1}),
    ("I", "D35B"): (0.05, {"NO": 5, "BE": 3, "DE": 2}),
    ("E", "C30C"): (1.0, {"DE": 3, "CN": 3, "AE": 3, "SG": 3, "QA": 3, "IN": 3, "SA": 2,
                          "TR": 2, "JP": 1.5, "US": 2.5}),
    ("E", "C11Z"): (1.0, {"US": 2.5, "GB": 2.5, "CN": 2.5, "SG": 3, "HK": 4, "JP": 3,
                          "CH": 1.5, "BE": 1.5}),
    ("E", "C21Z"): (1.0, {"US": 2, "CH": 1.5, "BE": 1.5, "GB": 1.3, "CN": 1.3}),
    ("E", "C20B"): (1.0, {"US": 1.5, "CN": 1.8, "AE": 2, "HK": 2, "GB": 1.3}),
    ("E", "C15Z"): (1.0, {"US": 1.6, "CN": 2.5, "HK": 3, "JP": 2.5, "KR": 2, "CH": 2}),
    ("E", "C32A"): (1.0, {"US": 1.5, "CH": 4, "HK": 3, "AE": 2.5, "SG": 2}),
    ("I", "C14Z"): (1.0, {"CN": 3, "BD": 6, "TR": 2, "VN": 3, "IN": 3, "MA": 3, "TN": 3}),
    ("I", "C26A"): (1.0, {"CN": 3, "TW": 4, "KR": 2, "MY": 2, "US": 1.5}),
    ("I", "C26B"): (1.0, {"CN": 4, "TW": 2, "VN": 2, "TH": 2, "NL": 1.5}),
    ("I", "C26C"): (1.0, {"CN": 4, "VN": 4, "KR": 2, "IN": 2}),
    ("I", "A01Z"): (1.0, {"ES": 3, "MA": 3, "NL": 1.5, "BR": 2, "CI": 3}),
    ("I", "C29A"): (1.0, {"ES": 2.5, "SK": 3, "CZ": 2, "TR": 2, "MA": 3, "SI": 2, "JP": 1.5}),
}
# How much a département trades with the United States, relative to the gravity
# weight (exports; imports take the square root): cognac and spirits, pharmacy,
# luxury and aircraft lean on it, inland rural départements and Mayotte hardly
# trade with it at all. Others get 1; all get a log-normal spread (US_SPREAD).
US = "US"
US_AFFINITY = {
    "16": 3.5, "32": 1.6, "51": 1.6, "21": 1.4, "33": 1.3, "75": 1.6, "92": 1.8,
    "06": 1.5, "27": 1.8, "45": 1.6, "28": 1.6, "37": 1.5, "76": 1.3, "31": 2.5, "64": 1.5,
    "63": 1.6, "99": 1.3, "74": 1.2, "91": 1.3,
    "48": 0.01, "23": 0.02, "15": 0.03, "9E": 0.0, "9D": 0.03, "55": 0.08, "70": 0.1,
    "43": 0.15, "58": 0.2, "36": 0.2,
}
US_SPREAD = 0.35

# ----------------------------------------------------------------- 2023 versus 2024
# Within a group, 2023 = 2024 x a factor per product, per partner and per cell
# (log-normal sigmas), before the group is rescaled to its 2023 total.
YEAR_PRODUCT_SPREAD, YEAR_PARTNER_SPREAD, YEAR_CELL_SPREAD = 0.10, 0.08, 0.10
# Of a group's small partners (products) -- under CHURN_MAX_SHARE of its candidates'
# weight and outside its CHURN_PROTECTED heaviest -- this share trades in one of the
# two years only (either year, evenly).
CHURN_PARTNER, CHURN_PRODUCT, CHURN_PROTECTED, CHURN_MAX_SHARE = 0.08, 0.04, 5, 0.01

# ----------------------------------------------------------------- revision of T4 2023
# In the 2023 publication: REVISION_SHARE of the quarter's rows differ by
# REVISION_MIN to REVISION_MAX (either sign); some small rows are missing
# (REVISION_MISSING of the rows below the median, declared late) and a few extra
# ones (REVISION_EXTRA of the rows, later corrected away) hold a cell seen earlier
# in 2023, at its last value times a log-normal factor (REVISION_EXTRA_SPREAD).
REVISION_SHARE, REVISION_MIN, REVISION_MAX = 0.3, 0.001, 0.008
REVISION_MISSING, REVISION_EXTRA, REVISION_EXTRA_SPREAD = 0.01, 0.003, 0.3

# ----------------------------------------------------------------- sparsity shape
# Cells (product x country) of a group ~ S^CELL_EXPONENT, S its size in M€, normalised so
# that all groups hold about CELLS x scale cells before the caps; candidate products and
# partners grow like a power of the size.
CELLS = 100_000
CELL_EXPONENT = 0.75
MAX_CELL_FILL = 0.6
PRODUCTS_BASE, PRODUCTS_EXPONENT = 4.0, 0.6
PARTNERS_BASE, PARTNERS_EXPONENT = 4.0, 0.62
SIZE_UNIT_M_EUR = 40.0
CANDIDATES_SCALE_EXPONENT = 0.3
MIN_CANDIDATES = 3
PRODUCT_NOISE, PARTNER_NOISE, CELL_NOISE = 0.5, 0.5, 0.5
# Candidate products and partners are drawn with probability ~ weight ** SHARPNESS.
SHARPNESS = 1.5
QUARTER_SHAPE, UNIT_VALUE_NOISE = 6.0, 0.5
# Probability that a cell has a row in a quarter, from its expected yearly value.
PRESENCE_AT_1000_EUR, PRESENCE_PER_DECADE, PRESENCE_MIN = 0.3, 0.11, 0.25



@dataclass(frozen=True)
class Universe:
    """Codes the sample draws from, in a fixed order."""

    deps: tuple[nomenclatures.Departement, ...]
    cpf4: np.ndarray  # CPF4 codes (goods)
    a129: np.ndarray  # A129 parent of each CPF4 code
    countries: np.ndarray  # partner codes valid in every year of the sample


# ================================================================= public API
def write_sample(path: Path, *, seed: int | None = None, scale: float = 1.0) -> Path:
    """Write both fictitious DGDDI publications and return ``path``.

    ``path`` receives the 2024 publication (T4 2023 to T4 2024) and
    :func:`previous_path` of it the 2023 publication (T1 to T4 2023); both are
    written to temporary files first and replace the old ones only when both are
    complete. ``seed`` None means :data:`DEFAULT_SEED`; ``scale`` multiplies the
    number of rows (1 gives the committed sample), never the calibrated totals.
    """
    if not (isinstance(scale, (int, float)) and 0 < scale < float("inf")):
        raise TradebookError(
            f"Échelle invalide : « {scale} ». Donnez un nombre positif (1 par défaut)."
        )
    seed = DEFAULT_SEED if seed is None else seed
    if seed < 0:
        raise TradebookError(f"Graine invalide : {seed}. Donnez un entier positif ou nul.")
    publications = generate_publications(seed, scale)
    path = Path(path)
    targets = {PREVIOUS: previous_path(path), LATEST: path}
    # mode 0644: a sample is meant to be shared, whatever the umask
    with ExitStack() as stack:
        for year, target in targets.items():
            rows = publications[year]
            tmp = stack.enter_context(atomic_path(target, mode=0o644))
            write_zip(tmp, sample_members(rows, seed, scale, year),
                      zip64=rows.num_rows * MAX_LINE_BYTES >= ZIP64_LIMIT)
    return path


def previous_path(path: Path) -> Path:
    """Where the 2023 publication goes beside the 2024 one: ``NAME_2023.zip``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_{PREVIOUS}{path.suffix}")


def generate_publications(seed: int, scale: float = 1.0) -> dict[int, pa.Table]:
    """The rows of both publications, as written in their files (see :func:`rows_table`).

    ``{2024: T4 2023 to T4 2024, true values; 2023: T1-T3 2023 true, T4 2023
    preliminary}``.
    """
    rng = np.random.default_rng(seed)
    u = universe()
    totals_2024 = department_totals(rng, u)
    cells = draw_cells(rng, u, totals_2024, scale)
    totals = year_totals(rng, totals_2024)
    present = quarter_presence(rng, cells, totals[:, 1])
    cell_idx, slot, values = quarter_values(rng, cells, present, totals)
    masses = masses_of(rng, u, cells.product[cell_idx], values)
    true_rows = Rows(cell_idx, slot, values, masses)
    revised = SLOTS.index(REVISED_QUARTER)
    preliminary = preliminary_quarter(rng, u, cells, true_rows, revised)
    latest = true_rows.select(slot >= revised)
    previous = true_rows.select(slot < revised).concat(preliminary)
    return {LATEST: rows_table(u, cells, latest), PREVIOUS: rows_table(u, cells, previous)}


def sample_members(rows: pa.Table, seed: int, scale: float,
                   publication: int) -> dict[str, Iterable[bytes]]:
    """Name -> byte chunks of every ZIP member, in :data:`MEMBER_ORDER`."""
    members: dict[str, Iterable[bytes]] = {
        MARKER_FILE: [marker_text(seed, scale, publication).replace("\n", EOL).encode("utf-8")],
        EXPORT_FILE: data_file_chunks(rows, "E"),
        IMPORT_FILE: data_file_chunks(rows, "I"),
        **{name: [data] for name, data in label_files().items()},
    }
    return {name: members[name] for name in MEMBER_ORDER}


def write_zip(path: Path, members: dict[str, Iterable[bytes]], *, zip64: bool = False) -> None:
    """Write a deterministic ZIP at ``path`` (fixed dates, order, attributes, deflate
    at zlib's default level), streaming each member's chunks.

    ``zip64`` must be set when a member may exceed 2 GiB (sizes are unknown while
    streaming); it is decided from the row count, so it is deterministic too.
    """
    with zipfile.ZipFile(path, "w") as zf:
        for name, chunks in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            with zf.open(info, "w", force_zip64=zip64) as out:
                for chunk in chunks:
                    out.write(chunk)


def count_lines(path: Path) -> dict[str, int]:
    """Number of lines of each data file of a sample ZIP (streamed, any size)."""
    counts = {}
    with zipfile.ZipFile(path) as zf:
        for name in (EXPORT_FILE, IMPORT_FILE):
            with zf.open(name) as fh:
                chunks = iter(lambda: fh.read(1 << 22), b"")
                counts[name] = sum(chunk.count(b"\n") for chunk in chunks)
    return counts


def describe(path: Path) -> str:
    """A French summary of a written sample ZIP: rows per data file and ZIP size."""
    counts = count_lines(path)
    size = Path(path).stat().st_size

    def number(n: float, digits: int = 0) -> str:
        return f"{n:,.{digits}f}".replace(",", "\u202f").replace(".", ",")

    return "\n".join([
        f"Échantillon fictif écrit : {path}",
        f"Exportations ({EXPORT_FILE}) : {number(counts[EXPORT_FILE])} lignes",
        f"Importations ({IMPORT_FILE}) : {number(counts[IMPORT_FILE])} lignes",
        f"Taille du ZIP : {number(size / 1e6, 1)} Mo",
    ])


def quarters_text(quarters: Iterable[tuple[int, int]]) -> str:
    """``((2023, 4), (2024, 1))`` -> ``T4 2023, T1 2024``."""
    return ", ".join(f"T{q} {y}" for y, q in quarters)


def marker_text(seed: int, scale: float, publication: int) -> str:
    """The French notice stored as ``DONNEES_FICTIVES.txt`` in one publication."""
    revised = quarters_text([REVISED_QUARTER])
    status = (f"Le {revised} y est révisé : il remplace celui, provisoire, de la publication "
              f"fictive {PREVIOUS}." if publication == LATEST else
              f"Son {revised} est provisoire : la publication fictive {LATEST} le révise.")
    return (
        "DONNÉES FICTIVES : échantillon de démonstration, ne pas citer.\n"
        "\n"
        "Ce ZIP reproduit la présentation des fichiers de la DGDDI (statistiques régionales\n"
        "et départementales du commerce extérieur) mais ses chiffres sont inventés par le\n"
        "générateur du projet tradebook. Ce ne sont pas des données de la DGDDI.\n"
        "Seuls les totaux 2024 de la France, de la Normandie et de l'Orne sont calés sur\n"
        "les chiffres publiés ; tout le reste (départements, produits, pays, trimestres)\n"
        "est simulé.\n"
        "\n"
        f"Publication fictive {publication} : {quarters_text(PUBLICATIONS[publication])}.\n"
        f"{status}\n"
        "\n"
        f"Généré par : python -m tradebook echantillon --graine {seed} --echelle {scale:g}\n"
        "(les deux publications à la fois).\n"
        "Données réelles : python -m tradebook fetch, puis make book DONNEES=<ZIP DGDDI>.\n"
    )


# ================================================================= the universe
def parse_table(text: str, columns: int) -> dict[str, tuple[float, ...]]:
    """``code v1 v2|code v1 v2...`` -> {code: (v1, v2)} (compact constant tables)."""
    table = {}
    for item in text.replace("\n", "|").split("|"):
        if item.strip():
            code, *values = item.split()
            if len(values) != columns:
                raise ValueError(f"bad sample constant: {item!r}")
            table[code] = tuple(float(v) for v in values)
    return table


def universe() -> Universe:
    """Départements, goods (CPF4 with an A129 parent) and partners valid in every year."""
    links = nomenclatures.cpf4_to_a129()
    valid_cpf4 = set.intersection(*(set(nomenclatures.labels_valid_in("cpf4", y)) for y in YEARS))
    valid_a129 = set.intersection(*(set(nomenclatures.labels_valid_in("a129", y)) for y in YEARS))
    cpf4 = sorted(c for c, a in links.items() if c in valid_cpf4 and a in valid_a129)
    countries = sorted(
        set.intersection(*(set(nomenclatures.labels_valid_in("pays", y)) for y in YEARS))
        - EXCLUDED_PARTNERS
    )
    return Universe(
        deps=nomenclatures.departements(),
        cpf4=np.array(cpf4),
        a129=np.array([links[c] for c in cpf4]),
        countries=np.array(countries),
    )


# ================================================================= totals
def split_exactly(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total``."""
    return round_groups(total * weights / weights.sum(), np.zeros(len(weights), dtype=np.int64),
                        np.array([total], dtype=np.int64))


def calibrated_totals(u: Universe, flux: str, weights: np.ndarray) -> np.ndarray:
    """2024 total in euros of each département (in ``u.deps`` order) for ``flux``.

    Orne is the published figure; the other Normandie départements share the rest
    of Normandie's figure, the other départements the rest of France's, in
    proportion to ``weights``.
    """
    orne = np.array([d.code_dgddi == ORNE for d in u.deps])
    normandie = np.array([d.region_dgddi == NORMANDIE_DGDDI for d in u.deps]) & ~orne
    rest = ~orne & ~normandie
    totals = np.zeros(len(u.deps), dtype=np.int64)
    totals[orne] = ORNE_2024[flux]
    totals[normandie] = split_exactly(NORMANDIE_2024[flux] - ORNE_2024[flux], weights[normandie])
    totals[rest] = split_exactly(FRANCE_2024[flux] - NORMANDIE_2024[flux], weights[rest])
    return totals


def crowded(values: np.ndarray, gap: float) -> np.ndarray:
    """Mask of the values that lie within ``gap`` of another one (both of each pair)."""
    order = np.argsort(values, kind="stable")
    close = np.diff(values[order]) <= gap
    mask = np.zeros(len(values), dtype=bool)
    mask[order[:-1][close]] = True
    mask[order[1:][close]] = True
    return mask


def department_totals(rng: np.random.Generator, u: Universe) -> np.ndarray:
    """2024 total in euros of every flux x département group (flux-major, ``u.deps`` order).

    Orders of magnitude from :data:`SIZES_M_EUR` times a log-normal jitter,
    calibrated; the jitter of totals closer than :data:`MIN_GAP_EUR` to another is
    redrawn until every total of a flux is distinct to 0,1 M€.
    """
    sizes = parse_table(SIZES_M_EUR, 2)
    fixed = np.array([d.code_dgddi == ORNE for d in u.deps])
    out = []
    for column, flux in enumerate(FLOWS):
        base = np.array([sizes[d.code_dgddi][column] for d in u.deps])
        jitter = rng.lognormal(0.0, SIZE_JITTER, len(base))
        for _ in range(MAX_SIZE_DRAWS):
            totals = calibrated_totals(u, flux, base * jitter)
            redraw = crowded(totals, MIN_GAP_EUR) & ~fixed
            if not redraw.any():
                break
            jitter[redraw] = rng.lognormal(0.0, SIZE_JITTER, int(redraw.sum()))
        else:
            raise RuntimeError("sample generator: département totals stay too close")
        out.append(totals)
    return np.concatenate(out)


def year_totals(rng: np.random.Generator, totals_2024: np.ndarray) -> np.ndarray:
    """Group x year totals in euros: 2024 as calibrated, 2023 a few % off."""
    n_deps = len(totals_2024) // len(FLOWS)
    ratio = np.repeat([RATIO_2023[f] for f in FLOWS], n_deps)
    ratio = ratio * rng.lognormal(0.0, RATIO_2023_SPREAD, len(totals_2024))
    totals_2023 = np.round(totals_2024 * ratio).astype(np.int64)
    return np.stack([totals_2023, totals_2024], axis=1)


def round_groups(values: np.ndarray, groups: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Round non-negative floats to integers summing to ``targets[group]`` in each group.

    Largest-remainder method, vectorised; a float residual (rare, +-1) goes to the
    largest value of its group.
    """
    floors = np.floor(values).astype(np.int64)
    n_groups = len(targets)
    deficit = targets - np.bincount(groups, weights=floors, minlength=n_groups).astype(np.int64)
    order = np.lexsort((-(values - floors), groups))
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values)) - starts[groups[order]]
    result = floors + (rank < np.clip(deficit, 0, sizes)[groups])
    residual = targets - np.bincount(groups, weights=result, minlength=n_groups).astype(np.int64)
    if residual.any():
        largest = np.lexsort((-values, groups))[starts[sizes > 0]]
        result[largest] += residual[groups[largest]]
    return result


# ================================================================= weights
def gumbel_top(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ~ weights (sorted)."""
    positive = weights > 0
    k = int(min(k, positive.sum()))
    keys = np.full(len(weights), -np.inf)
    keys[positive] = np.log(weights[positive]) + rng.gumbel(size=int(positive.sum()))
    if k >= len(weights):
        return np.flatnonzero(positive)
    return np.sort(np.argpartition(-keys, k - 1)[:k])


def child_shares(rng: np.random.Generator, u: Universe) -> np.ndarray:
    """Share of each CPF4 code inside its A129 group (fixed ones, the rest drawn)."""
    raw = rng.lognormal(0.0, 1.0, len(u.cpf4))
    fixed = np.array([CHILD_SHARES.get(c, np.nan) for c in u.cpf4])
    shares = np.empty(len(u.cpf4))
    for a129 in np.unique(u.a129):
        members = u.a129 == a129
        free = members & np.isnan(fixed)
        taken = np.nansum(fixed[members])
        shares[members & ~np.isnan(fixed)] = fixed[members & ~np.isnan(fixed)]
        if free.any():
            shares[free] = max(1.0 - taken, 0.05) * raw[free] / raw[free].sum()
    return shares


def boost_of(value: Boost, flux: str) -> float:
    """A boost for one flux (a pair holds the export and the import boost)."""
    return value[FLOWS.index(flux)] if isinstance(value, tuple) else value


def territory_boosts(dep: str, flux: str) -> dict[str, float]:
    """A129 -> boost of one département: the largest its types of territory give,
    overridden by its own specialisations."""
    boosts: dict[str, float] = {}
    for kind, codes in TERRITORIES.items():
        if dep in codes.split():
            for a129, value in TERRITORY_MIXES[kind].items():
                boosts[a129] = max(boosts.get(a129, 0.0), boost_of(value, flux))
    for a129, value in SPECIALISATIONS.get(dep, {}).items():
        boosts[a129] = boost_of(value, flux)
    return boosts


def product_weights(u: Universe, flux: str, dep: str, base: np.ndarray) -> np.ndarray:
    """Expected product mix of one département (before random noise)."""
    local = territory_boosts(dep, flux)
    boost = np.array([local.get(a129, LOCALISED.get(a129, 1.0)) for a129 in u.a129])
    for i, a129 in enumerate(u.a129):
        allowed = RESERVED_CPF4.get(u.cpf4[i]) or RESERVED_A129.get(a129)
        if allowed is not None and dep not in allowed:
            boost[i] = 0.0
    return base * boost


def national_product_weights(rng: np.random.Generator, u: Universe) -> dict[str, np.ndarray]:
    """Flux -> weight of each CPF4 code in the national mix."""
    shares = child_shares(rng, u)
    table = parse_table(A129_WEIGHTS, 2)
    return {flux: np.array([table[a][j] for a in u.a129]) * shares for j, flux in enumerate(FLOWS)}


def gravity_weights(rng: np.random.Generator, u: Universe) -> dict[str, np.ndarray]:
    """Flux -> national weight of each partner: listed ones, then a random long tail."""
    table = parse_table(GRAVITY, 2)
    tail = TAIL_MAX_WEIGHT * rng.random(len(u.countries)) ** 3
    weights = {}
    for j, flux in enumerate(FLOWS):
        weights[flux] = np.array([table[c][j] if c in table else tail[i]
                                  for i, c in enumerate(u.countries)])
    return weights


def us_factors(rng: np.random.Generator, u: Universe) -> dict[str, np.ndarray]:
    """Flux -> factor of the United States' weight in each département (``u.deps`` order)."""
    exports = np.array([US_AFFINITY.get(d.code_dgddi, 1.0) for d in u.deps])
    exports = exports * rng.lognormal(0.0, US_SPREAD, len(exports))
    return {"E": exports, "I": np.sqrt(exports)}


def partner_weights(u: Universe, dep: str, gravity: np.ndarray, us_factor: float) -> np.ndarray:
    """Partner weights of one département: borders, or overseas neighbours; the US."""
    weights = gravity.copy()
    index = {c: i for i, c in enumerate(u.countries)}
    if dep in OVERSEAS_NEIGHBOURS:
        eu = np.array([c in EU_MEMBERS for c in u.countries])
        weights[~eu] *= OVERSEAS_OTHERS
        top = gravity.max()
        for rank, country in enumerate(OVERSEAS_NEIGHBOURS[dep]):
            if country in index:
                weights[index[country]] = top * 1.5 / (1 + 0.4 * rank)
    for country, factor in NEIGHBOURS.get(dep, {}).items():
        if country in index:
            weights[index[country]] *= factor
    weights[index[US]] *= us_factor
    return weights


def partner_modifiers(u: Universe, flux: str) -> np.ndarray:
    """Matrix CPF4 x partner of product-specific partner factors (mostly 1)."""
    index = {c: i for i, c in enumerate(u.countries)}
    matrix = np.ones((len(u.cpf4), len(u.countries)))
    for (f, a129), (others, specific) in PRODUCT_PARTNERS.items():
        if f != flux:
            continue
        row = np.full(len(u.countries), others)
        for country, factor in specific.items():
            if country in index:
                row[index[country]] = factor
        matrix[u.a129 == a129] = row
    return matrix


def churn_masks(rng: np.random.Generator, weights: np.ndarray, rate: float) -> np.ndarray:
    """Items x years: whether each item trades in 2023 and in 2024.

    Small items (under :data:`CHURN_MAX_SHARE` of the weights, outside the
    :data:`CHURN_PROTECTED` heaviest) trade, with probability ``rate``, in one
    year only (either, evenly); the others in both.
    """
    churned = rng.random(len(weights)) < rate
    side = rng.integers(0, len(YEARS), len(weights))
    churned &= weights < CHURN_MAX_SHARE * weights.sum()
    churned[np.argsort(-weights, kind="stable")[:CHURN_PROTECTED]] = False
    masks = np.ones((len(weights), len(YEARS)), dtype=bool)
    masks[np.flatnonzero(churned), side[churned]] = False
    return masks


# ================================================================= cells and rows
@dataclass
class Cells:
    """Drawn product x country cells of every flux x département group."""

    group: np.ndarray  # index into groups (flux-major, then u.deps order)
    product: np.ndarray
    country: np.ndarray
    weight: np.ndarray  # 2024 basis
    ratio: np.ndarray  # 2023 weight / 2024 weight, before the group is rescaled
    years: np.ndarray  # cells x years: whether the cell trades that year


@dataclass
class Rows:
    """Quarterly rows as parallel arrays (unsorted): cell, quarter slot, euros, kg."""

    cell: np.ndarray
    slot: np.ndarray
    value: np.ndarray
    mass: np.ndarray

    def select(self, mask: np.ndarray) -> Rows:
        """The rows where ``mask`` holds."""
        return Rows(self.cell[mask], self.slot[mask], self.value[mask], self.mass[mask])

    def concat(self, other: Rows) -> Rows:
        """These rows followed by ``other``."""
        return Rows(*(np.concatenate([a, b]) for a, b in
                      ((self.cell, other.cell), (self.slot, other.slot),
                       (self.value, other.value), (self.mass, other.mass))))


def candidate_count(base: float, exponent: float, size_m_eur: float, scale: float,
                    available: int) -> int:
    """How many products (or partners) a group of this size trades."""
    n = base * (size_m_eur / SIZE_UNIT_M_EUR) ** exponent * scale ** CANDIDATES_SCALE_EXPONENT
    return int(np.clip(round(n), MIN_CANDIDATES, max(available, MIN_CANDIDATES)))


def draw_cells(rng: np.random.Generator, u: Universe, totals: np.ndarray, scale: float) -> Cells:
    """Products, partners and cells of every group (one small numpy draw per group),
    with their 2023 factors and the years they trade in."""
    national = national_product_weights(rng, u)
    gravity = gravity_weights(rng, u)
    us = us_factors(rng, u)
    us_index = int(np.flatnonzero(u.countries == US)[0])
    sizes = totals / 1e6
    per_size = CELLS * scale / np.sum(sizes ** CELL_EXPONENT)
    parts = []
    for f, flux in enumerate(FLOWS):
        modifiers = partner_modifiers(u, flux)
        for d, dep in enumerate(u.deps):
            g = f * len(u.deps) + d
            pw = product_weights(u, flux, dep.code_dgddi, national[flux])
            pw = pw * rng.lognormal(0.0, PRODUCT_NOISE, len(pw))
            noise = rng.lognormal(0.0, PARTNER_NOISE, len(u.countries))
            noise[us_index] = 1.0  # the US factor has its own spread
            cw = partner_weights(u, dep.code_dgddi, gravity[flux], us[flux][d]) * noise
            size = sizes[g]
            prods = gumbel_top(rng, pw ** SHARPNESS, candidate_count(
                PRODUCTS_BASE, PRODUCTS_EXPONENT, size, scale, int((pw > 0).sum())))
            ctrs = gumbel_top(rng, cw ** SHARPNESS, candidate_count(
                PARTNERS_BASE, PARTNERS_EXPONENT, size, scale, int((cw > 0).sum())))
            joint = (pw[prods, None] * cw[None, ctrs] * modifiers[np.ix_(prods, ctrs)]).ravel()
            if not (joint > 0).any():  # only product-specific partners, none of them drawn
                joint = (pw[prods, None] * cw[None, ctrs]).ravel()
            wanted = round(per_size * size ** CELL_EXPONENT)
            k = int(np.clip(wanted, min(MIN_CANDIDATES, joint.size), MAX_CELL_FILL * joint.size))
            picks = gumbel_top(rng, joint, max(k, 1))
            weight = joint[picks] * rng.lognormal(0.0, CELL_NOISE, len(picks))
            p, c = picks // len(ctrs), picks % len(ctrs)
            ratio = (rng.lognormal(0.0, YEAR_PRODUCT_SPREAD, len(prods))[p]
                     * rng.lognormal(0.0, YEAR_PARTNER_SPREAD, len(ctrs))[c]
                     * rng.lognormal(0.0, YEAR_CELL_SPREAD, len(picks)))
            years = (churn_masks(rng, pw[prods], CHURN_PRODUCT)[p]
                     & churn_masks(rng, cw[ctrs], CHURN_PARTNER)[c])
            if not years.all(axis=1).any():
                years[np.argmax(weight)] = True
            keep = years.any(axis=1)
            parts.append((np.full(int(keep.sum()), g), prods[p][keep], ctrs[c][keep],
                          weight[keep], ratio[keep], years[keep]))
    return Cells(*(np.concatenate(column) for column in zip(*parts)))


def anchor_cells(cells: Cells) -> np.ndarray:
    """Index of each group's heaviest cell among those trading in both years."""
    both = cells.years.all(axis=1)
    order = np.lexsort((-cells.weight, ~both, cells.group))
    return order[np.concatenate(([True], np.diff(cells.group[order]) != 0))]


def quarter_presence(rng: np.random.Generator, cells: Cells, totals: np.ndarray) -> np.ndarray:
    """Cells x 8 quarters: whether the cell has a row.

    Big cells are present more often; a cell is present at least once in the
    years it trades in, never in the others; each group's anchor cell always.
    """
    n_groups = len(totals)
    group_weight = np.bincount(cells.group, weights=cells.weight, minlength=n_groups)
    yearly = totals[cells.group] * cells.weight / group_weight[cells.group]
    p = PRESENCE_AT_1000_EUR + PRESENCE_PER_DECADE * np.log10(np.maximum(yearly, 1.0) / 1e3)
    p = np.clip(p, PRESENCE_MIN, 1.0)
    active = np.repeat(cells.years, 4, axis=1)
    present = (rng.random((len(p), len(SLOTS))) < p[:, None]) & active
    empty = np.flatnonzero(~present.any(axis=1))
    chosen = np.argmax(rng.random((len(empty), len(SLOTS))) * active[empty], axis=1)
    present[empty, chosen] = True
    present[anchor_cells(cells)] = True
    return present


def quarter_values(rng: np.random.Generator, cells: Cells, present: np.ndarray,
                   totals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell index, quarter slot 0-7, value in euros) of every row.

    Each cell's 2023 weight is its 2024 weight times its ratio; its quarters are
    gamma-distributed around their mean in the year (so the seasonality does not
    move the yearly sum); every group x year is then split and rounded to hit its
    total to the euro.
    """
    year_factor = np.stack([cells.ratio, np.ones(len(cells.ratio))], axis=1)
    quarter = rng.gamma(QUARTER_SHAPE, 1.0 / QUARTER_SHAPE, present.shape) * present
    by_year = quarter.reshape(len(quarter), len(YEARS), 4)
    counts = present.reshape(len(quarter), len(YEARS), 4).sum(axis=2, keepdims=True)
    mean = by_year.sum(axis=2, keepdims=True) / np.maximum(counts, 1)
    quarter = (by_year / np.where(mean > 0, mean, 1.0)).reshape(present.shape)
    weights = cells.weight[:, None] * np.repeat(year_factor, 4, axis=1) * quarter
    cell_idx, slot = np.nonzero(weights)
    row_group = cells.group[cell_idx] * len(YEARS) + slot // 4
    if (np.bincount(row_group, minlength=totals.size) == 0).any():
        raise RuntimeError("sample generator: a flux x département x year has no row")
    raw = weights[cell_idx, slot]
    group_sum = np.bincount(row_group, weights=raw, minlength=totals.size)
    targets = totals.ravel()
    values = round_groups(targets[row_group] * raw / group_sum[row_group], row_group, targets)
    return cell_idx, slot, values


def masses_of(rng: np.random.Generator, u: Universe, product: np.ndarray,
              values: np.ndarray) -> np.ndarray:
    """Masses in kg from a noisy unit value per A129 group (0 for electricity)."""
    unit = parse_table(UNIT_VALUES, 1)
    price = np.array([unit[a][0] for a in u.a129])[product]
    price = price * rng.lognormal(0.0, UNIT_VALUE_NOISE, len(product))
    safe = np.where(price > 0, price, 1.0)
    return np.where(price > 0, np.round(values / safe), 0).astype(np.int64)


def preliminary_quarter(rng: np.random.Generator, u: Universe, cells: Cells, rows: Rows,
                        slot: int) -> Rows:
    """The first, preliminary version of the quarter ``slot`` that a later publication revises.

    Some rows differ by a few tenths of a per cent, some small ones are missing
    (declared late), a few extra ones hold a cell seen earlier in the year and
    vanish in the revision. Anchor cells are never missing.
    """
    quarter = rows.select((rows.slot == slot) & (rows.value > 0))
    n = len(quarter.value)
    size = rng.uniform(REVISION_MIN, REVISION_MAX, n) * rng.choice([-1.0, 1.0], n)
    revised = rng.random(n) < REVISION_SHARE
    values = np.where(revised, np.maximum(np.round(quarter.value * (1 + size)), 1),
                      quarter.value).astype(np.int64)
    masses = np.round(quarter.mass * (values / quarter.value)).astype(np.int64)  # no overflow
    anchor = np.zeros(len(cells.group), dtype=bool)
    anchor[anchor_cells(cells)] = True
    small = quarter.value < np.median(quarter.value)
    missing = (rng.random(n) < REVISION_MISSING) & small & ~anchor[quarter.cell]
    kept = Rows(quarter.cell, quarter.slot, values, masses).select(~missing)

    in_quarter = np.zeros(len(cells.group), dtype=bool)
    in_quarter[quarter.cell] = True
    same_year = slot - slot % 4
    earlier = rows.select((rows.slot >= same_year) & (rows.slot < slot) & (rows.value > 0)
                          & ~in_quarter[rows.cell])
    latest_first = np.lexsort((-earlier.slot, earlier.cell))
    _, first = np.unique(earlier.cell[latest_first], return_index=True)
    candidates = earlier.select(latest_first[first])
    chosen = rng.random(len(candidates.cell)) < REVISION_EXTRA * n / max(len(candidates.cell), 1)
    extra = candidates.select(chosen)
    noise = rng.lognormal(0.0, REVISION_EXTRA_SPREAD, len(extra.value))
    extra_values = np.maximum(np.round(extra.value * noise), 1).astype(np.int64)
    extra_masses = masses_of(rng, u, cells.product[extra.cell], extra_values)
    return kept.concat(Rows(extra.cell, np.full(len(extra.cell), slot), extra_values,
                            extra_masses))


def rows_table(u: Universe, cells: Cells, rows: Rows) -> pa.Table:
    """The rows as a sorted pyarrow table (zero-value rows dropped).

    Columns: flux, trimestre, annee, departement, region, a129, cpf4, pays
    (dictionary-encoded strings or small ints) and valeur, masse (int64 euros, kg).
    Rows are sorted by flux, year, quarter, département, CPF4 and country.
    """
    n_deps = len(u.deps)
    group = cells.group[rows.cell]
    flux_idx, dep_idx = group // n_deps, group % n_deps
    year_idx, quarter_idx = rows.slot // 4, rows.slot % 4
    product, country = cells.product[rows.cell], cells.country[rows.cell]
    key = flux_idx.astype(np.int64)
    for index, size in ((year_idx, len(YEARS)), (quarter_idx, 4), (dep_idx, n_deps),
                        (product, len(u.cpf4)), (country, len(u.countries))):
        key = key * size + index
    order = np.argsort(key, kind="stable")
    order = order[rows.value[order] > 0]
    a129_codes, a129_of_product = np.unique(u.a129, return_inverse=True)
    region_codes, region_of_dep = np.unique([d.region_dgddi for d in u.deps],
                                            return_inverse=True)

    def coded(indices: np.ndarray, codes) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)),
                                              pa.array(list(codes), pa.string()))

    return pa.table({
        "flux": coded(flux_idx[order], FLOWS),
        "trimestre": pa.array((quarter_idx[order] + 1).astype(np.int8)),
        "annee": pa.array(np.array(YEARS, dtype=np.int16)[year_idx[order]]),
        "departement": coded(dep_idx[order], [d.code_dgddi for d in u.deps]),
        "region": coded(region_of_dep[dep_idx[order]], region_codes),
        "a129": coded(a129_of_product[product[order]], a129_codes),
        "cpf4": coded(product[order], u.cpf4),
        "pays": coded(country[order], u.countries),
        "valeur": pa.array(rows.value[order].astype(np.int64)),
        "masse": pa.array(rows.mass[order].astype(np.int64)),
    })


# ================================================================= text files
def data_file_chunks(rows: pa.Table, flux: str, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The DGDDI data file of one flux, in chunks: no header, ``;``, CRLF, UTF-8.

    Lines are built column-wise with pyarrow (no Python loop over rows).
    """
    table = rows.filter(pc.equal(pc.cast(rows["flux"], pa.string()), flux))
    separator = pa.scalar(";", pa.large_string())
    eol, nothing = pa.scalar(EOL, pa.large_string()), pa.scalar("", pa.large_string())
    for start in range(0, table.num_rows, chunk_rows):
        part = table.slice(start, chunk_rows)
        columns = [pc.cast(part[name].combine_chunks(), pa.large_string())
                   for name in part.column_names]
        lines = pc.binary_join_element_wise(*columns, separator)
        lines = pc.binary_join_element_wise(lines, eol, nothing)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:]
        first, last = int(offsets[0]), int(offsets[len(lines)])
        yield lines.buffers()[2].slice(first, last - first).to_pybytes()


def label_line(fields: list[str]) -> str:
    """One DGDDI label line: fields containing ``;`` or ``"`` are double-quoted."""
    out = []
    for field in fields:
        if ";" in field or '"' in field:
            field = '"' + field.replace('"', '""') + '"'
        out.append(field)
    return ";".join(out) + EOL


def label_text(rows: list[list[str]]) -> str:
    """A whole label file (CRLF after every line, the last one included)."""
    return "".join(label_line(r) for r in rows)


def label_files() -> dict[str, bytes]:
    """The four annex files, generated from the project's nomenclature tables,
    with DGDDI's quirks: BOM on A129, cp1252 for CPF4, CRLF everywhere."""
    def code_rows(table: str) -> list[list[str]]:
        return [[r["code"], r["libelle"], r["debut"], r["fin"]]
                for r in nomenclatures.read_table(f"{table}.csv")]

    deps = [[r["code_dgddi"], r["libelle_dgddi"], r["region_dgddi"], r["libelle_region_dgddi"]]
            for r in nomenclatures.read_table("departements.csv")]
    return {
        A129_FILE: b"\xef\xbb\xbf" + label_text(code_rows("a129")).encode("utf-8"),
        CPF4_FILE: label_text(code_rows("cpf4")).encode("cp1252"),
        PAYS_FILE: label_text(code_rows("pays")).encode("utf-8"),
        DEPARTEMENTS_FILE: label_text(deps).encode("utf-8"),
    }
