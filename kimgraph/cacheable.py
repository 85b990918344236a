"""What the read cache may keep, for whom, and until when (kimgraph.read_cache).

An answer is shared only when nothing in it can differ between two callers of
the same visibility class or change without an event: the fields listed here
change only through logged events or at an announcement's validFrom/validUntil
(docs/performance.md, "The read cache"). A request is identified by its
document hash, canonical variables and operation name, read from its JSON body
before any parsing or validation is paid for.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

from kimgraph import models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.visibility import PUBLIC, Reader

_REGION_TYPES = (
    "Region",
    "Provinsi",
    "Kabupaten",
    "Kota",
    "Kecamatan",
    "Desa",
    "Kelurahan",
)
# Fields whose answers change only through logged events or at an announcement's
# validFrom/validUntil; None: every field of the type. Region names are left
# out: `kimgraph regions import` renames without an event.
CACHEABLE_FIELDS: dict[str, frozenset[str] | None] = {
    "Query": frozenset({"announcements", "announcement"}),
    "AnnouncementConnection": None,
    "AnnouncementEdge": None,
    "PageInfo": None,
    "Announcement": frozenset(
        {
            "id",
            "title",
            "body",
            "category",
            "priority",
            "status",
            "targets",
            "publishedBy",
            "validFrom",
            "validUntil",
            "withdrawnAt",
            "withdrawReason",
            "revision",
            "createdAt",
            "updatedAt",
        }
    ),
    **{name: frozenset({"id", "code", "level"}) for name in _REGION_TYPES},
}


NEVER = datetime.max.replace(tzinfo=UTC)


def visibility_class(principal: Principal) -> str | None:
    """The class whose answers may be shared; None: this caller's are not cached.

    Anonymous callers and partner keys read no scheduled announcement and no
    personal data (docs/domain.md, "Personal data"): one class. Accounts may.
    """
    if principal.role in (None, Role.PARTNER) and Reader.of(principal) == PUBLIC:
        return "public"
    return None


def document_cacheable(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """True if every operation is a query and every field is in CACHEABLE_FIELDS."""
    if any(
        isinstance(d, OperationDefinitionNode)
        and d.operation is not OperationType.QUERY
        for d in document.definitions
    ):
        return False
    type_info = TypeInfo(schema)
    outside = _Outside(type_info)
    visit(document, TypeInfoVisitor(type_info, outside))
    return not outside.found


class _Outside(Visitor):
    """Finds a field outside CACHEABLE_FIELDS (introspection included)."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        if name == "__typename":
            return
        parent = get_named_type(self.type_info.get_parent_type())
        if parent is None:
            self.found = True
            return
        allowed = CACHEABLE_FIELDS.get(parent.name, frozenset())
        if allowed is not None and name not in allowed:
            self.found = True


async def next_change(now: datetime) -> datetime:
    """The first validFrom or validUntil after now: an answer may change at it.

    Reads change at the instant itself (visible from validFrom, expired from
    validUntil: kimgraph.announcements.records.status_of), so an answer read
    at now holds until that instant, not including it.
    """
    live = models.Announcement.filter(withdrawn_at=None)
    found: list[datetime] = []
    for field in ("valid_from", "valid_until"):
        first: list[Any] = list(
            await live.filter(**{f"{field}__gt": now})
            .order_by(field)
            .limit(1)
            .values_list(field, flat=True)
        )
        found.extend(t for t in first if isinstance(t, datetime))
    return min(found, default=NEVER)


def request_identity(body: bytes) -> tuple[str, str, str | None] | None:
    """(document hash, variables, operation name) of a single JSON request."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not set(data) <= {
        "query", "variables", "operationName", "extensions",
    }:  # fmt: skip
        return None
    query, variables = data.get("query"), data.get("variables")
    operation, extensions = data.get("operationName"), data.get("extensions")
    if not (variables is None or isinstance(variables, dict)):
        return None
    if not (operation is None or isinstance(operation, str)):
        return None
    digest = None
    if extensions is not None:
        persisted = (
            extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        )
        if set(extensions or ()) != {"persistedQuery"} or not isinstance(
            persisted, dict
        ):
            return None
        digest = persisted.get("sha256Hash")
        if persisted.get("version") != 1 or not isinstance(digest, str):
            return None
    if isinstance(query, str):
        own = hashlib.sha256(query.encode("utf-8")).hexdigest()
        if digest is not None and digest != own:
            return None  # a hash mismatch is an error the view must give
        digest = own
    elif query is not None or digest is None:
        return None
    canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
    return digest, canonical, operation
