"""``python -m localdev``: the local tooling's commands (run from a checkout; not in the wheel).

    python -m localdev seed --endpoint-url http://localhost:8000 --events 500
    python -m localdev seed --schema examples.orders.schema:ORDERS --items 200 --source-rows 600

Errors and exit codes are backfill's: one ``Error:`` line, a code from ``backfill.errors``.
"""

from __future__ import annotations

import sys

import click

from backfill.cli.main import BackfillGroup, run, schema_first, schema_option, use_declaration
from backfill.errors import EXIT_CODES_HELP
from localdev import seed


@click.group(cls=BackfillGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@schema_option
def cli(schema_reference: str) -> None:
    """Local tooling of dynamo-evolve: test data for local endpoints and LocalStack."""
    use_declaration(schema_reference)


cli.add_command(seed.command)

if __name__ == "__main__":
    run(cli, schema_first(sys.argv[1:]), "python -m localdev")
