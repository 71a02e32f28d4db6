"""The planners of update, delete, apply and undo: pure, on records given as data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from nexudus_async._generated.api import (
    COWORKER_TIME_PASS as CTP,
    PRODUCT_TIME_PASS as PTP,
)
from nexudus_async.bulk.kinds import (
    UndoGroup,
    check_set,
    delete_ids,
    parse_key,
    plan_apply,
    plan_apply_counts,
    plan_delete,
    plan_undo,
    plan_update,
    update_rows,
)
from nexudus_async.bulk.kinds.records import from_list_item
from nexudus_async.bulk.rows import CellFormat, SourceRow

from .helpers import ctp


def rows(*data: dict[str, Any]) -> list[SourceRow]:
    return [SourceRow(i, d) for i, d in enumerate(data, start=2)]  # line 1: the header


def errors_of(planned: Any) -> list[str]:
    return [str(e) for e in planned.errors]


# ---------------------------------------------------------------- update


def test_update_rows_plan_only_records_that_differ() -> None:
    current = {1: ctp(1), 2: ctp(2, ExpireDate="2027-06-30T00:00:00"), 3: ctp(3)}
    wanted, errors = update_rows(
        CTP,
        rows(
            {"Id": "1", "ExpireDate": "2027-06-30"},
            {"Id": "2", "ExpireDate": "2027-06-30T00:00"},  # already so: nothing sent
            {"id": 3, "price": "12.50", "Notes": ""},  # blank: not changed
        ),
    )
    assert errors == []
    planned = plan_update(CTP, wanted, current, planning_reads=1, rows=3)
    assert planned.errors == ()
    assert [(o.key, o.record_id, dict(o.changes), o.lines) for o in planned.plan.ops] == [
        ("update:1", 1, {"ExpireDate": "2027-06-30T00:00:00Z"}, (2,)),
        ("update:3", 3, {"Price": Decimal("12.50")}, (4,)),
    ]
    assert planned.unchanged == (2,)
    est = planned.estimate
    assert (est.planning_reads, est.full_reads, est.puts, est.deletes, est.creates) == (
        1,
        2,
        2,
        0,
        0,
    )
    assert est.total == 5


def test_update_bad_input_is_found_with_line_and_field() -> None:
    current = {1: ctp(1)}
    wanted, errors = update_rows(
        CTP,
        rows(
            {"Id": 1, "CheckedIn": "true"},
            {"Id": "x", "ExpireDate": "2027-06-30"},
            {"ExpireDate": "2027-06-30"},
            {"Id": 9, "ExpireDate": "30/06/2027"},
            {"Id": 1, "Colour": "red"},
            {"Id": 5, "Used": "maybe"},
        ),
    )
    planned = plan_update(CTP, wanted, current, errors=errors)
    text = errors_of(planned)
    assert "line 2: CheckedIn='true': cannot be set: it is read-only" in text
    assert "line 3: Id='x': must be a whole number (a record Id)" in text or any(
        t.startswith("line 3: Id='x'") for t in text
    )
    assert "line 4: Id: is required" in text
    assert any(t.startswith("line 5: ExpireDate='30/06/2027'") for t in text)
    assert any(t.startswith("line 6: Colour='red': unknown column") for t in text)
    assert any(t.startswith("line 7: Used='maybe'") for t in text)
    # line 6 repeats Id 1 (its own error besides) and no ops go out with errors anyway
    assert "line 6: Id=1: also on line 2" in text


def test_update_an_id_that_does_not_exist_is_an_error_on_its_line() -> None:
    wanted, errors = update_rows(CTP, rows({"Id": 1, "Notes": "a"}, {"Id": 404, "Notes": "b"}))
    planned = plan_update(CTP, wanted, {1: ctp(1)}, errors=errors)
    assert errors_of(planned) == ["line 3: Id=404: no CoworkerTimePass has this Id"]


def test_update_a_field_lists_lack_is_always_planned() -> None:
    """PurchaseOrder is not in list records: only the executor's full read can compare it."""
    wanted, _ = update_rows(CTP, rows({"Id": 1, "PurchaseOrder": "PO-1"}))
    planned = plan_update(CTP, wanted, {1: ctp(1)})
    assert [o.key for o in planned.plan.ops] == ["update:1"]


