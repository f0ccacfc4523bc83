"""A real Jupyter server, as ``make lab`` starts it, with the project kernel on it.

The server runs in a subprocess on a free loopback port with a random token and a
throw-away root folder holding a copy of ``notebooks/``. The tests talk to it the way
JupyterLab does: the REST API (kernel specs, start and stop a kernel) and the kernel
websocket (execute requests; widget updates as ``comm_msg``, as a slider drag sends
them). Every notebook in ``notebooks/`` is also run top to bottom on its defaults
with papermill on the registered kernel.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
import requests
import websocket
from jupyter_server.services.kernels.connection.base import deserialize_binary_message

from cxtradeoff import paths
from cxtradeoff.explore import explore_state, headline_html
from cxtradeoff.profiles import load_profiles

EXPLORE = paths.NOTEBOOKS_DIR / "04-explore.ipynb"
NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
START_TIMEOUT_S = 90.0
EXECUTE_TIMEOUT_S = 180.0


@dataclass
class Server:
    """A running Jupyter server: where it listens and how to authenticate."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _jupyter() -> list[str]:
    """The venv's ``jupyter`` (beside the interpreter running the tests)."""
    beside = Path(sys.executable).with_name("jupyter")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "jupyter"]


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"jupyter server exited with {server.process.returncode}:\n"
                + server.log.read_text(errors="replace")[-4000:]
            )
        try:
            if server.api("GET", "/api/status").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    raise AssertionError(
        f"jupyter server did not answer within {START_TIMEOUT_S:.0f} s:\n"
        + server.log.read_text(errors="replace")[-4000:]
    )


def _stop(server: Server) -> None:
    """Ask the server to shut down (it stops its kernels), then make sure it has."""
    try:
        server.api("POST", "/api/shutdown")
    except requests.RequestException:
        pass
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "notebooks"
    shutil.copytree(paths.NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        # no personal Jupyter configuration or kernels: only what the venv provides
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    log = base / "server.log"
    for _attempt in range(3):  # another process may take the port between bind and listen
        port = _free_port()
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [
                    *_jupyter(),
                    "server",
                    "--no-browser",
                    "--ip=127.0.0.1",
                    f"--port={port}",
                    "--ServerApp.port_retries=0",
                    f"--IdentityProvider.token={token}",
                    f"--ServerApp.root_dir={root}",
                    # CI and this machine run as root; Jupyter refuses that unless told
                    *(["--allow-root"] if os.geteuid() == 0 else []),
                ],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=base,
            )
        running = Server(f"http://127.0.0.1:{port}", token, root, process, log)
        try:
            _wait_until_up(running)
        except AssertionError:
            _stop(running)
            if "already in use" in log.read_text(errors="replace"):
                continue
            raise
        break
    else:
        pytest.fail(f"no free port for the jupyter server:\n{log.read_text(errors='replace')}")
    try:
        yield running
    finally:
        _stop(running)
        assert running.process.returncode is not None


# --------------------------------------------------------------------------- kernel client


