"""The ``cxtradeoff`` command line.

Each subcommand lives in its own module under ``cxtradeoff.commands`` and exposes
``register(subparsers)``; that module's ``run(args)`` returns the exit status.
Errors derived from :class:`cxtradeoff.errors.CxTradeoffError` become a message on
standard error and their ``exit_code``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
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
