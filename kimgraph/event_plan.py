"""Subscription events executed along a plan made once per subscription.

graphql-core executes every event of a subscription as a new operation: it
collects the fields of the document again, builds a resolve info, checks every
value for awaitables and dispatches on its type, field by field. For the
board's document that was ~200 µs of CPU per event, nearly all of the cost of
replaying 10,000 missed events (docs/performance.md, "Replaying many events").
A plan walks the document once, when the first event arrives, and then calls
for each event exactly the resolvers, argument values and output coercions
graphql-core would call, in the same order, with the same resolve info.

It covers the common case only: fields without directives, fragments or
repeated response keys, object types (no interfaces or unions), sync
resolvers. Anything else is no plan; and an event during which anything
unusual happens (an error, an awaitable, a null in a non-null field) is run
again by graphql-core itself, so errors look exactly as they always did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    SelectionSetNode,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path

STRAWBERRY_DEFINITION = "strawberry-definition"


class Unplanned(Exception):
    """This document, or this event, takes graphql-core's own path."""


# How a field's value completes: (executor, resolve info or None, path, value).
Complete = Callable[[Executor[Any], Any, Path, Any], Any]


@dataclass(frozen=True, slots=True)
class Step:
    """One field of a selection set: what graphql-core's execute_field does."""

    key: str
    field_def: GraphQLField
    nodes: list[FieldNode]
    # Called with (source, resolve info) and the field's arguments.
    resolve: Callable[..., Any]
    args: dict[str, Any]
    # Whether resolve or completion reads the resolve info: else not built.
    needs_info: bool
    complete: Complete


@dataclass(frozen=True, slots=True)
class Plan:
    """The subscription's selection set, resolved field by field for each event."""

    root_type: GraphQLObjectType
    steps: tuple[Step, ...]

    def run(self, executor: Executor[Any]) -> dict[str, Any]:
        """The data of one event (the executor's root value); Unplanned if unusual."""
        return _fields(executor, self.steps, self.root_type, executor.root_value, None)


def plan_for(executor: Executor[Any]) -> Plan | None:
    """The plan of a subscription executor's operation, or None if it has none."""
    operation = executor.operation
    root_type = executor.schema.subscription_type
    if operation.operation is not OperationType.SUBSCRIPTION or root_type is None:
        return None
    if operation.directives:
        return None
    try:
        steps = _steps(executor, root_type, operation.selection_set)
    except (Unplanned, GraphQLError):
        return None
    return Plan(root_type, steps)


def _steps(
    executor: Executor[Any],
    parent_type: GraphQLObjectType,
    selection_set: SelectionSetNode,
) -> tuple[Step, ...]:
    steps: list[Step] = []
    keys: set[str] = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise Unplanned
        key = node.alias.value if node.alias else node.name.value
        if key in keys:  # graphql-core would merge them
            raise Unplanned
        keys.add(key)
        name = node.name.value
        if name.startswith("__") and name != "__typename":
            raise Unplanned
        field_def = executor.schema.get_field(parent_type, name)
        if field_def is None:
            raise Unplanned
        args = (
            get_argument_values(
                field_def,
                node,
                executor.variable_values,
                None,
                executor.hide_suggestions,
            )
            if field_def.args or node.arguments
            else {}
        )
        resolve, resolve_needs_info = _resolver(executor, field_def)
        complete, complete_needs_info = _completer(executor, field_def.type, node)
        needs_info = resolve_needs_info or complete_needs_info
        steps.append(Step(key, field_def, [node], resolve, args, needs_info, complete))
    return tuple(steps)


