"""The read-only checks: one small function per contested fact, and the table of them.

Each check sends a few paced requests and returns one :class:`Finding`. The
order of :data:`READ_CHECKS` is the order of the report; the throttle burst
goes last so that nothing after it pays for the pause it causes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from .._core.entity import Entity, Filter
from .context import ALL, LINKS, PASSES, ProbeContext, Sample
from .findings import Finding
from .http import THROTTLED, Answer

__all__ = ["READ_CHECKS", "Check"]

INT32_MAX = 2_147_483_647
BIG_PAGE = 1000
_AT_MOST = re.compile(r"(?:less than or equal to|at most|maximum(?: of| is)?)\s+(\d+)", re.I)


@attrs.frozen
class Check:
    name: str
    run: Callable[[ProbeContext], Awaitable[Finding]]


def _envelope(answer: Answer) -> dict[str, Any] | None:
    body = answer.json()
    if answer.status == 200 and isinstance(body, dict) and isinstance(body.get("Records"), list):
        return body
    return None


def _short(answer: Answer) -> dict[str, Any]:
    """Status, throttle headers and the start of the body, for the evidence."""
    keep = ("Retry-After", "X-Retry-After-Ms", "Content-Type")
    headers = {k: v for k, v in answer.headers.items() if k in keep}
    return {"status": answer.status, "headers": headers, "body": answer.text[:300]}


# ----------------------------------------------------------------- page size
def _size_used(envelope: dict[str, Any], asked: int) -> int:
    """The page size the account applied: what it says, or what it gave when it gave less."""
    used = asked
    for name in ("CurrentPageSize", "PageSize"):
        value = envelope.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < used:
            used = value
    records, total = len(envelope["Records"]), envelope.get("TotalItems")
    if isinstance(total, int) and records < min(asked, total):
        used = min(used, records)
    return used


async def _page_of(ctx: ProbeContext, size: int) -> Answer:
    return await ctx.http.request("GET", PASSES.path, [("page", "1"), ("size", str(size))])


async def check_page_size(ctx: ProbeContext) -> Finding:
    first = await _page_of(ctx, BIG_PAGE)
    evidence: dict[str, Any] = {"size=1000": _short(first)}
    envelope = _envelope(first)
    observed: dict[str, Any] = {}
    if first.status == 400:
        found = _AT_MOST.search(first.text)
        observed = {"oversize_page": "refuse"}
        if found:
            observed["max_page_size"] = int(found.group(1))
        seen = f"size=1000 refused (400): {first.text[:120]!r}"
    elif envelope is not None and _size_used(envelope, BIG_PAGE) < BIG_PAGE:
        used = _size_used(envelope, BIG_PAGE)
        observed = {"max_page_size": used, "oversize_page": "cap"}
        seen = f"size=1000 answered 200 with pages of {used}: silently capped at {used}"
    elif envelope is not None:
        observed, seen = await _beyond_big_page(ctx, evidence)
    else:
        seen = f"size=1000 answered {first.status}, not a list"
    return Finding(
        "page_size",
        "Page size 1,000",
        "An older reference version documents a maximum of 1,000 for every billing "
        "entity; another states none.",
        seen,
        "Copes: iter()/pages() ask for 1,000; a refused size is retried at the maximum the "
        "400 names (or 100, then 25), a capped one paginates on the size the answers show.",
        observed,
        "Nothing to change: the client falls back by itself. Tell us the size seen.",
        evidence,
        inconclusive=not observed,
    )


async def _beyond_big_page(
    ctx: ProbeContext, evidence: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """size=1000 was accepted: is 1,001 refused (a maximum of 1,000), capped, or taken?"""
    over = await _page_of(ctx, BIG_PAGE + 1)
    evidence["size=1001"] = _short(over)
    envelope = _envelope(over)
    if over.status == 400:
        return {"max_page_size": BIG_PAGE, "oversize_page": "refuse"}, (
            "size=1000 accepted, size=1001 refused (400): the documented maximum"
        )
    if envelope is not None and _size_used(envelope, BIG_PAGE + 1) <= BIG_PAGE:
        return {"max_page_size": BIG_PAGE, "oversize_page": "cap"}, (
            "size=1000 accepted, size=1001 silently capped at 1,000"
        )
    if envelope is not None:
        return {"max_page_size": None}, "size=1000 and size=1001 accepted: no maximum seen"
    return {}, f"size=1000 accepted, size=1001 answered {over.status}"


# ----------------------------------------------------------------- dir
DIR_TRIALS = (("words", "descending"), ("one_minus_one", "-1"), ("zero_one", "1"))


def _order(ids: list[int]) -> str:
    if ids == sorted(ids, reverse=True) and len(set(ids)) > 1:
        return "descending"
    return "ascending" if ids == sorted(ids) else "unordered"


async def check_dir(ctx: ProbeContext) -> Finding:
    sample = await ctx.sample_with(2)
    pages = (
        "The reference page (003) says ascending/descending; other versions use numbers: "
        "'1 ascending, -1 descending', or '0 ascending, 1 descending'."
    )
    client = (
        "Copes: a descending list checks the order of the first answer and, when the "
        "account ignored the spelling, asks again with the next one (remembered per client)."
    )
    if sample is None:
        return Finding(
            "dir", "Sort direction", pages, "no list holds 2 records", client, inconclusive=True
        )
    orders: dict[str, str] = {}
    for _encoding, value in DIR_TRIALS:
        params = [("page", "1"), ("size", "5"), ("orderby", "Id"), ("dir", value)]
        answer = await ctx.http.request("GET", sample.entity.path, params)
        envelope = _envelope(answer)
        ids = [r.get("Id") for r in envelope["Records"]] if envelope else []
        orders[f"dir={value}"] = _order([i for i in ids if isinstance(i, int)])
    understood = [enc for enc, value in DIR_TRIALS if orders[f"dir={value}"] == "descending"]
    seen = ", ".join(f"{k} sorted {v}" for k, v in orders.items())
    return Finding(
        "dir",
        "Sort direction",
        pages,
        f"{seen} ({sample.entity.name} by Id)",
        client,
        {"dir_encoding": understood[0]} if understood else {},
        "Nothing to change: the client finds the spelling itself.",
        {"orders": orders},
        inconclusive=not understood,
    )


# ----------------------------------------------------------------- get by ids
async def _lookup(ctx: ProbeContext, sample: Sample, param: str, ids: list[int]) -> str:
    """``array``, ``envelope`` (the records asked for), ``ignored`` or ``failed``."""
    text = "[" + ",".join(map(str, ids)) + "]"
    answer = await ctx.http.request("GET", sample.entity.path, [(param, text)])
    body = answer.json()
    records = body if isinstance(body, list) else (_envelope(answer) or {}).get("Records")
    if answer.status != 200 or not isinstance(records, list):
        return "failed"
    got = sorted(r["Id"] for r in records if isinstance(r, dict) and isinstance(r.get("Id"), int))
    if got != sorted(ids):
        return "ignored"
    return "array" if isinstance(body, list) else "envelope"


def _ids_settings(shapes: dict[str, str]) -> dict[str, Any]:
    answered = {k: v for k, v in shapes.items() if v in ("array", "envelope")}
    if not answered:
        return {}
    forms = "both" if len(answered) == 2 else ("entity_id" if "Entity_Id" in answered else "id")
    documented = {"Entity_Id": "envelope", "id": "array"}
    if all(documented[k] == v for k, v in answered.items()):
        return {"ids_forms": forms, "ids_answer": "by_form"}
    if len(set(answered.values())) == 1:
        return {"ids_forms": forms, "ids_answer": next(iter(answered.values()))}
    return {"ids_forms": forms}  # each form its own odd shape: the forms are still known


async def check_get_by_ids(ctx: ProbeContext) -> Finding:
    sample = await ctx.sample_with(2)
    pages = (
        "003 documents ?Entity_Id=[1,2] answering the list envelope; newer pages document "
        "?id=[1,2] answering a bare JSON array."
    )
    client = (
        "Copes: get_many() sends Entity_Id=[..], reads either shape, and switches to id=[..] "
        "when an answer holds records it did not ask for."
    )
    if sample is None:
        return Finding(
            "get_by_ids", "Get by ids", pages, "no list holds 2 records", client, inconclusive=True
        )
    ids = sample.ids[:2] if sample.total > 2 else sample.ids[:1]
    shapes = {
        "Entity_Id": await _lookup(ctx, sample, sample.entity.ids_param, ids),
        "id": await _lookup(ctx, sample, "id", ids),
    }
    observed = _ids_settings(shapes)
    seen = f"{sample.entity.ids_param}={ids}: {shapes['Entity_Id']}; id={ids}: {shapes['id']}"
    return Finding(
        "get_by_ids",
        "Get by ids",
        pages,
        seen,
        client,
        observed,
        "Nothing to change: get_many() copes with either form and shape.",
        {"answers": shapes},
        inconclusive=not observed,
    )


# ----------------------------------------------------------------- 404
async def check_not_found(ctx: ProbeContext) -> Finding:
    answer = await ctx.http.request("GET", f"{PASSES.path}/{INT32_MAX - 1}")
    body = answer.json()
    observed: dict[str, Any] = {}
    if answer.status == 404 and isinstance(body, str):
        observed = {"not_found_body": "string"}
    elif answer.status == 404 and isinstance(body, dict):
        observed = {"not_found_body": "envelope"}
    return Finding(
        "not_found",
        "A missing record",
        'The older reference pages answer 404 with the JSON string "Not found"; '
        "the envelope (Message, WasSuccessful: false) elsewhere.",
        f"GET .../{INT32_MAX - 1} answered {answer.status}: {answer.text[:120]!r}",
        "Copes: any 404 raises NotFoundError, whatever its body.",
        observed,
        "Nothing to change.",
        {"answer": _short(answer)},
        inconclusive=not observed,
    )


# ----------------------------------------------------------------- filters
def _no_match_value(flt: Filter, entity: Entity, sample: Sample) -> str | None:
    """A value no record of the sample holds (None: the filter cannot be tried)."""
    if flt.kind == "enum" and flt.field is not None:
        listed = entity.list_field(flt.field)
        field = entity.field(listed.source or "") if listed is not None else None
        held = {r.get(flt.field) for r in sample.records}
        spare = [v for v in (field.enum if field else ()) if v not in held]
        return str(spare[0]) if spare and sample.total == len(sample.records) else None
    if flt.kind == "int":
        return str(INT32_MAX - 1)
    if flt.kind == "uuid":
        return str(uuid.uuid4())
    if flt.kind == "string":
        return "nexudus-async-probe-matches-nothing"
    return None


async def _filters_of(ctx: ProbeContext, sample: Sample) -> tuple[list[str], dict[str, Any]]:
    """(ignored names, {name: TotalItems or status}) for an entity's documented filters."""
    ignored: list[str] = []
    seen: dict[str, Any] = {}
    for flt in sample.entity.filters:
        if flt.equals is None or flt.equals == "Id":
            continue
        value = _no_match_value(flt, sample.entity, sample)
        if value is None:
            continue
        answer = await ctx.http.request("GET", sample.entity.path, [(flt.equals, value)])
        envelope = _envelope(answer)
        total = envelope.get("TotalItems") if envelope else None
        seen[flt.equals] = total if isinstance(total, int) else answer.status
        if isinstance(total, int) and total >= sample.total:
            ignored.append(flt.equals)
    return ignored, seen


