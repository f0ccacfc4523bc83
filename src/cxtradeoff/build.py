"""Former home of the build; it now lives in :mod:`cxtradeoff.pipeline.build`.

Kept as an alias so that existing imports keep working; new code imports
:mod:`cxtradeoff.pipeline`.
"""

from cxtradeoff.pipeline.build import build
from cxtradeoff.pipeline.finish import render_index

__all__ = ["build", "render_index"]
