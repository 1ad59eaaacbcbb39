"""The appender: one writer per ledger, batches of signed entries appended in one transaction.

For each batch: take the writer lock (its ledger's ``ledger_meta`` row, ``store.lock_writer``),
check each entry through the rules backend in order, write the accepted records, the Merkle
nodes they complete, the backend's state changes and a new signed checkpoint, then COMMIT. A
rejected entry is answered with its ``Rejection`` and leaves no trace; the others commit.
Resubmitting an entry id answers with the stored record's receipt and adds nothing.

One entry never fails the others: a rule that raises something other than a ``Rejection``
answers its entry with ``server.rule_failed``; a batch the database refuses (a value it cannot
store, say) is re-run in halves until the guilty entries stand alone, and each is answered
with its own refusal while the rest commit. Only an unreachable database fails a whole batch,
as ``Unavailable``.

Crash states: everything of a batch is in one transaction, so a crash before COMMIT leaves the
ledger as it was and a crash after leaves the whole batch; clients resubmit by entry id. A
connection lost during COMMIT leaves the outcome unknown (``Unavailable.maybe_stored``).
Several processes may append to one database: the lock serialises them, and a process notices
that another one appended (the latest checkpoint is not the one it wrote) and reloads its head.

``recorded_at`` never goes backwards: rules count periods from it, so a batch is recorded at
the clock's reading or at the last stored record's ``recorded_at``, whichever is later. A clock
stepped back (NTP, a restored VM) makes records share the last time until it catches up.

Failover (docs/ha.md): the head is kept in memory only after a COMMIT succeeded, which under
synchronous replication means the sync standby has the batch too; any failed batch forgets it.
A batch whose connection reached a server not yet checked (``SERVER_INFO_KEY``: a promoted
replica, or a restarted primary, which may have lost what it never acknowledged) re-runs the
self-check under the writer lock, checks that the server holds the last checkpoint this process
committed (a server that lacks it lost acknowledged entries), and reloads the head from that
server before admitting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import store, stored_proofs
from ledger.canonical import canonical_bytes
from ledger.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from ledger.entry import Record, SignedEntry, format_time
from ledger.errors import (
    Category,
    IntegrityError,
    MalformedError,
    ReceiptsUnavailable,
    Rejection,
    Unavailable,
    Unstorable,
    database_refused,
    database_unreachable,
    from_database,
)
from ledger.merkle import CompactRange, NodeID
from ledger.self_check import SERVER_INFO_KEY, self_check

Clock = Callable[[], datetime]
log = logging.getLogger("rural_ledger.appender")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Submission:
    """What the appender is given for one entry: the signed entry; ``checked_key``, the public
    key a signature check made ahead of admission (in worker processes) found the signature
    valid for, if one was made; and ``beside``, rows that travel with the entry but are not
    part of it (never hashed, never signed: personal data, a note), written in the append
    transaction only if the entry is admitted. Whether that key may sign the entry at its seq
    is still decided at admission. ``ahead``: what the rules backend found of the entry before
    its batch (``RulesBackend.ahead``), outside the writer lock; opaque here."""

    signed: SignedEntry
    checked_key: bytes | None = None
    beside: tuple[Any, ...] = ()
    ahead: object = None


class BatchRules(Protocol):
    """The state side of one batch, inside the append transaction."""

    def prepare(self, batch: list[Submission]) -> None:
        """A look at the whole batch before admission (to fetch what it will read at once)."""

    def admit(self, item: Submission, seq: int, recorded_at: str) -> None:
        """Check ``item`` as record ``seq``; stage its state changes or raise ``Rejection``."""

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
        return {
            "seq": self.seq,
            "leaf_hash": self.leaf_hash.hex(),
            "checkpoint": self.checkpoint,
            "inclusion_proof": [h.hex() for h in self.inclusion_proof],
        }


AppendResult = Receipt | Rejection


@dataclass(frozen=True, slots=True)
class Head:
    """The log as of its latest checkpoint: the compact range of its tree, and the last
    record's ``recorded_at`` (None while the log is empty)."""

    tree: CompactRange
    recorded_at: datetime | None


@dataclass(frozen=True, slots=True)
class Committed:
    """A committed batch before its receipts are made: per entry, its seq or its rejection."""

    results: list[Rejection | int]
    leaves: dict[int, bytes]
    checkpoint: store.StoredCheckpoint
    new_nodes: dict[NodeID, bytes]


