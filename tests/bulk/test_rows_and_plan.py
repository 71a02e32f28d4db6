"""Row validation and the planner: pure, no I/O."""

from __future__ import annotations

import decimal

import pytest

from nexudus_async._core.throttle import RateLimits
from nexudus_async._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS, TARIFF_TIME_PASS
from nexudus_async.bulk.plan import estimate_seconds, make_plan
from nexudus_async.bulk.rows import SourceRow, ValidRow, validate_rows


def rows(*data: dict[str, object]) -> list[SourceRow]:
    return [SourceRow(i + 2, d) for i, d in enumerate(data)]


def valid(*data: dict[str, object]) -> list[ValidRow]:
    ok, errors = validate_rows(COWORKER_TIME_PASS, rows(*data))
    assert errors == []
    return ok


BASE = {"CoworkerId": "1", "BusinessId": "2", "TimePassId": "3"}


def test_api_and_snake_case_names_and_csv_strings_are_normalized() -> None:
    (row,) = valid(
        {
            "coworker_id": "10",
            "BusinessId": 2,
            "time_pass_id": " 3 ",
            "create_multiple": "4",
            "Price": "12.50",
            "ExpireDate": "2027-06-30",
            "Free": "yes",
            "Notes": "",
        }
    )
    assert row.count == 4
    assert row.values == {
        "CoworkerId": 10,
        "BusinessId": 2,
        "TimePassId": 3,
        "Price": decimal.Decimal("12.50"),
        "ExpireDate": "2027-06-30T00:00:00Z",
        "Free": True,
    }


def test_money_is_never_a_float_and_has_no_invented_limit() -> None:
    # 1e400 is no double; the pages state no limit for a decimal, so none is added.
    (row,) = valid({**BASE, "Price": " 0.30000000000000001 "})
    assert row.values["Price"] == decimal.Decimal("0.30000000000000001")
    (huge,) = valid({**BASE, "Price": "1e400"})
    assert huge.values["Price"] == decimal.Decimal("1E+400")


def test_count_defaults_to_one() -> None:
    (row,) = valid(BASE)
    assert row.count == 1


@pytest.mark.parametrize(
    ("data", "field", "needle"),
    [
        ({"BusinessId": "2", "TimePassId": "3"}, "CoworkerId", "is required"),
        ({**BASE, "CoworkerId": "abc"}, "CoworkerId", "must be a whole number"),
        ({**BASE, "CoworkerId": "1.5"}, "CoworkerId", "must be a whole number"),
        ({**BASE, "CoworkerId": True}, "CoworkerId", "must be a whole number"),
        ({**BASE, "CreateMultiple": "-2"}, "CreateMultiple", "must be at least 1"),
        ({**BASE, "CreateMultiple": "0"}, "CreateMultiple", "must be at least 1"),
        ({**BASE, "ExpireDate": "31/12/2027"}, "ExpireDate", "must be a date"),
        ({**BASE, "ExpireDate": "2027-02-30"}, "ExpireDate", "must be a date"),
        ({**BASE, "ExpireDate": "2027-01-01T10:00+02:00"}, "ExpireDate", "offset"),
        ({**BASE, "Price": "ten"}, "Price", "must be a number"),
        ({**BASE, "Price": "abc"}, "Price", "must be a number"),
        ({**BASE, "Price": "12,30"}, "Price", "must be a number"),
        ({**BASE, "Price": "1_000"}, "Price", "must be a number"),
        ({**BASE, "Price": "NaN"}, "Price", "finite"),
        ({**BASE, "Price": "-Infinity"}, "Price", "finite"),
        ({**BASE, "Price": float("nan")}, "Price", "finite"),
        ({**BASE, "CoworkerId": 2**31}, "CoworkerId", "must be at most 2147483647"),
        ({**BASE, "Free": "perhaps"}, "Free", "true or false"),
        ({**BASE, "CoworkerProductUniqueId": "nope"}, "CoworkerProductUniqueId", "UUID"),
        ({**BASE, "Colour": "red"}, "Colour", "unknown column"),
    ],
)
def test_each_bad_value_is_one_error_naming_line_field_and_value(
    data: dict[str, object], field: str, needle: str
) -> None:
    ok, errors = validate_rows(COWORKER_TIME_PASS, rows(data))
    assert ok == []
    assert len(errors) == 1
    (err,) = errors
    assert (err.line, err.field) == (2, field)
    assert needle in err.message
    assert str(err).startswith(f"line 2: {field}")


def test_every_row_is_validated_not_just_the_first_bad_one() -> None:
    ok, errors = validate_rows(
        COWORKER_TIME_PASS,
        rows(BASE, {**BASE, "CoworkerId": "x"}, BASE, {**BASE, "CreateMultiple": "0"}),
    )
    assert len(ok) == 2
    assert [e.line for e in errors] == [3, 5]


