"""Plain leaf fields resolved directly: the same answers and errors, less work."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from graphql.pyutils import Path
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kimgraph.field_steps import plain_leaf, plain_object
from kimgraph.leaf_fields import LeafFields


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    name: str
    note: str | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def colour(self) -> Colour:
        return Colour.RED

    @strawberry.field
    def viewer(self, info: strawberry.Info) -> str:
        return f"{info.context['viewer']} at {info.path.as_list()}"

    @strawberry.field
    def owner(self, info: strawberry.Info) -> str:
        return f"{info.context['viewer']} owns {self.name}"

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"{self.name} is broken")

    @strawberry.field
    def missing(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def greet(self, who: str) -> str:
        return f"{self.name} greets {who}"

    @strawberry.field(permission_classes=[Deny])  # type: ignore[untyped-decorator]
    def secret(self) -> str:
        return "secret"

    @strawberry.field
    async def later(self) -> str:
        return self.name


@strawberry.interface
class Labelled:
    label: str


@strawberry.type
class Box(Labelled):
    """Implements an interface: graphql-core checks its is_type_of."""


@strawberry.type
class Holder:
    item: Item
    maybe: Item | None
    box: Box | None


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [Item(name="a", note=None), Item(name="b", note="n")]

    @strawberry.field
    def holders(self) -> list[Holder | None]:
        a, b = Item(name="a", note=None), Item(name="b", note="n")
        return [
            Holder(item=a, maybe=None, box=Box(label="x")),
            Holder(item=None, maybe=b, box=None),  # type: ignore[arg-type]
            Holder(item=b, maybe=a, box=a),  # type: ignore[arg-type]
        ]


class Counting(LeafFields):
    """Counts the resolve infos built: graphql-core builds one per field."""

    built = 0

    def build_resolve_info(
        self,
        field_def: GraphQLField,
        field_nodes: Any,
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> GraphQLResolveInfo[Any]:
        Counting.built += 1
        return super().build_resolve_info(field_def, field_nodes, parent_type, path)


class Upper(SchemaExtension):
    """A resolve hook: every string upper-cased."""

    def resolve(
        self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


QUERY_ITEMS = '{ items { name note shout colour viewer owner broken greet(who: "c") } }'
QUERY_HOLDERS = "{ holders { item { name owner } maybe { name } box { label } } }"
QUERY_MISSING = "{ items { name missing } }"
QUERY_SECRET = "{ items { secret } }"


def schema(executor: type[StrawberryGraphQLCoreExecutionContext]) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=executor)


def answer(result: Any) -> dict[str, Any]:
    return {
        "data": result.data,
        "errors": [(e.message, e.path) for e in result.errors or []],
    }


@pytest.mark.parametrize(
    "executor", [StrawberryGraphQLCoreExecutionContext, LeafFields]
)
async def test_leaf_fields_answer_as_graphql_core_does(
    executor: type[StrawberryGraphQLCoreExecutionContext],
) -> None:
    # given: the same schema run by graphql-core's executor, then by LeafFields
    context = {"viewer": "v"}
    # when
    items = await schema(executor).execute(QUERY_ITEMS, context_value=context)
    missing = await schema(executor).execute(QUERY_MISSING, context_value=context)
    secret = await schema(executor).execute(QUERY_SECRET, context_value=context)
    # then: values, coercion, nulls and errors are the same
    assert answer(items) == {
        "data": {
            "items": [
                {
                    "name": name,
                    "note": note,
                    "shout": name.upper(),
                    "colour": "RED",
                    "viewer": f"v at ['items', {index}, 'viewer']",
                    "owner": f"v owns {name}",
                    "broken": None,
                    "greet": f"{name} greets c",
                }
                for index, (name, note) in enumerate([("a", None), ("b", "n")])
            ]
        },
        "errors": [
            ("a is broken", ["items", 0, "broken"]),
            ("b is broken", ["items", 1, "broken"]),
        ],
    }
    null = "Cannot return null for non-nullable field Item.missing."
    assert answer(missing) == {
        "data": {"items": [None, None]},
        "errors": [(null, ["items", 0, "missing"]), (null, ["items", 1, "missing"])],
    }
    assert answer(secret) == {
        "data": {"items": [None, None]},
        "errors": [
            ("denied", ["items", 0, "secret"]),
            ("denied", ["items", 1, "secret"]),
        ],
    }


@pytest.mark.parametrize(
    "executor", [StrawberryGraphQLCoreExecutionContext, LeafFields]
)
async def test_plain_object_fields_answer_as_graphql_core_does(
    executor: type[StrawberryGraphQLCoreExecutionContext],
) -> None:
    # given: holders of items and boxes, one with a null in a non-null field,
    # one with an item where a box belongs
    # when
    result = await schema(executor).execute(
        QUERY_HOLDERS, context_value={"viewer": "v"}
    )
    # then
    assert answer(result) == {
        "data": {
            "holders": [
                {
                    "item": {"name": "a", "owner": "v owns a"},
                    "maybe": None,
                    "box": {"label": "x"},
                },
                None,
                {
                    "item": {"name": "b", "owner": "v owns b"},
                    "maybe": {"name": "a"},
                    "box": None,
                },
            ]
        },
        "errors": [
            (
                "Cannot return null for non-nullable field Holder.item.",
                ["holders", 1, "item"],
            ),
            (
                "Expected value of type 'Box' but got: <Item instance>.",
                ["holders", 2, "box"],
            ),
        ],
    }


async def test_plain_fields_build_no_resolve_info() -> None:
    # given: two items of eight fields: one reads its info's path, one its
    # context only, one has an argument
    Counting.built = 0
    # when
    result = await schema(Counting).execute(QUERY_ITEMS, context_value={"viewer": "v"})
    # then: an info for `items`, and per item for `viewer` and `greet` only
    assert result.errors is not None
    assert len(result.errors) == 2
    assert Counting.built == 1 + 2 * 2
    # when: holders' objects, of a type without an is_type_of and of one with
    Counting.built = 0
    result = await schema(Counting).execute(
        "{ holders { item { name } box { label } } }"
    )
    # then: an info for `holders`, and per holder with a box for `box` only
    assert result.errors is not None
    assert Counting.built == 1 + 2


async def test_a_resolve_hook_still_sees_every_field() -> None:
    # given: a schema extension wrapping every resolver
    upper = strawberry.Schema(
        query=Query, execution_context_class=LeafFields, extensions=[Upper]
    )
    # when
    result = await upper.execute("{ items { name shout } }")
    # then
    assert result.data == {
        "items": [{"name": "A", "shout": "A"}, {"name": "B", "shout": "B"}]
    }


def test_only_plain_leaf_fields_have_a_step() -> None:
    # given
    fields = schema(LeafFields)._schema.get_type("Item").fields  # type: ignore[union-attr]
    # when
    planned = {name for name, field in fields.items() if plain_leaf(name, field)}
    # then: not with an argument, a permission class or async
    assert planned == {
        "name", "note", "shout", "colour", "viewer", "owner", "broken", "missing",
    }  # fmt: skip
    # and: objects read from an attribute, whatever their nullability
    holder = schema(LeafFields)._schema.get_type("Holder").fields  # type: ignore[union-attr]
    objects = {name for name, field in holder.items() if plain_object(name, field)}
    assert objects == {"item", "maybe", "box"}
    assert not any(plain_object(name, field) for name, field in fields.items())
