"""How the live layer asks a subscription's stream to run, and hears where it is.

A socket's own operation runs its stream as the client asked: replay after the
cursor, then live. A shared run and a member catching up are started by the
live layer instead, which passes one of these in the run's Context; the
resolver side (resolvers.streams) runs the stream accordingly and reports back
through the callback, so no object is written by one side and read by another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class LiveOnly:
    """Skip any replay and follow new events: one run for many sockets.

    on_position is called with the hub position the run follows from, once
    nothing after it can be missed, then with each event's id just before the
    run yields that event.
    """

    on_position: Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ReplayOnly:
    """Send the logged events after the cursor, then end: a member catching up.

    on_replayed is called once, only if the replay reached the end of the log,
    with the position it read the log through (the cursor if the log held
    nothing after it): every matching event up to there was sent. on_event, if
    given, is called with each event's id just before the run yields it (a
    group's shared catch-up records which event each result belongs to).
    """

    on_replayed: Callable[[int], None]
    on_event: Callable[[int], None] | None = None


StreamRun: TypeAlias = LiveOnly | ReplayOnly
