"""A plan's groups as a sequence: indexing, equality, repr and the columns read without
building groups, each the same as the plain tuple of groups it stands for."""

from __future__ import annotations

import hashlib
import json

import pytest

from nexudus_async._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS
from nexudus_async.bulk.plan import Group, GroupList, make_plan, row_parts
from nexudus_async.bulk.rows import SourceRow, ValidRow, validate_rows

BASE = {"CoworkerId": "1", "BusinessId": "2", "TimePassId": "3"}


def passes(*data: dict[str, str]) -> list[ValidRow]:
    ok, errors = validate_rows(
        COWORKER_TIME_PASS, [SourceRow(i + 2, d) for i, d in enumerate(data)]
    )
    assert errors == []
    return ok


def three_groups() -> GroupList:
    plan = make_plan(
        COWORKER_TIME_PASS,
        passes(
            BASE,
            {**BASE, "CoworkerId": "4", "CreateMultiple": "2"},
            {**BASE, "CoworkerId": "5"},
            {**BASE, "CoworkerId": "5", "CreateMultiple": "3"},
        ),
    )
    assert isinstance(plan.groups, GroupList)
    return plan.groups


def test_indexing_is_a_tuples_and_past_either_end_is_an_index_error() -> None:
    groups = three_groups()
    plain = tuple(groups)
    assert len(groups) == 3
    assert [groups[i] for i in range(3)] == list(plain)
    assert [groups[-i] for i in range(1, 4)] == [plain[-1], plain[-2], plain[-3]]
    assert groups[1:] == plain[1:] and groups[::-1] == plain[::-1] and groups[5:] == ()
    for index in (3, -4):
        with pytest.raises(IndexError) as caught:
            groups[index]
        assert caught.value.args == ("group index out of range",)


def test_equal_only_to_the_same_groups_in_the_same_order() -> None:
    groups = three_groups()
    plain = tuple(groups)
    assert groups == plain and groups == list(plain) and groups == three_groups()
    assert groups != (plain[1], plain[0], plain[2])  # same length, other order
    assert groups != plain[:2] and groups != (*plain, plain[0])
    assert groups != "not groups" and groups != {g.key: g for g in plain}
    assert repr(groups) == repr(plain)


def test_columns_read_without_building_groups_match_the_groups() -> None:
    groups = three_groups()
    plain = tuple(groups)
    assert list(groups.keys()) == [g.key for g in plain]
    assert list(groups.keys_and_counts()) == [(g.key, g.count) for g in plain]
    assert list(row_parts(groups)) == list(row_parts(list(plain)))
    assert [(lines, counts) for _, lines, counts, _ in row_parts(groups)] == [
        ((2,), (1,)),
        ((3,), (2,)),
        ((4, 5), (1, 3)),
    ]


def test_a_single_row_of_several_passes_keeps_its_count() -> None:
    [group] = make_plan(COWORKER_TIME_PASS, passes({**BASE, "CreateMultiple": "2"})).groups
    assert (group.count, group.lines, group.row_counts) == (2, (2,), (2,))
    [one] = make_plan(COWORKER_TIME_PASS, passes(BASE)).groups
    assert (one.count, one.row_counts) == (1, (1,))


def test_link_duplicates_are_counted_from_the_columns_and_from_plain_groups() -> None:
    link = {"ProductId": "1", "TimePassId": "2", "PassesIncluded": "10"}
    ok, errors = validate_rows(PRODUCT_TIME_PASS, [SourceRow(i + 2, link) for i in range(3)])
    assert errors == []
    plan = make_plan(PRODUCT_TIME_PASS, ok)
    [group] = plan.groups
    assert (plan.duplicates, group.duplicates) == (2, (3, 4))
    assert list(row_parts(plan.groups)) == [(group.key, (2,), (1,), (3, 4))]
    as_tuple: tuple[Group, ...] = tuple(plan.groups)
    assert list(row_parts(as_tuple)) == list(row_parts(plan.groups))


def test_a_group_whose_reconcile_key_is_not_its_fields_is_refused() -> None:
    [group] = three_groups()[:1]
    wrong = Group(
        key=group.key,
        fields=group.fields,
        count=group.count,
        lines=group.lines,
        row_counts=group.row_counts,
        reconcile_key=("someone", "else"),
    )
    with pytest.raises(ValueError) as caught:
        GroupList(COWORKER_TIME_PASS.reconcile, [wrong])
    assert caught.value.args == (f"group {group.key}: its reconcile key is not its fields'",)


def test_the_job_hash_of_thousands_of_groups_is_the_hash_of_all_their_keys_and_counts() -> None:
    # fed to the digest a thousand at a time: the same bytes as the whole list at once
    rows = passes(*({**BASE, "CoworkerId": str(n)} for n in range(1, 2002)))
    plan = make_plan(COWORKER_TIME_PASS, rows)
    assert len(plan.groups) == 2001
    whole = [COWORKER_TIME_PASS.attribute, [[g.key, g.count] for g in plan.groups]]
    text = json.dumps(whole, sort_keys=True, separators=(",", ":"))
    assert plan.job_hash == hashlib.sha256(text.encode()).hexdigest()


def test_a_repeated_link_row_keeps_its_key_whatever_other_rows_come_before_it() -> None:
    def link(product: str) -> dict[str, str]:
        return {"ProductId": product, "TimePassId": "2", "PassesIncluded": "10"}

    def keys(*products: str) -> list[tuple[object, str]]:
        data = [link(p) for p in products]
        ok, errors = validate_rows(
            PRODUCT_TIME_PASS, [SourceRow(i + 2, d) for i, d in enumerate(data)]
        )
        assert errors == []
        plan = make_plan(PRODUCT_TIME_PASS, ok, send_duplicates=True)
        return sorted((g.lines, g.key) for g in plan.groups)

    [(_, alone)] = keys("2")
    mixed = keys("1", "1", "2")
    assert len({key for _, key in mixed}) == 3  # each row its own request
    assert mixed[2] == ((4,), alone)  # the first "2" is its first occurrence, as alone
