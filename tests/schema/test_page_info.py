"""Every connection's pageInfo has the Relay spec's four fields (issue 11).

`startCursor` is the first edge's cursor, `hasPreviousPage` always false: lists
page forward only (docs/http.md, "Relay").
"""

from __future__ import annotations

import httpx
from graphql import GraphQLObjectType

from kimgraph.api import build_schema
from kimgraph.settings import Settings
from tests.conftest import execute

PAGE = """
query ($after: String) {
  regions(within: "61.04", first: 3, after: $after) {
    edges { cursor }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def test_every_connection_shares_the_relay_page_info() -> None:
    schema = build_schema(Settings())._schema
    connections = {
        name: kind
        for name, kind in schema.type_map.items()
        if name.endswith("Connection") and isinstance(kind, GraphQLObjectType)
    }
    page_info = schema.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    assert {name: str(f.type) for name, f in page_info.fields.items()} == {
        "hasNextPage": "Boolean!",
        "hasPreviousPage": "Boolean!",
        "startCursor": "String",
        "endCursor": "String",
    }
    assert len(connections) >= 4
    assert {
        name: str(kind.fields["pageInfo"].type) for name, kind in connections.items()
    } == dict.fromkeys(connections, "PageInfo!")


async def test_page_info_names_the_first_and_last_cursor_of_each_page(
    client: httpx.AsyncClient,
) -> None:
    # when: the first page, the next, and a page past the end
    first = (await execute(client, PAGE))["data"]["regions"]
    after = first["pageInfo"]["endCursor"]
    second = (await execute(client, PAGE, {"after": after}))["data"]["regions"]
    # then
    for page in (first, second):
        cursors = [edge["cursor"] for edge in page["edges"]]
        assert len(cursors) == 3
        assert page["pageInfo"] == {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": cursors[0],
            "endCursor": cursors[-1],
        }
    assert second["pageInfo"]["startCursor"] != first["pageInfo"]["startCursor"]


async def test_an_empty_page_has_no_cursors(client: httpx.AsyncClient) -> None:
    # when
    body = await execute(
        client,
        '{ regions(within: "61.04", first: 0) '
        "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
    )
    # then
    assert body == {
        "data": {
            "regions": {
                "pageInfo": {
                    "hasNextPage": True,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                }
            }
        }
    }
