"""Composition root: merges the resolvers' roots into the one Schema."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from graphql.error import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from kimgraph import request_operations
from kimgraph.admission import Admission
from kimgraph.context import Context
from kimgraph.cost import PAGE, Bound, CostModel, OperationCosts
from kimgraph.documents import CachedParsing, DocumentCache
from kimgraph.errors import QueryTimeoutError
from kimgraph.graphql_http import is_request_error
from kimgraph.input_text import RefuseUnstorableText
from kimgraph.leaf_fields import LeafFields
from kimgraph.loaders import Loaders
from kimgraph.memory import EventExecutor
from kimgraph.persisted import PersistedQueries, query_store
from kimgraph.read_cache import CacheableReads, ReadCache
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
from resolvers.aspiration_events import (
    SHAREABLE_FIELDS as SHAREABLE_ASPIRATION_FIELDS,
)
from resolvers.aspiration_events import AspirationSubscriptions
from resolvers.aspirations import AspirationMutations, AspirationQueries
from resolvers.audit import AuditQueries
from resolvers.kims import KimMutations, KimQueries
from resolvers.nodes import NodeQueries
from resolvers.presence import PresenceQueries
from resolvers.regions import RegionQueries
from resolvers.reports import ReportQueries
from resolvers.units import UnitMutations, UnitQueries
from resolvers.warnings import WarningMutations, WarningQueries
from resolvers.webhooks import WebhookMutations, WebhookQueries
from schema.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.errors import ApiErrors, assign_code, is_unexpected
from schema.regions import REGION_TYPES

logger = logging.getLogger("kimgraph.api")

MAX_ALIASES = 30
MAX_TOKENS = 5_000

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
    "WarningReviewConnection.edges": PAGE,
    "AccountConnection.edges": PAGE,
    "BoardPresenceConnection.edges": PAGE,
    # kimgraph.reports: every value of an enum, every region directly below.
    "AspirationStats.byStatus": 12,
    "AspirationStats.byCategory": 12,
    "AspirationStats.byRegion": 120,
    "AnnouncementStats.byCategory": 11,
    "AnnouncementStats.byPriority": 3,
    "AuditEntryConnection.edges": PAGE,
    "UnitConnection.edges": PAGE,
    "Unit.members": 100,  # kimgraph.units.management.MAX_MEMBERS
    "WarningReview.suggestedTargets": 60,
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
    "Query.webhooks": 100,  # kimgraph.webhooks.endpoints.MAX_ENDPOINTS
    "WebhookDeliveryConnection.edges": PAGE,
    **{
        f"{payload}Payload.userErrors": 20
        for payload in (
            "AnnouncementPublish",
            "AnnouncementUpdate",
            "AnnouncementWithdraw",
            "AnnouncementRelay",
            "AspirationSubmit",
            "AspirationTransition",
            "AspirationReporterStep",
            "AspirationReporterKeyReissue",
            "AspirationRespond",
            "AspirationModerate",
            "KimRegister",
            "KimUpdate",
            "KimMemberAdd",
            "KimMemberRemove",
            "TokenCreate",
            "TokenRevoke",
            "WarningReviewPublish",
            "WarningReviewDismiss",
            "AccountDeactivate",
            "AccountReactivate",
            "AccountPasswordReset",
            "AccountRoleChange",
            "AccountPasswordChange",
            "AccountOfficeSet",
            "UnitCreate",
            "UnitUpdate",
            "UnitMemberAdd",
            "UnitMemberRemove",
            "UnitArchive",
            "WebhookSecret",
            "Webhook",
            "WebhookDelete",
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
    WarningQueries,
    AuditQueries,
    ReportQueries,
    PresenceQueries,
    UnitQueries,
    WebhookQueries,
):
    pass


@strawberry.type(description="Change data; expected failures come back as userErrors.")
class Mutation(
    AccountMutations,
    KimMutations,
    AnnouncementMutations,
    AspirationMutations,
    WarningMutations,
    UnitMutations,
    WebhookMutations,
):
    pass


@strawberry.type(description="Live changes over WebSocket.")
class Subscription(AnnouncementSubscriptions, AspirationSubscriptions):
    pass


# The Subscription fields whose identical subscriptions share one execution
# (kimgraph.live.sharing), each with the view its run executes as, as each
# domain's resolvers declare them.
SHAREABLE_FIELDS = {**SHAREABLE_ANNOUNCEMENT_FIELDS, **SHAREABLE_ASPIRATION_FIELDS}


class Executor(LeafFields, EventExecutor):
    """graphql-core's executor as KIMgraph runs it: plain leaf fields directly
    (kimgraph.leaf_fields), loaders and memo per subscription event
    (kimgraph.memory)."""


class FreshLoaders(SchemaExtension):
    """A new set of DataLoaders per operation, also on a long-lived WebSocket.

    A subscription's events each get a new set too (PerEventLoaders).
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders = Loaders()
        yield


