"""Exporting an executed notebook: self-contained HTML (nbconvert, the project's template)
and an A4 PDF printed by a headless Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import html
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxtradeoff.errors import OutputError, PrintError, RenderError
from cxtradeoff.files import atomic_write_bytes
from cxtradeoff.paths import PACKAGE_DIR

TEMPLATE_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "cxtradeoff"

#: flags for a headless Chromium on a machine with no network but loopback
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
)

# --------------------------------------------------------------------------- HTML


def notebook_to_html(
    executed: Path, *, title: str | None = None, template: str = TEMPLATE_NAME
) -> str:
    """Render an executed notebook to one self-contained HTML page with code hidden.

    Images are embedded as data URIs and the page loads nothing from any other host
    (no MathJax, RequireJS, widget or Mermaid scripts; a Content-Security-Policy that
    allows only inline styles and data: images). ``template`` is a folder of
    ``templates/``: ``cxtradeoff`` (a full report) or ``brief`` (a one-page brief).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=template,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


# --------------------------------------------------------------------------- PDF

_HEADER = (
    '<div style="font-size:8pt;width:100%;padding:0 12mm;color:#555;'
    'font-family:DejaVu Sans,sans-serif;display:flex;justify-content:space-between">'
    "<span>{title}</span><span>{subtitle}</span></div>"
)
_FOOTER = (
    '<div style="font-size:8pt;width:100%;padding:0 12mm;color:#555;'
    'font-family:DejaVu Sans,sans-serif;text-align:right">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


@dataclass(frozen=True)
class PrintLayout:
    """How a template's pages are printed: page margins, and whether Chromium adds the
    running header (title, profile and date) and the page numbers."""

    header_footer: bool = True
    margin: dict[str, str] = field(
        default_factory=lambda: {"top": "18mm", "bottom": "16mm", "left": "12mm", "right": "12mm"}
    )


#: print layout by template; a one-page brief carries its own title and date, so it gets
#: the whole page, with no running header or page number
PRINT_LAYOUTS: dict[str, PrintLayout] = {
    TEMPLATE_NAME: PrintLayout(),
    "brief": PrintLayout(
        header_footer=False,
        margin={"top": "11mm", "bottom": "10mm", "left": "13mm", "right": "13mm"},
    ),
}


def print_layout(template: str) -> PrintLayout:
    """The print layout of a template (a full report's when it names none of its own)."""
    return PRINT_LAYOUTS.get(template, PRINT_LAYOUTS[TEMPLATE_NAME])


class PdfPrinter:
    """A headless Chromium, driven by Playwright, that prints HTML files to A4 PDFs.

    Use it as a context manager; one browser serves every report of a build.

    Examples
    --------
    >>> with PdfPrinter("/usr/bin/chromium") as printer:  # doctest: +SKIP
    ...     printer.print_pdf(Path("r.html"), Path("r.pdf"), title="Report")
    """

    def __init__(self, executable: str, *, block_network: bool = True) -> None:
        self.executable = executable
        self.block_network = block_network
        self._pw: Any = None
        self._browser: Any = None
        self._page: Any = None

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable, args=list(CHROMIUM_ARGS), headless=True
            )
        except Exception as exc:
            self._pw.stop()
            raise RenderError(f"could not start Chromium at {self.executable}: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self._page = None
        with contextlib.suppress(Exception):
            if self._browser is not None:
                self._browser.close()
        with contextlib.suppress(Exception):
            if self._pw is not None:
                self._pw.stop()

    @property
    def browser_version(self) -> str:
        """The version Chromium reports, e.g. ``156.0.8078.73``."""
        return str(self._browser.version) if self._browser is not None else ""

    def _ready_page(self) -> Any:
        """The page every report is printed in, opened on first use.

        One page serves every print: a new page per report would start a new renderer
        process each time, which costs more than the print itself (about half of the
        printing time and CPU of a build of the default reports).
        """
        if self._page is None:
            page = self._browser.new_page()
            if self.block_network:
                page.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith(("file:", "data:"))
                        else route.abort()
                    ),
                )
            page.emulate_media(media="print")  # lay the page out once, for print
            self._page = page
        return self._page

    def print_pdf(
        self,
        html_path: Path,
        pdf_path: Path,
        *,
        title: str,
        subtitle: str = "",
        layout: PrintLayout | None = None,
    ) -> None:
        """Print ``html_path`` to ``pdf_path`` (A4; by default a title block and page
        numbers, see :class:`PrintLayout`), atomically."""
        layout = layout or PrintLayout()
        if self._browser is None:
            raise RenderError("PdfPrinter must be used as a context manager")
        page = self._ready_page()
        try:
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            header = _HEADER.format(title=html.escape(title), subtitle=html.escape(subtitle))
            data = page.pdf(
                format="A4",
                print_background=True,
                display_header_footer=layout.header_footer,
                header_template=header if layout.header_footer else "",
                footer_template=_FOOTER if layout.header_footer else "",
                margin=layout.margin,
            )
        except BaseException:  # a page that failed is not used again
            self._page = None
            with contextlib.suppress(Exception):
                page.close()
            raise
        try:
            atomic_write_bytes(pdf_path, data)
        except OSError as exc:
            raise OutputError.from_os_error(pdf_path, exc) from None


