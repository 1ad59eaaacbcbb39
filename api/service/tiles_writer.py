"""Writing a tile set into a folder that any web server can serve as it is
(``rural-ledger tiles write DIR``), and keeping it current, incrementally.

Each file is written beside its place and renamed into it (``os.replace``), so a reader sees
a whole file or none; the ``checkpoint`` is replaced last, once every tile it needs is in
place, so that the folder always serves a whole tile set. Full tiles are immutable: written
once, never rewritten. A run writes only what the new size has and the folder's old size did
not (``ledger.tiles.tiles_between``); it then removes partial tiles whose full tile exists
(the spec allows it), keeping the others, which an older checkpoint may still name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from api.service import tiles_store
from ledger.checkpoint import Checkpoint, parse_note
from ledger.errors import IntegrityError, MalformedError
from ledger.tiles import TILE_WIDTH, Tile, parse_tile_path, tiles_between

CHUNK_TILES = 32  # tiles read per connection checkout
CHECKPOINT = "checkpoint"
LOCK = ".lock"


@dataclass(frozen=True)
class TilesWritten:
    folder: Path
    origin: str
    size: int
    previous: int  # the size the folder held before
    files: int
    seconds: float
    held_back: int | None = None  # see api.service.tiles_store


def write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically (a reader never sees a part of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    with part.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


@contextlib.contextmanager
def holding(folder: Path) -> Iterator[None]:
    """Hold the folder's lock file (``.lock``) for one writer at a time: two runs at once
    could otherwise leave the older checkpoint last, and the folder would seem to shrink."""
    with (folder / LOCK).open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MalformedError(f"another run is writing {folder} (it holds {folder / LOCK})") from None
        yield


def folder_checkpoint(folder: Path) -> Checkpoint | None:
    """The checkpoint a tile folder holds (its body, unverified), or None."""
    path = folder / CHECKPOINT
    if not path.exists():
        return None
    return Checkpoint.from_body(parse_note(path.read_bytes()).body)


def prune_partials(folder: Path, keep: Iterable[Tile] = ()) -> int:
    """Remove the partial tiles whose full tile exists; returns how many."""
    kept, removed = {t.path() for t in keep}, 0
    for p in folder.glob("tile/**/*.p/*"):
        rel = p.relative_to(folder).as_posix()
        try:
            tile = parse_tile_path(rel)
        except MalformedError:
            continue
        full = folder / Tile(tile.level, tile.index, TILE_WIDTH).path()
        if rel not in kept and full.is_file():
            p.unlink()
            removed += 1
            if not any(p.parent.iterdir()):
                p.parent.rmdir()
    return removed


async def write_tiles(engine: AsyncEngine, folder: Path) -> TilesWritten:
    """Bring the tile folder ``folder`` (created if needed) up to the ledger's published
    checkpoint. Refuses a folder holding another ledger, or a larger tree than the ledger's."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with holding(folder):
        return await _write_tiles(engine, folder, started)


async def _write_tiles(engine: AsyncEngine, folder: Path, started: float) -> TilesWritten:
    scan = tiles_store.OversizeScan()
    async with engine.connect() as conn:
        pub = await conn.run_sync(tiles_store.published, scan)
    if pub is None:
        raise MalformedError(
            "nothing to publish: the ledger has no checkpoint"
            + (f" before record {scan.first}, too long for a bundle" if scan.first is not None else "")
        )
    new = Checkpoint.from_body(parse_note(pub.note).body)
    old = folder_checkpoint(folder)
    if old is not None and old.origin != new.origin:
        raise MalformedError(f"{folder} holds the tiles of {old.origin!r}, not of {new.origin!r}")
    if old is not None and old.size > new.size:
        raise IntegrityError(
            f"{folder} holds a tree of {old.size} records, the ledger publishes {new.size}: "
            "not this ledger's tiles, or the ledger was restored from an older state"
        )
    previous = old.size if old is not None else 0
    wanted = tiles_between(previous, new.size)
    # A full tile missing from the folder (deleted by hand) is written again; one present
    # is immutable and kept.
    if old is not None:
        wanted = [t for t in wanted if not (t.full and (folder / t.path()).is_file())]
        wanted += missing_full_tiles(folder, previous, set(wanted))
    for i in range(0, len(wanted), CHUNK_TILES):
        part = wanted[i : i + CHUNK_TILES]
        async with engine.connect() as conn:
            blobs = await conn.run_sync(_read_tiles, part, new.size)
        for tile, data in zip(part, blobs, strict=True):
            write_file(folder / tile.path(), data)
    write_file(folder / CHECKPOINT, pub.note.encode())
    prune_partials(folder)
    return TilesWritten(
        folder, new.origin, new.size, previous, len(wanted) + 1, time.perf_counter() - started, pub.held_back
    )


def missing_full_tiles(folder: Path, size: int, already: set[Tile]) -> list[Tile]:
    """The full tiles of a tree of ``size`` the folder lacks."""
    return [
        t for t in tiles_between(0, size) if t.full and t not in already and not (folder / t.path()).is_file()
    ]


def _read_tiles(conn: Connection, tiles: list[Tile], size: int) -> list[bytes]:
    out = []
    for tile in tiles:
        data = tiles_store.tile_bytes(conn, tile, size)
        if data is None:
            raise IntegrityError(f"{tile} is not within the tree of size {size}")
        out.append(data)
    return out
