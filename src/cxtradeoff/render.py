"""Execute a notebook with papermill and render it to self-contained HTML and to PDF.

The pieces the build (:mod:`cxtradeoff.build`) puts together: files written atomically
and moved into place only when complete, a kernel run, an HTML export, a PDF print.

Kernels talk to papermill over ``ipc`` (Unix sockets in a private folder) rather than
TCP ports, so several notebooks can run at once without the port race that makes
kernels fail with "address already in use".
"""

from __future__ import annotations

import contextlib
import html
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cxtradeoff.browser import CHROMIUM_ARGS, require_chromium
from cxtradeoff.errors import RenderError
from cxtradeoff.files import atomic_write_bytes
from cxtradeoff.paths import KERNEL_NAME, PACKAGE_DIR

TEMPLATE_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "cxtradeoff"


# --------------------------------------------------------------------------- execute


def _ipc_manager_class(sockets: Path, cwd: list[Path], clients: list[Any]) -> type:
    """A kernel manager class whose kernel listens on Unix sockets in ``sockets``.

    ``cwd[0]`` is the kernel's working folder, set on the process itself at launch:
    papermill's own cwd option changes this whole process's folder, which threads
    would race on. Every client made for the kernel is recorded in ``clients`` so
    that its channels can be closed after a run on a kernel kept warm.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.update(transport="ipc", ip=str(sockets / "k"))
            kwargs.setdefault("connection_file", str(sockets / "kernel.json"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # The kernel's own log goes to a file, not to the user's terminal; a kernel
            # that dies says why in the error message.
            log = (sockets / "kernel.log").open("ab")
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            kw.setdefault("stdin", subprocess.DEVNULL)
            kw["cwd"] = str(cwd[0])
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            clients.append(made)
            return made

    return IpcKernelManager


#: run (without history) in a kept kernel before each notebook: the notebook then starts
#: from an empty namespace, no figure, the matplotlib settings the kernel started with,
#: execution count 1, in its own folder; imported modules stay loaded (the point).
_RESET_CODE = """
import os as _cx_os
import matplotlib as _cx_mpl
import matplotlib.pyplot as _cx_plt
_cx_plt.close("all")
if not hasattr(_cx_mpl, "_cx_rc_at_start"):
    _cx_mpl._cx_rc_at_start = dict(_cx_mpl.rcParams)
else:
    _cx_mpl.rcParams.update(_cx_mpl._cx_rc_at_start)
_cx_os.chdir({cwd!r})
get_ipython().reset(new_session=True)
"""


class WarmKernel:
    """A kernel kept alive across notebooks run one after the other in one thread.

    Starting a kernel and importing pandas, matplotlib and the package costs about as
    much as running a report notebook; a build runs one kernel per worker and resets
    it between notebooks (see ``_RESET_CODE``) instead of starting a new one. A kernel
    that died, or whose reset failed, is replaced by a fresh one.
    """

    def __init__(self, *, kernel_name: str = KERNEL_NAME) -> None:
        self.kernel_name = kernel_name
        self.km: Any = None
        self.sockets: Path | None = None
        self.cwd: list[Path] = [Path.cwd()]
        self.clients: list[Any] = []
        self.runs = 0

    def _start(self, cwd: Path) -> None:
        from jupyter_core.utils import run_sync

        self.shutdown()
        self.sockets = Path(tempfile.mkdtemp(prefix="cxk-"))
        self.cwd[0] = cwd
        self.clients = []
        self.km = _ipc_manager_class(self.sockets, self.cwd, self.clients)(
            kernel_name=self.kernel_name
        )
        run_sync(self.km.start_kernel)()
        self.runs = 0

    async def _reset(self, cwd: Path) -> None:
        client = self.km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive(
                _RESET_CODE.format(cwd=str(cwd)),
                store_history=False,
                timeout=60,
                output_hook=lambda msg: None,
            )
            if reply["content"]["status"] != "ok":
                raise RenderError(f"kernel reset failed: {reply['content'].get('evalue', '')}")
        finally:
            client.stop_channels()

    def prepare(self, cwd: Path) -> Any:
        """A ready kernel manager for the next notebook, run in folder ``cwd``."""
        from jupyter_core.utils import run_sync

        if self.km is None or not run_sync(self.km.is_alive)():
            self._start(cwd)
        try:
            run_sync(self._reset)(cwd)
        except Exception:  # a kernel that cannot be reset is replaced
            self._start(cwd)
            run_sync(self._reset)(cwd)
        return self.km

    def release(self) -> None:
        """After a run: close the channels papermill's client left open."""
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.stop_channels()
        self.clients.clear()
        self.runs += 1

    def shutdown(self) -> None:
        """Stop the kernel and remove its sockets (call from the thread that used it)."""
        from jupyter_core.utils import run_sync

        if self.km is not None:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
            self.km = None
        self.release()
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)
            self.sockets = None

    def close(self) -> None:
        """Shut down and close this thread's event loop: the worker is done."""
        self.shutdown()
        _close_thread_loop()

    @property
    def log_file(self) -> Path | None:
        return self.sockets / "kernel.log" if self.sockets else None


