"""Deliver each endpoint's events in order, one worker per endpoint, one process each.

Nothing here runs inside a publishing transaction: events are read from the
log after their commit, so a slow or dead receiver can delay only its own
endpoint. The position and the deliveries live in the database, so a restart
(or another process taking over the lease) resumes where delivery stopped
(docs/webhooks.md, "Ordering, retries, restarts").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta

import httpx
from strawberry.schema.base import BaseSchema
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from kimgraph import models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.clock import Clock
from kimgraph.context import Context
from kimgraph.cursors import encode_event_cursor
from kimgraph.events.bus import EventBus
from kimgraph.models import DeliveryStatus, WebhookStatus
from kimgraph.warnings.fetch import backoff
from kimgraph.webhooks import render, sending

logger = logging.getLogger("kimgraph.webhooks")

BATCH = 100
LEASE_SECONDS = 30.0
RETRY_WINDOW = timedelta(hours=24)
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0


def retry_delay(attempts: int) -> float:
    """Seconds to the next attempt: 30 s doubling to 1 h, full jitter, 30 s floor."""
    return max(RETRY_BASE_S, backoff(attempts - 1, base=RETRY_BASE_S, cap=RETRY_CAP_S))


def partner(key: models.ApiKey) -> Principal:
    """The principal the endpoint's events are rendered for: its API key."""
    return Principal(
        role=Role.PARTNER,
        region_code=key.region_id,
        display_name=key.name,
        api_key_id=key.id,
    )


