"""Adding a field is a spec edit and `make generate`, nothing else.

A copy of the package is regenerated from a copy of the spec with one more
optional string field, ``Foo``, on CoworkerTimePass (record, create, update,
list record, and a ``CoworkerTimePass_Foo`` filter). Without a single hand
edit: ``create/update/list(foo=...)`` type-check with ``mypy --strict`` (and a
misspelt ``fooo=`` does not), the emulator stores, returns and filters on it,
and a CSV column ``Foo`` imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "nexudus-billing.yaml"
BIN = Path(sys.executable).parent

FOO = '        Foo: {type: [string, "null"], description: A field the spec gained.}\n'


def _with_foo(spec: str) -> str:
    """The spec with ``Foo`` in every CoworkerTimePass shape and a ``Foo`` filter."""
    out: list[str] = []
    schema = None
    for line in spec.splitlines(keepends=True):
        if line.startswith("    ") and not line.startswith("     ") and line.rstrip().endswith(":"):
            schema = line.strip().rstrip(":")
        out.append(line)
        if line.strip() == "properties:" and schema in (
            "CoworkerTimePass",
            "CoworkerTimePassListItem",
            "CoworkerTimePassCreate",
            "CoworkerTimePassUpdate",
        ):
            out.append(FOO)
        if "name: CoworkerTimePass_Notes, in: query" in line:
            out.append(line.replace("CoworkerTimePass_Notes", "CoworkerTimePass_Foo"))
    text = "".join(out)
    assert text.count("Foo: {type:") == 4 and "CoworkerTimePass_Foo" in text
    return text


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package whose generated layer comes from the edited spec."""
    root = tmp_path_factory.mktemp("foo")
    spec = root / "nexudus-billing.yaml"
    spec.write_text(_with_foo(SPEC.read_text(encoding="utf-8")), encoding="utf-8")
    src = root / "src"
    shutil.copytree(
        ROOT / "src" / "nexudus_async",
        src / "nexudus_async",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "generator" / "generate.py"),
            "--spec",
            str(spec),
            "--target",
            str(src / "nexudus_async" / "_generated"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Only the generated layer differs from the committed tree: no hand edit.
    changed = subprocess.run(
        [
            "diff",
            "-rq",
            "-x",
            "__pycache__",
            str(ROOT / "src" / "nexudus_async"),
            str(src / "nexudus_async"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout.splitlines()
    assert changed and all("/_generated" in line for line in changed), changed
    return src


# What the test runner set for itself (a mutation tool's choice of mutant, pytest's own
# variables) is not the child's business: the child runs the copy as a user's process would.
_RUNNER_STATE = ("MUTANT_UNDER_TEST", "MUTMUT_", "PYTEST_", "PY_IGNORE_IMPORTMISMATCH")


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_RUNNER_STATE)}
    return {**env, "PYTHONPATH": str(src), "MYPYPATH": str(src)}


TYPED = """
from nexudus_async import NexudusClient
from nexudus_async._core.wire import Unset


async def main(client: NexudusClient) -> None:
    await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=1, foo="x")
    await client.coworker_time_passes.update(1, foo=None)
    page = await client.coworker_time_passes.list(foo="x")
    value: str | None | Unset = page.items[0].foo if page.items else None
    record = await client.coworker_time_passes.get(1)
    print(value, record.foo)
"""

MISTAKE = """
from nexudus_async import NexudusClient


async def main(client: NexudusClient) -> None:
    await client.coworker_time_passes.create(coworker_id=1, business_id=1, time_pass_id=1, fooo="x")
"""


def test_the_new_field_type_checks_strictly(package: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(TYPED)
    bad.write_text(MISTAKE)
    common = [str(BIN / "mypy"), "--strict", "--no-incremental", "--follow-imports=silent"]
    ok = subprocess.run(
        [*common, str(good)], capture_output=True, text=True, timeout=300, env=_env(package)
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run(
        [*common, str(bad)], capture_output=True, text=True, timeout=300, env=_env(package)
    )
    assert wrong.returncode == 1 and '"fooo"' in wrong.stdout, wrong.stdout


BEHAVIOUR = """
import asyncio
import nexudus_async
from nexudus_async import BasicAuth, NexudusClient, RateLimits
from nexudus_async.testing import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, run_emulator

assert nexudus_async.__file__.startswith({src!r}), nexudus_async.__file__


async def main() -> None:
    async with run_emulator() as emu:
        auth = BasicAuth(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD)
        limits = RateLimits.published().scaled(emu.config.time_scale)
        async with NexudusClient(emu.base_url, auth, rate_limits=limits) as client:
            ctp = client.coworker_time_passes
            made = await ctp.create(coworker_id=5, business_id=1, time_pass_id=1, foo="apple")
            await ctp.create(coworker_id=6, business_id=1, time_pass_id=1, foo="pear")
            assert emu.store.get("coworkertimepasses", made.id)["Foo"] == "apple"
            assert (await ctp.get(made.id)).foo == "apple"
            page = await ctp.list(foo="pear")
            assert [(i.coworker, i.foo) for i in page.items] == [(6, "pear")], page.items
            await ctp.update(made.id, notes="kept")
            assert emu.store.get("coworkertimepasses", made.id)["Foo"] == "apple"
            report = await ctp.bulk_create(
                [{{"CoworkerId": "7", "BusinessId": "1", "TimePassId": "1", "Foo": "plum"}}]
            )
            assert report.records_created == 1, report
            assert emu.store.count("coworkertimepasses", CoworkerId=7, Foo="plum") == 1
    print("ok")


asyncio.run(main())
"""


def test_the_emulator_stores_returns_and_filters_the_new_field(package: Path) -> None:
    script = BEHAVIOUR.format(src=str(package))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(package),
        cwd=package,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_a_csv_column_of_the_new_field_imports(package: Path, tmp_path: Path) -> None:
    path = tmp_path / "foo.csv"
    path.write_text("CoworkerId,BusinessId,TimePassId,Foo\n8,1,1,fig\n9,1,1,kiwi\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nexudus_async.cli",
            "import",
            str(path),
            "--emulator",
            "--report",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(package),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Foo" not in proc.stderr  # no "unknown column"
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["records_created"], report["records_missing"], report["invalid"]) == (2, 0, [])
    assert [r["line"] for r in report["created"]] == [2, 3]