def test_update_cells_read_with_the_spreadsheet_format() -> None:
    cells = CellFormat(decimal=",", date_format="%d/%m/%Y")
    row = SourceRow(2, {"Id": 1, "Price": "12,30", "ExpireDate": "30/06/2027"}, cells)
    wanted, errors = update_rows(CTP, [row])
    assert errors == []
    assert wanted[0][2]["ExpireDate"] == "2027-06-30T00:00:00Z"
    assert str(wanted[0][2]["Price"]) == "12.30"


def test_set_on_a_read_only_field_is_refused() -> None:
    _, errors = check_set(CTP, {"CreatedOn": "2027-01-01"})
    assert [str(e) for e in errors] == [
        "line 0: CreatedOn='2027-01-01': cannot be set: it is read-only"
    ]
    changes, errors = check_set(CTP, {"expire_date": "2027-06-30"})
    assert errors == [] and changes == {"ExpireDate": "2027-06-30T00:00:00Z"}


def test_update_rerun_plans_the_ops_an_unfinished_run_journaled() -> None:
    wanted, _ = update_rows(CTP, rows({"Id": 1, "Notes": "x"}, {"Id": 2, "Notes": "x"}))
    current = {1: ctp(1, Notes="x"), 2: ctp(2)}
    assert [o.record_id for o in plan_update(CTP, wanted, current).plan.ops] == [2]
    again = plan_update(CTP, wanted, current, prior={"update:1"})
    assert [o.record_id for o in again.plan.ops] == [1, 2]


# ---------------------------------------------------------------- delete


def test_delete_an_id_already_gone_counts_as_deleted() -> None:
    ids, errors = delete_ids(CTP, rows({"Id": 3}, {"Id": "4", "Notes": "ignored"}, {"Id": 3}))
    assert errors == [] and ids == {3: (2, 4), 4: (3,)}
    planned = plan_delete(CTP, ids, {4: ctp(4)})
    assert [(o.key, o.action, o.lines) for o in planned.plan.ops] == [("delete:4", "delete", (3,))]
    assert planned.gone == (3,)
    assert planned.estimate.deletes == 1 and planned.estimate.full_reads == 1
    rerun = plan_delete(CTP, ids, {}, prior={"delete:4"})
    assert [o.key for o in rerun.plan.ops] == ["delete:4"] and rerun.gone == (3,)


def test_delete_rows_without_an_id_are_errors() -> None:
    _, errors = delete_ids(CTP, rows({"Id": ""}, {"Id": -1}))
    assert [str(e) for e in errors] == [
        "line 2: Id: is required",
        "line 3: Id=-1: must be at least 1 (a record Id)",
    ]


# ---------------------------------------------------------------- apply by key


def ptp(rid: int, product: int, time_pass: int, passes: int = 1, **more: Any) -> dict[str, Any]:
    return from_list_item(
        PTP,
        {"Id": rid, "Product": product, "TimePass": time_pass, "PassesIncluded": passes, **more},
    )


def test_apply_by_natural_key_creates_updates_and_leaves_equal_alone() -> None:
    current = {10: ptp(10, 5, 1, 2), 11: ptp(11, 5, 2, 3), 12: ptp(12, 5, 3, 1)}
    planned = plan_apply(
        PTP,
        rows(
            {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 2},  # equal
            {"ProductId": 5, "TimePassId": 2, "PassesIncluded": 4},  # changed
            {"ProductId": 5, "TimePassId": 4, "PassesIncluded": 1},  # missing
        ),
        current,
        key=parse_key(PTP, "ProductId+TimePassId"),
        prune_scope=list(current),
    )
    assert planned.errors == ()
    ops = [(o.key, dict(o.changes)) for o in planned.plan.ops]
    assert ops == [("update:11", {"PassesIncluded": 4}), ("delete:12", {})]
    assert [dict(g.fields) for g in planned.plan.groups] == [
        {"ProductId": 5, "TimePassId": 4, "PassesIncluded": 1}
    ]
    assert planned.unchanged == (10,)
    est = planned.estimate
    assert (est.creates, est.puts, est.deletes, est.baseline_reads) == (1, 1, 1, 1)


