"""The one deliberate burst: three requests at once show the throttled answer's shape."""

from __future__ import annotations

import attrs
import pytest

from nexudus_async.testing import ThrottleLimits, run_emulator

from .conftest import differences, probe, seeded_config

#: One request per 30 s and no other limit: of three sent at once, the last two are
#: throttled whatever the machine's speed (they would have to be 30 s apart not to be).
ONE_PER_30_SECONDS = ThrottleLimits(
    min_interval=30.0,
    per_minute=None,
    per_hour=None,
    per_day=None,
    writes_per_minute=None,
    writes_per_day=None,
)


@pytest.mark.parametrize(
    ("status", "where", "named"),
    [(409, "Retry-After header", set()), (429, "body", {"throttle_status"})],
)
async def test_the_burst_reports_the_throttled_status_and_where_the_wait_is(
    status: int, where: str, named: set[str]
) -> None:
    config = attrs.evolve(seeded_config(throttle_status=status), limits=ONE_PER_30_SECONDS)
    async with run_emulator(config) as emu:
        report = await probe(emu, checks=("throttle",))
        # The token, then the burst, and nothing resent after it.
        assert dict(emu.stats.by_route) == {
            "POST /api/token": 1,
            "GET /api/billing/coworkertimepasses": 3,
        }
    (finding,) = report.findings
    assert finding.status == ("matches" if status == 409 else "differs")
    assert finding.observed == {"throttle_status": status}
    assert finding.seen == f"2 of 3 throttled: {status}, wait in the {where}"
    assert finding.evidence["statuses"] == [200, status, status]
    assert differences(report) == named
