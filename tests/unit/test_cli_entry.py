"""The entry point's last resort: an exception no command handled is one Error: line, a hint and
exit 5; --debug (or BACKFILL_DEBUG=1) adds the traceback; the exit codes are in --help."""

from __future__ import annotations

import importlib.metadata
import subprocess
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


def test_a_command_loads_only_its_own_module():
    # given a fresh interpreter; when `backfill control` is looked up (as `backfill control RUN status` does)
    probe = (
        "import sys, click\n"
        "from backfill.cli.main import cli\n"
        "assert cli.get_command(click.Context(cli), 'control') is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('backfill.cli.commands.') or m == 'backfill.migrate.runner'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # then only the control command's module was imported, not the others nor the migrate runner
    assert done.stdout.strip() == "['backfill.cli.commands.control']", done.stdout + done.stderr


def test_every_command_module_is_listed_and_loads():
    # given the group; when every listed command is asked for, then each one loads under its listed name
    context = click.Context(cli)
    names = cli.list_commands(context)
    assert {"migrate", "verify", "restore", "control", "apply-mapping-settings", "stream-arns"} <= set(names)
    assert all(cli.get_command(context, name).name == name for name in names)


def test_every_command_summary_is_a_whole_sentence():
    # given every command and subcommand as `backfill --help` and the docs' CLI reference list them
    context = click.Context(cli)
    commands = [cli.get_command(context, name) for name in cli.list_commands(context)]
    commands += [group.get_command(context, name) for group in commands if isinstance(group, click.Group)
                 for name in group.list_commands(context)]
    # then each summary is a sentence of its own, never one cut with "..." at click's 45 characters
    summaries = {command.name: command.get_short_help_str(limit=45) for command in commands}
    assert all(text.endswith(".") and not text.endswith("...") for text in summaries.values()), summaries


@pytest.mark.parametrize(("flag", "warned"), [("-v", 0), ("-vv", 1)])
def test_vv_warns_once_that_botocore_logs_show_item_values(tmp_path, flag, warned):
    # issue 32 finding 9: -vv printed botocore's response bodies (item values) without a word
    done = subprocess.run([sys.executable, "-m", "backfill", flag, "backups", "--backup-dir", str(tmp_path / "runs")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("logs botocore's requests and responses, item values included") == warned
