"""RFC 9162 (RFC 6962) Merkle tree hashing and the compact range of a growing log.

A node id ``(level, index)`` names the complete subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaves.  Only complete
subtrees are ever stored: the hash of any other node (an "ephemeral" node on the right
edge of a tree whose size is not a power of two) is recomputed from them when needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from ledger.errors import MalformedError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeID",
    "OnNode",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_from_leaf_hashes",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class NodeID(NamedTuple):
    """A complete subtree, covering leaves ``[index << level, (index + 1) << level)``."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, on purpose

    @property
    def begin(self) -> int:
        """The first leaf the subtree covers."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf the subtree covers."""
        return (self.index + 1) << self.level

    def sibling(self) -> NodeID:
        return NodeID(self.level, self.index ^ 1)

    def parent(self) -> NodeID:
        return NodeID(self.level + 1, self.index >> 1)


OnNode = Callable[[int, int, bytes], None]
"""Called as ``on_node(level, index, hash)`` for each complete subtree that comes into being."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of a leaf whose input is ``data``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the recursive definition of RFC 9162 section 2.1.1; O(n), for small trees."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return node_hash(root_from_leaf_hashes(leaf_hashes[:k]), root_from_leaf_hashes(leaf_hashes[k:]))


def range_nodes(begin: int, end: int) -> list[NodeID]:
    """The fewest complete subtrees that exactly cover leaves ``[begin, end)``, left to right.

    Precondition: ``0 <= begin <= end``.  Each node is the largest aligned subtree starting
    where the previous one ended, so levels first rise and then fall; at most 2·log2(n) nodes.
    """
    if not 0 <= begin <= end:
        raise MalformedError(f"range [{begin}, {end}) is not a range of leaves")
    nodes: list[NodeID] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append(NodeID(level, begin >> level))
        begin += 1 << level
    return nodes


class CompactRange:
    """The hashes of the complete subtrees that make up leaves ``[0, size)``.

    These are the subtrees of the binary decomposition of ``size``, largest (leftmost)
    first: enough to compute the root and to extend the tree by appending leaves, in
    O(log n) space.  Like transparency-dev/merkle's ``compact.Range`` starting at 0.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        """Precondition: ``hashes`` are the hashes of ``decomposition(size)``, in that order."""
        hashes = list(hashes)
        if size < 0:
            raise MalformedError(f"tree size must be >= 0, found {size}")
        if len(hashes) != size.bit_count():
            raise MalformedError(
                f"a compact range of size {size} needs {size.bit_count()} hashes, found {len(hashes)}"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise MalformedError(f"hashes must be {HASH_SIZE} bytes, found {len(h)}")
        self._size = size
        self._hashes = hashes

    @staticmethod
    def decomposition(size: int) -> list[NodeID]:
        """The node ids whose hashes a compact range over ``[0, size)`` holds, largest first."""
        return range_nodes(0, size)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the subtree hashes, in the order of ``decomposition(size)``."""
        return list(self._hashes)

    def append(self, leaf: bytes, on_node: OnNode | None = None) -> None:
        """Append the leaf with hash ``leaf``, reporting every newly complete subtree.

        ``on_node(level, index, hash)`` is called first for the leaf itself at level 0,
        then for each parent the leaf completes, bottom up, so a caller can store them all.
        """
        if len(leaf) != HASH_SIZE:
            raise MalformedError(f"leaf hash must be {HASH_SIZE} bytes, found {len(leaf)}")
        level, index, h = 0, self._size, leaf
        if on_node is not None:
            on_node(level, index, h)
        # Each trailing one bit of the old size is a complete left sibling now joined.
        while index & 1:
            h = node_hash(self._hashes.pop(), h)
            level, index = level + 1, index >> 1
            if on_node is not None:
                on_node(level, index, h)
        self._hashes.append(h)
        self._size += 1

    def root(self) -> bytes:
        """MTH of leaves ``[0, size)``: the subtree hashes folded from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        h = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            h = node_hash(left, h)
        return h

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
