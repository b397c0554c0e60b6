"""``backfill``: the command group. Each module in ``backfill.commands`` adds one command."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

import backfill.commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for boto).")
def cli(verbose: int) -> None:
    """Event-sourced, incremental schema migration for DynamoDB.

    Typical run: init-tables (local only), migrate --dry-run, migrate, verify; roll back with
    `backfill --restore FILE` (same as `backfill restore FILE`).
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("botocore").setLevel(logging.WARNING)


for _module in pkgutil.iter_modules(backfill.commands.__path__):
    cli.add_command(importlib.import_module(f"backfill.commands.{_module.name}").command)


def main(argv: list[str] | None = None) -> None:
    """Entry point. ``backfill --restore FILE ...`` is spelled as ``backfill restore FILE ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--restore" in args:
        at = args.index("--restore")
        args[at : at + 1] = ["restore"]
        args.insert(0, args.pop(at))
    cli.main(args=args, prog_name="backfill")
