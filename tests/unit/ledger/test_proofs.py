"""Proof plans and checks: RFC 6962 vectors, the RFC 9162 recursive definitions, tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError, MalformedError, ProofError
from ledger.merkle import EMPTY_ROOT, CompactRange, NodeID, leaf_hash, root_from_leaf_hashes
from ledger.proofs import (
    ProofPlan,
    consistency_nodes,
    inclusion_nodes,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc6962_vectors.json").read_text())
ROOTS = [bytes.fromhex(h) for h in VECTORS["roots_by_size"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

MAX_SIZE = 300
LEAF_HASHES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_SIZE)]
STORED: dict[NodeID, bytes] = {}
_TREE = CompactRange()
for _h in LEAF_HASHES:
    _TREE.append(_h, lambda lv, ix, h: STORED.update({NodeID(lv, ix): h}))
VECTOR_STORE: dict[NodeID, bytes] = {}
_TREE = CompactRange()
for _x in VECTORS["leaf_inputs"]:
    _TREE.append(leaf_hash(bytes.fromhex(_x)), lambda lv, ix, h: VECTOR_STORE.update({NodeID(lv, ix): h}))


def fetch(plan: ProofPlan, store: dict[NodeID, bytes] = STORED) -> list[bytes]:
    """What a storage backend does: read the planned complete subtrees, then rehash."""
    return plan.rehash([store[node] for node in plan.ids])


def mth(leaves: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes(leaves)


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), mth(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def flips(h: bytes) -> list[bytes]:
    """Every one-bit change of ``h``."""
    return [
        bytes(b ^ (1 << bit) if j == i else b for j, b in enumerate(h))
        for i in range(len(h))
        for bit in range(8)
    ]


def fails(check: Callable[..., None], *args: Any) -> bool:
    """Whether ``check(*args)`` rejects its input."""
    try:
        check(*args)
    except LedgerError:
        return True
    return False


# --- the published vectors -------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS["inclusion_proofs"], ids=lambda v: f"leaf{v['index']}@{v['size']}")
def test_inclusion_vector(v: dict[str, Any]) -> None:
    index, size, proof = v["index"], v["size"], [bytes.fromhex(h) for h in v["proof"]]
    leaf = VECTOR_STORE[NodeID(0, index)]
    assert fetch(inclusion_nodes(index, size), VECTOR_STORE) == proof
    verify_inclusion(leaf, index, size, proof, ROOTS[size])
    assert root_from_inclusion_proof(leaf, index, size, proof) == ROOTS[size]


@pytest.mark.parametrize("v", VECTORS["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}")
def test_consistency_vector(v: dict[str, Any]) -> None:
    size1, size2, proof = v["size1"], v["size2"], [bytes.fromhex(h) for h in v["proof"]]
    assert fetch(consistency_nodes(size1, size2), VECTOR_STORE) == proof
    verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])
    assert root_from_consistency_proof(size1, size2, proof, ROOTS[size1]) == ROOTS[size2]


Attack = tuple[str, tuple[Any, ...]]


def inclusion_attacks(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> Iterator[Attack]:
    """The probes of transparency-dev/merkle's corruptInclusionProof, named after the attack."""
    yield "leaf-index-1", (leaf, index - 1, size, proof, root)
    yield "leaf-index+1", (leaf, index + 1, size, proof, root)
    yield "leaf-index^2", (leaf, index ^ 2, size, proof, root)
    yield "size*2", (leaf, index, size * 2, proof, root)
    yield "size/2", (leaf, index, size // 2, proof, root)
    yield "wrong-leaf", (SOME_HASH, index, size, proof, root)
    yield "empty-root", (leaf, index, size, proof, EMPTY_ROOT)
    yield "random-root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing-garbage", (leaf, index, size, [*proof, b""], root)
    yield "trailing-root", (leaf, index, size, [*proof, root], root)
    yield "preceding-garbage", (leaf, index, size, [b"", *proof], root)
    yield "preceding-root", (leaf, index, size, [root, *proof], root)
    for i in range(len(proof)):
        bad = [*proof]
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        yield f"modified-proof@{i}-bit@3", (leaf, index, size, bad, root)
    if proof:
        yield "removed-component", (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted-component", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)


@pytest.mark.parametrize("v", VECTORS["inclusion_proofs"], ids=lambda v: f"leaf{v['index']}@{v['size']}")
def test_inclusion_vector_attacks_fail(v: dict[str, Any]) -> None:
    index, size, proof = v["index"], v["size"], [bytes.fromhex(h) for h in v["proof"]]
    leaf = VECTOR_STORE[NodeID(0, index)]
    passed = [
        name
        for name, args in inclusion_attacks(index, size, proof, ROOTS[size], leaf)
        if not fails(verify_inclusion, *args)
    ]
    assert passed == []


def consistency_attacks(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> Iterator[Attack]:
    """The probes of transparency-dev/merkle's corruptConsistencyProof."""
    yield "size1-1", (size1 - 1, size2, proof, root1, root2)
    yield "size1+1", (size1 + 1, size2, proof, root1, root2)
    yield "size1^2", (size1 ^ 2, size2, proof, root1, root2)
    yield "size2*2", (size1, size2 * 2, proof, root1, root2)
    yield "size2/2", (size1, size2 // 2, proof, root1, root2)
    yield "wrong-root1", (size1, size2, proof, SOME_HASH, root2)
    yield "wrong-root2", (size1, size2, proof, root1, SOME_HASH)
    yield "swapped-roots", (size1, size2, proof, root2, root1)
    yield "empty-proof", (size1, size2, [], root1, root2)
    yield "trailing-garbage", (size1, size2, [*proof, b""], root1, root2)
    yield "trailing-root1", (size1, size2, [*proof, root1], root1, root2)
    yield "trailing-root2", (size1, size2, [*proof, root2], root1, root2)
    yield "preceding-garbage", (size1, size2, [b"", *proof], root1, root2)
    yield "preceding-root1", (size1, size2, [root1, *proof], root1, root2)
    yield "preceding-root2", (size1, size2, [root2, *proof], root1, root2)
    yield "preceding-proof0", (size1, size2, [proof[0], *proof], root1, root2)
    yield "truncated-proof", (size1, size2, proof[:-1], root1, root2)
    for i in range(len(proof)):
        bad = [*proof]
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        yield f"modified-proof@{i}-bit@4", (size1, size2, bad, root1, root2)


@pytest.mark.parametrize(
    "v",
    [v for v in VECTORS["consistency_proofs"] if v["proof"]],
    ids=lambda v: f"{v['size1']}-{v['size2']}",
)
def test_consistency_vector_attacks_fail(v: dict[str, Any]) -> None:
    size1, size2, proof = v["size1"], v["size2"], [bytes.fromhex(h) for h in v["proof"]]
    attacks = consistency_attacks(size1, size2, proof, ROOTS[size1], ROOTS[size2])
    passed = [name for name, args in attacks if not fails(verify_consistency, *args)]
    assert passed == []


# --- edge cases of RFC 9162 and of the preconditions ---------------------------------------


def test_single_leaf_tree_has_empty_proof_and_root_equal_to_leaf() -> None:
    h = leaf_hash(b"data")
    assert fetch(inclusion_nodes(0, 1)) == []
    verify_inclusion(h, 0, 1, [], h)
    with pytest.raises(ProofError):
        verify_inclusion(h, 0, 1, [], SOME_HASH)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (2, 1), (-1, 5)])
def test_inclusion_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(MalformedError, match=f"leaf index {index} is not in a tree of size {size}"):
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    with pytest.raises(MalformedError, match="is not in a tree"):
        inclusion_nodes(index, size)


def test_inclusion_proof_of_wrong_length() -> None:
    with pytest.raises(MalformedError, match="leaf 5 in size 8 must have 3 hashes, found 2"):
        verify_inclusion(SOME_HASH, 5, 8, [SOME_HASH, SOME_HASH], ROOTS[8])


@pytest.mark.parametrize("bad", [b"", b"WrongLeaf", SOME_HASH + b"\x00"])
def test_hash_of_wrong_length(bad: bytes) -> None:
    with pytest.raises(MalformedError, match=f"hashes must be 32 bytes, found {len(bad)}"):
        verify_inclusion(bad, 0, 1, [], ROOTS[1])
    with pytest.raises(MalformedError, match="must be 32 bytes"):
        verify_inclusion(ROOTS[1], 0, 1, [], bad)
    with pytest.raises(MalformedError, match="must be 32 bytes"):
        verify_consistency(1, 2, [bad], ROOTS[1], ROOTS[2])


def test_proof_error_carries_size_computed_and_expected() -> None:
    leaf = VECTOR_STORE[NodeID(0, 5)]
    proof = fetch(inclusion_nodes(5, 8), VECTOR_STORE)
    with pytest.raises(ProofError, match="root mismatch for tree size 8") as caught:
        verify_inclusion(leaf, 5, 8, proof, ROOTS[7])
    assert (caught.value.size, caught.value.computed, caught.value.expected) == (
        8,
        ROOTS[8],
        ROOTS[7],
    )


def test_consistency_same_size_needs_equal_roots() -> None:
    verify_consistency(5, 5, [], ROOTS[5], ROOTS[5])
    with pytest.raises(ProofError, match="new root mismatch for tree size 5"):
        verify_consistency(5, 5, [], ROOTS[5], ROOTS[4])


def test_consistency_same_size_needs_empty_proof() -> None:
    with pytest.raises(MalformedError, match="from size 5 to 5 must be empty, found 1"):
        verify_consistency(5, 5, [EMPTY_ROOT], ROOTS[5], ROOTS[5])


def test_consistency_from_empty_tree() -> None:
    assert consistency_nodes(0, 7) == ProofPlan(())
    verify_consistency(0, 7, [], EMPTY_ROOT, ROOTS[7])
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(MalformedError, match="must be empty"):
        verify_consistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, ROOTS[1])


def test_consistency_from_empty_to_empty_needs_the_empty_root() -> None:
    """From 0 to 0 both trees are the empty one: no other root is consistent with it."""
    for other in (ROOTS[1], ROOTS[5], bytes(32)):
        with pytest.raises(ProofError):
            verify_consistency(0, 0, [], EMPTY_ROOT, other)


def test_consistency_from_empty_tree_with_non_empty_root() -> None:
    with pytest.raises(ProofError, match="empty tree root mismatch for tree size 0"):
        verify_consistency(0, 3, [], ROOTS[2], ROOTS[3])


@pytest.mark.parametrize(("size1", "size2"), [(1, 0), (2, 1), (-1, 3)])
def test_consistency_back_in_time(size1: int, size2: int) -> None:
    with pytest.raises(MalformedError, match=f"no consistency proof from size {size1} to size {size2}"):
        verify_consistency(size1, size2, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(MalformedError, match="no consistency proof"):
        consistency_nodes(size1, size2)


def test_consistency_empty_proof_between_different_sizes() -> None:
    with pytest.raises(MalformedError, match="from size 1 to 2 must have 1 hashes, found 0"):
        verify_consistency(1, 2, [], ROOTS[1], ROOTS[2])


def test_consistency_old_root_mismatch_names_old_size() -> None:
    proof = fetch(consistency_nodes(6, 8), VECTOR_STORE)
    with pytest.raises(ProofError, match="old root mismatch for tree size 6") as caught:
        verify_consistency(6, 8, proof, ROOTS[5], ROOTS[8])
    assert caught.value.expected == ROOTS[5]


def test_rehash_needs_one_hash_per_node() -> None:
    with pytest.raises(MalformedError, match="plan needs 3 hashes, found 2"):
        inclusion_nodes(5, 8).rehash([SOME_HASH, SOME_HASH])


# --- every size: plans from stored subtrees equal the RFC 9162 definitions -----------------


@pytest.mark.parametrize("size", range(1, 65))
def test_all_inclusion_plans_match_reference(size: int) -> None:
    leaves = LEAF_HASHES[:size]
    for index in range(size):
        plan = inclusion_nodes(index, size)
        assert all(node.end <= size for node in plan.ids)  # complete subtrees only
        assert fetch(plan) == reference_path(index, leaves)


@pytest.mark.parametrize("size2", range(1, 65))
def test_all_consistency_plans_match_reference(size2: int) -> None:
    leaves = LEAF_HASHES[:size2]
    for size1 in range(1, size2 + 1):
        plan = consistency_nodes(size1, size2)
        assert all(node.end <= size2 for node in plan.ids)
        assert fetch(plan) == reference_subproof(size1, leaves, True)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_inclusion_proof_verifies_and_every_bit_flip_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaves, leaf = LEAF_HASHES[:size], LEAF_HASHES[index]
    root = mth(leaves)
    plan = inclusion_nodes(index, size)
    assert len(plan.ids) <= 2 * size.bit_length()  # O(log n) reads
    proof = fetch(plan)
    assert proof == reference_path(index, leaves)
    verify_inclusion(leaf, index, size, proof, root)
    assert all(fails(verify_inclusion, b, index, size, proof, root) for b in flips(leaf))
    assert all(fails(verify_inclusion, leaf, index, size, proof, b) for b in flips(root))
    for i, element in enumerate(proof):
        for b in flips(element):
            bad = [*proof[:i], b, *proof[i + 1 :]]
            assert fails(verify_inclusion, leaf, index, size, bad, root)
    for other in {index - 1, index + 1, index ^ 1, index ^ 2} - {index}:
        assert fails(verify_inclusion, leaf, other, size, proof, root)
    # Sizes one apart can share a proof: a root does not commit to its tree's size (the
    # root of [a, b, c] is that of a size-4 tree whose last pair hashes to c), which is
    # why checkpoints sign the size with the root.  Probe as transparency-dev/merkle does.
    for other in {size * 2, size // 2} - {size}:
        assert fails(verify_inclusion, leaf, index, other, proof, root)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_consistency_proof_verifies_and_every_bit_flip_fails(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(2, MAX_SIZE), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    root1, root2 = mth(LEAF_HASHES[:size1]), mth(LEAF_HASHES[:size2])
    plan = consistency_nodes(size1, size2)
    assert len(plan.ids) <= 2 * size2.bit_length()
    proof = fetch(plan)
    assert proof == reference_subproof(size1, LEAF_HASHES[:size2], True)
    verify_consistency(size1, size2, proof, root1, root2)
    assert all(fails(verify_consistency, size1, size2, proof, b, root2) for b in flips(root1))
    assert all(fails(verify_consistency, size1, size2, proof, root1, b) for b in flips(root2))
    for i, element in enumerate(proof):
        for b in flips(element):
            bad = [*proof[:i], b, *proof[i + 1 :]]
            assert fails(verify_consistency, size1, size2, bad, root1, root2)
    for other in {size1 - 1, size1 + 1, size1 ^ 2} - {0, size2}:
        assert fails(verify_consistency, other, size2, proof, root1, root2)
    for other in {size2 * 2, size2 // 2} - {size1}:  # see the inclusion test on sizes
        assert fails(verify_consistency, size1, other, proof, root1, root2)


@given(st.integers(min_value=1, max_value=600), st.data())
def test_batch_inclusion_proofs_equal_single_proofs(size: int, data: st.DataObject) -> None:
    from ledger.merkle import CompactRange, NodeID
    from ledger.proofs import inclusion_nodes, inclusion_proofs

    stored: dict = {}
    tree = CompactRange()
    for i in range(size):
        tree.append(
            hashlib.sha256(i.to_bytes(4, "big")).digest(),
            lambda level, index, h: stored.__setitem__((level, index), h),
        )
    first = data.draw(st.integers(0, size - 1))
    indexes = list(range(first, size)) + data.draw(st.lists(st.integers(0, size - 1), max_size=5))
    fetched: list[set] = []

    def fetch(ids: set) -> dict:
        fetched.append(ids)
        return {i: stored[tuple(i)] for i in ids}

    proofs = inclusion_proofs(indexes, size, fetch)
    assert len(fetched) == 1
    assert {type(i) for i in fetched[0]} <= {NodeID}
    for index in indexes:
        plan = inclusion_nodes(index, size)
        assert proofs[index] == plan.rehash([stored[tuple(i)] for i in plan.ids])
