"""Jupyter kernels for the build: papermill runs, kernels kept warm, one per worker.

Kernels talk to papermill over ``ipc`` (Unix sockets in a private folder) rather than
TCP ports, so several notebooks can run at once without the port race that makes
kernels fail with "address already in use". Each build worker keeps one kernel and
resets it between notebooks (:class:`WarmKernel`, :class:`KernelWorker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

from cxtradeoff.errors import OutputError, RenderError
from cxtradeoff.paths import KERNEL_NAME

T = TypeVar("T")

#: kernels' socket folders are ``<tmp>/cxk-<pid of the build>-<random>``
SOCKETS_PREFIX = "cxk-"
#: error numbers that mean the output cannot be written (not that the notebook is wrong)
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _sockets_folder() -> Path:
    """A private folder for one kernel's sockets, named after this process."""
    return Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-"))


def clean_stale_sockets(tmp: Path | None = None) -> list[Path]:
    """Remove the socket folders of builds that no longer run (killed with SIGKILL).

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{SOCKETS_PREFIX}*-*"):
        pid = folder.name[len(SOCKETS_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


# --------------------------------------------------------------------------- execute


def _ready_client_class() -> type:
    """A kernel client whose ``wait_for_ready`` returns as soon as the kernel answers.

    jupyter_client's own waits, after the kernel's answer, until no message has come on
    IOPub for 0.2 s, to drop stale messages; every client here (the reset's, papermill's)
    already ignores messages that answer another request, so each notebook waited 0.4 s
    for nothing.
    """
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (60.0 if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected: its status message arrived
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

        wait_for_ready = _async_wait_for_ready

    return ReadyClient


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
            self.client_factory = _ready_client_class()

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
#: IPython's reset ends with a full garbage collection, which walks every object the
#: imports made (0.2 to 0.5 s a notebook, as long as the notebook's own cells on a busy
#: machine); instead what is left after a collection is frozen (``gc.freeze``): modules and
#: caches every notebook shares, which later collections then skip, so each reset
#: collects only what the last notebook left.
_RESET_CODE = """
def _cx_reset(cwd):
    import gc, os
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    plt.close("all")
    if not hasattr(mpl, "_cx_rc_at_start"):
        mpl._cx_rc_at_start = dict(mpl.rcParams)
    else:
        mpl.rcParams.update(mpl._cx_rc_at_start)
    os.chdir(cwd)
    collect = gc.collect
    gc.collect = lambda generation=2: 0
    try:
        get_ipython().reset(new_session=True)
    finally:
        gc.collect = collect
    gc.collect()
    gc.freeze()
