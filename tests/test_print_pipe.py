"""The PDF printer drives Chromium over its DevTools pipe: it prints, loads nothing from a
network host, survives a page that will not load, and leaves no browser behind."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxtradeoff.browser import require_chromium
from cxtradeoff.pipeline.cdp import DevToolsError, DevToolsPipe
from cxtradeoff.pipeline.export import PdfPrinter, PrintLayout

pytestmark = pytest.mark.slow


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 that records every path asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], asked
    server.shutdown()
    server.server_close()


def test_a_page_prints_to_a4_with_its_title_and_loads_nothing_from_a_host(
    tmp_path: Path, listener
) -> None:
    port, asked = listener
    page = tmp_path / "r.html"
    page.write_text(
        "<html><body><h1>Hello print</h1>"
        f'<img src="http://127.0.0.1:{port}/img.png">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
        f'<script src="http://127.0.0.1:{port}/app.js"></script>'
        "<p>" + "text " * 2000 + "</p></body></html>"
    )
    with PdfPrinter(require_chromium()) as printer:
        assert printer.browser_version.count(".") == 3
        printer.print_pdf(page, tmp_path / "r.pdf", title="A <title>", subtitle="built today")
        printer.print_pdf(
            page, tmp_path / "b.pdf", title="B", layout=PrintLayout(header_footer=False)
        )
        pid = printer._pipe.pid
    reader = PdfReader(tmp_path / "r.pdf")
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(595, abs=1.5)  # A4 in points (8.27 x 11.7 in)
    assert float(box.height) == pytest.approx(842, abs=1.5)
    text = reader.pages[0].extract_text()
    assert "Hello print" in text and "A <title>" in text and "Page 1 of" in text
    assert "Page 1 of" not in PdfReader(tmp_path / "b.pdf").pages[0].extract_text()
    assert asked == []  # the image, style sheet and script were refused
    assert not Path(f"/proc/{pid}").exists()  # the browser is gone, reaped


def test_a_browser_that_dies_fails_the_command_and_the_next_printer_starts_afresh(
    tmp_path: Path,
) -> None:
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>")
    with PdfPrinter(require_chromium()) as printer:
        os.kill(printer._pipe.pid, 9)
        with pytest.raises(DevToolsError, match="closed its DevTools pipe"):
            printer.print_pdf(page, tmp_path / "r.pdf", title="R")
    with PdfPrinter(require_chromium()) as printer:
        printer.print_pdf(page, tmp_path / "r.pdf", title="R")
    assert PdfReader(tmp_path / "r.pdf").pages


def test_a_command_chromium_refuses_is_an_error_naming_it() -> None:
    with DevToolsPipe(require_chromium(), ["--headless", "--no-sandbox"]) as pipe:
        with pytest.raises(DevToolsError, match=r"No\.Such\.method"):
            pipe.send("No.Such.method")
        assert "Chrome" in pipe.send("Browser.getVersion")["product"]


def test_a_deep_temporary_folder_does_not_stop_the_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chromium exits at once when its singleton socket's path under ``$TMPDIR`` passes the
    107 bytes a Unix socket allows (a test runner's or a batch job's folder): the printer
    starts it with a short ``TMPDIR`` instead."""
    deep = tmp_path / ("job-" + "x" * 40) / ("task-" + "y" * 40)
    deep.mkdir(parents=True)
    assert len(str(deep)) + len("/org.chromium.Chromium.XXXXXX/SingletonSocket") > 107
    monkeypatch.setenv("TMPDIR", str(deep))
    page = tmp_path / "r.html"
    page.write_text("<p>printed from a deep folder</p>")
    with PdfPrinter(require_chromium()) as printer:
        printer.print_pdf(page, tmp_path / "r.pdf", title="R")
    assert "printed from a deep folder" in PdfReader(tmp_path / "r.pdf").pages[0].extract_text()
