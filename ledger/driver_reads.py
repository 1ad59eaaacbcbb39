"""Reads of the log that are one statement each, sent on the driver's own connection (asyncpg),
outside any transaction: one round trip, no BEGIN and no ROLLBACK.

A single statement sees one snapshot of its own (READ COMMITTED), so each answer here is the
log as it was at one moment, as it would be inside a transaction of that one statement; the
statement is prepared once per connection (the driver's statement cache) and then costs one
bind-and-execute. Every statement names the connection's ledger (``store.OF_LEDGER``), beside
the row-level policies that hold the service role to it.

What a route reads this way must not need a snapshot shared with another statement: where two
reads must agree (a checkpoint and the nodes under it), they are one statement here.
"""

from __future__ import annotations

from typing import Any, Protocol

from ledger.store import OF_LEDGER, StoredCheckpoint


class Driver(Protocol):
    """The part of an asyncpg connection used here."""

    async def fetchrow(self, query: str, *args: Any) -> Any: ...


# The latest checkpoint's size as a scalar subquery (NULL while there is none): the backward
# scan of one ledger's checkpoints by their key, one row.
LATEST_SIZE = f"(SELECT c.size FROM checkpoints c WHERE c.{OF_LEDGER} ORDER BY c.size DESC LIMIT 1)"
_CHECKPOINTS = f"SELECT c.size, c.root_hash, c.note FROM checkpoints c WHERE c.{OF_LEDGER}"
LATEST = f"{_CHECKPOINTS} ORDER BY c.size DESC LIMIT 1"
CHECKPOINT_AT = f"{_CHECKPOINTS} AND c.size = $1"
RECORD_AT = f"SELECT r.body, r.leaf_hash FROM records r WHERE r.{OF_LEDGER} AND r.seq = $1"


async def latest_size(db: Driver) -> int:
    """The latest checkpoint's size; 0 while there is none."""
    row = await db.fetchrow(f"SELECT {LATEST_SIZE}")
    return int(row[0] or 0)


async def checkpoint(db: Driver, size: int | None) -> StoredCheckpoint | None:
    """The latest checkpoint (``size`` None), or the one of ``size``; None when there is none."""
    row = await (db.fetchrow(LATEST) if size is None else db.fetchrow(CHECKPOINT_AT, size))
    return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2]) if row else None


async def record_at(db: Driver, seq: int) -> tuple[bytes, bytes] | None:
    """Record ``seq``'s canonical body and leaf hash; None when there is no record at ``seq``."""
    row = await db.fetchrow(RECORD_AT, seq)
    return (bytes(row[0]), bytes(row[1])) if row else None
