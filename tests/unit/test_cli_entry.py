"""The entry point's last resort: an exception no command handled is one Error: line, a hint and
exit 5; --debug (or BACKFILL_DEBUG=1) adds the traceback; the exit codes are in --help."""

from __future__ import annotations

import click
import pytest

from backfill import cli as cli_module
from backfill.cli import cli, main


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
