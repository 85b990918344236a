"""Subscription events along a plan give exactly what graphql-core gives.

Every test runs the same subscription on two schemas built from the same
types: one executes events as graphql-core does, the other along the plan
(kimgraph.memory.EventExecutor, docs/performance.md "Replaying many events").
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import parse
from graphql.execution import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kimgraph.event_plan import plan_for
from kimgraph.memory import EventExecutor
from tests.kimgraph.live.ticks import Query


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


@dataclass
class Row:
    title: str
    tags: list[str]
    when: datetime
    note: str | None
    broken: bool = False


@strawberry.type
class Item:
    row: strawberry.Private[Row]
    number: int

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def tags(self) -> list[str]:
        return self.row.tags

    @strawberry.field
    def when(self) -> datetime:
        return self.row.when

    @strawberry.field
    def note(self) -> str | None:
        return self.row.note

    @strawberry.field
    def mood(self, info: strawberry.Info) -> Mood:
        mood: Mood = info.context["mood"]
        return mood

    @strawberry.field
    def shout(self, times: int) -> str:
        return self.row.title.upper() * times

    @strawberry.field
    def fragile(self) -> str:
        if self.row.broken:
            raise ValueError("this row is broken")
        return "fine"

    @strawberry.field
    def required(self) -> str:
        return None  # type: ignore[return-value]  # a bug graphql-core reports

    @strawberry.field
    async def later(self) -> str:
        return "later"


ROWS = [
    Row("one", ["a", "b"], datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None),
    Row("two", [], datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC), "note"),
    Row("three", ["c"], datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), None, broken=True),
    Row("four", ["d"], datetime(2026, 4, 5, 6, 7, 8, tzinfo=UTC), "x"),
]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, start: int = 0) -> AsyncGenerator[Item, None]:
        for number, row in enumerate(ROWS[start:], start):
            yield Item(row=row, number=number)


def _schema(execution_context_class: type[Any]) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        execution_context_class=execution_context_class,
    )


PLANNED = _schema(EventExecutor)
GRAPHQL_CORE = _schema(StrawberryGraphQLCoreExecutionContext)


async def _results(schema: strawberry.Schema, query: str) -> list[dict[str, Any]]:
    stream = await schema.subscribe(query, context_value={"mood": Mood.LOUD})
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    results = []
    async for result in stream:
        entry: dict[str, Any] = {"data": result.data}
        if result.errors:
            entry["errors"] = [error.formatted for error in result.errors]
        results.append(entry)
    return results


def _has_plan(query: str) -> bool:
    executor = Executor.build(PLANNED._schema, parse(query))
    assert isinstance(executor, Executor)
    return plan_for(executor) is not None


PLANNED_DOCUMENTS = [
    "subscription { items { number title } }",
    "subscription { items(start: 1) { n: number title tags when note mood __typename }"
    " }",
    "subscription S($t: Int!) { items { shout(times: $t) title } }",
]


@pytest.mark.parametrize("query", PLANNED_DOCUMENTS)
async def test_a_planned_document_gives_what_graphql_core_gives(query: str) -> None:
    # given: a document the plan covers
    query = query.replace("$t: Int!", "$t: Int! = 2")
    assert _has_plan(query)
    # when: both schemas run it
    planned = await _results(PLANNED, query)
    expected = await _results(GRAPHQL_CORE, query)
    # then: the same results, event by event
    assert planned == expected
    assert len(planned) >= 3


async def test_the_events_are_exactly_these() -> None:
    # given: the subscription with every kind of field the plan completes
    query = "subscription { items(start: 1) { n: number tags when note mood } }"
    # when: it runs along the plan
    planned = await _results(PLANNED, query)
    # then: each event's data, coerced as graphql-core coerces it
    assert planned == [
        {
            "data": {
                "items": {
                    "n": 1,
                    "tags": [],
                    "when": "2026-02-03T04:05:06+00:00",
                    "note": "note",
                    "mood": "LOUD",
                }
            }
        },
        {
            "data": {
                "items": {
                    "n": 2,
                    "tags": ["c"],
                    "when": "2026-03-04T05:06:07+00:00",
                    "note": None,
                    "mood": "LOUD",
                }
            }
        },
        {
            "data": {
                "items": {
                    "n": 3,
                    "tags": ["d"],
                    "when": "2026-04-05T06:07:08+00:00",
                    "note": "x",
                    "mood": "LOUD",
                }
            }
        },
    ]


async def test_an_event_whose_resolver_raises_is_reported_as_before() -> None:
    # given: a planned document whose third event raises in a resolver
    query = "subscription { items { number fragile } }"
    assert _has_plan(query)
    # when: both schemas run it
    planned = await _results(PLANNED, query)
    expected = await _results(GRAPHQL_CORE, query)
    # then: the same error at the same path, and the events around it intact
    assert planned == expected
    assert planned[2]["data"] is None
    assert planned[2]["errors"][0]["message"] == "this row is broken"
    assert planned[2]["errors"][0]["path"] == ["items", "fragile"]
    assert planned[3] == {"data": {"items": {"number": 3, "fragile": "fine"}}}


async def test_a_null_in_a_non_null_field_is_reported_as_before() -> None:
    # given: a planned document with a resolver that returns null for String!
    query = "subscription { items { number required } }"
    assert _has_plan(query)
    # when / then: each event is graphql-core's error, nothing else
    planned = await _results(PLANNED, query)
    assert planned == await _results(GRAPHQL_CORE, query)
    assert [r["data"] for r in planned] == [None] * len(ROWS)
    assert "Cannot return null for non-nullable field Item.required." in str(planned)


@pytest.mark.parametrize(
    "query",
    [
        "subscription { items { ...F } } fragment F on Item { number }",
        "subscription { items { number later } }",
        "subscription { items { number @include(if: true) } }",
        "subscription { items { number number } }",
    ],
)
async def test_what_the_plan_does_not_cover_runs_as_graphql_core_runs_it(
    query: str,
) -> None:
    # given: a fragment, an async resolver, a directive, a merged field
    assert not _has_plan(query)
    # when / then: the same results as graphql-core's own execution
    assert await _results(PLANNED, query) == await _results(GRAPHQL_CORE, query)


def test_the_plan_itself_resolves_an_event_and_refuses_an_unusual_one() -> None:
    # given: the plan of a subscription, and two of its events
    query = "subscription { items { number fragile mood } }"
    executor = EventExecutor.build(
        PLANNED._schema, parse(query), context_value={"mood": Mood.CALM}
    )
    assert isinstance(executor, EventExecutor)
    plan = plan_for(executor)
    assert plan is not None
    fine = executor.build_per_event_executor(Item(row=ROWS[0], number=0))
    broken = executor.build_per_event_executor(Item(row=ROWS[2], number=2))
    # when / then: the plan alone gives the event's data
    assert plan.run(fine) == {"items": {"number": 0, "fragile": "fine", "mood": "CALM"}}
    # and an event whose resolver raises is left to graphql-core
    with pytest.raises(ValueError, match="this row is broken"):
        plan.run(broken)
