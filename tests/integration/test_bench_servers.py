"""The benchmarks that start a moto server process of their own run end to end on a tiny data set
(no timing asserted). They are integration tests: a server process and HTTP, not the in-process mock."""

from __future__ import annotations

import pytest

from bench.dump_tool import run_dump_tool_restore
from bench.harness import ServerProcess, fresh_tables, measure
from bench.scale_out import memory
from bench.scale_out import render as render_scale_out
from chalicelib.config import Settings
from localdev.legacy_data import generate

pytestmark = pytest.mark.integration


def test_dump_tool_restores_every_item_into_an_empty_table() -> None:
    # GIVEN seeded tables on a moto server in its own process (the dump tool is another process
    # and talks HTTP, so the in-process mock of the other tests cannot serve it)
    seeded = generate(events=20, participants=60, malformed=2, seed=3)
    with ServerProcess() as server:
        settings = Settings(endpoint_url=server.url)
        fresh_tables(server, settings, seeded)
        # WHEN dynamodump backs the events table up and restores it into a new table
        result = measure("dump tool", settings,
                         lambda session, watch: run_dump_tool_restore(session, watch, settings, "events-dump-copy"))
    # THEN every item arrived as it was, and the child process's CPU is the measured client CPU
    assert result.items == 20 and result.notes["identical"] and result.notes["differing_items"] == 0
    assert result.cpu_seconds >= result.notes["child_cpu_seconds"] > 0


def test_scale_out_measures_each_command_s_own_process() -> None:
    # GIVEN a moto server process, and this test process grown well past what a CLI command needs
    ballast = b"x" * (300 * 1024 * 1024)  # written, so resident
    settings = Settings(failures_table="failures",
                        region="us-east-1")
    with ServerProcess() as server:
        # WHEN the scale-out bench runs migrate, verify and restore on 20 events
        [row] = memory(server, [20], settings.with_overrides(endpoint_url=server.url))
    # THEN each command exited 0 and its peak is its own, not this process's (wait4's ru_maxrss
    # would report at least the 300 MiB this process held when it spawned the child)
    for command in ("migrate", "verify", "restore"):
        figures = row[command]
        assert figures["exit"] == 0, (command, figures)
        assert 20 < figures["peak_rss_mib"] < 250, (command, figures)
        assert figures["client_cpu_s"] > 0 and figures["endpoint_cpu_s"] >= 0, (command, figures)
    assert row["migrate"]["endpoint_cpu_s"] > 0
    assert "| 20 | migrate |" in render_scale_out([row], [], "note") and len(ballast) > 0