async def check_filters(ctx: ProbeContext) -> Finding:
    ignored: list[str] = []
    totals: dict[str, Any] = {}
    tried: list[str] = []
    for entity in LINKS:
        sample = await ctx.sample(entity)
        if sample is None or not sample.records:
            continue
        tried.append(entity.name)
        names, seen = await _filters_of(ctx, sample)
        ignored += names
        totals.update(seen)
    seen_text = (
        f"ignored (TotalItems unchanged by a value no record holds): {', '.join(ignored)}"
        if ignored
        else "every one filtered"
    )
    untried = [e.name for e in LINKS if e.name not in tried]
    if untried:
        seen_text += f"; not tried on {', '.join(untried)} (no records)"
    return Finding(
        "filters",
        "Filters of product and tariff links",
        "The older reference pages name ProductTimePass_Product, _TimePass, _PassesIncluded, "
        "_ExpirationType, _ExpiresIn, _SystemId, _Product_Name, _TimePass_Name and the "
        "TariffTimePass equivalents.",
        seen_text if tried else "no product or tariff link to try the filters on",
        "Does not cope: a filter the account ignores returns every record. Filter those "
        "fields in your own code (the records carry them).",
        {"ignored_filters": sorted(ignored)} if tried else {},
        "Avoid the ignored filters (filter the records yourself) and tell us their names.",
        {"total_items": totals},
        inconclusive=not tried,
    )


