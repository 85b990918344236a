"""The cyclic garbage collector's policy for a serving process, and its pauses.

Two promises hold together (docs/performance.md, "Memory and garbage
collection"): no collection pauses the event loop for over 100 ms, and memory
stays bounded. Measured with bench/replay_memory.py and bench/fanout.py.

- Start-up objects (modules, the schema, the region data) live as long as the
  process: `gc.freeze()` takes them out of every pass.
- (10,000, 10, 10): a young pass looks at no more than ~10,000 new objects, a
  middle one at no more than ten times that, so neither grows with the number
  of sockets (64 and 80 ms of CPU at most in the replay bench). Cyclic garbage
  that outlived both waits for a full pass at most about a million new objects
  (with the former (50,000, 20, 20), twenty million). A full pass also needs
  the objects promoted since the last one to exceed a quarter of those it kept
  (CPython's rule): with thousands of idle sockets alive it stays rare; it is
  the one pass whose pause grows with the live heap (~150 tracked objects per
  board socket: ~1 s of CPU with 10,000 connected, docs/performance.md).
- Most of the memory issue 17 saw under replay (1.76 GB) was no garbage but a
  leak in graphql-core's subscription execution: EventExecutor below.

- Freezer: whatever outlives a moment is frozen too, so no pass walks the
  sockets a server holds (~1 s of CPU per full pass with 10,000 boards, over
  100 ms during a resume storm otherwise). Their cyclic garbage, left when they
  close, waits for a thaw: one full pass over everything, at a quiet moment
  (docs/performance.md, "Freezing what outlives a moment").

GcPauses times every pass (gc.callbacks) and logs a warning for any over
PAUSE_WARNING_S, with no data but the generation and the counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from kimgraph.event_plan import Plan, plan_for
from kimgraph.loaders import PerEventLoaders

logger = logging.getLogger("kimgraph.memory")

THRESHOLDS: Final = (10_000, 10, 10)
PAUSE_WARNING_S: Final = 0.1
# A tick: a full pass over what is not frozen yet, then freeze the survivors;
# every FREEZE_EVERY_S, and sooner once TICK_OBJECTS may have been made since
# the last (looked at every CHECK_EVERY_S): a resume storm makes ~230,000 a
# second, and a tick over 0.5 s of them took 75 ms of CPU.
FREEZE_EVERY_S: Final = 0.5
CHECK_EVERY_S: Final = 0.05
TICK_OBJECTS: Final = 20_000
# A thaw (unfreeze, one full pass over everything, freeze again) at most this
# often, once QUIET_S have passed with under QUIET_OBJECTS survivors in all
# (no storm: ~100 board sockets' worth); at the latest after THAW_LATEST_S.
THAW_EVERY_S: Final = 900.0
THAW_LATEST_S: Final = 3600.0
QUIET_S: Final = 60.0
QUIET_OBJECTS: Final = 15_000


class GcPauses:
    """The longest pause and the count of passes, per generation."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.longest_s = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = info["generation"]
        self.collections[generation] += 1
        self.longest_s[generation] = max(self.longest_s[generation], pause)
        if pause > PAUSE_WARNING_S:
            logger.warning(
                "garbage collection of generation %d paused the loop %.0f ms "
                "(%d collected, %d uncollectable)",
                generation,
                pause * 1000,
                info["collected"],
                info["uncollectable"],
            )


