"""The failure policy's edges the table's rows do not reach: errors it does not name."""

from __future__ import annotations

import pytest

from nexudus_async.bulk.policy import Decision, Step, decide, is_fatal


@pytest.mark.parametrize(
    ("step", "action"),
    [("create", "reconcile"), ("update", "reconcile"), ("delete", "reconcile"), ("read", "fail")],
)
def test_an_error_the_table_does_not_name_reconciles_a_write_and_fails_a_read(
    step: Step, action: str
) -> None:
    """A bug's exception (not ours) may have come after the request left: never resend."""
    decision = decide(RuntimeError("boom"), step, answered=True)
    assert decision == Decision(action, "RuntimeError (boom)")  # type: ignore[arg-type]
    assert not is_fatal(RuntimeError("boom"), answered=False)
