"""French number formats, one source for Python text and for Vega charts.

Python text goes through babel (locale ``fr_FR``); charts get the same
conventions as a d3-format locale (:data:`VEGA_FORMAT_LOCALE`), set in the
chart config (``config.locale.number``) and passed to vl-convert for static
images. Conventions: narrow no-break space (U+202F) between thousands, decimal
comma, no-break space (U+00A0) before a unit or ``%``, real minus sign (U+2212).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Iterable

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

LOCALE = "fr_FR"
NNBSP = "\u202f"  # thousands separator
NBSP = "\u00a0"  # before a unit or the percent sign
MINUS = "\u2212"  # typographic minus sign

UNITS: dict[str, tuple[int, int]] = {
    # unit -> (divisor in euros, decimals)
    "Md€": (1_000_000_000, 1),
    "M€": (1_000_000, 1),
    "k€": (1_000, 1),
    "€": (1, 0),
}

VEGA_FORMAT_LOCALE: dict[str, object] = {
    "decimal": ",",
    "thousands": NNBSP,
    "grouping": [3],
    "currency": ["", NBSP + "€"],
    "percent": NBSP + "%",
    "minus": MINUS,
    "nan": "NaN",
}


def auto_unit(value_eur: float) -> str:
    """The unit the fiche uses for one amount: M€ from 1 M€ up (as the ANCT
    fiches do, billions included), k€ from 1 k€, euros below."""
    size = abs(value_eur)
    if size >= 1_000_000:
        return "M€"
    if size >= 1_000:
        return "k€"
    return "€"


def common_unit(values: Iterable[float]) -> str:
    """One unit for a whole column or chart axis: the unit of its largest amount."""
    largest = max((abs(v) for v in values), default=0)
    return auto_unit(largest)


def format_number(value: float | Decimal, decimals: int = 1) -> str:
    """``1446.3`` -> ``1 446,3`` (U+202F), with a real minus sign; never ``−0,0``."""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    quantum = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(quantum, rounding="ROUND_HALF_UP")
    if rounded == 0:
        rounded = abs(rounded)
    text = _decimal_pattern(decimals).apply(rounded, _locale(), group_separator=True)
    return text.replace("-", MINUS).replace("\u00a0", NNBSP)


@lru_cache(maxsize=None)
def _locale() -> Locale:
    """The French locale, parsed once (thousands of numbers are formatted per page)."""
    return Locale.parse(LOCALE)


@lru_cache(maxsize=None)
def _decimal_pattern(decimals: int) -> NumberPattern:
    """babel's number pattern with ``decimals`` fixed decimals, parsed once."""
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals > 0 else ""))


def _scaled(value_eur: float, unit: str) -> tuple[Decimal, int]:
    """Amount in ``unit`` (exact decimal arithmetic) and its number of decimals."""
    if unit not in UNITS:
        raise ValueError(f"unité inconnue : {unit!r} (attendu : {', '.join(UNITS)} ou auto)")
    divisor, decimals = UNITS[unit]
    amount = Decimal(str(value_eur)) if isinstance(value_eur, float) else Decimal(int(value_eur))
    return amount / divisor, decimals


SMALL_FRACTION = Decimal("0.05")  # below 0,05 of a unit, an amount takes a smaller unit


def shown_unit(value_eur: float, unit: str = "auto") -> str:
    """The unit an amount is shown in: ``unit`` (or the automatic one), unless the
    amount is under 0,05 of it, then the automatic unit (``5 122 €``, never ``0,0 M€``)."""
    if unit == "auto":
        return auto_unit(value_eur)
    if unit not in UNITS:
        raise ValueError(f"unité inconnue : {unit!r} (attendu : {', '.join(UNITS)} ou auto)")
    divisor = UNITS[unit][0]
    if abs(Decimal(str(value_eur))) < SMALL_FRACTION * divisor:
        return auto_unit(value_eur)
    return unit


def format_eur(value_eur: float, unit: str = "auto") -> str:
    """``1446300000`` -> ``1 446,3 M€``; ``-3100000`` -> ``−3,1 M€``; ``0`` -> ``0 €``.

    ``unit`` is the unit of a whole table or chart; an amount too small for it
    (under 0,05 of the unit) is shown in the unit that suits it.
    """
    unit = shown_unit(value_eur, unit)
    amount, decimals = _scaled(value_eur, unit)
    return f"{format_number(amount, decimals)}{NBSP}{unit}"


def format_signed_eur(value_eur: float, unit: str = "auto") -> str:
    """Amount with an explicit sign: ``+12,4 M€``, ``−3,1 M€``; zero has no sign."""
    text = format_eur(value_eur, unit)
    if text.startswith(MINUS) or _is_zero(text):
        return text
    return "+" + text


def _is_zero(text: str) -> bool:
    """True when a formatted amount shows only zeros (``0 €``, ``0,0 M€``)."""
    return not any(ch in "123456789" for ch in text)


def format_percent(fraction: float | None, decimals: int = 1) -> str:
    """``0.037`` -> ``3,7 %`` (U+00A0 before ``%``); under 1 %, two significant digits
    (``0,74 %``, ``0,0031 %``: a non-zero share never shows as ``0,0 %``); zero -> ``0 %``;
    ``None`` -> ``–``.
    """
    if fraction is None:
        return "–"
    percent = Decimal(str(fraction)) * 100
    if percent == 0:
        return f"0{NBSP}%"  # nothing at all: never « 0,0 % », which reads as rounded
    if abs(percent) < 1:
        small = _significant(percent, 2)
        if abs(small) < 1:
            return f"{format_number(small, max(0, -small.as_tuple().exponent))}{NBSP}%"
    return f"{format_number(percent, decimals)}{NBSP}%"


def format_decimal(value: float) -> str:
    """A plain decimal number without trailing zeros: ``0.4`` -> ``0,4``, ``2.0`` -> ``2``."""
    text = format_number(Decimal(str(value)).normalize(), max(0, -Decimal(str(value))
                                                            .normalize().as_tuple().exponent))
    return text


def format_threshold_percent(fraction: float) -> str:
    """A rule's threshold as a percentage without trailing zeros: ``0.5`` -> ``50 %``."""
    return f"{format_decimal(Decimal(str(fraction)) * 100)}{NBSP}%"


def _significant(number: Decimal, digits: int) -> Decimal:
    """``number`` rounded half up to ``digits`` significant digits."""
    exponent = number.adjusted() - digits + 1
    return number.quantize(Decimal(1).scaleb(exponent), rounding="ROUND_HALF_UP")


_SPACE_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:")
_SPACE_BEFORE_MARK = re.compile(r"[ \u00a0\u202f]+([;!?])")
_AFTER_OPENING_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSING_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def french_spacing(text: str) -> str:
    """French typography for generated text: a no-break space before ``:`` and inside
    « », a narrow no-break space before ``;`` ``!`` ``?`` (where the text has a space)."""
    text = _SPACE_BEFORE_COLON.sub(NBSP + ":", text)
    text = _SPACE_BEFORE_MARK.sub(NNBSP + r"\1", text)
    text = _AFTER_OPENING_QUOTE.sub("«" + NBSP, text)
    return _BEFORE_CLOSING_QUOTE.sub(NBSP + "»", text)
