"""Inclusion and consistency proofs read from the stored Merkle nodes.

The one place that turns a proof plan (``ledger.proofs``) into reads of ``merkle_nodes``:
every proof costs O(log n) reads of complete subtrees, whatever the tree's size. Stored nodes
never change once committed, so these need no lock and may run outside the append
transaction. A node the plan needs and storage lacks is an ``IntegrityError``.

``read_inclusion`` and ``read_consistency`` are a proof in one statement on the driver's
connection (``ledger.driver_reads``): the latest checkpoint's size, the leaf and the plan's
nodes in one snapshot, so that a proof is never read for a tree the same snapshot does not hold.
They may be given a ``NodeCache`` of the upper levels' nodes, which every proof in a tree
shares, and then read only the nodes it lacks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from ledger import proofs, store
from ledger.driver_reads import LATEST_SIZE, Driver
from ledger.errors import IntegrityError
from ledger.merkle import NodeID


def inclusion_proof(conn: Connection, seq: int, size: int) -> list[bytes]:
    """The inclusion proof of record ``seq`` in the tree of ``size`` records."""
    plan = proofs.inclusion_nodes(seq, size)
    nodes = store.read_nodes(conn, plan.ids)
    return plan.rehash([nodes[i] for i in plan.ids])


def consistency_proof(conn: Connection, size1: int, size2: int) -> list[bytes]:
    """The proof that the tree of ``size1`` records is a prefix of the tree of ``size2``."""
    plan = proofs.consistency_nodes(size1, size2)
    nodes = store.read_nodes(conn, plan.ids)
    return plan.rehash([nodes[i] for i in plan.ids])


def inclusion_proofs(
    conn: Connection, seqs: Iterable[int], size: int, known: Mapping[NodeID, bytes] | None = None
) -> dict[int, list[bytes]]:
    """Inclusion proofs of records ``seqs`` in the tree of ``size``, with one read of stored
    nodes. ``known`` are nodes the caller already holds (a batch's new nodes, just committed),
    which are not read again."""
    held = known or {}

    def fetch(ids: set[NodeID]) -> dict[NodeID, bytes]:
        return {**store.read_nodes(conn, ids - held.keys()), **held}

    return proofs.inclusion_proofs(seqs, size, fetch)


def _nodes(levels: int, idxs: int) -> str:
    """The plan's node hashes in its order, NULL for one not stored, from the arrays of levels
    and indexes in parameters ``levels`` and ``idxs``: one lookup by key each."""
    return (
        f"ARRAY(SELECT n.hash FROM unnest(${levels}::smallint[], ${idxs}::bigint[]) WITH ORDINALITY"
        f" AS w(level, idx, i) LEFT JOIN merkle_nodes n ON n.{store.OF_LEDGER} AND n.level = w.level"
        " AND n.idx = w.idx ORDER BY w.i)"
    )


INCLUSION_READ = (
    f"SELECT {LATEST_SIZE}, (SELECT r.leaf_hash FROM records r WHERE r.{store.OF_LEDGER} AND r.seq = $1),"
    f" {_nodes(2, 3)}"
)
CONSISTENCY_READ = f"SELECT {LATEST_SIZE}, {_nodes(1, 2)}"


CACHED_LEVEL = 8  # nodes over 256 leaves and more: 2 of every 512 nodes stored, on every proof's path
CACHED_NODES = 8192  # about 2 MB: every such node of a tree of a million records


class NodeCache:
    """Hashes of stored complete subtrees of ``min_level`` and above, the ``capacity`` used
    most recently. A stored node never changes, so a cached one is never stale, for the one
    log it was read from: the caller keeps one cache per ledger and per server (a server
    that is not the one read from may hold another history, after a failover that lost
    commits)."""

    def __init__(self, min_level: int = CACHED_LEVEL, capacity: int = CACHED_NODES) -> None:
        self.min_level = min_level
        self.capacity = capacity
        self._nodes: OrderedDict[NodeID, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._nodes)

    def known(self, ids: Iterable[NodeID]) -> dict[NodeID, bytes]:
        """Those of ``ids`` held here, by id."""
        found: dict[NodeID, bytes] = {}
        for i in ids:
            if i.level >= self.min_level and (h := self._nodes.get(i)) is not None:
                self._nodes.move_to_end(i)
                found[i] = h
        return found

    def keep(self, nodes: Iterable[tuple[NodeID, bytes]]) -> None:
        """Hold ``nodes`` (stored ones, as read) of ``min_level`` and above."""
        for i, h in nodes:
            if i.level >= self.min_level:
                self._nodes[i] = h
                self._nodes.move_to_end(i)
        while len(self._nodes) > self.capacity:
            self._nodes.popitem(last=False)


@dataclass(frozen=True, slots=True)
class ProofRead:
    """What one statement read for a proof in the tree of some size: the latest checkpoint's
    size when it ran (0: none), and the proof (with the leaf's hash, for an inclusion proof),
    or None when that size is past the latest (its nodes need not exist)."""

    latest: int
    proof: list[bytes] | None
    leaf: bytes = b""


async def read_inclusion(db: Driver, seq: int, size: int, cache: NodeCache | None = None) -> ProofRead:
    """The latest size, record ``seq``'s leaf hash and its inclusion proof in the tree of
    ``size``, by one statement (which reads only the nodes ``cache`` lacks). Precondition:
    ``0 <= seq < size``."""
    plan = proofs.inclusion_nodes(seq, size)
    known, wanted = _split(plan, cache)
    row = await db.fetchrow(INCLUSION_READ, seq, *_arrays(wanted))
    latest = int(row[0] or 0)
    read = _read_nodes(wanted, row[2], cache)
    if size > latest:
        return ProofRead(latest, None)
    if row[1] is None:
        raise IntegrityError(f"the record is missing from storage, under checkpoint {latest}", seq=seq)
    return ProofRead(latest, _rehash(plan, known, read), bytes(row[1]))


async def read_consistency(db: Driver, size1: int, size2: int, cache: NodeCache | None = None) -> ProofRead:
    """The latest size and the proof that the tree of ``size1`` is a prefix of the tree of
    ``size2``, by one statement (which reads only the nodes ``cache`` lacks). Precondition:
    ``0 <= size1 <= size2``."""
    plan = proofs.consistency_nodes(size1, size2)
    known, wanted = _split(plan, cache)
    row = await db.fetchrow(CONSISTENCY_READ, *_arrays(wanted))
    latest = int(row[0] or 0)
    read = _read_nodes(wanted, row[1], cache)
    return ProofRead(latest, None if size2 > latest else _rehash(plan, known, read))


def _split(plan: proofs.ProofPlan, cache: NodeCache | None) -> tuple[dict[NodeID, bytes], list[NodeID]]:
    """The plan's nodes ``cache`` holds, and the others (to read), in the plan's order."""
    known = cache.known(plan.ids) if cache is not None else {}
    return known, [i for i in plan.ids if i not in known]


def _read_nodes(
    wanted: Sequence[NodeID], hashes: Sequence[bytes | None], cache: NodeCache | None
) -> dict[NodeID, bytes | None]:
    """The hashes read for ``wanted``, by id (None: not stored); the stored ones kept in ``cache``
    (whatever the tree asked for: a stored node is committed and complete)."""
    read = dict(zip(wanted, hashes, strict=True))
    if cache is not None:
        cache.keep((i, bytes(h)) for i, h in read.items() if h is not None)
    return read


def _arrays(ids: Sequence[NodeID]) -> tuple[list[int], list[int]]:
    return [i.level for i in ids], [i.index for i in ids]


def _rehash(
    plan: proofs.ProofPlan, known: Mapping[NodeID, bytes], read: Mapping[NodeID, bytes | None]
) -> list[bytes]:
    """``plan``'s proof from its nodes' hashes, every one of which must be stored."""
    hashes = [known[i] if i in known else read[i] for i in plan.ids]
    missing = sorted(i for i, h in zip(plan.ids, hashes, strict=True) if h is None)[:3]
    if missing:
        raise IntegrityError(f"merkle nodes missing from storage: {missing}")
    return plan.rehash([bytes(h) for h in hashes if h is not None])
