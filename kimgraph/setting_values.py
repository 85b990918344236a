"""The KIMGRAPH_* values as Settings.from_env reads them: parsed and checked.

One function per kind of value (a positive whole number, a switch, an origin
list, a database or Redis URL, ...); each returns the value or raises
SettingsError with one line naming the variable and what it must look like.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://kimgraph.db"
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A KIMGRAPH_* variable holds a value that cannot be used."""


def secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret long enough that HKDF needs no stretching (docs/privacy.md)."""
    raw = env.get(name) or None
    if raw is not None and len(raw) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_LENGTH} characters, got "
            f"{len(raw)}; make one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`"
        )
    return raw


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
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


def non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw == "0":
        return 0
    return positive_int(env, name, default)


def positive_float(env: Mapping[str, str], name: str, default: float) -> float:
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


def feed_url(env: Mapping[str, str]) -> str | None:
    """KIMGRAPH_WARNINGS_FEED_URL: an http(s) URL of a CAP RSS index, or unset."""
    raw = env.get("KIMGRAPH_WARNINGS_FEED_URL") or None
    if raw is not None and urlsplit(raw).scheme not in ("http", "https"):
        raise SettingsError(
            "KIMGRAPH_WARNINGS_FEED_URL must be an http:// or https:// URL, "
            f"got {raw!r}"
        )
    return raw


# Tortoise's names for the drivers installed with KIMgraph (asyncpg).
_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


def database_url(env: Mapping[str, str]) -> str:
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


def redis_url(env: Mapping[str, str]) -> str | None:
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


def log_level(env: Mapping[str, str]) -> str:
    raw = env.get("KIMGRAPH_LOG_LEVEL") or "info"
    if raw.strip().lower() not in LOG_LEVELS:
        raise SettingsError(
            f"KIMGRAPH_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}"
        )
    return raw.strip().lower()


LOG_FORMATS = ("text", "json")  # kimgraph.logs.config


def log_format(env: Mapping[str, str]) -> str:
    raw = env.get("KIMGRAPH_LOG_FORMAT") or "text"
    if raw.strip().lower() not in LOG_FORMATS:
        raise SettingsError(f"KIMGRAPH_LOG_FORMAT must be text or json, got {raw!r}")
    return raw.strip().lower()


def switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return _SWITCH_VALUES[raw.strip().lower()]
    except KeyError:
        raise SettingsError(f"{name} must be 1 or 0 (on/off), got {raw!r}") from None


def allowed_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """KIMGRAPH_ALLOWED_ORIGINS as browsers send Origin: scheme://host[:port].

    The same list serves CORS on HTTP and the WebSocket origin check
    (docs/http.md); both compare it with the Origin header as a string, so an
    entry with a path or a trailing slash would silently never match.
    """
    raw = env.get("KIMGRAPH_ALLOWED_ORIGINS", "")
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    return tuple(dict.fromkeys(origin(entry) for entry in entries))


def origin(entry: str) -> str:
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
