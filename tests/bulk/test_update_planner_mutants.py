"""The update planner's edges that one-line changes of `bulk/kinds/update.py` left unseen.

Pure: rows and records given as data; each test checks the plan (its ops, in
order, its kind and counts) or the errors a dry run prints, word for word.
"""

from __future__ import annotations

from nexudus_async._generated.api import (
    COWORKER_TIME_PASS as CTP,
    PRODUCT_TIME_PASS as PTP,
)
from nexudus_async.bulk.kinds import check_set, plan_update, update_rows
from nexudus_async.bulk.rows import SourceRow

from .helpers import ctp


def test_a_set_with_no_field_is_an_error_of_line_zero() -> None:
    clean, errors = check_set(CTP, {})
    assert clean == {}
    assert [str(e) for e in errors] == ["line 0: set= gives no field to change"]
    assert [(e.line, e.field, e.value) for e in errors] == [(0, None, None)]


def test_an_unknown_enum_value_is_refused_unless_lenient() -> None:
    _, errors = check_set(PTP, {"ExpirationType": "0"})
    assert [(e.line, e.field, e.value) for e in errors] == [(0, "ExpirationType", "0")]
    assert check_set(PTP, {"ExpirationType": "0"}, lenient=True) == ({"ExpirationType": 0}, [])
    row = [SourceRow(2, {"Id": "5", "ExpirationType": "0"})]
    wanted, errors = update_rows(PTP, row)
    assert wanted == []
    assert [(e.line, e.field) for e in errors] == [(2, "ExpirationType")]
    assert update_rows(PTP, row, lenient=True) == ([(5, (2,), {"ExpirationType": 0})], [])


def test_a_row_with_only_its_id_is_an_error_on_its_line() -> None:
    wanted, errors = update_rows(CTP, [SourceRow(4, {"Id": "9", "Notes": ""})])
    assert wanted == []
    assert [str(e) for e in errors] == ["line 4: gives no field to change"]
    assert [(e.line, e.field, e.value) for e in errors] == [(4, None, None)]


def test_the_plan_is_an_update_in_id_order_with_its_counts() -> None:
    wanted = [(3, (2,), {"Notes": "c"}), (1, (3,), {"Notes": "a"})]
    planned = plan_update(CTP, wanted, {1: ctp(1), 3: ctp(3)})
    assert [o.record_id for o in planned.plan.ops] == [1, 3]
    assert planned.plan.kind == "update"
    assert (planned.plan.rows, planned.rows, planned.plan.planning_reads) == (0, 0, 0)
    counted = plan_update(CTP, wanted, {1: ctp(1), 3: ctp(3)}, rows=7, planning_reads=2)
    assert (counted.plan.rows, counted.rows, counted.plan.planning_reads) == (7, 7, 2)


def test_every_missing_record_of_a_query_is_an_error_of_line_zero() -> None:
    wanted = [(8, (), {"Notes": "x"}), (9, (), {"Notes": "x"}), (10, (4,), {"Notes": "x"})]
    planned = plan_update(CTP, wanted, {})
    assert [str(e) for e in planned.errors] == [
        "line 0: Id=8: no CoworkerTimePass has this Id",
        "line 0: Id=9: no CoworkerTimePass has this Id",
        "line 4: Id=10: no CoworkerTimePass has this Id",
    ]


def test_an_unchanged_record_keeps_its_source_lines() -> None:
    planned = plan_update(CTP, [(1, (6,), {"Notes": "same"})], {1: ctp(1, Notes="same")})
    assert planned.plan.ops == ()
    assert planned.unchanged == (1,)
    assert dict(planned.lines) == {1: (6,)}
