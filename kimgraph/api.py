"""Composition root: merges the resolvers' roots into the one Schema."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql.error import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from kimgraph.context import Context
from kimgraph.cost import PAGE, Bound, CostModel, OperationCosts
from kimgraph.loaders import Loaders
from kimgraph.settings import Settings
from resolvers.accounts import AccountMutations, AccountQueries
from resolvers.announcements import (
    SHAREABLE_FIELDS as SHAREABLE_ANNOUNCEMENT_FIELDS,
)
from resolvers.announcements import (
    AnnouncementMutations,
    AnnouncementQueries,
    AnnouncementSubscriptions,
)
from resolvers.aspirations import (
    AspirationMutations,
    AspirationQueries,
    AspirationSubscriptions,
)
from resolvers.kims import KimMutations, KimQueries
from resolvers.nodes import NodeQueries
from resolvers.regions import RegionQueries
from schema.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.errors import QUERY_TOO_COMPLEX, ApiErrors, assign_code, is_unexpected
from schema.regions import REGION_TYPES

logger = logging.getLogger("kimgraph.api")

MAX_ALIASES = 30
MAX_TOKENS = 5_000
# Per event, and paid again for every subscriber of every publish: far below
# a query's budget, above what a board (2) or a full event (~110) costs.
MAX_SUBSCRIPTION_COST = 500

# The most items each list field of objects holds (kimgraph.cost); a test
# fails while a list field has none. The region counts are the national
# file's largest (Kemendagri 2025: 38 kabupaten/kota in a provinsi, 51
# kecamatan in a kabupaten, 31 in a kota, 108 desa and 20 kelurahan in a
# kecamatan) with room to grow; the others are the domain's limits or, where
# it sets none, generous estimates.
LIST_BOUNDS: dict[str, Bound] = {
    "RegionConnection.edges": PAGE,
    "KimConnection.edges": PAGE,
    "AnnouncementConnection.edges": PAGE,
    "AspirationConnection.edges": PAGE,
    "Provinsi.kabupatenKota": 50,
    "Kabupaten.kecamatan": 60,
    "Kota.kecamatan": 60,
    "Kecamatan.desa": 120,
    "Kecamatan.kelurahan": 40,
    "Region.ancestors": 3,  # provinsi, kabupaten or kota, kecamatan
    "Announcement.targets": 100,  # 50 when published, then relays
    "Kim.members": 30,
    "Aspiration.history": 50,
    "Aspiration.responses": 50,
    "Query.apiKeys": 100,
    **{
        f"{payload}Payload.userErrors": 20
        for payload in (
            "AnnouncementPublish",
            "AnnouncementUpdate",
            "AnnouncementWithdraw",
            "AnnouncementRelay",
            "AspirationSubmit",
            "AspirationTransition",
            "AspirationRespond",
            "AspirationModerate",
            "KimRegister",
            "KimUpdate",
            "KimMemberAdd",
            "KimMemberRemove",
            "TokenCreate",
            "TokenRevoke",
        )
    },
}
COST_MODEL = CostModel(LIST_BOUNDS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@strawberry.type(
    description="Read regions, KIM and the caller; find any object by its global id."
)
class Query(
    RegionQueries,
    KimQueries,
    AnnouncementQueries,
    AspirationQueries,
    AccountQueries,
    NodeQueries,
):
    pass


@strawberry.type(description="Change data; expected failures come back as userErrors.")
class Mutation(
    AccountMutations, KimMutations, AnnouncementMutations, AspirationMutations
):
    pass


@strawberry.type(description="Live changes over WebSocket.")
class Subscription(AnnouncementSubscriptions, AspirationSubscriptions):
    pass


# The Subscription fields whose identical subscriptions share one execution
# (kimgraph.live.sharing), as each domain's resolvers declare them.
SHAREABLE_FIELDS = SHAREABLE_ANNOUNCEMENT_FIELDS


class FreshLoaders(SchemaExtension):
    """A new set of DataLoaders per operation, also on a long-lived WebSocket."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders = Loaders()
        yield


# Shared by every request, as strawberry's ValidationCache does: a hit needs
# the same document and the same rule classes, which build_schema makes once.
validate_cached = lru_cache(maxsize=512)(validate_document)


class Admission(SchemaExtension):
    """Validation, then the operation's cost against its budget; both remembered.

    Both come before any resolver runs: a refused operation reads nothing.
    """

    def __init__(self, costs: OperationCosts, max_query_cost: int) -> None:
        self.costs = costs
        self.max_query_cost = max_query_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        schema = context.schema._schema
        errors = validate_cached(schema, document, context.validation_rules)
        if not errors:
            cost = self.costs(
                schema, document, context.operation_name, context.variables
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


def _too_costly(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"The operation may return {cost} objects, over the limit of {budget}: "
        "ask for smaller pages (`first`) or fewer nested lists.",
        extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": budget},
    )


class Schema(strawberry.Schema):
    """The KIMgraph schema: codes every error, logs only the unexpected ones."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run a query or mutation; a subscription runs only through subscribe().

        Strawberry's HTTP view lets GET and POST carry subscriptions, for a
        multipart protocol this server does not offer; executed once, a
        subscription's field is null, a bug's error. InvalidOperationTypeError
        instead: the view answers 400.
        """
        allowed = set(allowed_operation_types or OperationType)
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed - {OperationType.SUBSCRIPTION},
            operation_extensions=operation_extensions,
        )

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        # Strawberry calls this for every error, before extensions mask any.
        for error in errors:
            assign_code(error)
            if is_unexpected(error):
                logger.error(
                    "unexpected error at %s: %s",
                    error.path,
                    error.message,
                    exc_info=error.original_error,
                )


def build_schema(settings: Settings) -> Schema:
    """The schema with its limits and error policy."""
    # The rule classes are made here, once: each limiter makes a new class per
    # instance, and a new class per request would make every request miss
    # the validation cache.
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    costs = OperationCosts(COST_MODEL)
    max_query_cost = settings.max_query_cost
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(REGION_TYPES),
        extensions=[
            ApiErrors,
            FreshLoaders,
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=512),
            lambda: Admission(costs, max_query_cost),
        ],
    )
