"""The undo planner's edges that one-line changes of `bulk/kinds/undo.py` left unseen.

Pure: the import's groups and the passes of its window given as data; each test
checks the plan (its kind, reads and ops) or what it keeps and why, word for word.
"""

from __future__ import annotations

from typing import Any

from nexudus_async._generated.api import (
    COWORKER_TIME_PASS as CTP,
    TIME_PASS as TP,
)
from nexudus_async.bulk.kinds import UndoGroup, plan_undo

from .helpers import ctp


def group(customer: int, created: int, baseline: int = 0) -> UndoGroup:
    return UndoGroup(f"g{customer}", {"CoworkerId": customer, "TimePassId": 7}, created, baseline)


def reasons(planned: Any) -> list[tuple[int, str]]:
    return [(k.record_id, k.reason) for k in planned.kept]


def test_the_plan_is_an_undo_with_the_reads_planning_made() -> None:
    planned = plan_undo(CTP, [group(101, 1)], {1: ctp(1)}, import_job="J")
    assert (planned.plan.kind, planned.plan.planning_reads) == ("undo", 0)
    assert [o.action for o in planned.plan.ops] == ["delete"]
    counted = plan_undo(CTP, [group(101, 1)], {1: ctp(1)}, import_job="J", planning_reads=3)
    assert (counted.plan.kind, counted.plan.planning_reads) == ("undo", 3)


def test_a_rerun_counts_its_deletes_though_the_key_text_holds_a_colon() -> None:
    """A time pass's key is its business and name: the name may hold ``:``."""
    name = "Day: 10am"
    groups = [UndoGroup("g1", {"BusinessId": 1, "Name": name}, 2)]

    def tp(rid: int) -> dict[str, Any]:
        return {"Id": rid, "BusinessId": 1, "Name": name}

    first = plan_undo(TP, groups, {5: tp(5), 6: tp(6)}, import_job="J")
    assert [o.key for o in first.plan.ops] == [
        'undo:J:5:["1","Day: 10am"]',
        'undo:J:6:["1","Day: 10am"]',
    ]
    # 6 was deleted, then the run stopped; 9 was created after the import.
    rerun = plan_undo(
        TP, groups, {5: tp(5), 9: tp(9)}, import_job="J", prior=[first.plan.ops[1].key]
    )
    assert rerun.plan.ops == first.plan.ops
    assert rerun.kept == ()


def test_used_passes_of_a_key_are_reported_newest_first() -> None:
    current = {1: ctp(1, Used=True), 2: ctp(2), 3: ctp(3, Used=True)}
    planned = plan_undo(CTP, [group(101, 3)], current, import_job="J")
    assert [o.record_id for o in planned.plan.ops] == [2]
    assert reasons(planned) == [
        (3, "CoworkerId=101, TimePassId=7: used since; kept (include_used deletes it)"),
        (1, "CoworkerId=101, TimePassId=7: used since; kept (include_used deletes it)"),
    ]


def test_keys_are_reported_in_the_order_of_their_text_whatever_the_journals_order() -> None:
    """Customer 101 before 99 (text order), in whichever order the journal gives the groups."""
    current = {1: ctp(1, Coworker=99), 2: ctp(2, Coworker=101)}
    expected = [
        (0, "CoworkerId=101, TimePassId=7: 1 of the 2 passes are gone already"),
        (0, "CoworkerId=99, TimePassId=7: 1 of the 2 passes are gone already"),
    ]
    for groups in ([group(99, 2), group(101, 2)], [group(101, 2), group(99, 2)]):
        planned = plan_undo(CTP, groups, current, import_job="J")
        assert reasons(planned) == expected
        assert [o.record_id for o in planned.plan.ops] == [1, 2]


def test_a_key_with_no_pass_left_in_the_window_is_reported_gone() -> None:
    planned = plan_undo(CTP, [group(101, 1), group(102, 2)], {1: ctp(1)}, import_job="J")
    assert [o.record_id for o in planned.plan.ops] == [1]
    assert reasons(planned) == [
        (0, "CoworkerId=102, TimePassId=7: 2 of the 2 passes are gone already")
    ]


def test_the_passes_gone_count_what_an_earlier_undo_deleted_as_taken() -> None:
    first = plan_undo(CTP, [group(101, 3)], {1: ctp(1), 2: ctp(2), 3: ctp(3)}, import_job="J")
    # The first undo deleted 3; since then someone deleted 1 too.
    rerun = plan_undo(
        CTP, [group(101, 3)], {2: ctp(2)}, import_job="J", prior=[first.plan.ops[2].key]
    )
    assert [o.record_id for o in rerun.plan.ops] == [2, 3]
    assert reasons(rerun) == [
        (0, "CoworkerId=101, TimePassId=7: 1 of the 3 passes are gone already")
    ]
