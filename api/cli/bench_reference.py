"""The benchmarks' reference: a bare Litestar app on the service's paths, with no database.

Each handler answers what the service's route answers, in the same wire types and of the same
size, from memory: proofs by the same proof plans (``ledger.proofs``) over node hashes made up
in memory, records and pages from one record's canonical bytes decoded as the service decodes
its stored ones, the checkpoint as one signed note. A submission gets the same crypto as the
service gives it (the Ed25519 check of every entry and the SHA-256 of its record's bytes) and
answers receipts of the same shape, with nothing stored. What the service spends beyond this
is its database, its rules and its own middleware.

Settings come from the environment, as the bench passes them to the child process:
``RL_BENCH_ORIGIN`` (the ledger's name) and ``RL_BENCH_PUBLIC_KEY`` (standard base64: the key
submitted entries are signed with)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.params import Parameter

from api.client import signed_entry
from api.http.wire.records import (
    ConsistencyProof,
    InclusionProof,
    MinimalReceipt,
    Receipt,
    Record,
    RecordPage,
    SubmissionResults,
    record_of,
)
from ledger import proofs
from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.entry import Record as StoredRecord
from ledger.entry import format_time, parse_submission
from ledger.merkle import NodeID
from ledger.signing import KeyFile, SigningKey, b64, decode_b64, entry_message, verify_signature

ORIGIN_VARIABLE = "RL_BENCH_ORIGIN"
PUBLIC_KEY_VARIABLE = "RL_BENCH_PUBLIC_KEY"
SAMPLE_SEQ = 123_456  # the canned record's seq: as many digits as a mid-sized ledger's


def memory_node(node: NodeID) -> bytes:
    """A made-up stored node: the reference's stand-in for a read of ``merkle_nodes``."""
    return hashlib.sha256(node.level.to_bytes(1, "big") + node.index.to_bytes(8, "big")).digest()


def inclusion_path(seq: int, size: int) -> list[bytes]:
    plan = proofs.inclusion_nodes(seq, size)
    return plan.rehash([memory_node(i) for i in plan.ids])


class Canned:
    """What the reference answers with, made once at start."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        key = KeyFile("county", SigningKey.generate())
        item = signed_entry(
            key, origin, "key.added", {"org": "county", "public_key": b64(key.key.public_key)}
        )
        record = StoredRecord.make(SAMPLE_SEQ, format_time(datetime.now(UTC)), item["entry"], item["sig"])
        self.body, self.leaf = record.body, record.leaf
        signer_text, _ = generate_signer(origin)
        self.note = sign_checkpoint(
            Checkpoint(origin, SAMPLE_SEQ, memory_node(NodeID(20, 0))), NoteSigner.from_string(signer_text)
        )

    def record(self) -> Record:
        return record_of(self.body, self.leaf)


CANNED = Canned(os.environ.get(ORIGIN_VARIABLE, "bench.rural-ledger/reference"))


@get("/healthz")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/v1/proofs/inclusion")
async def inclusion(seq: int, size: int) -> InclusionProof:
    return InclusionProof(
        seq, size, memory_node(NodeID(0, seq)).hex(), [h.hex() for h in inclusion_path(seq, size)]
    )


@get("/v1/proofs/consistency")
async def consistency(from_: Annotated[int, Parameter(query="from")], to: int) -> ConsistencyProof:
    plan = proofs.consistency_nodes(from_, to)
    path = plan.rehash([memory_node(i) for i in plan.ids])
    return ConsistencyProof(from_, to, [h.hex() for h in path])


@get("/v1/entries/{seq:int}")
async def record(seq: int) -> Record:
    return CANNED.record()


@get("/v1/entries")
async def page(after: int = -1, limit: int = 100) -> RecordPage:
    return RecordPage([CANNED.record() for _ in range(limit)], after + limit)


@get("/v1/checkpoint", media_type="text/plain")
async def checkpoint() -> Response[str]:
    return Response(CANNED.note, media_type="text/plain")


@post("/v1/entries", status_code=200)
async def submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Every entry's signature checked and its record's bytes hashed, as the service does."""
    doc = msgspec.json.decode(await request.body())
    single = "entries" not in doc
    items = [doc] if single else doc["entries"]
    public_key = decode_b64(os.environ[PUBLIC_KEY_VARIABLE], size=32, what="public key")
    minimal = "return=minimal" in (request.headers.get("prefer") or "")
    answers: list[Receipt | MinimalReceipt] = []
    for seq, item in enumerate(items, start=SAMPLE_SEQ):
        signed = parse_submission(item, CANNED.origin)  # the shape checks and canonical bytes
        if not verify_signature(public_key, signed.signature, entry_message(signed.entry_bytes)):
            raise ValueError("a benchmark entry's signature does not verify")
        leaf = StoredRecord.from_signed(seq, format_time(datetime.now(UTC)), signed).leaf.hex()
        if minimal:
            answers.append(MinimalReceipt(seq, leaf))
        else:
            answers.append(Receipt(seq, leaf, CANNED.note, [h.hex() for h in inclusion_path(seq, seq + 1)]))
    if single:
        return Response(answers[0])
    return Response(SubmissionResults(list(answers)))


def create_reference_app() -> Litestar:
    return Litestar(route_handlers=[health, inclusion, consistency, record, page, checkpoint, submit])
