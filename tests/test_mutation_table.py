"""`make mutate`'s table: equivalents subtracted, a timeout not a kill, stale entries flagged."""

from __future__ import annotations

import importlib.util
import json
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


def test_tests_restricts_what_mutmut_runs_and_nothing_else(
    mutate: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mutmut_main = pytest.importorskip("mutmut.__main__")
    from mutmut import configuration

    assert mutate.mutmut_command([])[0].endswith("mutmut")
    command = mutate.mutmut_command(["tests/limiter", "tests/client/test_throttle.py"])
    assert command[1] == "-c" and command[3] == '["tests/limiter", "tests/client/test_throttle.py"]'
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["src"]\npytest_add_cli_args = ["-p", "no:x"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(configuration, "_load_config", configuration._load_config)
    monkeypatch.setattr(configuration, "_config", None)
    seen = []
    monkeypatch.setattr(mutmut_main, "cli", lambda: seen.append(configuration.config()) or 0)
    monkeypatch.setattr("sys.argv", ["-c", command[3], "run"])
    with pytest.raises(SystemExit):
        exec(command[2], {})
    assert seen[0].pytest_add_cli_args_test_selection == [
        "tests/limiter",
        "tests/client/test_throttle.py",
    ]
    assert seen[0].pytest_add_cli_args == ["-p", "no:x"]  # the rest as configured
