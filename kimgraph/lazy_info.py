"""Strawberry's Info for a resolver, its resolve info built only when read.

kimgraph.leaf_fields calls a plain leaf field's resolver directly; one that
asks for `info` gets the Info Strawberry would give it. Most read nothing but
`info.context` (a board's `status` reads the clock there), which needs no
resolve info: graphql-core's is a 14-field tuple with the field's nodes and
path, built here on the first read of anything else (`info.path`,
`info.selected_fields`, ...).
"""

from __future__ import annotations

from typing import Any, Protocol

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

from kimgraph.field_steps import DEFINITION, LeafStep


class Building(Protocol):
    """What a lazy Info asks of the executor that made it."""

    context_value: Any
    schema: GraphQLSchema

    def resolve_info(
        self,
        step: LeafStep,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> GraphQLResolveInfo[Any]: ...


def lazy_info(
    executor: Building,
    step: LeafStep,
    parent_type: GraphQLObjectType,
    field_details_list: FieldDetailsList,
    parent_path: Path | None,
    key: str | int,
) -> Any:
    """The Info of the field at `parent_path` and `key`, an instance of the
    schema's own Info class."""
    lazy = _lazy_class(executor.schema)
    info = lazy.__new__(lazy)  # its attributes set here, not by Info's __init__
    info._field = step.field_def.extensions[DEFINITION]
    info._made_from = (executor, step, parent_type, field_details_list, parent_path)
    info._key = key
    info._raw = None
    return info


def _lazy_class(schema: GraphQLSchema) -> Any:
    """The schema's Info class, made lazy; kept on the schema."""
    lazy = getattr(schema, "_kimgraph_lazy_info", None)
    if lazy is None:
        info_class = schema._strawberry_schema.config.info_class  # type: ignore[attr-defined]
        lazy = type(
            f"Lazy{info_class.__name__}",
            (info_class,),
            {
                "_raw_info": property(_raw_info),
                "context": property(_context),
                "__doc__": "Strawberry's Info; its resolve info made on first read.",
            },
        )
        schema._kimgraph_lazy_info = lazy  # type: ignore[attr-defined]
    return lazy


def _raw_info(self: Any) -> Any:
    if self._raw is None:
        executor, step, parent_type, fields, parent_path = self._made_from
        path = Path(parent_path, self._key, parent_type.name)
        self._raw = executor.resolve_info(step, parent_type, fields, path)
    return self._raw


def _context(self: Any) -> Any:
    return self._made_from[0].context_value
