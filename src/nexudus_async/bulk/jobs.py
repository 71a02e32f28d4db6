"""The library calls of the bulk jobs beyond import: update, delete, apply and undo.

Each job is planned first (:mod:`.kinds`: pure planners fed by the reads
planning makes, in pages of 1,000 or by ids, 100 a request), then run by the
one engine (:func:`~nexudus_async.bulk.engine.run_job`) with the import's
guarantees: journal, resume, stop, progress, one runner per job.

``plan_*`` functions plan only: they return a
:class:`~nexudus_async.bulk.kinds.Planned` (the plan, the problems found by
line and field, and :attr:`~nexudus_async.bulk.kinds.Planned.estimate`, the
requests by kind): what ``--dry-run`` prints. ``bulk_*`` functions plan and
run, and raise :class:`~nexudus_async.bulk.BulkInputError` (nothing sent)
when planning found bad input.

Options of the ``bulk_*`` calls are the import's where they mean the same:
``journal``, ``concurrency``, ``progress``, ``stop``, ``max_attempts``,
``throttle_backoff``, ``wait_for_lock``, ``new_job``, ``source``; and the
spreadsheet options ``decimal`` and ``date_format`` for rows given as text.

Reruns. A rerun of an interrupted job must plan what the first run planned,
though the account changed meanwhile (records it updated now hold the values,
records it deleted are gone). Planning therefore reads the journal's unfinished
job of the same entity and plans its journaled units again
(``prior`` in the planners); the engine skips those done.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from .._core.entity import Entity
from .._core.resource import Resource
from .engine import run_job
from .executor import BulkInputError, rows_from_mappings
from .formatted_rows import CELL_OPTIONS, formatted_rows
from .gateway import ResourceGateway
from .journal import JobRecord, Journal
from .kinds.apply import COUNT_COLUMN, count_rows, parse_key, plan_apply, plan_apply_counts, row_key
from .kinds.common import Planned
from .kinds.delete import delete_ids, plan_delete
from .kinds.read import Reader, narrowing
from .kinds.records import Current
from .kinds.undo import UndoGroup, plan_undo as plan_undo_records, undo_keys, undo_tag
from .kinds.update import check_set, plan_update, query_wanted, update_rows
from .plan import make_plan
from .report import BulkReport, OpResult, op_rows
from .rows import SourceRow, validate_rows

__all__ = [
    "bulk_apply_for",
    "bulk_delete_for",
    "bulk_undo",
    "bulk_update_for",
    "plan_apply_for",
    "plan_delete_for",
    "plan_undo",
    "plan_update_for",
    "settled_results",
    "undo_groups",
]

Rows = Iterable[Mapping[str, Any] | Any]


def _source_rows(rows: Rows, cells: Mapping[str, Any]) -> list[SourceRow]:
    """Rows numbered from 1 as import numbers them, read with the spreadsheet options."""
    return formatted_rows(rows, **cells) if cells else rows_from_mappings(rows)


def _split(options: dict[str, Any]) -> dict[str, Any]:
    """Takes the spreadsheet options out of ``options`` (what reads cells, not what runs)."""
    return {k: options.pop(k) for k in CELL_OPTIONS if k in options}


def _lenient(resource: Resource[Any, Any], given: bool | None) -> bool:
    if given is not None:
        return given
    return resource.client.allow_unknown_enum_values is True


def prior_units(journal: Journal | None, entity: str, *, new_job: bool = False) -> dict[str, int]:
    """Units (key -> planned count) the journal's unfinished jobs of ``entity`` journaled."""
    if journal is None or new_job:
        return {}
    out: dict[str, int] = {}
    for job in journal.unfinished_jobs():
        if job.entity == entity:
            out.update({k: g.expected for k, g in journal.groups(job.job_id).items()})
    return out


def _one_of(rows: Rows | None, where: Mapping[str, Any] | None, call: str) -> None:
    if (rows is None) == (where is None):
        raise TypeError(f"{call}() takes rows or where=, one of the two")


