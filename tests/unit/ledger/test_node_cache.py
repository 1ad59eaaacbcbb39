"""The cache of stored nodes the proofs share (``ledger.stored_proofs.NodeCache``): only the
levels it is for, at most its capacity, the least recently used given up first."""

from __future__ import annotations

from ledger.merkle import NodeID
from ledger.stored_proofs import NodeCache


def node(level: int, index: int) -> tuple[NodeID, bytes]:
    return NodeID(level, index), bytes([level, index % 256]) * 16


def test_only_its_levels_are_kept() -> None:
    cache = NodeCache(min_level=3, capacity=10)
    cache.keep([node(2, 0), node(3, 0), node(9, 1)])
    assert len(cache) == 2
    assert cache.known([NodeID(2, 0), NodeID(3, 0), NodeID(9, 1), NodeID(9, 0)]) == dict(
        [node(3, 0), node(9, 1)]
    )


def test_the_least_recently_used_goes_first() -> None:
    cache = NodeCache(min_level=0, capacity=3)
    cache.keep([node(0, 0), node(0, 1), node(0, 2)])
    # (0, 0) is used again: (0, 1) is now the oldest.
    assert cache.known([NodeID(0, 0)]) == dict([node(0, 0)])
    cache.keep([node(0, 3)])
    assert len(cache) == 3
    assert set(cache.known([NodeID(0, i) for i in range(4)])) == {NodeID(0, 0), NodeID(0, 2), NodeID(0, 3)}
    cache.keep([node(1, i) for i in range(10)])
    assert set(cache.known([NodeID(1, i) for i in range(10)])) == {NodeID(1, 7), NodeID(1, 8), NodeID(1, 9)}
