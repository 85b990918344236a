"""KIM: registration, details and members, and their reads."""

from kimgraph.kims.commands import (
    KimChanges,
    MemberInput,
    register_kim,
    update_kim,
)
from kimgraph.kims.members import Replacing, add_member, remove_member

__all__ = [
    "KimChanges",
    "MemberInput",
    "Replacing",
    "add_member",
    "register_kim",
    "remove_member",
    "update_kim",
]
