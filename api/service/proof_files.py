"""Offline proof files (``ledger.proof_file``) made from the stored log.

The checkpoint a proof file names is, unless asked for by size, the largest one that covers
the record and holds a witness cosignature, else the latest: a file is worth most to a bank
or a court when witnesses vouch for its checkpoint. Its cosignature lines are those held.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from ledger import store, stored_proofs
from ledger.errors import MalformedError
from ledger.proof_file import ProofFile


def best_checkpoint(conn: Connection, seq: int) -> store.StoredCheckpoint | None:
    """The largest cosigned checkpoint covering ``seq``, else the latest one."""
    size = conn.execute(
        text("SELECT max(size) FROM witness_cosignatures WHERE size > :seq"), {"seq": seq}
    ).scalar()
    if size is not None and (cp := store.checkpoint_at(conn, int(size))) is not None:
        return cp
    return store.latest_checkpoint(conn)


def proof_file(conn: Connection, seq: int, size: int | None = None) -> ProofFile:
    """The proof file of record ``seq`` under the checkpoint of ``size`` (default: see the
    module); ``MalformedError`` when no such checkpoint covers the record."""
    cp = best_checkpoint(conn, seq) if size is None else store.checkpoint_at(conn, size)
    if cp is None or not seq < cp.size:
        raise MalformedError(
            f"no checkpoint of size {size} covers record {seq}"
            if size
            else f"no checkpoint covers record {seq}"
        )
    path = stored_proofs.inclusion_proof(conn, seq, cp.size)
    held = store.cosignatures_for(conn, [cp.size]).get(cp.size, [])
    return ProofFile(seq, tuple(path), cp.note + "".join(c.line for c in held))
