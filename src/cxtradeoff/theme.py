"""One seaborn theme for every report, legible on screen and in print (A4).

Figures are sized for the printed page: :data:`PAGE_WIDTH_IN` is the width between the
margins the reports are printed with (A4, 12 mm each side), so a figure prints at its own
size and its type at the size set here (never below 8 pt). :data:`CHART_HEIGHT_IN` keeps a
chart, its heading and its caption within a third of a page, so that a chart that does
not fit at the bottom of a page never leaves more than a third of that page empty.
"""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: figure width in inches: the A4 text width (210 mm less two 12 mm margins, 186 mm)
PAGE_WIDTH_IN: float = 7.3
#: height of a chart in a report, in inches (about 53 mm: with its heading and caption,
#: less than a third of a page)
CHART_HEIGHT_IN: float = 2.1
#: the smallest type in a chart, in points (what prints; the print checks want >= 8)
SMALLEST_TYPE_PT: float = 8.5


def set_theme() -> None:
    """Apply the project's plotting theme (call once at the top of a notebook).

    Type is sized for print at :data:`PAGE_WIDTH_IN` (8.5 to 10.5 pt); figures saved as
    SVG keep their text as text (``svg.fonttype = none``), so it stays sharp, searchable
    and measurable in the PDF; ``savefig`` uses a tight bounding box so labels are never
    cut.
    """
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    mpl.rcParams.update(
        {
            "figure.figsize": (PAGE_WIDTH_IN, CHART_HEIGHT_IN),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "svg.fonttype": "none",
            "svg.hashsalt": "cxtradeoff",
            "font.size": 9.0,
            "axes.titleweight": "bold",
            "axes.titlesize": 10.0,
            "axes.labelsize": 9.0,
            "xtick.labelsize": SMALLEST_TYPE_PT,
            "ytick.labelsize": SMALLEST_TYPE_PT,
            "legend.fontsize": SMALLEST_TYPE_PT,
            "legend.title_fontsize": SMALLEST_TYPE_PT,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.family": "DejaVu Sans",
        }
    )