class KernelSocket:
    """Execute code and send widget updates over a kernel's websocket, as JupyterLab does."""

    def __init__(self, server: Server, kernel_id: str) -> None:
        ws_url = server.url.replace("http://", "ws://")
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{ws_url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {server.token}"],
            timeout=EXECUTE_TIMEOUT_S,
        )

    def close(self) -> None:
        self.ws.close()

    def _send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": msg_type,
                        "username": "test",
                        "session": self.session,
                        "date": datetime.now(UTC).isoformat(),
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": channel,
                    "buffers": [],
                }
            )
        )
        return msg_id

    def _receive(self) -> dict[str, Any]:
        frame = self.ws.recv()
        if isinstance(frame, bytes):  # a message with binary buffers (e.g. PNG bytes)
            return deserialize_binary_message(frame)
        return json.loads(frame)

    def _collect(self, msg_id: str, *, reply: str | None) -> list[dict[str, Any]]:
        """iopub messages caused by ``msg_id`` until the kernel is idle (and replied)."""
        replied = reply is None
        idle = False
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + EXECUTE_TIMEOUT_S
        while not (replied and idle):
            assert time.monotonic() < deadline, f"no answer to {msg_id} in time"
            msg = self._receive()
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["channel"] == "shell" and msg["msg_type"] == reply:
                replied = True
                assert msg["content"]["status"] == "ok", msg["content"]
            elif msg["channel"] == "iopub":
                if msg["msg_type"] == "status":
                    idle = msg["content"]["execution_state"] == "idle"
                else:
                    found.append(msg)
        return found

    def execute(self, code: str) -> list[dict[str, Any]]:
        """Run code; return its iopub outputs, failing on an error output."""
        msg_id = self._send(
            "shell",
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        outputs = self._collect(msg_id, reply="execute_reply")
        errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
        assert not errors, "\n".join("\n".join(e["traceback"]) for e in errors)
        return outputs

    def widget_update(self, model_id: str, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Send what a widget view sends when the user moves it; return the kernel's echo."""
        msg_id = self._send(
            "shell",
            "comm_msg",
            {"comm_id": model_id, "data": {"method": "update", "state": state, "buffer_paths": []}},
        )
        return self._collect(msg_id, reply=None)


def _stdout(outputs: list[dict[str, Any]]) -> str:
    return "".join(
        m["content"]["text"]
        for m in outputs
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def _data(outputs: list[dict[str, Any]], mime: str) -> list[Any]:
    return [
        m["content"]["data"][mime]
        for m in outputs
        if m["msg_type"] in ("display_data", "execute_result") and mime in m["content"]["data"]
    ]


@pytest.fixture
def kernel(server: Server) -> Iterator[str]:
    """A project kernel started through the REST API, deleted through it afterwards."""
    response = server.api("POST", "/api/kernels", json={"name": paths.KERNEL_NAME})
    assert response.status_code == 201, response.text
    kernel_id = response.json()["id"]
    assert response.json()["name"] == paths.KERNEL_NAME
    try:
        yield kernel_id
    finally:
        deleted = server.api("DELETE", f"/api/kernels/{kernel_id}")
        assert deleted.status_code == 204, deleted.text
        assert server.api("GET", f"/api/kernels/{kernel_id}").status_code == 404


# --------------------------------------------------------------------------- tests


def test_server_lists_the_project_kernel(server: Server) -> None:
    response = server.api("GET", "/api/kernelspecs")
    assert response.status_code == 200, response.text
    specs = response.json()["kernelspecs"]
    assert paths.KERNEL_NAME in specs, f"kernel specs on the server: {sorted(specs)}"
    spec = specs[paths.KERNEL_NAME]["spec"]
    assert spec["display_name"] == paths.KERNEL_DISPLAY_NAME == "Python (cxtradeoff)"
    assert spec["language"] == "python"
    # the kernel runs the venv's interpreter, where the project is installed
    assert Path(spec["argv"][0]).resolve().parent == Path(sys.executable).resolve().parent


def test_server_refuses_requests_without_the_token(server: Server) -> None:
    response = requests.get(f"{server.url}/api/kernelspecs", timeout=30)
    assert response.status_code == 403
    wrong = requests.get(
        f"{server.url}/api/kernelspecs",
        headers={"Authorization": f"token {secrets.token_hex(24)}"},
        timeout=30,
    )
    assert wrong.status_code == 403


def test_server_serves_the_exploration_notebook(server: Server) -> None:
    response = server.api("GET", f"/api/contents/{EXPLORE.name}")
    assert response.status_code == 200, response.text
    model = response.json()
    assert model["type"] == "notebook"
    assert model["content"]["metadata"]["kernelspec"]["name"] == paths.KERNEL_NAME


@pytest.mark.slow
def test_exploration_notebook_runs_on_the_servers_kernel_and_its_sliders_redraw(
    server: Server, kernel: str
) -> None:
    state = server.api("GET", f"/api/kernels/{kernel}").json()
    assert state["name"] == paths.KERNEL_NAME
    nb = nbformat.read(str(server.root / EXPLORE.name), as_version=4)
    client = KernelSocket(server, kernel)
    try:
        outputs: list[dict[str, Any]] = []
        for cell in nb.cells:
            if cell.cell_type == "code":
                outputs += client.execute(cell.source)
        # the defaults of the parameters cell: telecom, full automation, the shipped profiles
        company = load_profiles()["telecom"]
        expected, figure = explore_state(company, {}, scenario="full_automation")
        figure.clf()
        assert headline_html(expected) in _data(outputs, "text/html")
        assert len(_data(outputs, "image/png")) == 1
        views = _data(outputs, "application/vnd.jupyter.widget-view+json")
        assert len(views) == 1 and views[0]["model_id"]

        # the slider's and the headline's widget models, as the front end knows them
        ids = json.loads(
            _stdout(
                client.execute(
                    "import json\n"
                    "print(json.dumps({'slider': panel.controls['switch_conversion'].model_id,"
                    " 'headline': panel.headline.model_id, 'chart': panel.chart.model_id}))"
                )
            )
        )
        # move the switch-conversion slider the way a browser does: a comm update
        echo = client.widget_update(ids["slider"], {"value": 0.2})
        moved, figure = explore_state(
            company, {"switch_conversion": 0.2}, scenario="full_automation"
        )
        figure.clf()
        updates = {
            m["content"]["comm_id"]: m
            for m in echo
            if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update"
        }
        assert ids["headline"] in updates, "the headline widget was not redrawn"
        assert updates[ids["headline"]]["content"]["data"]["state"]["value"] == headline_html(moved)
        assert ids["chart"] in updates, "the chart widget was not redrawn"
        chart = updates[ids["chart"]]
        assert chart["content"]["data"]["buffer_paths"] == [["value"]]
        assert bytes(chart["buffers"][0]).startswith(b"\x89PNG")

        # and the kernel's state agrees with the report functions run here
        live = json.loads(_stdout(client.execute("print(json.dumps(panel.state))")))
        assert live == json.loads(json.dumps(moved))
        assert live["npv"] < expected["npv"]
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_runs_top_to_bottom_on_its_defaults(notebook: Path, tmp_path: Path) -> None:
    output = tmp_path / notebook.name
    papermill.execute_notebook(
        str(notebook),
        str(output),
        kernel_name=paths.KERNEL_NAME,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    executed = nbformat.read(str(output), as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a code cell did not run"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if o.output_type in ("display_data", "execute_result", "stream")]
    assert shown, f"{notebook.name} showed nothing"
