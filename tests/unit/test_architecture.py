"""Qt stays in ``staffetta.ui``: the import contracts hold, the CLI never loads Qt, no file slips.

Three angles on one rule (CONTRIBUTING.md, "Layout"):

* ``lint-imports`` with the contracts in pyproject.toml (the same check tests/run.sh runs);
* importing every Qt-free module in a fresh interpreter leaves no ``PySide6`` in ``sys.modules``
  (catches imports that happen at run time, e.g. through a third-party package);
* a syntax-level scan of every Qt-free source file, including imports inside functions and
  ``importlib.import_module("PySide6...")``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "desktop" / "staffetta"
QT_FREE = ("staffetta.core", "staffetta.channels", "staffetta.sandbox", "staffetta.cli")
QT_PACKAGES = {"PySide6", "shiboken6"}


def _existing(modules: tuple[str, ...]) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is not None]


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_qt_free_modules_do_not_load_qt() -> None:
    modules = _existing(QT_FREE)
    assert "staffetta.core" in modules
    script = textwrap.dedent(
        """
        import importlib, json, pkgutil, sys
        loaded = []
        for name in sys.argv[1:]:
            module = importlib.import_module(name)
            loaded.append(name)
            for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
                if info.name.endswith(".__main__"):  # runs the program when imported
                    continue
                importlib.import_module(info.name)
                loaded.append(info.name)
        qt = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6"})
        print(json.dumps({"loaded": loaded, "qt": qt}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "staffetta.core.secrets" in report["loaded"]
    assert report["qt"] == [], f"importing {modules} loaded Qt: {report['qt']}"


def _qt_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
        ):
            names = [node.args[0].value]
        found += [f"{path.relative_to(root)}:{node.lineno}: {name}" for name in names]
    return [entry for entry in found if entry.rsplit(": ", 1)[1].split(".")[0] in QT_PACKAGES]


def _qt_free_files() -> list[Path]:
    files = [PACKAGE / "cli.py", *(PACKAGE / "cli").rglob("*.py")]
    for package in ("core", "channels", "sandbox"):
        files += (PACKAGE / package).rglob("*.py")
    return sorted(f for f in files if f.is_file())


def test_no_qt_import_in_qt_free_sources() -> None:
    files = _qt_free_files()
    assert PACKAGE / "core" / "secrets.py" in files
    offenders = [entry for path in files for entry in _qt_imports(path)]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "import PySide6",
        "from PySide6.QtCore import QObject",
        "def later():\n    import shiboken6",
        "import importlib\nimportlib.import_module('PySide6.QtWidgets')",
        "import os, PySide6.QtGui as gui",
    ],
)
def test_the_scan_can_fail(tmp_path: Path, source: str) -> None:
    path = tmp_path / "leak.py"
    path.write_text(source + "\n", encoding="utf-8")
    assert _qt_imports(path, tmp_path) != []
    path.write_text("import PySide6_helpers\nfrom staffetta.ui import x\n", encoding="utf-8")
    assert _qt_imports(path, tmp_path) == []
