"""The apply planner's edges that one-line changes of `bulk/kinds/apply.py` left unseen.

Pure: rows and records given as data; each test checks the plan (its kind,
counts, groups and ops, with their lines) or the errors a dry run prints, word
for word.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from nexudus_async._generated.api import (
    COWORKER_TIME_PASS as CTP,
    PRODUCT_TIME_PASS as PTP,
)
from nexudus_async.bulk.kinds import parse_key, plan_apply, plan_apply_counts
from nexudus_async.bulk.kinds.apply import count_rows
from nexudus_async.bulk.kinds.records import from_list_item
from nexudus_async.bulk.rows import CellFormat, RowError, SourceRow, ValidRow

from .helpers import ctp

BY_ID = parse_key(PTP, "Id")
NATURAL = parse_key(PTP, "ProductId+TimePassId")


PLAIN = CellFormat()


def rows(*data: dict[str, Any], cells: CellFormat = PLAIN) -> list[SourceRow]:
    return [SourceRow(i, d, cells) for i, d in enumerate(data, start=2)]  # line 1: the header


def ptp(rid: int, product: int, time_pass: int, passes: int = 1, **more: Any) -> Any:
    return from_list_item(
        PTP,
        {"Id": rid, "Product": product, "TimePass": time_pass, "PassesIncluded": passes, **more},
    )


def errors_of(planned: Any) -> list[str]:
    return [str(e) for e in planned.errors]


def fields_of(e: RowError) -> tuple[Any, ...]:
    return (e.line, e.field, e.value, e.message)


def pass_row(customer: int = 101, **more: Any) -> dict[str, Any]:
    return {"CoworkerId": customer, "BusinessId": 1, "TimePassId": 7, **more}


# ---------------------------------------------------------------- the key


def test_a_key_naming_a_field_twice_or_one_lists_lack_is_refused_in_words() -> None:
    with pytest.raises(ValueError) as twice:
        parse_key(PTP, "ProductId+product_id")
    assert str(twice.value) == "key 'ProductId+product_id' names a field twice"
    with pytest.raises(ValueError) as unlisted:
        parse_key(CTP, "PurchaseOrder")
    assert str(unlisted.value) == (
        "key 'PurchaseOrder': PurchaseOrder is not in CoworkerTimePass list records, "
        "so records cannot be matched by it"
    )


def test_key_cells_of_a_file_are_read_as_text_and_match_records() -> None:
    planned = plan_apply(
        PTP, rows({"ProductId": "5", "TimePassId": " 2 ", "PassesIncluded": "4"}),
        {11: ptp(11, 5, 2, 3)}, key=NATURAL,
    )  # fmt: skip
    assert planned.errors == ()
    assert [(o.key, dict(o.changes)) for o in planned.plan.ops] == [
        ("update:11", {"PassesIncluded": 4})
    ]


def test_a_key_cell_is_read_in_the_files_date_format_and_a_date_value_as_it_is() -> None:
    key = parse_key(CTP, "ExpireDate")
    day_first = CellFormat(date_format="%d/%m/%Y")
    for cell in ("31/01/2027", datetime.datetime(2027, 1, 31)):
        planned = plan_apply(
            CTP, rows({"ExpireDate": cell, "Notes": "x"}, cells=day_first), {1: ctp(1)}, key=key
        )
        assert planned.errors == ()
        assert [(o.key, dict(o.changes)) for o in planned.plan.ops] == [
            ("update:1", {"Notes": "x"})
        ]


def test_a_decimal_key_value_that_is_no_text_is_not_read_as_a_cell() -> None:
    """A Decimal from a JSON or Python source, in a file format with a decimal comma."""
    planned = plan_apply(
        CTP, rows({"Price": Decimal("2.5"), "Notes": "x"}, cells=CellFormat(decimal=",")),
        {1: ctp(1, Price=2.5)}, key=parse_key(CTP, "Price"),
    )  # fmt: skip
    assert planned.errors == ()
    assert [o.key for o in planned.plan.ops] == ["update:1"]


def test_a_key_matches_an_enum_value_the_documentation_lacks_without_lenient() -> None:
    """The key only finds records: a value the service holds must find its record."""
    planned = plan_apply(
        PTP, rows({"ProductId": "5", "ExpirationType": "0", "PassesIncluded": "2"}),
        {10: ptp(10, 5, 1, 1, ExpirationType=0)}, key=parse_key(PTP, "ProductId+ExpirationType"),
    )  # fmt: skip
    assert planned.errors == ()
    assert [(o.key, dict(o.changes)) for o in planned.plan.ops] == [
        ("update:10", {"PassesIncluded": 2})
    ]


def test_a_bad_key_cell_is_an_error_of_its_line_column_and_value() -> None:
    planned = plan_apply(
        PTP, rows({"ProductId": 5, "TimePassId": 1}, {"ProductId": "5", "TimePassId": "x"}),
        {10: ptp(10, 5, 1)}, key=NATURAL,
    )  # fmt: skip
    assert [fields_of(e) for e in planned.errors] == [
        (3, "TimePassId", "x", "must be a whole number")
    ]
    assert errors_of(planned) == ["line 3: TimePassId='x': must be a whole number"]


def test_six_records_sharing_a_key_name_the_first_five() -> None:
    current = {rid: ptp(rid, 5, 1) for rid in range(1, 7)}
    planned = plan_apply(PTP, rows({"ProductId": 5, "TimePassId": 1}), current, key=NATURAL)
    assert errors_of(planned) == [
        "line 2: ProductId+TimePassId=[5, 1]: "
        "6 records have this key (Ids 1, 2, 3, 4, 5): it must be unique"
    ]
    assert planned.plan.ops == () and planned.plan.groups == ()


# ---------------------------------------------------------------- changes and creates


def test_a_column_that_names_no_field_is_an_error_of_the_matched_row() -> None:
    planned = plan_apply(PTP, rows({"Id": 10, "Colour": "red"}), {10: ptp(10, 5, 1)}, key=BY_ID)
    assert errors_of(planned) == [
        "line 2: Colour='red': unknown column for ProductTimePass (settable: ProductId, "
        "TimePassId, PassesIncluded, ExpireTimeInMonths, ExpireTimeInWeeks, ExpirationType, "
        "ExpiresIn, SystemId)"
    ]
    assert planned.plan.ops == () and planned.unchanged == ()


def test_an_unknown_enum_value_is_refused_in_changes_and_creates_unless_lenient() -> None:
    file = rows(
        {"Id": "10", "ExpirationType": "0"},
        {"ProductId": "6", "TimePassId": "1", "PassesIncluded": "1", "ExpirationType": "0"},
    )
    current = {10: ptp(10, 5, 1)}
    strict = plan_apply(PTP, file, current, key=BY_ID)
    assert errors_of(strict) == [
        "line 2: ExpirationType='0': must be one of 1, 2, 3, 4, 5, 6",
        "line 3: ExpirationType='0': must be one of 1, 2, 3, 4, 5, 6",
    ]
    assert strict.plan.ops == () and strict.plan.groups == ()
    lenient = plan_apply(PTP, file, current, key=BY_ID, lenient=True)
    assert lenient.errors == ()
    assert [(o.key, dict(o.changes)) for o in lenient.plan.ops] == [
        ("update:10", {"ExpirationType": 0})
    ]
    assert [dict(g.fields) for g in lenient.plan.groups] == [
        {"ProductId": 6, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0}
    ]


def test_a_row_to_create_missing_a_required_field_is_an_error() -> None:
    planned = plan_apply(PTP, rows({"ProductId": "6", "PassesIncluded": "1"}), {}, key=BY_ID)
    assert errors_of(planned) == ["line 2: TimePassId: is required"]
    assert planned.plan.groups == ()


def test_a_row_applied_by_key_asking_for_several_records_is_refused() -> None:
    planned = plan_apply(CTP, rows(pass_row(CreateMultiple="3")), {}, key=parse_key(CTP, "Id"))
    assert [fields_of(e) for e in planned.errors] == [
        (
            2, "CreateMultiple", 3,
            "a row applied by key stands for one record (give Count to apply by count)",
        )
    ]  # fmt: skip
    assert planned.plan.groups == ()


def test_an_update_carries_its_source_line() -> None:
    planned = plan_apply(
        PTP, rows({"Id": 11, "ExpiresIn": 1}, {"Id": 10, "ExpiresIn": 2}),
        {10: ptp(10, 5, 1), 11: ptp(11, 5, 2)}, key=BY_ID,
    )  # fmt: skip
    assert [(o.key, o.lines) for o in planned.plan.ops] == [
        ("update:10", (3,)),
        ("update:11", (2,)),
    ]


# ---------------------------------------------------------------- rerun of an unfinished run


def test_a_rerun_keeps_the_group_its_first_run_created_though_the_record_exists_now() -> None:
    file = rows({"ProductId": 5, "TimePassId": 4, "PassesIncluded": 1})
    first = plan_apply(PTP, file, {}, key=NATURAL)
    (group,) = first.plan.groups
    # The first run created record 20, then stopped: its journal holds the group only.
    rerun = plan_apply(PTP, file, {20: ptp(20, 5, 4)}, key=NATURAL, prior={group.key: 1})
    assert [(g.key, g.count) for g in rerun.plan.groups] == [(group.key, 1)]
    assert rerun.plan.ops == () and rerun.unchanged == (20,)


def test_a_delete_an_unfinished_run_journaled_is_planned_again_though_the_record_is_gone() -> None:
    planned = plan_apply(
        PTP, rows({"Id": 10, "PassesIncluded": 1}), {10: ptp(10, 5, 1)}, key=BY_ID,
        prune_scope=[10], prior={"delete:12": 1},
    )  # fmt: skip
    assert [(o.key, o.action, o.record_id) for o in planned.plan.ops] == [
        ("delete:12", "delete", 12)
    ]
    assert planned.unchanged == (10,)


# ---------------------------------------------------------------- the plan's counts


def test_the_plan_is_an_apply_with_its_rows_reads_and_cap() -> None:
    file = rows(
        {"Id": 10, "PassesIncluded": 2},
        {"ProductId": 6, "TimePassId": 1, "PassesIncluded": 1},
        {"ProductId": 6, "TimePassId": 2, "PassesIncluded": 1},
    )
    current = {10: ptp(10, 5, 1)}
    planned = plan_apply(PTP, file, current, key=BY_ID)
    plan = planned.plan
    assert (plan.kind, plan.rows, planned.rows, plan.planning_reads, plan.cap) == (
        "apply", 3, 3, 0, None
    )  # fmt: skip
    counted = plan_apply(PTP, file, current, key=BY_ID, planning_reads=4, cap=2)
    assert (counted.plan.planning_reads, counted.plan.cap, counted.rows) == (4, 2, 3)
    assert counted.plan.create_plan("").cap == 2


def test_a_cap_below_one_is_refused_when_the_plan_creates() -> None:
    with pytest.raises(ValueError, match=r"^cap must be a positive integer$"):
        plan_apply(
            PTP, rows({"ProductId": 6, "TimePassId": 1, "PassesIncluded": 1}), {}, key=BY_ID, cap=0
        )
    with pytest.raises(ValueError, match=r"^cap must be a positive integer$"):
        plan_apply_counts(CTP, rows(pass_row(Count=1)), {}, cap=0)


# ---------------------------------------------------------------- by count


def test_a_missing_or_blank_count_is_required_and_a_padded_one_is_read() -> None:
    planned = plan_apply_counts(
        CTP, rows(pass_row(101), pass_row(102, Count="  "), pass_row(103, Count=" 3 ")), {}
    )
    assert [fields_of(e) for e in planned.errors] == [
        (2, "Count", None, "is required"),
        (3, "Count", None, "is required"),
    ]
    assert errors_of(planned) == ["line 2: Count: is required", "line 3: Count: is required"]
    assert [(g.fields["CoworkerId"], g.count) for g in planned.plan.groups] == [(103, 3)]


def test_two_rows_describing_the_same_passes_are_an_error_and_later_rows_still_count() -> None:
    planned = plan_apply_counts(
        CTP, rows(pass_row(101, Count=1), pass_row(101, Count=2), pass_row(102, Count=1)), {}
    )
    assert [fields_of(e) for e in planned.errors] == [(3, None, None, "the same passes as line 2")]
    assert errors_of(planned) == ["line 3: the same passes as line 2"]
    assert sorted((g.fields["CoworkerId"], g.count) for g in planned.plan.groups) == [
        (101, 1), (102, 1)
    ]  # fmt: skip


def test_a_by_count_row_reports_the_problems_of_its_changes_and_of_its_create() -> None:
    """An Id column is a change no record takes; a missing BusinessId fails the create."""
    planned = plan_apply_counts(
        CTP, rows({"Id": 4, "CoworkerId": 101, "TimePassId": 7, "Count": 1}), {}
    )
    assert errors_of(planned) == [
        "line 2: Id=4: the Id of a record cannot change",
        "line 2: BusinessId: is required",
    ]


def test_lenient_reaches_a_by_count_rows_checks() -> None:
    """No entity with a count field has an enum field today; the planner takes any entity."""
    file = rows(
        {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": "0", "Count": 1}
    )
    refused = ["line 2: ExpirationType='0': must be one of 1, 2, 3, 4, 5, 6"]
    assert [str(e) for e in count_rows(PTP, file)[1]] == refused
    assert errors_of(plan_apply_counts(PTP, file, {})) == refused
    lenient = plan_apply_counts(PTP, file, {}, lenient=True)
    assert lenient.errors == ()
    assert [(dict(g.fields), g.count) for g in lenient.plan.groups] == [
        ({"ProductId": 5, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0}, 1)
    ]
    checked, errors, n = count_rows(PTP, file, lenient=True)
    assert (errors, n) == ([], 1)
    assert [(c.line, c.want, dict(c.alike)) for c in checked] == [
        (2, 1, {"ProductId": 5, "TimePassId": 1, "PassesIncluded": 1, "ExpirationType": 0})
    ]
    assert isinstance(checked[0].valid, ValidRow)


def test_a_pass_two_rows_describe_equally_is_the_first_rows() -> None:
    file = rows(pass_row(Notes="x", Count=1), pass_row(Free="false", Count=0))
    planned = plan_apply_counts(CTP, file, {1: ctp(1, Notes="x")}, prune_scope=[1])
    assert planned.errors == ()
    assert planned.plan.groups == () and planned.plan.ops == ()


def test_a_by_count_plan_is_an_apply_with_its_rows_reads_cap_and_stray_deletes() -> None:
    file = rows(pass_row(101, Count=1), pass_row(102, Count=0), pass_row(103, Count=0))
    current = {1: ctp(1, Coworker=101), 9: ctp(9, Coworker=109)}
    planned = plan_apply_counts(CTP, file, current, prune_scope=[9], planning_reads=4, cap=2)
    plan = planned.plan
    assert (plan.kind, plan.rows, planned.rows, plan.planning_reads, plan.cap) == (
        "apply", 3, 3, 4, 2
    )  # fmt: skip
    assert [(o.key, o.lines, dict(o.expect)) for o in plan.ops] == [
        ("delete:9", (), {"Used": False})
    ]
    assert plan.groups == ()


def test_a_by_count_rerun_keeps_its_group_though_the_passes_exist_now() -> None:
    file = rows(pass_row(101, Count=2))
    (group,) = plan_apply_counts(CTP, file, {}).plan.groups
    rerun = plan_apply_counts(CTP, file, {1: ctp(1), 2: ctp(2)}, prior={group.key: 2})
    assert [(g.key, g.count) for g in rerun.plan.groups] == [(group.key, 2)]
