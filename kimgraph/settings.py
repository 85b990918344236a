"""Environment → one frozen Settings object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TypeVar

from kimgraph import setting_values as values
from kimgraph.setting_values import DEFAULT_DATABASE_URL

# Every setting is read from PREFIX + its field name in capitals (variable_name).
PREFIX = "KIMGRAPH_"
T = TypeVar("T")


def setting(default: T, about: str) -> T:
    """A Settings field's default and its one line in `kimgraph serve --help`."""
    made: T = field(default=default, metadata={"help": about})
    return made


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment."""

    database_url: str = setting(
        DEFAULT_DATABASE_URL, "sqlite://FILE or postgres://user:pass@host:5432/db"
    )
    redis_url: str | None = setting(
        None, "redis://host:6379/0: event bus and rate limits shared by processes"
    )
    # Reporters' personal data and webhook secrets at rest (docs/privacy.md).
    secret_key: str | None = setting(
        None,
        "encrypts reporter names and contacts and webhook secrets (32+ characters); "
        "keep it safe",
    )
    secret_key_previous: str | None = setting(
        None, "the replaced secret, read during `kimgraph pii rotate-key`"
    )
    pii_retention_days: int = setting(
        365, "days after closing that a reporter's name and contact are erased"
    )
    event_retention_days: int = setting(30, "days the event log keeps events")
    max_body_bytes: int = setting(1_048_576, "larger request bodies get HTTP 413")
    ws_max_bytes: int = setting(
        1_048_576, "larger WebSocket messages close the socket (1009)"
    )
    max_query_depth: int = setting(12, "deeper queries get QUERY_TOO_COMPLEX")
    max_query_cost: int = setting(
        50_000, "most objects an operation may return, counted before it runs"
    )
    max_batch: int = setting(10, "most operations in one batched request")
    allowed_origins: tuple[str, ...] = setting(
        (), "comma-separated browser origins allowed to call /graphql (CORS)"
    )
    graphiql: bool = setting(True, "0 turns the GraphiQL page off")
    log_level: str = setting("info", "critical, error, warning, info or debug")
    log_format: str = setting(
        "text", "text, or json: every log line one JSON object, for log shippers"
    )
    ws_ping_seconds: float = setting(15.0, "server ping interval on WebSockets")
    timer_interval_seconds: float = setting(
        1.0, "how often scheduled publication and expiry are checked"
    )
    event_poll_seconds: float = setting(
        2.0, "how often the event log is polled besides the bus"
    )
    subscriber_queue_size: int = setting(256, "events a WebSocket may have waiting")
    credential_check_seconds: float = setting(
        30.0, "how often open WebSockets' credentials are checked"
    )
    ws_max_per_address: int = setting(
        200, "open WebSockets one client address may hold"
    )
    board_heartbeat_seconds: float = setting(
        10.0, "how often a process records its boards' presence (docs/presence.md)"
    )
    legacy_ws: bool = setting(True, "0 turns the legacy graphql-ws protocol off")
    query_timeout_seconds: float = setting(
        10.0, "a query or mutation running longer is cancelled (QUERY_TIMEOUT)"
    )
    shutdown_timeout_seconds: int = setting(
        10, "on SIGTERM, how long open requests get before the process exits"
    )
    read_cache_bytes: int = setting(
        32 * 1024 * 1024, "bytes of public query answers kept (0: no read cache)"
    )
    # BMKG early warnings (docs/warnings.md): no feed URL, no poller.
    warnings_feed_url: str | None = setting(
        None, "BMKG's CAP RSS index; when set, serve polls it for early warnings"
    )
    warnings_poll_seconds: float = setting(60.0, "time between polls of the feed")
    warnings_kabupaten: str | None = setting(
        None, "kabupaten the warnings are matched to; unset, the only one imported"
    )
    warnings_aliases: str | None = setting(
        None, "CSV file of `spelling,region code` lines for BMKG's other spellings"
    )
    webhooks_allow_http: bool = setting(
        False, "1 lets webhooks use http:// and loopback or private addresses"
    )
    webhooks_concurrency: int = setting(16, "most webhook requests in flight")
    reporter_key_retry_seconds: float = setting(
        300.0, "after 5 wrong reporter keys for a ticket, seconds until one more try"
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the KIMGRAPH_* variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=values.database_url(env),
            redis_url=values.redis_url(env),
            secret_key=values.secret(env, "KIMGRAPH_SECRET_KEY"),
            secret_key_previous=values.secret(env, "KIMGRAPH_SECRET_KEY_PREVIOUS"),
            pii_retention_days=values.positive_int(
                env, "KIMGRAPH_PII_RETENTION_DAYS", 365
            ),
            event_retention_days=values.positive_int(
                env, "KIMGRAPH_EVENT_RETENTION_DAYS", 30
            ),
            max_body_bytes=values.positive_int(
                env, "KIMGRAPH_MAX_BODY_BYTES", 1_048_576
            ),
            ws_max_bytes=values.positive_int(env, "KIMGRAPH_WS_MAX_BYTES", 1_048_576),
            max_query_depth=values.positive_int(env, "KIMGRAPH_MAX_QUERY_DEPTH", 12),
            max_query_cost=values.positive_int(env, "KIMGRAPH_MAX_QUERY_COST", 50_000),
            max_batch=values.positive_int(env, "KIMGRAPH_MAX_BATCH", 10),
            allowed_origins=values.allowed_origins(env),
            graphiql=values.switch(env, "KIMGRAPH_GRAPHIQL", True),
            log_level=values.log_level(env),
            log_format=values.log_format(env),
            ws_ping_seconds=values.positive_float(
                env, "KIMGRAPH_WS_PING_SECONDS", 15.0
            ),
            timer_interval_seconds=values.positive_float(
                env, "KIMGRAPH_TIMER_INTERVAL_SECONDS", 1.0
            ),
            event_poll_seconds=values.positive_float(
                env, "KIMGRAPH_EVENT_POLL_SECONDS", 2.0
            ),
            subscriber_queue_size=values.positive_int(
                env, "KIMGRAPH_SUBSCRIBER_QUEUE_SIZE", 256
            ),
            credential_check_seconds=values.positive_float(
                env, "KIMGRAPH_CREDENTIAL_CHECK_SECONDS", 30.0
            ),
            ws_max_per_address=values.positive_int(
                env, "KIMGRAPH_WS_MAX_PER_ADDRESS", 200
            ),
            board_heartbeat_seconds=values.positive_float(
                env, "KIMGRAPH_BOARD_HEARTBEAT_SECONDS", 10.0
            ),
            legacy_ws=values.switch(env, "KIMGRAPH_LEGACY_WS", True),
            query_timeout_seconds=values.positive_float(
                env, "KIMGRAPH_QUERY_TIMEOUT_SECONDS", 10.0
            ),
            shutdown_timeout_seconds=values.positive_int(
                env, "KIMGRAPH_SHUTDOWN_TIMEOUT_SECONDS", 10
            ),
            read_cache_bytes=values.non_negative_int(
                env, "KIMGRAPH_READ_CACHE_BYTES", 32 * 1024 * 1024
            ),
            warnings_feed_url=values.feed_url(env),
            warnings_poll_seconds=values.positive_float(
                env, "KIMGRAPH_WARNINGS_POLL_SECONDS", 60.0
            ),
            warnings_kabupaten=env.get("KIMGRAPH_WARNINGS_KABUPATEN") or None,
            warnings_aliases=env.get("KIMGRAPH_WARNINGS_ALIASES") or None,
            webhooks_allow_http=values.switch(
                env, "KIMGRAPH_WEBHOOKS_ALLOW_HTTP", False
            ),
            webhooks_concurrency=values.positive_int(
                env, "KIMGRAPH_WEBHOOKS_CONCURRENCY", 16
            ),
            reporter_key_retry_seconds=values.positive_float(
                env, "KIMGRAPH_REPORTER_KEY_RETRY_SECONDS", 300.0
            ),
        )


def variable_name(setting_name: str) -> str:
    """The environment variable of a Settings field: KIMGRAPH_DATABASE_URL."""
    return PREFIX + setting_name.upper()


def variable_names() -> list[str]:
    """Every variable Settings.from_env reads, in definition order."""
    return [variable_name(f.name) for f in fields(Settings)]


def described() -> list[tuple[str, str, str]]:
    """(variable, default as an operator writes it, help) of every setting."""
    return [
        (variable_name(f.name), shown_default(f.default), f.metadata.get("help", ""))
        for f in fields(Settings)
    ]


def shown_default(value: object) -> str:
    """A default as it would be written in the environment: 1, 15, unset."""
    if value is None:
        return "unset"
    if value == ():
        return "empty"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