class Appender:
    def __init__(
        self,
        engine: AsyncEngine,
        origin: str,
        signer: NoteSigner,
        rules: RulesBackend,
        clock: Clock = system_clock,
    ) -> None:
        self.engine = engine
        self.origin = origin
        self.signer = signer
        self.rules = rules
        self.clock = clock
        self._head: Head | None = None  # as of the last checkpoint this process wrote
        # The server the self-check last passed on (its SERVER_INFO_KEY); None: not known, as
        # with connections that do not say (then no re-check is made).
        self.checked_server: object = None
        # The largest checkpoint (size, root) a COMMIT of this process returned for: under
        # synchronous replication, one every server it may fail over to must hold.
        self.committed_tip: tuple[int, bytes] | None = None

    async def append(self, batch: Sequence[Submission]) -> list[AppendResult]:
        """Append ``batch`` in one transaction; results are in the batch's order."""
        return await self.receipts(await self.commit(batch))

    async def commit(self, batch: Sequence[Submission]) -> Committed:
        """Admit and write ``batch`` holding the writer lock, in one transaction unless some
        entry makes it fail; the receipts' proofs are left to ``receipts``, so that the next
        batch need not wait for them. Raises ``Unavailable`` when the database is unreachable."""
        logged: set[str] = set()
        try:
            return await self._commit_once(batch, logged)
        except (Unavailable, IntegrityError):
            raise
        except Exception as error:
            if len(batch) == 1:
                return _refused_alone(batch[0].signed, error, logged)
            log.warning(
                "a batch of %d entries failed (%s); isolating the entries at fault",
                len(batch),
                error.__class__.__name__,
            )
        parts: list[Committed] = []
        try:
            await self._isolate(batch, parts, logged)
        except Unavailable as e:
            if parts:  # some halves are stored: not knowing which, say so
                raise Unavailable(e.message, maybe_stored=True) from e
            raise
        return _joined(parts)

    async def _isolate(self, batch: Sequence[Submission], parts: list[Committed], logged: set[str]) -> None:
        """``batch`` failed as a whole: commit each half that succeeds, split each that fails,
        until the entries at fault stand alone and are answered with their refusal. Halves
        are committed in order, so an entry still sees every earlier entry of its batch."""
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            try:
                parts.append(await self._commit_once(half, logged))
            except (Unavailable, IntegrityError):
                raise
            except Exception as error:
                if len(half) == 1:
                    parts.append(_refused_alone(half[0].signed, error, logged))
                else:
                    await self._isolate(half, parts, logged)

    async def _commit_once(self, batch: Sequence[Submission], logged: set[str]) -> Committed:
        committing = False
        try:
            async with self.engine.begin() as conn:
                committed, head, rules = await conn.run_sync(self._append, batch, logged)
                committing = True  # leaving the block sends COMMIT
        except BaseException as error:
            self._head = None
            self.rules.aborted()
            if isinstance(error, Exception) and database_unreachable(error):
                raise Unavailable(
                    f"the database is unreachable ({error.__class__.__name__})", maybe_stored=committing
                ) from error
            raise
        self._head = head
        self.rules.committed(rules)
        cp = committed.checkpoint
        if cp.note and (self.committed_tip is None or cp.size > self.committed_tip[0]):
            self.committed_tip = (cp.size, cp.root_hash)
        return committed

    async def receipts(
        self, committed: Committed, proved: Sequence[bool] | None = None
    ) -> list[AppendResult]:
        """Receipts for a committed batch: with an inclusion proof where ``proved`` (one flag
        per result; default all), minimal elsewhere. Merkle nodes never change once committed,
        so the proofs can be computed after COMMIT, outside the writer lock."""
        seqs = [
            r for i, r in enumerate(committed.results) if isinstance(r, int) and (proved is None or proved[i])
        ]
        proofs: dict[int, list[bytes]] = {}
        if seqs:
            try:
                async with self.engine.connect() as conn:
                    proofs = await conn.run_sync(
                        stored_proofs.inclusion_proofs, seqs, committed.checkpoint.size, committed.new_nodes
                    )
            except Exception as error:  # the batch is stored whatever went wrong here
                log.warning("receipts of a stored batch could not be read: %r", error)
                raise ReceiptsUnavailable(committed.results) from error
        return [
            Receipt(r, committed.leaves[r], committed.checkpoint.note, proofs.get(r))
            if isinstance(r, int)
            else r
            for r in committed.results
        ]

    def _load_head(self, conn: Connection) -> tuple[Head, bool]:
        """The head, from the cache unless another writer appended since our last batch (the
        log only grows, so a size unchanged under the writer lock is the same log)."""
        latest = store.latest_checkpoint(conn)
        size = latest.size if latest else 0
        if self._head is not None and self._head.tree.size == size:
            return self._head, False
        ids = CompactRange.decomposition(size)
        nodes = store.read_nodes(conn, ids)
        tree = CompactRange(size, [nodes[i] for i in ids])
        if latest and tree.root() != latest.root_hash:
            raise IntegrityError(
                f"stored nodes give root {tree.root().hex()} at size {size}, "
                f"the checkpoint says {latest.root_hash.hex()}"
            )
        return Head(tree, store.last_recorded_at(conn)), True

    def _check_server(self, conn: Connection) -> None:
        """On a server other than the one last checked, run the self-check and make sure it
        holds the last checkpoint this process committed (``IntegrityError`` if not), and forget
        the cached head, before anything is admitted."""
        server = conn.info.get(SERVER_INFO_KEY)
        if server is None:
            # Which server this is cannot be told, so a failover cannot be seen: check on every
            # batch that the stored log still has the cached head (one indexed read), so that
            # a new primary at the same size with another root is never appended to.
            self._check_head_stored(conn)
            return
        if server == self.checked_server:
            return
        # The first server this process appends on is checked as a matter of course; another
        # one after it means the database moved (a failover): worth an operator's attention.
        if self.checked_server is None:
            log.info("appending on server %s: self-check first", server)
        else:
            was = self.checked_server
            log.warning("appending on another server (%s, was %s): self-check first", server, was)
        self._head = None
        try:
            self_check(conn, self.signer.verifier())
        except MalformedError as e:  # a stored note that cannot be read: the log does not add up
            raise IntegrityError(f"the latest checkpoint cannot be read ({e})") from e
        if self.committed_tip is not None:
            size, root = self.committed_tip
            there = store.checkpoint_at(conn, size)
            if there is None or there.root_hash != root:
                raise IntegrityError(
                    f"this server {'lacks' if there is None else 'has another'} checkpoint of size {size}, "
                    "which this service committed: was a server other than the synchronous standby promoted?"
                )
        self.checked_server = server

    def _check_head_stored(self, conn: Connection) -> None:
        """``IntegrityError`` unless the stored checkpoint at the cached head's size has its
        root. The head is kept, so every later batch is refused too, as on a server found to
        lack the last checkpoint committed."""
        head = self._head
        if head is None or head.tree.size == 0:
            return  # nothing cached (read fresh under the lock), or the empty tree
        size = head.tree.size
        there = store.checkpoint_at(conn, size)
        if there is None or there.root_hash != head.tree.root():
            raise IntegrityError(
                f"the database {'lacks' if there is None else 'has another'} checkpoint of size {size}, "
                "the head this service appends on: is it another server (a failover) with another log?"
            )

    def _batch_time(self, last: datetime | None) -> datetime:
        """The clock's reading, or ``last`` (the last stored record's time) if that is later."""
        now = self.clock()
        if last is not None and now < last:
            log.warning("the clock reads %s, before the last record's %s: recording the latter", now, last)
            return last
        return now

    def _append(
        self, conn: Connection, batch: Sequence[Submission], logged: set[str]
    ) -> tuple[Committed, Head, BatchRules]:
        store.lock_writer(conn)
        self._check_server(conn)
        last, moved = self._load_head(conn)
        head = CompactRange(last.tree.size, last.tree.hashes)  # a copy: ours changes only on commit
        rules = self.rules.begin(conn, moved)
        stored = store.records_by_entry_id(conn, sorted({s.signed.id for s in batch}))
        rules.prepare([s for s in batch if s.signed.id not in stored])
        now = self._batch_time(last.recorded_at)
        recorded_at = format_time(now)
        results: list[Rejection | int] = []  # an int is the seq a receipt will name
        first_in_batch: dict[str, tuple[int, SignedEntry]] = {}
        new_records: list[Record] = []
        new_nodes: dict[NodeID, bytes] = {}
        leaves: dict[int, bytes] = {r.seq: r.leaf_hash for r in stored.values()}

        def keep_node(level: int, index: int, h: bytes) -> None:
            new_nodes[NodeID(level, index)] = h

        for item in batch:
            signed = item.signed
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
                rules.admit(item, seq, recorded_at)
            except Rejection as rejection:
                results.append(rejection)
                continue
            except Exception as error:
                if from_database(error):  # the transaction may be aborted: the batch fails
                    raise
                results.append(_rule_failed(signed, error, logged))
                continue
            record = Record.from_signed(seq, recorded_at, signed)
            new_records.append(record)
            leaves[seq] = record.leaf
            head.append(record.leaf, keep_node)
            first_in_batch[signed.id] = (seq, signed)
            results.append(seq)

        checkpoint = self._write(conn, head, new_records, new_nodes, rules, now)
        return (
            Committed(results, leaves, checkpoint, new_nodes),
            Head(head, now if new_records else last.recorded_at),
            rules,
        )

    def _write(
        self,
        conn: Connection,
        head: CompactRange,
        new_records: list[Record],
        new_nodes: dict[NodeID, bytes],
        rules: BatchRules,
        now: datetime,
    ) -> store.StoredCheckpoint:
        if not new_records:
            latest = store.latest_checkpoint(conn)
            if latest is None:
                return store.StoredCheckpoint(0, head.root(), "")
            return latest
        root = head.root()
        note = sign_checkpoint(Checkpoint(self.origin, head.size, root), self.signer)
        checkpoint = store.StoredCheckpoint(head.size, root, note)
        store.append_batch(conn, new_records, new_nodes, checkpoint, now)
        rules.flush(conn)
        return checkpoint


