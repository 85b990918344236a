"""The running groups of one process, one per shape: joined, left, ended."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Set
from typing import Any

from strawberry.schema.base import BaseSchema

from kimgraph.accounts.principals import ANONYMOUS, Principal
from kimgraph.context import Context
from kimgraph.live.group import Group
from kimgraph.live.member import Member
from kimgraph.live.shape import Shape, ViewOf, shape_of
from kimgraph.live.stats import FanOutStats


class Sharing:
    """The groups of one process."""

    def __init__(
        self, schema: BaseSchema, fields: Set[str] | Mapping[str, ViewOf]
    ) -> None:
        self.schema = schema
        # The root fields that may share a run, as the resolvers declare them
        # (a set: public ones; a mapping: each with its view, shape.ViewOf).
        self.fields = fields
        self.groups: dict[str, Group] = {}
        self.stats = FanOutStats()

    @property
    def member_count(self) -> int:
        """Operations that currently take their events from a shared run."""
        return sum(len(group.members) for group in self.groups.values())

    def shape(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        principal: Principal = ANONYMOUS,
    ) -> Shape | None:
        """The shape principal's subscription shares a run by; None: it runs alone."""
        return shape_of(query, variables, operation_name, self.fields, principal)

    def join(self, shape: Shape, template: Context, member: Member) -> Group:
        """The running group of this shape (started if need be), member added."""
        group = self.groups.get(shape.key)
        if group is None or group.ended:
            group = Group(shape, template, self.schema, self.stats)
            self.groups[shape.key] = group
            group.task = asyncio.create_task(group.run())
            group.task.add_done_callback(lambda _: self._ended(group))
        group.members.add(member)
        return group

    def leave(self, group: Group, member: Member) -> None:
        """Take a member out; the last one out stops the run."""
        group.leave(member)
        if not group.members and self.groups.get(group.shape.key) is group:
            del self.groups[group.shape.key]
            group.stop()

    def _ended(self, group: Group) -> None:
        if self.groups.get(group.shape.key) is group:
            del self.groups[group.shape.key]
        # Live members and members catching up are told here; members waiting
        # on their own for the run to follow notice the end themselves
        # (protocol's _join).
        group.end()
