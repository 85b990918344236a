"""One execution per event for many identical subscriptions, one encoding per event.

Boards of one desa send the same subscription document with the same
variables. Executing and serialising it once per socket costs ~9x a bare
broadcast (docs/performance.md); here a Group runs it once, encodes the payload once,
and each member gets the frame with its own operation id spliced in. A member
that resumes with `after` buffers the group's frames while a catch-up shared by
every member resuming from the same cursor replays the log after it (one log
read, one execution and encoding per event), then joins at the seam: events are
deduplicated by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from asyncio import FIRST_COMPLETED
from typing import Any

from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from kimgraph.context import Context
from kimgraph.live.catch_up import CatchUp, encode_result, replay_results
from kimgraph.live.event_outages import failed_to_load
from kimgraph.live.member import Member
from kimgraph.live.runs import LiveOnly, ReplayOnly
from kimgraph.live.shape import Shape
from kimgraph.live.stats import FanOutStats

logger = logging.getLogger("kimgraph.live.group")

# A finished catch-up serves later members resuming from its cursor for this
# long, as long as no event went out since it read the log.
REUSE_SECONDS = 5.0
# Members brought live per step of the loop once their catch-up is done.
SLICE = 64


class Group:
    """One live execution of one subscription shape, fanned out to its members."""

    def __init__(
        self, shape: Shape, template: Context, schema: BaseSchema, stats: FanOutStats
    ) -> None:
        self.shape = shape
        self.members: set[Member] = set()
        # Where the run is: the id of its current event, or before the first
        # one the hub position it follows from (the run reports both).
        self.position = 0
        self._following = asyncio.Event()
        # A shared run executes as its shape's view (kimgraph.live.shape):
        # nothing in it may depend on who asked beyond what every member sees.
        self.context = dataclasses.replace(
            template,
            stream_run=LiveOnly(self._at),
            request=None,
            principal=shape.principal,
        )
        self._schema = schema
        self.stats = stats
        self.task: asyncio.Task[None] | None = None
        # Shared catch-ups by cursor, and the members still catching up.
        self.catch_ups: dict[str, CatchUp] = {}
        self.resuming: set[Member] = set()
        self._pacing: set[asyncio.Task[None]] = set()
        # An event could not be read (the database went away): every member
        # was closed to resume from its cursor, and the run ended.
        self.failed = False

    def _at(self, position: int) -> None:
        self.position = position
        self._following.set()

    @property
    def ended(self) -> bool:
        return self.task is not None and self.task.done()

    @property
    def following(self) -> bool:
        """The run is live: a new member can take the next event."""
        return self._following.is_set() and not self.ended

    async def following_or_ended(self) -> None:
        """Wait until the run follows the hub (or has ended)."""
        assert self.task is not None
        waiter = asyncio.ensure_future(self._following.wait())
        try:
            await asyncio.wait({waiter, self.task}, return_when=FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def run(self) -> None:
        try:
            results = await self._schema.stream(
                self.shape.query,
                variable_values=dict(self.shape.variables),
                context_value=self.context,
                operation_name=self.shape.operation_name,
            )
            async with contextlib.aclosing(results):
                async for result in results:
                    if self._following.is_set() and failed_to_load(result):
                        # Sent, it would reach every member with no cursor,
                        # and the next event would carry them past it.
                        self.failed = True
                        return
                    self._fan_out(result)
        except asyncio.CancelledError:
            raise
        except Exception:  # an unexpected failure ends the group; members resume
            logger.exception("shared subscription failed")

    def _fan_out(self, result: Any) -> None:
        if not isinstance(result, ExecutionResult) or not self._following.is_set():
            return
        encoded = encode_result(result)
        event_id = self.position
        frames: dict[str, tuple[str, bytes | None]] = {}
        started = time.perf_counter()
        delivered = 0
        for member in list(self.members):
            delivered += member.deliver(event_id, encoded, frames)
        self.stats.seconds.observe(time.perf_counter() - started)
        self.stats.events += 1
        self.stats.deliveries += delivered

    # ----------------------------------------------------------------------- #
    # Resuming: the log after a cursor, replayed once for everyone there.      #
    # ----------------------------------------------------------------------- #

    def resume(self, member: Member, cursor: str, after_id: int) -> None:
        """Catch a member (already joined) up from its cursor, then make it live.

        Nothing is awaited here: the member buffers the group's events while a
        catch-up shared by every member resuming from the same cursor replays
        the log after it (docs/live-delivery.md, "Resuming cheaply"). Errors
        (the run cannot start, CURSOR_EXPIRED) reach the member's owner as
        resume_failed; the owner then reports them as an unshared run would.
        """
        member.position = after_id
        member.waiting = []
        self.resuming.add(member)
        self._attach(member, cursor, after_id)

    def _attach(self, member: Member, cursor: str, after_id: int) -> None:
        catch_up = self.catch_ups.get(cursor)
        if catch_up is None or not self._reusable(catch_up):
            catch_up = CatchUp(cursor, after_id)
            self.catch_ups[cursor] = catch_up
            catch_up.task = asyncio.create_task(self._replay(catch_up))
            self._forget_stale()
        if catch_up.done:
            self._bring_live(member, catch_up)
        else:
            catch_up.joined.append((member, self.position))

    def _reusable(self, catch_up: CatchUp) -> bool:
        """Running, or done and nothing fanned out since it read the log."""
        if catch_up.failed:
            return False
        if not catch_up.done:
            return True
        return (
            catch_up.through >= self.position
            and time.monotonic() - catch_up.started < REUSE_SECONDS
        )

    def _forget_stale(self) -> None:
        for cursor, catch_up in list(self.catch_ups.items()):
            if catch_up.done and not self._reusable(catch_up):
                del self.catch_ups[cursor]

    async def _replay(self, catch_up: CatchUp) -> None:
        await self.following_or_ended()
        if self.ended:
            return  # Sharing ends the group, and tells the members (end())
        replayed: list[int] = []
        current = [catch_up.after_id]
        variables = dict(self.shape.variables)
        assert self.shape.after_variable is not None
        variables[self.shape.after_variable] = catch_up.cursor
        context = dataclasses.replace(
            self.context, stream_run=ReplayOnly(replayed.append, current.append)
        )
        try:
            results = replay_results(self._schema, self.shape, variables, context)
            async with contextlib.aclosing(results):
                async for result in results:
                    if result is None or result.errors:
                        catch_up.failed = True
                        break
                    catch_up.frames.append((current[-1], encode_result(result), {}))
                    if len(current) > 1:
                        del current[:-1]
                    if len(catch_up.frames) % SLICE == 0:
                        # A page of the log executes without awaiting: let
                        # the loop breathe between slices of it.
                        await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception:  # its members are served on their own, which reports it
            logger.exception("a shared catch-up failed")
            catch_up.failed = True
        if not replayed:
            catch_up.failed = True
        if catch_up.failed:
            if self.catch_ups.get(catch_up.cursor) is catch_up:
                del self.catch_ups[catch_up.cursor]
            catch_up.frames = []
            for member, _ in catch_up.joined:
                if member in self.resuming:
                    self.resuming.discard(member)
                    member.owner.resume_failed(member)
            catch_up.joined = []
            return
        catch_up.through = replayed[0]
        catch_up.finished = True
        # Members are brought live a slice at a time: ten thousand at once
        # would hold the loop for as long as their frames take to write.
        while catch_up.joined:
            joined, catch_up.joined = catch_up.joined, []
            for index, (member, joined_at) in enumerate(joined):
                if member not in self.resuming:
                    pass  # it left meanwhile
                elif catch_up.through < joined_at:
                    # It joined after this catch-up read the log, and events
                    # went out since: a newer catch-up covers them.
                    self._attach(member, catch_up.cursor, catch_up.after_id)
                else:
                    self._bring_live(member, catch_up)
                if index % SLICE == SLICE - 1:
                    await asyncio.sleep(0)

    def _bring_live(self, member: Member, catch_up: CatchUp) -> None:
        """Send a finished catch-up's frames to a member, then its own buffer."""
        if len(catch_up.frames) > member.outbox.size // 2:
            # More than its sink may queue: written as the reader takes them.
            task = asyncio.create_task(self._paced(member, catch_up))
            self._pacing.add(task)
            task.add_done_callback(self._pacing.discard)
            return
        if catch_up.frames and member.position == catch_up.after_id:
            # All of them (the usual case): one write for the socket.
            member.outbox.put_all(*catch_up.all_frames(member))
            member.position = max(member.position, catch_up.frames[-1][0])
            self.stats.deliveries += len(catch_up.frames)
        else:
            sent = 0
            for event_id, payload, frames in catch_up.frames:
                sent += member.send(event_id, payload, frames)
            self.stats.deliveries += sent
        self.resuming.discard(member)
        member.go_live(catch_up.through)

    async def _paced(self, member: Member, catch_up: CatchUp) -> None:
        """A long catch-up, half a queue per write, as the reader takes it.

        Each slice goes out in one write (10,000 frames one by one cost a
        system call and a framing each), and the next waits until nothing is
        queued and the transport takes more (docs/live-delivery.md).
        """
        sink = member.outbox
        limit = max(1, sink.size // 2)
        frames = catch_up.frames
        for start in range(0, len(frames), limit):
            if member not in self.resuming:
                return
            chunk = [f for f in frames[start : start + limit] if f[0] > member.position]
            if chunk:
                encoded = [member.frame(payload, cache) for _, payload, cache in chunk]
                wires = [wire for _, wire in encoded]
                wire = (
                    b"".join(w for w in wires if w is not None)
                    if member.framed
                    else None
                )
                sink.put_all([frame for frame, _ in encoded], wire)
                member.position = chunk[-1][0]
                self.stats.deliveries += len(chunk)
            # The next slice waits for the socket, and lets the loop run.
            await sink.room()
            await asyncio.sleep(0)
        if member in self.resuming:
            self.resuming.discard(member)
            member.go_live(catch_up.through)

    def leave(self, member: Member) -> None:
        """Take a member out (it may still be catching up)."""
        self.members.discard(member)
        self.resuming.discard(member)

    def end(self) -> None:
        """The run is over: stop catching up, tell every member.

        After an event that could not be read, every member (live or catching
        up) is closed with 1013 and resumes from its own cursor
        (kimgraph.live.event_outages).
        """
        for catch_up in self.catch_ups.values():
            if catch_up.task is not None:
                catch_up.task.cancel()
        self.catch_ups.clear()
        for task in self._pacing:
            task.cancel()
        if self.failed:
            for member in self.members:
                member.outbox.try_again()
            self.resuming.clear()
            self.members.clear()
            return
        started = self._following.is_set()
        for member in list(self.members):
            if member in self.resuming:
                self.resuming.discard(member)
                if started:
                    member.owner.group_ended(member)
                else:
                    member.owner.resume_failed(member)
            elif member.live:
                member.owner.group_ended(member)
        self.members.clear()

    def stop(self) -> None:
        """The last member left: cancel the run and what catches up."""
        for catch_up in self.catch_ups.values():
            if catch_up.task is not None:
                catch_up.task.cancel()
        self.catch_ups.clear()
        for task in self._pacing:
            task.cancel()
        if self.task is not None:
            self.task.cancel()
