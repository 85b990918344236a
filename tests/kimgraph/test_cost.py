"""The cost of an operation, on a small schema: lists, pages, fragments, variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, parse

from kimgraph.cost import (
    PAGE,
    Bound,
    CostModel,
    OperationCosts,
    operation_cost,
    unbounded_lists,
)

SCHEMA = build_schema("""
interface Place { name: String! neighbours: [Place!]! }
type Town implements Place {
  name: String!
  neighbours: [Place!]!
  streets: [Street!]!
  mayor: Person
}
type Village implements Place { name: String! neighbours: [Place!]! }
type Person { name: String! }
type Street {
  name: String!
  numbers: [Int!]!
  houses(first: Int = 20, after: String): HouseConnection!
}
type HouseConnection { edges: [HouseEdge!]! total: Int! }
type HouseEdge { cursor: String! node: House! }
type House { number: Int! }
type Query { town: Town place: Place }
""")
BOUNDS: dict[str, Bound] = {
    "Place.neighbours": 5,
    "Town.streets": 10,
    "HouseConnection.edges": PAGE,
}
MODEL = CostModel(BOUNDS, default_page=20, max_page=100)

HOUSES_OF_EVERY_STREET = """
query ($n: Int, $after: String) {
  town { streets { houses(first: $n, after: $after) { edges { node { number } } } } }
}
"""
HOUSES_WITH_A_DEFAULT = """
query ($n: Int = 5) {
  town { streets { houses(first: $n) { edges { node { number } } } } }
}
"""


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return operation_cost(SCHEMA, parse(query), MODEL, None, variables)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # an object costs 1, a scalar nothing, a list of scalars nothing more
        ("{ town { name } }", 1),
        ("{ town { streets { name numbers } } }", 1 + 10),
        ("{ town { mayor { name } } }", 1 + 1),
        # nested lists multiply: 10 streets, each with a connection of 3 edges
        (
            "{ town { streets { houses(first: 3) { edges { node { number } } } } } }",
            1 + 10 * (1 + 1 * (1 + 3 * (1 + 1))),
        ),
        # without `first` a page is the default 20; above the maximum, 100
        (
            "{ town { streets { houses { edges { cursor } } } } }",
            1 + 10 * (1 + 1 + 20),
        ),
        (
            "{ town { streets { houses(first: 1000) { total } } } }",
            1 + 10 * (1 + 1),
        ),
        (
            "{ town { streets { houses(first: 1000) { edges { cursor } } } } }",
            1 + 10 * (1 + 1 + 100),
        ),
        (
            "{ town { streets { houses(first: null) { edges { cursor } } } } }",
            1 + 10 * (1 + 1 + 20),
        ),
        # aliases count separately; the same field twice is one field
        ("{ a: town { streets { name } } b: town { streets { name } } }", 2 * 11),
        ("{ town { streets { name } } town { streets { numbers } } }", 11),
        # on an interface, the dearest type that the selection can meet
        ("{ place { name ... on Town { streets { name } } } }", 1 + 10),
        ("{ place { ... on Village { neighbours { name } } } }", 1 + 5),
        (
            "{ place { neighbours { neighbours { neighbours { name } } } } }",
            1 + 5 * (1 + 5 * (1 + 5)),
        ),
        # named fragments, on the type itself or on its interface
        (
            "fragment S on Town { streets { name } } { town { ...S } place { ...S } }",
            (1 + 10) * 2,
        ),
        (
            "fragment N on Place { neighbours { name } } "
            "{ town { ...N streets { name } } }",
            1 + 5 + 10,
        ),
        # fields under @skip count anyway; introspection is free
        ("{ town { streets @skip(if: true) { name } } }", 1 + 10),
        ("{ __schema { types { name fields { name } } } town { __typename } }", 1),
    ],
)
def test_the_cost_counts_every_object_the_result_can_hold(
    query: str, expected: int
) -> None:
    assert cost(query) == expected


@pytest.mark.parametrize(
    ("variables", "page"),
    [
        ({"n": 3}, 3),
        ({}, 20),
        ({"n": None}, 20),
        ({"n": 7.0}, 7),
        ({"n": 1000}, 100),
        ({"n": -5}, 0),
        ({"n": "many"}, 100),
        ({"n": 2.5}, 100),
        ({"n": float("nan")}, 100),
        ({"n": float("inf")}, 100),
        ({"n": True}, 100),
    ],
)
def test_a_variable_first_costs_the_page_it_asks_for(
    variables: dict[str, Any], page: int
) -> None:
    assert cost(HOUSES_OF_EVERY_STREET, variables) == 1 + 10 * (1 + 1 + page * 2)


def test_a_variable_without_a_value_takes_its_default() -> None:
    assert cost(HOUSES_WITH_A_DEFAULT) == 1 + 10 * (1 + 1 + 5 * 2)
    assert cost(HOUSES_WITH_A_DEFAULT, {"n": 2}) == 1 + 10 * (1 + 1 + 2 * 2)


def test_the_named_operation_is_the_one_priced() -> None:
    document = parse(
        "query Cheap { town { name } } query Dear { town { streets { name } } }"
    )
    assert operation_cost(SCHEMA, document, MODEL, "Cheap") == 1
    assert operation_cost(SCHEMA, document, MODEL, "Dear") == 11


def test_a_fragment_spread_everywhere_is_priced_in_linear_time() -> None:
    # given: 2^20 paths through the fragments, but 20 of them to price
    fragments = [
        f"fragment F{i} on Place {{ a: neighbours {{ ...F{i + 1} }} "
        f"b: neighbours {{ ...F{i + 1} }} }}"
        for i in range(20)
    ]
    query = (
        "{ place { ...F0 } } " + " ".join(fragments) + " fragment F20 on Place { name }"
    )
    # then: the cost is 1 + 2 * 5 * (1 + 2 * 5 * (...)), computed at once
    expected = 0
    for _ in range(20):
        expected = 2 * 5 * (1 + expected)
    assert cost(query) == 1 + expected


def test_a_list_without_a_bound_is_reported() -> None:
    partial = CostModel({"Place.neighbours": 5}, default_page=20, max_page=100)
    assert unbounded_lists(SCHEMA, partial) == ["HouseConnection.edges", "Town.streets"]
    assert unbounded_lists(SCHEMA, MODEL) == []


def test_costs_are_remembered_per_document_and_page_sizes() -> None:
    # given: the memo the parser cache gives a document it keeps
    costs = OperationCosts(MODEL)
    document = parse(HOUSES_OF_EVERY_STREET)
    memo: dict[Any, Any] = {}
    # when: the same page size with other cursors, then another page size
    first = costs(SCHEMA, document, None, {"n": 3, "after": "a"}, memo)
    again = costs(SCHEMA, document, None, {"n": 3, "after": "b"}, memo)
    other = costs(SCHEMA, document, None, {"n": 4, "after": "b"}, memo)
    # then
    assert (first, again, other) == (81, 81, 101)
    info = costs.cache_info()
    assert (info.hits, info.misses) == (1, 2)


def test_a_document_without_a_memo_is_priced_each_time() -> None:
    # A document the parser cache does not keep (too big): nothing may keep
    # it alive, so its cost is not remembered either.
    costs = OperationCosts(MODEL)
    document = parse(HOUSES_OF_EVERY_STREET)
    for _ in range(2):
        assert costs(SCHEMA, document, None, {"n": 3}) == 81
    assert tuple(costs.cache_info()) == (0, 2)


def test_a_memo_remembers_a_bounded_number_of_page_sizes() -> None:
    # given
    costs = OperationCosts(MODEL)
    document = parse(HOUSES_OF_EVERY_STREET)
    memo: dict[Any, Any] = {}
    # when: every page size from 0 to 99
    for n in range(100):
        costs(SCHEMA, document, None, {"n": n}, memo)
    # then
    (remembered,) = memo.values()
    assert len(remembered) == OperationCosts.MAX_PER_DOCUMENT
