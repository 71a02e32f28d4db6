"""Account settings the vendor's pages disagree on (issue 22): the ``dir`` encoding and
the precision of range filters, from EmulatorConfig, the command line and the admin API."""

from __future__ import annotations

import aiohttp
import pytest

from nexudus_async.testing import (
    AdminClientError,
    EmulatorConfig,
    EmulatorProcess,
    EmulatorServer,
    ThrottleLimits,
    run_emulator,
)

from .conftest import CTP, Api

OFF = ThrottleLimits.off()


def seed(emu: EmulatorServer) -> None:
    for second in (0, 30, 59):  # three records inside one minute, then one the next minute
        emu.store.insert("coworkertimepasses", {"CreatedOn": f"2024-03-02T08:00:{second:02d}Z"})
    emu.store.insert("coworkertimepasses", {"CreatedOn": "2024-03-02T08:01:00Z"})


async def ids(api: Api, query: str) -> list[int]:
    reply = await api.get(CTP, query)
    assert reply.status == 200, reply.body
    return [r["Id"] for r in reply.json["Records"]]


ASCENDING, DESCENDING = [1, 2, 3, 4], [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("encoding", "value", "expected"),
    [
        ("words", "descending", DESCENDING),
        ("words", "Descending", DESCENDING),
        ("words", "ascending", ASCENDING),
        ("words", "-1", ASCENDING),  # another page's descending: not understood, ignored
        ("words", "1", ASCENDING),
        ("words", "sideways", ASCENDING),
        ("one_minus_one", "-1", DESCENDING),
        ("one_minus_one", "1", ASCENDING),
        ("one_minus_one", "descending", ASCENDING),  # ignored
        ("one_minus_one", "0", ASCENDING),
        ("zero_one", "1", DESCENDING),
        ("zero_one", "0", ASCENDING),
        ("zero_one", "-1", ASCENDING),
        ("zero_one", "descending", ASCENDING),
    ],
)
async def test_dir_is_read_in_the_accounts_encoding_and_ignored_otherwise(
    session: aiohttp.ClientSession, encoding: str, value: str, expected: list[int]
) -> None:
    async with run_emulator(limits=OFF, dir_encoding=encoding) as emu:
        seed(emu)
        api = Api(session, emu)
        reply = await api.get(CTP, f"dir={value}")
        assert reply.status == 200
        assert [r["Id"] for r in reply.json["Records"]] == expected
        assert reply.json["CurrentSortDirection"] == (2 if expected == DESCENDING else 1)


def test_an_unknown_dir_encoding_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match='dir_encoding: "numbers" is not one of "words", "one_minus_one", "zero_one"',
    ):
        EmulatorConfig(dir_encoding="numbers")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match='range_precision: "hour" is not one of "minute", "second"'
    ):
        EmulatorConfig(range_precision="hour")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("precision", "query", "expected"),
    [
        # documented: YYYY-MM-DDTHH:mm; seconds given are dropped, To_ covers its minute
        ("minute", "From_CoworkerTimePass_CreatedOn=2024-03-02T08:00:30", [1, 2, 3, 4]),
        ("minute", "To_CoworkerTimePass_CreatedOn=2024-03-02T08:00:30", [1, 2, 3]),
        ("minute", "From_CoworkerTimePass_CreatedOn=2024-03-02T08:00", [1, 2, 3, 4]),
        ("minute", "To_CoworkerTimePass_CreatedOn=2024-03-02T08:00", [1, 2, 3]),
        ("second", "From_CoworkerTimePass_CreatedOn=2024-03-02T08:00:30", [2, 3, 4]),
        ("second", "To_CoworkerTimePass_CreatedOn=2024-03-02T08:00:30", [1, 2]),
        ("second", "To_CoworkerTimePass_CreatedOn=2024-03-02T08:00", [1, 2, 3]),
    ],
)
async def test_range_filters_compare_at_the_configured_precision(
    session: aiohttp.ClientSession, precision: str, query: str, expected: list[int]
) -> None:
    async with run_emulator(limits=OFF, range_precision=precision) as emu:
        seed(emu)
        assert await ids(Api(session, emu), query) == expected


def test_the_default_account_uses_words_and_minute_ranges() -> None:
    config = EmulatorConfig()
    assert (config.dir_encoding, config.range_precision) == ("words", "minute")


def test_settings_and_limits_from_the_command_line_and_the_admin_api() -> None:
    args = ("--dir-encoding", "zero_one", "--range-precision", "second")
    limits = ("--limit", "writes_per_day=2500", "--limit", "per_hour=off")
    with EmulatorProcess(*args, *limits) as emu:
        admin = emu.admin
        settings = admin.settings()
        assert (settings["dir_encoding"], settings["range_precision"]) == ("zero_one", "second")
        got = admin.limits()
        assert (got["writes_per_day"], got["per_hour"], got["per_day"]) == (2500, None, 200_000)
        changed = admin.set_settings(dir_encoding="one_minus_one")
        assert (changed["dir_encoding"], changed["range_precision"]) == ("one_minus_one", "second")
        with pytest.raises(AdminClientError) as refused:
            admin.request("PUT", "/profile", {"dir_encoding": "numbers"})
        assert refused.value.status == 400
        assert refused.value.body == {
            "error": "bad_request",
            "message": 'body.dir_encoding: "numbers" is not one of '
            '"words", "one_minus_one", "zero_one".',
        }
        admin.reset()  # back to what the command line said
        assert admin.settings()["dir_encoding"] == "zero_one"


async def test_settings_change_in_process(session: aiohttp.ClientSession) -> None:
    async with run_emulator(limits=OFF) as emu:
        seed(emu)
        api = Api(session, emu)
        assert await ids(api, "dir=1") == ASCENDING
        emu.set_settings(dir_encoding="zero_one")
        assert await ids(api, "dir=1") == DESCENDING
        emu.reset()
        seed(emu)
        assert await ids(api, "dir=1") == ASCENDING
