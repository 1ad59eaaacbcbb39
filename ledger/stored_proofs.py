"""Inclusion and consistency proofs read from the stored Merkle nodes.

The one place that turns a proof plan (``ledger.proofs``) into reads of ``merkle_nodes``:
every proof costs O(log n) reads of complete subtrees, whatever the tree's size. Stored nodes
never change once committed, so these need no lock and may run outside the append
transaction. A node the plan needs and storage lacks is an ``IntegrityError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection

from ledger import proofs, store
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
