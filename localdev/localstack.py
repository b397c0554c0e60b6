"""LocalStack on the host, without Docker: installed into a virtualenv of its own, run on a port.

``python -m localdev.localstack install`` (what ``make localstack`` runs) prepares everything it
needs under ``.cache/localstack`` (env ``LOCALSTACK_DIR`` to move it), so that starting it downloads
nothing:

- ``venv/``: localstack-core and its runtime, pinned by ``localstack-requirements.txt`` beside this
  file, from PyPI (installed with uv, itself from PyPI), on this Python (4.8.1 is the last release that ran on 3.11; later ones use 3.12
  syntax and 3.13's ``threading.Lock`` type). Its own virtualenv: its pins clash with the project's.
- ``root/``: what LocalStack's ``FILESYSTEM_ROOT`` holds in ``var/lib/localstack/lib`` (each
  LocalStack gets a root of its own that links to it). DynamoDB inside LocalStack is AWS's DynamoDB Local,
  which LocalStack would download at first use: it takes it as installed when
  ``var/lib/localstack/lib/dynamodb-local/2/DynamoDBLocal.jar`` exists, so that is a link to the jar
  this project installs from npm (``localdev.dynamodb_local``), beside a no-op
  ``ddb-local-loader-0.1.jar`` Java agent compiled here (LocalStack's own agent only lifts the
  20-index limit) and a Java home ``lib/java/21`` that links to the installed JDK (17 runs it).

Needs java and javac (17+) and, for the jar, npm; ``make localstack`` installs them from Debian
where they are missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from localdev import dynamodb_local

VERSION = "4.8.1"  # the one docker-compose.yml names, and the docs
REQUIREMENTS = Path(__file__).with_name("localstack-requirements.txt")
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".cache" / "localstack"
UV = "uv==0.13.8"  # installs LocalStack's pins (from PyPI, like pip)
JAVA_VERSION_DIR = "21"  # the Java LocalStack asks for; the installed JDK (17+) serves
AGENT_SOURCE = """\
public final class NoopAgent {
    public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
"""


class LocalStackMissing(RuntimeError):
    """LocalStack cannot be installed or started here (no Python venv, no java/javac, pip failed)."""


def cache_dir() -> Path:
    return Path(os.environ.get("LOCALSTACK_DIR") or DEFAULT_DIR)


def venv_python(directory: Path) -> Path:
    return directory / "venv" / "bin" / "python"


def filesystem_root(directory: Path) -> Path:
    return directory / "root"


def _libs(directory: Path) -> Path:
    return filesystem_root(directory) / "var" / "lib" / "localstack" / "lib"


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _stamp(directory: Path) -> Path:
    return directory / "venv" / ".installed"


def is_installed(directory: Path) -> bool:
    """The virtualenv holds what the requirements file says (a changed file means a reinstall) and
    the filesystem root is prepared."""
    stamp = _stamp(directory)
    return (stamp.is_file() and stamp.read_text().strip() == _requirements_digest()
            and venv_python(directory).exists()
            and (_libs(directory) / "dynamodb-local" / "2" / "DynamoDBLocal.jar").exists()
            and (_libs(directory) / "dynamodb-local" / "2" / "ddb-local-loader-0.1.jar").exists()
            and (_libs(directory) / "java" / JAVA_VERSION_DIR / "bin" / "java").exists())


def install(directory: Path | None = None) -> Path:
    """The prepared folder, installed first when missing (one installer at a time per folder)."""
    directory = directory or cache_dir()
    if is_installed(directory):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test lanes: the first one installs
        if not is_installed(directory):
            _install_venv(directory)
            _prepare_root(directory)
    return directory


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise LocalStackMissing(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")


def _install_venv(directory: Path) -> None:
    stamp = _stamp(directory)
    if stamp.is_file() and stamp.read_text().strip() == _requirements_digest() and venv_python(directory).exists():
        return
    venv = directory / "venv"
    shutil.rmtree(venv, ignore_errors=True)  # a half-made or outdated one: start clean
    base = getattr(sys, "_base_executable", sys.executable)  # the interpreter behind the project's venv
    _run([base, "-m", "venv", str(venv)], f"creating LocalStack's virtualenv {venv}")
    # uv installs the pinned set: its downloads run side by side (pip's one after another took 80-160 s
    # and 26-44 CPU-s here, uv 30 s and 10 CPU-s, itself included), and it compiles nothing:
    # LocalStack compiles the modules it imports at its first start (LocalStackEndpoint lets it
    # write their bytecode), not all 500 MB of them.
    # Where uv cannot be had or fails, pip installs the same pins (slower, same result).
    python = str(venv_python(directory))
    try:
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", UV],
             f"pip install {UV} into {venv}")
        _run([python, "-m", "uv", "pip", "install", "--quiet", "--python", python, "-r", str(REQUIREMENTS)],
             f"uv pip install -r {REQUIREMENTS.name} into {venv}")
    except LocalStackMissing as uv_failed:
        sys.stderr.write(f"localstack: {uv_failed}; installing with pip instead\n")
        _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--prefer-binary",
              "--no-compile", "-r", str(REQUIREMENTS)], f"pip install -r {REQUIREMENTS.name} into {venv}")
    stamp.write_text(_requirements_digest() + "\n")


def java_home() -> Path:
    """The JDK behind ``java`` on PATH (where its ``bin/java`` lives)."""
    java = shutil.which("java")
    if not java:
        raise LocalStackMissing("LocalStack's DynamoDB needs java (17+), which is not on PATH: run `make localstack`"
                                " (it installs a JDK from Debian), or choose another endpoint")
    return Path(java).resolve().parent.parent


def _prepare_root(directory: Path) -> None:
    try:
        jar = dynamodb_local.install()
    except dynamodb_local.DynamoDBLocalMissing as error:
        raise LocalStackMissing(f"LocalStack's DynamoDB is DynamoDB Local: {error}") from error
    ddb = _libs(directory) / "dynamodb-local" / "2"
    ddb.mkdir(parents=True, exist_ok=True)
    for name in ("DynamoDBLocal.jar", "DynamoDBLocal_lib"):
        _link(ddb / name, jar.parent / name)
    _link(_libs(directory) / "java" / JAVA_VERSION_DIR, java_home())
    agent = ddb / "ddb-local-loader-0.1.jar"
    if not agent.exists():
        _build_agent(agent)


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            return
        link.unlink()
    link.symlink_to(target)


def _build_agent(agent: Path) -> None:
    """A Java agent that does nothing: LocalStack starts DynamoDB Local with ``-javaagent:`` on it."""
    javac, jar_tool = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar_tool:
        raise LocalStackMissing("preparing LocalStack's DynamoDB needs javac and jar (a JDK, 17+), missing on PATH: "
                                "run `make localstack` (it installs openjdk-17-jdk-headless from Debian)")
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "NoopAgent.java"
        source.write_text(AGENT_SOURCE)
        (Path(work) / "manifest.txt").write_text("Premain-Class: NoopAgent\n")
        _run([javac, "-d", work, str(source)], "javac NoopAgent.java")
        partial = agent.with_suffix(".tmp")
        _run([jar_tool, "cfm", str(partial), str(Path(work) / "manifest.txt"), "-C", work, "NoopAgent.class"],
             "jar (the no-op agent)")
        partial.replace(agent)


def instance_root(directory: Path) -> Path:
    """A FILESYSTEM_ROOT of its own for one LocalStack, its ``lib`` (the jar, the agent, Java) the
    prepared one's. Each start clears the root's temporary folder, where CloudWatch keeps its
    database: LocalStacks side by side (the test lanes) sharing one broke each other's CloudWatch.
    The caller removes it when LocalStack has stopped."""
    root = Path(tempfile.mkdtemp(prefix="localstack-root-"))
    (root / "var" / "lib" / "localstack").mkdir(parents=True)
    (root / "var" / "lib" / "localstack" / "lib").symlink_to(_libs(directory))
    return root


def settings(port: int, root: Path) -> dict[str, str]:
    """LocalStack's configuration for a host run on 127.0.0.1:``port`` with ``root`` as its
    FILESYSTEM_ROOT (environment variables)."""
    address = f"127.0.0.1:{port}"
    return {
        "FILESYSTEM_ROOT": str(root),
        "OVERRIDE_IN_DOCKER": "0",  # machines like CI's have /.dockerenv, which LocalStack reads as "in Docker"
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": address,  # loopback only (its default is every interface)
        "LOCALSTACK_HOST": address,  # the host:port in URLs it returns (SQS queue URLs), not a DNS name
        "SQS_ENDPOINT_STRATEGY": "path",
        "DNS_ADDRESS": "0",  # no DNS server of its own
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",  # no analytics
        # The v2 providers talk to DynamoDB Local's own streams; the default ones npm-install kinesis-mock
        # at first use and cannot recreate a stream-enabled table right after deleting it.
        "PROVIDER_OVERRIDE_DYNAMODB": "v2",
        "PROVIDER_OVERRIDE_DYNAMODBSTREAMS": "v2",
        "DYNAMODB_IN_MEMORY": "1",
        # LocalStack builds DynamoDB Local's java command itself; the JVM also reads this variable:
        # C1 only and the serial collector, as localdev runs DynamoDB Local (half the JVM's CPU).
        "JAVA_TOOL_OPTIONS": " ".join(dynamodb_local.JVM_FLAGS),
        "SERVICES": "dynamodb,dynamodbstreams,sqs,s3,sns,cloudwatch,kms",
    }


# LocalStack's runtime (localstack.runtime.main) with two fixes for its SIGTERM, seen here:
# - its hypercorn server calls loop.stop() from another thread, which does not wake a loop idle in
#   epoll, so now and then (2 of 5 stops) it never stopped: a no-op callback from that thread wakes it;
# - a request still in flight (a killed test run's long poll) waits in its thread for the stopped
#   loop for ever, and the interpreter's exit waited for that thread: once the runtime has returned
#   (its services, the DynamoDB JVM included, are stopped by then) the process exits at once.
RUNTIME = """\
import os
import runpy
import sys
import traceback

from localstack.runtime.server.hypercorn import HypercornRuntimeServer

shutdown = HypercornRuntimeServer.shutdown


def shutdown_and_wake(self):
    shutdown(self)
    try:
        self.loop.call_soon_threadsafe(lambda: None)
    except RuntimeError:
        pass


HypercornRuntimeServer.shutdown = shutdown_and_wake
code = 1
try:
    runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
except BaseException:
    traceback.print_exc()
finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
"""


def command(directory: Path) -> list[str]:
    """LocalStack's runtime in the foreground (not the `localstack` CLI, which asks for an account)."""
    return [str(venv_python(directory)), "-c", RUNTIME]


def main(argv: list[str]) -> int:
    if argv != ["install"]:
        sys.stderr.write("usage: python -m localdev.localstack install\n")
        return 2
    try:
        directory = install()
    except LocalStackMissing as error:
        sys.stderr.write(f"Error: {error}\n")
        return 1
    sys.stderr.write(f"LocalStack {VERSION}: {directory}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
