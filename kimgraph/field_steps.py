"""Which schema fields are plain, and how to resolve one without the machinery.

kimgraph.leaf_fields executes plain fields directly (docs/performance.md, "The
HTTP read path"); this module decides, once per schema field, which fields are
plain and what resolving one takes.

A plain leaf field (`plain_leaf`): no arguments declared, no field extensions
(so no permission classes), not async, its resolver taking at most `self` and
`info`, and a scalar or enum type (nullable or not). A plain object field
(`plain_object`): the same with no resolver at all (an attribute, such as a
connection edge's `node`) and an object type. Whether the field as written in
a document is plain too (no arguments or directives written on it) is the
executor's to check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from strawberry.types.field import StrawberryField

# Strawberry's link from a GraphQLField to its StrawberryField.
DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class LeafStep:
    """How to resolve and complete one plain leaf field."""

    field_name: str
    field_def: GraphQLField
    leaf: GraphQLLeafType
    non_null: bool
    # The value from the source; or, for a resolver asking for `info`, from
    # the source and that Info.
    resolve: Callable[[Any], Any] | None
    resolve_with_info: Callable[[Any, Any], Any] | None


@dataclass(frozen=True, slots=True)
class ObjectStep:
    """How to read and complete one plain object field."""

    field_name: str
    field_def: GraphQLField
    object_type: GraphQLObjectType
    non_null: bool
    resolve: Callable[[Any], Any]


Step = LeafStep | ObjectStep


def plain_step(field_name: str, field_def: GraphQLField) -> Step | None:
    """A plain leaf or object field's step, else None."""
    return plain_leaf(field_name, field_def) or plain_object(field_name, field_def)


def plain_leaf(field_name: str, field_def: GraphQLField) -> LeafStep | None:
    """The step of a schema field if it is a plain leaf field, else None."""
    definition = _plain_definition(field_def)
    if definition is None:
        return None
    non_null, leaf = _unwrapped(field_def.type)
    if not is_leaf_type(leaf):
        return None
    resolver = definition.base_resolver
    if resolver is None:  # an attribute, read as Strawberry reads it
        return LeafStep(
            field_name, field_def, leaf, non_null, _reader(definition), None
        )
    func = resolver.wrapped_func
    if (
        resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or resolver.self_parameter is None
        or not callable(func)
    ):
        return None
    info_parameter = resolver.info_parameter
    if info_parameter is None:
        return LeafStep(field_name, field_def, leaf, non_null, func, None)
    with_info = partial(_call_with_info, func, info_parameter.name)
    return LeafStep(field_name, field_def, leaf, non_null, None, with_info)


def plain_object(field_name: str, field_def: GraphQLField) -> ObjectStep | None:
    """The step of a schema field if it is a plain object field, else None."""
    definition = _plain_definition(field_def)
    if definition is None or definition.base_resolver:
        return None
    non_null, object_type = _unwrapped(field_def.type)
    if not isinstance(object_type, GraphQLObjectType):
        return None
    return ObjectStep(field_name, field_def, object_type, non_null, _reader(definition))


def schema_steps(schema: GraphQLSchema) -> dict[tuple[str, str], Step | None]:
    """The steps of a schema's fields by (type name, field name), kept on the
    schema (it outlives requests); filled by the executor as it meets them."""
    steps: dict[tuple[str, str], Step | None] | None = getattr(
        schema, "_kimgraph_field_steps", None
    )
    if steps is None:
        steps = {}
        schema._kimgraph_field_steps = steps  # type: ignore[attr-defined]
    return steps


def _plain_definition(field_def: GraphQLField) -> StrawberryField | None:
    """The field's Strawberry definition if nothing but its resolver runs."""
    definition = field_def.extensions.get(DEFINITION)
    if not isinstance(definition, StrawberryField) or field_def.args:
        return None
    if definition.extensions or definition.is_async:
        return None
    return definition


def _unwrapped(return_type: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    """Whether the type is non-null, and the type inside."""
    if isinstance(return_type, GraphQLNonNull):
        return True, return_type.of_type
    return False, return_type


def _reader(definition: StrawberryField) -> Callable[[Any], Any]:
    """An attribute field's value from its source, read as Strawberry reads it."""
    default, name = definition.default_resolver, definition.python_name
    return attrgetter(name) if default is getattr else partial(_read, default, name)


def _read(default: Callable[[Any, str], Any], name: str, source: Any) -> Any:
    return default(source, name)


def _call_with_info(func: Callable[..., Any], name: str, source: Any, info: Any) -> Any:
    return func(source, **{name: info})
