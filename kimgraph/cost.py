"""What an operation costs: the most objects its result can hold, before it runs.

Every object in the result costs 1; a scalar costs nothing. A list field holds
at most its declared bound of items, a connection's `edges` at most the `first`
of the field that returned it, and a field inside a list counts once per item:
nested lists multiply. The sum is an upper bound the server can check against
a budget from the document alone, before any resolver reads a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_leaf_type,
)
from graphql.utilities import get_operation_ast


class _Page:
    def __repr__(self) -> str:
        return "PAGE"


# The bound of a connection's `edges`: the `first` of the field that returned it.
PAGE: Final = _Page()

Bound = int | _Page


@dataclass(frozen=True, slots=True)
class CostModel:
    """How many items each list field may hold, and the page sizes of connections.

    bounds maps a field's coordinate ("Kecamatan.desa") to its bound; a field
    declared on an interface ("Region.ancestors") binds every type implementing
    it. A page is `first` clamped to 0..max_page, default_page when it is
    absent or null.
    """

    bounds: Mapping[str, Bound]
    default_page: int
    max_page: int

    def bound(self, parent: GraphQLObjectType, field_name: str) -> Bound | None:
        """The declared bound of parent's list field, or None if none is."""
        for type_ in (parent, *parent.interfaces):
            declared = self.bounds.get(f"{type_.name}.{field_name}")
            if declared is not None:
                return declared
        return None


def unbounded_lists(schema: GraphQLSchema, model: CostModel) -> list[str]:
    """Coordinates of the list fields of objects that have no declared bound.

    Lists of scalars are left out: they multiply nothing.
    """
    missing = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            multiplies = _is_list(field) and is_composite_type(
                get_named_type(field.type)
            )
            if multiplies and model.bound(type_, name) is None:
                missing.append(f"{type_.name}.{name}")
    return sorted(missing)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    model: CostModel,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the document's operation (the named one) with these variables.

    The document must be valid. Fields under @skip or @include count anyway,
    and introspection fields (`__schema`, `__type`) are free: their size is the
    schema's, which graphql-core's introspection depth rule already limits.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise ValueError(f"the document has no operation {operation_name!r}")
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise ValueError(f"the schema has no {operation.operation.value} type")
    pricing = _Pricing(schema, document, operation, model, variables or {})
    return pricing.of_object((operation.selection_set,), root, model.max_page)


class CacheInfo(NamedTuple):
    """How often a remembered cost was found, and how often computed."""

    hits: int
    misses: int


class OperationCosts:
    """operation_cost, remembered per document and numeric variable values.

    Build it once per server. The costs live in the memo of the document they
    are about (kimgraph.documents), so they go when the parser cache drops the
    document and never keep it alive; a document not cached has no memo, and
    its cost is computed each time. A board asking again with another cursor
    finds its cost remembered.
    """

    # Distinct page sizes remembered per document: a client sending every
    # number in turn makes no memo grow past this.
    MAX_PER_DOCUMENT = 32

    def __init__(self, model: CostModel) -> None:
        self.model = model
        self.hits = 0
        self.misses = 0

    def __call__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        memo: dict[Any, Any] | None = None,
    ) -> int:
        # Only numbers can become a `first`: any other value fails Int coercion
        # before a resolver runs, so leaving it out of the key loses nothing.
        given = variables if isinstance(variables, Mapping) else {}
        numbers = tuple(
            sorted(
                (name, value)
                for name, value in given.items()
                if value is None or isinstance(value, int | float)
            )
        )
        costs = memo.setdefault(_COSTS, {}) if memo is not None else {}
        key = (operation_name, numbers)
        cost: int | None = costs.get(key)
        if cost is not None:
            self.hits += 1
            return cost
        self.misses += 1
        cost = operation_cost(
            schema, document, self.model, operation_name, dict(numbers)
        )
        if len(costs) < self.MAX_PER_DOCUMENT:
            costs[key] = cost
        return cost

    def cache_info(self) -> CacheInfo:
        """The remembered costs' hits and misses."""
        return CacheInfo(self.hits, self.misses)


_COSTS = "kimgraph.cost"


def _is_list(field: GraphQLField) -> bool:
    return isinstance(get_nullable_type(field.type), GraphQLList)


