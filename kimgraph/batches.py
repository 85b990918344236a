"""Batches: a JSON array of operations in one HTTP request (KIMGRAPH_MAX_BATCH at most).

Strawberry runs a batch's operations at once in one context, mutations too: their
order would be undefined and one rate-limited mutation would turn the whole batch
into a 429. So a batch holds queries only; one mutation (or subscription) refuses it
with 400 and nothing runs. Each query is admitted and costed alone (docs/http.md,
"Batches").
"""

from __future__ import annotations

import asyncio

from cross_web import HTTPException
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from kimgraph.context import Context

QUERIES_ONLY = "A batch holds queries only: send each mutation in a request of its own"


async def run(
    schema: BaseSchema,
    operations: list[GraphQLRequestData],
    context: Context,
    root_value: None,
) -> list[ExecutionResult]:
    """Every query of the batch, concurrently; 400 if one cannot run at all."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    schema.execute(
                        data.query,
                        variable_values=data.variables,
                        context_value=context,
                        root_value=root_value,
                        operation_name=data.operation_name,
                        allowed_operation_types={OperationType.QUERY},
                        operation_extensions=data.extensions,
                    )
                )
                for data in operations
            ]
    except ExceptionGroup as group:
        raise _refused(group) from None
    return [task.result() for task in tasks]


def _refused(group: ExceptionGroup) -> Exception:
    """The 400 for a batch one of whose operations cannot run at all."""
    for error in group.exceptions:
        if isinstance(error, InvalidOperationTypeError):
            return HTTPException(400, QUERIES_ONLY)
        if isinstance(error, CannotGetOperationTypeError):
            return HTTPException(400, error.as_http_error_reason())
        if isinstance(error, MissingQueryError):
            return HTTPException(400, "No GraphQL query found in the request")
    return group
