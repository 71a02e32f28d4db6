"""The delete planner's plan and errors as given to the job (`bulk/kinds/delete.py`).

Pure: Ids and records given as data; each test checks the plan's kind, counts
and ops (with what each must still hold when read) and the errors in line order.
"""

from __future__ import annotations

from nexudus_async._generated.api import COWORKER_TIME_PASS as CTP
from nexudus_async.bulk.kinds import plan_delete
from nexudus_async.bulk.rows import RowError


def test_the_plan_is_a_delete_with_its_counts_and_the_values_to_expect() -> None:
    wanted = {3: (2,), 1: (4,), 9: (5,)}
    planned = plan_delete(CTP, wanted, {1: {}, 3: {}}, expect={"Used": False})
    assert planned.plan.kind == "delete"
    assert [(o.record_id, o.lines, dict(o.expect)) for o in planned.plan.ops] == [
        (1, (4,), {"Used": False}),
        (3, (2,), {"Used": False}),
    ]
    assert (planned.plan.rows, planned.rows, planned.plan.planning_reads) == (0, 0, 0)
    assert (planned.gone, dict(planned.lines)) == ((9,), {9: (5,)})
    counted = plan_delete(CTP, wanted, {}, rows=3, planning_reads=2)
    assert (counted.plan.rows, counted.rows, counted.plan.planning_reads) == (3, 3, 2)


def test_the_rows_errors_are_kept_in_line_order() -> None:
    errors = [RowError(7, "Id", "x", "bad"), RowError(2, "Id", "y", "bad")]
    planned = plan_delete(CTP, {}, {}, errors=errors)
    assert [e.line for e in planned.errors] == [2, 7]
    assert not planned.ok
