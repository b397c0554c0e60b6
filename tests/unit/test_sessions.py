"""Sessions made by chalicelib.aws share botocore's parsed service models, and otherwise behave as
boto3's own: a profile that does not exist is refused when the session is made."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ProfileNotFound

from chalicelib.aws import make_session


def loader(session: object) -> object:
    return session._session.get_component("data_loader")  # type: ignore[attr-defined]


def test_sessions_share_one_loader_whose_search_path_does_not_grow() -> None:
    # given two sessions made one after the other
    first, second = make_session(region="us-east-1"), make_session(region="eu-west-1")
    # then they share the models, and boto3's data directory is on the path once
    assert loader(first) is loader(second)
    paths = loader(second).search_paths  # type: ignore[attr-defined]
    assert len(paths) == len(set(paths)) and any(p.endswith("boto3/data") for p in paths)
    # and each keeps its own configuration
    assert first.region_name == "us-east-1" and second.region_name == "eu-west-1"
    assert first.client("dynamodb").meta.region_name == "us-east-1"


def test_a_profile_that_does_not_exist_is_refused_when_the_session_is_made(monkeypatch, tmp_path) -> None:
    (tmp_path / "config").write_text("[profile known]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):  # they would win over the profile's region
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ProfileNotFound):
        make_session(profile="missing")
    # and a profile that exists gives its region, as boto3's own session does
    assert make_session(profile="known").region_name == boto3.session.Session(profile_name="known").region_name
    assert make_session(profile="known").region_name == "eu-central-1"
