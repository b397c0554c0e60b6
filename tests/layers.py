"""The import contract of ``backfill`` (issue 33): layers that only look down.

    python -m tests.layers          # `make lint` runs it; exit 1 and one line per upward import

From the bottom: ``run`` (store, backup, ledger, checkpoint, names), ``table``, ``control``, the
jobs (``migrate``, ``verify``, ``restore``, ``mirror``, ``live``: none imports another), ``cli``,
then the entry module ``backfill.__main__``. A module may import its own subpackage and any lower
layer. ``backfill.errors`` is a leaf (imports nothing of ``backfill``); ``backfill.console`` imports
only ``backfill.errors``; every layer may import both. Everything may import ``chalicelib``, which
never imports ``backfill``.

Every import statement counts, wherever it is: at the top, inside a function (a deferred import
that hides a cycle), under ``if TYPE_CHECKING:``, and ``importlib.import_module("backfill...")``
with a literal name. A new subpackage of ``backfill`` fails until it is given a layer here.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Subpackage (or top-level module) of backfill -> its layer; a higher number sits higher.
LAYERS: dict[str, int] = {
    "run": 0,
    "table": 1,
    "control": 2,
    "migrate": 3, "verify": 3, "restore": 3, "mirror": 3, "live": 3,
    "cli": 4,
    "__main__": 5,
}
LAYER_NAMES = ["run", "table", "control", "jobs", "cli", "entry"]
LEAVES: dict[str, set[str]] = {"errors": set(), "console": {"errors"}}  # leaf -> what of backfill it may import


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}: {self.rule}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str) -> Iterator[tuple[str, int]]:
    """Every name ``path`` imports, with its line: a ``from X import y`` yields X.y (y may be a
    submodule or a name in X; ``imported_module`` tells)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "import_module"):
            yield node.args[0].value, node.lineno


def imported_module(name: str, root: Path) -> str:
    """The module ``name`` is or is in: ``backfill.run.names.SEGMENT_NAME`` -> ``backfill.run.names``."""
    parts = name.split(".")
    for end in range(len(parts), 1, -1):
        place = root.joinpath(*parts[:end])
        if place.with_suffix(".py").exists() or place.is_dir():
            return ".".join(parts[:end])
    return name


def rule_broken(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None when it may."""
    source, target = importer.split("."), imported.split(".")
    if source[0] == "chalicelib":
        return "chalicelib never imports backfill" if target[0] == "backfill" else None
    if source[0] != "backfill" or target[0] != "backfill" or len(target) < 2:
        return None
    if len(source) < 2:
        return None  # backfill/__init__.py
    mine, theirs = source[1], target[1]
    if mine == theirs:
        return None
    if mine in LEAVES:
        allowed = LEAVES[mine]
        return None if theirs in allowed else f"backfill.{mine} is a leaf: it imports " + (
            " and ".join(f"backfill.{name}" for name in sorted(allowed)) + " only" if allowed else "nothing of backfill")
    if theirs in LEAVES:
        return None
    for name in (mine, theirs):
        if name not in LAYERS:
            return f"backfill.{name} has no layer: give it one in tests/layers.py"
    if LAYERS[theirs] > LAYERS[mine]:
        return (f"{mine} ({LAYER_NAMES[LAYERS[mine]]}) may not import {theirs}, "
                f"a higher layer ({LAYER_NAMES[LAYERS[theirs]]})")
    if LAYERS[theirs] == LAYERS[mine]:
        return f"the jobs are independent: {mine} may not import {theirs}"
    return None


def violations(root: Path = ROOT) -> list[Violation]:
    found: set[Violation] = set()
    for package in ("backfill", "chalicelib"):
        for path in sorted((root / package).rglob("*.py")):
            importer = module_name(path, root)
            for name, line in imports(path, importer):
                imported = imported_module(name, root)
                rule = rule_broken(importer, imported)
                if rule is not None:
                    found.add(Violation(importer, imported, line, rule))
    return sorted(found, key=lambda v: (v.importer, v.line, v.imported))


def problems(root: Path = ROOT) -> list[str]:
    """The contract's verdict: one line per import against it."""
    return [str(violation) for violation in violations(root)]


def main() -> int:
    found = problems()
    for problem in found:
        print(problem)  # noqa: T201 (a lint tool's output)
    if found:
        print(f"{len(found)} problem(s) with the layers of backfill (tests/layers.py)")  # noqa: T201
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
