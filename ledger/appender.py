"""The appender: one writer per ledger, batches of signed entries appended in one transaction.

For each batch: take the writer lock (``pg_advisory_xact_lock``), check each entry through the
rules backend in order, write the accepted records, the Merkle nodes they complete, the
backend's state changes and a new signed checkpoint, then COMMIT. A rejected entry is answered
with its ``Rejection`` and leaves no trace; the others commit. Resubmitting an entry id answers
with the stored record's receipt and adds nothing.

Crash states: everything of a batch is in one transaction, so a crash before COMMIT leaves the
ledger as it was and a crash after leaves the whole batch; clients resubmit by entry id.
Several processes may append to one database: the lock serialises them, and a process notices
that another one appended (the latest checkpoint is not the one it wrote) and reloads its head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import store
from ledger.canonical import canonical_bytes
from ledger.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from ledger.entry import Record, SignedEntry, format_time
from ledger.errors import IntegrityError, Rejection
from ledger.merkle import CompactRange, NodeID
from ledger.proofs import inclusion_proofs

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class BatchRules(Protocol):
    """The state side of one batch, inside the append transaction."""

    def prepare(self, batch: list[SignedEntry]) -> None:
        """A look at the whole batch before admission (to fetch what it will read at once)."""

    def admit(self, signed: SignedEntry, seq: int, recorded_at: str) -> None:
        """Check ``signed`` as record ``seq``; stage its state changes or raise ``Rejection``."""

    def flush(self, conn: Connection) -> None:
        """Write the staged changes of every admitted entry into the transaction."""


class RulesBackend(Protocol):
    def begin(self, conn: Connection, head_moved: bool) -> BatchRules:
        """Start a batch; ``head_moved`` means another writer appended since our last batch."""

    def committed(self, batch: BatchRules) -> None:
        """The batch's transaction committed: its changes are now the committed state."""

    def aborted(self) -> None:
        """The batch's transaction did not commit: forget anything cached from it."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a submitter keeps: its record's place, and a proof it is in a signed checkpoint."""

    seq: int
    leaf_hash: bytes
    checkpoint: str
    inclusion_proof: list[bytes] | None  # None: a minimal receipt, asked for without a proof

    def as_json(self) -> dict[str, Any]:
        if self.inclusion_proof is None:
            return {"seq": self.seq, "leaf_hash": self.leaf_hash.hex()}
        return {"seq": self.seq, "leaf_hash": self.leaf_hash.hex(), "checkpoint": self.checkpoint,
                "inclusion_proof": [h.hex() for h in self.inclusion_proof]}


AppendResult = Receipt | Rejection


@dataclass(frozen=True, slots=True)
class Committed:
    """A committed batch before its receipts are made: per entry, its seq or its rejection."""

    results: list[Rejection | int]
    leaves: dict[int, bytes]
    checkpoint: store.StoredCheckpoint
    new_nodes: dict[NodeID, bytes]


