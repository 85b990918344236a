"""Global ids and cursors: fixed formats, round trips, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kimgraph.cursors import (
    CursorKind,
    decode_cursor,
    decode_event_cursor,
    decode_id,
    encode_cursor,
    encode_event_cursor,
    encode_id,
    parse_id,
    row_id,
)
from kimgraph.errors import InvalidCursorError

LIST_MESSAGE = (
    "is not a cursor of this list; pass an endCursor or edge cursor it returned"
)


def test_formats_are_the_ones_clients_already_hold() -> None:
    # Clients keep ids and cursors (a board stores its eventCursor): these
    # strings were handed out before the codecs became one module.
    at = datetime(2026, 11, 28, 1, tzinfo=UTC)
    assert encode_id("Kecamatan", "61.04.99") == "S2VjYW1hdGFuOjYxLjA0Ljk5"
    assert encode_id("Kim", 5) == "S2ltOjU"
    assert encode_cursor(CursorKind.REGION, "61.04") == "cmVnaW9ufDYxLjA0"
    assert encode_cursor(CursorKind.KIM, 5) == "a2ltfDU"
    assert encode_cursor(CursorKind.ANNOUNCEMENT, 2, at, 7) == (
        "YW5ufDJ8MjAyNi0xMS0yOFQwMTowMDowMCswMDowMHw3"
    )
    assert encode_event_cursor(12) == "ZXY6MTI"


def test_ids_round_trip_and_foreign_ones_are_none() -> None:
    assert parse_id(encode_id("Desa", "61.04.16.2006")) == ("Desa", "61.04.16.2006")
    assert decode_id("Kim", encode_id("Kim", 42)) == 42
    assert decode_id("Kim", encode_id("Aspiration", 42)) is None
    assert decode_id("Kim", encode_id("Kim", 2**31 - 1)) == 2**31 - 1
    for foreign in ("", "not base64!", encode_id("Kim", "x"), encode_id("Kim", "²")):
        assert decode_id("Kim", foreign) is None
    # Beyond the id columns (PostgreSQL's integer), other scripts' digits,
    # more digits than int() converts: no row has such a key.
    for key in (2**31, 2**63, "٣", "9" * 5000):
        assert decode_id("Kim", encode_id("Kim", key)) is None
    assert parse_id("") is None
    assert parse_id("S2lt") is None  # "Kim": no key


def test_list_cursors_round_trip_within_their_list() -> None:
    assert decode_cursor(CursorKind.REGION, None, str) is None
    region = encode_cursor(CursorKind.REGION, "61.04")
    assert decode_cursor(CursorKind.REGION, region, str) == "61.04"
    kim = encode_cursor(CursorKind.KIM, 7)
    assert decode_cursor(CursorKind.KIM, kim, row_id) == 7


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "bm9wZQ",  # "nope"
        "not base64!",
        encode_cursor(CursorKind.REGION, "61.04"),  # another list's
        encode_cursor(CursorKind.KIM, "x"),
        encode_cursor(CursorKind.KIM, "²"),
        encode_cursor(CursorKind.KIM, "٣"),
        encode_cursor(CursorKind.KIM, 2**31),
        encode_cursor(CursorKind.KIM, 2**63),
        encode_cursor(CursorKind.KIM),  # no key
    ],
)
def test_a_cursor_not_of_this_list_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError) as caught:
        decode_cursor(CursorKind.KIM, cursor, row_id)
    assert str(caught.value) == f"{cursor!r} {LIST_MESSAGE}"


def test_event_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_event_cursor(encode_event_cursor(1234)) == 1234
    assert decode_event_cursor(encode_event_cursor(2**63 - 1)) == 2**63 - 1
    beyond = encode_event_cursor(2**63)  # past the event log's 64-bit ids
    for foreign in ("", "abc", encode_cursor(CursorKind.KIM, 5), "ZXY6wrI", beyond):
        with pytest.raises(InvalidCursorError) as caught:
            decode_event_cursor(foreign)
        assert str(caught.value) == (
            f"{foreign!r} is not an event cursor; pass an event's cursor or an "
            "eventCursor"
        )