# ---------------------------------------------------------------- update


async def plan_update_for(
    resource: Resource[Any, Any],
    rows: Rows | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    set: Mapping[str, Any] | None = None,  # the command line's --set
    journal: Journal | None = None,
    new_job: bool = False,
    allow_unknown_enum_values: bool | None = None,
    **cells: Any,
) -> Planned:
    """Plan an update (reads only): rows keyed by ``Id``, or ``where=`` plus ``set=``.

    ``rows``: mappings with ``Id`` and the fields to change (API or snake_case
    names; blank cells change nothing), read by id, 100 a request. ``where``:
    the list call's filters (``{"time_pass": 7, "used": False}``), read in
    pages of 1,000, with ``set``: the fields to change on every record of it.
    ``cells``: ``decimal``, ``date_format``. Records already holding the values
    are in ``unchanged``, not in the plan.
    """
    _one_of(rows, where, "bulk_update")
    entity = resource.entity
    lenient = _lenient(resource, allow_unknown_enum_values)
    reader = Reader(resource)
    prior = prior_units(journal, entity.attribute, new_job=new_job)
    prior_ids = [int(k.split(":")[1]) for k in prior if k.startswith("update:")]
    if rows is not None:
        if set is not None:
            raise TypeError("bulk_update() takes set= with where= only: rows give the changes")
        source = _source_rows(rows, cells)
        wanted, errors = update_rows(entity, source, lenient=lenient)
        current = await reader.by_ids(w[0] for w in wanted)  # all problems in one go
        return plan_update(
            entity, wanted, current, errors=errors, planning_reads=reader.reads,
            rows=len(source), prior=prior,
        )  # fmt: skip
    assert where is not None
    changes, errors = check_set(entity, set or {}, lenient=lenient)
    if errors:
        return plan_update(entity, [], {}, errors=errors)
    current = dict(await reader.scope(where))
    current.update(await reader.by_ids(i for i in prior_ids if i not in current))
    return plan_update(
        entity, query_wanted(current, changes), current, planning_reads=reader.reads, prior=prior
    )


# ---------------------------------------------------------------- delete


async def plan_delete_for(
    resource: Resource[Any, Any],
    rows: Rows | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    journal: Journal | None = None,
    new_job: bool = False,
    **cells: Any,
) -> Planned:
    """Plan a delete (reads only): rows of ``Id`` s (read by id), or ``where=`` (a scope).

    An Id that no longer exists is in ``gone``: it counts as deleted, nothing is sent.
    """
    _one_of(rows, where, "bulk_delete")
    entity = resource.entity
    reader = Reader(resource)
    prior = prior_units(journal, entity.attribute, new_job=new_job)
    if rows is not None:
        source = _source_rows(rows, cells)
        wanted, errors = delete_ids(entity, source)
        current = await reader.by_ids(wanted) if not errors else {}
        return plan_delete(
            entity, wanted, current, errors=errors, planning_reads=reader.reads,
            rows=len(source), prior=prior,
        )  # fmt: skip
    assert where is not None
    current = await reader.scope(where)
    wanted = {rid: () for rid in current}
    wanted.update({int(k.split(":")[1]): () for k in prior if k.startswith("delete:")})
    return plan_delete(entity, wanted, current, planning_reads=reader.reads, prior=prior)


# ---------------------------------------------------------------- apply


async def _union(reader: Reader, queries: list[dict[str, Any]]) -> dict[int, Current]:
    """The records of several scopes, each read once (an identical query is not repeated)."""
    found: dict[int, Current] = {}
    done: list[dict[str, Any]] = []
    for query in queries:
        if query not in done:
            done.append(query)
            found.update(await reader.scope(query))
    return found


