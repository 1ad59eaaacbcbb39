"""The start-up self-check: does the stored log add up, before a writer appends to it?

Cheap, O(log n) reads whatever the size: it checks the latest checkpoint against the record
count and the stored Merkle nodes, and (given the operator key) its signed note and the last
record's bytes. A full check of every record is the verifier's job (``ledger.verify``).

It runs at start-up and again whenever the writer finds itself on another server (a replica
promoted by a failover, a primary restarted after a crash): whoever makes the connections puts
an identity of the server in each connection's ``info`` under ``SERVER_INFO_KEY``.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ledger import store
from ledger.checkpoint import NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError
from ledger.merkle import CompactRange, NodeID, leaf_hash

SERVER_INFO_KEY = "rural_ledger.server"


def self_check(conn: Connection, operator: NoteVerifier | None = None) -> None:
    """The latest checkpoint must match the stored Merkle nodes and the record count; with
    ``operator``, its note must also verify and state the stored root, and the last record's
    bytes must hash to the stored leaf. Raises ``IntegrityError`` naming what disagrees
    (``MalformedError`` when the stored note cannot be parsed)."""
    latest = store.latest_checkpoint(conn)
    count = store.record_count(conn)
    if latest is None:
        if count:
            raise IntegrityError(f"{count} records but no checkpoint")
        return
    if latest.size != count:
        raise IntegrityError(f"latest checkpoint is of size {latest.size}, {count} records stored")
    ids = CompactRange.decomposition(latest.size)
    nodes = store.read_nodes(conn, ids)
    root = CompactRange(latest.size, [nodes[i] for i in ids]).root()
    if root != latest.root_hash:
        raise IntegrityError(
            f"stored nodes give root {root.hex()} at size {latest.size}, "
            f"the checkpoint says {latest.root_hash.hex()}"
        )
    if operator is not None:
        signed = open_checkpoint(latest.note, operator)
        if (signed.size, signed.root_hash) != (latest.size, latest.root_hash):
            raise IntegrityError(f"the checkpoint row of size {latest.size} does not match its signed note")
        [last] = store.read_records(conn, latest.size - 2, 1)
        leaf = store.read_nodes(conn, [NodeID(0, last.seq)])[NodeID(0, last.seq)]
        if not leaf_hash(last.body) == last.leaf_hash == leaf:
            raise IntegrityError(f"record {last.seq}'s bytes do not hash to its stored leaf")
