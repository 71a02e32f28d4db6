"""The transport's request-start hook: it sees each request's method and path before
it connects, and what it raises stops the request before the wire."""

from __future__ import annotations

import pytest

from nexudus_async import BasicAuth, NexudusClient
from nexudus_async._core.transport import before_send_hook
from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    ThrottleLimits,
    run_emulator,
)


class Refused(Exception):
    pass


async def test_the_hook_sees_method_and_path_and_a_refusal_sends_nothing() -> None:
    seen: list[tuple[str, str]] = []
    refuse = False

    async def hook(method: str, path: str) -> None:
        seen.append((method, path))
        if refuse:
            raise Refused(f"{method} {path}")

    config = EmulatorConfig(limits=ThrottleLimits.off())
    async with run_emulator(config) as emu:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        async with NexudusClient(
            emu.base_url, auth, rate_limits=None, trace_configs=[before_send_hook(hook)]
        ) as client:
            await client.coworker_time_passes.list(size=1)
            refuse = True
            with pytest.raises(Refused) as caught:
                await client.coworker_time_passes.get(7)
        assert str(caught.value) == "GET /api/billing/coworkertimepasses/7"
        assert seen == [
            ("GET", "/api/billing/coworkertimepasses"),
            ("GET", "/api/billing/coworkertimepasses/7"),
        ]
        assert sum(emu.stats.by_route.values()) == 1  # the refused GET never arrived
