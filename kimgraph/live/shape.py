"""Which subscriptions may share one execution: their shape, all but the cursor."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    visit,
)
from graphql.language import Visitor

from kimgraph.accounts.principals import ANONYMOUS, Principal
from kimgraph.documents import DocumentCache

ViewOf = Callable[[Principal], Principal | None]
"""The principal a shared run of a field executes as for this caller.

It must see exactly what the caller sees and hold nothing else (no account,
no credential): every caller it stands for shares the run. None: the caller's
view depends on its account, and its subscription runs on its own.
"""


def public(principal: Principal) -> Principal:
    """The view of a public field: the same for everyone, an anonymous caller's."""
    return ANONYMOUS


@dataclass(frozen=True, slots=True)
class Shape:
    """What makes two subscriptions share: all but the `after` cursor, and a view."""

    key: str
    after_variable: str | None
    query: str
    # The variables without the cursor (read-only: members share the dict).
    variables: dict[str, Any]
    operation_name: str | None
    # Who the shared run executes as: the view every member shares (ViewOf).
    principal: Principal = ANONYMOUS


class _VariableUses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.append(node.name.value)


# A reconnect storm sends the same few documents thousands of times; bounded
# by bytes, not count, as a socket message may be 1 MiB (docs/performance.md).
_DOCUMENTS = DocumentCache(max_total_bytes=8 * 1024 * 1024)


def document_of(query: str) -> DocumentNode | None:
    """A document parsed once for every subscribe that sends it; None if invalid."""
    try:
        return _DOCUMENTS.parse(query)
    except GraphQLError:
        return None


def shape_of(
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    fields: Set[str] | Mapping[str, ViewOf],
    principal: Principal = ANONYMOUS,
) -> Shape | None:
    """The sharing key of a subscription by principal, or None if it runs on its own.

    `fields` are the root fields that may share (the composition root names
    them): a set names public ones, a mapping gives each the view its run
    executes as for a caller (ViewOf). The view is part of the key, so callers
    who see differently never share; any other document runs on its own.
    """
    if len(query) <= _CACHED_QUERY_CHARS:
        analysis = _analysed(query, frozenset(fields))
    else:
        document = document_of(query)
        analysis = None if document is None else _shareable(document, fields)
    if analysis is None:
        return None
    field, after_variable = analysis
    if field is None:
        return None
    view = fields[field](principal) if isinstance(fields, Mapping) else ANONYMOUS
    if view is None:
        return None
    shared_variables = {
        k: v for k, v in (variables or {}).items() if k != after_variable
    }
    key = json.dumps(
        [query, operation_name, shared_variables, repr(view)],
        sort_keys=True,
        default=str,
    )
    return Shape(key, after_variable, query, shared_variables, operation_name, view)


# A reconnect storm sends the same few documents thousands of times: walking
# each one's selections again cost ~1 ms per subscribe (docs/performance.md).
_CACHED_QUERY_CHARS = 16 * 1024


@lru_cache(maxsize=256)  # at most 256 x 16 KiB of query text
def _analysed(
    query: str, fields: frozenset[str]
) -> tuple[str | None, str | None] | None:
    """(the shared root field, the `after` variable); None if it does not parse."""
    document = document_of(query)
    if document is None:
        return None
    return _shareable(document, fields)


def _shareable(
    document: DocumentNode, fields: Set[str] | Mapping[str, ViewOf]
) -> tuple[str | None, str | None]:
    no = (None, None)
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(operations) != 1 or len(document.definitions) != 1:
        return no
    operation = operations[0]
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return no
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return no
    root = selections[0]
    if root.name.value not in fields or root.directives:
        return no
    after_variable = None
    for argument in root.arguments or ():
        if argument.name.value == "after":
            if not isinstance(argument.value, VariableNode):
                return no
            after_variable = argument.value.name.value
    uses = _VariableUses()
    visit(operation.selection_set, uses)
    if after_variable is not None and uses.names.count(after_variable) != 1:
        return no
    return root.name.value, after_variable
