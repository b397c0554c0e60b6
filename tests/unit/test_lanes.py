"""The test runner's own preparation: the checkout's code is compiled once before the lanes start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.lanes import compile_own_code


def test_the_checkout_is_compiled_even_where_bytecode_writing_is_off(tmp_path: Path) -> None:
    # given a checkout with a package and app.py, on a machine that sets PYTHONDONTWRITEBYTECODE
    (tmp_path / "backfill").mkdir()
    (tmp_path / "backfill" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "app.py").write_text("import backfill\n")
    # when the lanes prepare it (in a process that does not write bytecode itself)
    subprocess.run([sys.executable, "-c", f"from tests.lanes import compile_own_code; from pathlib import Path; "
                    f"compile_own_code(Path({str(tmp_path)!r}))"],
                   check=True, env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(Path.cwd())})
    # then both have bytecode beside them, and the directories that do not exist are skipped
    tag = sys.implementation.cache_tag
    assert (tmp_path / "backfill" / "__pycache__" / f"__init__.{tag}.pyc").is_file()
    assert (tmp_path / "__pycache__" / f"app.{tag}.pyc").is_file()


def test_a_missing_checkout_part_is_not_an_error(tmp_path: Path) -> None:
    compile_own_code(tmp_path)  # nothing there: nothing written, nothing raised
    assert list(tmp_path.iterdir()) == []
