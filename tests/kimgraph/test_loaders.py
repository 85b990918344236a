"""The loader factories: one read per batch, and the set made per operation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from kimgraph.loaders import Loaders, rows_by_key, values_by_key


class Reads:
    """A batch read that records the keys of each call."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def rows(self, keys: Sequence[int]) -> dict[int, str]:
        self.calls.append(list(keys))
        return {key: f"row {key}" for key in keys if key != 2}

    async def groups(self, keys: Sequence[int]) -> dict[int, list[str]]:
        self.calls.append(list(keys))
        return {key: [f"{key}a", f"{key}b"][: key % 3] for key in keys}


async def test_rows_by_key_reads_a_batch_once_and_gives_none_when_missing() -> None:
    # given
    reads = Reads()
    loader = rows_by_key(reads.rows)
    # when
    found = list(await asyncio.gather(loader.load(1), loader.load(2), loader.load(3)))
    again = await loader.load(1)
    # then
    assert found == ["row 1", None, "row 3"]
    assert again == "row 1"
    assert reads.calls == [[1, 2, 3]]


async def test_values_by_key_reads_a_batch_once_and_answers_every_key() -> None:
    # given
    reads = Reads()
    loader = values_by_key(reads.groups)
    # when
    found = await loader.load_many([1, 2, 3])
    # then
    assert found == [["1a"], ["2a", "2b"], []]
    assert reads.calls == [[1, 2, 3]]


async def test_values_by_key_fails_loudly_for_a_key_the_read_left_out() -> None:
    # given: a read that answers only some keys (a bug)
    loader = values_by_key(Reads().rows)
    # when / then
    with pytest.raises(KeyError):
        await loader.load(2)


async def test_a_set_of_loaders_makes_each_loader_once_on_first_use() -> None:
    # given
    loaders, other = Loaders(), Loaders()
    # then: one loader per set, and none shared between sets
    assert loaders.kims_by_id is loaders.kims_by_id
    assert loaders.kims_by_id is not other.kims_by_id
    assert vars(Loaders()) == {}