def _resolver(
    executor: Executor[Any], field_def: GraphQLField
) -> tuple[Callable[..., Any], bool]:
    """The field's resolve function, and whether it reads the resolve info.

    Strawberry wraps each resolver in a function that builds its Info, converts
    arguments, runs field extensions and exception handlers. For a field with
    none of those (no arguments, no extensions, a schema without exception
    handlers) the plan calls the resolver as that wrapper would; for a field
    without a resolver Strawberry's own fast path already reads no info.
    """
    resolve = field_def.resolve or executor.field_resolver
    middleware = executor.middleware_manager
    if middleware and middleware.get_field_resolver(resolve) is not resolve:
        return middleware.get_field_resolver(resolve), True
    field = field_def.extensions.get(STRAWBERRY_DEFINITION)
    schema = executor.schema.extensions.get(STRAWBERRY_DEFINITION)
    if field is None or schema is None:
        return resolve, True
    if field.is_subscription:
        # Strawberry resolves the subscription's root field to the event itself.
        return (lambda source, _info, **_args: source), False
    if getattr(field, "is_async", False):
        raise Unplanned  # it would need awaiting in every event
    if getattr(resolve, "_is_default", False):
        return resolve, False  # Strawberry's basic field: no info
    resolver = field.base_resolver
    if (
        resolver is None
        or field.extensions
        or field.arguments
        or schema.schema_converter._exception_handler_specs
        or resolver.parent_parameter
        or resolver.root_parameter
        or not callable(resolver.wrapped_func)
    ):
        return resolve, True
    function = resolver.wrapped_func
    with_self = resolver.self_parameter is not None
    info_parameter = resolver.info_parameter
    if info_parameter is None:
        if with_self:
            return (lambda source, _info: function(source)), False
        return (lambda _source, _info: function()), False
    info_name = info_parameter.name
    info_class = schema.config.info_class

    def with_info(source: Any, info: Any) -> Any:
        kwargs = {info_name: info_class(_raw_info=info, _field=field)}
        return function(source, **kwargs) if with_self else function(**kwargs)

    return with_info, True


def _completer(
    executor: Executor[Any], return_type: GraphQLOutputType, node: FieldNode
) -> tuple[Complete, bool]:
    """graphql-core's complete_value for one type, as far as no error arises."""
    is_awaitable = executor.is_awaitable
    if is_non_null_type(return_type):
        inner, needs_info = _completer(executor, return_type.of_type, node)

        def non_null(executor: Executor[Any], info: Any, path: Path, value: Any) -> Any:
            completed = inner(executor, info, path, value)
            if completed is None:
                raise Unplanned
            return completed

        return non_null, needs_info
    if is_list_type(return_type):
        item, needs_info = _completer(executor, return_type.of_type, node)

        def items(executor: Executor[Any], info: Any, path: Path, value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if not isinstance(value, list | tuple):
                raise Unplanned
            return [
                item(executor, info, path.add_key(index, None), one)
                for index, one in enumerate(value)
            ]

        return items, needs_info
    if is_leaf_type(return_type):
        coerce = return_type.coerce_output_value

        def leaf(executor: Executor[Any], info: Any, path: Path, value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if isinstance(value, Exception) or is_awaitable(value):
                _discard(value)
                raise Unplanned
            coerced = coerce(value)
            if coerced is Undefined or coerced is None:
                raise Unplanned
            return coerced

        return leaf, False
    if not is_object_type(return_type) or node.selection_set is None:
        raise Unplanned  # an interface or a union: a type to find per value
    object_type = return_type
    below = _steps(executor, object_type, node.selection_set)
    is_type_of = object_type.is_type_of

    def obj(executor: Executor[Any], info: Any, path: Path, value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception) or is_awaitable(value):
            _discard(value)
            raise Unplanned
        if is_type_of is not None:
            matches = is_type_of(value, info)
            if is_awaitable(matches):
                _discard(matches)
                raise Unplanned
            if not matches:
                raise Unplanned
        return _fields(executor, below, object_type, value, path)

    return obj, is_type_of is not None


def _fields(
    executor: Executor[Any],
    steps: tuple[Step, ...],
    parent_type: GraphQLObjectType,
    source: Any,
    path: Path | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for step in steps:
        field_path = Path(path, step.key, parent_type.name)
        info = (
            executor.build_resolve_info(
                step.field_def, step.nodes, parent_type, field_path
            )
            if step.needs_info
            else None
        )
        result = step.resolve(source, info, **step.args)
        data[step.key] = step.complete(executor, info, field_path, result)
    return data


def _discard(value: Any) -> None:
    """Close a coroutine that will not be awaited (graphql-core runs it again)."""
    close = getattr(value, "close", None)
    if callable(close) and hasattr(value, "cr_frame"):
        close()