def test_identical_rows_coalesce_into_one_request_per_group() -> None:
    plan = make_plan(
        COWORKER_TIME_PASS,
        valid(
            BASE,
            {**BASE, "CreateMultiple": "3"},
            {**BASE, "Price": "10"},
            {**BASE, "Price": "10.00"},  # the same price
            {**BASE, "CoworkerId": "9"},
            BASE,
        ),
    )
    assert plan.rows == 6
    assert len(plan.groups) == 3
    assert plan.create_requests == 3
    assert plan.records == 8
    counts = sorted(g.count for g in plan.groups)
    assert counts == [1, 2, 5]
    big = next(g for g in plan.groups if g.count == 5)
    assert big.lines == (2, 3, 7)
    assert big.row_counts == (1, 3, 1)


def test_cap_splits_groups_only_when_configured() -> None:
    rows_ = valid({**BASE, "CreateMultiple": "25"}, {**BASE, "CoworkerId": "5"})
    assert make_plan(COWORKER_TIME_PASS, rows_).create_requests == 2
    assert make_plan(COWORKER_TIME_PASS, rows_, cap=10).create_requests == 4
    with pytest.raises(ValueError):
        make_plan(COWORKER_TIME_PASS, rows_, cap=0)


def test_job_hash_ignores_row_order_and_spelling_but_not_content() -> None:
    a = make_plan(COWORKER_TIME_PASS, valid(BASE, {**BASE, "CoworkerId": "9"}))
    b = make_plan(
        COWORKER_TIME_PASS,
        valid({"coworker_id": 9, "business_id": 2, "time_pass_id": 3}, BASE),
    )
    c = make_plan(COWORKER_TIME_PASS, valid(BASE, BASE, {**BASE, "CoworkerId": "9"}))
    assert a.job_hash == b.job_hash
    assert a.job_hash != c.job_hash
    assert [g.key for g in a.groups] == [g.key for g in b.groups]


def test_groups_sharing_customer_and_time_pass_share_a_reconciliation_key() -> None:
    plan = make_plan(COWORKER_TIME_PASS, valid(BASE, {**BASE, "Notes": "x"}))
    assert len(plan.groups) == 2
    assert {g.reconcile_key for g in plan.groups} == {(1, 3)}


def test_link_entities_flag_identical_rows_instead_of_coalescing() -> None:
    link = {"ProductId": 1, "TimePassId": 2, "PassesIncluded": 10}
    ok, errors = validate_rows(PRODUCT_TIME_PASS, rows(link, link, {**link, "PassesIncluded": 5}))
    assert errors == []
    plan = make_plan(PRODUCT_TIME_PASS, ok)
    assert plan.create_requests == 2
    assert plan.duplicates == 1
    dup_group = next(g for g in plan.groups if g.duplicates)
    assert dup_group.lines == (2,) and dup_group.duplicates == (3,)
    sent_anyway = make_plan(PRODUCT_TIME_PASS, ok, send_duplicates=True)
    assert sent_anyway.create_requests == 3
    assert len({g.key for g in sent_anyway.groups}) == 3


def test_tariff_links_need_a_known_renewal_time() -> None:
    _, errors = validate_rows(
        TARIFF_TIME_PASS,
        rows({"TariffId": 1, "TimePassId": 2, "PassesIncluded": 1, "PassRenewalTime": 9}),
    )
    assert [(e.field, "must be one of" in e.message) for e in errors] == [("PassRenewalTime", True)]


def test_estimate_replays_every_window() -> None:
    plan = make_plan(
        COWORKER_TIME_PASS, valid(*({**BASE, "CoworkerId": str(i)} for i in range(1, 61)))
    )
    assert (plan.create_requests, plan.baseline_reads, plan.snapshot_budget) == (60, 1, 60)
    exact = RateLimits.published().without_safety()
    # a burst of 60: 30 writes 100 ms apart, then (half the minute's writes spent) 200 ms apart
    assert estimate_seconds(plan, exact) == pytest.approx(3.0 + 6.0)
    # With the limiter's reserve (58 writes a minute, 112 ms apart, periods 2% longer): the
    # read at 0, the first write at 0.112, the 59th when that one leaves the minute window
    # (61.21 s later), the 60th a doubled spacing after it (the window is more than half spent).
    assert estimate_seconds(plan) == pytest.approx(0.112 + 61.21 + 2 * 0.112, abs=0.001)
    big = make_plan(
        COWORKER_TIME_PASS, valid(*({**BASE, "CoworkerId": str(i)} for i in range(1, 5002)))
    )
    # 5,001 writes: the last waits for the daily window.
    assert estimate_seconds(big, exact) == pytest.approx(86_400.0, abs=1)