# ----------------------------------------------------------------- fields and enums
def _missing_and_extra(sample: Sample) -> tuple[set[str], set[str]]:
    spec_list = {f.json_name for f in sample.entity.list_fields}
    spec_full = {f.json_name for f in sample.entity.fields}
    missing: set[str] = set()
    extra: set[str] = set()
    for record in sample.records[:1]:
        missing |= spec_list - record.keys()
        extra |= record.keys() - spec_list
    if sample.full is not None:
        missing |= spec_full - sample.full.keys()
        extra |= sample.full.keys() - spec_full
    return missing, extra


async def check_fields(ctx: ProbeContext) -> Finding:
    missing: set[str] = set()
    extra: set[str] = set()
    tried: list[str] = []
    for entity in ALL:
        sample = await ctx.sample(entity)
        if sample is None or not sample.records:
            continue
        tried.append(entity.name)
        m, e = _missing_and_extra(sample)
        missing |= m
        extra |= e
    seen = (
        f"read a list record and a full record of {', '.join(tried)}; missing: "
        f"{', '.join(sorted(missing)) or 'none'}; extra: {', '.join(sorted(extra)) or 'none'}"
    )
    return Finding(
        "fields",
        "Fields of records",
        "List records are partial and shaped differently from single records (Coworker "
        "there, CoworkerId here); the live GET was seen to omit PurchaseOrder, "
        "TariffTimePassUniqueId and CoworkerContractUniqueId.",
        seen if tried else "no records to read",
        "Copes: extra fields are kept on the models; a missing field reads as unset, and "
        "update() warns (FieldsClearedWarning) before a PUT would clear a writable one.",
        {"record_omits": sorted(missing), "record_extras": sorted(extra)} if tried else {},
        "Pass the missing writable fields to update() yourself if you rely on them.",
        inconclusive=not tried,
    )


