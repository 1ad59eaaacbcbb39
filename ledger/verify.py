"""Verifying a log from its export stream, without trusting whoever served it.

``LogVerifier`` checks, as the lines of an export stream (``ledger.stream``) arrive:

- every record is in canonical form, has the next seq (gapless), an entry of the right shape
  for this ledger, and an entry id no earlier record used; its ``recorded_at`` is a real time,
  not before the previous record's (rules count periods from it: a record cannot be older
  than one appended before it);
- every leaf hash, and every stored Merkle node the stream carries, against the tree it
  recomputes from the records;
- every checkpoint: the operator's signature, its origin, that it comes exactly after the
  record that makes its size, and that its root is the recomputed root at that size. Since all
  checkpoint roots are recomputed from one sequence of records, each is a prefix of the next:
  that is consistency between consecutive checkpoints, proven without a proof;
- optionally, a checkpoint saved earlier (``known``): the tree must pass through it, or the log
  shows a split view.

It checks no entry signature: whose key may sign at a seq is the key history, which the rules
above this package replay. It hands each record on as a ``VerifiedRecord``.

Memory: the compact range (O(log n)), and the entry ids seen, for uniqueness: in memory by
default (``EntryIdSet``), or wherever the caller keeps them (``EntryIds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import msgspec

from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint, parse_note
from ledger.entry import Record, SignedEntry, format_time, parse_submission, parse_time
from ledger.errors import IntegrityError, MalformedError, Rejection
from ledger.merkle import CompactRange, NodeID
from ledger.stream import CheckpointLine, End, Header, Line, NodeLine, RecordLine, node_line
from ledger.witness import CosignerVerifier, cosignatures


class AuditFailure(IntegrityError):
    """The first thing found wrong: a stable ``code``, the ``seq`` it names (None when it
    concerns no record) and, for a checkpoint, the range of records its root covers."""

    def __init__(
        self, code: str, message: str, *, seq: int | None = None, first_seq: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}", seq=seq)
        self.code = code
        self.reason = message
        self.first_seq = seq if first_seq is None else first_seq


class UnusableInput(MalformedError):
    """The input is not an export of this ledger at all (nothing can be said about the log)."""


@dataclass(slots=True)
class VerifiedRecord:
    """A record whose bytes, place and shape are checked; its signature and rule are not."""

    seq: int
    recorded_at: str
    signed: SignedEntry


@dataclass(slots=True)
class CheckedRecord:
    """A record whose bytes passed ``check_record`` for its seq: what the checks that depend
    on the records before it (``LogVerifier.feed_checked``) still need."""

    seq: int
    recorded_at: str
    signed: SignedEntry
    leaf: bytes
    entry_id: int
    at: datetime


def check_record(body: bytes, seq: int, origin: str) -> CheckedRecord:
    """The checks of a record line that depend on nothing but its bytes, the seq it must have
    and the ledger's origin: JSON of exactly the record's fields, the seq, an RFC 3339 time, an
    entry of the right shape for this ledger, and canonical bytes. Raises ``AuditFailure``.
    A pure function, so that worker processes can run it ahead of the verifier."""
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as e:
        raise AuditFailure("record.malformed", f"record is not JSON: {e}", seq=seq) from e
    if not isinstance(doc, dict) or set(doc) != {"entry", "recorded_at", "seq", "sig"}:
        raise AuditFailure(
            "record.malformed", "a record has exactly entry, recorded_at, seq and sig", seq=seq
        )
    if doc["seq"] != seq or type(doc["seq"]) is not int:
        raise AuditFailure(
            "record.out_of_place",
            f"expected the record of seq {seq}, found seq {doc['seq']!r} "
            "(a record missing, moved or swapped)",
            seq=seq,
        )
    recorded_at = doc["recorded_at"]
    try:
        at = parse_time(recorded_at)
    except ValueError as e:
        raise AuditFailure(
            "record.malformed", f"recorded_at {recorded_at!r} is not an RFC 3339 UTC time", seq=seq
        ) from e
    try:
        signed = parse_submission({"entry": doc["entry"], "sig": doc["sig"]}, origin)
        record = Record.from_signed(seq, recorded_at, signed)
    except Rejection as r:
        raise AuditFailure(r.code, r.message, seq=seq) from r
    except MalformedError as e:
        raise AuditFailure("record.malformed", str(e), seq=seq) from e
    if record.body != body:
        raise AuditFailure(
            "record.not_canonical", "the record's bytes are not its RFC 8785 canonical form", seq=seq
        )
    return CheckedRecord(seq, recorded_at, signed, record.leaf, int(signed.id.replace("-", ""), 16), at)


class EntryIds(Protocol):
    """The entry ids of the records checked so far (128-bit integers), each with the seq of
    the first record that used it, wherever they are kept."""

    def add_all(self, entry_ids: Sequence[int], first_seq: int) -> bool:
        """Add ``entry_ids`` as the ids of records ``first_seq ..``; True when none of them
        was used by an earlier record and none repeats."""
        ...

    def seen_before(self, entry_id: int, seq: int) -> bool:
        """Whether a record before ``seq`` used ``entry_id``."""
        ...

    def add(self, entry_id: int, seq: int) -> None:
        """Add ``entry_id`` as record ``seq``'s, unless an earlier record's already."""
        ...

    def update(self, entry_ids: Iterable[int]) -> None:
        """Add ids of records before any that will be added (restored from a save)."""
        ...

    def ascending(self) -> Iterator[int]: ...


class EntryIdSet(dict[int, int]):
    """``EntryIds`` in memory (entry id -> seq): about 150 bytes a record."""

    def add_all(self, entry_ids: Sequence[int], first_seq: int) -> bool:
        new = 0
        for i, entry_id in enumerate(entry_ids):
            if self.setdefault(entry_id, first_seq + i) == first_seq + i:
                new += 1
        return new == len(entry_ids)

    def seen_before(self, entry_id: int, seq: int) -> bool:
        return self.get(entry_id, seq) < seq

    def add(self, entry_id: int, seq: int) -> None:
        self.setdefault(entry_id, seq)

    def update(self, entry_ids: Iterable[int]) -> None:  # type: ignore[override]
        for entry_id in entry_ids:
            self.setdefault(entry_id, -1)

    def ascending(self) -> Iterator[int]:
        return iter(sorted(self))


@dataclass(slots=True)
class Witnessing:
    """Cosignatures found on checkpoints by the witnesses the auditor knows."""

    required: int
    witnesses: tuple[CosignerVerifier, ...]
    best_size: int = 0  # largest checkpoint with at least ``required`` cosignatures
    best_by: tuple[str, ...] = ()


@dataclass
class LogVerifier:
    """Streaming checks of one ledger's export; see the module docstring.

    Preconditions: ``start`` is the compact range of the tree ``known`` (the checkpoint the
    stream continues from, already checked against the operator key), or both are None and
    the stream starts at record 0. ``last_recorded_at`` is the time of the record before the
    stream's first, when known (resuming), so that the first record's time is checked too.
    """

    origin: str | None  # None: the header's (checkpoints and entries must then agree with it)
    operator: NoteVerifier
    start: CompactRange | None = None
    known: Checkpoint | None = None
    witnessing: Witnessing | None = None
    expect: Checkpoint | None = None  # a checkpoint saved earlier the tree must pass through
    tree: CompactRange = field(init=False)
    checkpoint: Checkpoint | None = field(init=False, default=None)  # last checked
    checkpoint_note: str = ""
    last_recorded_at: datetime | None = None
    header: Header | None = field(init=False, default=None)
    ended: bool = field(init=False, default=False)
    entry_ids: EntryIds = field(default_factory=lambda: EntryIdSet())
    _fresh: dict[NodeID, bytes] = field(init=False, default_factory=dict)
    # The exact line ``ledger.stream.node_line`` writes for each node in ``_fresh``.
    _fresh_lines: dict[bytes, NodeID] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tree = CompactRange(self.start.size, self.start.hashes) if self.start else CompactRange()
        if self.known is not None:
            if self.tree.size != self.known.size or self.tree.root() != self.known.root_hash:
                raise UnusableInput("the saved compact range does not give the saved checkpoint")
            self.checkpoint = self.known

    @property
    def size(self) -> int:
        return self.tree.size

    def feed(self, line: Line) -> VerifiedRecord | None:
        """Check one line; a record line returns the checked record. Raises ``AuditFailure``
        for what proves tampering, ``UnusableInput`` for what is not a usable export."""
        if self.ended:
            raise UnusableInput("lines after the end of the export")
        if isinstance(line, Header):
            self._check_header(line)
            return None
        if self.header is None:
            raise UnusableInput("the export does not start with its header")
        if isinstance(line, RecordLine):
            self._check_nodes_complete()
            return self._record(line.body)
        if isinstance(line, NodeLine):
            self._node(line)
        elif isinstance(line, CheckpointLine):
            self._check_nodes_complete()
            self._checkpoint(line)
        elif isinstance(line, End):
            self._check_nodes_complete()
            self._end(line)
        return None

    def resume(self) -> None:
        """Accept a further export that continues where the last one ended."""
        self.finish()
        self.header, self.ended = None, False

    def finish(self) -> None:
        """The stream is over: it must have ended with its trailer."""
        if not self.ended:
            raise UnusableInput(f"the export stops after {self.size} records without its end line (cut off?)")

    def _check_header(self, header: Header) -> None:
        if self.header is not None:
            raise UnusableInput("a second header inside the export")
        if self.origin is None:
            self.origin = header.origin
        if header.origin != self.origin:
            raise UnusableInput(f"the export is of ledger {header.origin!r}, not {self.origin!r}")
        if header.after + 1 != self.tree.size:
            raise UnusableInput(
                f"the export starts at record {header.after + 1}, the verifier is at {self.tree.size}"
            )
        self.header = header

    def _record(self, body: bytes) -> VerifiedRecord:
        origin = self.header.origin if self.header else ""
        return self._accept(check_record(body, self.tree.size, origin), id_is_new=False)

    def feed_checked(self, record: CheckedRecord, *, id_is_new: bool = False) -> VerifiedRecord:
        """``feed`` of a record line whose ``check_record`` was run elsewhere (a worker
        process) with this verifier's next seq and origin: the checks that depend on the
        records before it follow, exactly as ``feed`` would make them. ``id_is_new``: the
        caller has added the entry id to ``entry_ids`` with ``add_all``, which found it used by
        no earlier record."""
        if self.ended:
            raise UnusableInput("lines after the end of the export")
        if self.header is None:
            raise UnusableInput("the export does not start with its header")
        if record.seq != self.tree.size or record.signed.entry["ledger"] != self.header.origin:
            raise ValueError(f"record {record.seq} was checked for another place than {self.tree.size}")
        self._check_nodes_complete()
        return self._accept(record, id_is_new=id_is_new)

    def feed_node_line(self, raw: bytes) -> bool:
        """Accept ``raw`` (a line without its newline) when it is exactly the line
        ``ledger.stream.node_line`` writes for a stored node the last record completes, the
        node and hash the tree gives: ``feed(parse_line(raw))`` would accept it too. False
        otherwise, and nothing changed: the caller then feeds the parsed line, which says what
        is wrong with it, if anything."""
        if self.ended or self.header is None:
            return False
        node = self._fresh_lines.pop(raw, None)
        return node is not None and self._fresh.pop(node, None) is not None

    def _accept(self, record: CheckedRecord, *, id_is_new: bool) -> VerifiedRecord:
        seq, signed, at = record.seq, record.signed, record.at
        if not id_is_new and self.entry_ids.seen_before(record.entry_id, seq):
            raise AuditFailure(
                "entry.duplicate_id", f"entry id {signed.id} was already used by an earlier record", seq=seq
            )
        if self.last_recorded_at is not None and at < self.last_recorded_at:
            raise AuditFailure(
                "record.time_backwards",
                f"recorded_at {record.recorded_at} is before the previous record's "
                f"{format_time(self.last_recorded_at)}: the log's clock never goes back",
                seq=seq,
            )
        if not id_is_new:
            self.entry_ids.add(record.entry_id, seq)
        self.last_recorded_at = at
        self.tree.append(record.leaf, self._keep_fresh)
        if self.expect is not None and self.tree.size == self.expect.size:
            self._check_expected()
        return VerifiedRecord(seq, record.recorded_at, signed)

    def _check_expected(self) -> None:
        assert self.expect is not None
        root = self.tree.root()
        if root != self.expect.root_hash:
            raise AuditFailure(
                "log.split_view",
                f"the checkpoint saved earlier has root {self.expect.root_hash.hex()} "
                f"at size {self.expect.size}, these records give {root.hex()}: the "
                "log has been rewritten since",
                seq=self.expect.size - 1,
            )

    def _keep_fresh(self, level: int, index: int, h: bytes) -> None:
        if self.header is not None and self.header.nodes:
            node = NodeID(level, index)
            self._fresh[node] = h
            self._fresh_lines[node_line(level, index, h)[:-1]] = node

    def _node(self, line: NodeLine) -> None:
        node = NodeID(line.level, line.index)
        expected = self._fresh.pop(node, None)
        if expected is None:
            raise AuditFailure(
                "node.unexpected",
                f"stored Merkle node {tuple(node)} is not one the last record completes",
                seq=max(self.size - 1, 0),
            )
        if expected != line.hash:
            raise AuditFailure(
                "node.mismatch",
                f"stored Merkle node {tuple(node)} over records "
                f"[{node.begin}, {node.end}) is {line.hash.hex()}, the records "
                f"give {expected.hex()}",
                seq=node.begin,
            )

    def _check_nodes_complete(self) -> None:
        self._fresh_lines.clear()
        if self._fresh:
            node = min(self._fresh)
            self._fresh.clear()
            raise AuditFailure(
                "node.missing",
                f"stored Merkle node {tuple(node)} over records [{node.begin}, {node.end}) is missing",
                seq=node.begin,
            )

    def _checkpoint(self, line: CheckpointLine) -> None:
        size = line.size
        first = self.checkpoint.size if self.checkpoint else 0
        try:
            checkpoint = open_checkpoint(line.note, self.operator, origin=self.origin)
        except (IntegrityError, MalformedError) as e:
            raise AuditFailure(
                "checkpoint.signature",
                f"checkpoint of size {size} does not verify with the operator key: {e}",
                seq=max(size - 1, 0),
                first_seq=first,
            ) from e
        if checkpoint.size != size:
            raise AuditFailure(
                "checkpoint.malformed",
                f"checkpoint line says size {size}, its note {checkpoint.size}",
                seq=max(size - 1, 0),
            )
        if size != self.tree.size:
            raise AuditFailure(
                "checkpoint.out_of_place",
                f"checkpoint of size {size} comes after {self.tree.size} records (records missing or added)",
                seq=min(size, self.tree.size),
            )
        if self.checkpoint is not None and size <= self.checkpoint.size:
            raise AuditFailure(
                "checkpoint.out_of_order",
                f"checkpoint of size {size} after one of size {self.checkpoint.size}",
                seq=max(size - 1, 0),
            )
        root = self.tree.root()
        if root != checkpoint.root_hash:
            raise AuditFailure(
                "checkpoint.root_mismatch",
                f"the operator signed root {checkpoint.root_hash.hex()} for size "
                f"{size}, records [{first}, {size}) give {root.hex()}",
                seq=first,
                first_seq=first,
            )
        self._witnessed(line.note, size)
        self.checkpoint, self.checkpoint_note = checkpoint, line.note

    def _witnessed(self, note: str, size: int) -> None:
        w = self.witnessing
        if w is None or not w.witnesses:
            return
        found = cosignatures(parse_note(note), w.witnesses)
        if len(found) >= w.required and size >= w.best_size:
            w.best_size, w.best_by = size, tuple(sorted(c.name for c in found))

    def _end(self, line: End) -> None:
        assert self.header is not None
        if line.size != self.tree.size:
            raise AuditFailure(
                "log.truncated",
                f"the export promised records up to size {line.size}, it holds {self.tree.size}",
                seq=self.tree.size,
            )
        if self.expect is not None and self.tree.size < self.expect.size:
            raise AuditFailure(
                "log.split_view",
                f"the log has {self.tree.size} records, fewer than the "
                f"{self.expect.size} of the checkpoint saved earlier: it has been "
                "truncated",
                seq=self.tree.size,
            )
        if self.header.size != line.size:
            raise UnusableInput(f"header says size {self.header.size}, end line {line.size}")
        if self.tree.size and (self.checkpoint is None or self.checkpoint.size != self.tree.size):
            raise AuditFailure(
                "checkpoint.missing",
                f"no signed checkpoint covers records up to {self.tree.size}",
                seq=self.checkpoint.size if self.checkpoint else 0,
            )
        self.ended = True
