"""Who is asking: roles and the principal a request acts as (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    """What kind of caller a principal is."""

    ADMIN = "ADMIN"
    OFFICER = "OFFICER"
    KIM = "KIM"
    PARTNER = "PARTNER"


ACCOUNT_ROLES = (Role.ADMIN, Role.OFFICER, Role.KIM)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request or WebSocket connection."""

    role: Role | None = None
    region_code: str | None = None
    display_name: str = "anonymous"
    account_id: int | None = None
    username: str | None = None
    kim_id: int | None = None
    token_id: int | None = None
    api_key_id: int | None = None
    # The units an OFFICER acts as, read when it signs in (kimgraph.units).
    unit_ids: frozenset[int] = frozenset()

    @property
    def is_anonymous(self) -> bool:
        return self.role is None

    @property
    def credential(self) -> tuple[str, int] | None:
        """The token or API key this principal signed in with."""
        if self.token_id is not None:
            return ("token", self.token_id)
        if self.api_key_id is not None:
            return ("api_key", self.api_key_id)
        return None


ANONYMOUS = Principal()
