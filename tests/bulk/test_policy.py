"""The failure policy: one pure table from an outcome to what follows, for every kind of unit."""

from __future__ import annotations

import aiohttp
import pytest

from nexudus_async._core.errors import (
    AuthenticationError,
    InputError,
    MalformedResponseError,
    NexudusError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
    ValidationError,
)
from nexudus_async.bulk.policy import Step, cannot_connect, decide, is_fatal
from nexudus_async.bulk.stopping import SendingStopped


def _refused_connection() -> TransportError:
    """A transport error whose cause is a refused connection (nothing was sent)."""
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)
    cause = aiohttp.ClientConnectorError(key, OSError(111, "refused"))
    err = TransportError("cannot connect")
    err.__cause__ = cause
    return err


ROWS: list[tuple[BaseException, bool, tuple[str, str, str, str]]] = [
    # error, answered before?, (create, update, delete, read)
    (SendingStopped("stopping"), True, ("stopped", "stopped", "stopped", "stopped")),
    (AuthenticationError("no", status=401), True, ("stop", "stop", "stop", "stop")),
    (PermissionDeniedError("no", status=403), True, ("stop", "stop", "stop", "stop")),
    (NotFoundError("gone", status=404), True, ("fail", "fail", "done", "fail")),
    (InputError("f", 1, "bad"), True, ("fail", "fail", "fail", "fail")),
    (ValidationError("bad", status=400), True, ("fail", "fail", "fail", "fail")),
    (ThrottledError("wait", status=409), True, ("retry", "retry", "retry", "retry")),
    (OutcomeUnknownError("?"), True, ("reconcile", "reconcile", "reconcile", "retry")),
    (
        MalformedResponseError("?", status=200),
        True,
        ("reconcile", "reconcile", "reconcile", "fail"),
    ),
    (ServerError("oops", status=500), True, ("reconcile", "reconcile", "reconcile", "retry")),
    (RequestTimeoutError("slow"), True, ("reconcile", "reconcile", "reconcile", "retry")),
    (_refused_connection(), False, ("stop", "stop", "stop", "stop")),
    (_refused_connection(), True, ("retry", "retry", "retry", "retry")),
    (NexudusError("other"), True, ("reconcile", "reconcile", "reconcile", "fail")),
]


@pytest.mark.parametrize(("error", "answered", "actions"), ROWS)
def test_each_outcome_has_one_action_per_kind_of_request(
    error: BaseException, answered: bool, actions: tuple[str, str, str, str]
) -> None:
    steps: tuple[Step, ...] = ("create", "update", "delete", "read")
    got = tuple(decide(error, step, answered=answered).action for step in steps)
    assert got == actions


def test_a_write_that_may_have_run_is_never_simply_resent() -> None:
    """Every error that may have reached the server: reconcile by reading, not retry."""
    for error in (OutcomeUnknownError("?"), ServerError("x", status=502), TransportError("drop")):
        for step in ("create", "update", "delete"):
            assert decide(error, step, answered=True).action == "reconcile"  # type: ignore[arg-type]


def test_the_decision_says_what_happened() -> None:
    decision = decide(ThrottledError("You must wait", status=409), "create", answered=True)
    assert decision.why == "throttled (You must wait)"


def test_a_host_never_reached_is_fatal_only_before_any_answer() -> None:
    refused = _refused_connection()
    assert cannot_connect(refused) and not cannot_connect(TransportError("dropped"))
    assert is_fatal(refused, answered=False) and not is_fatal(refused, answered=True)
    assert is_fatal(AuthenticationError("no", status=401), answered=True)
