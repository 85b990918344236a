"""Per-request DataLoaders: each batches one kind of read into one query."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from kimgraph import models
from kimgraph.region_queries import children_by_codes, regions_by_codes


async def _load_regions(codes: list[str]) -> list[models.Region | None]:
    found = await regions_by_codes(codes)
    return [found.get(code) for code in codes]


async def _load_children(codes: list[str]) -> list[list[models.Region]]:
    grouped = await children_by_codes(codes)
    return [grouped[code] for code in codes]


def _regions_by_code() -> DataLoader[str, models.Region | None]:
    return DataLoader(load_fn=_load_regions)


def _region_children_by_code() -> DataLoader[str, list[models.Region]]:
    return DataLoader(load_fn=_load_children)


@dataclass(slots=True)
class Loaders:
    """A fresh set per request or WebSocket operation, so caches never go stale."""

    regions_by_code: DataLoader[str, models.Region | None] = field(
        default_factory=_regions_by_code
    )
    region_children_by_code: DataLoader[str, list[models.Region]] = field(
        default_factory=_region_children_by_code
    )
