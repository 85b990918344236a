"""Buckets in Redis, so that every server process spends from one allowance.

Without it N processes would allow N times each limit. A take is one Lua script
(atomic in Redis: no two processes can both spend a bucket's last token). Time
comes from the caller's clock (kimgraph/clock.py), not from Redis, so that the
rules can be tested without waiting; processes' clocks agree to NTP's precision.

Redis unreachable: the store falls back to its own in-process buckets (each
process then limits alone, as without Redis), logs one warning per outage and
tries Redis again after `retry_seconds`. A mutation never fails because Redis
is down.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from kimgraph import redis_outage
from kimgraph.rate_limit.buckets import Bucket, Groups, MemoryStore, Taken

logger = logging.getLogger("kimgraph.rate_limit")

DEFAULT_PREFIX = "kimgraph:limit:"

# KEYS: every bucket, group after group. ARGV: now, the number of groups, each
# group's size, then per bucket: capacity, refill per second, expiry (ms).
# Returns {0, wait} (nothing spent) or {1, index of each bucket spent...}.
# Numbers travel as strings: Redis would truncate a Lua float to an integer.
_TAKE = """
local now = tonumber(ARGV[1])
local groups = tonumber(ARGV[2])
local key, arg = 1, 3 + groups
local chosen, state, wait = {}, {}, 0
for g = 1, groups do
  local picked, least = nil, nil
  for _ = 1, tonumber(ARGV[2 + g]) do
    local cap, rate = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1])
    local stored = redis.call('HMGET', KEYS[key], 't', 'u')
    local tokens, updated = cap, now
    if stored[1] then
      tokens, updated = tonumber(stored[1]), tonumber(stored[2])
      tokens = math.min(cap, tokens + math.max(0, now - updated) * rate)
    end
    state[key] = {tokens, math.max(now, updated), ARGV[arg + 2]}
    if picked == nil then
      if tokens >= 1 then
        picked = key
      else
        local w = (1 - tokens) / rate
        if least == nil or w < least then least = w end
      end
    end
    key, arg = key + 1, arg + 3
  end
  if picked == nil then
    if least > wait then wait = least end
  else
    chosen[#chosen + 1] = picked
  end
end
if wait > 0 then return {0, tostring(wait)} end
local spent = {1}
for _, k in ipairs(chosen) do
  local s = state[k]
  redis.call('HSET', KEYS[k], 't', tostring(s[1] - 1), 'u', tostring(s[2]))
  redis.call('PEXPIRE', KEYS[k], s[3])
  spent[#spent + 1] = k - 1
end
return spent
"""

# KEYS: the buckets spent. ARGV: now, then per bucket: capacity, refill, expiry.
_GIVE_BACK = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local cap, rate = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local stored = redis.call('HMGET', key, 't', 'u')
  if stored[1] then
    local updated = tonumber(stored[2])
    local tokens = tonumber(stored[1]) + math.max(0, now - updated) * rate
    redis.call('HSET', key, 't', tostring(math.min(cap, tokens + 1)),
               'u', tostring(math.max(now, updated)))
    redis.call('PEXPIRE', key, ARGV[3 * i + 1])
  end
end
return 0
"""


def _expiry_ms(fill_seconds: float) -> int:
    # A bucket left alone this long is full again, the same as no bucket.
    return math.ceil(fill_seconds * 1000) + 1000


def _limit_args(buckets: Iterable[Bucket]) -> list[str | int | float]:
    """Per bucket: capacity, refill per second, expiry (ms), as the scripts read."""
    args: list[str | int | float] = []
    for bucket in buckets:
        limit = bucket.limit
        args += [limit.capacity, repr(limit.per_second), _expiry_ms(limit.fill_seconds)]
    return args


class RedisStore:
    """A LimitStore in Redis under `prefix`, with an in-process fallback."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        retry_seconds: float = redis_outage.RETRY_SECONDS,
        timeout_s: float = redis_outage.COMMAND_TIMEOUT_S,
    ) -> None:
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self.fallback = MemoryStore()
        self._client = redis_outage.client(url, timeout_s)
        self._take = self._client.register_script(_TAKE)
        self._give_back = self._client.register_script(_GIVE_BACK)
        self.outage = redis_outage.Outage(
            logger,
            "rate limits: Redis is unreachable, each process limits alone "
            "until it answers again",
            "rate limits: Redis answers again; limits are shared",
            retry_seconds,
        )

    @property
    def away(self) -> bool:
        """True while Redis failed last and the fallback counts instead."""
        return self.outage.away

    async def take(self, now: float, groups: Groups) -> Taken:
        if self.outage.skipping(now):
            return self.fallback.take_now(now, groups)
        buckets = [bucket for group in groups for bucket in group]
        args: list[str | int | float] = [repr(now), len(groups)]
        args += [len(group) for group in groups]
        args += _limit_args(buckets)
        try:
            answer = await self._take(
                keys=[self.prefix + bucket.key for bucket in buckets], args=args
            )
        except redis_outage.ERRORS as error:
            self.outage.went_away(now, error)
            return self.fallback.take_now(now, groups)
        self.outage.came_back()
        if int(answer[0]) == 0:
            return Taken(float(answer[1]), shared=True)
        spent = tuple(buckets[int(index)] for index in answer[1:])
        return Taken(0.0, spent, shared=True)

    async def give_back(self, now: float, taken: Taken) -> None:
        if not taken.shared:
            self.fallback.give_back_now(now, taken)
            return
        if not taken.spent or self.outage.skipping(now):
            return
        args: list[str | int | float] = [repr(now), *_limit_args(taken.spent)]
        try:
            await self._give_back(
                keys=[self.prefix + bucket.key for bucket in taken.spent], args=args
            )
        except redis_outage.ERRORS as error:
            # The token stays spent: erring towards the limit is harmless.
            self.outage.went_away(now, error)

    async def close(self) -> None:
        await self._client.aclose()
