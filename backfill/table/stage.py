"""A Chalice stage as the CLI sees it: the environment ``.chalice/config.json`` gives its
functions (table names, failure retention, stream ARNs), so ``--stage dev`` is enough to point a
command at that stage's tables and region. Explicit options and their environment variables
still win: command line > environment variable > stage > built-in default."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backfill.errors import BadInput

CHALICE_CONFIG = Path(".chalice") / "config.json"
_ARN_REGION = re.compile(r"^arn:aws[\w-]*:dynamodb:([a-z0-9-]+):")


@dataclass(frozen=True)
class Stage:
    name: str
    config_path: Path
    environment: dict[str, str]  # the app's environment_variables with the stage's on top

    @property
    def region(self) -> str | None:
        """The region of the stage's stream ARNs, when they all name the same one."""
        regions = {found.group(1) for name, value in self.environment.items()
                   if name.endswith("_STREAM_ARN") and (found := _ARN_REGION.match(value))}
        return regions.pop() if len(regions) == 1 else None

    @property
    def tables(self) -> frozenset[str]:
        """The table names the stage's environment gives (``*_TABLE`` variables)."""
        return frozenset(value for name, value in self.environment.items() if name.endswith("_TABLE") and value)


def read_chalice_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist: --stage reads the stages from a Chalice config",
                       hint="run from the project directory, or give --chalice-config PATH") from None
    except ValueError as error:
        raise BadInput(f"{path} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise BadInput(f"{path} is not a Chalice config (a JSON object)")
    return config


def load_stages(config_path: Path) -> list[Stage]:
    """Every stage of the Chalice config at ``config_path``."""
    return [load_stage(name, config_path) for name in sorted(read_chalice_config(config_path).get("stages") or {})]


def load_stage(name: str, config_path: Path = CHALICE_CONFIG) -> Stage:
    """The stage ``name`` of the Chalice config at ``config_path``; a stage that is not there is
    one error naming the stages that are."""
    config = read_chalice_config(config_path)
    stages = config.get("stages") or {}
    if name not in stages:
        known = ", ".join(sorted(stages)) or "none"
        raise BadInput(f"stage {name!r} is not in {config_path} (its stages: {known})")
    environment = {**(config.get("environment_variables") or {}),
                   **(stages[name].get("environment_variables") or {})}
    return Stage(name, config_path, {str(k): str(v) for k, v in environment.items()})
