"""``nexudus-async emulator --proxy URL --record DIR`` and ``--replay DIR`` as processes:
another emulator process plays the real service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nexudus_async.testing import EmulatorProcess

from .admin_http import CTP, basic, call, coworker_pass

LIST = CTP + "?page=1&Foo=bar"  # Foo: not in the document, so it is drift


def test_record_with_the_command_then_replay_it(tmp_path: Path) -> None:
    cassette = tmp_path / "cassette"
    auth = basic()
    with EmulatorProcess("--no-throttle") as service:
        upstream = service.url
        with EmulatorProcess("--proxy", upstream, "--record", str(cassette)) as proxy:
            assert call(proxy.url, "GET", "/_emulator/health").json["mode"] == "proxy"
            created = call(proxy.url, "POST", CTP, coworker_pass(), authorization=auth)
            listed = call(proxy.url, "GET", LIST, authorization=auth)
            assert created.status == 200 and listed.status == 200
            assert listed.json["TotalItems"] == 1  # the service's own answer
            assert service.admin.counts()["coworkertimepasses"] == 1
        output = proxy.output()
    assert f"  Proxy:    every request goes to {upstream}; recording to {cassette}/" in output
    assert f"drift: GET {CTP} -> 200: request query Foo: is not in the document" in output
    drift = json.loads((cassette / "drift.json").read_text())
    assert [(d["seq"], d["path"], d["mismatches"]) for d in drift] == [
        (2, CTP, [{"where": "request query Foo", "problem": "is not in the document"}])
    ]

    with EmulatorProcess("--replay", str(cassette)) as replay:
        again = call(replay.url, "GET", LIST, authorization=auth)
        assert (again.status, again.body) == (200, listed.body)
        missing = call(replay.url, "GET", CTP + "?page=9", authorization=auth)
        assert missing.status == 501 and missing.json["error"] == "not_recorded"
        assert f"GET {CTP}?page=9" in missing.json["message"]
    with EmulatorProcess("--replay", str(cassette), "--replay-fallthrough") as replay:
        assert call(replay.url, "GET", LIST, authorization=auth).body == listed.body
        fresh = call(replay.url, "GET", CTP + "?page=9", authorization=auth)
        assert fresh.status == 200 and fresh.json["TotalItems"] == 0  # the emulator's own store


def test_bad_record_and_replay_options_are_one_line_exit_2(tmp_path: Path) -> None:
    cases = [
        (["--record", str(tmp_path)], "--record: needs --proxy URL (the service to record)"),
        (["--replay-fallthrough"], "--replay-fallthrough: needs --replay DIR"),
        (["--proxy", "ftp://x"], "--proxy: 'ftp://x' is not an http(s) URL"),
        (
            ["--proxy", "http://127.0.0.1:9", "--fault", "error500"],
            "--fault: applies to the stateful emulator, which --proxy (and --replay without "
            "--replay-fallthrough) does not run",
        ),
        (
            ["--replay", str(tmp_path / "none")],
            f"--replay {tmp_path / 'none'}: no such cassette folder",
        ),
    ]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "0001-GET-x.json").write_text("{}")
    cases.append(
        (
            ["--replay", str(tmp_path / "bad")],
            f"--replay {tmp_path / 'bad' / '0001-GET-x.json'}: not a recorded exchange ('request')",
        )
    )
    for args, message in cases:
        result = subprocess.run(
            [sys.executable, "-m", "nexudus_async.testing", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, args
        assert result.stderr == f"python -m nexudus_async.testing: error: {message}\n", args
        assert result.stdout == ""
