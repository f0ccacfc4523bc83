"""A headless Chromium driven over its DevTools pipe, without a Node.js driver.

Chromium started with ``--remote-debugging-pipe`` reads DevTools protocol commands from
file descriptor 3 and writes replies and events to file descriptor 4, each message a JSON
object ended by a NUL byte. That is all printing a PDF needs; Playwright's Node.js driver
in between held about 120 MB and copied every PDF through one more process.
:class:`DevToolsPipe` starts the browser, sends commands and hands events to handlers.

Example
-------
>>> with DevToolsPipe("/usr/bin/chromium", ["--headless"]) as pipe:  # doctest: +SKIP
...     pipe.send("Browser.getVersion")["product"]
'HeadlessChrome/156.0.8078.108'
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

#: a handler of an event: its parameters and the session it came from ("" for the browser)
Handler = Callable[[dict[str, Any], str], None]

#: the longest path a Unix socket can have (``sun_path`` is 108 bytes, its NUL included)
SOCKET_PATH_MAX = 107
#: what Chromium puts under the temporary folder for its singleton socket
SINGLETON_SOCKET = "/org.chromium.Chromium.XXXXXX/SingletonSocket"
#: short temporary folders to fall back on, in order
SHORT_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def browser_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment to start Chromium in: ``environ``, with ``TMPDIR`` short enough.

    Chromium makes its singleton socket under ``$TMPDIR`` and exits at once ("Socket path
    too long") when that path passes the 107 bytes a Unix socket allows, as it does under
    a test runner's or a batch system's deep per-job folder. Such a ``TMPDIR`` is replaced
    by the first writable folder of :data:`SHORT_TMP`.

    >>> browser_environment({"TMPDIR": "/tmp/job"})["TMPDIR"]
    '/tmp/job'
    >>> browser_environment({"TMPDIR": "/tmp/" + "x" * 80})["TMPDIR"]
    '/tmp'
    """
    env = dict(environ)
    tmp = env.get("TMPDIR", "")
    if len(os.fsencode(tmp)) + len(SINGLETON_SOCKET) <= SOCKET_PATH_MAX:
        return env
    for short in SHORT_TMP:
        if os.access(short, os.W_OK | os.X_OK):
            env["TMPDIR"] = short
            break
    return env


class DevToolsError(RuntimeError):
    """A command failed, the browser crashed, or it closed its pipe."""


class DevToolsPipe:
    """A Chromium process and the DevTools pipe to it.

    Parameters
    ----------
    executable
        The Chromium to start.
    args
        Its switches; ``--remote-debugging-pipe`` is added.
    log
        File its standard output and error go to (for the message when it fails).
    """

    def __init__(self, executable: str, args: Sequence[str], *, log: Path | None = None) -> None:
        self.executable = executable
        self.log = log
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._handlers: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self.pid = 0
        self._spawn([executable, *args, "--remote-debugging-pipe"])
        self._reader = threading.Thread(target=self._read, name="cx-devtools", daemon=True)
        self._reader.start()

    def _spawn(self, argv: list[str]) -> None:
        to_child, self._write_fd = os.pipe()
        self._read_fd, from_child = os.pipe()
        # out of the way of 0..4, so that the dup2 below never maps a descriptor onto itself
        # (which would keep its close-on-exec flag) or onto the other pipe's
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)
        log_fd = os.open(self.log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.pid = os.posix_spawn(
                self.executable,
                argv,
                browser_environment(os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log_fd, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                    (os.POSIX_SPAWN_DUP2, high[0], 3),
                    (os.POSIX_SPAWN_DUP2, high[1], 4),
                ],
            )
        except OSError:
            for fd in (self._write_fd, self._read_fd):
                os.close(fd)
            raise
        finally:
            for fd in (*high, log_fd):
                os.close(fd)

    # -- messages

    def _read(self) -> None:
        buffer = bytearray()
        try:
            while chunk := os.read(self._read_fd, 1 << 16):
                buffer += chunk
                while (end := buffer.find(b"\0")) >= 0:
                    message = json.loads(bytes(buffer[:end]))
                    del buffer[: end + 1]
                    self._dispatch(message)
        except (OSError, ValueError):
            pass
        finally:
            self._closed = True
            with self._lock:
                pending, self._pending = self._pending, {}
            for future in pending.values():
                if not future.done():
                    future.set_exception(
                        DevToolsError("Chromium closed its DevTools pipe (it crashed or exited)")
                    )

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._lock:
                future = self._pending.pop(message["id"], None)
            if future is not None:
                future.set_result(message)
            return
        for handler in list(self._handlers.get(str(message.get("method")), ())):
            with contextlib.suppress(Exception):  # a handler's fault is not the reader's
                handler(message.get("params", {}), str(message.get("sessionId", "")))

    def on(self, method: str, handler: Handler) -> None:
        """Call ``handler(params, session)`` on each event ``method`` (in the reader's thread)."""
        self._handlers.setdefault(method, []).append(handler)

    def post(
        self, method: str, params: dict[str, Any] | None = None, *, session: str = ""
    ) -> Future[dict[str, Any]]:
        """Send a command; the future of its reply (safe to call from a handler)."""
        future: Future[dict[str, Any]] = Future()
        if self._closed:
            future.set_exception(DevToolsError("Chromium closed its DevTools pipe"))
            return future
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        with self._lock:
            self._pending[number] = future
        data = json.dumps(message).encode() + b"\0"
        try:
            with self._write_lock:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._write_fd, view) :]
        except OSError as exc:
            with self._lock:
                self._pending.pop(number, None)
            future.set_exception(DevToolsError(f"cannot write to Chromium's DevTools pipe: {exc}"))
        return future

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str = "",
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Send a command and wait for its result.

        Raises
        ------
        DevToolsError
            The command failed, timed out, or the browser went away.
        """
        try:
            reply = self.post(method, params, session=session).result(timeout=timeout)
        except FutureTimeout:
            raise DevToolsError(f"{method}: no answer from Chromium in {timeout:g} s") from None
        if "error" in reply:
            error = reply["error"]
            raise DevToolsError(f"{method}: {error.get('message', error)}")
        return dict(reply.get("result", {}))

    # -- lifecycle

    def __enter__(self) -> DevToolsPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, *, grace_s: float = 5.0) -> None:
        """Ask the browser to close, kill it if it does not, and reap it."""
        if not self._closed:
            with contextlib.suppress(DevToolsError):
                self.send("Browser.close", timeout=grace_s)
        deadline = time.monotonic() + grace_s
        while self.pid and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                    self.pid = 0
                    break
            time.sleep(0.02)
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        with contextlib.suppress(OSError):
            os.close(self._write_fd)
        self._reader.join(timeout=grace_s)  # the browser is gone: its end of the pipe too
        with contextlib.suppress(OSError):
            os.close(self._read_fd)
