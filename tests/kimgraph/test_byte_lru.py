"""The byte-bounded LRU both document stores keep their entries in."""

from __future__ import annotations

from kimgraph.byte_lru import ByteBoundedLru


def test_the_least_recently_used_go_first_once_the_bytes_pass_the_budget() -> None:
    # given
    evicted: list[str] = []
    lru: ByteBoundedLru[str, str] = ByteBoundedLru(30, 20, evicted.append)
    for key in "abc":
        assert lru.put(key, key.upper(), 10)
    # when: "a" is used, then a fourth value needs room
    assert lru.get("a") == "A"
    assert lru.put("d", "D", 10)
    # then: "b", the least recently used, made room
    assert evicted == ["B"]
    assert (lru.get("b"), len(lru), lru.total_bytes) == (None, 3, 30)
    assert [lru.get(key) for key in "acd"] == ["A", "C", "D"]


def test_a_value_heavier_than_an_item_may_be_is_not_kept() -> None:
    lru: ByteBoundedLru[str, str] = ByteBoundedLru(100, 20)
    assert not lru.put("big", "x", 21)
    assert ("big" in lru, lru.total_bytes) == (False, 0)


def test_putting_a_key_again_replaces_its_weight() -> None:
    lru: ByteBoundedLru[str, str] = ByteBoundedLru(100, 50)
    lru.put("a", "one", 40)
    lru.put("a", "two", 10)
    assert (lru.get("a"), len(lru), lru.total_bytes) == ("two", 1, 10)
