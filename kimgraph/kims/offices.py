"""The offices every KIM keeps filled: the one rule registration and members share.

Permenkominfo 08/PER/M.KOMINFO/6/2010 forms a KIM of at least a ketua, a
sekretaris and a bendahara (docs/domain.md, "KIM"); ANGGOTA is optional.
"""

from __future__ import annotations

from collections.abc import Iterable

from kimgraph.models import KimRole

REQUIRED_OFFICES = (KimRole.KETUA, KimRole.SEKRETARIS, KimRole.BENDAHARA)


def missing_offices(roles: Iterable[KimRole]) -> list[KimRole]:
    """The required offices no role in `roles` holds, in the order above."""
    held = set(roles)
    return [office for office in REQUIRED_OFFICES if office not in held]


def office_name(role: KimRole) -> str:
    """How a message names the office: 'ketua', 'sekretaris', 'bendahara'."""
    return role.value.lower()
