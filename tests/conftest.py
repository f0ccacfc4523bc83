"""Shared fixtures: small throw-away projects for pipeline tests."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from hypothesis import settings

# Property tests: no per-example deadline (a loaded 2-core machine is slow, not wrong), and
# under CI the same examples every run, so that a red CI is reproducible.
settings.register_profile("cxtradeoff", deadline=None)
settings.register_profile("cxtradeoff-ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("cxtradeoff-ci" if os.environ.get("CI") else "cxtradeoff")

KERNELSPEC = {"name": "cxtradeoff", "display_name": "Python (cxtradeoff)", "language": "python"}


def load_make_portfolio():
    """``benchmarks/make_portfolio.py`` as a module (the benchmarks are no package)."""
    import importlib.util

    from cxtradeoff.paths import ROOT

    path = ROOT / "benchmarks" / "make_portfolio.py"
    spec = importlib.util.spec_from_file_location("make_portfolio", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_notebook(path: Path, parameters: str, *cells: str, title: str = "Test report") -> Path:
    """Write a notebook: a title, a ``parameters`` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    params = nbformat.v4.new_code_cell(textwrap.dedent(parameters).strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), params]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


ANALYSIS_CELLS = (
    """
    import json
    import csv
    from pathlib import Path
    rows = list(csv.DictReader(open(data_file)))
    value = sum(float(r["value"]) for r in rows) * scale
    print(f"{label}: total {value:.2f}")
    """,
    """
    import matplotlib.pyplot as plt
    from IPython.display import display, Markdown
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.bar([r["name"] for r in rows], [float(r["value"]) for r in rows])
    ax.set_title(label)
    plt.show()
    display(Markdown(f"**{label}** total is {value:.2f}"))
    """,
    """
    if fail:
        raise ValueError("deliberate failure for the test")
    if results_path:  # a results file as cxtradeoff.contracts.ResultsFile defines it
        results = json.loads(Path(data_file).with_name("results-template.json").read_text())
        results["display_name"] = label
        results["headline"].update(annual_savings=value * 1000, npv=value, npv_mean=value * 1000,
                                   p_loss=0.25, break_even_conversion=0.059,
                                   break_even_conversion_npv=0.059)
        Path(results_path).write_text(json.dumps(results))
    """,
)


@pytest.fixture(scope="session")
def results_template() -> str:
    """A results file as the analysis writes it (telecom, few draws), for the tiny project's
    notebook to adapt: it stays valid whatever the contract becomes."""
    from cxtradeoff.profiles import load_profiles
    from cxtradeoff.results import build_results

    results = build_results(load_profiles()["telecom"], ["status_quo", "hybrid"], draws=200, seed=5)
    return results.model_dump_json()


@pytest.fixture
def tiny_project(tmp_path: Path, results_template: str) -> Path:
    """A project with two data files, an analysis notebook, a comparison notebook and a config."""
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "results-template.json").write_text(results_template)
    (root / "data" / "a.csv").write_text("name,value\nx,1\ny,2\n")
    (root / "data" / "b.csv").write_text("name,value\nx,10\ny,20\n")
    make_notebook(
        root / "notebooks" / "analysis.ipynb",
        """
        data_file: str = "a.csv"  # data to read
        label: str = "A"  # display name
        scale: float = 1.0  # multiplier
        fail: bool = False  # raise on purpose
        results_path: str = ""  # where to write results
        """,
        *ANALYSIS_CELLS,
    )
    make_notebook(
        root / "notebooks" / "compare.ipynb",
        """
        results_files: list = []  # results of the reports compared
        """,
        """
        import json
        rows = [json.load(open(f)) for f in results_files]
        for r in rows:
            print(r["display_name"], r["headline"]["annual_savings"])
        """,
        title="Comparison",
    )
    write_config(root, fail_b=False)
    return root


def write_config(root: Path, *, fail_b: bool) -> Path:
    config = {
        "reports": [
            {"name": "rep-a", "notebook": "notebooks/analysis.ipynb", "title": "Report A",
             "profile": "alpha", "inputs": ["data/a.csv"],
             "parameters": {"data_file": str(root / "data/a.csv"), "label": "Alpha"}},
            {"name": "rep-b", "notebook": "notebooks/analysis.ipynb", "title": "Report B",
             "profile": "beta", "inputs": ["data/b.csv"],
             "parameters": {"data_file": str(root / "data/b.csv"), "label": "Beta", "fail": fail_b}},
            {"name": "compare", "notebook": "notebooks/compare.ipynb", "title": "Comparison",
             "depends_on": ["rep-a", "rep-b"]},
        ]
    }  # fmt: skip
    path = root / "reports.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


# --- SMTP fixtures (email) ---
# A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it accepts and can be told
# to refuse, stall or hang up; used by test_email.py and test_scheduling.py. Its imports are
# here, not at the top, so that this section stays apart from the rest of the file.

