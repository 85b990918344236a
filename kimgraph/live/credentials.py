"""Sockets whose token or API key expired or was revoked elsewhere get closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from kimgraph import models
from kimgraph.clock import Clock
from kimgraph.live.connections import ConnectionRegistry

logger = logging.getLogger("kimgraph.live.credentials")

EXPIRED = "token expired"
REVOKED = "credential revoked"
DEACTIVATED = "account deactivated"
# Ids per IN (...): well under SQLite's and PostgreSQL's parameter limits.
BATCH = 500

Credential = tuple[str, int]


async def unusable(
    clock: Clock, credentials: Iterable[Credential]
) -> dict[Credential, str]:
    """The credentials that may no longer be used, each with the reason.

    One query per kind (per BATCH credentials), outside any transaction. A row
    that is gone (deleting an account deletes its tokens) counts as revoked.
    """
    held = set(credentials)
    token_ids = sorted(number for kind, number in held if kind == "token")
    key_ids = sorted(number for kind, number in held if kind == "api_key")
    now = clock.now()
    found: dict[Credential, str] = {}
    for batch in _batches(token_ids):
        rows = await models.AccessToken.filter(id__in=batch).values_list(
            "id", "revoked_at", "account__is_active", "expires_at"
        )
        reasons = {row[0]: _token_problem(*row[1:], now=now) for row in rows}
        for token_id in batch:
            reason = reasons.get(token_id, REVOKED)
            if reason is not None:
                found["token", token_id] = reason
    for batch in _batches(key_ids):
        rows = await models.ApiKey.filter(id__in=batch, revoked_at=None).values_list(
            "id"
        )
        usable = {row[0] for row in rows}
        for key_id in batch:
            if key_id not in usable:
                found["api_key", key_id] = REVOKED
    return found


def _token_problem(
    revoked_at: datetime | None, is_active: bool, expires_at: datetime, *, now: datetime
) -> str | None:
    # Deactivation revokes the tokens too: name the cause the operator chose.
    if not is_active:
        return DEACTIVATED
    if revoked_at is not None:
        return REVOKED
    if expires_at <= now:
        return EXPIRED
    return None


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


class CredentialCheck:
    """Every interval, closes (4403) the sockets whose credential is no longer good.

    Revoking through this process (tokenRevoke) closes its sockets at once;
    this catches what that cannot: expiry, and revocation or deactivation by
    the CLI or another server process.
    """

    def __init__(
        self, clock: Clock, connections: ConnectionRegistry, *, interval: float
    ) -> None:
        self.clock = clock
        self.connections = connections
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kimgraph-credentials")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> int:
        """One check; how many sockets it closed. No query if no socket signed in."""
        held = self.connections.credentials()
        if not held:
            return 0
        # The queries are done (and no transaction open) before any socket closes.
        found = await unusable(self.clock, held)
        counts = await asyncio.gather(
            *(
                self.connections.close_all(credential, reason)
                for credential, reason in found.items()
            )
        )
        for (credential, reason), count in zip(found.items(), counts, strict=True):
            if count:
                logger.info(
                    "closed %d socket(s) of %s %d: %s", count, *credential, reason
                )
        return sum(counts)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down; try again next time
                logger.exception("credential check failed")
