"""Benchmark 1: per-call overhead against a minimal static server.

Four clients do the same mix (get by id, list one 25-record page, create),
one third each, against ``static_server.py`` in its own process, at
concurrency 1 and 32. The variants are interleaved round by round (the
order rotates each round) and within a round in alternating slices; every
figure is a median over rounds; ratios are taken within a round, so both
sides of a ratio saw the same machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import common
import facade_compat
import fixtures
import stock
from common import ChildServer, Missing, median, self_cpu, static_server

EMAIL, PASSWORD = "bench@example.com", "bench-password"
BASIC = "Basic " + base64.b64encode(f"{EMAIL}:{PASSWORD}".encode()).decode()
GET_ID = 1_234_567
PAGE_SIZE = 25


@dataclass
class Ops:
    get: Callable[[], Awaitable[Any]]
    list: Callable[[], Awaitable[Any]]
    create: Callable[[], Awaitable[Any]]
    # sanity checks on one answer of each kind: a variant that silently
    # returns None (unexpected status) must not look fast
    check_get: Callable[[Any], bool]
    check_list: Callable[[Any], bool]
    check_create: Callable[[Any], bool]


# --- (a) raw aiohttp + json.loads: the floor ---------------------------------


@contextlib.asynccontextmanager
async def raw_aiohttp(url: str) -> AsyncIterator[Ops]:
    async with aiohttp.ClientSession(headers={"Authorization": BASIC}) as s:
        one = f"{url}/api/billing/coworkertimepasses/{GET_ID}"
        coll = f"{url}/api/billing/coworkertimepasses"
        params = {"page": "1", "size": str(PAGE_SIZE)}
        body = fixtures.CREATE_BODY

        async def get() -> Any:
            async with s.get(one) as r:
                return json.loads(await r.read())

        async def list_() -> Any:
            async with s.get(coll, params=params) as r:
                return json.loads(await r.read())

        async def create() -> Any:
            data = json.dumps(body).encode()
            async with s.post(coll, data=data, headers={"Content-Type": "application/json"}) as r:
                return json.loads(await r.read())

        yield Ops(
            get,
            list_,
            create,
            lambda r: r["Id"] == GET_ID,
            lambda r: len(r["Records"]) == PAGE_SIZE,
            lambda r: r["WasSuccessful"] is True,
        )


# --- (b) our generated functions over AiohttpTransport ----------------------


@contextlib.asynccontextmanager
async def generated(url: str) -> AsyncIterator[Ops]:
    try:
        from nexudus_async._core.transport import AiohttpTransport
        from nexudus_async._generated.api.coworker_time_passes import (
            create_coworker_time_pass,
            get_coworker_time_pass,
            list_coworker_time_passes,
        )
        from nexudus_async._generated.client import Client
        from nexudus_async._generated.models import CoworkerTimePassCreate
    except ImportError as e:
        raise Missing(f"generated package not importable: {e}") from e

    async with aiohttp.ClientSession(headers={"Authorization": BASIC}) as s:
        client = Client(transport=AiohttpTransport(s, url))

        def new_body() -> Any:
            return CoworkerTimePassCreate(
                coworker_id=12_000_001,
                business_id=87_654_321,
                time_pass_id=1_101,
                create_multiple=1,
                notes="Notes",
                free=False,
                price=12.5,
            )

        async def get() -> Any:
            return await get_coworker_time_pass.asyncio(client=client, id=GET_ID)

        async def list_() -> Any:
            return await list_coworker_time_passes.asyncio(client=client, page=1, size=PAGE_SIZE)

        async def create() -> Any:
            return await create_coworker_time_pass.asyncio(client=client, body=new_body())

        yield Ops(
            get,
            list_,
            create,
            lambda r: getattr(r, "id", None) == GET_ID,
            lambda r: len(getattr(r, "records", ())) == PAGE_SIZE,
            lambda r: getattr(r, "was_successful", None) is True,
        )


# --- (c) the facade, limiter off ---------------------------------------------


@contextlib.asynccontextmanager
async def facade(url: str) -> AsyncIterator[Ops]:
    async with facade_compat.client(url, limits=None, email=EMAIL, password=PASSWORD) as client:
        ctp = client.coworker_time_passes

        async def get() -> Any:
            return await ctp.get(GET_ID)

        async def list_() -> Any:
            return await ctp.list(size=PAGE_SIZE)

        async def create() -> Any:
            return await ctp.create(
                coworker_id=12_000_001,
                business_id=87_654_321,
                time_pass_id=1_101,
                create_multiple=1,
                notes="Notes",
                free=False,
                price=12.5,
            )

        def n_records(r: Any) -> int:
            recs = getattr(r, "records", None)
            if recs is None:
                recs = getattr(r, "items", r)
            return len(recs)

        yield Ops(
            get,
            list_,
            create,
            lambda r: getattr(r, "id", None) == GET_ID,
            lambda r: n_records(r) == PAGE_SIZE,
            lambda r: getattr(r, "id", None) == 12_354_678,
        )


# --- (d) the stock openapi-python-client (httpx) ----------------------------


@contextlib.asynccontextmanager
async def stock_httpx(url: str) -> AsyncIterator[Ops]:
    mod, _ = stock.generate()
    get_m = stock.api("get_coworker_time_pass")
    list_m = stock.api("list_coworker_time_passes")
    create_m = stock.api("create_coworker_time_pass")
    Create = stock.model("coworker_time_pass_create", "CoworkerTimePassCreate")
    async with mod.Client(base_url=url, headers={"Authorization": BASIC}) as client:

        def new_body() -> Any:
            return Create(
                coworker_id=12_000_001,
                business_id=87_654_321,
                time_pass_id=1_101,
                create_multiple=1,
                notes="Notes",
                free=False,
                price=12.5,
            )

        async def get() -> Any:
            return await get_m.asyncio(client=client, id=GET_ID)

        async def list_() -> Any:
            return await list_m.asyncio(client=client, page=1, size=PAGE_SIZE)

        async def create() -> Any:
            return await create_m.asyncio(client=client, body=new_body())

        yield Ops(
            get,
            list_,
            create,
            lambda r: getattr(r, "id", None) == GET_ID,
            lambda r: len(getattr(r, "records", ())) == PAGE_SIZE,
            lambda r: getattr(r, "was_successful", None) is True,
        )


VARIANTS: dict[str, Callable[[str], contextlib.AbstractAsyncContextManager[Ops]]] = {
    "a": raw_aiohttp,
    "b": generated,
    "c": facade,
    "d": stock_httpx,
}
LABELS = {
    "a": "(a) raw aiohttp + json.loads (floor)",
    "b": "(b) our generated functions",
    "c": "(c) facade, limiter off",
    "d": "(d) stock openapi-python-client (httpx)",
}


OP_KINDS = ("get", "list", "create")


async def drive(
    ops: Ops, concurrency: int, n: int, seconds: float = 0.0, only: str | None = None
) -> int:
    """Run the mix with ``concurrency`` workers: ``n`` calls, or for ``seconds``.

    Returns the number of calls completed. The mix stays one third each
    because the kind comes from one shared counter; ``only`` runs one kind.
    """
    calls = (ops.get, ops.list, ops.create)
    if only is not None:
        one = getattr(ops, only)
        calls = (one, one, one)
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        for i in counter:
            if (seconds and time.perf_counter() >= deadline) or (not seconds and i >= n):
                return
            await calls[i % 3]()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def check(ops: Ops) -> None:
    for name, call, ok in (
        ("get", ops.get, ops.check_get),
        ("list", ops.list, ops.check_list),
        ("create", ops.create, ops.check_create),
    ):
        r = await call()
        if not ok(r):
            raise Missing(f"{name} answered {type(r).__name__}: {str(r)[:200]}")


async def measure(
    key: str,
    url: str,
    server: ChildServer,
    concurrency: int,
    seconds: float,
    only: str | None = None,
) -> dict[str, float]:
    async with VARIANTS[key](url) as ops:
        await check(ops)
        await drive(ops, concurrency, max(3 * concurrency, 30))  # open the pool, warm up
        c0, s0 = self_cpu(), server.cpu()
        t0 = time.perf_counter()
        n = await drive(ops, concurrency, 0, seconds, only)
        wall = time.perf_counter() - t0
        c1, s1 = self_cpu(), server.cpu()
    return {
        "rps": n / wall,
        "client_us": (c1 - c0) / n * 1e6,
        "server_us": (s1 - s0) / n * 1e6,
        "calls": n,
    }


async def measure_round(
    keys: list[str],
    url: str,
    server: ChildServer,
    concurrency: int,
    seconds: float,
    slices: int,
) -> dict[str, dict[str, float]]:
    """One round: every variant open and warmed up at once, then measured in ``slices``
    alternating slices of ``seconds / slices`` each (the order reversed every slice).

    Each variant still runs the mix for ``seconds`` in all; its figures are the sums over
    its slices. Slices rather than one stretch per variant: on a shared machine the load
    drifts within a round, and the variants of a ratio then see the same moments of it.
    """
    totals = {k: {"calls": 0.0, "wall": 0.0, "client": 0.0, "server": 0.0} for k in keys}
    async with contextlib.AsyncExitStack() as stack:
        opened: dict[str, Ops] = {}
        for key in keys:
            opened[key] = ops = await stack.enter_async_context(VARIANTS[key](url))
            await check(ops)
            await drive(ops, concurrency, max(3 * concurrency, 30))  # open the pool, warm up
        for i in range(slices):
            for key in keys if i % 2 == 0 else keys[::-1]:
                c0, s0 = self_cpu(), server.cpu()
                t0 = time.perf_counter()
                n = await drive(opened[key], concurrency, 0, seconds / slices)
                t = totals[key]
                t["wall"] += time.perf_counter() - t0
                t["client"] += self_cpu() - c0
                t["server"] += server.cpu() - s0
                t["calls"] += n
    return {
        k: {
            "rps": t["calls"] / t["wall"],
            "client_us": t["client"] / t["calls"] * 1e6,
            "server_us": t["server"] / t["calls"] * 1e6,
            "calls": t["calls"],
        }
        for k, t in totals.items()
    }


def run(
    rounds: int = 21, seconds: float = 0.5, levels: tuple[int, ...] = (1, 32), slices: int = 5
) -> dict[str, Any]:
    if common.QUICK:
        rounds, seconds, slices = 2, 0.4, 2
    out: dict[str, Any] = {
        "rounds": rounds,
        "sample_seconds": seconds,
        "slices": slices,
        "errors": {},
        "by_conc": {},
    }
    with static_server() as server:
        available: list[str] = []

        async def probe() -> None:
            for key in VARIANTS:
                try:
                    async with VARIANTS[key](server.url) as ops:
                        await check(ops)
                    available.append(key)
                except Exception as e:  # a piece not landed, or broken: say so
                    detail = str(e) if isinstance(e, Missing) else traceback.format_exc(limit=3)
                    out["errors"][key] = f"{type(e).__name__}: {detail}".strip()[-600:]

        asyncio.run(probe())
        out["available"] = available
        for conc in levels:
            samples: dict[str, list[dict[str, float]]] = {k: [] for k in available}

            async def one_round(r: int, conc: int = conc, samples=samples) -> None:
                order = available[r % len(available) :] + available[: r % len(available)]
                got = await measure_round(order, server.url, server, conc, seconds, slices)
                for key in order:
                    samples[key].append(got[key])

            for r in range(rounds):
                asyncio.run(one_round(r))
            out["by_conc"][conc] = summarise(samples, conc)

        # where the time goes: each kind of call alone, concurrency 1
        per_op: dict[str, dict[str, list[float]]] = {
            k: {op: [] for op in OP_KINDS} for k in available
        }

        async def op_round(r: int) -> None:
            order = available[r % len(available) :] + available[: r % len(available)]
            for key in order:
                for op in OP_KINDS:
                    m = await measure(key, server.url, server, 1, 0.3, only=op)
                    per_op[key][op].append(m["client_us"])

        for r in range(max(2, rounds // 6)):
            asyncio.run(op_round(r))
        out["per_op_client_us"] = {
            k: {op: median(v) for op, v in d.items()} for k, d in per_op.items()
        }
    return out


def cpu_cost(v: dict[str, float], concurrency: int) -> float:
    """Seconds per call the CPU accounting predicts: one call at a time pays client and
    server in turn; with many in flight the busier of the two processes sets the pace."""
    if concurrency == 1:
        return v["client_us"] + v["server_us"]
    return max(v["client_us"], v["server_us"])


def summarise(samples: dict[str, list[dict[str, float]]], concurrency: int) -> dict[str, Any]:
    res: dict[str, Any] = {"variants": {}, "ratios": {}}
    for key, runs in samples.items():
        res["variants"][key] = {
            "rps": median([x["rps"] for x in runs]),
            "rps_all": [round(x["rps"]) for x in runs],
            "client_us": median([x["client_us"] for x in runs]),
            "calls": sum(int(x["calls"]) for x in runs),
            "server_us": median([x["server_us"] for x in runs]),
        }
    for num, den in (("c", "a"), ("c", "d"), ("b", "a"), ("b", "d"), ("a", "d"), ("c", "b")):
        if num in samples and den in samples:
            pairs = zip(samples[num], samples[den], strict=True)
            per_round = [x["rps"] / y["rps"] for x, y in pairs]
            vn, vd = res["variants"][num], res["variants"][den]
            res["ratios"][f"{num}/{den}"] = {
                "median_of_round_ratios": median(per_round),
                "min": min(per_round),
                "max": max(per_round),
                "client_cpu_ratio": vd["client_us"] / vn["client_us"],
                "cpu_model_ratio": cpu_cost(vd, concurrency) / cpu_cost(vn, concurrency),
            }
    return res


if __name__ == "__main__":
    import pprint

    pprint.pprint(run(rounds=2, seconds=0.5))
