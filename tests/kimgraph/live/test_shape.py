"""Which subscriptions may share one execution: their shape."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kimgraph.accounts.principals import ANONYMOUS, Principal, Role
from kimgraph.api import SHAREABLE_FIELDS
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


ASPIRATION_EVENTS = """
subscription ($ticket: String, $after: String) {
  aspirationEvents(ticket: $ticket, after: $after) { cursor kind }
}
"""
PARTNER = Principal(
    role=Role.PARTNER, region_code="61.04.16", display_name="Aplikasi A", api_key_id=1
)


def test_partner_keys_of_one_region_share_aspiration_events_as_their_view() -> None:
    # given: two keys of Delta Pawan, one of Benua Kayong, the same document
    same_region = replace(PARTNER, display_name="Aplikasi B", api_key_id=2)
    elsewhere = replace(PARTNER, region_code="61.04.18", api_key_id=3)
    # when
    first, second, other = (
        shape_of(ASPIRATION_EVENTS, {"after": "x"}, None, SHAREABLE_FIELDS, p)
        for p in (PARTNER, same_region, elsewhere)
    )
    # then: one key per region; the run executes as the region's keys, as no key
    assert first is not None
    assert second is not None
    assert other is not None
    assert first == second
    assert other.key != first.key
    assert first.principal == Principal(
        role=Role.PARTNER,
        region_code="61.04.16",
        display_name="partner keys of 61.04.16",
    )
    assert other.principal.region_code == "61.04.18"


@pytest.mark.parametrize(
    "principal",
    [
        Principal(role=Role.OFFICER, region_code="61.04.16", account_id=1),
        Principal(role=Role.ADMIN, region_code="61.04", account_id=2),
        Principal(role=Role.KIM, region_code="61.04.16.2006", account_id=3, kim_id=1),
        # a partner principal that carries anything of an account is no key's
        replace(PARTNER, kim_id=1),
        replace(PARTNER, unit_ids=frozenset({1})),
    ],
)
def test_accounts_follow_aspiration_events_on_their_own(principal: Principal) -> None:
    assert shape_of(ASPIRATION_EVENTS, {}, None, SHAREABLE_FIELDS, principal) is None


def test_anonymous_ticket_followers_share_and_boards_share_whoever_asks() -> None:
    # given
    ticket = {"ticket": "ASP-6104-2026-ABCDEFGH"}
    officer = Principal(role=Role.OFFICER, region_code="61.04.16", account_id=1)
    # when
    anonymous = shape_of(ASPIRATION_EVENTS, ticket, None, SHAREABLE_FIELDS)
    partner = shape_of(ASPIRATION_EVENTS, ticket, None, SHAREABLE_FIELDS, PARTNER)
    board = shape_of(BOARD, {"region": "61.04"}, None, SHAREABLE_FIELDS, officer)
    public_board = shape_of(BOARD, {"region": "61.04"}, None, SHAREABLE_FIELDS)
    # then: views differ, so keys do; a public field's view is everyone's
    assert anonymous is not None
    assert partner is not None
    assert anonymous.principal == ANONYMOUS
    assert partner.key != anonymous.key
    assert board is not None
    assert board == public_board
    assert board.principal == ANONYMOUS