async def _plan_counts(
    reader: Reader,
    source: list[SourceRow],
    prune_where: Mapping[str, Any] | None,
    common: dict[str, Any],
) -> Planned:
    """By count: the unused passes the rows could describe, and with a prune scope, its own."""
    entity, resource = reader.entity, reader.resource
    checked, errors, _ = count_rows(entity, source, lenient=common["lenient"])
    if errors:
        return plan_apply_counts(entity, source, {}, **common)
    unused = {"used": False}
    shared = narrowing(resource, (r.alike for r in checked), entity.reconcile)
    query = {**prune_where, **unused} if prune_where is not None else None
    scope = await reader.scope(query) if query is not None else None
    wanted = {**shared, **unused}
    current = {**(scope or {}), **(await reader.scope(wanted) if wanted != query else {})}
    return plan_apply_counts(
        entity, source, current, prune_scope=scope, planning_reads=reader.reads, **common
    )


async def plan_apply_for(
    resource: Resource[Any, Any],
    rows: Rows,
    *,
    key: str | None = None,
    prune: bool = False,
    where: Mapping[str, Any] | None = None,
    journal: Journal | None = None,
    new_job: bool = False,
    max_per_request: int | None = None,
    allow_unknown_enum_values: bool | None = None,
    **cells: Any,
) -> Planned:
    """Plan an apply (reads only): what makes the records match ``rows``.

    ``key``: ``"Id"``, ``"SystemId"`` or a natural key (``"ProductId+TimePassId"``,
    ``"TariffId+TimePassId"``, ``"BusinessId+Name"``; API or snake_case names).
    Rows with a ``Count`` column (coworker passes) are applied by count instead,
    and take no key. ``prune``: also delete the records of ``where`` (required
    with it) that the rows lack (by count: unused passes beyond a row's count or
    that no row describes). The records read: ``where`` and, narrowed by what
    every row shares, the records the rows could match.
    """
    if prune and not where:
        raise TypeError("bulk_apply(prune=True) needs where=: the scope whose extra records go")
    entity = resource.entity
    source = _source_rows(rows, cells)
    lenient = _lenient(resource, allow_unknown_enum_values)
    prior = prior_units(journal, entity.attribute, new_job=new_job)
    common: dict[str, Any] = {"lenient": lenient, "cap": max_per_request, "prior": prior}
    reader = Reader(resource)
    if source and COUNT_COLUMN in source[0].data:
        if key is not None or entity.count_field is None:
            raise TypeError(f"rows with {COUNT_COLUMN} apply {entity.name}s by count: no key=")
        return await _plan_counts(reader, source, where if prune else None, common)
    if key is None:
        raise TypeError("bulk_apply() needs key= (Id, SystemId or a natural key such as "
                        f"{'+'.join(entity.reconcile) or 'ProductId+TimePassId'})")  # fmt: skip
    akey = parse_key(entity, key)
    keys = [k for k in (row_key(entity, akey, r) for r in source) if isinstance(k, tuple)]
    scope = await reader.scope(where) if prune and where else {}
    if akey.by_id:
        current = {**scope, **await reader.by_ids(k[0] for k in keys if k[0] not in scope)}
    else:
        shared = narrowing(
            resource, (dict(zip(akey.fields, k, strict=True)) for k in keys), akey.fields
        )
        current = {**scope, **await _union(reader, [shared] if shared != where else [])}
    return plan_apply(
        entity, source, current, key=akey, prune_scope=list(scope) if prune else None,
        planning_reads=reader.reads, **common,
    )  # fmt: skip


# ---------------------------------------------------------------- undo


def _is_op(key: str) -> bool:
    return key.startswith(("update:", "delete:", "undo:"))


def import_job(journal: Journal, job_id: str | None = None) -> JobRecord:
    """The import to take back: ``job_id``, or the journal's latest job that created."""
    if job_id is not None:
        job = journal.job(job_id)
        if job is None:
            raise ValueError(f"the journal {journal.path} has no job {job_id}")
        return job
    imports = [j for j in journal.jobs() if any(not _is_op(k) for k in journal.groups(j.job_id))]
    if not imports:
        raise ValueError(f"the journal {journal.path} holds no import to undo")
    return max(imports, key=lambda j: j.started_at)


