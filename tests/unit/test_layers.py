"""The layer contract (tests/layers.py) finds each kind of upward import in a small tree written
here, wherever the import statement sits, and passes the repository's own code."""

from __future__ import annotations

from pathlib import Path

from tests import layers


def tree(root: Path, files: dict[str, str]) -> Path:
    for package in ("backfill", "chalicelib"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                (root / parent / "__init__.py").touch()
        path.write_text(text)
    return root


def found(root: Path) -> set[tuple[str, str, str]]:
    return {(v.importer, v.imported, v.rule) for v in layers.violations(root)}


def test_downward_imports_and_the_leaves_pass(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "backfill/errors.py": "import botocore\n",
        "backfill/console.py": "from backfill.errors import Refused\n",
        "backfill/run/names.py": "import chalicelib\nfrom backfill.errors import Refused\n",
        "backfill/table/scan.py": "from backfill.run import names\nfrom ..run.names import X\n",
        "backfill/control/worker.py": "from backfill.table.scan import scan\n",
        "backfill/migrate/runner.py": "from backfill.control import worker\nfrom . import tally\n",
        "backfill/migrate/tally.py": "",
        "backfill/cli/main.py": "from backfill.migrate.runner import run\nfrom backfill.console import console\n",
        "backfill/__main__.py": "from backfill.cli.main import main\n",
    })
    assert found(root) == set()


def test_every_kind_of_upward_import_is_named_with_its_rule(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "backfill/errors.py": "def f():\n    from backfill.console import console\n",
        "backfill/console.py": "from backfill.run.names import X\n",
        "backfill/run/names.py": "",
        "backfill/run/checkpoint.py": "from backfill.migrate.tally import Tally\n",
        "backfill/run/status.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from backfill.control.worker import W\n"
            "def f():\n    import backfill.cli.main\n"),
        "backfill/table/scan.py": "from ..control import worker\n",
        "backfill/control/worker.py": "",
        "backfill/migrate/tally.py": "",
        "backfill/migrate/__init__.py": "import importlib\nimportlib.import_module('backfill.live.model')\n",
        "backfill/live/model.py": "",
        "backfill/cli/main.py": "",
        "backfill/newthing/x.py": "from backfill.run import checkpoint\n",
        "chalicelib/app.py": "from backfill.errors import Refused\n",
    })
    assert found(root) == {
        ("backfill.errors", "backfill.console", "backfill.errors is a leaf: it imports nothing of backfill"),
        ("backfill.console", "backfill.run.names", "backfill.console is a leaf: it imports backfill.errors only"),
        ("backfill.run.checkpoint", "backfill.migrate.tally",
         "run (run) may not import migrate, a higher layer (jobs)"),
        ("backfill.run.status", "backfill.control.worker",
         "run (run) may not import control, a higher layer (control)"),
        ("backfill.run.status", "backfill.cli.main", "run (run) may not import cli, a higher layer (cli)"),
        ("backfill.table.scan", "backfill.control.worker",
         "table (table) may not import control, a higher layer (control)"),
        ("backfill.migrate", "backfill.live.model", "the jobs are independent: migrate may not import live"),
        ("backfill.newthing.x", "backfill.run.checkpoint",
         "backfill.newthing has no layer: give it one in tests/layers.py"),
        ("chalicelib.app", "backfill.errors", "chalicelib never imports backfill"),
    }


def test_the_repository_keeps_the_contract() -> None:
    assert layers.problems() == []