def _rule_failed(signed: SignedEntry, error: Exception, logged: set[str]) -> Rejection:
    """A rule that raised something other than a ``Rejection``: a bug, answered for its entry
    alone (logged once, however often the batch is re-run)."""
    if signed.id not in logged:
        logged.add(signed.id)
        log.error("the rule for %s failed on entry %s", signed.kind, signed.id, exc_info=error)
    return Rejection(
        "server.rule_failed",
        f"the rule for {signed.kind} failed on this entry; it was not stored (the rest of its batch was)",
        category=Category.FAILED,
    )


def _refused_alone(signed: SignedEntry, error: Exception, logged: set[str]) -> Committed:
    """An entry whose batch of one failed: the database refused one of its values, or its
    rule failed in a way that spoiled the transaction. Nothing of it is stored."""
    if database_refused(error):
        detail = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
        log.info("entry %s refused by the database: %s", signed.id, detail)
        refusal: Rejection = Unstorable(
            f"the database cannot store a value of this {signed.kind} entry ({detail}); nothing was stored"
        )
    else:
        refusal = _rule_failed(signed, error, logged)
    return Committed([refusal], {}, store.StoredCheckpoint(0, b"", ""), {})


def _joined(parts: list[Committed]) -> Committed:
    """One batch's results from its parts, committed in order: every receipt is proven against
    the last checkpoint, which covers every part."""
    checkpoints = [p.checkpoint for p in parts if p.checkpoint.note]
    last = max(checkpoints, key=lambda c: c.size) if checkpoints else parts[-1].checkpoint
    return Committed(
        [r for p in parts for r in p.results],
        {s: h for p in parts for s, h in p.leaves.items()},
        last,
        {n: h for p in parts for n, h in p.new_nodes.items()},
    )


def _resubmitted(stored: store.StoredRecord, signed: SignedEntry) -> int | Rejection:
    """The same signed entry again answers with its first seq; a different one is refused."""
    record = msgspec.json.decode(stored.body)
    if canonical_bytes(record["entry"]) == signed.entry_bytes and record["sig"] == signed.sig:
        return stored.seq
    return _id_conflict(signed.id, stored.seq)


def _id_conflict(entry_id: str, seq: int) -> Rejection:
    return Rejection(
        "entry.id_conflict",
        f"entry id {entry_id} is already used by a different entry at seq {seq}",
        category=Category.CONFLICT,
    )
