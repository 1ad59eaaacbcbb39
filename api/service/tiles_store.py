"""The tiles of the stored log (``ledger.tiles``), read on a synchronous connection: the
published checkpoint, hash tiles from the stored Merkle nodes, entry bundles from the records.

**Records too long for a bundle.** A bundle entry holds at most 65,535 bytes (a uint16
length) and C2SP tlog-tiles has no other form for one; a record may be longer (a
``shares.quantified`` of thousands of allocations). The tiles then publish the log up to the
largest checkpoint before the first such record (``published``): that tile set is whole and
verifies against its own signed checkpoint, and ``TilesPublished.held_back`` names the record
that stops it, so that the operator sees it (``rural-ledger tiles write`` says so, and the
rest of the log stays available through ``/v1/export``). Nothing is cut or re-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from ledger import store
from ledger.errors import IntegrityError
from ledger.tiles import MAX_ENTRY, TILE_WIDTH, Tile, encode_bundle, encode_hash_tile, within


@dataclass(frozen=True, slots=True)
class TilesPublished:
    """What the tiles publish: the checkpoint note (with its witnesses' cosignatures) of
    ``size``, and the first record too long for a bundle, if any, below the ledger's size."""

    size: int
    note: str
    held_back: int | None = None  # the seq of the first record longer than MAX_ENTRY


@dataclass
class OversizeScan:
    """The first record longer than a bundle entry, found by scanning each record once (the
    answer can only ever change from None to a seq, and records never change)."""

    limit: int = MAX_ENTRY  # the longest record a bundle takes
    scanned: int = 0  # records [0, scanned) have been looked at
    first: int | None = None

    def update(self, conn: Connection, size: int) -> int | None:
        if self.first is None and size > self.scanned:
            found = conn.execute(
                text(
                    "SELECT min(seq) FROM records WHERE seq >= :a AND seq < :b AND octet_length(body) > :max"
                ),
                {"a": self.scanned, "b": size, "max": self.limit},
            ).scalar_one()
            self.first, self.scanned = found, size
        return self.first


def published(conn: Connection, scan: OversizeScan) -> TilesPublished | None:
    """The checkpoint the tiles publish; None while there is none (an empty log, or a first
    record too long for a bundle)."""
    latest = store.latest_checkpoint(conn)
    if latest is None:
        return None
    cp: store.StoredCheckpoint | None = latest
    held_back = scan.update(conn, latest.size)
    if held_back is not None:
        row = conn.execute(
            text("SELECT size FROM checkpoints WHERE size <= :cap ORDER BY size DESC LIMIT 1"),
            {"cap": held_back},
        ).first()
        cp = store.checkpoint_at(conn, row.size) if row else None
    if cp is None:
        return None
    cosigned = store.cosignatures_for(conn, [cp.size]).get(cp.size, [])
    return TilesPublished(cp.size, cp.note + "".join(c.line for c in cosigned), held_back)


def hash_tile(conn: Connection, tile: Tile) -> bytes:
    """A hash tile's bytes: the stored nodes of its tree level, in index order.

    Precondition: ``within(tile, size)`` for a published size, so that every node exists."""
    first = tile.index * TILE_WIDTH
    rows = conn.execute(
        text(
            "SELECT idx, hash FROM merkle_nodes WHERE level = :level AND idx >= :a AND idx < :b ORDER BY idx"
        ),
        {"level": tile.tree_level, "a": first, "b": first + tile.width},
    ).all()
    if [r.idx for r in rows] != list(range(first, first + tile.width)):
        raise IntegrityError(f"merkle nodes of {tile} missing from storage")
    return encode_hash_tile([bytes(r.hash) for r in rows])


def bundle(conn: Connection, tile: Tile) -> bytes:
    """An entry bundle's bytes: its records' canonical bytes, each length-prefixed."""
    first = tile.first_seq
    rows = store.read_record_range(conn, first - 1, first + tile.width - 1)
    if [r.seq for r in rows] != list(range(first, first + tile.width)):
        raise IntegrityError(f"records of {tile} missing from storage")
    return encode_bundle([r.body for r in rows], first)


def tile_bytes(conn: Connection, tile: Tile, size: int) -> bytes | None:
    """The bytes at ``tile``'s path in the tile set of ``size``; None when it has none."""
    if not within(tile, size):
        return None
    return bundle(conn, tile) if tile.is_bundle else hash_tile(conn, tile)
