"""The book's visual identity: palette, fonts, sizes, the Altair theme, source lines."""

from __future__ import annotations

from typing import Any

import altair as alt
import fontpkg_lato

from tradebook.formatting import VEGA_FORMAT_LOCALE

THEME_NAME = "tradebook"

# Palette: imports blue, exports violet, balance red/green, red Sankey links.
IMPORTS = "#2b6cb0"
EXPORTS = "#7a3e9d"
NEGATIVE = "#c0392b"
POSITIVE = "#1e8449"
RED_LINK = "#d62728"
GREY_LINK = "#9aa5b1"
NODE_OTHER = "#8c959f"
TEXT = "#1f2933"
WHITE = "#ffffff"
MUTED = "#52606d"
GRID = "#e4e7eb"

# Treemap shades, darkest (largest products) first; light ones take dark text.
IMPORT_SHADES = ("#1a4a80", "#2b6cb0", "#5b97d1", "#7aa9da", "#a9c8ea", "#d2e2f4")
EXPORT_SHADES = ("#52226e", "#7a3e9d", "#9660b5", "#b48acb", "#d0b4e0", "#e8daf0")
OTHERS_SHADE = "#c9ced6"

FLUX_COLORS = {"importations": IMPORTS, "exportations": EXPORTS}
FLUX_SHADES = {"importations": IMPORT_SHADES, "exportations": EXPORT_SHADES}

# Fonts and sizes. In the browser: Liberation Sans has Arial's metrics; DejaVu Sans
# carries the narrow no-break space and the minus sign when the first fonts lack them.
FONT = "Marianne, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
# Drawn offline (vl-convert's SVG and PNG, the PDF fiches): Lato, shipped by the
# pinned fontpkg-lato wheel (SIL OFL 1.1, full French coverage), so that a chart is
# measured and drawn the same on every machine, whatever its system fonts.
STATIC_FONT = fontpkg_lato.FAMILY
STATIC_FONT_DIR = fontpkg_lato.ROOT / "files"
MAX_WIDTH = 600  # px, labels included
TITLE_SIZE = 15
SUBTITLE_SIZE = 12
LABEL_SIZE = 11
SMALL_SIZE = 10
SOURCE_SIZE = 10

FICTITIOUS_NOTE = "Données fictives : échantillon de démonstration, ne pas citer"
PARTIAL_NOTE = "année partielle"


def source_lines(annee: int, donnees_fictives: bool = False,
                 annee_partielle: bool = False) -> list[str]:
    """The source line (``Source : DGDDI, 2024``, partial-year note) and, for the
    sample, the fictitious-data warning on a line of its own."""
    lines = [f"Source : DGDDI, {annee}" + (f" ({PARTIAL_NOTE})" if annee_partielle else "")]
    if donnees_fictives:
        lines.append(FICTITIOUS_NOTE)
    return lines


def source_line(annee: int, donnees_fictives: bool = False, annee_partielle: bool = False) -> str:
    """The source lines as one sentence, for text outside charts."""
    return ". ".join(source_lines(annee, donnees_fictives, annee_partielle))


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_color_on(fill: str) -> str:
    """White or the dark text colour, whichever contrasts more with ``fill``."""
    return WHITE if contrast_ratio(fill, WHITE) >= contrast_ratio(fill, TEXT) else TEXT


def theme_config() -> dict[str, Any]:
    """The Vega-Lite config of the book's theme (French number locale included)."""
    axis = {
        "labelFont": FONT, "titleFont": FONT, "labelFontSize": LABEL_SIZE,
        "titleFontSize": LABEL_SIZE, "labelColor": TEXT, "titleColor": MUTED,
        "titleFontWeight": "normal", "gridColor": GRID, "domainColor": "#9aa5b1",
        "tickColor": "#9aa5b1",
    }
    return {
        "config": {
            "font": FONT,
            "locale": {"number": dict(VEGA_FORMAT_LOCALE)},
            "background": "white",
            "padding": 8,
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 300},
            "title": {
                "font": FONT, "fontSize": TITLE_SIZE, "fontWeight": "bold", "color": TEXT,
                "anchor": "start", "subtitleFont": FONT, "subtitleFontSize": SUBTITLE_SIZE,
                "subtitleColor": MUTED, "subtitlePadding": 4, "offset": 10,
            },
            "axis": axis,
            "legend": {
                "labelFont": FONT, "titleFont": FONT, "labelFontSize": LABEL_SIZE,
                "titleFontSize": LABEL_SIZE, "labelColor": TEXT, "orient": "top",
                "direction": "horizontal", "title": None, "symbolType": "square",
            },
            "text": {"font": FONT, "fontSize": LABEL_SIZE, "color": TEXT},
        }
    }


@alt.theme.register(THEME_NAME, enable=False)
def _tradebook_theme() -> alt.theme.ThemeConfig:
    """Altair entry point of the theme."""
    return theme_config()  # type: ignore[return-value]


def enable_theme() -> None:
    """Make the book's theme the active Altair theme (idempotent)."""
    if alt.theme.active != THEME_NAME:
        alt.theme.enable(THEME_NAME)