def test_apply_without_prune_deletes_nothing() -> None:
    current = {10: ptp(10, 5, 1), 12: ptp(12, 5, 3)}
    planned = plan_apply(
        PTP, rows({"product_id": 5, "time_pass_id": 1, "passes_included": 1}), current,
        key=parse_key(PTP, "product_id+time_pass_id"),
    )  # fmt: skip
    assert planned.plan.ops == () and planned.plan.groups == () and planned.unchanged == (10,)


def test_apply_key_problems() -> None:
    current = {10: ptp(10, 5, 1), 11: ptp(11, 5, 1)}
    planned = plan_apply(
        PTP,
        rows(
            {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 2},
            {"ProductId": 6, "TimePassId": 1, "PassesIncluded": 2},
            {"ProductId": 6, "TimePassId": 1, "PassesIncluded": 3},
            {"TimePassId": 1, "PassesIncluded": 3},
        ),
        current,
        key=parse_key(PTP, "ProductId+TimePassId"),
    )
    text = errors_of(planned)
    assert any(
        t.startswith("line 2: ProductId+TimePassId=[5, 1]: 2 records have this key") for t in text
    )
    assert "line 4: ProductId+TimePassId=[6, 1]: also on line 3" in text
    assert "line 5: ProductId: is required (part of the key ProductId+TimePassId)" in text
    with pytest.raises(ValueError, match="has no field 'Colour'"):
        parse_key(PTP, "Colour")
    with pytest.raises(ValueError, match="PurchaseOrder is not in CoworkerTimePass list records"):
        parse_key(CTP, "PurchaseOrder")


def test_apply_by_id_updates_only_the_files_columns_and_creates_rows_without_id() -> None:
    current = {10: ptp(10, 5, 1, 2, ExpiresIn=3)}
    planned = plan_apply(
        PTP,
        rows(
            {"Id": 10, "PassesIncluded": 2, "ExpiresIn": 6},
            {"Id": "", "ProductId": 7, "TimePassId": 1, "PassesIncluded": 1},
            {"Id": 99, "PassesIncluded": 1},
        ),
        current,
        key=parse_key(PTP, "Id"),
    )
    assert errors_of(planned) == ["line 4: Id=99: no ProductTimePass has this Id"]
    assert [(o.key, dict(o.changes)) for o in planned.plan.ops] == [
        ("update:10", {"PassesIncluded": 2, "ExpiresIn": 6})
    ]
    assert [g.fields["ProductId"] for g in planned.plan.groups] == [7]


def test_apply_twice_plans_nothing_the_second_time() -> None:
    file = rows({"ProductId": 5, "TimePassId": 2, "PassesIncluded": 4, "SystemId": "m-2"})
    key = parse_key(PTP, "SystemId")
    first = plan_apply(PTP, file, {11: ptp(11, 5, 2, 3, SystemId="m-2")}, key=key)
    assert [o.key for o in first.plan.ops] == ["update:11"]
    second = plan_apply(PTP, file, {11: ptp(11, 5, 2, 4, SystemId="m-2")}, key=key)
    assert second.plan.ops == () and second.plan.groups == () and second.unchanged == (11,)


# ---------------------------------------------------------------- apply by count


