"""Which subscriptions may share one execution: their shape, all but the cursor."""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import dataclass
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


def _document(query: str) -> DocumentNode | None:
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
    document = _document(query)
    if document is None:
        return None
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(operations) != 1 or len(document.definitions) != 1:
        return None
    operation = operations[0]
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    if root.name.value not in fields or root.directives:
        return None
    after_variable = None
    for argument in root.arguments or ():
        if argument.name.value == "after":
            if not isinstance(argument.value, VariableNode):
                return None
            after_variable = argument.value.name.value
    uses = _VariableUses()
    visit(operation.selection_set, uses)
    if after_variable is not None and uses.names.count(after_variable) != 1:
        return None
    shared_variables = {
        k: v for k, v in (variables or {}).items() if k != after_variable
    }
    key = json.dumps(
        [query, operation_name, shared_variables], sort_keys=True, default=str
    )
    return Shape(key, after_variable, query, shared_variables, operation_name)
