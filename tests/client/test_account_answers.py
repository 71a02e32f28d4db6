"""The client copes, without a setting, with each answer the vendor's pages disagree on.

Each test switches the emulator into one account behaviour (the settings
``nexudus-async probe`` reports) and checks what the client returns and what it
sent (the emulator's request journal).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp
import pytest

from nexudus_async import (
    BasicAuth,
    MalformedResponseError,
    NexudusClient,
    NotFoundError,
    SortDirection,
    ValidationError,
)
from nexudus_async._core.errors import FieldError
from nexudus_async._core.pagination import refused_size
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)
from nexudus_async.testing.server import EmulatorServer

from .conftest import BASE, Wire

CTP = "coworkertimepasses"
PATH = "/api/billing/coworkertimepasses"


def _config(**settings: Any) -> EmulatorConfig:
    return EmulatorConfig(limits=ThrottleLimits.off(), **settings)


async def _seed(emu: EmulatorServer, n: int) -> list[int]:
    return [
        emu.store.insert(CTP, {"CoworkerId": 42, "BusinessId": 1, "TimePassId": 7})["Id"]
        for _ in range(n)
    ]


async def _lists_sent(emu: EmulatorServer) -> list[dict[str, str]]:
    """The query of every list request the emulator answered, oldest first."""
    async with aiohttp.ClientSession() as s, s.get(emu.base_url + "/_emulator/journal") as r:
        entries = (await r.json())["entries"]
    return [
        dict(urllib.parse.parse_qsl(e["query"]))
        for e in entries
        if e["method"] == "GET" and e["path"] == PATH
    ]


@pytest.fixture
def client_of() -> Any:
    def make(emu: EmulatorServer) -> NexudusClient:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        return NexudusClient(emu.base_url, auth, rate_limits=None)

    return make


async def _iterate(client: NexudusClient, **kwargs: Any) -> list[int]:
    return [item.id async for item in client.coworker_time_passes.iter(**kwargs)]


# ------------------------------------------------------------------ page size
async def test_a_refused_page_size_falls_back_to_the_maximum_the_answer_names(
    client_of: Any,
) -> None:
    async with run_emulator(_config(max_page_size=500)) as emu:
        ids = await _seed(emu, 1200)
        async with client_of(emu) as client:
            assert await _iterate(client) == ids  # every record once, in order
            assert await _iterate(client) == ids  # the namespace remembers the size
        sent = [(q["page"], q["size"]) for q in await _lists_sent(emu)]
    assert sent == [
        ("1", "1000"),  # refused (400)
        ("1", "500"), ("2", "500"), ("3", "500"),
        ("1", "500"), ("2", "500"), ("3", "500"),
    ]  # fmt: skip


async def test_a_silently_capped_page_size_paginates_on_what_the_answers_show(
    client_of: Any,
) -> None:
    async with run_emulator(_config(max_page_size=500, oversize_page="cap")) as emu:
        ids = await _seed(emu, 1200)
        async with client_of(emu) as client:
            assert await _iterate(client) == ids
            assert await _iterate(client, prefetch=3) == ids
        sent = [(q["page"], q["size"]) for q in await _lists_sent(emu)]
    assert sent[:3] == [("1", "1000"), ("2", "500"), ("3", "500")]
    assert sent[3:] == [("1", "500"), ("2", "500"), ("3", "500")]


async def test_max_items_counts_pages_at_the_capped_size(client_of: Any) -> None:
    async with run_emulator(_config(max_page_size=300, oversize_page="cap")) as emu:
        ids = await _seed(emu, 1000)
        async with client_of(emu) as client:
            assert await _iterate(client, max_items=700) == ids[:700]


async def test_no_maximum_is_just_the_page_asked(client_of: Any) -> None:
    async with run_emulator(_config(max_page_size=None)) as emu:
        ids = await _seed(emu, 30)
        async with client_of(emu) as client:
            assert await _iterate(client) == ids
        assert [q["size"] for q in await _lists_sent(emu)] == ["1000"]


def test_a_refusal_that_names_no_maximum_tries_100_then_25() -> None:
    def refusal(message: str, prop: str = "size") -> ValidationError:
        return ValidationError(
            "rejected", status=400, api_message=message, errors=[FieldError(prop, message, None)]
        )

    assert refused_size(refusal("size: must be less than or equal to 500"), 1000) == 500
    assert refused_size(refusal("size: too large"), 1000) == 100
    assert refused_size(refusal("size: too large"), 100) == 25
    assert refused_size(refusal("size: too large"), 25) is None
    # A 400 about something else is not a page size problem: raised as it is.
    assert (
        refused_size(refusal("Coworker: not a number", "CoworkerTimePass_Coworker"), 1000) is None
    )


async def test_a_bad_filter_is_not_taken_for_a_refused_size(wire: Wire) -> None:
    # The client checks filter values itself now, so the account's 400 about a filter
    # is played on the wire: it names the filter, not ``size``.
    refusal = {
        "Message": "CoworkerTimePass_Coworker: is not valid",
        "Value": None,
        "WasSuccessful": False,
        "Errors": [
            {"PropertyName": "CoworkerTimePass_Coworker", "Message": "is not valid",
             "AttemptedValue": "42"}
        ],
    }  # fmt: skip
    wire.add("GET", PATH, status=400, payload=refusal)
    auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
    async with NexudusClient(BASE, auth, rate_limits=None) as client:
        with pytest.raises(ValidationError) as info:
            await _iterate(client, coworker=42)
    assert info.value.errors[0].property_name == "CoworkerTimePass_Coworker"
    assert wire.lines() == [f"GET {PATH}?page=1&size=1000&CoworkerTimePass_Coworker=42"]


# ------------------------------------------------------------------ dir
@pytest.mark.parametrize(
    ("encoding", "tried"),
    [
        ("words", ["descending"]),
        ("one_minus_one", ["descending", "-1"]),
        ("zero_one", ["descending", "-1", "1"]),
    ],
)
async def test_descending_lists_come_back_descending_in_any_dir_encoding(
    client_of: Any, encoding: str, tried: list[str]
) -> None:
    async with run_emulator(_config(dir_encoding=encoding)) as emu:
        ids = await _seed(emu, 7)
        async with client_of(emu) as client:
            down = SortDirection.DESCENDING
            assert await _iterate(client, direction=down) == ids[::-1]
            assert await _iterate(client, direction=down, size=3) == ids[::-1]
            page = await client.coworker_time_passes.list(direction=down, order_by="Price")
            assert len(page) == 7
            assert await _iterate(client, direction=SortDirection.ASCENDING) == ids
        sent = [q.get("dir") for q in await _lists_sent(emu)]
    learned = tried[-1]
    # The first descending list tries the spellings in turn; later ones use the one learned.
    assert sent == [*tried, learned, learned, learned, learned, "ascending"]


# ------------------------------------------------------------------ get by ids
@pytest.mark.parametrize(
    ("forms", "answer", "params"),
    [
        ("both", "by_form", ["CoworkerTimePass_Id"] * 2),
        ("both", "array", ["CoworkerTimePass_Id"] * 2),
        ("entity_id", "envelope", ["CoworkerTimePass_Id"] * 2),
        ("id", "by_form", ["CoworkerTimePass_Id", "id", "id"]),
        ("id", "envelope", ["CoworkerTimePass_Id", "id", "id"]),
    ],
)
async def test_get_many_in_the_form_and_shape_the_account_answers(
    client_of: Any, forms: str, answer: str, params: list[str]
) -> None:
    async with run_emulator(_config(ids_forms=forms, ids_answer=answer)) as emu:
        ids = await _seed(emu, 6)
        async with client_of(emu) as client:
            got = await client.coworker_time_passes.get_many([ids[4], ids[1], 99999])
            assert [item.id for item in got] == [ids[4], ids[1]]
            again = await client.coworker_time_passes.get_many([ids[0]])
            assert [item.id for item in again] == [ids[0]]
        sent = await _lists_sent(emu)
    lookups = [next(k for k in q if k in ("CoworkerTimePass_Id", "id")) for q in sent]
    # An ignored form is seen on its first answer (records not asked for) and not used again.
    assert lookups == params


async def test_an_account_that_ignores_both_lookups_is_an_error_not_a_full_read(
    client_of: Any,
) -> None:
    async with run_emulator(_config(ids_forms="id", ignored_filters=["id"])) as emu:
        ids = await _seed(emu, 6)
        async with client_of(emu) as client:
            with pytest.raises(MalformedResponseError, match="ignores both get-by-ids forms") as e:
                await client.coworker_time_passes.get_many(ids[:2])
        assert (e.value.method, e.value.path) == ("GET", "/api/billing/coworkertimepasses")
        assert len(await _lists_sent(emu)) == 2


# ------------------------------------------------------------------ other answers
async def test_a_404_string_body_is_not_found(client_of: Any) -> None:
    async with run_emulator(_config(not_found_body="string")) as emu, client_of(emu) as client:
        with pytest.raises(NotFoundError):
            await client.coworker_time_passes.get(12345)


async def test_unknown_enums_and_extra_fields_are_read(client_of: Any) -> None:
    settings = {"unknown_enum_values": True, "record_extras": ["Colour"]}
    async with run_emulator(_config(**settings)) as emu:
        link = emu.store.insert(
            "producttimepasses",
            {"ProductId": 1, "TimePassId": 1, "PassesIncluded": 3, "ExpirationType": 4},
        )
        async with client_of(emu) as client:
            record = await client.product_time_passes.get(link["Id"])
            listed = (await client.product_time_passes.list()).items[0]
    assert int(record.expiration_type) == 0 and int(listed.expiration_type) == 0
    assert record.additional_properties == {"Colour": None}


# ------------------------------------------------------------------ throttled answers
#: One request per 3 s (a minute scaled by 0.05), nothing else: a second request sent
#: right after a first is throttled unless the machine stalls for 3 s.
ONE_PER_WINDOW = ThrottleLimits(
    min_interval=None,
    per_minute=1,
    per_hour=None,
    per_day=None,
    writes_per_minute=None,
    writes_per_day=None,
)


@pytest.mark.parametrize("status", [409, 429], ids=["409 Retry-After", "429 wait in the body"])
async def test_both_throttled_answers_are_waited_out_and_resent(
    client_of: Any, status: int
) -> None:
    config = EmulatorConfig(limits=ONE_PER_WINDOW, time_scale=0.05, throttle_status=status)
    async with run_emulator(config) as emu:
        ids = await _seed(emu, 2)
        async with client_of(emu) as client:
            first = await client.coworker_time_passes.get(ids[0])
            second = await client.coworker_time_passes.get(ids[1])  # throttled, then resent
        assert (first.id, second.id) == (ids[0], ids[1])
        assert dict(emu.stats.by_status) == {200: 2, status: 1}
