"""A minimal static stand-in of the CoworkerTimePass endpoints, for timing clients.

Run as its own process (the benchmark clients must not share its CPU or event
loop): ``python bench/static_server.py [--total N] [--latency S]``. It binds
an ephemeral port on 127.0.0.1 and prints its base URL as the first line of
stdout. Bodies are canned and pre-encoded, so the server does as little
work per request as aiohttp allows; no auth, no validation, no limits.

- ``GET  /api/billing/coworkertimepasses/{Id}``  the full record
- ``GET  /api/billing/coworkertimepasses``       a page (``page``, ``size``) of ``--total``
- ``POST /api/billing/coworkertimepasses``       the success envelope
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures

JSON = "application/json; charset=utf-8"


def build_app(total: int, latency: float) -> web.Application:
    single = fixtures.dumps(fixtures.single_record(1_234_567))
    created = fixtures.dumps(fixtures.create_ok())

    @functools.lru_cache(maxsize=2048)
    def page_body(page_no: int, size: int) -> bytes:
        return fixtures.dumps(fixtures.page(page_no, size, total))

    async def get_one(request: web.Request) -> web.Response:
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=single, content_type="application/json", charset="utf-8")

    async def list_page(request: web.Request) -> web.Response:
        if latency:
            await asyncio.sleep(latency)
        q = request.query
        try:
            page_no = max(1, int(q.get("page", "1")))
            size = max(1, int(q.get("size", "25")))
        except ValueError:
            return web.Response(status=400)
        body = page_body(page_no, size)
        return web.Response(body=body, content_type="application/json", charset="utf-8")

    async def create(request: web.Request) -> web.Response:
        await request.read()
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=created, content_type="application/json", charset="utf-8")

    app = web.Application()
    app.router.add_get("/api/billing/coworkertimepasses/{id}", get_one)
    app.router.add_get("/api/billing/coworkertimepasses", list_page)
    app.router.add_post("/api/billing/coworkertimepasses", create)
    return app


async def serve(total: int, latency: float) -> None:
    runner = web.AppRunner(build_app(total, latency), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}", flush=True)
    try:
        # the parent closes our stdin to stop us
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--total", type=int, default=60, help="records the pager serves")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    args = ap.parse_args()
    asyncio.run(serve(args.total, args.latency))


if __name__ == "__main__":
    main()