def undo_groups(
    journal: Journal, job: JobRecord, entity: Entity, rows: Rows | None = None, **cells: Any
) -> list[UndoGroup]:
    """The import's groups with what each created, and the fields that find its passes.

    The fields come from the journal when it records them, else from ``rows``:
    the import's own rows, planned again (the same rows give the same group keys).
    """
    records = {k: g for k, g in journal.groups(job.job_id).items() if not _is_op(k)}
    fields: dict[str, Mapping[str, Any]] = {}
    fields.update(journal.group_fields(job.job_id))
    if rows is not None:
        valid, errors = validate_rows(entity, _source_rows(rows, cells))
        if errors:
            raise BulkInputError(errors)
        fields.update({g.key: g.fields for g in make_plan(entity, valid).groups})
    unknown = [k for k, g in records.items() if g.created and k not in fields]
    if unknown:
        raise ValueError(
            f"{len(unknown)} groups of job {job.job_id[:12]} created passes but neither the "
            "journal nor the rows given say their customer and time pass: pass the "
            "import's rows (rows=...)"
        )
    return [UndoGroup(k, fields[k], g.created, g.baseline) for k, g in records.items() if g.created]


def _since(job: JobRecord) -> _dt.datetime:
    return _dt.datetime.fromisoformat(job.since)


async def _window(
    reader: Reader, groups: list[UndoGroup], since: _dt.datetime
) -> dict[int, Current]:
    """The passes created in the import's window, of its keys: one scope read while that
    takes fewer pages than there are keys, else one read per key (like the snapshot)."""
    entity, resource = reader.entity, reader.resource
    keys = list(undo_keys(entity, groups))
    window = {"created_on": (since, None)}
    shared = narrowing(resource, (g.fields for g in groups), entity.reconcile)
    first, pages = await reader.page({**window, **shared}, 1)
    if pages <= len(keys):
        rest = {**first}
        for number in range(2, pages + 1):
            rest.update((await reader.page({**window, **shared}, number))[0])
        return rest
    found: dict[int, Current] = {}
    for k in keys:
        match = dict(zip(entity.reconcile, k, strict=True))
        found.update(await reader.scope({**window, **narrowing(resource, [match], match)}))
    return found


async def plan_undo(
    client: Any,
    journal: Journal,
    *,
    job_id: str | None = None,
    include_used: bool = False,
    rows: Rows | None = None,
    new_job: bool = False,
    **cells: Any,
) -> Planned:
    """Plan taking back an import (reads only): per customer and time pass, as many of the
    passes created in the job's window as it created, newest first.

    ``client``: a :class:`~nexudus_async.NexudusClient` (the job's entity names its
    namespace). ``job_id``: the import (default: the journal's latest). ``rows``: the
    import's rows, when the journal does not record its groups' fields. A used pass
    is in ``kept``, not deleted, unless ``include_used``. ``new_job`` changes nothing
    here: an undo always counts what earlier undos of the import deleted.
    """
    job = import_job(journal, job_id)
    resource: Resource[Any, Any] = getattr(client, job.entity)
    entity = resource.entity
    groups = undo_groups(journal, job, entity, rows, **cells)
    reader = Reader(resource)
    current = await _window(reader, groups, _since(job)) if groups else {}
    tag = undo_tag(job.job_id)
    prior = [k for j in journal.jobs() for k in journal.groups(j.job_id) if k.startswith(tag)]
    return plan_undo_records(
        entity, groups, current, import_job=job.job_id, include_used=include_used,
        planning_reads=reader.reads, prior=prior,
    )  # fmt: skip


# ---------------------------------------------------------------- running


async def _run(
    resource: Resource[Any, Any], planned: Planned, options: dict[str, Any]
) -> BulkReport:
    """Run a plan through the engine; bad input found by planning raises, nothing sent.

    The report also says what planning settled without a request: records
    already holding the values (``skipped``), already gone (``deleted``), kept
    with a reason (an undo's used pass: ``changed``).
    """
    if planned.errors:
        raise BulkInputError(list(planned.errors))
    report = await run_job(planned.plan, ResourceGateway(resource), **options)
    settled = settled_results(planned)
    if settled:
        report.ops.extend(settled)
        report.rows = sorted([*report.rows, *op_rows(settled)], key=lambda r: r.line)
    return report


