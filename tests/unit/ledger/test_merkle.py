"""RFC 6962 hashing and the compact range, against the transparency-dev/merkle vectors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import MalformedError
from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeID,
    leaf_hash,
    node_hash,
    range_nodes,
    root_from_leaf_hashes,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc6962_vectors.json").read_text())
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaf_inputs"]]
NODES = [[bytes.fromhex(h) for h in level] for level in VECTORS["node_hashes_by_level"]]
ROOTS = [bytes.fromhex(h) for h in VECTORS["roots_by_size"]]


def grow(n: int) -> tuple[CompactRange, dict[NodeID, bytes]]:
    """A compact range over n synthetic leaves, and every node it reported."""
    stored: dict[NodeID, bytes] = {}
    tree = CompactRange()
    for i in range(n):
        tree.append(leaf_hash(i.to_bytes(4, "big")), lambda lv, ix, h: stored.update({NodeID(lv, ix): h}))
    return tree, stored


def test_published_roots_for_sizes_7_and_8() -> None:
    assert ROOTS[7].hex() == "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"
    assert ROOTS[8].hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_empty_root_is_sha256_of_nothing() -> None:
    assert ROOTS[0] == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_leaf_hashes_match_vectors() -> None:
    assert [leaf_hash(x) for x in LEAVES] == NODES[0]


def test_node_hash_matches_vectors() -> None:
    assert node_hash(NODES[0][0], NODES[0][1]) == NODES[1][0]
    assert node_hash(NODES[2][0], NODES[2][1]) == NODES[3][0]


@pytest.mark.parametrize("size", range(9))
def test_reference_root_matches_vectors(size: int) -> None:
    assert root_from_leaf_hashes(NODES[0][:size]) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_compact_range_root_and_hashes_match_vectors(size: int) -> None:
    tree = CompactRange()
    for leaf in LEAVES[:size]:
        tree.append(leaf_hash(leaf))
    expected_ids = [NodeID(*n) for n in VECTORS["compact_ranges_by_size"][size]]
    assert CompactRange.decomposition(size) == expected_ids
    assert tree.hashes == [NODES[lv][ix] for lv, ix in expected_ids]
    assert tree.root() == ROOTS[size]
    assert tree.size == size


def test_append_reports_every_complete_subtree_of_the_vectors() -> None:
    reported: list[tuple[int, int, bytes]] = []
    tree = CompactRange()
    for leaf in LEAVES:
        tree.append(leaf_hash(leaf), lambda *node: reported.append(node))
    assert sorted(reported) == sorted(
        (lv, ix, h) for lv, level in enumerate(NODES) for ix, h in enumerate(level)
    )
    # The leaf comes first, then its new ancestors bottom up: leaf 7 completes three.
    assert [(lv, ix) for lv, ix, _ in reported[-4:]] == [(0, 7), (1, 3), (2, 1), (3, 0)]


def test_compact_range_resumes_from_stored_hashes() -> None:
    full, stored = grow(23)
    partial, _ = grow(13)
    resumed = CompactRange(13, [stored[n] for n in CompactRange.decomposition(13)])
    assert resumed.hashes == partial.hashes
    for i in range(13, 23):
        resumed.append(leaf_hash(i.to_bytes(4, "big")))
    assert resumed.root() == full.root()


def test_compact_range_rejects_wrong_number_of_hashes() -> None:
    with pytest.raises(MalformedError, match="size 7 needs 3 hashes, found 2"):
        CompactRange(7, [EMPTY_ROOT, EMPTY_ROOT])


def test_compact_range_rejects_short_hash() -> None:
    with pytest.raises(MalformedError, match="32 bytes, found 31"):
        CompactRange(1, [b"\x00" * 31])


def test_compact_range_rejects_negative_size() -> None:
    with pytest.raises(MalformedError, match="tree size must be >= 0"):
        CompactRange(-1, [])


def test_append_rejects_short_leaf_hash() -> None:
    with pytest.raises(MalformedError, match="leaf hash must be 32 bytes"):
        CompactRange().append(b"leaf")


def test_node_id_coverage_and_relatives() -> None:
    node = NodeID(2, 3)
    assert (node.begin, node.end) == (12, 16)
    assert node.sibling() == NodeID(2, 2)
    assert node.parent() == NodeID(3, 1)


def test_range_nodes_rejects_inverted_range() -> None:
    with pytest.raises(MalformedError, match=r"range \[5, 4\)"):
        range_nodes(5, 4)


@given(st.integers(0, 5000), st.integers(0, 5000))
def test_range_nodes_are_the_minimal_cover(a: int, b: int) -> None:
    begin, end = min(a, b), max(a, b)
    nodes = range_nodes(begin, end)
    position = begin
    for node in nodes:
        assert node.begin == position  # contiguous, aligned, complete
        position = node.end
    assert position == end
    levels = [n.level for n in nodes]
    peak = levels.index(max(levels)) if levels else 0
    assert levels[: peak + 1] == sorted(levels[: peak + 1])  # rises ...
    assert levels[peak:] == sorted(levels[peak:], reverse=True)  # ... then falls
    for left, right in itertools.pairwise(nodes):
        # Minimal: no two neighbours are siblings that a parent would replace.
        assert not (left.level == right.level and left.index % 2 == 0)


@given(st.integers(0, 700))
def test_compact_range_matches_reference_and_reports_all_nodes(n: int) -> None:
    tree, stored = grow(n)
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    assert tree.root() == root_from_leaf_hashes(leaves)
    expected = {
        NodeID(lv, ix): root_from_leaf_hashes(leaves[ix << lv : (ix + 1) << lv])
        for lv in range(n.bit_length())
        for ix in range(n >> lv)
    }
    assert stored == expected
