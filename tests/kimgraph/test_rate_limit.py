"""Token buckets in this process, client keys, and the refusals behind HTTP 429."""

from __future__ import annotations

import pytest

from kimgraph.rate_limit import Bucket, Limit, MemoryStore, Taken, client_key
from kimgraph.rate_limit.refusals import collecting, current, note

TWO_A_MINUTE = Limit(capacity=2, per_second=1 / 30)
ONE_AN_HOUR = Limit(capacity=1, per_second=1 / 3600)


async def test_a_take_spends_from_every_group_or_from_none() -> None:
    store = MemoryStore()
    a, b = Bucket("a", TWO_A_MINUTE), Bucket("b", ONE_AN_HOUR)
    # when / then: b runs out first; a refused take spends nothing of a
    assert await store.take(0, [[a], [b]]) == Taken(0, (a, b))
    assert await store.take(0, [[a], [b]]) == Taken(3600)
    assert await store.take(0, [[a]]) == Taken(0, (a,))
    assert await store.take(0, [[a]]) == Taken(30)
    assert await store.take(30, [[a]]) == Taken(0, (a,))


async def test_a_group_spends_from_its_first_bucket_with_a_token() -> None:
    store = MemoryStore()
    main, spare = Bucket("main", ONE_AN_HOUR), Bucket("spare", TWO_A_MINUTE)
    assert await store.take(0, [[main, spare]]) == Taken(0, (main,))
    assert await store.take(0, [[main, spare]]) == Taken(0, (spare,))
    assert await store.take(0, [[main, spare]]) == Taken(0, (spare,))
    # both out: the wait is the sooner of the two refills
    assert (await store.take(10, [[main, spare]])).wait == pytest.approx(20)


async def test_given_back_tokens_count_again_up_to_the_capacity() -> None:
    store = MemoryStore()
    bucket = Bucket("a", ONE_AN_HOUR)
    taken = await store.take(0, [[bucket]])
    await store.give_back(1, taken)
    await store.give_back(2, taken)
    assert await store.take(3, [[bucket]]) == Taken(0, (bucket,))
    assert await store.take(3, [[bucket]]) == Taken(3600)


async def test_memory_stays_bounded_forgetting_full_buckets_first() -> None:
    store = MemoryStore(max_keys=3)
    busy = Bucket("busy", ONE_AN_HOUR)
    await store.take(0, [[busy]])
    for n in range(2):
        await store.take(0, [[Bucket(f"idle{n}", TWO_A_MINUTE)]])
    # when: a fourth key arrives once the idle ones are full again
    await store.take(60, [[Bucket("new", TWO_A_MINUTE)]])
    # then
    assert sorted(store.buckets) == ["busy", "new"]
    assert await store.take(60, [[busy]]) == Taken(3540)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:7:1::1", "2001:db8:7:1::/64"),
        ("2001:DB8:7:1:ffff:1:2:3", "2001:db8:7:1::/64"),
        ("2001:db8:7:2::1", "2001:db8:7:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_ipv4_counts_per_address_and_ipv6_per_64(host: str | None, key: str) -> None:
    assert client_key(host) == key


def test_refusals_are_collected_only_where_a_collection_is_open() -> None:
    note(Taken(5))  # no collection (a WebSocket): nothing happens
    with collecting() as refusals:
        assert current() is refusals
        note(Taken(0))  # allowed: not a refusal
        note(Taken(0.2))
        note(Taken(89.1))
        refusals.settle({"a": None, "b": None}, errors=False)
        assert (refusals.whole, refusals.retry_after) == (True, 90)
        refusals.settle({"a": None, "b": None, "c": None}, errors=False)
        assert not refusals.whole
        refusals.settle({"a": None}, errors=True)
        assert not refusals.whole
    assert current() is None
