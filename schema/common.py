"""Node, connections and their paging, and UserError: shared by every domain."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.extensions.field_extension import (
    AsyncExtensionResolver,
    FieldExtension,
    SyncExtensionResolver,
)
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from kimgraph.context import Info
from kimgraph.errors import (
    InvalidArgumentError,
    Problem,
    ProblemCode,
    UserInputError,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
R = TypeVar("R")


class Ordered(Protocol):
    """A key of a keyset order (a code, an id)."""

    def __lt__(self, other: Any, /) -> bool: ...


Key = TypeVar("Key", bound=Ordered)

First = Annotated[
    int | None,
    strawberry.argument(description="Page size: default 20, at most 100."),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return items after this cursor (an edge's `cursor` or "
        "`pageInfo.endCursor`)."
    ),
]


def schema_type(info: Info, name: str) -> Any:
    """The class of the running schema's object type `name`.

    For a field that makes a type of a module above its own, which it names
    with strawberry.lazy: taking the class from the schema, as Strawberry's
    relay does for node ids, keeps schema modules importing one way only.
    """
    definition = info.schema.get_type_by_name(name)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise LookupError(f"the schema has no object type {name}")
    return definition.origin


def page_size(first: int | None) -> int:
    """`first` checked against the documented range."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(
            f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}"
        )
    return first


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError


# Connections page forward only, with `first` and `after` (docs/http.md,
# "Relay"): `last`/`before` would need a reversed keyset query in every list and
# a cost model that bounds `last` as it bounds `first` (kimgraph/cost.py).
@strawberry.type(
    description="Where a page of a connection sits in the whole list (the Relay "
    "connection spec's PageInfo). Lists page forward only, with `first` and `after`."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True if more items follow this page."
    )
    has_previous_page: bool = strawberry.field(
        description="Always false: lists page forward only (`first`/`after`), and "
        "the Relay connection spec lets forward pagination answer false rather "
        "than count the items before `after`, which would cost a query per page."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item of this page. Null when the page "
        "is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of this page; pass it as `after`. "
        "Null when the page is empty."
    )


@strawberry.type(description="One item of a connection, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, in the Relay connection shape.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(
        description="Number of items in the whole list, across all pages."
    )


def page_info(edges: Sequence[Edge[Any]], has_next_page: bool) -> PageInfo:
    """Where a page with these edges sits; never a previous page (forward only)."""
    return PageInfo(
        has_next_page=has_next_page,
        has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def connection(
    rows: Sequence[R],
    has_next_page: bool,
    total: int,
    cursor: Callable[[R], str],
    node: Callable[[R], T],
) -> Connection[T]:
    """A page of rows as a connection: each row's cursor and node."""
    edges = [Edge(cursor=cursor(row), node=node(row)) for row in rows]
    return Connection(
        edges=edges, page_info=page_info(edges, has_next_page), total_count=total
    )


def loaded_page(
    rows: Sequence[R],
    after: Key | None,
    limit: int,
    key: Callable[[R], Key],
) -> tuple[list[R], bool, int]:
    """A page of a list already loaded in key order: rows after `after`; more?; all.

    What a keyset query would answer, for a list a loader read whole.
    """
    rest = [row for row in rows if after is None or after < key(row)]
    return rest[:limit], len(rest) > limit, len(rows)


# Each value is kimgraph's ProblemCode member: the code a domain error carries
# is the one the client reads, and a misspelt code does not type-check.
@strawberry.enum(description="Machine-readable reason a mutation did not happen.")
class UserErrorCode(enum.Enum):
    INVALID = strawberry.enum_value(
        ProblemCode.INVALID, description="An input is malformed or breaks a rule."
    )
    NOT_FOUND = strawberry.enum_value(
        ProblemCode.NOT_FOUND, description="A referenced object does not exist."
    )
    OUT_OF_SCOPE = strawberry.enum_value(
        ProblemCode.OUT_OF_SCOPE,
        description="The target lies outside the caller's region.",
    )
    INVALID_TRANSITION = strawberry.enum_value(
        ProblemCode.INVALID_TRANSITION,
        description="The workflow does not allow this step.",
    )
    CONFLICT = strawberry.enum_value(
        ProblemCode.CONFLICT, description="The object changed since the given revision."
    )
    RATE_LIMITED = strawberry.enum_value(
        ProblemCode.RATE_LIMITED, description="Too many requests; try again later."
    )
    INVALID_CREDENTIALS = strawberry.enum_value(
        ProblemCode.INVALID_CREDENTIALS,
        description="Wrong username or password; or, for aspirationReporterStep, "
        "a wrong ticket or reporter key (the same answer for both).",
    )
    PASSWORD_CHANGE_REQUIRED = strawberry.enum_value(
        ProblemCode.PASSWORD_CHANGE_REQUIRED,
        description="The password was reset by an ADMIN: it only sets a new one, "
        "with accountPasswordChange.",
    )


@strawberry.type(description="Why a mutation's input was refused; nothing changed.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the offending input, e.g. ['input', 'name']; null when "
        "the whole input is at fault."
    )
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        """The GraphQL form of a domain problem."""
        return cls(
            field=problem.field,
            code=UserErrorCode(problem.code),
            message=problem.message,
        )


class UserErrors(FieldExtension):
    """Turn a UserInputError into the payload's userErrors, the object left null."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def resolve(
        self, next_: SyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        raise NotImplementedError("mutations with userErrors are async")

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except UserInputError as error:
            payload: Callable[..., Any] = self.field.type  # type: ignore[assignment]
            return payload(
                user_errors=[UserError.from_problem(p) for p in error.problems]
            )


def mutation(description: str) -> Any:
    """A mutation field whose domain errors become userErrors."""
    return strawberry.mutation(description=description, extensions=[UserErrors()])


def user_errors_field(description: str) -> Any:
    """A payload's userErrors field; `description` says what did not happen."""
    return strawberry.field(default_factory=list, description=description)
