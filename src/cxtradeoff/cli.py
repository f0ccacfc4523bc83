"""The ``cxtradeoff`` command line.

Each subcommand lives in its own module under ``cxtradeoff.commands`` and exposes
``register(subparsers)``; that module's ``run(args)`` returns the exit status.
Errors derived from :class:`cxtradeoff.errors.CxTradeoffError` become a message on
standard error and their ``exit_code``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cxtradeoff import __version__
from cxtradeoff.errors import EXIT_INTERRUPTED, CxTradeoffError

#: subcommand modules, in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = (
    "cxtradeoff.commands.build",
    "cxtradeoff.commands.email",
    "cxtradeoff.commands.analyse",
    "cxtradeoff.commands.pilot",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxtradeoff",
        description="Does AI in customer service pay once lost customers are counted?",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


class ReaderMayLeave:
    """A text stream whose reader may go away (``cxtradeoff build | head``, a log collector
    that died) or whose disk may fill (``>> build.log`` on a full partition): a write that
    fails is dropped, and so is every later one, so that the command finishes its work and
    exits with its own status rather than a traceback.

    The stream's file descriptor is pointed at ``/dev/null`` once a write has failed, so
    that the interpreter's last flush at exit does not fail either.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_left = False

    def _left(self) -> None:
        self.reader_left = True
        with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self._stream.write(text)
            except OSError:  # EPIPE, ENOSPC, EIO
                self._left()
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except OSError:
                self._left()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ReaderMayLeave(out), ReaderMayLeave(err)
    try:
        return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CxTradeoffError as exc:
        print(f"cxtradeoff {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM where a command turns it into one
        code = getattr(exc, "exit_code", EXIT_INTERRUPTED)
        word = "terminated" if code != EXIT_INTERRUPTED else "interrupted"
        print(f"cxtradeoff {args.command}: {word}", file=sys.stderr)
        return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
