"""What the checkpoint page and the auditor's desk read: a signed checkpoint with its witness
cosignatures, each checked again here against the witness key it was submitted with; the latest
checkpoints in pages, newest first; the operator key's fingerprint; the state digest of the
projection tables. Nothing here is personal data: hashes, sizes, keys, table names and counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.http.routes.audit import state_digest
from api.reads.printed_page import beijing_time
from ledger import store
from ledger.checkpoint import Checkpoint, parse_note
from ledger.errors import IntegrityError, MalformedError
from ledger.schema import checkpoints
from ledger.witness import CosignerVerifier

MAX_SEQ = 2**63 - 1


@dataclass(frozen=True)
class WitnessMark:
    """One cosignature held for a checkpoint, as checked: ``valid`` only when the line is a
    good ``cosignature/v1`` of this checkpoint by ``key``."""

    name: str
    key: str
    key_hash: str
    at: str | None  # the cosignature's own time, in Beijing time
    valid: bool
    known: bool = False  # the key is one of the witnesses this service is configured with


@dataclass(frozen=True)
class CheckpointView:
    size: int
    origin: str
    root_hash: str
    note: str
    cosignatures: list[WitnessMark]


def fingerprint(key_text: str) -> str:
    """A key's fingerprint for reading aloud: SHA-256 of its verifier string, in groups of four."""
    digest = hashlib.sha256(key_text.encode()).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def _when(timestamp: int) -> str:
    try:
        return beijing_time(datetime.fromtimestamp(timestamp, UTC))
    except (OverflowError, OSError, ValueError):  # a witness may say any u63 time
        return str(timestamp)


def known_witnesses(app: Any) -> frozenset[str]:
    """The verifier keys of the witnesses the service is configured to ask for cosignatures
    (``RURAL_LEDGER_WITNESSES``, ``api.service.witness_push``); none when it asks none."""
    pusher = getattr(app.state, "witness_pusher", None)
    return frozenset(str(w.verifier) for w in getattr(pusher, "witnesses", ()))


def checked(note: str, witness_key: str, line: str, known: frozenset[str] = frozenset()) -> WitnessMark:
    """A held cosignature checked again against ``note`` and the key it came with."""
    try:
        witness = CosignerVerifier.from_string(witness_key)
    except MalformedError:
        return WitnessMark("?", witness_key, "", None, False)
    ours = str(witness) in known
    try:
        signature = parse_note(note + line).signatures[-1]
        cosignature = witness.check(parse_note(note).body, signature)
    except (MalformedError, IntegrityError):
        return WitnessMark(witness.name, witness_key, witness.key_hash.hex(), None, False, ours)
    at = _when(cosignature.timestamp)
    return WitnessMark(witness.name, witness_key, witness.key_hash.hex(), at, True, ours)


async def checkpoint_view(
    db: AsyncConnection, size: int | None, known: frozenset[str] = frozenset()
) -> CheckpointView | None:
    """The latest checkpoint (or the one of ``size``) with its cosignatures, each marked when
    its key is one of the ``known`` witnesses; None when there is no such checkpoint."""
    cp = await db.run_sync(
        store.latest_checkpoint if size is None else lambda c: store.checkpoint_at(c, size)
    )
    if cp is None:
        return None
    held = (await db.run_sync(store.cosignatures_for, [cp.size])).get(cp.size, [])
    body = Checkpoint.from_body(parse_note(cp.note).body)
    return CheckpointView(
        cp.size,
        body.origin,
        cp.root_hash.hex(),
        cp.note,
        [checked(cp.note, c.witness_key, c.line, known) for c in held],
    )


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root_hash: str
    cosignatures: int


async def recent_checkpoints(
    db: AsyncConnection, before: int | None, limit: int
) -> tuple[list[CheckpointRow], int | None]:
    """A page of checkpoints, newest first, below size ``before`` (all when None), with how
    many cosignatures each holds; and the ``before`` of the next page."""
    query = select(checkpoints.c.size, checkpoints.c.root_hash).order_by(checkpoints.c.size.desc())
    if before is not None:
        query = query.where(checkpoints.c.size < before)
    rows = (await db.execute(query.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    held = await db.run_sync(store.cosignatures_for, [r.size for r in rows])
    page = [CheckpointRow(r.size, bytes(r.root_hash).hex(), len(held.get(r.size, []))) for r in rows]
    return page, (page[-1].size if more and page else None)


@dataclass(frozen=True)
class TableRow:
    name: str
    rows: int
    digest: str


async def digest_of(engine: AsyncEngine) -> tuple[int, str, list[TableRow]]:
    """The state digest (``GET /v1/state-digest``): the tree size it belongs to, the digest of
    every projection table together, and each table's. Read on a connection of its own in one
    REPEATABLE READ transaction, as the API does."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        size, digest = await conn.run_sync(state_digest)
    tables = [TableRow(name, t.rows, t.digest.hex()) for name, t in sorted(digest.tables.items())]
    return size, digest.digest.hex(), tables


BAD_SIZE = -1


def size_of(text: str | None) -> int | None:
    """A checkpoint size as a reader gives it: None when not given, ``BAD_SIZE`` when it is not
    a positive integer within the ledger's range."""
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 19 or text.startswith("0"):
        return BAD_SIZE
    value = int(text)
    return value if value <= MAX_SEQ else BAD_SIZE