_cx_reset({cwd!r})
"""


class WarmKernel:
    """A kernel kept alive across notebooks run one after the other in one thread.

    Starting a kernel and importing pandas, matplotlib and the package costs about as
    much as running a report notebook; a build runs one kernel per worker and resets
    it between notebooks (see ``_RESET_CODE``) instead of starting a new one. A kernel
    that died, or whose reset failed, is replaced by a fresh one.
    """

    def __init__(
        self, *, kernel_name: str = KERNEL_NAME, env: Mapping[str, str] | None = None
    ) -> None:
        self.kernel_name = kernel_name
        #: variables set in the kernel's environment on top of this process's
        self.env = dict(env or {})
        self.km: Any = None
        self.sockets: Path | None = None
        self.cwd: list[Path] = [Path.cwd()]
        self.clients: list[Any] = []
        self.runs = 0
        self.killed = False

    def _start(self, cwd: Path) -> None:
        from jupyter_core.utils import run_sync

        self._refuse_if_killed()
        self.shutdown()
        self.sockets = _sockets_folder()
        self.cwd[0] = cwd
        self.clients = []
        self.km = _ipc_manager_class(self.sockets, self.cwd, self.clients)(
            kernel_name=self.kernel_name
        )
        if self.env:
            run_sync(self.km.start_kernel)(env={**os.environ, **self.env})
        else:
            run_sync(self.km.start_kernel)()
        self.runs = 0

    def _refuse_if_killed(self) -> None:
        if self.killed:
            raise RenderError("the build was stopped: its kernels were shut down")

    async def _reset(self, cwd: Path) -> None:
        client = self.km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            request = asyncio.ensure_future(
                client.execute_interactive(
                    _RESET_CODE.format(cwd=str(cwd)),
                    store_history=False,
                    timeout=60,
                    output_hook=lambda msg: None,
                )
            )
            while not request.done():  # a kernel killed meanwhile gives no reply: stop waiting
                await asyncio.wait({request}, timeout=0.5)
                if not request.done() and (self.killed or not await self.km.is_alive()):
                    request.cancel()
                    raise RenderError("the kernel died while being reset")
            reply = request.result()
            if reply["content"]["status"] != "ok":
                raise RenderError(f"kernel reset failed: {reply['content'].get('evalue', '')}")
        finally:
            client.stop_channels()

    def prepare(self, cwd: Path) -> Any:
        """A ready kernel manager for the next notebook, run in folder ``cwd``."""
        from jupyter_core.utils import run_sync

        self._refuse_if_killed()
        if self.km is None or not run_sync(self.km.is_alive)():
            self._start(cwd)
        try:
            run_sync(self._reset)(cwd)
        except Exception:  # a kernel that cannot be reset is replaced (unless stopped)
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

    def kill(self) -> None:
        """Kill the kernel process at once (from any thread): a notebook running on it
        then fails fast, no new kernel is started, and the worker's thread can shut down."""
        self.killed = True
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        pid = getattr(process, "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

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
    sockets = _sockets_folder() if warm is None else None
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
            # papermill saves the notebook as each cell starts and ends already; nbclient's
            # own extra save of the whole notebook after each cell is not needed
            request_save_on_cell_execute=False,
            **engine,
        )
    except pm.PapermillExecutionError as exc:
        if exc.ename in {"OSError", "IOError"} and any(
            f"[Errno {n}]" in str(exc.evalue) for n in OUTPUT_ERRNOS
        ):  # the notebook could not write into the staging folder: the disk, not the report
            raise OutputError(output.parent, str(exc.evalue)) from None
        first_line = (exc.source or "").strip().splitlines()[:1]
        raise RenderError(
            f"{notebook.name}: cell {exc.cell_index + 1} of the executed notebook (execution count {exc.exec_count}"
            f"{', ' + repr(first_line[0][:60]) if first_line else ''}) failed with "
            f"{exc.ename}: {exc.evalue} (executed copy: {output})"
        ) from None
    except Exception as exc:  # kernel died, missing kernel, bad parameters, disk full...
        if isinstance(exc, OSError) and (
            exc.errno in OUTPUT_ERRNOS or str(exc.filename or "").startswith(str(output.parent))
        ):  # writing the executed notebook
            raise OutputError.from_os_error(output, exc) from None
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


class KernelWorker:
    """One thread that runs notebooks one after the other on a kernel it keeps warm.

    Starting a kernel and importing the scientific stack costs about as much as a report
    notebook; each worker starts one kernel and resets it between notebooks. The kernel
    is only ever touched from the worker's own thread.
    """

    def __init__(self, index: int, *, env: Mapping[str, str] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cx-kernel-{index}")
        self._kernel: WarmKernel | None = None
        self._env = env
        self._interrupted = False

    def _with_kernel(self, task: Callable[[WarmKernel], T]) -> T:
        if self._kernel is None:
            self._kernel = WarmKernel(env=self._env)
            self._kernel.killed = self._interrupted
        return task(self._kernel)

    def submit(self, task: Callable[[WarmKernel], T]) -> Future[T]:
        """Run ``task(kernel)`` in the worker's thread, on its warm kernel."""
        return self._pool.submit(self._with_kernel, task)

    def interrupt(self) -> None:
        """Stop what the worker runs (from the main thread): its kernel is killed and no
        other is started."""
        self._interrupted = True
        if self._kernel is not None:
            self._kernel.kill()

    def close(self) -> None:
        """Shut the kernel down in the thread that used it, then end the thread."""
        if self._kernel is not None:
            with contextlib.suppress(Exception):
                self._pool.submit(self._kernel.close).result(timeout=60)
        self._pool.shutdown(wait=True)
