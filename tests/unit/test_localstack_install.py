"""localdev.localstack: what counts as installed, and the settings a host run gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from localdev import localstack


def _prepared(directory: Path, digest: str) -> None:
    """A folder laid out as `install` leaves it (files only: nothing here runs)."""
    python = localstack.venv_python(directory)
    python.parent.mkdir(parents=True)
    python.write_text("")
    (directory / "venv" / ".installed").write_text(digest + "\n")
    libs = localstack.filesystem_root(directory) / "var" / "lib" / "localstack" / "lib"
    for path in (libs / "dynamodb-local" / "2" / "DynamoDBLocal.jar", libs / "dynamodb-local" / "2" / "ddb-local-loader-0.1.jar",
                 libs / "java" / localstack.JAVA_VERSION_DIR / "bin" / "java"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_a_prepared_folder_is_installed_until_the_pins_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a folder prepared for the committed pins
    _prepared(tmp_path, localstack._requirements_digest())
    assert localstack.is_installed(tmp_path)
    # when the pins file changes, then it is not installed any more (the next start reinstalls)
    changed = tmp_path / "requirements.txt"
    changed.write_text(localstack.REQUIREMENTS.read_text() + "extra==1.0\n")
    monkeypatch.setattr(localstack, "REQUIREMENTS", changed)
    assert not localstack.is_installed(tmp_path)


def test_a_folder_without_the_agent_is_not_installed(tmp_path: Path) -> None:
    _prepared(tmp_path, localstack._requirements_digest())
    (localstack.filesystem_root(tmp_path) / "var/lib/localstack/lib/dynamodb-local/2/ddb-local-loader-0.1.jar").unlink()
    assert not localstack.is_installed(tmp_path)


def test_a_host_run_listens_on_loopback_only_and_names_that_address(tmp_path: Path) -> None:
    settings = localstack.settings(4599, tmp_path)
    assert settings["GATEWAY_LISTEN"] == settings["LOCALSTACK_HOST"] == "127.0.0.1:4599"
    assert settings["FILESYSTEM_ROOT"] == str(tmp_path) and settings["OVERRIDE_IN_DOCKER"] == "0"
    assert settings["PROVIDER_OVERRIDE_DYNAMODB"] == settings["PROVIDER_OVERRIDE_DYNAMODBSTREAMS"] == "v2"


def test_the_pins_name_the_tested_release() -> None:
    pins = [line for line in localstack.REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    assert f"localstack-core=={localstack.VERSION}" in pins
    assert all("==" in line for line in pins), [line for line in pins if "==" not in line]
    assert f"localstack/localstack:{localstack.VERSION}" in (Path(__file__).parents[2] / "docker-compose.yml").read_text()