class Schema(strawberry.Schema):
    """The KIMgraph schema: codes every error, logs only the unexpected ones.

    A query or mutation that runs past query_timeout seconds is cancelled and
    answers QUERY_TIMEOUT (a mutation's transaction then rolls back).
    """

    query_timeout: float = 10.0
    documents: DocumentCache
    persisted: PersistedQueries
    read_cache: ReadCache

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
        """Run a query or mutation; a subscription runs only as a stream.

        Over HTTP a subscription streams (stream(): SSE or multipart, which the
        view chooses by Accept, kimgraph.live.http_streams) or not at all:
        executed once here, its field would be null, a bug's error. So
        InvalidOperationTypeError instead: the view answers 400 naming the
        Accept headers that stream.
        """
        # Named and judged in the request's access line (kimgraph.request_log).
        operation = request_operations.begin(operation_name)
        result = await self._execute(
            query, variable_values, context_value, root_value, operation_name,
            allowed_operation_types, operation_extensions,
        )  # fmt: skip
        operation.settle(result)
        return result

    async def _execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        allowed_operation_types: Iterable[OperationType] | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        allowed = set(allowed_operation_types or OperationType)
        try:  # a hash instead of the document (kimgraph.persisted)
            resolved = await self.persisted.resolve(query, operation_extensions)
        except GraphQLError as error:
            return ExecutionResult(data=None, errors=[error])
        deadline = asyncio.timeout(self.query_timeout)
        try:
            async with deadline:
                result = await super().execute(
                    resolved.query,
                    variable_values=variable_values,
                    context_value=context_value,
                    root_value=root_value,
                    operation_name=operation_name,
                    allowed_operation_types=allowed - {OperationType.SUBSCRIPTION},
                    operation_extensions=operation_extensions,
                )
        except TimeoutError:
            if not deadline.expired():
                raise
            return _timed_out(self.query_timeout)
        if not is_request_error(result):  # stored once it parses and validates
            await self.persisted.remember(resolved)
        return result

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


def _timed_out(seconds: float) -> ExecutionResult:
    logger.warning("an operation ran past its %s s deadline and was cancelled", seconds)
    message = (
        f"The operation took longer than {seconds:g} s and was cancelled: "
        "ask for less, or try again later."
    )
    error = GraphQLError(message, extensions={"code": QueryTimeoutError.code})
    return ExecutionResult(data=None, errors=[error])


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
    documents = DocumentCache()
    # Public answers between two events (kimgraph.read_cache, docs/performance.md).
    read_cache = ReadCache(
        settings.read_cache_bytes, recheck_seconds=settings.event_poll_seconds
    )
    max_query_cost = settings.max_query_cost
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(REGION_TYPES),
        # Batches of queries, each admitted and costed alone (docs/http.md).
        config=StrawberryConfig(batching_config={"max_operations": settings.max_batch}),
        # FreshLoaders gives each operation its loaders, this each subscription
        # event (kimgraph.loaders).
        execution_context_class=Executor,
        extensions=[
            ApiErrors,
            FreshLoaders,
            request_operations.NamesOperations,  # for the access line
            lambda: AddValidationRules(rules),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: CachedParsing(documents),
            lambda: Admission(documents, costs, max_query_cost),
            RefuseUnstorableText,  # after Admission: adds to its validation
            lambda: CacheableReads(read_cache, documents),
        ],
    )
    schema.documents = documents
    schema.read_cache = read_cache
    schema.persisted = PersistedQueries(query_store(settings.redis_url))
    schema.query_timeout = settings.query_timeout_seconds
    return schema