def settled_results(planned: Planned) -> list[OpResult]:
    """Results for what planning settled: no request was needed for them."""
    lines = planned.lines
    out = [
        OpResult(f"update:{rid}", "update", rid, "skipped", 0, 0, "already holds the values",
                 lines.get(rid, ()))
        for rid in planned.unchanged
    ]  # fmt: skip
    out += [
        OpResult(
            f"delete:{rid}", "delete", rid, "deleted", 0, 0, "already gone", lines.get(rid, ())
        )
        for rid in planned.gone
    ]
    out += [
        OpResult(f"kept:{k.record_id or i}", "delete", k.record_id,
                 "changed" if k.record_id else "deleted", 0, 0, k.reason, k.lines)
        for i, k in enumerate(planned.kept)
    ]  # fmt: skip
    return out


def _planning(options: dict[str, Any]) -> dict[str, Any]:
    """The options planning reads: the spreadsheet ones (taken out), journal and new_job."""
    out = _split(options)
    out["journal"] = options.get("journal")
    out["new_job"] = options.get("new_job", False)
    return out


async def bulk_update_for(
    resource: Resource[Any, Any],
    rows: Rows | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    set: Mapping[str, Any] | None = None,  # the command line's --set
    **options: Any,
) -> BulkReport:
    """``client.<namespace>.bulk_update(...)``: plan (:func:`plan_update_for`) and run.

    Each changed record is read in full and PUT back with only the given fields
    changed; a record already holding them costs nothing more.
    """
    lenient = options.pop("allow_unknown_enum_values", None)
    planned = await plan_update_for(
        resource, rows, where=where, set=set, allow_unknown_enum_values=lenient,
        **_planning(options),
    )  # fmt: skip
    return await _run(resource, planned, options)


async def bulk_delete_for(
    resource: Resource[Any, Any],
    rows: Rows | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    **options: Any,
) -> BulkReport:
    """``client.<namespace>.bulk_delete(...)``: plan (:func:`plan_delete_for`) and run.

    A record already gone counts as deleted.
    """
    planned = await plan_delete_for(resource, rows, where=where, **_planning(options))
    return await _run(resource, planned, options)


async def bulk_apply_for(
    resource: Resource[Any, Any],
    rows: Rows,
    *,
    key: str | None = None,
    prune: bool = False,
    where: Mapping[str, Any] | None = None,
    **options: Any,
) -> BulkReport:
    """``client.<namespace>.bulk_apply(...)``: plan (:func:`plan_apply_for`) and run.

    A second apply of the same rows reads what it needs and writes nothing.
    """
    planning = _planning(options)
    planning["allow_unknown_enum_values"] = options.pop("allow_unknown_enum_values", None)
    if "max_per_request" in options:
        planning["max_per_request"] = options.pop("max_per_request")
    planned = await plan_apply_for(resource, rows, key=key, prune=prune, where=where, **planning)
    return await _run(resource, planned, options)


async def bulk_undo(
    client: Any,
    journal: Journal,
    *,
    include_used: bool = False,
    job_id: str | None = None,
    rows: Rows | None = None,
    **options: Any,
) -> BulkReport:
    """Take back what an import created (:func:`plan_undo`), journaled in the same journal.

    ``options``: as for import (``concurrency``, ``progress``, ``stop``, ...).
    """
    planning = _planning(options)
    planning.pop("journal")
    planned = await plan_undo(
        client, journal, job_id=job_id, include_used=include_used, rows=rows, **planning
    )
    job = import_job(journal, job_id)
    resource: Resource[Any, Any] = getattr(client, job.entity)
    options["journal"] = journal
    return await _run(resource, planned, options)
