"""Who may read a scheduled announcement before its validFrom (docs/domain.md).

Until validFrom an announcement is the office's draft, not public information:
only its publisher (the KIM that posted it, or the account that did) and staff
(ADMIN, OFFICER) whose scope holds one of its targets may read it. Everyone
else, by id, in a list or through `node`, finds nothing, exactly as for an id
that names no announcement. From validFrom on it is public.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kimgraph import models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.regions.codes import is_within
from kimgraph.statements import Bound


@dataclass(frozen=True, slots=True)
class Reader:
    """What decides which scheduled announcements a caller may read (hashable).

    scope: the region subtree of an ADMIN or OFFICER; kim_id: a KIM account's
    KIM; account_id: the signed-in account (its own announcements).
    """

    scope: str | None = None
    kim_id: int | None = None
    account_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Reader:
        """The reader a principal is; anonymous and partner keys read none."""
        staff = principal.role in (Role.ADMIN, Role.OFFICER)
        return cls(
            scope=principal.region_code if staff else None,
            kim_id=principal.kim_id if principal.role is Role.KIM else None,
            account_id=principal.account_id,
        )

    def sees_scheduled(self, row: models.Announcement, targets: Iterable[str]) -> bool:
        """Whether this reader may read row while it is scheduled."""
        if self.kim_id is not None and row.kim_id == self.kim_id:
            return True
        if self.account_id is not None and row.publisher_id == self.account_id:
            return True
        scope = self.scope
        return scope is not None and any(is_within(code, scope) for code in targets)

    def may_read(
        self, row: models.Announcement, targets: Iterable[str], now: datetime
    ) -> bool:
        """Whether this reader may read row at now: public from validFrom on."""
        return row.valid_from <= now or self.sees_scheduled(row, targets)

    def readable(self, bind: Bound, now: str) -> str:
        """SQL: may_read of announcement `a`, `now` a bound instant, for lists."""
        condition = [f"a.valid_from <= {now}"]
        if self.kim_id is not None:
            condition.append(f"a.kim_id = {bind.value(self.kim_id, 'integer')}")
        if self.account_id is not None:
            account = bind.value(self.account_id, "integer")
            condition.append(f"a.publisher_id = {account}")
        if self.scope is not None:
            scope = bind.value(self.scope, "text")
            condition.append(
                "a.id IN (SELECT mine.announcement_id FROM announcement_target AS "
                f"mine WHERE mine.region_id = {scope} "
                f"OR mine.region_id LIKE {scope} || '.%')"
            )
        return f"({' OR '.join(condition)})"


PUBLIC = Reader()
"""A caller who reads no scheduled announcement: anonymous, a partner key."""
