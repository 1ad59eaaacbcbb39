"""Records, receipts, checkpoints and proofs: what an auditor reads and checks."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from api.http.wire import one_of
from api.http.wire.problems import Refusal


class RecordedEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What an organisation signed, in its canonical key order; ``payload`` is the kind's
    (its schema at ``GET /v1/kinds/{kind}``); ``user``, when the entry names one, the
    pseudonymous id of the organisation's user who acted."""

    actor: str
    id: str
    key: str
    kind: str
    ledger: str
    payload: dict[str, Any]
    signed_at: str
    user: str | msgspec.UnsetType = msgspec.UNSET
    v: int


class HashedRecord(msgspec.Struct, forbid_unknown_fields=True):
    """The record as stored and hashed (RFC 8785 bytes: its keys sorted)."""

    entry: RecordedEntry
    recorded_at: str
    seq: int
    sig: str


class Record(msgspec.Struct, forbid_unknown_fields=True):
    """A record over HTTP: the four hashed fields, in their canonical order, and its leaf hash
    (SHA-256 of 0x00 and the record's canonical bytes, hex) for convenience."""

    entry: RecordedEntry
    recorded_at: str
    seq: int
    sig: str
    leaf_hash: str


def record_of(body: bytes, leaf_hash: bytes) -> Record:
    """A stored record's canonical ``body`` with its leaf hash."""
    r = msgspec.json.decode(body, type=HashedRecord)
    return Record(r.entry, r.recorded_at, r.seq, r.sig, leaf_hash.hex())


class RecordPage(msgspec.Struct, forbid_unknown_fields=True):
    """Records in seq order; ``next`` is the ``after`` of the next page (null: the last page)."""

    items: list[Record]
    next: int | None


class Receipt(msgspec.Struct, forbid_unknown_fields=True):
    """An admitted entry: its record's seq and leaf hash, the signed checkpoint (signed note)
    that covers it and its inclusion proof in that checkpoint's tree (hex, leaf to root)."""

    seq: int
    leaf_hash: str
    checkpoint: str
    inclusion_proof: list[str]


class MinimalReceipt(msgspec.Struct, forbid_unknown_fields=True):
    """An admitted entry under ``Prefer: return=minimal``: its seq and leaf hash only."""

    seq: int
    leaf_hash: str


class SubmissionResults(msgspec.Struct, forbid_unknown_fields=True):
    """The answer to a list submission: per entry, in order, a receipt or its refusal."""

    # Each a Receipt, a MinimalReceipt or a Refusal (see ``one_of``; Litestar reads ``extra``).
    results: Annotated[
        list[Any],
        msgspec.Meta(extra_json_schema={"extra": {"items": one_of(Receipt, MinimalReceipt, Refusal)}}),
    ]


class SignedCheckpoint(msgspec.Struct, forbid_unknown_fields=True):
    """A checkpoint: the tree size, its root hash (hex) and the operator's signed note."""

    size: int
    root_hash: str
    note: str


class CheckpointPage(msgspec.Struct, forbid_unknown_fields=True):
    """Checkpoints, smallest first; ``next`` is the ``after`` of the next page."""

    items: list[SignedCheckpoint]
    next: int | None


class InclusionProof(msgspec.Struct, forbid_unknown_fields=True):
    """That record ``seq`` is in the tree of ``size`` records (RFC 9162 audit path, hex)."""

    seq: int
    size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProof(msgspec.Struct, forbid_unknown_fields=True):
    """That the tree of size ``to`` extends the tree of size ``from`` (RFC 9162, hex)."""

    from_: int = msgspec.field(name="from")
    to: int
    proof: list[str]


class Evidence(msgspec.Struct, forbid_unknown_fields=True):
    """What a claim rests on: the seq of the record that established it, that record's leaf
    hash and its inclusion proof in the response's checkpoint."""

    seq: int
    leaf_hash: str
    inclusion_proof: list[str]


class ProvenRecord(msgspec.Struct, forbid_unknown_fields=True):
    """A record with its inclusion proof in the response's checkpoint."""

    record: Record
    inclusion_proof: list[str]


class Health(msgspec.Struct, forbid_unknown_fields=True):
    """The service is up: its ledger's origin, tree size and start-up self-check (``passed``,
    or why it refuses writes; ``status`` is then ``read-only``)."""

    status: str
    origin: str
    size: int
    self_check: str


class HealthUnavailable(msgspec.Struct, forbid_unknown_fields=True):
    """The service is up but its database cannot be reached (with ``Retry-After``)."""

    status: str
    origin: str
    reason: str
