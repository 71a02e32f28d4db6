"""The Pythons the package claims are exactly those the suite runs on (`make test-all`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_classifiers_list_exactly_the_pythons_make_test_all_runs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    claimed = [
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^PYTHONS \?= (.+)$", makefile, re.MULTILINE)
    assert match is not None
    tested = match.group(1).split()
    assert claimed == tested
    assert project["requires-python"] == f">={tested[0]}"
    assert re.search(r"^REQUIRED_PYTHONS \?= 3\.11$", makefile, re.MULTILINE)
    assert "make test-all" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
