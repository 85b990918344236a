"""Each subscription event runs with loaders of its own, shared by its fields."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from kimgraph.context import Context
from kimgraph.loaders import Loaders, PerEventLoaders
from kimgraph.settings import Settings

SEEN: list[Loaders] = []


@strawberry.type
class Event:
    n: int

    @strawberry.field
    def first(self, info: strawberry.Info[Context, None]) -> int:
        SEEN.append(info.context.loaders)
        return self.n

    @strawberry.field
    def second(self, info: strawberry.Info[Context, None]) -> int:
        SEEN.append(info.context.loaders)
        return self.n


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self) -> AsyncGenerator[Event, None]:
        for n in range(3):
            yield Event(n=n)


SCHEMA = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=PerEventLoaders
)


async def test_each_event_gets_a_new_set_shared_by_its_fields() -> None:
    # given: a subscription's Context, with the set its operation started with
    context = Context(settings=Settings())
    started_with = context.loaders
    SEEN.clear()
    # when: three events are executed
    results = await SCHEMA.subscribe(
        "subscription { events { first second } }", context_value=context
    )
    data = [result.data async for result in results]
    # then: both fields of an event read one set, each event a set of its own
    assert data == [{"events": {"first": n, "second": n}} for n in range(3)]
    assert len(SEEN) == 6
    per_event = [SEEN[i] for i in (0, 2, 4)]
    assert [SEEN[i] is SEEN[i + 1] for i in (0, 2, 4)] == [True] * 3
    assert len({id(loaders) for loaders in per_event}) == 3
    assert started_with not in per_event
