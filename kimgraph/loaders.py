"""Per-operation DataLoaders: each batches one kind of read into a fixed few queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

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
    """One operation's loaders, each made on first use.

    kimgraph.api.FreshLoaders gives every operation a new set, so a cache never
    outlives the operation that filled it.
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
