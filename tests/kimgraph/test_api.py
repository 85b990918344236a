"""The schema's cost model: every list field priced, every page asked for."""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
)

from kimgraph.api import COST_MODEL, LIST_BOUNDS, build_schema
from kimgraph.cost import PAGE, unbounded_lists
from kimgraph.settings import Settings

SCHEMA = build_schema(Settings())._schema


def object_fields() -> dict[str, GraphQLField]:
    """Every field of every object and interface type, by coordinate."""
    return {
        f"{type_.name}.{name}": field
        for type_ in SCHEMA.type_map.values()
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        and not type_.name.startswith("__")
        for name, field in type_.fields.items()
    }


def test_every_list_of_objects_has_a_declared_bound() -> None:
    # A new list field fails here until LIST_BOUNDS (kimgraph/api.py) says how
    # many items it may hold: otherwise the cost limit could not see it multiply.
    assert unbounded_lists(SCHEMA, COST_MODEL) == []


def test_every_declared_bound_names_a_list_field() -> None:
    fields = object_fields()
    stale = sorted(
        coordinate
        for coordinate in LIST_BOUNDS
        if coordinate not in fields
        or not isinstance(get_nullable_type(fields[coordinate].type), GraphQLList)
    )
    assert stale == []


def test_every_connection_is_returned_by_a_field_that_takes_first() -> None:
    # A page is the `first` of the field that returned the connection; a field
    # without `first` would return as many edges as it liked.
    paged = {
        coordinate.split(".")[0]
        for coordinate, bound in LIST_BOUNDS.items()
        if bound is PAGE
    }
    without_first = sorted(
        coordinate
        for coordinate, field in object_fields().items()
        if get_named_type(field.type).name in paged and "first" not in field.args
    )
    assert paged == {
        "RegionConnection",
        "KimConnection",
        "AnnouncementConnection",
        "AspirationConnection",
        "WarningReviewConnection",
        "AccountConnection",
        "WebhookDeliveryConnection",
        "UnitConnection",
        "BoardPresenceConnection",
        "AuditEntryConnection",
    }
    assert without_first == []
