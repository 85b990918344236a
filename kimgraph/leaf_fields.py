"""Plain fields resolved without the per-field machinery around them.

graphql-core runs every field through a resolve-info object, argument
coercion and value completion, and Strawberry wraps each resolver in an Info,
argument conversion and the extension chain. For a field that reads an
attribute or calls a synchronous method of its object and returns a scalar or
an enum, that is most of its cost: a board's 20 announcements of 9 such
fields spent about half of a cold query's CPU there (docs/performance.md,
"The HTTP read path"). LeafFields resolves those fields directly, with the
same result, the same coercion and the same errors; every other field takes
graphql-core's path unchanged.

Which fields are plain is kimgraph.field_steps' to say (a plain leaf: a
scalar or enum read from an attribute or a synchronous method; a plain object:
an object read from an attribute), and a field written with arguments or
directives is not. Schema extensions that wrap resolvers (a `resolve` hook,
graphql-core middleware) turn the shortcut off for the whole operation.

A plain object field is read directly and completed by graphql-core's
`complete_object_value`, without the resolve step, the resolver wrapper and
the two completion dispatches around it (each edge of a board's page has one:
~10 % of a cold board query). A resolver asking for `info` gets a lazy one
(kimgraph.lazy_info).
"""

from __future__ import annotations

from typing import Any, cast

from graphql import GraphQLObjectType, GraphQLOutputType, GraphQLResolveInfo
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kimgraph.field_steps import LeafStep, ObjectStep, Step, plain_step, schema_steps
from kimgraph.lazy_info import lazy_info

# What a completed field's value is when it is no awaitable: checked before
# asking is_awaitable (a call per field).
_COMPLETED = frozenset({type(None), bool, int, float, str, dict, list})
# What an object's fields are when all are plain fields: (response name,
# field group, step) each, in the order of the selection set.
ObjectSteps = list[tuple[str, FieldDetailsList, Step]]