class Appender:
    def __init__(self, engine: AsyncEngine, origin: str, signer: NoteSigner,
                 rules: RulesBackend, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.origin = origin
        self.signer = signer
        self.rules = rules
        self.clock = clock
        self._head: CompactRange | None = None  # as of the last checkpoint this process wrote

    async def append(self, batch: Sequence[SignedEntry]) -> list[AppendResult]:
        """Append ``batch`` in one transaction; results are in the batch's order."""
        return await self.receipts(await self.commit(batch))

    async def commit(self, batch: Sequence[SignedEntry]) -> Committed:
        """Admit and write ``batch`` in one transaction, holding the writer lock; the receipts'
        proofs are left to ``receipts``, so that the next batch need not wait for them."""
        try:
            async with self.engine.begin() as conn:
                committed, head, rules = await conn.run_sync(self._append, batch)
        except BaseException:
            self._head = None
            self.rules.aborted()
            raise
        self._head = head
        self.rules.committed(rules)
        return committed

    async def receipts(self, committed: Committed, proved: Sequence[bool] | None = None
                       ) -> list[AppendResult]:
        """Receipts for a committed batch: with an inclusion proof where ``proved`` (one flag
        per result; default all), minimal elsewhere. Merkle nodes never change once committed,
        so the proofs can be computed after COMMIT, outside the writer lock."""
        seqs = [r for i, r in enumerate(committed.results)
                if isinstance(r, int) and (proved is None or proved[i])]
        proofs: dict[int, list[bytes]] = {}
        if seqs:
            async with self.engine.connect() as conn:
                proofs = await conn.run_sync(_inclusion_proofs, seqs, committed.checkpoint.size,
                                             committed.new_nodes)
        return [Receipt(r, committed.leaves[r], committed.checkpoint.note, proofs.get(r))
                if isinstance(r, int) else r for r in committed.results]

    def _load_head(self, conn: Connection) -> tuple[CompactRange, bool]:
        latest = store.latest_checkpoint(conn)
        size = latest.size if latest else 0
        if self._head is not None and self._head.size == size:
            return self._head, False
        ids = CompactRange.decomposition(size)
        nodes = store.read_nodes(conn, ids)
        head = CompactRange(size, [nodes[i] for i in ids])
        if latest and head.root() != latest.root_hash:
            raise IntegrityError(f"stored nodes give root {head.root().hex()} at size {size}, "
                                 f"the checkpoint says {latest.root_hash.hex()}")
        return head, True

    def _append(self, conn: Connection, batch: Sequence[SignedEntry]
                ) -> tuple[Committed, CompactRange, BatchRules]:
        store.lock_writer(conn)
        head, moved = self._load_head(conn)
        head = CompactRange(head.size, head.hashes)  # a copy: ours changes only on commit
        rules = self.rules.begin(conn, moved)
        stored = store.records_by_entry_id(conn, sorted({s.id for s in batch}))
        rules.prepare([s for s in batch if s.id not in stored])
        now = self.clock()
        recorded_at = format_time(now)
        results: list[Rejection | int] = []  # an int is the seq a receipt will name
        first_in_batch: dict[str, tuple[int, SignedEntry]] = {}
        new_records: list[Record] = []
        new_nodes: dict[NodeID, bytes] = {}
        leaves: dict[int, bytes] = {r.seq: r.leaf_hash for r in stored.values()}

        def keep_node(level: int, index: int, h: bytes) -> None:
            new_nodes[NodeID(level, index)] = h

        for signed in batch:
            if signed.id in stored:
                results.append(_resubmitted(stored[signed.id], signed))
                continue
            if signed.id in first_in_batch:
                seq, first = first_in_batch[signed.id]
                same = first.entry_bytes == signed.entry_bytes and first.sig == signed.sig
                results.append(seq if same else _id_conflict(signed.id, seq))
                continue
            seq = head.size
            try:
                rules.admit(signed, seq, recorded_at)
            except Rejection as rejection:
                results.append(rejection)
                continue
            record = Record.from_signed(seq, recorded_at, signed)
            new_records.append(record)
            leaves[seq] = record.leaf
            head.append(record.leaf, keep_node)
            first_in_batch[signed.id] = (seq, signed)
            results.append(seq)

        checkpoint = self._write(conn, head, new_records, new_nodes, rules, now)
        return Committed(results, leaves, checkpoint, new_nodes), head, rules

    def _write(self, conn: Connection, head: CompactRange, new_records: list[Record],
               new_nodes: dict[NodeID, bytes], rules: BatchRules, now: datetime
               ) -> store.StoredCheckpoint:
        if not new_records:
            latest = store.latest_checkpoint(conn)
            if latest is None:
                return store.StoredCheckpoint(0, head.root(), "")
            return latest
        store.copy_records(conn, new_records, now)
        store.copy_nodes(conn, new_nodes)
        rules.flush(conn)
        root = head.root()
        note = sign_checkpoint(Checkpoint(self.origin, head.size, root), self.signer)
        checkpoint = store.StoredCheckpoint(head.size, root, note)
        store.write_checkpoint(conn, checkpoint, now)
        return checkpoint


def _resubmitted(stored: store.StoredRecord, signed: SignedEntry) -> int | Rejection:
    """The same signed entry again answers with its first seq; a different one is refused."""
    record = msgspec.json.decode(stored.body)
    if canonical_bytes(record["entry"]) == signed.entry_bytes and record["sig"] == signed.sig:
        return stored.seq
    return _id_conflict(signed.id, stored.seq)


def _id_conflict(entry_id: str, seq: int) -> Rejection:
    return Rejection("entry.id_conflict",
                     f"entry id {entry_id} is already used by a different entry at seq {seq}",
                     status=409)


def _inclusion_proofs(conn: Connection, seqs: list[int], size: int,
                      new_nodes: dict[NodeID, bytes]) -> dict[int, list[bytes]]:
    """Inclusion proofs of ``seqs`` in the tree of ``size``, with one read of stored nodes."""

    def fetch(ids: set[NodeID]) -> dict[NodeID, bytes]:
        return {**store.read_nodes(conn, ids - new_nodes.keys()), **new_nodes}

    return inclusion_proofs(seqs, size, fetch)