class _Pricing:
    """One operation's cost with its variables; each selection priced once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        model: CostModel,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.model = model
        self.variables = variables
        self.defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        # Shared fragments are priced once per type and page: a document that
        # spreads one fragment many times over costs time linear in its size.
        self.memo: dict[tuple[tuple[int, ...], str, int], int] = {}

    def of(
        self, selections: Sequence[SelectionSetNode], type_: GraphQLNamedType, page: int
    ) -> int:
        """The cost of the merged selection sets on one value of type_."""
        if isinstance(type_, GraphQLObjectType):
            return self.of_object(selections, type_, page)
        assert isinstance(type_, GraphQLInterfaceType | GraphQLUnionType)
        # A value has one concrete type: the dearest of them is the bound.
        possible = self.schema.get_possible_types(type_)
        return max((self.of_object(selections, t, page) for t in possible), default=0)

    def of_object(
        self,
        selections: Sequence[SelectionSetNode],
        type_: GraphQLObjectType,
        page: int,
    ) -> int:
        """The cost of the merged selection sets on a value of type_.

        page is the `first` of the field that returned the value: the size of
        its `edges` if it is a connection.
        """
        key = (tuple(id(s) for s in selections), type_.name, page)
        cost = self.memo.get(key)
        if cost is None:
            cost = sum(
                self.of_field(type_, nodes, page)
                for nodes in self.fields(selections, type_)
            )
            self.memo[key] = cost
        return cost

    def of_field(
        self, parent: GraphQLObjectType, nodes: list[FieldNode], page: int
    ) -> int:
        """Its items (1 if not a list), each 1 plus the cost of its selections."""
        name = nodes[0].name.value
        field = parent.fields.get(name)
        if field is None or name.startswith("__"):
            return 0
        type_ = get_named_type(field.type)
        if is_leaf_type(type_):
            return 0
        count = self.count(parent, name, field, page)
        inner = [node.selection_set for node in nodes if node.selection_set]
        return count * (1 + self.of(inner, type_, self.first(field, nodes[0])))

    def count(
        self, parent: GraphQLObjectType, name: str, field: GraphQLField, page: int
    ) -> int:
        """How many items the field holds at most: 1 unless it is a list."""
        if not _is_list(field):
            return 1
        bound = self.model.bound(parent, name)
        if bound is PAGE:
            return page
        if isinstance(bound, int):
            return bound
        # A list the model does not name is a bug the bounds test catches;
        # until it is fixed the list counts as a full page, not as one item.
        return self.model.max_page

    def first(self, field: GraphQLField, node: FieldNode) -> int:
        """The page the field's `first` asks for; max_page if it takes none."""
        if "first" not in field.args:
            return self.model.max_page
        literal = next(
            (a.value for a in node.arguments or () if a.name.value == "first"), None
        )
        if isinstance(literal, VariableNode):
            name = literal.name.value
            if name in self.variables:
                return self.page(self.variables[name])
            literal = self.defaults.get(name)
        if literal is None or isinstance(literal, NullValueNode):
            return self.model.default_page
        if isinstance(literal, IntValueNode):
            return self.page(int(literal.value))
        return self.model.max_page  # not an Int: refused before it runs

    def page(self, first: Any) -> int:
        """A value of `first` as the page it gets."""
        if first is None:
            return self.model.default_page
        integral = isinstance(first, int) or (
            isinstance(first, float) and first.is_integer()
        )
        if isinstance(first, bool) or not integral:
            return self.model.max_page  # not an Int: refused before it runs
        return max(0, min(int(first), self.model.max_page))

    def fields(
        self, selections: Sequence[SelectionSetNode], type_: GraphQLObjectType
    ) -> Iterator[list[FieldNode]]:
        """The fields selected on a value of type_, grouped by response key."""
        groups: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(selection_set, type_, groups, set())
        return iter(groups.values())

    def _collect(
        self,
        selection_set: SelectionSetNode,
        type_: GraphQLObjectType,
        groups: dict[str, list[FieldNode]],
        spread: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                groups.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self.applies(condition.name.value, type_):
                    self._collect(selection.selection_set, type_, groups, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue
                if self.applies(fragment.type_condition.name.value, type_):
                    self._collect(
                        fragment.selection_set, type_, groups, spread | {name}
                    )

    def applies(self, condition: str, type_: GraphQLObjectType) -> bool:
        """A fragment on `condition` applies to a value of type_."""
        if condition == type_.name:
            return True
        abstract = self.schema.get_type(condition)
        return isinstance(
            abstract, GraphQLInterfaceType | GraphQLUnionType
        ) and self.schema.is_sub_type(abstract, type_)
