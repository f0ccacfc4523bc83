"""One seaborn theme for every report, legible on screen and in print (A4)."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: figure width in inches that fits an A4 page with margins
PAGE_WIDTH_IN: float = 7.5


def set_theme() -> None:
    """Apply the project's plotting theme (call once at the top of a notebook).

    Figures are drawn as PNG at 150 dpi with fonts large enough to read on an A4
    print-out; ``savefig`` uses a tight bounding box so labels are never cut.
    """
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=1.05)
    mpl.rcParams.update(
        {
            "figure.figsize": (PAGE_WIDTH_IN, 4.2),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 9.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.family": "DejaVu Sans",
        }
    )
