"""Environment → one frozen Settings object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TypeVar
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://kimgraph.db"
# Every setting is read from PREFIX + its field name in capitals (variable_name).
PREFIX = "KIMGRAPH_"
T = TypeVar("T")


class SettingsError(ValueError):
    """A KIMGRAPH_* variable holds a value that cannot be used."""


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
    # Reporters' personal data at rest (docs/privacy.md).
    secret_key: str | None = setting(
        None, "encrypts reporter names and contacts (32+ characters); keep it safe"
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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the KIMGRAPH_* variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=_database_url(env),
            redis_url=_redis_url(env),
            secret_key=_secret(env, "KIMGRAPH_SECRET_KEY"),
            secret_key_previous=_secret(env, "KIMGRAPH_SECRET_KEY_PREVIOUS"),
            pii_retention_days=_positive_int(env, "KIMGRAPH_PII_RETENTION_DAYS", 365),
            event_retention_days=_positive_int(
                env, "KIMGRAPH_EVENT_RETENTION_DAYS", 30
            ),
            max_body_bytes=_positive_int(env, "KIMGRAPH_MAX_BODY_BYTES", 1_048_576),
            ws_max_bytes=_positive_int(env, "KIMGRAPH_WS_MAX_BYTES", 1_048_576),
            max_query_depth=_positive_int(env, "KIMGRAPH_MAX_QUERY_DEPTH", 12),
            max_query_cost=_positive_int(env, "KIMGRAPH_MAX_QUERY_COST", 50_000),
            max_batch=_positive_int(env, "KIMGRAPH_MAX_BATCH", 10),
            allowed_origins=_allowed_origins(env),
            graphiql=_switch(env, "KIMGRAPH_GRAPHIQL", True),
            log_level=_log_level(env),
            log_format=_log_format(env),
            ws_ping_seconds=_positive_float(env, "KIMGRAPH_WS_PING_SECONDS", 15.0),
            timer_interval_seconds=_positive_float(
                env, "KIMGRAPH_TIMER_INTERVAL_SECONDS", 1.0
            ),
            event_poll_seconds=_positive_float(env, "KIMGRAPH_EVENT_POLL_SECONDS", 2.0),
            subscriber_queue_size=_positive_int(
                env, "KIMGRAPH_SUBSCRIBER_QUEUE_SIZE", 256
            ),
            credential_check_seconds=_positive_float(
                env, "KIMGRAPH_CREDENTIAL_CHECK_SECONDS", 30.0
            ),
            ws_max_per_address=_positive_int(env, "KIMGRAPH_WS_MAX_PER_ADDRESS", 200),
            board_heartbeat_seconds=_positive_float(
                env, "KIMGRAPH_BOARD_HEARTBEAT_SECONDS", 10.0
            ),
            legacy_ws=_switch(env, "KIMGRAPH_LEGACY_WS", True),
            query_timeout_seconds=_positive_float(
                env, "KIMGRAPH_QUERY_TIMEOUT_SECONDS", 10.0
            ),
            shutdown_timeout_seconds=_positive_int(
                env, "KIMGRAPH_SHUTDOWN_TIMEOUT_SECONDS", 10
            ),
            read_cache_bytes=_non_negative_int(
                env, "KIMGRAPH_READ_CACHE_BYTES", 32 * 1024 * 1024
            ),
            warnings_feed_url=_feed_url(env),
            warnings_poll_seconds=_positive_float(
                env, "KIMGRAPH_WARNINGS_POLL_SECONDS", 60.0
            ),
            warnings_kabupaten=env.get("KIMGRAPH_WARNINGS_KABUPATEN") or None,
            warnings_aliases=env.get("KIMGRAPH_WARNINGS_ALIASES") or None,
            webhooks_allow_http=_switch(env, "KIMGRAPH_WEBHOOKS_ALLOW_HTTP", False),
            webhooks_concurrency=_positive_int(
                env, "KIMGRAPH_WEBHOOKS_CONCURRENCY", 16
            ),
        )


MIN_SECRET_LENGTH = 32


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret long enough that HKDF needs no stretching (docs/privacy.md)."""
    raw = env.get(name) or None
    if raw is not None and len(raw) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_LENGTH} characters, got "
            f"{len(raw)}; make one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`"
        )
    return raw


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw == "0":
        return 0
    return _positive_int(env, name, default)


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _feed_url(env: Mapping[str, str]) -> str | None:
    """KIMGRAPH_WARNINGS_FEED_URL: an http(s) URL of a CAP RSS index, or unset."""
    raw = env.get("KIMGRAPH_WARNINGS_FEED_URL") or None
    if raw is not None and urlsplit(raw).scheme not in ("http", "https"):
        raise SettingsError(
            "KIMGRAPH_WARNINGS_FEED_URL must be an http:// or https:// URL, "
            f"got {raw!r}"
        )
    return raw


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


