"""`make mutate`: mutation testing of the safety core, and its score per module.

Runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``) over every
module of ``only_mutate`` or one of them (``--module``), then prints one row
per module: mutants, killed, survived (with "no tests"), timed out, the
equivalent mutants listed in ``tests/mutation-equivalent.txt`` (subtracted),
the lines marked ``# pragma: no mutate``, and the score:

    score = killed / (mutants - equivalent)

A timed-out mutant is not counted as killed (a test that hangs is not a test
that notices). The command fails when a measured module scores under
``--threshold`` percent, or when the equivalents file names a mutant that is
not a survivor (stale after a code change: mutmut numbers mutants by position).

    tools/mutate.py [--module retry] [--jobs 2] [--tests tests/client ...] [--table-only]

``--tests`` restricts the tests mutmut runs (its ``pytest_add_cli_args_test_selection``)
to the paths given, for one run, without editing pyproject.toml: the score is then
the score with those tests only (say which when you quote it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "tests" / "mutation-equivalent.txt"
PRAGMA = "pragma: no mutate"

# mutmut's exit codes per mutant (mutmut/stats.py), grouped as the table counts them
KILLED = {1, 3, 37}  # a test failed, pytest's internal error, the type checker refused it
SURVIVED = {0, 5, 33}  # the tests passed, or no test reaches the mutated function
TIMEOUT = {36, -24, 24, 152, 255}


def configured_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def pick(modules: list[str], wanted: str) -> str:
    """The configured path that ``wanted`` names: ``retry``, ``_core/retry``, a path."""
    key = wanted.removesuffix(".py").replace(".", "/").strip("/")
    found = [m for m in modules if m.removesuffix(".py").endswith("/" + key)]
    if len(found) != 1:
        names = ", ".join(Path(m).stem for m in modules)
        raise SystemExit(f"MODULE={wanted!r} names {len(found)} modules; one of: {names}")
    return found[0]


def mutant_prefix(path: str) -> str:
    """``src/nexudus_async/_core/retry.py`` -> ``nexudus_async._core.retry.``"""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".") + "."


def load_equivalents() -> dict[str, str]:
    """Mutant name -> why it cannot change behaviour (one per line, ``name  reason``)."""
    out: dict[str, str] = {}
    for number, line in enumerate(EQUIVALENTS.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if "__mutmut_" not in name or not reason.strip():
            raise SystemExit(f"{EQUIVALENTS.name} line {number}: expected 'mutant  reason'")
        out[name] = reason.strip()
    return out


# mutmut reads its test selection from pyproject.toml only: this runs its CLI with the
# selection replaced by the paths in argv[1] (a JSON list), every other setting as configured.
_WITH_TESTS = """
import json, sys
from mutmut import configuration
tests, read = json.loads(sys.argv[1]), configuration._config_reader
def reader():
    setting = read()
    selection = "pytest_add_cli_args_test_selection"
    return lambda key, default: tests if key == selection else setting(key, default)
configuration._config_reader = reader
configuration.reset_config()  # importing mutmut loads it: load it again, with the selection
from mutmut.__main__ import cli
assert configuration.config().pytest_add_cli_args_test_selection == tests
sys.argv = ["mutmut", *sys.argv[2:]]
sys.exit(cli())
"""


def forget_unmutated_copies(paths: list[str]) -> list[str]:
    """Remove mutmut's plain copy of a module added to ``only_mutate`` since its last run.

    mutmut copies every source file into ``mutants/`` but mutates only the configured
    ones; a copy newer than its source counts as mutated already, so a module
    configured later would never be mutated, and the saved test map (which tests
    call which function) would not know its functions. Both are dropped here.
    """
    forgotten = []
    for path in paths:
        copy = ROOT / "mutants" / path
        if copy.exists() and "__mutmut_" not in copy.read_text(encoding="utf-8"):
            copy.unlink()
            forgotten.append(path)
    if forgotten:
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    return forgotten


def run_mutmut(globs: list[str], jobs: int, tests: list[str] | None = None) -> float:
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    started = time.monotonic()
    launch = [sys.executable, "-c", _WITH_TESTS, json.dumps(tests)] if tests else [mutmut]
    command = [*launch, "run", "--max-children", str(jobs), *globs]
    status = subprocess.run(command, cwd=ROOT, check=False).returncode
    if status != 0:
        raise SystemExit(f"mutmut run failed with status {status}")
    return time.monotonic() - started


def row(path: str, equivalents: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    meta = ROOT / "mutants" / (path + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    counts = dict.fromkeys(("mutants", "killed", "survived", "timeout", "equivalent"), 0)
    counts["unchecked"] = 0
    stale = []
    for name, code in codes.items():
        counts["mutants"] += 1
        if name in equivalents:
            if code in SURVIVED:
                counts["equivalent"] += 1
                continue
            stale.append(f"{name} is listed as equivalent but was not a survivor ({code})")
        if code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1
        else:
            counts["unchecked"] += 1
    source = (ROOT / path).read_text(encoding="utf-8")
    counts["pragma"] = sum(PRAGMA in line for line in source.splitlines())
    return counts, stale


def score(counts: dict[str, int]) -> float:
    measured = counts["mutants"] - counts["equivalent"]
    return 100.0 if measured == 0 else 100.0 * counts["killed"] / measured


def print_table(paths: list[str], threshold: float) -> bool:
    equivalents = load_equivalents()
    header = "| module | mutants | killed | survived | timed out | equivalent | no-mutate | score |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    ok = True
    for path in paths:
        if not (ROOT / "mutants" / (path + ".meta")).exists():
            print(f"| `{path}` | not run | | | | | | |")
            continue
        counts, stale = row(path, equivalents)
        value = score(counts)
        unchecked = f" ({counts['unchecked']} not checked)" if counts["unchecked"] else ""
        print(
            f"| `{path.removeprefix('src/nexudus_async/')}` | {counts['mutants']} "
            f"| {counts['killed']} | {counts['survived']} | {counts['timeout']} "
            f"| {counts['equivalent']} | {counts['pragma']} | {value:.1f} %{unchecked} |"
        )
        for line in stale:
            print(f"  stale equivalent: {line}", file=sys.stderr)
        ok = ok and not stale and not counts["unchecked"] and value >= threshold
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", default="", help="one module of [tool.mutmut] only_mutate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutmut children")
    parser.add_argument("--threshold", type=float, default=95.0)
    parser.add_argument("--table-only", action="store_true", help="print the last results")
    parser.add_argument(
        "--tests", nargs="+", metavar="PATH", help="run only these tests (default: the suite)"
    )
    args = parser.parse_args(argv)
    modules = configured_modules()
    paths = [pick(modules, args.module)] if args.module else modules
    if not args.table_only:
        for path in forget_unmutated_copies(modules):
            print(f"{path}: newly configured, mutated from scratch (tests mapped again)")
        globs = [mutant_prefix(p) + "*" for p in paths] if args.module else []
        elapsed = run_mutmut(globs, max(1, args.jobs), args.tests)
        tests = " ".join(args.tests) if args.tests else "the whole suite"
        print(f"\nmutmut ran {elapsed / 60:.1f} min with {args.jobs} children, tests: {tests}")
    print()
    ok = print_table(paths, args.threshold)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
