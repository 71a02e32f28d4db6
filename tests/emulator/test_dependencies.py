"""The emulator depends on the spec's descriptors, aiohttp, attrs and the standard library:
never on the facade or the request pipeline (DESIGN.md), and never on test-only packages at
runtime. Outside its own package it reads only what the spec says: the generated descriptors
and the one validation and date policy they are checked with."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nexudus_async.testing

PACKAGE = Path(nexudus_async.testing.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "attrs", "multidict", "yarl"}
PYTEST_PLUGIN_ONLY = {"pytest", "pytest_asyncio"}
# An optional extra, imported when used (tests/networks checks the message without it).
OPTIONAL_EXTRA = {"tls.py": {"trustme"}}
# The spec's meaning, as data and checks; nothing of the client.
SPEC_LAYER = {"_core.entity", "_core.values", "_core.dates", "_core.decimals", "_generated.api"}


def imports(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) of every import in a module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_the_emulator_imports_only_itself_aiohttp_attrs_and_the_stdlib() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        for level, module in imports(path):
            where = f"{path.name}: {'.' * level}{module}"
            if level == 2 and module in SPEC_LAYER:
                continue
            if level:
                assert level == 1, f"{where} reaches outside nexudus_async.testing"
                continue
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if path.name == "pytest_plugin.py" and top in PYTEST_PLUGIN_ONLY:
                continue
            if top in OPTIONAL_EXTRA.get(path.name, ()):
                continue
            assert top in ALLOWED_THIRD_PARTY, where
