"""The Relay compiler accepts the example operations, connections included.

Issue 11: Relay's compiler refused KIMgraph's connections, whose PageInfo lacked
`hasPreviousPage` and `startCursor`. Relay reads documents from JavaScript
`graphql` tags and wants its own names (an operation `<Module><Name><Type>`,
a fragment `<Module>_<name>`), so each file of examples/ becomes one module
here, its definitions renamed and every paginated list (a field given `first`)
marked `@connection`, which makes Relay check the connection shape. The
compiler (npm relay-compiler, a native binary in the package) then compiles
them against schema/schema.graphql. See docs/http.md, "Relay".
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NameNode,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

from kimgraph.api import build_schema
from kimgraph.settings import Settings
from tests.e2e import node

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.graphql"))
SCHEMA = ROOT / "schema" / "schema.graphql"
COMPILE_TIMEOUT_S = 300


def module_name(path: Path) -> str:
    """kim-registry.graphql -> KimRegistry."""
    return "".join(word.capitalize() for word in path.stem.split("-"))


class RelayNames(Visitor):
    """Relay's names for one module's definitions; @connection on paginated lists."""

    def __init__(self, module: str) -> None:
        super().__init__()
        self.module = module

    def enter_operation_definition(
        self, operation: OperationDefinitionNode, *_: object
    ) -> OperationDefinitionNode:
        assert operation.name is not None  # tests/schema/test_examples.py
        kind = operation.operation.value.capitalize()
        name = NameNode(value=f"{self.module}{operation.name.value}{kind}")
        return replace(operation, name=name)

    def enter_fragment_definition(
        self, fragment: FragmentDefinitionNode, *_: object
    ) -> FragmentDefinitionNode:
        name = NameNode(value=f"{self.module}_{fragment.name.value}")
        return replace(fragment, name=name)

    def enter_fragment_spread(
        self, spread: FragmentSpreadNode, *_: object
    ) -> FragmentSpreadNode:
        name = NameNode(value=f"{self.module}_{spread.name.value}")
        return replace(spread, name=name)

    def enter_field(self, field: FieldNode, *_: object) -> FieldNode | None:
        if not any(
            argument.name.value == "first" for argument in field.arguments or ()
        ):
            return None
        key = StringValueNode(value=f"{self.module}_{field.name.value}")
        connection = DirectiveNode(
            name=NameNode(value="connection"),
            arguments=(ArgumentNode(name=NameNode(value="key"), value=key),),
        )
        return replace(field, directives=(*(field.directives or ()), connection))


def relay_module(path: Path) -> str:
    """The example as a JavaScript module: one `graphql` tag per definition."""
    module = module_name(path)
    document: DocumentNode = visit(parse(path.read_text("utf-8")), RelayNames(module))
    tags = [
        f"export const d{index} = graphql`\n{print_ast(definition)}\n`;\n"
        for index, definition in enumerate(document.definitions)
    ]
    return 'import { graphql } from "react-relay";\n\n' + "\n".join(tags)


def compile_relay(folder: Path, schema: Path) -> subprocess.CompletedProcess[str]:
    """relay-compiler run over every example, in folder, against schema."""
    source = folder / "src"
    source.mkdir()
    for path in EXAMPLES:
        (source / f"{module_name(path)}.js").write_text(relay_module(path), "utf-8")
    config = {"src": "./src", "schema": str(schema), "language": "javascript"}
    (folder / "relay.config.json").write_text(json.dumps(config), "utf-8")
    compiler = node.installed() / "node_modules" / ".bin" / "relay-compiler"
    return subprocess.run(
        [node.executable("node"), str(compiler)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_S,
        check=False,
    )


def operation_texts(generated: Path) -> list[str]:
    """The document text each operation artifact sends to the server."""
    texts = []
    for artifact in sorted(generated.glob("*.graphql.js")):
        found = re.search(r'^    "text": (".*")$', artifact.read_text("utf-8"), re.M)
        if found is not None:
            texts.append(json.loads(found.group(1)))
    return texts


def test_the_relay_compiler_accepts_every_example(tmp_path: Path) -> None:
    # when
    run = compile_relay(tmp_path, SCHEMA)
    # then: one artifact per operation and fragment; four lists are connections
    assert run.returncode == 0, run.stdout + run.stderr
    generated = tmp_path / "src" / "__generated__"
    assert sorted(p.name.removesuffix(".graphql.js") for p in generated.iterdir()) == [
        "AspirationSubmitTrackAspirationSubmitMutation",
        "AspirationSubmitTrackAspirationTrackEventsSubscription",
        "AspirationSubmitTrackAspirationTrackQuery",
        "AspirationSubmitTrack_TrackedAspirationFields",
        "BoardBoardEventsSubscription",
        "BoardBoardQuery",
        "KimRegistryKimRegistryMemberAddMutation",
        "KimRegistryKimRegistryQuery",
        "KimRegistryKimRegistryRegisterMutation",
        "KimRegistryKimRegistryUpdateMutation",
        "KimRegistry_KimRegistryFields",
        "OfficerAnnouncementsOfficerAnnouncementPublishMutation",
        "OfficerAnnouncementsOfficerAnnouncementUpdateMutation",
        "OfficerAnnouncementsOfficerAnnouncementWithdrawMutation",
        "OfficerAnnouncementsOfficerAnnouncementsQuery",
        "OfficerAnnouncements_OfficerAnnouncementFields",
        "PartnerAspirationFeedPartnerAspirationFeedSubscription",
        "PartnerAspirationFeedPartnerAspirationsQuery",
        "PartnerAspirationFeed_PartnerAspirationFields",
        "SignInMeQuery",
        "SignInSignInMutation",
        "SignInSignOutMutation",
    ]
    connections = sorted(
        p.name for p in generated.iterdir() if '"handle": "connection"' in p.read_text()
    )
    assert connections == [
        "BoardBoardQuery.graphql.js",
        "KimRegistryKimRegistryQuery.graphql.js",
        "OfficerAnnouncementsOfficerAnnouncementsQuery.graphql.js",
        "PartnerAspirationFeedPartnerAspirationsQuery.graphql.js",
    ]


def test_what_relay_sends_is_valid_against_the_schema(tmp_path: Path) -> None:
    # given: the documents Relay sends (its own fields added: cursor, __typename)
    assert compile_relay(tmp_path, SCHEMA).returncode == 0
    texts = operation_texts(tmp_path / "src" / "__generated__")
    schema = build_schema(Settings())._schema
    # when
    errors = [
        error.message for text in texts for error in validate(schema, parse(text))
    ]
    # then
    assert (len(texts), errors) == (18, [])
