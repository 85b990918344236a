"""The sign-in throttle: failed passwords limited without locking the owner out."""

from __future__ import annotations

import hashlib
import math

from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.rate_limit import refusals
from kimgraph.rate_limit.buckets import Bucket, Limit, LimitStore, MemoryStore, Taken


class SignInThrottle:
    """Sign-in attempts are counted before the password is checked (docs/domain.md).

    Each attempt takes, in one atomic step, a token from three allowances:
    its address (PER_ADDRESS, across usernames), its (username, address) pair
    (PER_USERNAME_AND_ADDRESS) and its username from all addresses together
    (PER_USERNAME). Once a username's allowance is spent, an address may still
    try it from a small allowance of its own (PER_USERNAME_AND_ADDRESS_STRAINED):
    so the owner, password in hand, can sign in from any address that has not
    failed, while a guesser spread over many addresses gets only a few guesses
    an hour from each. An attempt holds its tokens while its password is
    checked, so concurrent attempts cannot outrun the limit; a sign-in that
    succeeds gives them back. IPv6 addresses count per /64
    (kimgraph.rate_limit.client_key). With Redis the allowances are shared by
    every process.
    """

    PER_ADDRESS = Limit(capacity=20, per_second=1 / 45)
    PER_USERNAME_AND_ADDRESS = Limit(capacity=10, per_second=1 / 90)
    PER_USERNAME = Limit(capacity=50, per_second=1 / 72)
    PER_USERNAME_AND_ADDRESS_STRAINED = Limit(capacity=3, per_second=1 / 1200)

    def __init__(self, clock: Clock, store: LimitStore | None = None) -> None:
        self.clock = clock
        self.store: LimitStore = store if store is not None else MemoryStore()

    def groups(self, client: str, username: str) -> list[list[Bucket]]:
        """The allowances one attempt spends from (a list of alternatives each)."""
        # Hashed: a key of bounded length whatever the caller typed as username.
        name = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
        return [
            [Bucket(f"signin:address:{client}", self.PER_ADDRESS)],
            [Bucket(f"signin:pair:{name}:{client}", self.PER_USERNAME_AND_ADDRESS)],
            [
                Bucket(f"signin:username:{name}", self.PER_USERNAME),
                Bucket(
                    f"signin:strained:{name}:{client}",
                    self.PER_USERNAME_AND_ADDRESS_STRAINED,
                ),
            ],
        ]

    async def attempt(self, client: str, username: str) -> Taken:
        """Spend this attempt's tokens; RATE_LIMITED (nothing spent) if one is out."""
        now = self.clock.now().timestamp()
        taken = await self.store.take(now, self.groups(client, username))
        if not taken.allowed:
            refusals.note(taken)
            raise UserInputError(
                Problem(
                    ProblemCode.RATE_LIMITED,
                    "too many failed sign-ins; try again in "
                    f"{max(1, math.ceil(taken.wait / 60))} minute(s)",
                    None,
                )
            )
        return taken

    async def succeeded(self, taken: Taken) -> None:
        """A sign-in that succeeded costs nothing: give its tokens back."""
        await self.store.give_back(self.clock.now().timestamp(), taken)
