"""Inclusion and consistency proofs read from the stored Merkle nodes.

The one place that turns a proof plan (``ledger.proofs``) into reads of ``merkle_nodes``:
every proof costs O(log n) reads of complete subtrees, whatever the tree's size. Stored nodes
never change once committed, so these need no lock and may run outside the append
transaction. A node the plan needs and storage lacks is an ``IntegrityError``.

``read_inclusion`` and ``read_consistency`` are a proof in one statement on the driver's
connection (``ledger.driver_reads``): the latest checkpoint's size, the leaf and the plan's
nodes in one snapshot, so that a proof is never read for a tree the same snapshot does not hold.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class ProofRead:
    """What one statement read for a proof in the tree of some size: the latest checkpoint's
    size when it ran (0: none), and the proof (with the leaf's hash, for an inclusion proof),
    or None when that size is past the latest (its nodes need not exist)."""

    latest: int
    proof: list[bytes] | None
    leaf: bytes = b""


async def read_inclusion(db: Driver, seq: int, size: int) -> ProofRead:
    """The latest size, record ``seq``'s leaf hash and its inclusion proof in the tree of
    ``size``, by one statement. Precondition: ``0 <= seq < size``."""
    plan = proofs.inclusion_nodes(seq, size)
    row = await db.fetchrow(INCLUSION_READ, seq, *_arrays(plan.ids))
    latest = int(row[0] or 0)
    if size > latest:
        return ProofRead(latest, None)
    if row[1] is None:
        raise IntegrityError(f"the record is missing from storage, under checkpoint {latest}", seq=seq)
    return ProofRead(latest, _rehash(plan, row[2]), bytes(row[1]))


async def read_consistency(db: Driver, size1: int, size2: int) -> ProofRead:
    """The latest size and the proof that the tree of ``size1`` is a prefix of the tree of
    ``size2``, by one statement. Precondition: ``0 <= size1 <= size2``."""
    plan = proofs.consistency_nodes(size1, size2)
    row = await db.fetchrow(CONSISTENCY_READ, *_arrays(plan.ids))
    latest = int(row[0] or 0)
    return ProofRead(latest, None if size2 > latest else _rehash(plan, row[1]))


def _arrays(ids: Sequence[NodeID]) -> tuple[list[int], list[int]]:
    return [i.level for i in ids], [i.index for i in ids]


def _rehash(plan: proofs.ProofPlan, hashes: Sequence[bytes | None]) -> list[bytes]:
    """``plan``'s proof from its nodes' hashes, every one of which must be stored."""
    if any(h is None for h in hashes):
        missing = sorted(i for i, h in zip(plan.ids, hashes, strict=True) if h is None)[:3]
        raise IntegrityError(f"merkle nodes missing from storage: {missing}")
    return plan.rehash([bytes(h) for h in hashes if h is not None])
