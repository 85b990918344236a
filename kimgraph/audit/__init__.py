"""The audit trail: who changed what and when, kept apart from the event log."""

from kimgraph.audit.actions import AuditAction, parse_action
from kimgraph.audit.trail import (
    Actor,
    Target,
    actor_global_id,
    actor_of,
    record,
    target,
)

__all__ = [
    "Actor",
    "AuditAction",
    "Target",
    "actor_global_id",
    "actor_of",
    "parse_action",
    "record",
    "target",
]
