"""French number formats: exact characters (codepoints) of the outputs."""

from __future__ import annotations

import pytest

from tradebook.formatting import (
    VEGA_FORMAT_LOCALE,
    common_unit,
    format_eur,
    format_number,
    format_percent,
    format_signed_eur,
    french_spacing,
)

NNBSP, NBSP, MINUS = "\u202f", "\u00a0", "\u2212"


def codepoints(text: str) -> list[str]:
    """``U+XXXX`` names of the characters of ``text`` (readable assertion diffs)."""
    return [f"U+{ord(ch):04X}" for ch in text]


@pytest.mark.parametrize("value, unit, expected", [
    (1_446_300_000, "auto", f"1{NNBSP}446,3{NBSP}M€"),            # the ANCT example
    (12_345_678_901, "auto", f"12{NNBSP}345,7{NBSP}M€"),          # billions stay in M€
    (1_000_000_000_000, "auto", f"1{NNBSP}000{NNBSP}000,0{NBSP}M€"),
    (-3_100_000, "auto", f"{MINUS}3,1{NBSP}M€"),                  # real minus sign
    (1_000_000, "auto", f"1,0{NBSP}M€"),
    (999_999, "auto", f"1{NNBSP}000,0{NBSP}k€"),                  # below 1 M€: k€
    (856_234, "auto", f"856,2{NBSP}k€"),
    (-1_049, "auto", f"{MINUS}1,0{NBSP}k€"),
    (999, "auto", f"999{NBSP}€"),
    (0, "auto", f"0{NBSP}€"),
    (1_446_300_000, "k€", f"1{NNBSP}446{NNBSP}300,0{NBSP}k€"),    # forced unit
    (50_000, "M€", f"0,1{NBSP}M€"),
    (-40_000, "M€", f"{MINUS}40,0{NBSP}k€"),                      # under 0,05 M€: k€
    (5_122, "M€", f"5,1{NBSP}k€"),                                # never "0,0 M€"
    (49_999, "M€", f"50,0{NBSP}k€"),
    (0, "M€", f"0{NBSP}€"),
    (30, "k€", f"30{NBSP}€"),                                     # under 0,05 k€: €
    (1_234_567, "€", f"1{NNBSP}234{NNBSP}567{NBSP}€"),
    (2_500_000.0, "auto", f"2,5{NBSP}M€"),                        # floats too
    (1_250_000, "M€", f"1,3{NBSP}M€"),                            # half rounds up
])
def test_format_eur_exact_characters(value, unit, expected):
    assert codepoints(format_eur(value, unit)) == codepoints(expected)


@pytest.mark.parametrize("value, expected", [
    (12_400_000, f"+12,4{NBSP}M€"),
    (-3_100_000, f"{MINUS}3,1{NBSP}M€"),
    (-2_345_600_000, f"{MINUS}2{NNBSP}345,6{NBSP}M€"),
    (0, f"0{NBSP}€"),
    (512, f"+512{NBSP}€"),
])
def test_format_signed_eur_puts_the_sign_in_the_text(value, expected):
    assert codepoints(format_signed_eur(value)) == codepoints(expected)


def test_small_signed_amounts_keep_their_sign_in_a_smaller_unit():
    assert format_signed_eur(40_000, "M€") == f"+40,0{NBSP}k€"
    assert format_signed_eur(-40_000, "M€") == f"{MINUS}40,0{NBSP}k€"
    assert format_signed_eur(0, "M€") == f"0{NBSP}€"


@pytest.mark.parametrize("fraction, decimals, expected", [
    (0.037, 1, f"3,7{NBSP}%"),
    (1.0, 1, f"100,0{NBSP}%"),
    (0.0, 1, f"0{NBSP}%"),                         # nothing at all
    (0.00049, 1, f"0,049{NBSP}%"),                 # under 1 %: two significant digits
    (0.0074, 1, f"0,74{NBSP}%"),
    (0.0025, 1, f"0,25{NBSP}%"),
    (0.00001, 1, f"0,0010{NBSP}%"),                # never "0,0 %" for a non-zero share
    (0.00995, 1, f"1,0{NBSP}%"),                   # rounds up to 1 %: one decimal
    (-0.0074, 1, f"{MINUS}0,74{NBSP}%"),
    (-0.05, 1, f"{MINUS}5,0{NBSP}%"),
    (12.5, 0, f"1{NNBSP}250{NBSP}%"),
    (0.12345, 2, f"12,35{NBSP}%"),
    (None, 1, "–"),
])
def test_format_percent_exact_characters(fraction, decimals, expected):
    assert codepoints(format_percent(fraction, decimals)) == codepoints(expected)


