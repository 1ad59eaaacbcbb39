"""Evidence for what the registry routes show: the latest signed checkpoint, and for each record
cited, its leaf hash and inclusion proof in that checkpoint's tree (one read of stored nodes for
all of them), so that a reader can verify every claim offline with the operator's key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.history import Reference, touching_seqs
from ledger import store, stored_proofs
from ledger.errors import Category, Rejection
from ledger.schema import records


def record_json(rec: store.StoredRecord) -> dict[str, Any]:
    """The HTTP shape of a record: the four hashed fields, and the leaf hash."""
    doc: dict[str, Any] = msgspec.json.decode(rec.body)
    doc["leaf_hash"] = rec.leaf_hash.hex()
    return doc


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The latest signed checkpoint: every read of one response is bounded by its size."""

    size: int
    root_hash: bytes
    note: str

    def json(self) -> dict[str, Any]:
        return {"size": self.size, "root_hash": self.root_hash.hex(), "note": self.note}

    def as_of(self, requested: int | None) -> int:
        """The seq a statement is made as of: ``requested``, or the last record."""
        if requested is None:
            return self.size - 1
        if requested >= self.size:
            raise Rejection(
                "as_of.out_of_range",
                f"as_of must be a seq below the tree size {self.size}, found {requested}",
                category=Category.MALFORMED,
            )
        return requested


async def snapshot(conn: AsyncConnection) -> Snapshot:
    latest = await conn.run_sync(store.latest_checkpoint)
    if latest is None:  # the genesis record is appended at init: a served ledger has one
        raise Rejection("ledger.empty", "the ledger has no checkpoint yet", category=Category.UNAVAILABLE)
    return Snapshot(latest.size, latest.root_hash, latest.note)


@dataclass(frozen=True, slots=True)
class Proven:
    """A record, its leaf hash and its inclusion proof in the snapshot's tree."""

    record: store.StoredRecord
    proof: list[bytes]

    def json(self) -> dict[str, Any]:
        """What a claim carries: the seq that established it and how to check that seq."""
        return {
            "seq": self.record.seq,
            "leaf_hash": self.record.leaf_hash.hex(),
            "inclusion_proof": [h.hex() for h in self.proof],
        }

    def with_record(self) -> dict[str, Any]:
        return {"record": record_json(self.record), "inclusion_proof": [h.hex() for h in self.proof]}


def _proven(conn: Connection, seqs: list[int], size: int) -> dict[int, Proven]:
    rows = conn.execute(
        select(records.c.seq, records.c.body, records.c.leaf_hash).where(records.c.seq.in_(seqs))
    ).all()
    found = {r.seq: store.StoredRecord(r.seq, bytes(r.body), bytes(r.leaf_hash)) for r in rows}
    proofs = stored_proofs.inclusion_proofs(conn, found, size)
    return {seq: Proven(rec, proofs[seq]) for seq, rec in found.items()}


async def prove(conn: AsyncConnection, seqs: Iterable[int], snap: Snapshot) -> dict[int, Proven]:
    """Records at ``seqs`` (each below the snapshot's size) with their inclusion proofs."""
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    return await conn.run_sync(_proven, wanted, snap.size)  # type: ignore[no-any-return]


async def entity_history(
    conn: AsyncConnection, entity: dict[str, Any], refs: Sequence[Reference], after: int, limit: int
) -> dict[str, Any]:
    """A page of the records that touched an entity, each with its inclusion proof in the
    latest checkpoint's tree (given in full, so the page verifies on its own)."""
    snap = await snapshot(conn)
    seqs = await touching_seqs(conn, refs, after=after, before=snap.size, limit=limit + 1)
    more = len(seqs) > limit
    seqs = seqs[:limit]
    proven = await prove(conn, seqs, snap)
    return {
        **entity,
        "checkpoint": snap.json(),
        "items": [proven[s].with_record() for s in seqs],
        "next": seqs[-1] if more else None,
    }
