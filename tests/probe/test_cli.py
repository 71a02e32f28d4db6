"""``nexudus-async probe`` as a user runs it: exit codes, the report files, secrets, and a
``--write`` run killed at two points, then run again."""

from __future__ import annotations

import base64
import json
import os
import signal
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.probe import MARK
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

from .conftest import SEEDED, TARGETS
from .standalone import popen_probe, run_probe, standalone, wait_for

WRITE = ["--write", "--coworker", str(TARGETS[0]), "--business", str(TARGETS[1]),
         "--time-pass", str(TARGETS[2])]  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUDUS_")}
    env.update(extra)
    return env


PASSWORD_ENV = _env(NEXUDUS_EMAIL=DEFAULT_ADMIN_EMAIL, NEXUDUS_PASSWORD=DEFAULT_ADMIN_PASSWORD)


def _encodings(secret: str) -> set[str]:
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode().rstrip("="),
        base64.b64encode(f"{DEFAULT_ADMIN_EMAIL}:{secret}".encode()).decode().rstrip("="),
    }


def test_the_default_emulator_exits_0_and_a_difference_exits_1_with_what_to_do(
    tmp_path: Path,
) -> None:
    with standalone(seed_file=tmp_path / "seed.json") as emu:
        same = run_probe(emu.url, env=PASSWORD_ENV, cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert "Result: the account answers as the client assumes" in same.stdout
    with standalone("--not-found-body", "string", seed_file=tmp_path / "seed.json") as emu:
        other = run_probe(emu.url, "--json", "r.json", env=PASSWORD_ENV, cwd=tmp_path)
    assert other.returncode == 1, other.stderr
    assert "[DIFFERS] A missing record (not_found)" in other.stdout
    assert 'not_found_body="string" (assumed "envelope")' in other.stdout
    assert "Result: the account differs in 1 point(s): not_found." in other.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["differences"] == ["not_found_body"]
    assert report["profile"]["not_found_body"] == "string"
    assert all(r["method"] in ("GET", "POST") for r in report["requests"])  # read-only


def test_the_report_runs_an_emulator_that_answers_the_same(tmp_path: Path) -> None:
    options = ("--dir-encoding", "one_minus_one", "--ids-forms", "id", "--record-omits", "Notes")
    with standalone(*options, seed_file=tmp_path / "seed.json") as emu:
        first = run_probe(emu.url, "--json", "a.json", env=PASSWORD_ENV, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    with standalone("--profile", str(tmp_path / "a.json"), seed_file=tmp_path / "seed.json") as emu:
        again = run_probe(emu.url, "--json", "b.json", env=PASSWORD_ENV, cwd=tmp_path)
        assert emu.admin("GET", "/profile")["ids_forms"] == "id"
    assert again.returncode == 1, again.stderr
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert a["differences"] == b["differences"] == ["dir_encoding", "ids_forms", "record_omits"]
    assert a["profile"] == b["profile"]


def _token(url: str) -> str:
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": DEFAULT_ADMIN_EMAIL,
            "password": DEFAULT_ADMIN_PASSWORD,
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(url + "/api/token", data=form)) as r:
        token: str = json.loads(r.read())["access_token"]
    return token


@pytest.mark.parametrize("scheme", ["password", "token"])
def test_no_credential_reaches_the_output_or_the_report(tmp_path: Path, scheme: str) -> None:
    with standalone("--token-json-body", "accepted", seed_file=tmp_path / "seed.json") as emu:
        if scheme == "token":
            secret = _token(emu.url)
            env = _env(NEXUDUS_TOKEN=secret)
        else:
            secret, env = DEFAULT_ADMIN_PASSWORD, PASSWORD_ENV
        done = run_probe(emu.url, "--json", "r.json", *WRITE, env=env, cwd=tmp_path)
    # With a password the token endpoint is asked too (its JSON answer differs here).
    assert done.returncode == (1 if scheme == "password" else 0), done.stderr
    everything = done.stdout + done.stderr + (tmp_path / "r.json").read_text()
    for form in _encodings(secret):
        assert form not in everything
    if scheme == "password":
        assert '"access_token": true' in everything  # whether a token came, never its value


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--write"], "error: --write needs --coworker, --business, --time-pass"),
        (["--coworker", "5"], "error: --coworker/--business/--time-pass: only with --write"),
        (["--checks", "dir,nope"], "error: --checks: nope not a check; one of token, page_size"),
    ],
)
def test_bad_options_are_one_line_and_send_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = run_probe("http://127.0.0.1:9", *args, env=PASSWORD_ENV, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_refused_login_and_an_unreachable_host(tmp_path: Path) -> None:
    with standalone(seed_file=tmp_path / "seed.json") as emu:
        wrong = _env(NEXUDUS_EMAIL=DEFAULT_ADMIN_EMAIL, NEXUDUS_PASSWORD="wrong-password")
        refused = run_probe(emu.url, env=wrong, cwd=tmp_path)
        url = emu.url
    assert refused.returncode == 3
    assert "authentication failed for admin@example.com" in refused.stderr
    assert "wrong-password" not in refused.stderr + refused.stdout
    gone = run_probe(url, env=PASSWORD_ENV, cwd=tmp_path)  # the emulator has stopped
    assert gone.returncode == 4
    assert gone.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach {url}")
    assert "Traceback" not in gone.stderr


def _marked(emu: Any) -> list[dict[str, Any]]:
    return [p for p in emu.passes() if str(p.get("SystemId") or "").startswith(MARK)]


def _after_create(emu: Any) -> bool:
    return len(_marked(emu)) == 2


def _in_cleanup(emu: Any) -> bool:
    dates = sorted(str(p.get("ExpireDate")) for p in _marked(emu))
    return dates == ["2031-03-04T08:30:00Z", "None"]  # both PUTs landed: deleting next


@pytest.mark.parametrize(
    ("held", "reached"),
    [("PUT", _after_create), ("DELETE", _in_cleanup)],
    ids=["after the create", "during the cleanup"],
)
def test_a_write_run_killed_midway_is_cleaned_up_by_the_next(
    tmp_path: Path, held: str, reached: Any
) -> None:
    state = tmp_path / "nexudus-async-probe.state.json"
    with standalone(seed_file=tmp_path / "seed.json") as emu:
        # Hold the step after the kill point (30 s) so the kill lands there.
        emu.admin("PUT", "/faults", [{"kind": "latency", "method": held, "latency": 30}])
        proc = popen_probe(emu.url, WRITE, PASSWORD_ENV, tmp_path)
        try:
            wait_for(lambda: reached(emu), "the probe to reach the kill point")
            assert state.exists()  # it noted what to clean up before its create
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.communicate()
        assert len(_marked(emu)) == 2  # left behind by the killed run
        emu.admin("DELETE", "/faults")
        rerun = run_probe(emu.url, *WRITE, env=PASSWORD_ENV, cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "Passes an earlier probe left (leftovers)" in rerun.stdout
        assert emu.counts() == SEEDED
        assert _marked(emu) == []
    assert not state.exists()
