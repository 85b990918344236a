"""Settings from the environment: KIMGRAPH_REDIS_URL is checked at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimgraph.setting_values import SettingsError
from kimgraph.settings import Settings

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


def test_the_batch_bound_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).max_batch == 10
    assert Settings.from_env({"KIMGRAPH_MAX_BATCH": "3"}).max_batch == 3
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_MAX_BATCH": "0"})
    assert str(refused.value) == "KIMGRAPH_MAX_BATCH must be positive, got 0"


def test_the_query_deadline_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).query_timeout_seconds == 10.0
    env = {"KIMGRAPH_QUERY_TIMEOUT_SECONDS": "2.5"}
    assert Settings.from_env(env).query_timeout_seconds == 2.5
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_QUERY_TIMEOUT_SECONDS": "0"})
    assert (
        str(refused.value) == "KIMGRAPH_QUERY_TIMEOUT_SECONDS must be positive, got 0.0"
    )


def test_allowed_origins_are_read_as_browsers_send_them() -> None:
    raw = " http://localhost:5173,HTTPS://App.Example.id:443 ,http://[::1]:8080,,"
    assert Settings.from_env({"KIMGRAPH_ALLOWED_ORIGINS": raw}).allowed_origins == (
        "http://localhost:5173",
        "https://app.example.id",
        "http://[::1]:8080",
    )
    assert Settings.from_env({}).allowed_origins == ()


ORIGIN = "is not an origin like https://app.example.id or http://localhost:5173"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("localhost:5173", f"'localhost:5173' {ORIGIN} (no scheme)"),
        ("app.example.id", f"'app.example.id' {ORIGIN} (no scheme)"),
        (
            "https://app.example.id/",
            f"'https://app.example.id/' {ORIGIN} (a trailing slash)",
        ),
        (
            "https://app.example.id/kim",
            f"'https://app.example.id/kim' {ORIGIN} (a path)",
        ),
        (
            "https://app.example.id?x=1",
            f"'https://app.example.id?x=1' {ORIGIN} (a path)",
        ),
        (
            "ws://app.example.id",
            f"'ws://app.example.id' {ORIGIN} (scheme 'ws'; http or https)",
        ),
        ("http://", f"'http://' {ORIGIN} (no host)"),
        (
            "http://a:99999",
            f"'http://a:99999' {ORIGIN} (its port is not a number up to 65535)",
        ),
        ("*", f"'*' {ORIGIN} (list each origin; * is not accepted)"),
        (
            "https://u:s3cret@a",
            f"an entry with a user name {ORIGIN} (it holds a user name)",
        ),
    ],
)
def test_a_malformed_allowed_origin_stops_start_up_with_the_fault(
    raw: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_ALLOWED_ORIGINS": f"http://localhost:5173,{raw}"})
    assert str(refused.value) == f"KIMGRAPH_ALLOWED_ORIGINS: {message}"


@pytest.mark.parametrize(
    ("raw", "on"),
    [
        (None, True),
        ("", True),
        ("1", True),
        ("on", True),
        ("TRUE", True),
        ("0", False),
        ("off", False),
        ("false", False),
        ("no", False),
    ],
)
def test_graphiql_is_on_unless_switched_off(raw: str | None, on: bool) -> None:
    env = {} if raw is None else {"KIMGRAPH_GRAPHIQL": raw}
    assert Settings.from_env(env).graphiql is on


def test_a_graphiql_switch_that_is_no_switch_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_GRAPHIQL": "maybe"})
    assert (
        str(refused.value) == "KIMGRAPH_GRAPHIQL must be 1 or 0 (on/off), got 'maybe'"
    )


def test_websocket_admission_settings_have_documented_defaults() -> None:
    defaults = Settings.from_env({})
    assert (defaults.ws_max_per_address, defaults.legacy_ws) == (200, True)
    chosen = Settings.from_env(
        {"KIMGRAPH_WS_MAX_PER_ADDRESS": "3", "KIMGRAPH_LEGACY_WS": "0"}
    )
    assert (chosen.ws_max_per_address, chosen.legacy_ws) == (3, False)
    with pytest.raises(SettingsError, match="KIMGRAPH_WS_MAX_PER_ADDRESS must be"):
        Settings.from_env({"KIMGRAPH_WS_MAX_PER_ADDRESS": "0"})


@pytest.mark.parametrize(
    ("raw", "level"), [("DEBUG", "debug"), (" warning ", "warning")]
)
def test_log_levels_are_read_case_blind(raw: str, level: str) -> None:
    assert Settings.from_env({"KIMGRAPH_LOG_LEVEL": raw}).log_level == level


def test_an_unknown_log_level_is_refused_by_name() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_LOG_LEVEL": "trace"})
    assert str(refused.value) == (
        "KIMGRAPH_LOG_LEVEL must be one of critical, error, warning, info, debug, "
        "got 'trace'"
    )
