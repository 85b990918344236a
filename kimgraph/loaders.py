"""Per-operation DataLoaders: each batches one kind of read into a fixed few queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kimgraph import models
from kimgraph.announcements.boards import BoardKey, boards_by_keys
from kimgraph.announcements.queries import (
    BoardPage,
    announcements_by_ids,
    targets_by_ids,
)
from kimgraph.aspirations.queries import (
    aspirations_by_ids,
    history_by_ids,
    responses_by_ids,
)
from kimgraph.kims.queries import (
    kims_by_ids,
    kims_within_codes,
    members_by_ids,
    members_by_kim_ids,
)
from kimgraph.regions.queries import children_by_codes, regions_by_codes
from kimgraph.units.management import members_by_unit_ids, units_by_ids

K = TypeVar("K")
V = TypeVar("V")

Read = Callable[[list[K]], Awaitable[Mapping[K, V]]]


def rows_by_key(read: Read[K, V]) -> DataLoader[K, V | None]:
    """A loader of at most one row per key; `read` returns those that exist."""

    async def load(keys: list[K]) -> list[V | None]:
        found = await read(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def values_by_key(read: Read[K, V]) -> DataLoader[K, V]:
    """A loader of a value for every key (say, the rows grouped under it).

    `read` answers each key it is given; one it leaves out is a bug (KeyError).
    """

    async def load(keys: list[K]) -> list[V]:
        found = await read(keys)
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """One operation's (or one subscription event's) loaders, each made on first use.

    kimgraph.api.FreshLoaders gives every operation a new set, and
    PerEventLoaders every subscription event, so a cache never outlives the
    operation or event that filled it.
    """

    @cached_property
    def regions_by_code(self) -> DataLoader[str, models.Region | None]:
        return rows_by_key(regions_by_codes)

    @cached_property
    def region_children_by_code(self) -> DataLoader[str, list[models.Region]]:
        return values_by_key(children_by_codes)

    @cached_property
    def kims_by_id(self) -> DataLoader[int, models.Kim | None]:
        return rows_by_key(kims_by_ids)

    @cached_property
    def kims_within_code(self) -> DataLoader[str, list[models.Kim]]:
        return values_by_key(kims_within_codes)

    @cached_property
    def kim_members_by_id(self) -> DataLoader[int, models.KimMember | None]:
        return rows_by_key(members_by_ids)

    @cached_property
    def kim_members_by_kim_id(self) -> DataLoader[int, list[models.KimMember]]:
        return values_by_key(members_by_kim_ids)

    @cached_property
    def announcements_by_id(self) -> DataLoader[int, models.Announcement | None]:
        return rows_by_key(announcements_by_ids)

    @cached_property
    def announcement_targets_by_id(self) -> DataLoader[int, list[str]]:
        return values_by_key(targets_by_ids)

    @cached_property
    def boards_by_key(self) -> DataLoader[BoardKey, BoardPage]:
        return values_by_key(boards_by_keys)

    @cached_property
    def aspirations_by_id(self) -> DataLoader[int, models.Aspiration | None]:
        return rows_by_key(aspirations_by_ids)

    @cached_property
    def aspiration_history_by_id(
        self,
    ) -> DataLoader[int, list[models.AspirationTransition]]:
        return values_by_key(history_by_ids)

    @cached_property
    def aspiration_responses_by_id(
        self,
    ) -> DataLoader[int, list[models.AspirationResponse]]:
        return values_by_key(responses_by_ids)

    @cached_property
    def units_by_id(self) -> DataLoader[int, models.Unit | None]:
        return rows_by_key(units_by_ids)

    @cached_property
    def unit_members_by_id(self) -> DataLoader[int, list[models.Account]]:
        return values_by_key(members_by_unit_ids)


class PerEventLoaders(StrawberryGraphQLCoreExecutionContext):
    """Executes each subscription event with a new set of loaders.

    A subscription runs for hours under one operation, and its Context with it;
    loaders made once per operation would serve every later event from their
    cache: an aspiration hidden by a moderator would keep its text, a renamed
    KIM its old name (docs/live-delivery.md, "Fresh data in every event").
    graphql-core builds one executor per event from the subscription's, with
    the same Context: the set is replaced there, just before the event runs.
    A shared run executes each event once for all its members, so they share
    that event's set; one Loaders() per event and run costs next to nothing.
    """

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        context = executor.context_value
        if isinstance(getattr(context, "loaders", None), Loaders):
            context.loaders = Loaders()
        return executor
