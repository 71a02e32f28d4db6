"""What a plan keeps: no row objects, no Group per group; the same groups, order and hash."""

from __future__ import annotations

import gc
import weakref

from nexudus_async._generated.api import COWORKER_TIME_PASS, PRODUCT_TIME_PASS
from nexudus_async.bulk.ops import JobPlan
from nexudus_async.bulk.plan import Group, GroupList, _hash, make_plan
from nexudus_async.bulk.rows import SourceRow, ValidRow, validate_rows


def _valid(n: int) -> list[ValidRow]:
    rows = [
        SourceRow(i + 2, {"CoworkerId": str(100 + i % 7), "BusinessId": "1", "TimePassId": "2"})
        for i in range(n)
    ]
    ok, errors = validate_rows(COWORKER_TIME_PASS, rows)
    assert errors == []
    return ok


def test_the_plan_keeps_no_row_and_no_group_object() -> None:
    rows = _valid(20)
    alive = [weakref.ref(r) for r in rows]
    plan = make_plan(COWORKER_TIME_PASS, rows)
    del rows
    gc.collect()
    assert [r for r in alive if r() is not None] == []
    # The groups are columns; a Group exists only while someone holds it.
    assert isinstance(plan.groups, GroupList)
    held = [o for column in gc.get_referents(plan.groups) for o in gc.get_referents(column)]
    assert not any(isinstance(o, (Group, ValidRow)) for o in held)
    assert len(plan.groups) == 7
    assert sum(g.count for g in plan.groups) == 20
    first = plan.groups[0]
    assert first == plan.groups[0] and first is not plan.groups[0]
    assert first.reconcile_key == (first.fields["CoworkerId"], 2)
    assert plan.groups == tuple(plan.groups) and plan.groups == list(plan.groups)
    assert plan.groups[-1] == tuple(plan.groups)[-1]
    assert plan.groups[1:3] == tuple(plan.groups)[1:3]


def test_the_job_hash_is_the_hash_of_every_key_and_count() -> None:
    # Fed group by group, as journals of earlier versions computed it in one piece.
    plan = make_plan(COWORKER_TIME_PASS, _valid(2500))
    whole = _hash([COWORKER_TIME_PASS.attribute, [(g.key, g.count) for g in plan.groups]])
    assert plan.job_hash == whole == JobPlan.from_plan(plan).job_hash()
    empty = make_plan(COWORKER_TIME_PASS, [])
    assert empty.job_hash == _hash([COWORKER_TIME_PASS.attribute, []])


def test_groups_are_ordered_by_their_reconcile_texts_even_with_a_nul_in_one() -> None:
    # Ordered as tuples of texts: "1" before "1\0" before "10"; then by key.
    def row(line: int, product: object) -> ValidRow:
        return ValidRow(line, {"ProductId": product, "TimePassId": 2}, 1)

    rows = [row(2, "10"), row(3, "1\x00"), row(4, "1"), row(5, 9)]
    plan = make_plan(PRODUCT_TIME_PASS, rows)
    order = [g.fields["ProductId"] for g in plan.groups]
    assert order == ["1", "1\x00", "10", 9]
