"""`make mutate`'s table: equivalents subtracted, a timeout not a kill, stale entries flagged."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "mutate.py"
MODULE = "src/nexudus_async/_core/retry.py"
NAME = "nexudus_async._core.retry.x_parse_retry_after__mutmut_"


@pytest.fixture
def mutate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setattr(tool, "EQUIVALENTS", tmp_path / "equivalent.txt")
    source = tmp_path / MODULE
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\nlog.info('text')  # pragma: no mutate\n")
    return tool


def write_results(root: Path, codes: dict[int, int | None]) -> None:
    meta = root / "mutants" / (MODULE + ".meta")
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {f"{NAME}{n}": c for n, c in codes.items()}}))


def test_the_score_is_killed_over_mutants_less_the_equivalent_ones(
    mutate: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1-17 killed, 18 survived, 19 timed out, 20 survived but listed as equivalent
    write_results(tmp_path, {**dict.fromkeys(range(1, 18), 1), 18: 0, 19: 36, 20: 0})
    (tmp_path / "equivalent.txt").write_text(f"# comment\n{NAME}20  only a log text\n")
    assert mutate.print_table([MODULE], 95.0) is False  # 17 / (20 - 1) = 89.5 %
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "| `_core/retry.py` | 20 | 17 | 1 | 1 | 1 | 1 | 89.5 % |"
    assert mutate.print_table([MODULE], 89.0) is True


def test_an_equivalent_that_is_no_longer_a_survivor_is_flagged(
    mutate: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_results(tmp_path, {1: 1, 2: 1})
    (tmp_path / "equivalent.txt").write_text(f"{NAME}2  renumbered since\n")
    assert mutate.print_table([MODULE], 0.0) is False
    captured = capsys.readouterr()
    assert "| 2 | 2 | 0 | 0 | 0 | 1 | 100.0 % |" in captured.out
    assert f"stale equivalent: {NAME}2 is listed as equivalent but was not a survivor (1)" in (
        captured.err
    )


def test_an_equivalent_needs_a_reason(mutate: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "equivalent.txt").write_text(f"{NAME}2\n")
    with pytest.raises(SystemExit, match=r"equivalent\.txt line 1: expected 'mutant  reason'"):
        mutate.load_equivalents()


@pytest.mark.parametrize("wanted", ["retry", "_core/retry", "_core.retry", "retry.py"])
def test_module_accepts_any_unique_suffix(mutate: ModuleType, wanted: str) -> None:
    modules = [MODULE, "src/nexudus_async/bulk/plan.py"]
    assert mutate.pick(modules, wanted) == MODULE
    with pytest.raises(SystemExit, match="MODULE='nope' names 0 modules; one of: retry, plan"):
        mutate.pick(modules, "nope")
    assert mutate.mutant_prefix(MODULE) == "nexudus_async._core.retry."


def test_the_committed_equivalents_file_reads(mutate: ModuleType) -> None:
    committed = TOOL.parent.parent / "tests" / "mutation-equivalent.txt"
    mutate.EQUIVALENTS = committed
    assert all(reason for reason in mutate.load_equivalents().values())


def test_tests_replace_the_configured_selection_for_the_whole_run(mutate: ModuleType) -> None:
    # importing mutmut loads its config: a reader patched after that would change nothing
    selection = ["tests/networks", "tests/client/test_pipeline.py"]
    setup = mutate._WITH_TESTS.split("sys.argv = ")[0]
    code = setup + "print(json.dumps(configuration.config().pytest_add_cli_args_test_selection))"
    launch = [sys.executable, "-c", code, json.dumps(selection)]
    done = subprocess.run(launch, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == selection


def test_a_module_configured_after_a_run_is_mutated_and_mapped_again(
    mutate: ModuleType, tmp_path: Path
) -> None:
    # mutmut's plain copy of a module not configured then, and one it mutated
    plain = tmp_path / "mutants" / MODULE
    plain.parent.mkdir(parents=True)
    plain.write_text("x = 1\n")
    mutated = tmp_path / "mutants" / "src/nexudus_async/_core/gate.py"
    mutated.write_text("def x_f__mutmut_1(): pass\n")
    stats = tmp_path / "mutants" / "mutmut-stats.json"
    stats.write_text("{}")
    assert mutate.forget_unmutated_copies([MODULE, "src/nexudus_async/_core/gate.py"]) == [MODULE]
    assert not plain.exists() and mutated.exists() and not stats.exists()
    # nothing to forget: the saved test map stays
    stats.write_text("{}")
    assert mutate.forget_unmutated_copies([MODULE, "src/nexudus_async/_core/gate.py"]) == []
    assert stats.exists()
