"""Every shell block of the tutorial and the how-to pages runs as written, in order, on a moto
server, the way a newcomer pastes it: each command in a terminal of its own (a pseudo-terminal,
so a confirmation is asked and answered "y"), with the exit code its comment promises
(``(exit 1: ...)``) or 0. A block that cannot run here says why in a marker just above it:
``<!-- docs-test: skip: REASON -->`` (AWS itself, Docker, or the test suite itself)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from localdev.endpoint import MotoEndpoint
from tests.support.cli import REPO, assert_no_traceback, cli_env

DOCS = REPO / "docs"
SKIP = re.compile(r"<!-- docs-test: skip: (?P<reason>[^>]+?) -->")
EXPECTED_EXIT = re.compile(r"\(exit (?P<code>\d+)")
TUTORIAL_ENDPOINT = "http://127.0.0.1:5005"  # the tutorial's moto server, replaced by this test's
# What a page assumes exists before its first block (the tutorial and the declaration page make their own).
GIVEN = {
    "how-to/migrate.md": ["backfill init-tables", "python -m localdev seed --events 60 --participants 120"],
    "how-to/large-tables.md": ["backfill init-tables", "python -m localdev seed --events 60 --participants 120"],
}
PAGES = ["tutorial.md", "how-to/migrate.md", "how-to/large-tables.md", "how-to/local-development.md",
         "how-to/deploy.md", "how-to/rename.md", "declaration.md"]


@dataclass
class Block:
    page: str
    line: int  # where the fence opens, for messages
    commands: list[str]
    skip: str | None = None


@dataclass
class Shell:
    """A newcomer's terminal: its working directory and exported variables."""

    cwd: Path
    env: dict[str, str]
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, command: str) -> None:
        words = command.split("#", 1)
        line, comment = words[0].strip(), (words[1] if len(words) > 1 else "")
        if line.startswith("export "):
            for assignment in shlex.split(line)[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
            return
        if line.startswith("source ") or "leave it running" in comment:
            return  # the virtualenv is on PATH; this test serves the endpoint
        if line.endswith("&"):
            self.background.append(subprocess.Popen(["bash", "-c", line.rstrip("&")], cwd=self.cwd, env=self.env,
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            return
        expected = int(match["code"]) if (match := EXPECTED_EXIT.search(comment)) else 0
        # script(1) gives the command a terminal: confirmations are asked, and answered "y"
        done = subprocess.run(["script", "-qec", line, "/dev/null"], cwd=self.cwd, env=self.env, input="y\n" * 4,
                              capture_output=True, text=True, timeout=600)
        assert_no_traceback(done.stdout, done.stderr)
        assert done.returncode == expected, f"`{line}` exited {done.returncode}, the docs say {expected}:\n{done.stdout}"

    def close(self) -> None:
        for process in self.background:
            process.terminate()
            process.wait(timeout=30)


def blocks(page: str) -> list[Block]:
    """The page's ```bash blocks, continuation lines joined, each with its skip marker if any."""
    lines = (DOCS / page).read_text().splitlines()
    found: list[Block] = []
    for number, text in enumerate(lines):
        if text.strip() != "```bash":
            continue
        body: list[str] = []
        for inner in lines[number + 1:]:
            if inner.strip() == "```":
                break
            body.append(inner)
        marker = SKIP.search(lines[number - 1]) if number else None
        found.append(Block(page, number + 1, _commands(body), marker["reason"] if marker else None))
    return found


def _commands(body: list[str]) -> list[str]:
    commands: list[str] = []
    pending = ""
    for text in body:
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if text.rstrip().endswith("\\"):
            pending += text.rstrip()[:-1] + " "
            continue
        commands.append(pending + text.strip())
        pending = ""
    return commands


def test_every_block_either_runs_or_says_why_not():
    every = [block for page in PAGES for block in blocks(page)]
    assert every and all(block.commands for block in every)
    skipped = [block for block in every if block.skip]
    # each skip names what it needs that a test run here has not (AWS, Docker) or what runs it already
    needs = ("AWS", "Docker", "test suite", "test_demo.py")
    assert all(any(word in (block.skip or "") for word in needs) for block in skipped), skipped


@pytest.mark.parametrize("page", [page for page in PAGES if any(not b.skip for b in blocks(page))])
def test_the_pages_shell_blocks_run_as_written(page, tmp_path):
    with MotoEndpoint() as server:
        server.reset()  # moto's backends are this process's: another test's tables may be there
        env = cli_env({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                       "AWS_ENDPOINT_URL": server.url, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
                      drop=("BACKUP_DIR", "BACKFILL_RUN_ID", "AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"))
        shell = Shell(tmp_path, env)
        try:
            for command in GIVEN.get(page, []):
                shell.run(command)
            for block in blocks(page):
                if block.skip:
                    continue
                for command in block.commands:
                    shell.run(command.replace(TUTORIAL_ENDPOINT, server.url))
        finally:
            shell.close()
