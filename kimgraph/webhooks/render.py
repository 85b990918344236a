"""Webhook bodies made by the subscriptions themselves, as the partner key sees them.

The body's `event` is what `aspirationEvents` (or `announcementEvents`) sends
to a subscriber holding the endpoint's API key: the same resolvers run, with
the same scope and the same personal-data rule, so a webhook can never show
more than the key's own subscription would (docs/webhooks.md, "Payload").
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from kimgraph.accounts.principals import Principal
from kimgraph.context import Context
from kimgraph.cursors import encode_event_cursor
from kimgraph.events import log
from kimgraph.live.runs import ReplayOnly

ASPIRATION = "aspiration"
ANNOUNCEMENT = "announcement"

_ASPIRATION_FIELDS = """
  cursor kind occurredAt from to note
  aspiration {
    id ticket title description contentWithheld category status version
    visibility hidden assignedUnit dueAt overdue reporterName reporterContact
    createdAt updatedAt
    region { code name level }
    kim { id name }
    duplicateOf { id ticket }
    history { from to note publicNote assignedUnit actorName at }
    responses { message public authorName at }
  }
"""
_ANNOUNCEMENT_FIELDS = """
  cursor kind occurredAt
  announcement {
    id title body category priority status publishedBy validFrom validUntil
    withdrawnAt withdrawReason revision createdAt updatedAt
    targets { code name level }
    kim { id name }
  }
"""
DOCUMENTS = {
    ASPIRATION: "subscription Webhook($after: String) { "
    f"aspirationEvents(after: $after) {{ {_ASPIRATION_FIELDS} }} }}",
    ANNOUNCEMENT: "subscription Webhook($after: String, $region: String!) { "
    "announcementEvents(after: $after, region: $region, includeDescendants: true) "
    f"{{ {_ANNOUNCEMENT_FIELDS} }} }}",
}
_ROOTS = {ASPIRATION: "aspirationEvents", ANNOUNCEMENT: "announcementEvents"}


class RenderError(Exception):
    """The subscription answered with an error (its code first)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class Item:
    """One event as the endpoint receives it."""

    event_id: int
    stream: str
    body: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """The bodies of the events after a position, and the position read through."""

    items: list[Item]
    through: int


def body(event_id: int, stream: str, event: Any) -> str:
    """The JSON POSTed: the event id (for idempotency), its stream, the event."""
    document = {
        "eventId": encode_event_cursor(event_id),
        "stream": stream,
        "event": event,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


async def render(
    schema: BaseSchema,
    template: Context,
    principal: Principal,
    streams: tuple[str, ...],
    after_id: int,
    limit: int,
) -> Rendered:
    """Up to `limit` events per stream after after_id, merged in event order."""
    # A stream read to its end has seen every event committed before the read
    # began (ids are in commit order), whichever stream they belong to.
    top = await log.position()
    results = [
        await _render_stream(schema, template, principal, s, after_id, limit, top)
        for s in streams
    ]
    # Each stream has been read through its own position: only what lies
    # below all of them is complete, so events keep their global order.
    through = min(r.through for r in results)
    items = sorted(
        (i for r in results for i in r.items if i.event_id <= through),
        key=lambda i: i.event_id,
    )
    return Rendered(items, through)


async def _render_stream(
    schema: BaseSchema,
    template: Context,
    principal: Principal,
    stream: str,
    after_id: int,
    limit: int,
    top: int,
) -> Rendered:
    replayed: list[int] = []
    current: list[int] = []
    context = dataclasses.replace(
        template,
        principal=principal,
        request=None,
        stream_run=ReplayOnly(replayed.append, current.append),
    )
    variables: dict[str, Any] = {"after": encode_event_cursor(after_id)}
    if stream == ANNOUNCEMENT:
        variables["region"] = principal.region_code
    items: list[Item] = []
    source = await schema.stream(
        DOCUMENTS[stream], variable_values=variables, context_value=context
    )
    if isinstance(source, ExecutionResult):
        _raise_errors(source)
        return Rendered(items, after_id)
    async with contextlib.aclosing(source):
        async for result in source:
            _raise_errors(result)
            if not isinstance(result, ExecutionResult) or result.data is None:
                raise RenderError("INTERNAL", "the subscription sent no data")
            items.append(
                Item(
                    current[-1],
                    stream,
                    body(current[-1], stream, result.data[_ROOTS[stream]]),
                )
            )
            if len(items) >= limit:
                return Rendered(items, items[-1].event_id)
    return Rendered(items, max(replayed[-1], top) if replayed else after_id)


def _raise_errors(result: Any) -> None:
    errors = getattr(result, "errors", None)
    if errors:
        first = errors[0]
        code = str((first.extensions or {}).get("code", "INTERNAL"))
        raise RenderError(code, first.message)
