"""Exceptions a user can act on. The command line turns them into messages and exit codes."""

from __future__ import annotations


class CxTradeoffError(Exception):
    """Base class of every error this package raises on purpose."""

    #: exit status the command line uses for this error
    exit_code: int = 1


class DataValidationError(CxTradeoffError):
    """A data file does not match its schema; the message lists every problem at once."""

    exit_code = 2

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{lines}")


class ParameterError(CxTradeoffError):
    """A model parameter is unknown, of the wrong type or out of range."""

    exit_code = 2


class ConfigError(CxTradeoffError):
    """The report configuration is invalid."""

    exit_code = 2


class RenderError(CxTradeoffError):
    """A notebook failed to execute or a report could not be rendered."""

    exit_code = 1


class BrowserNotFoundError(CxTradeoffError):
    """No Chromium could be found to print PDFs."""

    exit_code = 3
