"""The planner's promises, each pinned: groups and their order, what coalesces and what is
flagged, the request counts a cap and the count field's bound give, the baseline reads,
and the content hashes a journal resumes by (a change would orphan every existing job)."""

from __future__ import annotations

import decimal

import pytest

from nexudus_async._core.throttle import RateLimits
from nexudus_async._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS
from nexudus_async.bulk.plan import Group, estimate_seconds, make_plan
from nexudus_async.bulk.rows import SourceRow, ValidRow, validate_rows
from nexudus_async.bulk.schedule import finish_seconds

BASE = {"CoworkerId": "1", "BusinessId": "2", "TimePassId": "3"}
LINK = {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
INT32_MAX = 2_147_483_647


def valid(entity: object, *data: dict[str, object]) -> list[ValidRow]:
    ok, errors = validate_rows(entity, [SourceRow(i + 2, d) for i, d in enumerate(data)])  # type: ignore[arg-type]
    assert errors == []
    return ok


def passes(*data: dict[str, object]) -> list[ValidRow]:
    return valid(COWORKER_TIME_PASS, *data)


def test_the_journal_keys_of_a_job_are_the_same_in_every_version() -> None:
    # a price is keyed by its plain digits: 100 (1E+2 once normalized) as "100"
    rows = passes(BASE, {**BASE, "Price": "10.50"}, {**BASE, "Price": "100"})
    plan = make_plan(COWORKER_TIME_PASS, rows)
    assert [(g.fields.get("Price"), g.key) for g in plan.groups] == [
        (decimal.Decimal("100"), "0ba6b89b240fa8ab8f8822f67e7a2365"),
        (decimal.Decimal("10.50"), "571308f450540cf22604d89552e2e86f"),
        (None, "abe2ce5a1131c7d986de9c31c0050f71"),
    ]
    assert plan.job_hash == "f54ef9fa3379767fe6ddffb8eb6f8079faa7d99717b1a83d6e097b5c92b8062d"
    assert make_plan(COWORKER_TIME_PASS, []).job_hash == (
        "8aee0b3cbc680c2b3d6d6ce98a3254163457a6e033126583df0d0f5e5c678146"
    )


def test_a_group_is_the_first_row_fields_the_summed_count_and_every_line() -> None:
    plan = make_plan(
        COWORKER_TIME_PASS,
        passes(
            {**BASE, "Price": "10"},
            {**BASE, "CoworkerId": "4"},
            {**BASE, "Price": "10.00", "CreateMultiple": "3"},
        ),
    )
    assert (plan.rows, plan.records, plan.cap, plan.duplicates) == (3, 5, None, 0)
    [priced, other] = plan.groups
    assert priced.fields == {
        "CoworkerId": 1,
        "BusinessId": 2,
        "TimePassId": 3,
        "Price": decimal.Decimal("10"),
    }
    assert (priced.count, priced.lines, priced.row_counts) == (4, (2, 4), (1, 3))
    assert (priced.reconcile_key, priced.duplicates) == ((1, 3), ())
    assert (other.count, other.lines, other.row_counts, other.reconcile_key) == (
        1,
        (3,),
        (1,),
        (4, 3),
    )


def test_groups_are_ordered_by_the_text_of_their_key_whatever_the_row_order() -> None:
    def order(*coworkers: str) -> list[tuple[object, ...]]:
        plan = make_plan(
            COWORKER_TIME_PASS, passes(*({**BASE, "CoworkerId": c} for c in coworkers))
        )
        return [g.reconcile_key for g in plan.groups]

    # as text: "10" sorts before "9" (the journal's order, kept since the first version)
    assert order("9", "10", "1") == [(1, 3), (10, 3), (9, 3)]
    assert order("1", "9", "10") == [(1, 3), (10, 3), (9, 3)]


def test_groups_of_one_reconciliation_key_are_ordered_by_their_own_key() -> None:
    a = make_plan(COWORKER_TIME_PASS, passes(BASE, {**BASE, "Notes": "x"}, {**BASE, "Notes": "y"}))
    b = make_plan(COWORKER_TIME_PASS, passes({**BASE, "Notes": "y"}, {**BASE, "Notes": "x"}, BASE))
    keys = [g.key for g in a.groups]
    assert keys == sorted(keys)
    assert [g.key for g in b.groups] == keys
    assert a.reconcile_keys == a.snapshot_budget == 1


@pytest.mark.parametrize(
    ("count", "cap", "requests"),
    [(25, None, 1), (25, 10, 3), (20, 10, 2), (1, 10, 1), (10, 1, 10), (11, 10, 2)],
)
def test_a_group_needs_one_request_per_cap_started(
    count: int, cap: int | None, requests: int
) -> None:
    group = Group(
        key="k", fields={}, count=count, lines=(2,), row_counts=(count,), reconcile_key=()
    )
    assert group.requests(cap) == requests


def test_a_cap_of_one_is_accepted_and_below_it_refused_with_why() -> None:
    rows = passes({**BASE, "CreateMultiple": "3"})
    assert make_plan(COWORKER_TIME_PASS, rows, cap=1).create_requests == 3
    for cap in (0, -1):
        with pytest.raises(ValueError, match=r"^cap must be a positive integer$"):
            make_plan(COWORKER_TIME_PASS, rows, cap=cap)


def test_one_create_asks_for_at_most_the_cap_or_what_the_count_field_holds() -> None:
    rows = passes({**BASE, "CreateMultiple": str(INT32_MAX)}, {**BASE, "CreateMultiple": "5"})
    plan = make_plan(COWORKER_TIME_PASS, rows)
    assert plan.records == INT32_MAX + 5
    assert plan.per_request == INT32_MAX
    assert plan.create_requests == 2  # more than an int32 in one group: two requests
    assert make_plan(COWORKER_TIME_PASS, rows, cap=1000).per_request == 1000
    assert make_plan(COWORKER_TIME_PASS, rows, cap=INT32_MAX + 9).per_request == INT32_MAX


def test_a_link_entity_has_no_count_field_so_only_the_cap_bounds_it() -> None:
    rows = valid(PRODUCT_TIME_PASS, LINK)
    assert make_plan(PRODUCT_TIME_PASS, rows).per_request is None
    assert make_plan(PRODUCT_TIME_PASS, rows, cap=5).per_request == 5
    assert make_plan(PRODUCT_TIME_PASS, rows, cap=5).create_requests == 1


def test_identical_link_rows_are_one_group_flagging_the_others() -> None:
    plan = make_plan(PRODUCT_TIME_PASS, valid(PRODUCT_TIME_PASS, LINK, LINK, LINK))
    [group] = plan.groups
    assert group.fields == {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
    assert (group.count, group.lines, group.row_counts, group.duplicates) == (1, (2,), (1,), (3, 4))
    assert group.reconcile_key == (1, 2)
    assert (plan.duplicates, plan.records, plan.create_requests) == (2, 1, 1)


def test_link_rows_sent_anyway_keep_their_occurrence_in_their_keys() -> None:
    plan = make_plan(PRODUCT_TIME_PASS, valid(PRODUCT_TIME_PASS, LINK, LINK), send_duplicates=True)
    assert sorted((g.lines, g.duplicates) for g in plan.groups) == [((2,), ()), ((3,), ())]
    # the first occurrence is #0, the second #1: pinned, a resumed job finds them again
    assert [(g.lines, g.key) for g in plan.groups] == [
        ((3,), "4407ca884844a40703ce3af95bdd84b2"),
        ((2,), "69a0eaa0094420f9b5b80e96830dbb28"),
    ]


def test_sending_duplicates_is_about_link_rows_passes_still_coalesce() -> None:
    plan = make_plan(COWORKER_TIME_PASS, passes(BASE, BASE), send_duplicates=True)
    [group] = plan.groups
    assert (group.count, group.lines, plan.create_requests) == (2, (2, 3), 1)


def test_an_empty_plan_reads_nothing_and_takes_no_time() -> None:
    plan = make_plan(COWORKER_TIME_PASS, [])
    assert (plan.groups, plan.rows, plan.records, plan.create_requests) == ((), 0, 0, 0)
    assert (plan.baseline_reads, plan.reconcile_keys, plan.snapshot_budget) == (0, 0, 0)
    assert estimate_seconds(plan) == 0.0


def test_the_estimate_is_one_read_then_the_creates_under_the_published_limits() -> None:
    plan = make_plan(
        COWORKER_TIME_PASS, passes(*({**BASE, "CoworkerId": str(i)} for i in range(1, 4)))
    )
    published = RateLimits.published()
    expected = finish_seconds(published, reads=1, writes=3)
    assert expected > finish_seconds(published, reads=0, writes=3)
    assert estimate_seconds(plan) == expected
    exact = published.without_safety()
    assert estimate_seconds(plan, exact) == finish_seconds(exact, reads=1, writes=3)
