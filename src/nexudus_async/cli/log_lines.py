"""The command line's log: a retry is one short line with ``-v``, and nothing without it.

The client logs a retry as a warning with the error's details (for
applications that keep logs); on a terminal that is noise before the one
error line that matters. Here a retry reads ``cannot reach 127.0.0.1:9
(connection refused); retrying in 0.7 s, 2 of 4``.
"""

from __future__ import annotations

import logging
import sys

from .._core.errors import NexudusError
from .reach import reach_problem

__all__ = ["setup_cli_logging"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_cli_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CliFormatter(_FORMAT))
    handler.addFilter(_RetryFilter(verbose))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


class _RetryFilter(logging.Filter):
    """Retries only with ``-v``."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        return self.verbose or not hasattr(record, "nexudus_error")


class _CliFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        error = getattr(record, "nexudus_error", None)
        if not isinstance(error, NexudusError):
            return super().format(record)
        return retry_line(
            error,
            wait=float(getattr(record, "nexudus_wait", 0.0)),
            attempt=int(getattr(record, "nexudus_attempt", 0)),
            attempts=getattr(record, "nexudus_attempts", None),
        )


def retry_line(error: NexudusError, *, wait: float, attempt: int, attempts: int | None) -> str:
    """``cannot reach HOST:PORT (why); retrying in 0.7 s, 2 of 4``."""
    what = reach_problem(error)
    if what is None:
        what = str(error)
    of = f" of {attempts}" if attempts else ""
    seconds = f"{wait:.1f}" if wait >= 0.1 else f"{wait:.2f}"
    return f"{what}; retrying in {seconds} s, {attempt}{of}"
