"""Settings from the environment: KIMGRAPH_REDIS_URL is checked at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimgraph.settings import Settings, SettingsError

SHAPE = (
    "KIMGRAPH_REDIS_URL must look like redis://host:6379/0, "
    "rediss://host:6379/0 or unix:///path/to/redis.sock"
)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://redis",
        "rediss://user:secret@redis.example:6380/2",
        "unix:///run/redis/redis.sock",
    ],
)
def test_well_formed_redis_urls_are_taken_as_given(url: str) -> None:
    assert Settings.from_env({"KIMGRAPH_REDIS_URL": url}).redis_url == url


def test_an_empty_redis_url_means_no_redis() -> None:
    assert Settings.from_env({"KIMGRAPH_REDIS_URL": ""}).redis_url is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://redis:6379", f"{SHAPE}; got scheme 'http'"),
        ("127.0.0.1:6379", f"{SHAPE}; got no scheme"),
        ("redis-host", f"{SHAPE}; got no scheme"),
        ("redis://:6379/0", f"{SHAPE}; got no host"),
        ("redis://redis:63790000", f"{SHAPE}; its port is not a number up to 65535"),
        ("redis://redis:port", f"{SHAPE}; its port is not a number up to 65535"),
        (
            "redis://redis:6379/events",
            f"{SHAPE}; the database after the host must be a number",
        ),
        ("unix://", f"{SHAPE}; got no socket path"),
        (
            "redis://redis?socket_timeout=soon",
            "KIMGRAPH_REDIS_URL: Invalid value for 'socket_timeout' in connection URL.",
        ),
    ],
)
def test_malformed_redis_urls_are_refused_with_the_fault(
    url: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_REDIS_URL": url})
    assert str(refused.value) == message


def test_serve_exits_2_on_a_malformed_redis_url_without_echoing_it(
    tmp_path: Path,
) -> None:
    # when
    result = subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", "serve", "--port", "9"],
        cwd=tmp_path,
        env={**os.environ, "KIMGRAPH_REDIS_URL": "htp://user:s3cret@redis:6379"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"kimgraph: {SHAPE}; got scheme 'htp'\n"
    assert not (tmp_path / "kimgraph.db").exists()


def test_the_query_cost_budget_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).max_query_cost == 50_000
    assert Settings.from_env({"KIMGRAPH_MAX_QUERY_COST": "2000"}).max_query_cost == 2000


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("lots", "KIMGRAPH_MAX_QUERY_COST must be a whole number, got 'lots'"),
        ("0", "KIMGRAPH_MAX_QUERY_COST must be positive, got 0"),
        ("-5", "KIMGRAPH_MAX_QUERY_COST must be positive, got -5"),
    ],
)
def test_a_bad_query_cost_budget_is_refused(raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_MAX_QUERY_COST": raw})
    assert str(refused.value) == message
