"""The runtime's imports run downward: ``_core`` loads neither the features nor the package root."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nexudus_async

PACKAGE = Path(nexudus_async.__file__).parent
UPWARD = (
    "nexudus_async.bulk",
    "nexudus_async.cli",
    "nexudus_async.testing",
    "nexudus_async.client",
)


def _module_level_imports(path: Path) -> list[str]:
    """Absolute names a module imports when it is loaded (not in functions, not for typing)."""
    package = ".".join(["nexudus_async", *path.relative_to(PACKAGE).parts[:-1]])
    found: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = base if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def test_core_imports_no_feature_and_not_the_package_root() -> None:
    wrong = {
        f"{path.name}: {name}"
        for path in sorted((PACKAGE / "_core").glob("*.py"))
        for name in _module_level_imports(path)
        if name.startswith(UPWARD) or name in ("nexudus_async", "nexudus_async.__version__")
    }
    assert not wrong


def test_the_client_reads_the_version_without_importing_the_root() -> None:
    assert "nexudus_async.__version__" not in _module_level_imports(PACKAGE / "client.py")
    assert "nexudus_async._version.__version__" in _module_level_imports(PACKAGE / "client.py")


def test_importing_the_resource_loads_no_bulk_module() -> None:
    code = (
        "import sys; import nexudus_async._core.resource; "
        "print(' '.join(m for m in sys.modules if m.startswith('nexudus_async.bulk')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
