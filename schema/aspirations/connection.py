"""Pages of aspirations and their cursors."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from kimgraph.errors import InvalidCursorError
from schema.aspirations.types import Aspiration
from schema.common import Edge, PageInfo, decode_cursor, encode_cursor

ASPIRATION_CURSOR = "asp"


def aspiration_cursor_key(after: str | None) -> int | None:
    """The id inside an aspiration list cursor."""
    key = decode_cursor(ASPIRATION_CURSOR, after)
    if key is None:
        return None
    if not key.isdigit():
        raise InvalidCursorError(f"{after!r} is not a cursor of this list")
    return int(key)


@strawberry.type(description="A page of aspirations, newest first.")
class AspirationConnection:
    edges: list[Edge[Aspiration]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")
    event_cursor: str = strawberry.field(
        description="The event stream's position as of this read: subscribe to "
        "aspirationEvents with `after: eventCursor` to get every change since."
    )


def aspiration_connection(
    nodes: Sequence[Aspiration], has_next_page: bool, total: int, event_cursor: str
) -> AspirationConnection:
    """A connection page of aspirations keyed by id."""
    edges = [
        Edge(cursor=encode_cursor(ASPIRATION_CURSOR, str(node.row.id)), node=node)
        for node in nodes
    ]
    return AspirationConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=total,
        event_cursor=event_cursor,
    )