def _unknown_enums(sample: Sample) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    records = [*sample.records, *([sample.full] if sample.full else [])]
    for field in sample.entity.fields:
        if field.kind != "enum":
            continue
        names = {n for n in (field.json_name, field.list_name) if n}
        for record in records:
            for name in names & record.keys():
                value = record[name]
                if value is not None and value not in field.enum:
                    out.setdefault(field.json_name, []).append(value)
    return out


async def check_enums(ctx: ProbeContext) -> Finding:
    found: dict[str, list[Any]] = {}
    tried = []
    for entity in LINKS:
        sample = await ctx.sample(entity)
        if sample is not None and sample.records:
            tried.append(entity.name)
            found.update(_unknown_enums(sample))
    seen = ", ".join(f"{k}: {sorted(set(v))}" for k, v in found.items()) or "none"
    return Finding(
        "enums",
        "Unknown enum values",
        "The pages list ExpirationType 1-6 and PassRenewalTime 1-5; a client author saw "
        "ExpirationType: 0.",
        f"undocumented values seen: {seen}" if tried else "no product or tariff link to read",
        "Copes: unknown values parse (ExpirationType.UNKNOWN_0) and survive update().",
        {"unknown_enum_values": bool(found)} if tried else {},
        "Nothing to change; pass allow_unknown_enum_values=True to write such values.",
        {"values": found},
        inconclusive=not tried,
    )