class PrinterThread:
    """A :class:`PdfPrinter` living in one thread of its own, relaunched when it fails.

    Playwright's synchronous API must be driven from the thread that started it; a
    one-thread executor keeps the browser there while the build goes on elsewhere. A
    print that fails (Chromium crashed, or would not start) is retried once on a freshly
    launched browser; a second failure is a :class:`PrintError` for that report alone.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cx-pdf")
        self._printer: PdfPrinter | None = None
        self.launches = 0

    def _ensure(self) -> PdfPrinter:
        if self._printer is None:
            printer = PdfPrinter(self.executable)
            self.launches += 1
            printer.__enter__()
            self._printer = printer
        return self._printer

    def _discard(self) -> None:
        if self._printer is not None:
            with contextlib.suppress(Exception):
                self._printer.__exit__(None, None, None)
            self._printer = None

    def _open(self) -> str:
        return self._ensure().browser_version

    def _print(
        self, html_path: Path, pdf_path: Path, title: str, subtitle: str, layout: PrintLayout
    ) -> float:
        """Print (retried once on a relaunched browser); the seconds it took."""
        errors: list[BaseException] = []
        start = time.perf_counter()
        for _attempt in range(2):
            try:
                self._ensure().print_pdf(
                    html_path, pdf_path, title=title, subtitle=subtitle, layout=layout
                )
                return time.perf_counter() - start
            except OutputError:
                raise
            except Exception as exc:  # crashed, closed, would not start: relaunch once
                errors.append(exc)
                self._discard()
        raise PrintError(
            f"PDF not printed: Chromium failed twice (relaunched in between): "
            f"{first_line(errors[-1])}",
            detail="\n\n".join(f"{type(e).__name__}: {e}" for e in errors),
        )

    def start(self) -> Future[str]:
        """Launch Chromium in the background (the first print waits for it); its version."""
        return self._pool.submit(self._open)

    def submit(
        self,
        html_path: Path,
        pdf_path: Path,
        *,
        title: str,
        subtitle: str,
        template: str = TEMPLATE_NAME,
    ) -> Future[float]:
        """Print in the printer's thread (the layout of ``template``); the future ends when
        the PDF is written, with the seconds the print took (a relaunch included)."""
        layout = print_layout(template)
        return self._pool.submit(self._print, html_path, pdf_path, title, subtitle, layout)

    def version(self) -> str | None:
        """The version of the browser running now (None before it starts)."""
        return self._printer.browser_version if self._printer is not None else None

    def close(self) -> None:
        self._pool.submit(self._discard).result()
        self._pool.shutdown(wait=True)


def first_line(error: BaseException) -> str:
    """An error's first line, short: Playwright's messages append the browser's log."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
