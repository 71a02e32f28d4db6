"""The job engine's failure policy: one pure table from a request's outcome to what follows.

Every step of every kind of job (a group's create, a record's PUT or DELETE,
the reads that settle them) asks :func:`decide` what an error means, so
"might it have run?" is decided in one place:

- ``done``: the goal holds (a DELETE answered 404: the record is gone);
- ``reconcile``: the request may have been executed: establish what exists
  by reading (count a create's key, read an update's or delete's record),
  never resend blindly;
- ``retry``: nothing was executed (throttled, could not connect) or the
  request is a read: send it again after a pause;
- ``fail``: a definite refusal of this unit; the job goes on;
- ``stop``: a refusal every other unit would meet too (credentials,
  permissions, a host never reached): the unit fails and the job stops;
- ``stopped``: the job's stop refused the request before it went out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

from .._core.errors import (
    APIError,
    AuthenticationError,
    InputError,
    MalformedResponseError,
    NexudusError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    ThrottledError,
    TransportError,
)
from .stopping import SendingStopped

__all__ = ["Action", "Decision", "Step", "cannot_connect", "decide", "is_fatal"]

Step = Literal["create", "update", "delete", "read"]
Action = Literal["done", "reconcile", "retry", "fail", "stop", "stopped"]


def cannot_connect(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to connect at all (refused, DNS, TLS): nothing was sent.

    The transport says so (``connected``); a connect that timed out is not counted.
    """
    return (
        isinstance(exc, TransportError) and not exc.connected and not isinstance(exc, TimeoutError)
    )


@attrs.frozen
class Decision:
    action: Action
    why: str
    """What happened, for the report (``outcome unknown (...)``)."""


Condition = Callable[[BaseException, bool], bool]
"""``(error, answered)``: whether a rule applies; ``answered``: any request of
the run got an answer."""


def _always(exc: BaseException, answered: bool) -> bool:
    return True


def _server_error(exc: BaseException, answered: bool) -> bool:
    status = getattr(exc, "status", None)
    return isinstance(status, int) and status >= 500


def _unreachable(exc: BaseException, answered: bool) -> bool:
    return not answered and cannot_connect(exc)


def _not_connected(exc: BaseException, answered: bool) -> bool:
    return cannot_connect(exc)


@attrs.frozen
class Rule:
    error: type[BaseException] | tuple[type[BaseException], ...]
    when: Condition
    create: Action
    update: Action
    delete: Action
    read: Action
    why: str


# First match wins. Columns: create, update (PUT), delete, read (GET).
TABLE: tuple[Rule, ...] = (
    Rule(SendingStopped, _always, "stopped", "stopped", "stopped", "stopped", "not sent"),
    Rule(
        (AuthenticationError, PermissionDeniedError), _always,
        "stop", "stop", "stop", "stop", "refused",
    ),
    Rule(NotFoundError, _always, "fail", "fail", "done", "fail", "not found"),
    Rule(InputError, _always, "fail", "fail", "fail", "fail", "refused before sending"),
    Rule(ThrottledError, _always, "retry", "retry", "retry", "retry", "throttled"),
    Rule(
        OutcomeUnknownError, _always,
        "reconcile", "reconcile", "reconcile", "retry", "outcome unknown",
    ),
    Rule(
        MalformedResponseError, _always,
        "reconcile", "reconcile", "reconcile", "fail", "unreadable answer",
    ),
    Rule(APIError, _server_error, "reconcile", "reconcile", "reconcile", "retry", "server error"),
    Rule(APIError, _always, "fail", "fail", "fail", "fail", "refused"),
    Rule(TransportError, _unreachable, "stop", "stop", "stop", "stop", "cannot connect"),
    Rule(TransportError, _not_connected, "retry", "retry", "retry", "retry", "cannot connect"),
    Rule(TransportError, _always, "reconcile", "reconcile", "reconcile", "retry", "transport"),
    Rule(NexudusError, _always, "reconcile", "reconcile", "reconcile", "fail", "unexpected"),
)  # fmt: skip


def decide(exc: BaseException, step: Step, *, answered: bool) -> Decision:
    """What follows ``exc`` raised by a ``step`` request (pure: the table above).

    Anything the table does not name might have reached the server: reconcile
    a write, fail a read.
    """
    for rule in TABLE:
        if isinstance(exc, rule.error) and rule.when(exc, answered):
            action: Action = getattr(rule, step)
            return Decision(action, f"{rule.why} ({exc})")
    return Decision("fail" if step == "read" else "reconcile", f"{type(exc).__name__} ({exc})")


def is_fatal(exc: BaseException, *, answered: bool) -> bool:
    """Errors that would fail every other unit the same way: stop the whole job."""
    return decide(exc, "create", answered=answered).action == "stop"
