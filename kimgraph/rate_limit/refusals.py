"""Refusals noted for the HTTP response: a fully rate-limited request gets 429.

The limiters note each refusal here; the HTTP view (kimgraph/view.py) opens a
collection around a request and, when every root field of the result was
refused, answers 429 with Retry-After (docs/domain.md, "Limits"). Over a
WebSocket no collection is open and nothing is noted: errors stay in the
payload. A context variable carries it because the limit is applied deep in the
domain, which knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from kimgraph.rate_limit.buckets import Taken


@dataclass(slots=True)
class Refusals:
    """The rate-limit refusals of one HTTP request."""

    refused: list[Taken] = field(default_factory=list)
    # Set once the result is known: every root field was refused, and no error.
    whole: bool = False

    @property
    def retry_after(self) -> int:
        """Whole seconds until every refused action may be tried again (>= 1)."""
        return max((taken.retry_after for taken in self.refused), default=1)

    def settle(self, data: Mapping[str, object] | None, errors: bool) -> None:
        """Judge the result: whole if each root field (one each) was refused.

        A mutation with several root fields, of which one went through, or a
        result with errors, keeps its usual status.
        """
        self.whole = not errors and 0 < len(data or {}) <= len(self.refused)


_current: ContextVar[Refusals | None] = ContextVar("kimgraph_refusals", default=None)


@contextmanager
def collecting() -> Iterator[Refusals]:
    """Collect the refusals of the code run inside (one HTTP request)."""
    refusals = Refusals()
    token = _current.set(refusals)
    try:
        yield refusals
    finally:
        _current.reset(token)


def current() -> Refusals | None:
    """The open collection, if any."""
    return _current.get()


def note(taken: Taken) -> None:
    """Record a refusal in the open collection (none over WebSocket: no-op)."""
    refusals = _current.get()
    if refusals is not None and not taken.allowed:
        refusals.refused.append(taken)