import asyncio  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from email import policy  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.parser import BytesParser  # noqa: E402
from typing import Any  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a TCP port on 127.0.0.1 that nothing listens on (yet)."""

    def find() -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    return find


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: keeps accepted envelopes; can refuse, stall or hang up.

    ``mail_replies`` and ``data_replies`` are used up one per MAIL or end of DATA (a reply
    there means the message is not taken); ``refuse_rcpt`` maps an address to its reply.
    ``after_data`` is what happens once a message has arrived in full (after the final
    dot): ``None`` answers 250 at once, ``"stall"`` answers only after ``stall_seconds``
    (or when ``after_data`` is cleared), ``"drop"`` closes the connection unanswered.
    ``on_data`` runs when a message has arrived, before any answer.
    """

    mail_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    after_data: str | None = None
    stall_seconds: float = 60.0
    on_data: Callable[[], None] | None = None
    envelopes: list[Any] = field(default_factory=list)
    data_calls: int = 0
    sessions: list[dict[str, Any]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.envelopes.append(envelope)
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append({"tls": tls, "auth": session.authenticated})
        self.received.set()
        if self.on_data is not None:
            self.on_data()
        if self.after_data == "drop":
            server.transport.abort()
        deadline = time.monotonic() + self.stall_seconds
        while self.after_data == "stall" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    def message(self, index: int = -1) -> EmailMessage:
        """An accepted message, parsed."""
        msg = BytesParser(policy=policy.default).parsebytes(self.envelopes[index].content)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def messages(self) -> list[EmailMessage]:
        return [self.message(i) for i in range(len(self.envelopes))]

    @property
    def recipients(self) -> list[list[str]]:
        return [list(e.rcpt_tos) for e in self.envelopes]


@dataclass
class SmtpServer:
    port: int
    handler: SmtpRecorder


@pytest.fixture
def start_smtp_server(free_port: Callable[[], int]) -> Iterator[Callable[..., SmtpServer]]:
    """A function starting an SMTP server (aiosmtpd ``Controller`` options as keywords).

    Every server started is stopped when the test ends, a stalled answer released first.
    """
    started: list[tuple[Any, SmtpRecorder]] = []

    def start(**options: Any) -> SmtpServer:
        handler = SmtpRecorder()
        controller = Controller(
            handler, hostname="127.0.0.1", port=free_port(), server_hostname="smtp.test",
            **options,
        )  # fmt: skip
        controller.start()
        started.append((controller, handler))
        return SmtpServer(controller.port, handler)

    yield start
    for controller, handler in started:
        handler.after_data = None
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp_server: Callable[..., SmtpServer]) -> SmtpServer:
    """Plain SMTP on 127.0.0.1, no TLS, no login."""
    return start_smtp_server()


# --- pipeline fixtures ---
# Helpers of the build's tests: run `cxtradeoff build` on a project (in this process or as
# a command), read its manifest, and write notebooks that report what their kernel saw.


def _build_argv(root: Path, args: tuple[str, ...]) -> list[str]:
    out = [] if "--out" in args else ["--out", str(root / "out")]
    return ["build", "--config", str(root / "reports.yaml"), *out, *args]


@pytest.fixture
def run_build():
    """``run_build(root, *args)``: `cxtradeoff build` of ``root/reports.yaml`` into
    ``root/out`` (unless ``--out`` is given) in this process; its exit status."""
    from cxtradeoff.cli import main

    return lambda root, *args: main(_build_argv(root, args))


@pytest.fixture
def build_command():
    """``build_command(root, *args)``: the same build as a command line for a subprocess."""
    import sys

    return lambda root, *args: [sys.executable, "-m", "cxtradeoff.cli", *_build_argv(root, args)]


@pytest.fixture
def read_manifest():
    """``read_manifest(root)``: the manifest of ``root/out``, as the typed model."""
    from cxtradeoff.contracts import load_manifest

    return lambda root, out="out": load_manifest(root / out / "manifest.json")


@pytest.fixture
def nothing_written():
    """``nothing_written(out)``: True when a build wrote nothing in ``out`` (at most its lock)."""
    return lambda out: not out.exists() or {p.name for p in out.iterdir()} <= {".build.lock"}


class Probes:
    """Reports whose notebook runs some code and saves the dict ``seen`` it makes."""

    def report(self, root: Path, name: str, code: str) -> dict:
        """Write ``root/name/name.ipynb`` running ``code``; its configuration entry."""
        notebook = make_notebook(
            root / name / f"{name}.ipynb",
            'probe: str = ""  # file the notebook writes what it saw into',
            textwrap.dedent(code).strip(),
            "from pathlib import Path as _P\nimport json as _j\n_P(probe).write_text(_j.dumps(seen))",
        )
        probe = root / "probes" / f"{name}.json"
        probe.parent.mkdir(exist_ok=True)
        return {"name": name, "notebook": str(notebook.relative_to(root)),
                "parameters": {"probe": str(probe)}}  # fmt: skip

    def read(self, root: Path, name: str) -> dict:
        """What the notebook of report ``name`` saw."""
        return json.loads((root / "probes" / f"{name}.json").read_text())


@pytest.fixture
def probes() -> Probes:
    """Notebooks that report what their kernel saw (see :class:`Probes`)."""
    return Probes()


@pytest.fixture
def tiny_config():
    """``tiny_config(root, fail_b=...)``: rewrite the tiny project's configuration."""
    return write_config


@pytest.fixture
def tmpfs(tmp_path: Path):
    """``tmpfs(size="4m", read_only=False)``: a small real file system mounted for the test
    (a disk that fills up, a read-only one); the test is skipped where mounting is refused."""
    import subprocess

    mounted: list[Path] = []

    def mount(size: str = "4m", *, read_only: bool = False) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        options = f"size={size},mode=0755" + (",ro" if read_only else "")
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                             capture_output=True, text=True, check=False)  # fmt: skip
        if run.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {run.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
