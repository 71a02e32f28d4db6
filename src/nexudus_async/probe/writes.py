"""``probe --write``: two passes made, read, changed and deleted, leaving nothing behind.

Every pass the probe makes carries :data:`MARK` at the start of its
``SystemId`` and its ``Notes``, and before its create the probe writes down
which passes the customer already had of that time pass (``--state``, removed
once nothing is left). A later run finds what an interrupted one left (the
customer's passes of that time pass that are marked or new since that
snapshot) and deletes it before anything else; every run deletes its own at
the end. Each step is a short function;
:func:`run_writes` is the order they go in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._core.entity import NO_DEFAULT
from .._core.errors import NotFoundError
from .context import PASSES, ProbeContext
from .findings import Finding
from .http import Answer

if TYPE_CHECKING:
    from ..client import NexudusClient

__all__ = ["MARK", "STATE_FILE", "WriteTargets", "find_made", "run_writes"]

MARK = "nexudus-async-probe"
"""The start of the SystemId and Notes of every pass the probe creates."""
STATE_FILE = "nexudus-async-probe.state.json"
Z_DATE = "2031-03-04T10:30:00Z"
OFFSET_DATE = "2031-03-04T10:30:00+02:00"
WALL_CLOCK = dt.datetime(2031, 3, 4, 10, 30)


@attrs.frozen
class WriteTargets:
    """The customer, business and time pass the user named for the probe's passes.

    ``state``: a small file naming the passes that existed before the probe's
    create, so a rerun finds the new ones even where the account shows neither
    marker (a SystemId on the first pass only, Notes left out of records).
    """

    coworker: int
    business: int
    time_pass: int
    state: Path = Path(STATE_FILE)


def _marked(item: Any) -> bool:
    return any(str(v or "").startswith(MARK) for v in (item.system_id, item.notes))


async def _passes(client: NexudusClient, targets: WriteTargets) -> dict[int, bool]:
    """Id -> carries the probe's mark, of the customer's passes of that time pass."""
    found: dict[int, bool] = {}
    namespace = client.coworker_time_passes
    async with namespace.iter(coworker=targets.coworker, time_pass=targets.time_pass) as items:
        async for item in items:
            found[item.id] = _marked(item)
    return found


def _read_state(targets: WriteTargets) -> set[int] | None:
    """The Ids before an earlier run's create, if that run did not finish its cleanup."""
    try:
        data = json.loads(targets.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = [data.get(k) for k in ("coworker", "time_pass")] == [targets.coworker, targets.time_pass]
    before = data.get("before")
    return set(before) if same and isinstance(before, list) else None


def _write_state(targets: WriteTargets, before: set[int]) -> None:
    data = {"coworker": targets.coworker, "time_pass": targets.time_pass, "before": sorted(before)}
    partial = targets.state.with_name(targets.state.name + ".tmp")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, targets.state)  # a kill leaves the old file or the new, never half


async def find_made(client: NexudusClient, targets: WriteTargets) -> list[int]:
    """The passes a probe made here: marked ones, and new since an unfinished run's snapshot."""
    passes = await _passes(client, targets)
    before = _read_state(targets)
    return sorted(i for i, marked in passes.items() if marked or (before and i not in before))


async def _delete_all(client: NexudusClient, ids: list[int]) -> None:
    for record_id in ids:
        with contextlib.suppress(NotFoundError):  # already gone
            await client.coworker_time_passes.delete(record_id)


async def _full(ctx: ProbeContext, record_id: int) -> dict[str, Any]:
    answer = await ctx.http.request("GET", f"{PASSES.path}/{record_id}")
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict):
        raise ProbeWriteError(f"reading {record_id} back answered {answer.status}")
    return body


class ProbeWriteError(Exception):
    """A write step could not go on (its message says which and why)."""


def _answered_id(answer: Answer) -> int | None:
    body = answer.json()
    value = body.get("Value") if isinstance(body, dict) else None
    record_id = value.get("Id") if isinstance(value, dict) else None
    return record_id if isinstance(record_id, int) else None


async def _create(ctx: ProbeContext, targets: WriteTargets, mark: str) -> Answer:
    body = {
        "CoworkerId": targets.coworker,
        "BusinessId": targets.business,
        "TimePassId": targets.time_pass,
        "CreateMultiple": 2,
        "SystemId": mark,
        "Notes": f"{mark} (made by `nexudus-async probe --write`; it deletes it)",
        "ExpireDate": Z_DATE,
    }
    answer = await ctx.http.request("POST", PASSES.path, body=body)
    if answer.status != 200:
        raise ProbeWriteError(f"CreateMultiple answered {answer.status}: {answer.text[:200]!r}")
    return answer


def _create_finding(answer: Answer, records: list[dict[str, Any]], mark: str) -> Finding:
    ids = sorted(r["Id"] for r in records)
    answered = _answered_id(answer)
    which = {ids[0]: "first", ids[-1]: "last"}.get(answered) if ids and answered else None
    with_mark = [r["Id"] for r in records if r.get("SystemId") == mark]
    system = "all" if len(with_mark) == len(ids) else ("none" if not with_mark else "first")
    observed: dict[str, Any] = {"create_multiple_system_id": system}
    if which is not None:
        observed["create_multiple_answer_id"] = which
    return Finding(
        "create_multiple",
        "CreateMultiple with a SystemId",
        "Undocumented: whether a create takes SystemId, and whether CreateMultiple copies it "
        "to every pass; the answer holds one Id.",
        f"made {len(ids)} passes {ids}; the answer's Id {answered} ({which or 'neither'}); "
        f"SystemId on {len(with_mark)} of them",
        "Copes: the bulk import finds what a CreateMultiple made by counting, never by the "
        "answered Id or the SystemId.",
        observed,
        "Do not rely on SystemId for every pass of one CreateMultiple, nor on which Id "
        "the answer gives.",
        {"records": ids, "answered_id": answered},
    )


