"""Former home of notebook execution and export; they now live in
:mod:`cxtradeoff.pipeline.kernels` and :mod:`cxtradeoff.pipeline.export`.

Kept as an alias so that existing imports keep working; new code imports
:mod:`cxtradeoff.pipeline`.
"""

from cxtradeoff.pipeline.export import PdfPrinter, notebook_to_html
from cxtradeoff.pipeline.kernels import WarmKernel, execute_notebook

__all__ = ["PdfPrinter", "WarmKernel", "execute_notebook", "notebook_to_html"]
