"""Admission: what a document may cost, decided before any resolver runs.

Its size (selections counted, linear), then validation, then the operation's cost
against its budget (kimgraph.cost): a refused operation reads nothing, and a
document too big to validate cheaply is never validated. docs/performance.md
("Admission") has the measurements behind the limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode
from graphql.error import GraphQLError
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from kimgraph.cost import OperationCosts
from kimgraph.documents import DocumentCache, count_selections
from kimgraph.errors import QUERY_TOO_COMPLEX

# Fields, inline fragments and spreads a document may write. Validating many
# selections of one name costs time quadratic in their number (graphql-core's
# OverlappingFieldsCanBeMerged): 300 of them take ~80 ms; 2,400, within the
# token limit, took 0.7 s (docs/performance.md, "Admission"). GraphiQL's
# introspection query writes 72.
MAX_SELECTIONS = 300
# Per event, and paid again for every subscriber of every publish: far below
# a query's budget, above what a board (2) or a full event (~110) costs.
MAX_SUBSCRIPTION_COST = 500

# Keys of the results Admission keeps in a cached document's memo.
_VALIDATION = "kimgraph.admission.validation"


class Admission(SchemaExtension):
    """Size, validation, then the operation's cost against its budget.

    All come before any resolver runs: a refused operation reads nothing. The
    size check is linear and comes first, so that a document too big to
    validate cheaply is never validated. Validation is remembered in the
    document's memo (kimgraph.documents), as the costs are: a hit needs the
    same document and the same rule classes, which build_schema makes once.
    """

    def __init__(
        self, documents: DocumentCache, costs: OperationCosts, max_query_cost: int
    ) -> None:
        self.documents = documents
        self.costs = costs
        self.max_query_cost = max_query_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        schema = context.schema._schema
        memo = self.documents.memo(document)
        errors = self.validation(document, memo)
        if not errors:
            cost = self.costs(
                schema, document, context.operation_name, context.variables, memo
            )
            budget = (
                MAX_SUBSCRIPTION_COST
                if context.operation_type is OperationType.SUBSCRIPTION
                else self.max_query_cost
            )
            if cost > budget:
                errors = [_too_costly(cost, budget)]
        context.pre_execution_errors = errors
        yield

    def validation(
        self, document: DocumentNode, memo: dict[Any, Any] | None
    ) -> list[GraphQLError]:
        """The document's validation errors: its size first, then the rules."""
        remembered: list[GraphQLError] | None = (
            memo.get(_VALIDATION) if memo is not None else None
        )
        if remembered is not None:
            return list(remembered)
        context = self.execution_context
        selections = count_selections(document)
        if selections > MAX_SELECTIONS:
            errors = [_too_many_selections(selections)]
        else:
            schema = context.schema._schema
            errors = validate_document(schema, document, context.validation_rules)
            for error in errors:
                _code_complexity(error)
        if memo is not None:
            memo[_VALIDATION] = errors
        return list(errors)


def _too_many_selections(selections: int) -> GraphQLError:
    return GraphQLError(
        f"The document selects {selections} fields and fragments, over the limit "
        f"of {MAX_SELECTIONS}: ask for fewer fields, or split the query.",
        extensions={
            "code": QUERY_TOO_COMPLEX,
            "selections": selections,
            "maxSelections": MAX_SELECTIONS,
        },
    )


def _code_complexity(error: GraphQLError) -> None:
    """QUERY_TOO_COMPLEX on the errors of graphql-core's own work limits.

    Its validation gives up ("Validation aborted.") when a document would cost
    it too much work or holds too many errors, and its introspection rule
    refuses deep `__schema` queries: the document is too complex, not invalid.
    """
    aborted = isinstance(error, ValidationAbortedError)
    if aborted or error.message == "Maximum introspection depth exceeded":
        error.extensions = {**(error.extensions or {}), "code": QUERY_TOO_COMPLEX}


def _too_costly(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"The operation may return {cost} objects, over the limit of {budget}: "
        "ask for smaller pages (`first`) or fewer nested lists.",
        extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": budget},
    )
