"""Composition root: merges the resolvers' roots into the one Schema."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from kimgraph.context import Context
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
from schema.errors import ApiErrors, assign_code, is_unexpected
from schema.regions import REGION_TYPES

logger = logging.getLogger("kimgraph.api")

MAX_ALIASES = 30
MAX_TOKENS = 5_000


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


class Schema(strawberry.Schema):
    """The KIMgraph schema: codes every error, logs only the unexpected ones."""

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
    depth = settings.max_query_depth
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(REGION_TYPES),
        extensions=[
            ApiErrors,
            FreshLoaders,
            lambda: QueryDepthLimiter(max_depth=depth),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )
