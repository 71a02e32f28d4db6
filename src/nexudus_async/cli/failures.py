"""Exit codes of the command line, and the one line each failure prints.

0 done; 1 some rows failed (import) or the API refused a request; 2 bad input
or usage, nothing sent; 3 the credentials or permissions were refused; 4 the
API could not be reached; 70 an unexpected internal error; 75 the job is
being run by another process (EX_TEMPFAIL: nothing sent, try again later, or
``--wait``); 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM.
"""

from __future__ import annotations

from .._core.errors import (
    AuthenticationError,
    InputError,
    NexudusError,
    PermissionDeniedError,
    ProxyError,
    TLSError,
    TransportError,
)
from ..bulk.executor import cannot_connect
from ..bulk.lock import JobLockedError, JobLockError
from .connect import ENV_CA_BUNDLE, Connection
from .reach import reach_problem

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_TEMPFAIL",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "failure_line",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_UNREACHABLE = 4
EXIT_INTERNAL = 70
EXIT_TEMPFAIL = 75
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


WAIT_HINT = (
    "Run the same command again once it has finished, or with --wait to wait for it and "
    "then finish whatever it left"
)


def failure_line(exc: NexudusError, conn: Connection, *, resumable: bool) -> tuple[int, str]:
    """The exit code and the one line (naming the account, never a secret) for ``exc``."""
    then = (
        "; the job is journaled: fix it and re-run the same command to resume" if resumable else ""
    )
    detail = exc.api_message or exc.message
    if isinstance(exc, InputError):
        return EXIT_USAGE, f"error: {exc}"
    if isinstance(exc, JobLockedError):
        return EXIT_TEMPFAIL, f"error: {exc}; nothing was sent. {WAIT_HINT}"
    if isinstance(exc, JobLockError):
        code = EXIT_TEMPFAIL if exc.temporary else EXIT_USAGE
        return code, f"error: {exc}{then}"
    if isinstance(exc, AuthenticationError):
        return EXIT_AUTH, (
            f"error: authentication failed for {conn.user} at {conn.base_url} ({detail}); "
            f"stopped after the first refusal{then}"
        )
    if isinstance(exc, PermissionDeniedError):
        return EXIT_AUTH, (
            f"error: permission denied for {conn.user} at {conn.base_url} ({detail}); "
            f"stopped after the first refusal{then}"
        )
    if isinstance(exc, TLSError):
        # Permanent: the first attempt says it all, and nothing was sent.
        trust = (
            f"; to trust your network's authority, give its certificate file (PEM) with "
            f"--ca-bundle FILE or {ENV_CA_BUNDLE}"
            if exc.problem == "unknown_authority"
            else ""
        )
        return EXIT_UNREACHABLE, f"error: {exc.summary}{trust}; nothing was sent{then}"
    if isinstance(exc, ProxyError):
        return EXIT_UNREACHABLE, f"error: {exc.message}; nothing was sent{then}"
    if isinstance(exc, TransportError) and cannot_connect(exc):
        problem = reach_problem(exc) or f"cannot reach {conn.base_url}"
        return EXIT_UNREACHABLE, (
            f"error: {problem}; stopped after the retries of the first request{then}"
        )
    return EXIT_FAILED, f"error: {exc}"