# ----------------------------------------------------------------- token
async def check_token(ctx: ProbeContext) -> Finding:
    pages = (
        "POST /api/token takes a form-encoded password grant; a JSON body fails with "
        "unsupported_grant_type."
    )
    client = "Copes: the client always sends the form."
    if ctx.credentials is None:
        return Finding(
            "token",
            "Token endpoint",
            pages,
            "not tried: connected with a token",
            client,
            inconclusive=True,
        )
    email, password = ctx.credentials
    grant = {"grant_type": "password", "username": email, "password": password}
    http = ctx.http
    form = await http.request("POST", "/api/token", form=grant, authenticated=False)
    as_json = await http.request("POST", "/api/token", body=grant, authenticated=False)
    evidence = {"form": _token_answer(form), "json": _token_answer(as_json)}
    observed: dict[str, Any] = {}
    if as_json.status == 200 and _token_answer(as_json).get("access_token"):
        observed = {"token_json_body": "accepted"}
    elif 400 <= as_json.status < 500 and as_json.status != 401:
        observed = {"token_json_body": "refused"}
    seen = f"form body: {form.status}; JSON body: {as_json.status} {evidence['json']}"
    return Finding(
        "token",
        "Token endpoint",
        pages,
        seen,
        client,
        observed,
        "Nothing to change.",
        evidence,
        inconclusive=not observed,
    )


def _token_answer(answer: Answer) -> dict[str, Any]:
    """Status and error fields; of a token only whether one came (never its value)."""
    body = answer.json()
    out: dict[str, Any] = {"status": answer.status}
    if isinstance(body, dict):
        out["access_token"] = "access_token" in body
        for key in ("error", "error_description", "token_type", "expires_in"):
            if key in body:
                out[key] = body[key]
    return out


# ----------------------------------------------------------------- throttle
async def check_throttle(ctx: ProbeContext) -> Finding:
    answers = await ctx.http.burst("GET", PASSES.path, [("page", "1"), ("size", "1")])
    throttled = [a for a in answers if a.status in THROTTLED]
    pages = (
        "The reference: 409 with Retry-After: 1 and an empty body; observed: 429 with "
        "'Wait N seconds' in the body; the vendor's .NET SDK retries 429."
    )
    client = "Copes: 409 and 429 are both waited out (Retry-After, or the body's wait) and resent."
    if not throttled:
        seen = "3 requests at once were not throttled (the limits may be wider than published)"
        return Finding(
            "throttle",
            "Throttled answer",
            pages,
            seen,
            client,
            evidence={"statuses": [a.status for a in answers]},
            inconclusive=True,
        )
    first = throttled[0]
    where = "Retry-After header" if "Retry-After" in first.headers else "body"
    seen = f"{len(throttled)} of 3 throttled: {first.status}, wait in the {where}"
    return Finding(
        "throttle",
        "Throttled answer",
        pages,
        seen,
        client,
        {"throttle_status": first.status},
        "Nothing to change.",
        {"throttled": _short(first), "statuses": [a.status for a in answers]},
    )


READ_CHECKS: tuple[Check, ...] = (
    Check("token", check_token),
    Check("page_size", check_page_size),
    Check("dir", check_dir),
    Check("get_by_ids", check_get_by_ids),
    Check("not_found", check_not_found),
    Check("filters", check_filters),
    Check("fields", check_fields),
    Check("enums", check_enums),
    Check("throttle", check_throttle),
)
