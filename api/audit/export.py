"""Exports: the ledger as an export stream (``ledger.stream``), for ``GET /v1/export`` and
for a bundle on disk that anyone can archive and verify offline.

A bundle is a folder::

    ledger.jsonl    the export stream from record 0 (records as their canonical bytes,
                    stored Merkle nodes, every checkpoint with its witness cosignatures)
    operator.pub    the operator's verifier key, as the database states it
    checkpoint      the latest checkpoint, a signed note (for ``verify --since``)
    manifest.json   origin, size, and the SHA-256 of ledger.jsonl

The export stops at the checkpoint that was latest when it began: records appended meanwhile
belong to the next export. It reads in chunks, holding no more than one chunk in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import store
from ledger.errors import Category, Rejection
from ledger.merkle import NodeID
from ledger.stream import Header, checkpoint_line, end_line, header_line, node_line, record_line

EXPORT_CHUNK = 5000
BUNDLE_STREAM = "ledger.jsonl"


class NothingToExport(Rejection):
    def __init__(self, message: str) -> None:
        super().__init__("ledger.empty", message, category=Category.NOT_FOUND)


def nodes_completed_by(seq: int) -> list[NodeID]:
    """The complete subtrees record ``seq`` finishes: its leaf and every parent it closes."""
    ids = [NodeID(0, seq)]
    end, level = seq + 1, 1
    while end % (1 << level) == 0:
        ids.append(NodeID(level, (end >> level) - 1))
        level += 1
    return ids


def _head(conn: Connection) -> tuple[store.LedgerMeta, int]:
    meta = store.read_meta(conn)
    if meta is None:
        raise NothingToExport("the database holds no ledger")
    latest = store.latest_checkpoint(conn)
    return meta, latest.size if latest else 0


def _chunk(conn: Connection, after: int, last: int, nodes: bool) -> bytes:
    """The stream lines for records ``after < seq <= last`` and what follows each."""
    records = store.read_record_range(conn, after, last)
    stored_nodes = (
        store.find_nodes(conn, [i for r in records for i in nodes_completed_by(r.seq)]) if nodes else {}
    )
    checkpoints = {c.size: c for c in store.read_checkpoint_range(conn, after + 1, last + 1)}
    cosigned = store.cosignatures_for(conn, sorted(checkpoints))
    out: list[bytes] = []
    for r in records:
        out.append(record_line(r.body))
        if nodes:
            for node in nodes_completed_by(r.seq):
                h = stored_nodes.get(node)
                if h is not None:
                    out.append(node_line(node.level, node.index, h))
        cp = checkpoints.get(r.seq + 1)
        if cp is not None:
            note = cp.note + "".join(c.line for c in cosigned.get(cp.size, ()))
            out.append(checkpoint_line(cp.size, note))
    return b"".join(out)


async def export_stream(
    engine: AsyncEngine,
    after: int = -1,
    *,
    nodes: bool = True,
    upto: int | None = None,
    chunk: int = EXPORT_CHUNK,
) -> AsyncIterator[bytes]:
    """The export stream of records ``after + 1 ..`` up to the latest checkpoint (or the
    checkpoint of size ``upto``), in chunks.

    Precondition: ``after >= -1``. A stored record missing from the range simply does not
    appear: the verifier, not the exporter, says what that means.
    """
    async with engine.connect() as conn:
        meta, size = await conn.run_sync(_head)
    size = size if upto is None else min(upto, size)
    yield header_line(Header(meta.origin, meta.operator_key, after, size, nodes))
    at = after
    while at < size - 1:
        last = min(at + chunk, size - 1)
        async with engine.connect() as conn:
            yield await conn.run_sync(_chunk, at, last, nodes)
        at = last
    yield end_line(size)


@dataclass(frozen=True)
class BundleWritten:
    folder: Path
    origin: str
    size: int
    bytes: int
    seconds: float


async def write_bundle(engine: AsyncEngine, out: Path, *, nodes: bool = True) -> BundleWritten:
    """Write a bundle into the folder ``out`` (created; existing bundle files are refused)."""
    out.mkdir(parents=True, exist_ok=True)
    stream_path = out / BUNDLE_STREAM
    if stream_path.exists():
        raise FileExistsError(f"{stream_path} exists; export into an empty folder")
    started = time.perf_counter()
    async with engine.connect() as conn:
        meta, size = await conn.run_sync(_head)
        latest = await conn.run_sync(store.checkpoint_at, size) if size else None
    digest, written = hashlib.sha256(), 0
    partial = stream_path.with_suffix(".partial")
    with partial.open("wb") as f:
        async for piece in export_stream(engine, nodes=nodes, upto=size):
            f.write(piece)
            digest.update(piece)
            written += len(piece)
        f.flush()
        os.fsync(f.fileno())
    # A crash before this rename leaves only the .partial file: never a bundle that looks whole.
    partial.rename(stream_path)
    (out / "operator.pub").write_text(meta.operator_key + "\n")
    if latest is not None:
        (out / "checkpoint").write_text(latest.note)
    manifest = {
        "format": "rural-ledger/bundle/v1",
        "origin": meta.origin,
        "size": size,
        "files": {BUNDLE_STREAM: {"sha256": digest.hexdigest(), "bytes": written}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BundleWritten(out, meta.origin, size, written, time.perf_counter() - started)
