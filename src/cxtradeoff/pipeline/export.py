"""Exporting an executed notebook: self-contained HTML (nbconvert, the project's template)
and an A4 PDF printed by a headless Chromium (over its DevTools pipe)."""

from __future__ import annotations

import base64
import contextlib
import html
import shutil
import tempfile
import threading
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


#: switches a driver of headless Chromium sets for pages that render the same everywhere
#: (those Playwright sets, whose output the reports were checked against): colours in sRGB,
#: no scrollbar, no background work or throttling, no first-run or sign-in machinery
DRIVER_ARGS: tuple[str, ...] = (
    "--headless",
    "--disable-field-trial-config",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-back-forward-cache",
    "--disable-breakpad",
    "--disable-component-extensions-with-background-pages",
    "--no-default-browser-check",
    "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,"
    "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,"
    "ThirdPartyStoragePartitioning,OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,"
    "PreconnectToSearch",
    "--allow-pre-commit-input",
    "--disable-hang-monitor",
    "--disable-ipc-flooding-protection",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-renderer-backgrounding",
    "--force-color-profile=srgb",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--no-service-autorun",
    "--disable-search-engine-choice-screen",
    "--hide-scrollbars",
    "--mute-audio",
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,"
    "availablePointerTypes=4",
)
#: the generic font families of a Linux page (what ``serif`` or ``sans-serif`` resolve to)
FONT_FAMILIES = {
    "standard": "Times New Roman",
    "fixed": "Monospace",
    "serif": "Times New Roman",
    "sansSerif": "Arial",
    "cursive": "Comic Sans MS",
    "fantasy": "Impact",
}
#: A4 in inches, and CSS units in pixels (96 to the inch), as printToPDF takes them
A4_INCHES = (8.27, 11.7)
_PIXELS = {"px": 1.0, "in": 96.0, "cm": 37.8, "mm": 3.78}


def inches(length: str) -> float:
    """A CSS length (``18mm``, ``1in``, ``12px``) in inches.

    >>> round(inches("18mm"), 5), inches("1in"), inches("48px")
    (0.70875, 1.0, 0.5)
    """
    unit = length[-2:].lower()
    if unit in _PIXELS:
        return float(length[:-2]) * _PIXELS[unit] / 96
    return float(length) / 96


