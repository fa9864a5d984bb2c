"""Errors shown to users: French messages, exit status 2 at the command line."""

from __future__ import annotations


class TradebookError(Exception):
    """A problem with the user's input, explained in French.

    The message names the file, the line and the fix where they are known.
    The command line prints it on stderr and exits with status 2.
    """

    exit_code = 2


class InvalidDataError(TradebookError):
    """A data file is malformed, truncated or in the wrong encoding."""


class UnknownCodeError(TradebookError):
    """A département or region code that does not exist."""


class MissingDataError(TradebookError):
    """The requested year, quarter or zone is absent from the data."""
