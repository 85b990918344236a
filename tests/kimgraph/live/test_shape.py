"""Which subscriptions may share one execution: their shape."""

from __future__ import annotations

from typing import Any

import pytest

from kimgraph.live import shape as shape_module
from kimgraph.live.shape import shape_of

SHAREABLE = frozenset({"announcementEvents"})
BOARD = """
subscription ($region: String!, $after: String) {
  announcementEvents(region: $region, after: $after) { cursor kind }
}
"""


def test_boards_of_one_desa_share_whatever_their_cursor() -> None:
    first = shape_of(BOARD, {"region": "61.04.16.2006", "after": "a"}, None, SHAREABLE)
    second = shape_of(BOARD, {"region": "61.04.16.2006", "after": "b"}, None, SHAREABLE)
    other = shape_of(BOARD, {"region": "61.04.16.2007"}, None, SHAREABLE)
    assert first is not None
    assert second is not None
    assert other is not None
    assert first == second
    assert first.after_variable == "after"
    assert other.key != first.key


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # a literal cursor cannot be split from the shared part
        (
            'subscription { announcementEvents(region: "61.04", after: "x") { kind } }',
            {},
        ),
        # the cursor variable used again elsewhere changes the result
        (
            "subscription ($a: String) { announcementEvents(region: $a, after: $a) "
            "{ kind } }",
            {"a": "61.04"},
        ),
        ('query { region(code: "61.04") { name } }', {}),
        (
            'subscription { announcementEvents(region: "61.04") @skip(if: false) '
            "{ kind } }",
            {},
        ),
        (
            'subscription { a: announcementEvents(region: "61.04") { kind } '
            'b: announcementEvents(region: "61") { kind } }',
            {},
        ),
        ("subscription {", {}),
    ],
)
def test_other_documents_run_on_their_own(
    query: str, variables: dict[str, Any]
) -> None:
    assert shape_of(query, variables, None, SHAREABLE) is None


def test_only_the_fields_the_composition_root_names_share() -> None:
    # given: the board's document, when nothing or only another field is shareable
    variables = {"region": "61.04.16.2006"}
    # when
    unshared = shape_of(BOARD, variables, None, frozenset())
    other = shape_of(BOARD, variables, None, frozenset({"aspirationEvents"}))
    shared = shape_of(BOARD, variables, None, SHAREABLE)
    # then
    assert unshared is None
    assert other is None
    assert shared is not None
    assert shared.variables == {"region": "61.04.16.2006"}


def test_sharing_keeps_no_document_behind_a_1_mb_comment() -> None:
    # given: 4 distinct subscriptions behind 1 MB comments (a socket may send
    # 1 MiB messages)
    documents = shape_module._DOCUMENTS
    big = [f"# {n} " + "x" * 1_000_000 + "\n" + BOARD for n in range(4)]
    before = (len(documents), documents.total_bytes)
    # when
    shapes = [shape_of(query, {}, None, SHAREABLE) for query in big]
    # then: each was parsed and shaped, none kept
    assert all(shape is not None for shape in shapes)
    assert (len(documents), documents.total_bytes) == before
    assert documents.max_total_bytes == 8 * 1024 * 1024
