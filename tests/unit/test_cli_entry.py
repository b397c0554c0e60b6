"""The entry point's last resort: an exception no command handled is one Error: line, a hint and
exit 5; --debug (or BACKFILL_DEBUG=1) adds the traceback; the exit codes are in --help."""

from __future__ import annotations

import importlib.metadata
import sys

import click
import pytest
from click.testing import CliRunner

from backfill.cli import main as cli_module
from backfill.cli.main import cli, main


@pytest.fixture
def crashing_command():
    @click.command("crash-for-test")
    def crash() -> None:
        raise RuntimeError("the bug")

    cli.add_command(crash)
    yield
    cli.commands.pop("crash-for-test")
    cli_module._debug["on"] = False


def run_main(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_unexpected_error_is_one_line_and_a_hint(crashing_command, capsys):
    code, out, err = run_main(["crash-for-test"], capsys)
    assert code == 5
    assert err.splitlines() == [
        "Error: unexpected error: RuntimeError: the bug",
        "Hint: run again with --debug (or BACKFILL_DEBUG=1) for the traceback, and please report it",
    ]


def test_debug_shows_the_traceback(crashing_command, capsys):
    code, out, err = run_main(["--debug", "crash-for-test"], capsys)
    assert code == 5 and "Traceback" in err and 'raise RuntimeError("the bug")' in err


def test_usage_errors_are_2_and_help_lists_the_exit_codes(capsys):
    code, _, err = run_main(["migrate", "--rate-limit", "nan"], capsys)
    assert code == 2 and "--rate-limit" in err and "Traceback" not in err
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0 and "Exit codes:" in out and "130 interrupted" in " ".join(out.split())
    code, out, _ = run_main(["migrate", "--help"], capsys)
    assert code == 0 and "3 refused without confirmation" in " ".join(out.split())


@pytest.fixture
def interrupted_command():
    @click.command("interrupt-for-test")
    def interrupt() -> None:
        raise KeyboardInterrupt

    @click.command("prompt-for-test")
    def prompt() -> None:
        click.confirm("Write?", abort=True)

    cli.add_command(interrupt)
    cli.add_command(prompt)
    yield
    cli.commands.pop("interrupt-for-test")
    cli.commands.pop("prompt-for-test")


def test_ctrl_c_in_any_command_exits_130(interrupted_command, capsys):
    code, _, err = run_main(["interrupt-for-test"], capsys)
    assert code == 130 and "Error: interrupted" in err and "Traceback" not in err


def test_input_ending_at_a_prompt_is_a_refusal(interrupted_command, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115 - closed with the test process
    code, _, err = run_main(["prompt-for-test"], capsys)
    assert code == 3 and "input ended" in err


def test_version_names_the_installed_distribution(capsys):
    # when backfill --version runs
    code, out, _ = run_main(["--version"], capsys)
    # then it prints the package's version from its installed metadata
    assert code == 0 and out == f"backfill, version {importlib.metadata.version('dynamo-evolve')}\n"


def test_localstack_without_its_extra_is_one_error_naming_the_extra(monkeypatch, capsys):
    # given localstack-client is not importable (installed without the [localstack] extra)
    monkeypatch.setitem(sys.modules, "localstack_client", None)
    # when a command is asked to use LocalStack
    code, _, err = run_main(["verify", "--localstack"], capsys)
    # then it is a usage error naming the extra, before any client is made
    [error] = [line for line in err.splitlines() if line.startswith("Error:")]
    assert code == 2 and "dynamo-evolve[localstack]" in error and "--localstack" in error


def test_help_lists_the_restore_option_that_main_accepts():
    # given the group's help; then --restore FILE is listed, as `backfill --restore FILE` works
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "--restore FILE" in result.output and "backfill restore FILE" in result.output