class PdfPrinter:
    """A headless Chromium that prints HTML files to A4 PDFs, driven over its DevTools
    pipe (:mod:`cxtradeoff.pipeline.cdp`: no Node.js driver beside it).

    Use it as a context manager; one browser, and one page, serve every report of a
    build. Only ``file:`` and ``data:`` URLs load when ``block_network`` is on.

    Examples
    --------
    >>> with PdfPrinter("/usr/bin/chromium") as printer:  # doctest: +SKIP
    ...     printer.print_pdf(Path("r.html"), Path("r.pdf"), title="Report")
    """

    def __init__(self, executable: str, *, block_network: bool = True) -> None:
        self.executable = executable
        self.block_network = block_network
        self._pipe: Any = None
        self._profile: Path | None = None
        self._version = ""
        self._session = ""
        self._loaded = threading.Event()
        self._crashed = ""

    def __enter__(self) -> PdfPrinter:
        from cxtradeoff.pipeline.cdp import DevToolsError, DevToolsPipe

        self._profile = Path(tempfile.mkdtemp(prefix="cx-chromium-"))
        log = self._profile / "chromium.log"
        args = [*DRIVER_ARGS, *CHROMIUM_ARGS, f"--user-data-dir={self._profile}", "about:blank"]
        try:
            self._pipe = DevToolsPipe(self.executable, args, log=log)
            product = self._pipe.send("Browser.getVersion", timeout=60)["product"]
        except (OSError, DevToolsError) as exc:
            detail = log.read_text(errors="replace").strip() if log.is_file() else ""
            self.__exit__(None, None, None)
            raise RenderError(
                f"could not start Chromium at {self.executable}: {exc}"
                + (f"\nBrowser logs:\n{detail}" if detail else "")
            ) from exc
        self._version = str(product).rpartition("/")[2]
        return self

    def __exit__(self, *exc: object) -> None:
        self._session = ""
        if self._pipe is not None:
            with contextlib.suppress(Exception):
                self._pipe.close()
            self._pipe = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    @property
    def browser_version(self) -> str:
        """The version Chromium reports, e.g. ``156.0.8078.73``."""
        return self._version

    def _ready_page(self) -> str:
        """The page every report is printed in (its DevTools session), opened on first use.

        One page serves every print: a new page per report would start a new renderer
        process each time, which costs more than the print itself (about half of the
        printing time and CPU of a build of the default reports).
        """
        if self._session:
            return self._session
        pipe = self._pipe
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        pipe.on("Page.loadEventFired", lambda params, sid: self._loaded.set())
        pipe.on("Inspector.targetCrashed", self._on_crash)
        for method, params in (
            ("Page.enable", {}),
            ("Page.setFontFamilies", {"fontFamilies": FONT_FAMILIES}),
            ("Emulation.setDeviceMetricsOverride",
             {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False}),
            ("Emulation.setEmulatedMedia", {"media": "print"}),  # laid out once, for print
        ):  # fmt: skip
            pipe.send(method, params, session=session)
        if self.block_network:
            pipe.on("Fetch.requestPaused", self._on_request)
            pipe.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session=session)
        self._session = session
        return session

    def _on_request(self, params: dict[str, Any], session: str) -> None:
        """Let ``file:`` and ``data:`` URLs load; refuse every other (in the pipe's thread)."""
        request = params.get("requestId")
        if str(params.get("request", {}).get("url", "")).startswith(("file:", "data:")):
            self._pipe.post("Fetch.continueRequest", {"requestId": request}, session=session)
        else:
            self._pipe.post("Fetch.failRequest", {"requestId": request,
                            "errorReason": "BlockedByClient"}, session=session)  # fmt: skip

    def _on_crash(self, params: dict[str, Any], session: str) -> None:
        self._crashed = "the page crashed (Inspector.targetCrashed)"
        self._loaded.set()

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
        from cxtradeoff.pipeline.cdp import DevToolsError

        layout = layout or PrintLayout()
        if self._pipe is None:
            raise RenderError("PdfPrinter must be used as a context manager")
        header = _HEADER.format(title=html.escape(title), subtitle=html.escape(subtitle))
        try:
            session = self._ready_page()
            self._loaded.clear()
            navigated = self._pipe.send(
                "Page.navigate", {"url": html_path.resolve().as_uri()}, session=session
            )
            if navigated.get("errorText"):
                raise DevToolsError(f"Page.navigate: {navigated['errorText']}")
            if not self._loaded.wait(timeout=60) or self._crashed:
                raise DevToolsError(self._crashed or "Page.navigate: the page did not load in 60 s")
            margin = layout.margin
            stream = self._pipe.send(
                "Page.printToPDF",
                {
                    "transferMode": "ReturnAsStream",
                    "landscape": False,
                    "displayHeaderFooter": layout.header_footer,
                    "headerTemplate": header if layout.header_footer else "",
                    "footerTemplate": _FOOTER if layout.header_footer else "",
                    "printBackground": True,
                    "scale": 1,
                    "paperWidth": A4_INCHES[0],
                    "paperHeight": A4_INCHES[1],
                    **{f"margin{side.title()}": inches(margin[side])
                       for side in ("top", "bottom", "left", "right")},
                    "pageRanges": "",
                    "preferCSSPageSize": False,
                    "generateTaggedPDF": False,
                    "generateDocumentOutline": False,
                },
                session=session,
                timeout=180,
            )["stream"]  # fmt: skip
            data = self._read_stream(stream, session)
        except BaseException:  # a page that failed is not used again
            self._session, self._crashed = "", ""
            raise
        try:
            atomic_write_bytes(pdf_path, data)
        except OSError as exc:
            raise OutputError.from_os_error(pdf_path, exc) from None

    def _read_stream(self, handle: str, session: str) -> bytes:
        chunks = []
        while True:
            chunk = self._pipe.send("IO.read", {"handle": handle, "size": 1 << 20}, session=session)
            data = chunk.get("data", "")
            chunks.append(base64.b64decode(data) if chunk.get("base64Encoded") else data.encode())
            if chunk.get("eof"):
                break
        self._pipe.post("IO.close", {"handle": handle}, session=session)
        return b"".join(chunks)


class PrinterThread:
    """A :class:`PdfPrinter` living in one thread of its own, relaunched when it fails.

    One page prints one report at a time; a one-thread executor queues the prints there
    while the build goes on elsewhere. A print that fails (Chromium crashed, or would not
    start) is retried once on a freshly launched browser; a second failure is a
    :class:`PrintError` for that report alone.
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
