"""A database that does not answer while a request is admitted: 503, not a bug.

Authentication reads the database before any operation runs. When that read
fails because the database is gone (a connection terminated, the server
restarting, a pool that cannot reconnect), the request is answered HTTP 503
SERVICE_UNAVAILABLE with Retry-After, and a WebSocket's connection_init is
closed with 1013 (try again later): the client retries, a load balancer may
send it elsewhere (docs/http.md, "When the database does not answer"). One
warning line says so, with the error's type only (kimgraph.logs).
"""

from __future__ import annotations

import logging

from kimgraph.logs import describe, is_database_error

logger = logging.getLogger("kimgraph.outage")

MESSAGE = "The database did not answer; try again shortly"
RETRY_AFTER_SECONDS = 1
# RFC 6455's "Try Again Later": the board reconnects with its backoff.
CLOSE_TRY_AGAIN = 1013


class DatabaseUnavailableError(Exception):
    """The database failed while a request was being admitted (authenticated)."""


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_outage(error: BaseException) -> bool:
    """True if a driver, the ORM or the network to the database raised error."""
    return any(
        is_database_error(e) or isinstance(e, OSError | TimeoutError)
        for e in _chain(error)
    )


def unavailable(error: BaseException, during: str) -> DatabaseUnavailableError:
    """Log the outage once, by type; the error to raise in its place."""
    logger.warning("%s: the database did not answer (%s)", during, describe(error))
    return DatabaseUnavailableError(MESSAGE)