def execute_notebook(
    notebook: Path,
    output: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    cwd: Path | None = None,
    log_output: bool = False,
    execution_timeout: int = 600,
    warm: WarmKernel | None = None,
) -> None:
    """Run ``notebook`` in a Jupyter kernel through papermill and save it to ``output``.

    Parameters
    ----------
    notebook
        The notebook to run; its cell tagged ``parameters`` receives ``parameters``.
    output
        Where the executed notebook is written (also on failure, with the error in it).
    kernel_name
        The Jupyter kernel; the project's own kernel by default.
    cwd
        Working folder of the kernel; the notebook's folder by default.
    warm
        A kernel kept across notebooks (reset before this one); a new kernel, shut down
        afterwards, when None.

    Raises
    ------
    RenderError
        The notebook raised: the message names the notebook and the failing cell.
    """
    import papermill as pm

    if not notebook.is_file():
        raise RenderError(f"{notebook}: notebook not found")
    output.parent.mkdir(parents=True, exist_ok=True)
    kernel_cwd = (cwd or notebook.parent).resolve()
    sockets = Path(tempfile.mkdtemp(prefix="cxk-")) if warm is None else None
    engine: dict[str, Any] = {}
    log: Path | None = None
    try:
        if warm is None:
            assert sockets is not None
            engine["kernel_manager_class"] = _ipc_manager_class(sockets, [kernel_cwd], [])
            log = sockets / "kernel.log"
        else:
            engine["km"] = warm.prepare(kernel_cwd)
            kernel_name = warm.kernel_name
            log = warm.log_file
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=dict(parameters or {}),
            kernel_name=kernel_name,
            cwd=None,
            progress_bar=False,
            log_output=log_output,
            execution_timeout=execution_timeout,
            **engine,
        )
    except pm.PapermillExecutionError as exc:
        first_line = (exc.source or "").strip().splitlines()[:1]
        raise RenderError(
            f"{notebook.name}: cell {exc.cell_index + 1} of the executed notebook (execution count {exc.exec_count}"
            f"{', ' + repr(first_line[0][:60]) if first_line else ''}) failed with "
            f"{exc.ename}: {exc.evalue} (executed copy: {output})"
        ) from None
    except Exception as exc:  # kernel died, missing kernel, bad parameters...
        tail = (
            log.read_text(errors="replace").strip().splitlines()[-5:]
            if log and log.is_file()
            else []
        )
        detail = ("; kernel log: " + " | ".join(tail)) if tail else ""
        raise RenderError(f"{notebook.name}: could not be executed: {exc}{detail}") from exc
    finally:
        if warm is None:
            assert sockets is not None
            shutil.rmtree(sockets, ignore_errors=True)
            _close_thread_loop()
        else:
            warm.release()


def _close_thread_loop() -> None:
    """Close the event loop papermill left on this thread (it would leak its sockets)."""
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    if not loop.is_running():
        loop.close()


# --------------------------------------------------------------------------- HTML


def notebook_to_html(executed: Path, *, title: str | None = None) -> str:
    """Render an executed notebook to one self-contained HTML page with code hidden.

    Images are embedded as data URIs and the page loads nothing from any other host
    (no MathJax, RequireJS, widget or Mermaid scripts; a Content-Security-Policy that
    allows only inline styles and data: images).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
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
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#555;'
    'font-family:DejaVu Sans,sans-serif;display:flex;justify-content:space-between">'
    "<span>{title}</span><span>{subtitle}</span></div>"
)
_FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#555;'
    'font-family:DejaVu Sans,sans-serif;text-align:right">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


class PdfPrinter:
    """A headless Chromium, driven by Playwright, that prints HTML files to A4 PDFs.

    Use it as a context manager; one browser serves every report of a build.

    Examples
    --------
    >>> with PdfPrinter() as printer:  # doctest: +SKIP
    ...     printer.print_pdf(Path("r.html"), Path("r.pdf"), title="Report")
    """

    def __init__(self, *, executable: str | None = None, block_network: bool = True) -> None:
        self.executable = executable or require_chromium()
        self.block_network = block_network
        self._pw: Any = None
        self._browser: Any = None

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

    def print_pdf(self, html_path: Path, pdf_path: Path, *, title: str, subtitle: str = "") -> None:
        """Print ``html_path`` to ``pdf_path`` (A4, title block, page numbers), atomically."""
        if self._browser is None:
            raise RenderError("PdfPrinter must be used as a context manager")
        page = self._browser.new_page()
        try:
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
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            header = _HEADER.format(title=html.escape(title), subtitle=html.escape(subtitle))
            data = page.pdf(
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template=header,
                footer_template=_FOOTER,
                margin={"top": "18mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            page.close()
        atomic_write_bytes(pdf_path, data)
