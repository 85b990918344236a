"""Per-request DataLoaders: each batches one kind of read into one query."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from kimgraph import models
from kimgraph.announcements.queries import announcements_by_ids, targets_by_ids
from kimgraph.aspirations.queries import (
    aspirations_by_ids,
    history_by_ids,
    responses_by_ids,
)
from kimgraph.kims.queries import kims_by_ids, kims_within_codes, members_by_kim_ids
from kimgraph.regions.queries import children_by_codes, regions_by_codes


async def _load_regions(codes: list[str]) -> list[models.Region | None]:
    found = await regions_by_codes(codes)
    return [found.get(code) for code in codes]


async def _load_children(codes: list[str]) -> list[list[models.Region]]:
    grouped = await children_by_codes(codes)
    return [grouped[code] for code in codes]


async def _load_kims(ids: list[int]) -> list[models.Kim | None]:
    found = await kims_by_ids(ids)
    return [found.get(kim_id) for kim_id in ids]


async def _load_members(ids: list[int]) -> list[list[models.KimMember]]:
    grouped = await members_by_kim_ids(ids)
    return [grouped[kim_id] for kim_id in ids]


async def _load_kims_within(codes: list[str]) -> list[list[models.Kim]]:
    grouped = await kims_within_codes(codes)
    return [grouped[code] for code in codes]


async def _load_announcements(ids: list[int]) -> list[models.Announcement | None]:
    found = await announcements_by_ids(ids)
    return [found.get(i) for i in ids]


async def _load_targets(ids: list[int]) -> list[list[str]]:
    grouped = await targets_by_ids(ids)
    return [grouped[i] for i in ids]


async def _load_aspirations(ids: list[int]) -> list[models.Aspiration | None]:
    found = await aspirations_by_ids(ids)
    return [found.get(i) for i in ids]


async def _load_history(ids: list[int]) -> list[list[models.AspirationTransition]]:
    grouped = await history_by_ids(ids)
    return [grouped[i] for i in ids]


async def _load_responses(ids: list[int]) -> list[list[models.AspirationResponse]]:
    grouped = await responses_by_ids(ids)
    return [grouped[i] for i in ids]


def _aspirations_by_id() -> DataLoader[int, models.Aspiration | None]:
    return DataLoader(load_fn=_load_aspirations)


def _aspiration_history_by_id() -> DataLoader[int, list[models.AspirationTransition]]:
    return DataLoader(load_fn=_load_history)


def _aspiration_responses_by_id() -> DataLoader[int, list[models.AspirationResponse]]:
    return DataLoader(load_fn=_load_responses)


def _announcements_by_id() -> DataLoader[int, models.Announcement | None]:
    return DataLoader(load_fn=_load_announcements)


def _announcement_targets_by_id() -> DataLoader[int, list[str]]:
    return DataLoader(load_fn=_load_targets)


def _regions_by_code() -> DataLoader[str, models.Region | None]:
    return DataLoader(load_fn=_load_regions)


def _region_children_by_code() -> DataLoader[str, list[models.Region]]:
    return DataLoader(load_fn=_load_children)


def _kims_by_id() -> DataLoader[int, models.Kim | None]:
    return DataLoader(load_fn=_load_kims)


def _kim_members_by_kim_id() -> DataLoader[int, list[models.KimMember]]:
    return DataLoader(load_fn=_load_members)


def _kims_within_code() -> DataLoader[str, list[models.Kim]]:
    return DataLoader(load_fn=_load_kims_within)


@dataclass(slots=True)
class Loaders:
    """A fresh set per request or WebSocket operation, so caches never go stale."""

    regions_by_code: DataLoader[str, models.Region | None] = field(
        default_factory=_regions_by_code
    )
    region_children_by_code: DataLoader[str, list[models.Region]] = field(
        default_factory=_region_children_by_code
    )
    kims_by_id: DataLoader[int, models.Kim | None] = field(default_factory=_kims_by_id)
    kim_members_by_kim_id: DataLoader[int, list[models.KimMember]] = field(
        default_factory=_kim_members_by_kim_id
    )
    kims_within_code: DataLoader[str, list[models.Kim]] = field(
        default_factory=_kims_within_code
    )
    announcements_by_id: DataLoader[int, models.Announcement | None] = field(
        default_factory=_announcements_by_id
    )
    announcement_targets_by_id: DataLoader[int, list[str]] = field(
        default_factory=_announcement_targets_by_id
    )
    aspirations_by_id: DataLoader[int, models.Aspiration | None] = field(
        default_factory=_aspirations_by_id
    )
    aspiration_history_by_id: DataLoader[int, list[models.AspirationTransition]] = (
        field(default_factory=_aspiration_history_by_id)
    )
    aspiration_responses_by_id: DataLoader[int, list[models.AspirationResponse]] = (
        field(default_factory=_aspiration_responses_by_id)
    )
