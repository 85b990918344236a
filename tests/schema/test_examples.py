"""The operations in examples/: valid, named, documented, run on the demo data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)

from kimgraph.api import build_schema
from kimgraph.clock import FixedClock
from kimgraph.demo import DEMO_BOARD, load_demo
from kimgraph.settings import Settings
from tests.people import nobody_listens

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.graphql"))
BOARD_JS = ROOT / "kimgraph" / "board" / "board.js"


def document(path: Path) -> DocumentNode:
    return parse(path.read_text(encoding="utf-8"))


def test_there_are_examples_for_every_user() -> None:
    assert [path.name for path in EXAMPLES] == [
        "aspiration-submit-track.graphql",
        "board.graphql",
        "kim-registry.graphql",
        "officer-announcements.graphql",
        "partner-aspiration-feed.graphql",
        "sign-in.graphql",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_is_valid_against_the_schema(path: Path) -> None:
    schema = build_schema(Settings())._schema
    errors = validate(schema, document(path))
    assert [error.message for error in errors] == []


def test_every_operation_and_fragment_is_named_once() -> None:
    # GraphQL Code Generator makes one type per name over all documents.
    names: list[str] = []
    for path in EXAMPLES:
        for definition in document(path).definitions:
            assert isinstance(
                definition, OperationDefinitionNode | FragmentDefinitionNode
            )
            assert definition.name is not None, f"{path.name}: an unnamed operation"
            names.append(definition.name.value)
    assert len(names) == len(set(names)), sorted(names)


def test_every_example_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For frontend developers", 1)[1].split("\n## ", 1)[0]
    missing = [p.name for p in EXAMPLES if f"(examples/{p.name})" not in section]
    assert missing == []


def test_board_example_is_what_the_board_sends() -> None:
    script = BOARD_JS.read_text(encoding="utf-8")
    fields = re.search(r"const FIELDS = '([^']*)';", script)
    assert fields is not None
    sent = {}
    for name in ("QUERY", "SUBSCRIPTION"):
        found = re.search(rf"const {name} = `([^`]*)`;", script)
        assert found is not None
        text = found.group(1).replace("${FIELDS}", fields.group(1))
        sent[name] = print_ast(parse(text))
    board = document(ROOT / "examples" / "board.graphql")
    example = [print_ast(definition) for definition in board.definitions]
    assert example == [sent["QUERY"], sent["SUBSCRIPTION"]]


async def run(
    client: httpx.AsyncClient,
    file: str,
    operation: str,
    variables: dict[str, Any] | None = None,
    credential: str | None = None,
) -> dict[str, Any]:
    """Run one named operation of an example file, as the app serves it."""
    response = await client.post(
        "/graphql",
        json={
            "query": (ROOT / "examples" / file).read_text(encoding="utf-8"),
            "operationName": operation,
            "variables": variables or {},
        },
        headers={"Authorization": f"Bearer {credential}"} if credential else None,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_examples_run_against_the_demo_data(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    # given
    demo = await load_demo(clock, nobody_listens)
    admin = demo.accounts[0]
    public, confidential = (row.ticket for row in demo.aspirations)
    # when
    board = await run(client, "board.graphql", "Board", {"region": DEMO_BOARD})
    signed_in = await run(
        client,
        "sign-in.graphql",
        "SignIn",
        {"username": admin.username, "password": admin.password},
    )
    token = signed_in["tokenCreate"]["token"]
    me = await run(client, "sign-in.graphql", "Me", credential=token)
    feed = await run(
        client,
        "partner-aspiration-feed.graphql",
        "PartnerAspirations",
        {"region": "61.04.16"},
        credential=demo.api_key,
    )
    registry = await run(client, "kim-registry.graphql", "KimRegistry")
    officer = await run(
        client,
        "officer-announcements.graphql",
        "OfficerAnnouncements",
        {"region": "61.04.16"},
        credential=token,
    )
    tracked = await run(
        client, "aspiration-submit-track.graphql", "AspirationTrack", {"ticket": public}
    )
    withheld = await run(
        client,
        "aspiration-submit-track.graphql",
        "AspirationTrack",
        {"ticket": confidential},
    )
    # then
    shown = [edge["node"] for edge in board["announcements"]["edges"]]
    assert [(node["priority"], node["title"]) for node in shown] == [
        ("EMERGENCY", "Peringatan banjir rob (DEMO)"),
        ("NORMAL", "Kerja bakti hari Minggu (DEMO)"),
        ("NORMAL", "Posyandu balita bulan ini (DEMO)"),
        ("NORMAL", "Perekaman KTP elektronik keliling (DEMO)"),
    ]
    assert {node["status"] for node in shown} == {"ACTIVE"}
    assert shown[0]["validUntil"] == "2026-11-28T01:10:00+00:00"
    assert board["announcements"]["eventCursor"]
    assert signed_in["tokenCreate"]["userErrors"] == []
    assert (me["me"]["role"], me["me"]["username"]) == ("ADMIN", "demo.admin")
    assert sorted(
        edge["node"]["ticket"] for edge in feed["aspirations"]["edges"]
    ) == sorted([public, confidential])
    assert [edge["node"]["name"] for edge in registry["kims"]["edges"]] == [
        kim.name for kim in demo.kims
    ]
    assert officer["announcements"]["totalCount"] == 4
    assert tracked["aspirationTrack"]["status"] == "SUBMITTED"
    assert tracked["aspirationTrack"]["title"] == demo.aspirations[0].title
    assert tracked["aspirationTrack"]["contentWithheld"] is False
    assert withheld["aspirationTrack"]["contentWithheld"] is True
    assert withheld["aspirationTrack"]["title"] == "(rahasia)"
