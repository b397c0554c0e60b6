"""``backfill``: the command group. Each module in ``backfill.cli.commands`` adds one command.

``main`` is the entry point: every error ends as one ``Error:`` line (plus a hint) and an exit
code from ``backfill.errors``; a traceback only with ``--debug`` (or BACKFILL_DEBUG=1).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import pkgutil
import sys
import traceback
from typing import NoReturn

import click

import backfill.cli.commands
from backfill.cli.options import TARGET_META
from backfill.errors import EXIT_CODES_HELP, BadInput, ExitCode, Failure, explain
from chalicelib.schema import DeclarationError, schema_from
from chalicelib.schema.active import DEFAULT, ENV_VAR

DEBUG_ENV = "BACKFILL_DEBUG"
_debug = {"on": os.environ.get(DEBUG_ENV, "") not in ("", "0")}


class BackfillGroup(click.Group):
    """Runs a command; an exception it did not handle becomes one ``Error:`` line and an exit code.

    Each module of ``backfill.cli.commands`` is one command, named after the module (``_`` as
    ``-``) and imported when it is asked for: a command's process loads only its own code
    (``backfill control RUN status`` never imports the migrate runner)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_command_modules()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _command_modules():
            command = importlib.import_module(_command_modules()[cmd_name]).command
            command.epilog = command.epilog or EXIT_CODES_HELP
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            # click's plain ClickException exits 1, which here means "items failed": input errors are 2.
            if error.exit_code != 1:
                raise
            error.show()
            raise SystemExit(ExitCode.BAD_INPUT) from error
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:  # the last resort: one line, never a traceback unless --debug
            if _debug["on"]:
                traceback.print_exception(error)
            fail(explain(error, where=_where(ctx)))


@functools.cache
def _command_modules() -> dict[str, str]:
    """Command name -> the module that defines it, one per module of ``backfill.cli.commands``."""
    package = backfill.cli.commands
    return {info.name.replace("_", "-"): f"{package.__name__}.{info.name}"
            for info in pkgutil.iter_modules(package.__path__)}


def _where(ctx: click.Context) -> str | None:
    """The endpoint and region of the command's target (without creating a client)."""
    target = ctx.meta.get(TARGET_META)
    if target is None:
        return None
    settings = target.settings
    return f"{settings.endpoint_url or 'AWS'} in region {settings.region}"


schema_option = click.option(
    "--schema", "schema_reference", metavar="PACKAGE.MODULE:NAME", envvar=ENV_VAR, default=DEFAULT, show_default=True,
    help=f"The declaration to migrate to (docs/declaration.md), before or after the command. Env: {ENV_VAR}.")


@click.group(cls=BackfillGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(package_name="dynamo-evolve", prog_name="backfill")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for boto).")
@click.option("--debug", is_flag=True, envvar=DEBUG_ENV, help="Show the Python traceback of an unexpected error. Env: BACKFILL_DEBUG=1.")
# main() spells `backfill --restore FILE ...` as `backfill restore FILE ...` before click parses;
# the option is declared so that --help lists it.
@click.option("--restore", "restore_file", metavar="FILE", expose_value=False,
              help="Roll back from a backup: the same as `backfill restore FILE` (its options follow).")
@schema_option
def cli(verbose: int, debug: bool, schema_reference: str) -> None:
    """Event-sourced, incremental schema migration for DynamoDB.

    Typical run: init-tables, migrate --dry-run, migrate, verify; roll back with
    `backfill --restore FILE` (same as `backfill restore FILE`).
    """
    _debug["on"] = _debug["on"] or debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("botocore").setLevel(logging.WARNING)
    else:  # said once, before any request: botocore's debug log prints request and response bodies
        from backfill.console import err  # rich only when it is needed (startup time)

        err.print("[bold yellow]Warning:[/] -vv logs botocore's requests and responses, item values included; "
                  "keep this output as private as the table.", soft_wrap=True)
    use_declaration(schema_reference)


def use_declaration(reference: str) -> None:
    """Make ``reference`` the declaration of the running command (and of the processes it starts),
    refused here, before the command reads or writes anything."""
    _importable_from_working_directory()
    try:
        click.get_current_context().with_resource(schema_from(reference))
    except DeclarationError as error:
        raise BadInput(str(error), hint=_declaration_hint(error)) from error


def _importable_from_working_directory() -> None:
    """Let ``--schema`` name a module in the working directory, as ``python -m backfill`` does.

    The installed ``backfill`` script puts only its own directory on ``sys.path``; a team runs it
    from its repository and names its declaration relative to it. Appended, not prepended: a
    module of the working directory never shadows an installed package."""
    working_directory = os.getcwd()
    if working_directory not in sys.path and "" not in sys.path:
        sys.path.append(working_directory)


def _declaration_hint(error: DeclarationError) -> str:
    if isinstance(error.__cause__, ModuleNotFoundError):
        return (f"modules are looked for in the working directory ({os.getcwd()}), on PYTHONPATH and among the "
                "installed packages: run backfill from the directory that holds the package, or add it to PYTHONPATH")
    return "see docs/declaration.md"


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point. ``backfill --restore FILE ...`` is spelled as ``backfill restore FILE ...``;
    ``--schema`` is the group's option wherever it is written (before or after the command)."""
    args = schema_first(list(sys.argv[1:] if argv is None else argv))
    if "--restore" in args:
        at = args.index("--restore")
        args[at : at + 1] = ["restore"]
        args.insert(0, args.pop(at))
    run(cli, args, "backfill")


def schema_first(args: list[str]) -> list[str]:
    """Move ``--schema REF`` / ``--schema=REF`` to the front: no command has an option of that name,
    and an operator writes it after the command as often as before it."""
    moved: list[str] = []
    rest: list[str] = []
    words = iter(args)
    for word in words:
        if word == "--":
            rest += [word, *words]
        elif word == "--schema":
            value = next(words, None)
            moved += [word] if value is None else [word, value]
        elif word.startswith("--schema="):
            moved.append(word)
        else:
            rest.append(word)
    return [*moved, *rest]


def run(group: click.Group, args: list[str], prog_name: str) -> NoReturn:
    """Run a command of ``group`` (backfill's, or the local tooling's) as ``main`` does."""
    try:
        result = group.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.Abort as abort:  # click turns Ctrl-C and end of input at a prompt into Abort
        if isinstance(abort.__cause__ or abort.__context__, EOFError):
            fail(Failure("no answer: input ended at a confirmation prompt", ExitCode.REFUSED))
        fail(Failure("interrupted", ExitCode.INTERRUPTED))
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except Exception as error:  # raised outside a command (BackfillGroup handles those)
        if _debug["on"]:
            traceback.print_exception(error)
        fail(explain(error))
    sys.exit(result if isinstance(result, int) else ExitCode.OK)


def fail(failure: Failure) -> NoReturn:
    """Print ``Error: ...`` (and ``Hint: ...``) on stderr and exit with the failure's code."""
    click.echo(f"Error: {failure.message}", err=True)
    if failure.hint:
        click.echo(f"Hint: {failure.hint}", err=True)
    sys.exit(failure.exit_code)