def _put_body(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The record's writable fields, as the documented read -> change -> PUT sends them.

    A required field read back null (``CreateMultiple``, transient) takes its default.
    """
    body: dict[str, Any] = {}
    for field in PASSES.update_fields():
        value = record.get(field.json_name)
        if value is None and field.update == "required" and field.default is not NO_DEFAULT:
            value = field.default
        if field.json_name in record or value is not None:
            body[field.json_name] = value
    body.update(changes)
    return body


def _wall_clock(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None, microsecond=0)


async def _dates(ctx: ProbeContext, first: dict[str, Any], second: dict[str, Any]) -> Finding:
    z_stored = first.get("ExpireDate")
    body = _put_body(second, ExpireDate=OFFSET_DATE)
    put = await ctx.http.request("PUT", PASSES.path, body=body)
    stored = (await _full(ctx, second["Id"])).get("ExpireDate") if put.status == 200 else None
    kept_z = _wall_clock(z_stored) == WALL_CLOCK
    when = _wall_clock(stored)
    observed: dict[str, Any] = {}
    if when is not None:
        observed = {"offset_dates": "keep" if when == WALL_CLOCK else "shift"}
    seen = f"{Z_DATE} stored as {z_stored!r}; {OFFSET_DATE} (PUT {put.status}) stored as {stored!r}"
    return Finding(
        "dates",
        "Dates with Z and with an offset",
        "ISO 8601; observed: the space's wall-clock time with a literal Z, and an offset "
        "silently shifts the stored time.",
        seen,
        "Copes: the client writes naive wall-clock times with a literal Z and refuses a date "
        "with a non-zero offset (InputError) rather than let it shift.",
        observed,
        "Send wall-clock times as the client does; never an offset.",
        {"z": z_stored, "offset": stored},
        inconclusive=when is None,
        unexpected="" if kept_z else f"a literal-Z date was not stored as sent: {z_stored!r}",
    )


async def _put_omitted(ctx: ProbeContext, first: dict[str, Any]) -> Finding:
    body = _put_body(first)
    del body["ExpireDate"]
    put = await ctx.http.request("PUT", PASSES.path, body=body)
    after = (await _full(ctx, first["Id"])).get("ExpireDate") if put.status == 200 else None
    observed = {"put_omitted": "clear" if after is None else "keep"} if put.status == 200 else {}
    return Finding(
        "put_omitted",
        "PUT without a field",
        "PUT replaces the whole record: every property missing from the body is cleared.",
        f"PUT {first['Id']} without ExpireDate answered {put.status}; ExpireDate is now {after!r}",
        "Copes: update() reads the full record and sends every field back.",
        observed,
        "Nothing to change (update() sends everything); tell us, the docs say otherwise.",
        {"put_status": put.status, "after": after},
        inconclusive=not observed,
    )


async def _cleanup(ctx: ProbeContext, client: NexudusClient, targets: WriteTargets) -> Finding:
    await _delete_all(client, await find_made(client, targets))
    left = await find_made(client, targets)
    if not left:
        targets.state.unlink(missing_ok=True)
    return Finding(
        "cleanup",
        "Nothing left behind",
        "DELETE <collection>/<Id> removes a pass.",
        f"passes of the probe left after deleting: {left or 'none'}",
        "The probe deletes what it made; a rerun deletes what an interrupted run left.",
        advice=f"Delete these passes by hand, or run the probe again (with {targets.state}).",
        evidence={"left": left},
        unexpected=f"{len(left)} passes left" if left else "",
    )


async def run_writes(
    ctx: ProbeContext, client: NexudusClient, targets: WriteTargets
) -> list[Finding]:
    """The write checks, in order; whatever happens, what the probe made is deleted."""
    leftovers = await find_made(client, targets)
    await _delete_all(client, leftovers)
    before = set(await _passes(client, targets))
    _write_state(targets, before)
    mark = f"{MARK}:{secrets.token_hex(4)}"
    findings: list[Finding] = []
    try:
        answer = await _create(ctx, targets, mark)
        made = sorted(set(await _passes(client, targets)) - before)
        records = [await _full(ctx, i) for i in made]
        findings.append(_create_finding(answer, records, mark))
        if len(records) >= 2:
            findings.append(await _dates(ctx, records[0], records[1]))
            findings.append(await _put_omitted(ctx, records[0]))
    except ProbeWriteError as exc:
        findings.append(_stopped(str(exc)))
    finally:
        findings.append(await _cleanup(ctx, client, targets))
    if leftovers:
        findings.insert(0, _leftovers(leftovers))
    return findings


def _stopped(why: str) -> Finding:
    return Finding(
        "writes",
        "Write checks",
        "",
        f"stopped: {why}",
        "",
        advice="Check the --coworker, --business and --time-pass Ids and the user's roles.",
        unexpected=why,
    )


def _leftovers(ids: list[int]) -> Finding:
    return Finding(
        "leftovers",
        "Passes an earlier probe left",
        "",
        f"deleted {len(ids)} passes an interrupted probe had made: {ids}",
        "",
    )
