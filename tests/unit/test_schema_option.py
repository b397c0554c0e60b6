"""``--schema`` as an operator writes it: before or after the command, naming a module of the
working directory, from the installed ``backfill`` script (which, unlike ``python -m``, does not
put the working directory on ``sys.path`` by itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backfill.cli.main import schema_first

# A team's declaration in its own repository: a package beside which the operator runs backfill.
TEAM_DECLARATION = '''
from chalicelib.schema import Field, Key, Kind, Schema

TICKETS = Schema(
    table="tickets", key=Key("ticketId"), version=2, version_field="schemaVersion",
    fields=(Field("ticketId", Kind.KEY, required=True), Field("title", Kind.STRING)),
)
'''


def installed_script() -> Path:
    return Path(sys.executable).parent / "backfill"


def run_installed(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DYNAMO_EVOLVE_SCHEMA")}
    return subprocess.run([str(installed_script()), *args], cwd=cwd, env={**env, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def team_repository(tmp_path: Path) -> Path:
    package = tmp_path / "team" / "schema"
    package.mkdir(parents=True)
    (tmp_path / "team" / "__init__.py").write_text("")
    (package / "__init__.py").write_text(TEAM_DECLARATION)
    return tmp_path


@pytest.mark.parametrize("args", [
    ["--schema", "team.schema:TICKETS", "init-tables", "--help"],
    ["init-tables", "--schema", "team.schema:TICKETS", "--help"],
    ["init-tables", "--help", "--schema=team.schema:TICKETS"],
], ids=["before", "after", "after-with-equals"])
def test_the_installed_script_loads_a_declaration_from_the_working_directory(team_repository, args):
    if not installed_script().exists():
        pytest.skip("no installed backfill script beside this interpreter")
    # given a team's package in the working directory; when the installed script names it
    done = run_installed(args, cwd=team_repository)
    # then the declaration loads, before or after the command
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Create the tables the declaration names" in done.stdout


def test_a_module_that_is_not_there_says_where_it_was_looked_for(tmp_path):
    if not installed_script().exists():
        pytest.skip("no installed backfill script beside this interpreter")
    # when the installed script names a package the working directory does not hold
    done = run_installed(["migrate", "--dry-run", "--schema", "examples.orders.schema:ORDERS"], cwd=tmp_path)
    # then one error line names the declaration and the module, and the hint names the directory
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    hints = [line for line in done.stderr.splitlines() if line.startswith("Hint:")]
    assert done.returncode == 2, done.stderr
    assert errors == ["Error: declaration examples.orders.schema:ORDERS: module examples.orders.schema does not "
                      "import: ModuleNotFoundError: No module named 'examples'"]
    assert len(hints) == 1 and str(tmp_path) in hints[0] and "PYTHONPATH" in hints[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("given", "parsed"), [
    (["migrate", "--schema", "a.b:C", "--yes"], ["--schema", "a.b:C", "migrate", "--yes"]),
    (["migrate", "--schema=a.b:C"], ["--schema=a.b:C", "migrate"]),
    (["--schema", "a.b:C", "verify"], ["--schema", "a.b:C", "verify"]),
    (["migrate", "--schema"], ["--schema", "migrate"]),  # click then says the option needs a value
    (["restore", "--", "--schema"], ["restore", "--", "--schema"]),  # after --, a word is an argument
    (["verify"], ["verify"]),
])
def test_schema_is_the_groups_option_wherever_it_is_written(given, parsed):
    assert schema_first(given) == parsed