def test_format_number_groups_with_narrow_no_break_space():
    expected = f"{MINUS}1{NNBSP}234{NNBSP}567,89"
    assert codepoints(format_number(-1234567.891, 2)) == codepoints(expected)
    assert format_number(5, 0) == "5"


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unité inconnue"):
        format_eur(1, "Mds")


def test_common_unit_is_the_unit_of_the_largest_amount():
    assert common_unit([12, -3_500_000, 900]) == "M€"
    assert common_unit([12, 900]) == "€"
    assert common_unit([]) == "€"


def test_vega_locale_uses_the_same_characters_as_python():
    assert VEGA_FORMAT_LOCALE["decimal"] == ","
    assert VEGA_FORMAT_LOCALE["thousands"] == NNBSP
    assert VEGA_FORMAT_LOCALE["grouping"] == [3]
    assert VEGA_FORMAT_LOCALE["currency"] == ["", f"{NBSP}€"]
    assert VEGA_FORMAT_LOCALE["percent"] == f"{NBSP}%"
    assert VEGA_FORMAT_LOCALE["minus"] == MINUS


def test_vega_renders_numbers_like_python():
    """A chart formatting numbers in Vega (d3-format with our locale) shows the
    same characters as the Python formatter."""
    vl_convert = pytest.importorskip("vl_convert")
    spec = {
        "data": {"values": [{"v": -1446.3}, {"v": 0.037}]},
        "transform": [{"calculate": "format(datum.v, datum.v < 0 ? ',.1f' : '.1%')",
                       "as": "texte"}],
        "mark": "text", "encoding": {"text": {"field": "texte"}, "y": {"field": "texte"}},
    }
    scene = vl_convert.vegalite_to_scenegraph(spec, format_locale=VEGA_FORMAT_LOCALE)
    texts = set()

    def collect(node):
        if isinstance(node, dict):
            if node.get("marktype") == "text" and node.get("role") == "mark":
                texts.update(item["text"] for item in node["items"])
            for item in node.get("items", []):
                collect(item)

    collect(scene["scenegraph"])
    assert format_number(-1446.3, 1) in texts
    assert format_percent(0.037) in texts


def test_chart_config_locale_alone_formats_like_python():
    """In a browser there is no ``format_locale=``: the chart's own
    ``config.locale`` (set by the book's theme) must suffice."""
    vl_convert = pytest.importorskip("vl_convert")
    spec = {
        "config": {"locale": {"number": VEGA_FORMAT_LOCALE}},
        "data": {"values": [{"v": -1446.3}]},
        "transform": [{"calculate": "format(datum.v, ',.1f')", "as": "texte"}],
        "mark": "text", "encoding": {"text": {"field": "texte"}},
    }
    scene = vl_convert.vegalite_to_scenegraph(spec)
    group = scene["scenegraph"]["items"][0]["items"]
    texts = [item["text"] for mark in group if mark.get("marktype") == "text"
             for item in mark["items"]]
    assert texts == [format_number(-1446.3, 1)]


def test_french_spacing_before_punctuation_and_inside_quotes():
    text = french_spacing("Clé de lecture : « Autres » ; vraiment ? oui ! http://x.fr")
    assert codepoints(text) == codepoints(
        f"Clé de lecture{NBSP}: «{NBSP}Autres{NBSP}»{NNBSP}; vraiment{NNBSP}? oui{NNBSP}! "
        "http://x.fr")
    assert french_spacing("«Autres»") == f"«{NBSP}Autres{NBSP}»"
