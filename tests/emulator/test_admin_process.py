"""The ``nexudus_emulator_process`` fixture and its admin client, as a user's tests get them.

Each client call's effect is checked through the Nexudus API over HTTP.
"""

from __future__ import annotations

import pytest

from nexudus_async.testing import AdminClientError, EmulatorProcess
from nexudus_async.testing.pytest_plugin import DEFAULT_PROCESS_ARGS

from .admin_http import CTP, basic, call, coworker_pass


def test_the_process_fixture_hands_over_a_url_and_an_admin_client(
    nexudus_emulator_process: EmulatorProcess,
) -> None:
    emu = nexudus_emulator_process
    assert emu.url.startswith("http://127.0.0.1:")
    assert emu.returncode is None  # running
    admin = emu.admin
    assert admin.health() is True
    assert admin.time_scale() == 0.01  # DEFAULT_PROCESS_ARGS
    assert DEFAULT_PROCESS_ARGS == ("--time-scale", "0.01")
    admin.set_limits(enabled=False)  # keep this test clear of the 1 ms interval
    assert admin.limits()["enabled"] is False

    [seeded] = admin.seed("coworkertimepasses", {"Id": 9, "CoworkerId": 42, "Notes": "from a"})
    assert call(emu.url, "GET", f"{CTP}/9", authorization=basic()).json == seeded
    assert admin.record("coworkertimepasses", 9) == seeded
    assert admin.record("coworkertimepasses", 10) is None
    assert admin.records("coworkertimepasses") == [seeded]
    assert admin.counts()["coworkertimepasses"] == 1

    admin.add_user("reader@example.com", "pw", ["CoworkerTimePass-List"])
    reader = basic("reader@example.com", "pw")
    assert call(emu.url, "GET", CTP, authorization=reader).status == 200
    assert call(emu.url, "POST", CTP, coworker_pass(), authorization=reader).status == 401
    assert {u["email"] for u in admin.users()} == {"admin@example.com", "reader@example.com"}

    admin.set_faults([{"kind": "error500", "method": "POST"}])
    assert [f["kind"] for f in admin.faults()] == ["error500"]
    assert call(emu.url, "POST", CTP, coworker_pass(), authorization=basic()).status == 500
    admin.clear_faults()
    assert call(emu.url, "POST", CTP, coworker_pass(), authorization=basic()).status == 200

    form = {"grant_type": "password", "username": "admin@example.com", "password": "demo-password"}
    token = call(emu.url, "POST", "/api/token", form=form).json["access_token"]
    admin.expire_tokens()
    assert call(emu.url, "GET", CTP, authorization=f"Bearer {token}").status == 401

    stats = admin.stats()
    assert stats["executed"] == {  # a token grant is a POST too
        "POST /api/billing/coworkertimepasses": 1,
        "POST /api/token": 1,
    }
    assert stats["faults"] == {"error500": 1}
    assert [e["status"] for e in admin.journal(limit=2)] == [200, 401]

    with pytest.raises(AdminClientError) as refused:
        admin.set_time_scale(0)
    assert refused.value.status == 400
    assert refused.value.body["error"] == "bad_request"
    admin.set_time_scale(0.5)
    assert admin.time_scale() == 0.5

    admin.reset()
    assert admin.counts() == {
        "coworkertimepasses": 0,
        "producttimepasses": 0,
        "tarifftimepasses": 0,
        "timepasses": 5,  # the seeded definitions
    }
    assert admin.time_scale() == 0.01


@pytest.mark.nexudus_emulator_process("--no-throttle", admin_token="fixture-token")
def test_the_marker_passes_options_and_the_admin_token(
    nexudus_emulator_process: EmulatorProcess,
) -> None:
    emu = nexudus_emulator_process
    assert emu.admin.limits()["enabled"] is False  # --no-throttle
    assert call(emu.url, "GET", "/_emulator/limits").status == 401  # no token: refused


def test_an_emulator_process_stops_cleanly_on_sigterm() -> None:
    emu = EmulatorProcess("--no-throttle").start()
    url = emu.url
    assert emu.admin.health() is True
    assert emu.stop() == 0
    assert emu.returncode is None and emu.admin_token is None
    with pytest.raises(RuntimeError):
        _ = emu.url
    assert emu.output().startswith(f"Nexudus emulator listening on {url}\n")
    assert "Traceback" not in emu.output()