class LeafFields(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with plain fields resolved directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reset_memo()

    def _reset_memo(self) -> None:
        # Each group is kept with its steps so that its id is not reused
        # meanwhile (as graphql-core's own memo of collected fields does).
        self._steps: dict[int, tuple[FieldDetailsList, Step | None]] = {}
        self._object_steps: dict[int, tuple[Any, ObjectSteps | None]] = {}

    def build_per_event_executor(self, payload: Any) -> Any:
        # A memo of its own per event, as for graphql-core's own memo
        # (kimgraph.memory.EventExecutor): a shared one would keep every
        # event's field groups alive for as long as the subscription.
        executor = cast(LeafFields, super().build_per_event_executor(payload))
        executor._reset_memo()
        return executor

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """An object all of whose selected fields are plain in one loop."""
        steps = self._steps_of_object(parent_type, grouped_field_set)
        if steps is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        pending: list[str] = []
        plain, is_awaitable = _COMPLETED, self.is_awaitable
        try:
            for response_name, field_details_list, step in steps:
                if isinstance(step, ObjectStep):
                    result = self._object(
                        step, parent_type, source_value,
                        field_details_list, Path(path, response_name,
                        parent_type.name), position_context,
                    )  # fmt: skip
                else:
                    # Its path is made only if an error or an Info needs it.
                    result = self._leaf(
                        step, parent_type, source_value, field_details_list,
                        path, response_name, position_context,
                    )  # fmt: skip
                results[response_name] = result
                if result.__class__ not in plain and is_awaitable(result):
                    pending.append(response_name)
        except Exception:
            # As graphql-core's execute_fields: others' awaitables may fail too.
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        return _gathered(results, pending)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        step = self._step(parent_type, field_details_list)
        if step is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        if isinstance(step, ObjectStep):
            return self._object(
                step, parent_type, source, field_details_list, path, position_context
            )
        return self._leaf(
            step, parent_type, source, field_details_list, path.prev, path.key,
            position_context,
        )  # fmt: skip

    def _object(
        self,
        step: ObjectStep,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain object field's value, completed as graphql-core completes it."""
        return_type = step.field_def.type
        try:
            value = step.resolve(source)
            if _null(step, parent_type, value):
                return None
            if self.is_awaitable(value):
                return self._complete_awaitable(
                    step, parent_type, field_details_list, path, value,
                    position_context,
                )  # fmt: skip
            # Only an is_type_of predicate reads the info.
            info: Any = None
            if step.object_type.is_type_of:
                info = self.resolve_info(step, parent_type, field_details_list, path)
            completed = self.complete_object_value(
                step.object_type, field_details_list, info, path, value,
                position_context,
            )  # fmt: skip
        # Any error becomes this field's error, as graphql-core's execute_field does.
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(
                completed, return_type, field_details_list, path
            )
        return completed

    async def _await_completed(
        self,
        completed: Any,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        """An awaited completion, its error this field's (graphql-core's)."""
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _leaf(
        self,
        step: LeafStep,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        key: str | int,
        position_context: Any,
    ) -> Any:
        """A plain leaf field's value, completed as graphql-core completes it.

        Its path is `parent_path` and `key`, made into a Path only if needed.
        """
        return_type = step.field_def.type
        try:
            if step.resolve is not None:
                value = step.resolve(source)
            else:
                # (No typing.cast here: its Callable[...] is built on every call.)
                with_info = step.resolve_with_info
                assert with_info is not None
                info = lazy_info(
                    self, step, parent_type, field_details_list, parent_path, key
                )
                value = with_info(source, info)
            if _null(step, parent_type, value):
                return None
            if self.is_awaitable(value):  # a synchronous resolver said otherwise
                return self._complete_awaitable(
                    step, parent_type, field_details_list,
                    Path(parent_path, key, parent_type.name), value,
                    position_context,
                )  # fmt: skip
            coerced = step.leaf.coerce_output_value(value)
            if coerced is Undefined or coerced is None:
                return self.complete_leaf_value(step.leaf, value)  # its TypeError
            return coerced
        # Any error becomes this field's error, as graphql-core's execute_field does.
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(
                raw_error,
                return_type,
                field_details_list,
                Path(parent_path, key, parent_type.name),
            )
            return None

    def _complete_awaitable(
        self,
        step: Step,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """An awaitable value, completed by graphql-core once it is awaited."""
        info = self.resolve_info(step, parent_type, field_details_list, path)
        return self.complete_awaitable_value(
            step.field_def.type, field_details_list, info, path, value,
            position_context,
        )  # fmt: skip

    def resolve_info(
        self,
        step: Step,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> GraphQLResolveInfo[Any]:
        """The resolve info graphql-core would build for the field."""
        return self.build_resolve_info(
            step.field_def, to_nodes(field_details_list), parent_type, path
        )

    def _step(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Step | None:
        """The step of this field group if it is a plain field, else None.

        Remembered per field group for this operation (a list's items share
        their groups) and per schema field for the schema's life.
        """
        known = self._steps.get(id(field_details_list))
        if known is not None:
            return known[1]
        step = None
        node = field_details_list[0].node
        if not (self._resolvers_wrapped() or node.arguments or node.directives):
            field_name = node.name.value
            steps = schema_steps(self.schema)
            key = (parent_type.name, field_name)
            if key not in steps:
                field_def = self.schema.get_field(parent_type, field_name)
                steps[key] = plain_step(field_name, field_def) if field_def else None
            step = steps[key]
        self._steps[id(field_details_list)] = (field_details_list, step)
        return step

    def _steps_of_object(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> ObjectSteps | None:
        """The steps of every selected field, if all are plain; else None."""
        known = self._object_steps.get(id(grouped_field_set))
        if known is not None:
            return known[1]
        steps: ObjectSteps | None = []
        for response_name, field_details_list in grouped_field_set.items():
            step = self._step(parent_type, field_details_list)
            if step is None or steps is None:
                steps = None
                continue
            steps.append((response_name, field_details_list, step))
        self._object_steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def _resolvers_wrapped(self) -> bool:
        """Whether schema extensions wrap resolvers (a `resolve` hook).

        Strawberry passes a manager always, with middleware only for those.
        """
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)


async def _gathered(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """The results once their awaitables settled (graphql-core's get_results)."""
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
        return results
    settled = await gather_with_cancel(*(results[name] for name in pending))
    results.update(zip(pending, settled, strict=True))
    return results


def _null(step: Step, parent_type: GraphQLObjectType, value: Any) -> bool:
    """Whether the value is null; raises an error value, and a null where the
    type allows none (graphql-core's message)."""
    if isinstance(value, Exception):
        raise value
    if value is None or value is Undefined:
        if step.non_null:
            raise TypeError(
                "Cannot return null for non-nullable field"
                f" {parent_type.name}.{step.field_name}."
            )
        return True
    return False
