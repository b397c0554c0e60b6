"""File-permission helpers for the tests of private run stores."""

from __future__ import annotations

import grp
import os
from pathlib import Path

import pytest


def shared_group(path: Path) -> None:
    """Give ``path`` a group other users belong to ("users"), or skip where that is not allowed."""
    try:
        os.chown(path, -1, grp.getgrnam("users").gr_gid)
    except (KeyError, PermissionError):
        pytest.skip("cannot give a directory the shared group 'users' here")