def start_policy() -> GcPauses:
    """After start-up: freeze what exists, set the thresholds, time every pass."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    return pauses


def stop_policy(pauses: GcPauses) -> None:
    """Stop timing (for a process that builds more than one app, as tests do)."""
    if pauses in gc.callbacks:
        gc.callbacks.remove(pauses)


def made_since_collection() -> int:
    """At most how many tracked objects were made since the last full pass.

    CPython counts, per generation, the allocations (less deallocations) since
    the youngest pass, the young passes since the middle one and the middle
    passes since the full one; each young pass moved at most its threshold of
    objects on, each middle one at most that times its own.
    """
    young, middle, old = gc.get_count()
    first, second, _ = gc.get_threshold()
    return young + middle * first + old * first * second


class Freezer:
    """Freezes what outlives a tick; collects frozen garbage in a quiet thaw.

    CPython 3.11's full pass walks every tracked object, and a server holding
    10,000 board sockets holds ~1.36 million (~120 each): ~1 s of CPU, however
    rarely CPython's 25 % rule calls it. Frozen objects are in no pass. Each
    tick runs a full pass over the objects made since the last tick that are
    still alive, and freezes what it keeps; ticks come as often as the
    objects made call for (`due`), so a pass is bounded by TICK_OBJECTS
    however fast boards connect. Refcounting
    still frees frozen objects; only a cycle among them, such as a closed
    socket's asyncio transport (6-7 objects per closed board socket, measured by
    `python -m bench.fanout --storm`), waits for the next thaw: the one long
    pass, at most every THAW_EVERY_S and only once QUIET_S passed with fewer
    than QUIET_OBJECTS survivors (no resume storm under way), or after
    THAW_LATEST_S whatever happens. `now` is monotonic seconds (injected).
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.thaws = 0
        self._last_thaw = self._last_tick = now()
        self._recent: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None

    def due(self) -> bool:
        """FREEZE_EVERY_S since the last tick, or TICK_OBJECTS made since."""
        return (
            self.now() - self._last_tick >= FREEZE_EVERY_S
            or made_since_collection() >= TICK_OBJECTS
        )

    def tick(self) -> None:
        """Collect what is new, freeze what survived; thaw if it is time."""
        now = self._last_tick = self.now()
        gc.collect()
        survivors = len(gc.get_objects(generation=2))
        gc.freeze()
        self._recent.append((now, survivors))
        while self._recent and self._recent[0][0] < now - QUIET_S:
            self._recent.popleft()
        since = now - self._last_thaw
        if since >= THAW_LATEST_S or (since >= THAW_EVERY_S and self._quiet(now)):
            self.thaw()

    def _quiet(self, now: float) -> bool:
        # A whole window of ticks (the first one may have come late) whose
        # survivors add up to little.
        covered = bool(self._recent) and self._recent[0][0] <= now - QUIET_S + 2 * (
            FREEZE_EVERY_S
        )
        return covered and sum(n for _, n in self._recent) < QUIET_OBJECTS

    def thaw(self) -> None:
        """Every frozen object back in one full pass, then frozen again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.thaws += 1
        self._last_thaw = self.now()
        self._recent.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kimgraph-gc-freezer")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            if self.due():
                self.tick()

    async def close(self) -> None:
        """Stop ticking; give every frozen object back to the collector."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        gc.unfreeze()


class EventExecutor(PerEventLoaders):
    """Each subscription event with its own memo of collected subfields.

    graphql-core 3.3 makes each event's executor a shallow copy of the
    subscription's, so all of them share one `_relevant_sub_fields` dict. It is
    keyed by the identity of field lists that every event builds anew, and it
    keeps each list alive with its entry: a subscription kept ~5 FieldDetails,
    a CollectedFields and their lists for every event it ever delivered
    (100 subscriptions replaying 3.3k events: 0.5 GB in 90 s, none of it
    garbage; docs/performance.md, "Memory"). A new dict per event is what a
    fresh executor has; the memo still serves the lists of one event.
    """

    # The subscription's plan (kimgraph.event_plan), made at its first event;
    # None: it has none. Per-event copies share it.
    _plan: Plan | bool | None = False
    _event = False

    def build_per_event_executor(self, payload: Any) -> Any:
        if self._plan is False:
            self._plan = plan_for(self)
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._event = True
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        """An event along the subscription's plan; graphql-core's own path else."""
        plan = self._plan
        aborted = self.abort_signal is not None and self.abort_signal.aborted
        if not self._event or not isinstance(plan, Plan) or aborted:
            return super().execute_operation(serially)
        try:
            data = plan.run(self)
        except Exception:  # noqa: BLE001 - graphql-core runs it again and reports it
            return super().execute_operation(serially)
        return self.finish(self.build_response(data))
