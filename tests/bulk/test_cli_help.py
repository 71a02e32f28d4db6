"""``--help`` of import and export names every ``--entity`` choice, from the one table."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nexudus_async._generated.api import ENTITIES
from nexudus_async.cli.entities import ENTITY_CHOICES


def _entity_help(command: str) -> str:
    """The ``--entity`` entry of ``nexudus-async <command> --help``, on one line."""
    proc = subprocess.run(
        [sys.executable, "-m", "nexudus_async.cli", command, "--help"],
        env={**os.environ, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    entry = re.search(r"^  --entity \{.*?\}\n(.*?)^  --", proc.stdout, re.M | re.S)
    assert entry is not None, proc.stdout
    return " ".join(entry.group(1).split())


@pytest.mark.parametrize("command", ["import", "export"])
def test_entity_help_lists_every_choice(command: str) -> None:
    text = _entity_help(command)
    assert set(ENTITY_CHOICES) == {"coworker", "product", "tariff", "time_passes"}
    assert len(ENTITY_CHOICES) == len(ENTITIES)  # one choice per entity of the spec
    for choice, entity in ENTITY_CHOICES.items():
        description = entity.description.rstrip(".")
        assert f"{choice}: {description[:1].lower()}{description[1:]}" in text, text
    assert "coworker: time passes held by a customer (the default)" in text
    assert "time_passes: the time pass definitions" in text
