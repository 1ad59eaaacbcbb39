"""Inclusion and consistency proofs (RFC 9162 sections 2.1.3 and 2.1.4): plans and checks.

Generation never walks the tree.  ``inclusion_nodes`` and ``consistency_nodes`` return a
``ProofPlan``: the O(log n) ids of *complete* subtrees to read from storage, and how to fold
the few that lie under the tree's incomplete right edge into the one "ephemeral" node the
proof needs.  Modelled on transparency-dev/merkle ``proof/proof.go``; the checks follow its
``proof/verify.go``.

Every check validates its preconditions and the proof's shape first (``MalformedError``),
then recomputes roots (``ProofError``, carrying size, computed and expected root).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from ledger.errors import MalformedError, ProofError
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, NodeID, node_hash, range_nodes

__all__ = [
    "ProofPlan",
    "consistency_nodes",
    "inclusion_nodes",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


@dataclass(frozen=True)
class ProofPlan:
    """Which stored subtree hashes make up a proof, and how to combine them.

    ``ids`` are complete subtrees in the order their hashes are fetched.  ``ids[begin:end]``
    (lowest first, each to the left of the previous) are the children of the ephemeral node
    and are folded into it; when ``begin == end`` nothing is folded.
    """

    ids: tuple[NodeID, ...]
    begin: int = 0
    end: int = 0

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """The proof, given the fetched ``hashes`` of ``ids`` in the same order."""
        if len(hashes) != len(self.ids):
            raise MalformedError(f"plan needs {len(self.ids)} hashes, found {len(hashes)}")
        proof = list(hashes[: self.begin])
        if self.begin < self.end:
            ephemeral = hashes[self.begin]
            for left in hashes[self.begin + 1 : self.end]:
                ephemeral = node_hash(left, ephemeral)
            proof.append(ephemeral)
        proof.extend(hashes[self.end :])
        return proof


def inclusion_nodes(index: int, size: int) -> ProofPlan:
    """The plan for the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Precondition: ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise MalformedError(f"leaf index {index} is not in a tree of size {size}")
    return _plan(index, 0, size, skip_first=True)


def consistency_nodes(size1: int, size2: int) -> ProofPlan:
    """The plan for the proof that the tree of ``size2`` leaves extends that of ``size1``.

    Precondition: ``0 <= size1 <= size2``.  The proof is empty when ``size1`` is 0 or
    equal to ``size2`` (RFC 9162 section 2.1.4.1).
    """
    if not 0 <= size1 <= size2:
        raise MalformedError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return ProofPlan(())
    # Start from the largest complete subtree ending at size1; the verifier knows its hash
    # already when it is the whole old tree (size1 a power of two).
    level = _trailing_zeros(size1)
    return _plan((size1 - 1) >> level, level, size2, skip_first=size1 == 1 << level)


