"""Redis as a store of shared state (rate limits, persisted queries), and its outages.

Both stores fall back to this process's own state while Redis is away, log one
warning per outage, and ask Redis again after `retry_seconds`: a request never
fails because Redis is down (docs/domain.md, "Limits"; docs/http.md).
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

# Redis answers in microseconds; one slower than this is treated as away.
COMMAND_TIMEOUT_S = 1.0
RETRY_SECONDS = 10.0
# What a command to an absent, frozen or refusing Redis raises.
ERRORS = (RedisError, OSError)


def client(url: str, timeout_s: float = COMMAND_TIMEOUT_S) -> Redis:
    """A client that gives up on a command after timeout_s, never retrying."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )


class Outage:
    """Whether Redis is away, and until when it is not asked again.

    `now` is the caller's clock in seconds (an injected clock in the limits,
    the monotonic clock elsewhere).
    """

    def __init__(
        self,
        logger: logging.Logger,
        away_message: str,
        back_message: str,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.logger = logger
        self.away_message = away_message
        self.back_message = back_message
        self.retry_seconds = retry_seconds
        self.until: float | None = None

    @property
    def away(self) -> bool:
        """True while Redis failed last and the fallback counts instead."""
        return self.until is not None

    def skipping(self, now: float) -> bool:
        """True while Redis is not to be asked (it failed less than a retry ago)."""
        return self.until is not None and now < self.until

    def went_away(self, now: float, error: BaseException) -> None:
        if self.until is None:
            self.logger.warning(
                "%s: %s", self.away_message, str(error) or type(error).__name__
            )
        self.until = now + self.retry_seconds

    def came_back(self) -> None:
        if self.until is not None:
            self.logger.info("%s", self.back_message)
            self.until = None
