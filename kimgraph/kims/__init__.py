"""KIM: registration, details and members, and their reads."""

from kimgraph.kims.commands import (
    KimChanges,
    MemberInput,
    add_member,
    register_kim,
    remove_member,
    update_kim,
)

__all__ = [
    "KimChanges",
    "MemberInput",
    "add_member",
    "register_kim",
    "remove_member",
    "update_kim",
]