def test_apply_counts_creates_the_shortfall_and_prunes_the_surplus_newest_first() -> None:
    current = {
        1: ctp(1, Coworker=101), 2: ctp(2, Coworker=101), 3: ctp(3, Coworker=101, Used=True),
        4: ctp(4, Coworker=102), 5: ctp(5, Coworker=102), 6: ctp(6, Coworker=102),
        7: ctp(7, Coworker=103),
    }  # fmt: skip
    file = rows(
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": 5},
        {"CoworkerId": 102, "BusinessId": 1, "TimePassId": 7, "Count": "1"},
    )
    planned = plan_apply_counts(CTP, file, current, prune_scope=list(current))
    assert planned.errors == ()
    (group,) = planned.plan.groups
    assert group.count == 3 and group.fields["CoworkerId"] == 101  # the used pass does not count
    assert [(o.key, dict(o.expect)) for o in planned.plan.ops] == [
        ("delete:5", {"Used": False}),
        ("delete:6", {"Used": False}),
        ("delete:7", {"Used": False}),  # a pass in scope no row describes
    ]
    no_prune = plan_apply_counts(CTP, file, current)
    assert no_prune.plan.ops == () and no_prune.plan.groups[0].count == 3


def test_apply_counts_match_the_rows_columns_most_specific_first() -> None:
    current = {1: ctp(1, Notes="vip"), 2: ctp(2), 3: ctp(3)}
    file = rows(
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": 2},
        {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Notes": "vip", "Count": 2},
    )
    planned = plan_apply_counts(CTP, file, current)
    (group,) = planned.plan.groups
    assert group.count == 1 and group.fields["Notes"] == "vip"


def test_apply_counts_bad_rows() -> None:
    planned = plan_apply_counts(
        CTP,
        rows(
            {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": "-1"},
            {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": 2, "CreateMultiple": 3},
            {"CoworkerId": 102, "BusinessId": 1, "TimePassId": 7, "Count": 1, "PurchaseOrder": "x"},
            {"CoworkerId": 103, "TimePassId": 7, "Count": 1},
        ),
        {},
    )
    text = errors_of(planned)
    assert "line 2: Count='-1': must be a whole number, 0 or more" in text
    assert "line 3: CreateMultiple: give Count instead" in text
    assert "line 4: PurchaseOrder: cannot be compared: list records lack it" in text
    assert "line 5: BusinessId: is required" in text
    assert planned.plan.groups == ()


# ---------------------------------------------------------------- undo


def test_undo_takes_the_newest_passes_of_each_key_and_keeps_used_ones() -> None:
    groups = [
        UndoGroup("g1", {"CoworkerId": 101, "TimePassId": 7, "BusinessId": 1}, 2, baseline=1),
        UndoGroup("g2", {"CoworkerId": 101, "TimePassId": 7, "Notes": "x"}, 1, baseline=3),
        UndoGroup("g3", {"CoworkerId": 102, "TimePassId": 7, "BusinessId": 1}, 2),
    ]
    current = {
        1: ctp(1), 5: ctp(5), 6: ctp(6, Used=True), 7: ctp(7),  # 101: the import's are 5, 6, 7
        8: ctp(8, Coworker=102),  # 102: only one of two left
        9: ctp(9, Coworker=103),
    }  # fmt: skip
    planned = plan_undo(CTP, groups, current, import_job="J" * 20)
    assert [(o.key, dict(o.expect)) for o in planned.plan.ops] == [
        ('undo:JJJJJJJJJJJJJJJJ:5:["101","7"]', {"Used": False}),
        ('undo:JJJJJJJJJJJJJJJJ:7:["101","7"]', {"Used": False}),
        ('undo:JJJJJJJJJJJJJJJJ:8:["102","7"]', {"Used": False}),
    ]
    assert [(k.record_id, k.reason) for k in planned.kept] == [
        (6, "CoworkerId=101, TimePassId=7: used since; kept (include_used deletes it)"),
        (0, "CoworkerId=102, TimePassId=7: 1 of the 2 passes are gone already"),
    ]
    every = plan_undo(CTP, groups, current, import_job="J", include_used=True)
    assert [(o.record_id, dict(o.expect)) for o in every.plan.ops] == [
        (5, {}), (6, {}), (7, {}), (8, {})
    ]  # fmt: skip


def test_undo_never_takes_a_pass_of_the_baseline() -> None:
    """Passes that existed before the import are not its, though some of its are gone."""
    groups = [UndoGroup("g1", {"CoworkerId": 101, "TimePassId": 7}, 3, baseline=2)]
    planned = plan_undo(CTP, groups, {1: ctp(1), 2: ctp(2), 4: ctp(4)}, import_job="J")
    assert [o.record_id for o in planned.plan.ops] == [4]
    assert [k.reason for k in planned.kept] == [
        "CoworkerId=101, TimePassId=7: 2 of the 3 passes are gone already"
    ]


def test_undo_never_takes_a_pass_created_after_the_import() -> None:
    groups = [UndoGroup("g1", {"CoworkerId": 101, "TimePassId": 7}, 2, baseline=1)]
    current = {1: ctp(1), 2: ctp(2), 3: ctp(3), 8: ctp(8), 9: ctp(9)}  # 8, 9: a later import
    planned = plan_undo(CTP, groups, current, import_job="J")
    assert [o.record_id for o in planned.plan.ops] == [2, 3]


def test_undo_rerun_counts_what_it_deleted_and_takes_no_older_pass() -> None:
    groups = [UndoGroup("g1", {"CoworkerId": 101, "TimePassId": 7}, 2, baseline=1)]
    first = plan_undo(CTP, groups, {1: ctp(1), 2: ctp(2), 3: ctp(3)}, import_job="J")
    assert [o.record_id for o in first.plan.ops] == [2, 3]
    # The first run deleted 3, then stopped: a rerun plans the same two ops.
    done = [first.plan.ops[1].key, "undo:K:1:x", "update:1"]  # another import's, another kind's
    later = {1: ctp(1), 2: ctp(2), 8: ctp(8)}  # 8: created after the import
    rerun = plan_undo(CTP, groups, later, import_job="J", prior=done)
    assert rerun.plan.ops == first.plan.ops
    assert rerun.kept == ()
    finished = plan_undo(
        CTP, groups, {1: ctp(1), 8: ctp(8)}, import_job="J", prior=[*done, first.plan.ops[0].key]
    )
    assert finished.plan.ops == first.plan.ops and finished.kept == ()


def test_apply_counts_prunes_only_inside_the_scope() -> None:
    """Passes read because a row could describe them, outside ``where``, are never pruned."""
    current = {1: ctp(1), 2: ctp(2), 3: ctp(3, Coworker=109), 4: ctp(4, Coworker=110)}
    file = rows({"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": 1})
    planned = plan_apply_counts(CTP, file, current, prune_scope=[1, 4])
    assert [o.record_id for o in planned.plan.ops] == [1, 4]  # not 2, nor the stray 3


def test_the_estimate_counts_split_creates_and_the_time_the_limits_set() -> None:
    from nexudus_async._core.throttle import RateLimits
    from nexudus_async.bulk.schedule import finish_seconds

    file = rows({"CoworkerId": 101, "BusinessId": 1, "TimePassId": 7, "Count": 5})
    planned = plan_apply_counts(CTP, file, {9: ctp(9, Coworker=102)}, prune_scope=[9], cap=2)
    est = planned.estimate
    assert (est.creates, est.deletes, est.full_reads, est.baseline_reads) == (3, 1, 1, 1)
    assert (est.reads, est.writes) == (2, 4)
    published = RateLimits.published()
    assert est.seconds() == finish_seconds(published, reads=2, writes=4) > 0
    summary = planned.to_json()
    assert summary["creates"] == 5 and summary["deletes"] == 1
    assert summary["requests"] == {
        "planning_reads": 0, "full_reads": 1, "puts": 0, "deletes": 1, "creates": 3,
        "baseline_reads": 1, "total": 6,
    }  # fmt: skip