# Tortoise's names for the drivers installed with KIMgraph (asyncpg).
_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


def _database_url(env: Mapping[str, str]) -> str:
    """KIMGRAPH_DATABASE_URL checked for shape; whether it answers is seen later."""
    raw = env.get("KIMGRAPH_DATABASE_URL") or DEFAULT_DATABASE_URL
    # The URL may hold a password: messages name the fault, never echo the URL.
    shape = (
        "KIMGRAPH_DATABASE_URL must look like sqlite://FILE or "
        "postgres://user:pass@host:5432/db"
    )
    parts = urlsplit(raw)
    if parts.scheme not in _DATABASE_SCHEMES:
        got = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise SettingsError(f"{shape}; got {got}")
    if parts.scheme == "sqlite":
        if not (parts.netloc or parts.path):
            raise SettingsError(f"{shape}; got no file")
        return raw
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked)
    except ValueError:
        raise SettingsError(f"{shape}; its port is not a number up to 65535") from None
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    """KIMGRAPH_REDIS_URL checked for shape; whether Redis answers is seen later."""
    raw = env.get("KIMGRAPH_REDIS_URL") or None
    if raw is None:
        return None
    # The URL may hold a password: messages name the fault, never echo the URL.
    shape = (
        "KIMGRAPH_REDIS_URL must look like redis://host:6379/0, "
        "rediss://host:6379/0 or unix:///path/to/redis.sock"
    )
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss", "unix"):
        got = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise SettingsError(f"{shape}; got {got}")
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError(f"{shape}; got no socket path")
        return raw
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked)
    except ValueError:
        raise SettingsError(f"{shape}; its port is not a number up to 65535") from None
    if not parts.hostname:
        raise SettingsError(f"{shape}; got no host")
    database = parts.path.removeprefix("/")
    if database and not database.isdigit():
        raise SettingsError(f"{shape}; the database after the host must be a number")
    from redis.asyncio.connection import parse_url  # only when Redis is configured

    try:
        parse_url(raw)  # its query options (?socket_timeout=...)
    except ValueError as exc:
        raise SettingsError(f"KIMGRAPH_REDIS_URL: {exc}") from None
    return raw


_SWITCH_VALUES = {
    "1": True,
    "true": True,
    "on": True,
    "yes": True,
    "0": False,
    "false": False,
    "off": False,
    "no": False,
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _log_level(env: Mapping[str, str]) -> str:
    raw = env.get("KIMGRAPH_LOG_LEVEL") or "info"
    if raw.strip().lower() not in LOG_LEVELS:
        raise SettingsError(
            f"KIMGRAPH_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}"
        )
    return raw.strip().lower()


LOG_FORMATS = ("text", "json")  # kimgraph.logs.config


def _log_format(env: Mapping[str, str]) -> str:
    raw = env.get("KIMGRAPH_LOG_FORMAT") or "text"
    if raw.strip().lower() not in LOG_FORMATS:
        raise SettingsError(f"KIMGRAPH_LOG_FORMAT must be text or json, got {raw!r}")
    return raw.strip().lower()


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return _SWITCH_VALUES[raw.strip().lower()]
    except KeyError:
        raise SettingsError(f"{name} must be 1 or 0 (on/off), got {raw!r}") from None


def _allowed_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """KIMGRAPH_ALLOWED_ORIGINS as browsers send Origin: scheme://host[:port].

    The same list serves CORS on HTTP and the WebSocket origin check
    (docs/http.md); both compare it with the Origin header as a string, so an
    entry with a path or a trailing slash would silently never match.
    """
    raw = env.get("KIMGRAPH_ALLOWED_ORIGINS", "")
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    return tuple(dict.fromkeys(_origin(entry) for entry in entries))


def _origin(entry: str) -> str:
    """One origin, lower-cased and without its scheme's default port."""

    def refused(fault: str) -> SettingsError:
        shown = "an entry with a user name" if "@" in entry else repr(entry)
        return SettingsError(
            f"KIMGRAPH_ALLOWED_ORIGINS: {shown} is not an origin like "
            f"https://app.example.id or http://localhost:5173 ({fault})"
        )

    if entry == "*":
        raise refused("list each origin; * is not accepted")
    parts = urlsplit(entry)
    scheme = parts.scheme.lower()
    if "://" not in entry or not scheme:
        raise refused("no scheme")
    if scheme not in _DEFAULT_PORTS:
        raise refused(f"scheme {scheme!r}; http or https")
    if parts.username is not None or parts.password is not None:
        raise refused("it holds a user name")
    if parts.path == "/":
        raise refused("a trailing slash")
    if parts.path or parts.query or parts.fragment or entry.endswith(("?", "#")):
        raise refused("a path")
    try:
        port = parts.port
    except ValueError:
        raise refused("its port is not a number up to 65535") from None
    if not parts.hostname:
        raise refused("no host")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"
