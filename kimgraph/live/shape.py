"""Which subscriptions may share one execution: their shape, all but the cursor."""

from __future__ import annotations

import json
from collections.abc import Set
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

from kimgraph.documents import DocumentCache


@dataclass(frozen=True, slots=True)
class Shape:
    """What makes two subscriptions share: all but the `after` cursor."""

    key: str
    after_variable: str | None
    query: str
    # The variables without the cursor (read-only: members share the dict).
    variables: dict[str, Any]
    operation_name: str | None


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
    fields: Set[str],
) -> Shape | None:
    """The sharing key of a subscription, or None if it must run on its own.

    `fields` are the root fields whose result depends only on their arguments
    (the composition root names them); any other document runs on its own.
    """
    if len(query) <= _CACHED_QUERY_CHARS:
        analysis = _analysed(query, frozenset(fields))
    else:
        document = document_of(query)
        analysis = None if document is None else _shareable(document, fields)
    if analysis is None:
        return None
    shareable, after_variable = analysis
    if not shareable:
        return None
    shared_variables = {
        k: v for k, v in (variables or {}).items() if k != after_variable
    }
    key = json.dumps(
        [query, operation_name, shared_variables], sort_keys=True, default=str
    )
    return Shape(key, after_variable, query, shared_variables, operation_name)


# A reconnect storm sends the same few documents thousands of times: walking
# each one's selections again cost ~1 ms per subscribe (docs/performance.md).
_CACHED_QUERY_CHARS = 16 * 1024


@lru_cache(maxsize=256)  # at most 256 x 16 KiB of query text
def _analysed(query: str, fields: frozenset[str]) -> tuple[bool, str | None] | None:
    """(may share, the `after` variable) of a document; None if it does not parse."""
    document = document_of(query)
    if document is None:
        return None
    return _shareable(document, fields)


def _shareable(document: DocumentNode, fields: Set[str]) -> tuple[bool, str | None]:
    no = (False, None)
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
    return True, after_variable
