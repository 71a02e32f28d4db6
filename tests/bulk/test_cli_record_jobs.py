"""``nexudus-async update|delete|apply|undo`` as an operator runs them: real processes
against the emulator served from a thread, read back from its store and its counters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nexudus_async.testing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    EmulatorConfig,
    FaultRule,
    ThrottleLimits,
)
from nexudus_async.testing.entities import entity

from .helpers import CTP
from .threaded_emulator import ThreadedEmulator, threaded_emulator

SCALE = "0.01"
BILLING = f"/api/billing/{CTP}"
PUT = f"PUT {BILLING}"
DELETE = f"DELETE {BILLING}/{{Id}}"
POST = f"POST {BILLING}"
PTP = "producttimepasses"
NEW_DATE = "2027-06-30T00:00:00Z"
OLD_DATE = "2027-01-31T00:00:00Z"


def _cli(emu: ThreadedEmulator, cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "NEXUDUS_EMAIL": DEFAULT_ADMIN_EMAIL,
        "NEXUDUS_PASSWORD": DEFAULT_ADMIN_PASSWORD,
        "NEXUDUS_STATE_DIR": str(cwd / "state"),  # this test's own shared budget
    }
    cmd = [
        sys.executable, "-m", "nexudus_async.cli", *args, "--base-url", emu.base_url,
        "--time-scale", SCALE, "--insecure-http", "--progress", "none",
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(emu: ThreadedEmulator, cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = _cli(emu, cwd, *args)
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, err
    assert DEFAULT_ADMIN_PASSWORD not in out + err
    return proc.returncode, out, err


def seed(emu: ThreadedEmulator, n: int, entity: str = CTP, **fields: Any) -> list[int]:
    base: dict[str, Any] = {}
    if entity == CTP:
        base = {"CoworkerId": 101, "BusinessId": 1, "TimePassId": 1, "Notes": "keep me"}
        base["Used"] = False
    return [
        emu.call(lambda: emu.server.store.insert(entity, {**base, **fields}))["Id"]
        for _ in range(n)
    ]


def record(emu: ThreadedEmulator, rid: int, entity: str = CTP) -> dict[str, Any] | None:
    return emu.call(lambda: emu.server.store.get(entity, rid))


def writes(emu: ThreadedEmulator) -> int:
    return sum(emu.route_count(r) for r in (PUT, DELETE, POST))


@pytest.fixture
def emu() -> Any:
    with threaded_emulator(EmulatorConfig(time_scale=float(SCALE))) as server:
        yield server


def test_update_by_query_changes_only_its_scope_and_a_rerun_writes_nothing(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    wrong = seed(emu, 3, TimePassId=7, ExpireDate=OLD_DATE)
    right = seed(emu, 2, TimePassId=7, ExpireDate=NEW_DATE)
    used = seed(emu, 2, TimePassId=7, ExpireDate=OLD_DATE, Used=True)
    other = seed(emu, 2, TimePassId=8, ExpireDate=OLD_DATE)
    query = ["update", "--where", "time_pass=7", "--where", "used=false"]
    code, out, err = run(emu, tmp_path, *query, "--set", "ExpireDate=2027-06-30")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "plan for --where time_pass=7 --where used=false (CoworkerTimePass):",
        "  to update:        3 records",
        "  unchanged:        2 already as asked, nothing sent",
        "  requests:         1 planning reads (made) + 3 full reads + 3 PUT + 0 DELETE + "
        "0 create = 7",
    ]
    assert lines[4].startswith("  estimated time:   0:01 at the published limits")
    assert "journal: nexudus-update-coworker.journal.sqlite" in lines
    assert lines[-1].startswith(
        "summary: 3 updated, 2 already as asked (skipped); 1 planning + 3 read + 3 write requests"
    )
    assert emu.route_count(PUT) == 3
    for rid in wrong + right:
        assert (record(emu, rid) or {}).get("ExpireDate") == NEW_DATE
        assert (record(emu, rid) or {}).get("Notes") == "keep me"  # the PUT of a full read
    for rid in used + other:
        assert (record(emu, rid) or {}).get("ExpireDate") == OLD_DATE
    assert (tmp_path / "nexudus-update-coworker.journal.sqlite").is_file()

    code, out, err = run(emu, tmp_path, *query, "--set", "ExpireDate=2027-06-30")
    assert (code, err) == (0, "")
    assert "  unchanged:        5 already as asked, nothing sent" in out.splitlines()
    assert out.splitlines()[-1] == "nothing to send: every record is as asked"
    assert emu.route_count(PUT) == 3


def test_update_from_a_file_keyed_by_id_with_a_dry_run_first(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    a, b, c = seed(emu, 3, Price=10)
    (tmp_path / "fix.csv").write_text(
        f"Id,Notes,Price\n{a},fixed,12.50\n{b},,12.50\n{c},keep me,\n"
    )
    code, out, err = run(emu, tmp_path, "update", "fix.csv", "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == [
        "plan for fix.csv (CoworkerTimePass):",
        "  rows:             3",
        "  to update:        2 records",
        "  unchanged:        1 already as asked, nothing sent",
    ]
    assert out.splitlines()[-1] == "dry run: nothing was sent"
    assert writes(emu) == 0
    assert not (tmp_path / "fix.csv.journal.sqlite").exists()

    code, out, err = run(emu, tmp_path, "update", "fix.csv", "--report", "r.json")
    assert (code, err) == (0, "")
    assert "journal: fix.csv.journal.sqlite" in out.splitlines()
    assert emu.route_count(PUT) == 2
    assert [(record(emu, r) or {}).get("Notes") for r in (a, b, c)] == [
        "fixed",
        "keep me",
        "keep me",
    ]
    prices = [(record(emu, r) or {}).get("Price") for r in (a, b, c)]
    assert prices == [Decimal("12.50"), Decimal("12.50"), Decimal("10")]
    assert '"status": "skipped"' in (tmp_path / "r.json").read_text()


def test_bad_input_is_one_line_naming_line_field_and_value_and_nothing_is_sent(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    (rid,) = seed(emu, 1)
    (tmp_path / "bad.csv").write_text(f"Id,Price\n{rid},12.50\n99999,1\n{rid + 0},abc\n")
    code, out, err = run(emu, tmp_path, "update", "bad.csv")
    assert (code, out) == (2, "")
    assert "bad.csv:line 3: Id=99999: no CoworkerTimePass has this Id" in err.splitlines()
    assert any(
        line.startswith("bad.csv:line 4: ") and "Price='abc': must be a number" in line
        for line in err.splitlines()
    ), err
    assert not any(line.startswith("bad.csv:line 2:") for line in err.splitlines())  # exists
    assert err.splitlines()[-1].endswith("in bad.csv; nothing was sent")

    code, out, err = run(
        emu, tmp_path, "update", "--where", "used=false", "--set", "CreatedOn=2020-01-01"
    )
    assert (code, out) == (2, "")
    assert err == (
        "error: --set CreatedOn=2020-01-01: cannot be set: it is read-only; nothing was sent\n"
    )
    code, out, err = run(emu, tmp_path, "update", "--where", "used=maybe", "--set", "Notes=x")
    assert (code, out) == (2, "")
    assert err == "error: --where used=maybe: used must be true or false; nothing was sent\n"
    assert writes(emu) == 0
    assert (record(emu, rid) or {})["Notes"] == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["update"], "error: update takes a FILE or --where filters, one of the two"),
        (["update", "--where", "used=false"], "error: --where needs --set: the fields to change"),
        (["delete", "x.csv", "--where", "used=true"],
         "error: delete takes a FILE or --where filters, one of the two"),
        (["apply", "x.csv", "--prune"],
         "error: --prune needs --where: the scope whose records the file lists in full"),
        (["update", "--where", "used=false", "--set", "Notes=x", "--concurrency", "0"],
         "error: --concurrency must be at least 1"),
    ],
)  # fmt: skip
def test_options_that_do_not_go_together_exit_2(
    emu: ThreadedEmulator, tmp_path: Path, args: list[str], message: str
) -> None:
    code, out, err = run(emu, tmp_path, *args)
    assert (code, out, err) == (2, "", message + "\n")
    assert writes(emu) == 0


def test_delete_counts_a_record_already_gone_as_deleted(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    a, b, keep = seed(emu, 3)
    (tmp_path / "gone.csv").write_text(f"Id,Notes\n{a},x\n{b},y\n99999,z\n")
    code, out, err = run(emu, tmp_path, "delete", "gone.csv")
    assert (code, err) == (0, "")
    assert "  already gone:     1 (counted as deleted): 99999" in out.splitlines()
    assert out.splitlines()[-1].startswith(
        "summary: 3 deleted (1 already gone); 1 planning + 2 read + 2 write requests in "
    )
    assert emu.route_count(DELETE) == 2
    assert (record(emu, a), record(emu, b)) == (None, None)
    assert record(emu, keep) is not None
    code, out, err = run(emu, tmp_path, "delete", "gone.csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "nothing to send: every record is as asked"
    assert emu.route_count(DELETE) == 2


def test_apply_twice_the_second_run_writes_nothing_and_prune_deletes_what_the_file_lacks(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    (stale,) = seed(emu, 1, PTP, ProductId=5, TimePassId=3, PassesIncluded=1)
    (elsewhere,) = seed(emu, 1, PTP, ProductId=6, TimePassId=3, PassesIncluded=1)
    (tmp_path / "links.csv").write_text("ProductId,TimePassId,PassesIncluded\n5,1,5\n5,2,3\n")
    apply = ["apply", "links.csv", "--entity", "product", "--key", "ProductId+TimePassId"]
    prune = ["--prune", "--where", "product=5"]
    code, out, err = run(emu, tmp_path, *apply, *prune)
    assert (code, err) == (0, "")
    assert "  to create:        2 links in 2 groups" in out.splitlines()
    assert "  to delete:        1 record" in out.splitlines()
    links = emu.call(lambda: emu.server.store.all(PTP))
    assert sorted((r["ProductId"], r["TimePassId"], r["PassesIncluded"]) for r in links) == [
        (5, 1, 5),
        (5, 2, 3),
        (6, 3, 1),
    ]
    assert record(emu, stale, PTP) is None and record(emu, elsewhere, PTP) is not None
    sent = writes(emu)
    code, out, err = run(emu, tmp_path, *apply, *prune)
    assert (code, err) == (0, "")
    assert "  unchanged:        2 already as asked, nothing sent" in out.splitlines()
    assert out.splitlines()[-1] == "nothing to send: every record is as asked"
    assert writes(emu) == sent


def test_undo_takes_back_an_import_but_a_used_pass_unless_include_used(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    before = seed(emu, 2, CoworkerId=1001, TimePassId=1)  # not the import's: kept
    (tmp_path / "p.csv").write_text(
        "CoworkerId,BusinessId,TimePassId,CreateMultiple\n1001,1,1,3\n1002,1,2,2\n"
    )
    code, out, err = run(emu, tmp_path, "import", "p.csv")
    assert (code, err) == (0, "")
    imported = [r["Id"] for r in emu.call(lambda: emu.server.store.all(CTP))]
    assert len(imported) == 7
    newest = max(imported)
    store = emu.server.store
    emu.call(lambda: store.update_fields(entity(CTP), newest, {"Used": True}, "a user"))
    code, out, err = run(emu, tmp_path, "undo", "p.csv.journal.sqlite")
    assert (code, err) == (0, "")
    assert any(
        line.startswith(f"  left alone:       Id {newest}: ") and "used since" in line
        for line in out.splitlines()
    ), out
    left = sorted(r["Id"] for r in emu.call(lambda: emu.server.store.all(CTP)))
    assert left == sorted([*before, newest])
    code, out, err = run(emu, tmp_path, "undo", "p.csv.journal.sqlite", "--include-used")
    assert (code, err) == (0, "")
    left = sorted(r["Id"] for r in emu.call(lambda: emu.server.store.all(CTP)))
    assert left == sorted(before)


def test_undo_needs_only_the_journal_once_the_imports_file_is_gone(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    before = seed(emu, 1, CoworkerId=1001, TimePassId=1)  # not the import's: kept
    (tmp_path / "p.csv").write_text(
        "CoworkerId,BusinessId,TimePassId,CreateMultiple\n1001,1,1,2\n1002,1,2,3\n"
    )
    code, out, err = run(emu, tmp_path, "import", "p.csv")
    assert (code, err) == (0, "")
    (tmp_path / "p.csv").unlink()  # the journal kept each group's fields
    code, out, err = run(emu, tmp_path, "undo", "p.csv.journal.sqlite")
    assert (code, err) == (0, ""), out
    left = sorted(r["Id"] for r in emu.call(lambda: emu.server.store.all(CTP)))
    assert left == sorted(before)


def test_a_stopped_update_is_finished_by_its_rerun_without_writing_twice(tmp_path: Path) -> None:
    hold = FaultRule(method="PUT", path=BILLING, kind="latency", latency=0.2)
    config = EmulatorConfig(time_scale=float(SCALE), faults=[hold], limits=ThrottleLimits.off())
    with threaded_emulator(config) as emu:
        ids = seed(emu, 12, TimePassId=7, ExpireDate=OLD_DATE)
        args = ["update", "--where", "time_pass=7", "--set", "ExpireDate=2027-06-30"]
        proc = _cli(emu, tmp_path, *args, "--concurrency", "2")
        deadline = time.monotonic() + 60
        while emu.route_count(PUT) == 0:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, out + err
        assert "interrupted: stopping (Ctrl-C again to abort now)" in err
        assert "interrupted: not every record was done. To resume, run the same command" in out
        done = emu.route_count(PUT)
        assert 0 < done < 12
        code, out, err = run(emu, tmp_path, *args)
        assert (code, err) == (0, "")
        assert "resuming the unfinished job started" in out
        assert emu.route_count(PUT) == 12  # each record written once, over both runs
        assert all((record(emu, rid) or {}).get("ExpireDate") == NEW_DATE for rid in ids)


SHARED = ("--dry-run", "--report", "--concurrency", "--new-job", "--wait", "--progress",
          "--emulator", "--time-scale", "--decimal", "--date-format", "--base-url")  # fmt: skip


@pytest.mark.parametrize("command", ["update", "delete", "apply", "undo"])
def test_every_record_command_has_imports_options_and_exit_codes(command: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", command, "--help"],
        env={**os.environ, "COLUMNS": "100"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    for option in SHARED:
        assert f"  {option}" in proc.stdout, option
    assert ("  --journal" in proc.stdout) == (command != "undo")  # undo's is its argument
    assert "75   another process runs the same job" in proc.stdout
    assert "after 1, 130 or 143: run the same command again to finish the job" in proc.stdout


def test_a_killed_delete_is_finished_by_its_rerun(tmp_path: Path) -> None:
    hold = FaultRule(method="DELETE", path=BILLING, kind="latency", latency=0.1)
    config = EmulatorConfig(time_scale=float(SCALE), faults=[hold], limits=ThrottleLimits.off())
    with threaded_emulator(config) as emu:
        ids = seed(emu, 15)
        (keep,) = seed(emu, 1, TimePassId=2)
        (tmp_path / "ids.csv").write_text("Id\n" + "".join(f"{i}\n" for i in ids))
        proc = _cli(emu, tmp_path, "delete", "ids.csv", "--concurrency", "2")
        deadline = time.monotonic() + 60
        while emu.route_count(DELETE) < 3:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.kill()  # SIGKILL: no handler runs, the journal is as the last write left it
        proc.communicate(timeout=30)
        assert any(record(emu, rid) is not None for rid in ids)
        code, out, err = run(emu, tmp_path, "delete", "ids.csv")
        assert (code, err) == (0, "")
        assert "resuming the unfinished job started" in out
        assert [rid for rid in ids if record(emu, rid) is not None] == []
        assert record(emu, keep) is not None
        code, out, err = run(emu, tmp_path, "delete", "ids.csv")
        assert (code, out.splitlines()[-1]) == (0, "nothing to send: every record is as asked")


def test_a_different_job_over_an_unfinished_one_is_refused_with_the_way_out(
    tmp_path: Path,
) -> None:
    hold = FaultRule(method="PUT", path=BILLING, kind="latency", latency=0.2)
    config = EmulatorConfig(time_scale=float(SCALE), faults=[hold], limits=ThrottleLimits.off())
    with threaded_emulator(config) as emu:
        seed(emu, 8, TimePassId=7, ExpireDate=OLD_DATE)
        first = ["update", "--where", "time_pass=7", "--set", "ExpireDate=2027-06-30"]
        proc = _cli(emu, tmp_path, *first)
        deadline = time.monotonic() + 60
        while emu.route_count(PUT) == 0:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
        assert proc.returncode == 143
        puts = emu.route_count(PUT)
        other = ["update", "--where", "time_pass=7", "--set", "Notes=other"]
        other += ["--journal", "nexudus-update-coworker.journal.sqlite"]
        code, out, err = run(emu, tmp_path, *other)
        assert code == 2
        assert err.startswith(
            "error: the journal nexudus-update-coworker.journal.sqlite holds an unfinished job "
            "started "
        )
        assert err.rstrip().endswith(
            "Finish that job with its original file, or pass --new-job (or another --journal)."
        )
        assert emu.route_count(PUT) == puts  # nothing sent
        code, out, err = run(emu, tmp_path, *first)
        assert "resuming the unfinished job started" in out
        assert (code, err) == (0, "")
        assert emu.route_count(PUT) == 8