class Dispatcher:
    """Takes the lease of every active endpoint it can and runs a worker for each."""

    def __init__(
        self,
        clock: Clock,
        schema: BaseSchema,
        template: Context,
        bus: EventBus,
        *,
        allow_local: bool = False,
        concurrency: int = 16,
        interval: float = 1.0,
    ) -> None:
        self.clock = clock
        self.schema = schema
        self.template = template
        self.bus = bus
        self.allow_local = allow_local
        self.interval = interval
        self.holder = secrets.token_hex(8)
        self.client: httpx.AsyncClient = sending.new_client()
        # Bounds the requests in flight, not the workers: a hanging receiver
        # holds one slot for at most the total timeout.
        self._slots = asyncio.Semaphore(concurrency)
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._grew = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="kimgraph-webhooks"),
            asyncio.create_task(self._doorbells(), name="kimgraph-webhooks-bell"),
        ]

    async def close(self) -> None:
        """Stop every worker and give up the leases, so a successor starts at once."""
        tasks = [*self._tasks, *self._workers.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):  # the database may be gone already
            await models.WebhookEndpoint.filter(holder=self.holder).update(
                holder="", lease_until=self.clock.now()
            )
        await self.client.aclose()

    async def _doorbells(self) -> None:
        # Any doorbell (this process's or another's) may mean new events.
        async for _ in self.bus.listen():
            self._grew.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed round is retried next interval
                logger.exception("webhook round failed")
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        """Start a worker for each active endpoint whose lease this process takes."""
        now = self.clock.now()
        free = await models.WebhookEndpoint.filter(
            Q(holder=self.holder) | Q(lease_until__lte=now), status=WebhookStatus.ACTIVE
        )
        for endpoint in free:
            if endpoint.id in self._workers or not await self._lease(endpoint.id):
                continue
            self._workers[endpoint.id] = asyncio.create_task(
                self._work(endpoint.id), name=f"kimgraph-webhook-{endpoint.id}"
            )

    async def _lease(self, endpoint_id: int) -> bool:
        """Take or renew the endpoint's lease; False while another process holds it."""
        now = self.clock.now()
        until = now + timedelta(seconds=LEASE_SECONDS)
        taken = await models.WebhookEndpoint.filter(
            Q(holder=self.holder) | Q(lease_until__lte=now),
            id=endpoint_id,
            status=WebhookStatus.ACTIVE,
        ).update(holder=self.holder, lease_until=until)
        return bool(taken)

    async def _work(self, endpoint_id: int) -> None:
        try:
            while await self._lease(endpoint_id):
                await self._step(endpoint_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next tick starts a new worker
            logger.exception("webhook worker %d failed", endpoint_id)
        finally:
            self._workers.pop(endpoint_id, None)

    async def _step(self, endpoint_id: int) -> None:
        """One thing for one endpoint: an attempt, a wait, or new deliveries."""
        endpoint = await models.WebhookEndpoint.get_or_none(id=endpoint_id)
        if endpoint is None:
            return  # deleted: the lease is gone with it, and the worker ends
        head = (
            await models.WebhookDelivery.filter(
                endpoint_id=endpoint_id, status=DeliveryStatus.PENDING
            )
            .order_by("event_id")
            .first()
        )
        if head is None:
            self._grew.clear()
            if not await self._enqueue(endpoint):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._grew.wait()
            return
        wait = (head.next_attempt_at - self.clock.now()).total_seconds()
        if wait > 0:
            await asyncio.sleep(min(wait, self.interval))
            return
        async with self._slots:
            if not await self._lease(endpoint_id):
                return
            outcome = await sending.attempt(
                self.client,
                endpoint.url,
                endpoint.secret,
                encode_event_cursor(head.event_id),
                head.body.encode(),
                int(self.clock.now().timestamp()),
                self.allow_local,
            )
        await self._record(endpoint, head, outcome)

    async def _enqueue(self, endpoint: models.WebhookEndpoint) -> bool:
        """Turn the events after the endpoint's position into deliveries."""
        key = await models.ApiKey.get(id=endpoint.api_key_id)
        if key.revoked_at is not None:
            return False  # a revoked key is told nothing more
        streams: tuple[str, ...] = (render.ASPIRATION,)
        if endpoint.announcements:
            streams = (render.ASPIRATION, render.ANNOUNCEMENT)
        try:
            rendered = await render.render(
                self.schema,
                self.template,
                partner(key),
                streams,
                endpoint.position,
                BATCH,
            )
        except render.RenderError as error:
            if error.code != "CURSOR_EXPIRED":
                raise
            # Retention removed events never delivered: skip to what is kept.
            state = await models.EventLogState.get(id=1)
            logger.warning(
                "webhook %d: events up to %d expired before delivery",
                endpoint.id,
                state.pruned_through,
            )
            rendered = render.Rendered([], state.pruned_through)
        if rendered.through <= endpoint.position:
            return False
        now = self.clock.now()
        async with in_transaction() as conn:
            moved = (
                await models.WebhookEndpoint.filter(
                    id=endpoint.id, position=endpoint.position, holder=self.holder
                )
                .using_db(conn)
                .update(position=rendered.through)
            )
            if moved and rendered.items:
                await models.WebhookDelivery.bulk_create(
                    [
                        models.WebhookDelivery(
                            endpoint_id=endpoint.id,
                            event_id=item.event_id,
                            stream=item.stream,
                            body=item.body,
                            status=DeliveryStatus.PENDING,
                            created_at=now,
                            next_attempt_at=now,
                        )
                        for item in rendered.items
                    ],
                    using_db=conn,
                )
        return bool(moved)

    async def _record(
        self,
        endpoint: models.WebhookEndpoint,
        head: models.WebhookDelivery,
        outcome: sending.Outcome,
    ) -> None:
        now = self.clock.now()
        first = head.first_attempt_at or now
        changes: dict[str, object] = {
            "attempts": head.attempts + 1,
            "first_attempt_at": first,
            "last_attempt_at": now,
            "last_result": outcome.result[:300],
        }
        if outcome.ok:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
        elif now - first >= RETRY_WINDOW:
            changes.update(status=DeliveryStatus.FAILED)
        else:
            delay = timedelta(seconds=retry_delay(head.attempts + 1))
            changes.update(next_attempt_at=now + delay)
        async with in_transaction() as conn:
            await (
                models.WebhookDelivery.filter(id=head.id, status=DeliveryStatus.PENDING)
                .using_db(conn)
                .update(**changes)
            )
            if changes.get("status") is DeliveryStatus.FAILED:
                # In order means the later events wait: the endpoint stops
                # here until an ADMIN enables it again.
                await (
                    models.WebhookEndpoint.filter(
                        id=endpoint.id, status=WebhookStatus.ACTIVE
                    )
                    .using_db(conn)
                    .update(status=WebhookStatus.SUSPENDED)
                )
                logger.warning(
                    "webhook %d suspended: event %d failed for %s (%s)",
                    endpoint.id,
                    head.event_id,
                    RETRY_WINDOW,
                    outcome.result,
                )
