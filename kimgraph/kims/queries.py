"""Reads of the KIM registry: batched lookups and the paged list."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q

from kimgraph import models
from kimgraph.regions.codes import is_within
from kimgraph.regions.queries import require_region


async def kims_by_ids(ids: Sequence[int]) -> dict[int, models.Kim]:
    """The KIM among ids that exist, keyed by id."""
    return {kim.id: kim for kim in await models.Kim.filter(id__in=list(ids))}


async def members_by_ids(ids: Sequence[int]) -> dict[int, models.KimMember]:
    """The KIM members among ids that exist, keyed by id."""
    return {m.id: m for m in await models.KimMember.filter(id__in=list(ids))}


async def members_by_kim_ids(ids: Sequence[int]) -> dict[int, list[models.KimMember]]:
    """Each KIM's members: ketua, sekretaris, bendahara, then anggota; by id within."""
    order = {role: rank for rank, role in enumerate(models.KimRole)}
    grouped: dict[int, list[models.KimMember]] = {kim_id: [] for kim_id in ids}
    for member in await models.KimMember.filter(kim_id__in=list(ids)):
        grouped[member.kim_id].append(member)
    for members in grouped.values():
        members.sort(key=lambda m: (order[m.role], m.id))
    return grouped


def _within_any(codes: Sequence[str]) -> Q:
    condition = Q(region_id__in=list(codes))
    for code in codes:
        condition |= Q(region_id__startswith=code + ".")
    return condition


async def kims_within_codes(codes: Sequence[str]) -> dict[str, list[models.Kim]]:
    """For each region code, the KIM serving it or a region below it, by id."""
    grouped: dict[str, list[models.Kim]] = {code: [] for code in codes}
    rows = await models.Kim.filter(_within_any(codes)).order_by("id")
    for kim in rows:
        for code in codes:
            if is_within(kim.region_id, code):
                grouped[code].append(kim)
    return grouped


async def kim_page(
    region_code: str | None, after_id: int | None, limit: int
) -> tuple[list[models.Kim], bool, int]:
    """Up to `limit` KIM in or below a region, after `after_id`; more?; the total."""
    query = models.Kim.all()
    if region_code is not None:
        await require_region(region_code)
        query = query.filter(_within_any([region_code]))
    total = await query.count()
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total