def _plan(index: int, level: int, size: int, *, skip_first: bool) -> ProofPlan:
    """The nodes proving that node ``(level, index)`` is in the tree of ``size`` leaves.

    The path up from the node forks from the path to leaf ``size`` at ``fork``; below it,
    siblings are complete.  The fork's right sibling is the ephemeral node, covered by the
    complete subtrees of ``[fork.end, size)``; ``[0, fork.begin)`` completes the proof.
    """
    inner = (index ^ (size >> level)).bit_length() - 1
    # Siblings on the way up to the fork (plain arithmetic: this runs once per receipt).
    ids = [NodeID(level + i, (index >> i) ^ 1) for i in range(inner)]
    ids.insert(0, NodeID(level, index))
    fork = NodeID(level + inner, index >> inner)
    begin = len(ids)
    ids += reversed(range_nodes(fork.end, size))
    end = len(ids)
    ids += reversed(range_nodes(0, fork.begin))
    if skip_first:
        return ProofPlan(tuple(ids[1:]), max(begin - 1, 0), max(end - 1, 0))
    return ProofPlan(tuple(ids), begin, end)


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root of the tree of ``size`` leaves implied by ``proof`` for leaf ``index``.

    Preconditions (else ``MalformedError``): ``0 <= index < size``; 32-byte hashes; the
    proof has exactly the length RFC 9162 gives for ``(index, size)``.
    """
    if not 0 <= index < size:
        raise MalformedError(f"leaf index {index} is not in a tree of size {size}")
    _check_hashes(leaf_hash, *proof)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    if len(proof) != inner + border:
        raise MalformedError(
            f"inclusion proof for leaf {index} in size {size} must have "
            f"{inner + border} hashes, found {len(proof)}"
        )
    h = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(h, proof[inner:])


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise unless ``proof`` shows leaf ``index`` with ``leaf_hash`` is in the tree ``root``."""
    _check_hashes(root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise ProofError(size=size, computed=computed, expected=root)


def root_from_consistency_proof(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> bytes:
    """The root of the tree of ``size2`` leaves implied by ``proof`` and the old ``root1``.

    Also checks that ``proof`` recomputes ``root1`` (``ProofError`` naming ``size1`` if not).
    Preconditions (else ``MalformedError``): ``0 <= size1 <= size2``; 32-byte hashes; the
    proof has the length RFC 9162 gives, which is 0 when ``size1`` is 0 or ``size2``.
    For ``size1 == 0`` the old root must be the empty tree's root, and nothing is learnt
    about the new root.
    """
    if not 0 <= size1 <= size2:
        raise MalformedError(f"no consistency proof from size {size1} to size {size2}")
    _check_hashes(root1, *proof)
    if size1 in (0, size2):
        if proof:
            raise MalformedError(
                f"consistency proof from size {size1} to {size2} must be empty, found {len(proof)} hashes"
            )
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError(size=0, computed=root1, expected=EMPTY_ROOT, what="empty tree root")
        return root1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    shift = _trailing_zeros(size1)
    inner -= shift  # shift < inner because size1 < size2
    # The proof starts with the hash of the largest complete subtree ending at size1,
    # unless that subtree is the whole old tree, whose root the verifier holds.
    start = 0 if size1 == 1 << shift else 1
    if len(proof) != start + inner + border:
        raise MalformedError(
            f"consistency proof from size {size1} to {size2} must have "
            f"{start + inner + border} hashes, found {len(proof)}"
        )
    seed = root1 if start == 0 else proof[0]
    path = proof[start:]
    mask = (size1 - 1) >> shift
    old = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if old != root1:
        raise ProofError(size=size1, computed=old, expected=root1, what="old root")
    return _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise unless ``proof`` shows tree ``root2`` of ``size2`` extends ``root1`` of ``size1``."""
    _check_hashes(root2)
    computed = root_from_consistency_proof(size1, size2, proof, root1)
    if size1 == 0 and size2 > 0:
        return  # an empty tree is a prefix of every tree
    # From 0 to 0 the new tree is the empty one too: its root must be the empty tree's root
    # (``computed`` is ``root1``, checked to be it), or any root would pass as "consistent".
    if computed != root2:
        raise ProofError(size=size2, computed=computed, expected=root2, what="new root")


def _check_hashes(*hashes: bytes) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise MalformedError(f"hashes must be {HASH_SIZE} bytes, found {len(h)}")


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Hash up from ``seed`` at ``index`` on its level, with siblings from ``proof``."""
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like ``_chain_inner`` but only with left siblings: the subtree's earlier version."""
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Hash up the right border, where every sibling in ``proof`` is on the left."""
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def inclusion_proofs(
    indexes: Iterable[int], size: int, fetch: Callable[[set[NodeID]], Mapping[NodeID, bytes]]
) -> dict[int, list[bytes]]:
    """Inclusion proofs of many leaves in the tree of ``size``, with one ``fetch`` of stored
    subtree hashes. Same result as ``inclusion_nodes(i, size).rehash(...)`` for each leaf, but
    the part of a proof above the fork with the right edge depends only on the fork, and a
    tree has at most log2(size) forks: that part is computed once per fork, not per leaf.

    Precondition: every index is in ``[0, size)``.
    """
    # The siblings below each fork as plain (level, index) tuples, which equal and hash as
    # the NodeIDs they stand for: a batch's receipts name some 15 per leaf, and a NodeID
    # costs more to make than its lookup; only the distinct ones asked for become NodeIDs.
    below: dict[int, tuple[list[tuple[int, int]], NodeID]] = {}
    above: dict[NodeID, ProofPlan] = {}
    for index in indexes:
        if not 0 <= index < size:
            raise MalformedError(f"leaf index {index} is not in a tree of size {size}")
        inner = (index ^ size).bit_length() - 1
        fork = NodeID(inner, index >> inner)
        below[index] = ([(i, (index >> i) ^ 1) for i in range(inner)], fork)
        if fork not in above:
            right = list(reversed(range_nodes(fork.end, size)))
            above[fork] = ProofPlan((*right, *reversed(range_nodes(0, fork.begin))), 0, len(right))
    wanted = {NodeID(*i) for i in {i for ids, _ in below.values() for i in ids}}
    wanted.update(i for plan in above.values() for i in plan.ids)
    nodes = fetch(wanted)
    tails = {fork: plan.rehash([nodes[i] for i in plan.ids]) for fork, plan in above.items()}
    by_pair = cast(Mapping[tuple[int, int], bytes], nodes)
    return {index: [by_pair[i] for i in ids] + tails[fork] for index, (ids, fork) in below.items()}
