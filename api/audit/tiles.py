"""Reading a tile-served log (C2SP tlog-tiles, ``ledger.tiles``) from a URL prefix or a
folder, checking every tile against the signed checkpoint as it goes; and ``verify`` over it.

``TileReader`` fetches the checkpoint, checks its signature by the operator key, then reads
the entry bundles in order (a few fetched ahead) and each hash tile as soon as the bundles
determine it (``ledger.tile_checker.TileChecker``), and ends by checking the root. ``audit_tiles``
turns the bundles' records into an export stream (header, records, the checkpoint, the end)
for the same ``Auditor`` as a bundle or a live server: every record checked, every rule
replayed, every entry signature checked against the key history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import httpx

from api.audit.auditor import Auditor, AuditOutcome, _failed, _require_witnesses
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import HASH_SIZE
from ledger.stream import Header, checkpoint_line, end_line, header_line
from ledger.tile_checker import TileChecker
from ledger.tiles import MAX_ENTRY, Tile, parse_tile_path, partial_from_full
from ledger.verify import AuditFailure, UnusableInput

AHEAD = 8  # bundles fetched ahead of the one being checked
MAX_CHECKPOINT = 1 << 20  # a checkpoint note with its cosignatures is a few hundred bytes


class TileSource(Protocol):
    """Where a tile set is read from; ``get`` answers None for a path that is not there."""

    name: str

    async def get(self, path: str) -> bytes | None: ...


def read_limit(path: str) -> int:
    """The most bytes the file at ``path`` can hold: a hash tile ``width * 32``, an entry
    bundle ``width * (2 + 65535)``, the checkpoint ``MAX_CHECKPOINT``. A path that names no
    tile is ``MalformedError``."""
    if path == "checkpoint":
        return MAX_CHECKPOINT
    tile = parse_tile_path(path)
    return tile.width * (2 + MAX_ENTRY if tile.is_bundle else HASH_SIZE)


def too_large(where: str, path: str, limit: int) -> AuditFailure:
    return AuditFailure(
        "tile.too_large" if path != "checkpoint" else "checkpoint.too_large",
        f"{where} is more than the {limit:,} bytes a {'checkpoint' if path == 'checkpoint' else 'tile'} "
        "of its kind can hold: not read further",
    )


class HttpTiles:
    """A tile set under a URL prefix (``https://host/tiles``), through ``client``."""

    def __init__(self, client: httpx.AsyncClient, prefix: str) -> None:
        self.client, self.prefix, self.name = client, prefix.rstrip("/"), prefix

    async def get(self, path: str) -> bytes | None:
        url = f"{self.prefix}/{path}"
        limit = read_limit(path)
        try:
            async with self.client.stream("GET", url) as r:
                if r.status_code == 404:
                    return None
                if r.status_code != 200:
                    raise UnusableInput(f"GET {url} answered {r.status_code}")
                # Counted as decoded (httpx undoes a Content-Encoding: gzip), so that a small
                # gzip bomb is stopped as soon as what it unpacks to passes the limit.
                data = bytearray()
                async for chunk in r.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise too_large(f"GET {url}", path, limit)
                return bytes(data)
        except httpx.HTTPError as e:
            raise UnusableInput(f"GET {url} failed: {e}") from e


class FolderTiles:
    """A tile set in a folder; ``under`` folders are looked in first (a mirror's staging)."""

    def __init__(self, folder: Path, *under: Path) -> None:
        self.folders, self.name = (*under, folder), str(folder)

    async def get(self, path: str) -> bytes | None:
        limit = read_limit(path)
        for folder in self.folders:
            try:
                with (folder / path).open("rb") as f:
                    data = f.read(limit + 1)
                if len(data) > limit:
                    raise too_large(str(folder / path), path, limit)
                return data
            except FileNotFoundError:
                continue
            except OSError as e:
                raise UnusableInput(f"cannot read {folder / path}: {e}") from e
        return None


async def fetch_tile(source: TileSource, tile: Tile) -> bytes | None:
    """A tile's bytes; for a partial tile that is gone, cut from its full tile, which the
    log may have made meanwhile (C2SP tlog-tiles lets it remove the partial one then)."""
    data = await source.get(tile.path())
    if data is not None or tile.full:
        return data
    full = await source.get(Tile(tile.level, tile.index).path())
    if full is None:
        return None
    try:
        return partial_from_full(tile, full)
    except MalformedError:
        return data  # not a full tile: the partial one is missing, as it was


def is_tile_folder(path: Path) -> bool:
    return (
        (path / "checkpoint").is_file() and (path / "tile").is_dir() and not (path / "ledger.jsonl").exists()
    )


async def open_tile_checkpoint(source: TileSource, operator: NoteVerifier) -> tuple[Checkpoint, str]:
    """The tile set's checkpoint, its signature checked and its origin the operator key's
    name (as a proof file's is); and the note as served. A checkpoint the key signed for
    another log is not this log's, however well signed."""
    raw = await source.get("checkpoint")
    if raw is None:
        raise UnusableInput(f"{source.name} has no checkpoint: not a tile-served log")
    try:
        note = raw.decode()
        return open_checkpoint(note, operator, origin=operator.name), note
    except (IntegrityError, MalformedError, UnicodeDecodeError) as e:
        raise AuditFailure(
            "checkpoint.signature", f"the tiles' checkpoint does not verify with the operator key: {e}"
        ) from e


class TileReader:
    """One pass over a tile set: see the module docstring."""

    def __init__(self, source: TileSource, checkpoint: Checkpoint, expect: Checkpoint | None = None) -> None:
        self.source, self.checkpoint = source, checkpoint
        self.checker = TileChecker(checkpoint, expect)
        self.files = 0

    async def _need(self, tile: Tile) -> bytes:
        data = await fetch_tile(self.source, tile)
        if data is None:
            raise UnusableInput(f"{self.source.name} has no {tile}, which its checkpoint needs")
        self.files += 1
        return data

    async def bundles(self) -> AsyncIterator[list[bytes]]:
        """Each bundle's entries (the records' canonical bytes), in order, once checked
        against the hash tiles they determine; after the last, the root is checked."""
        todo = self.checker.bundles()
        ahead: list[asyncio.Task[bytes]] = []
        try:
            for i, tile in enumerate(todo):
                while len(ahead) < AHEAD and i + len(ahead) < len(todo):
                    ahead.append(asyncio.ensure_future(self._need(todo[i + len(ahead)])))
                data = await ahead.pop(0)
                try:
                    entries = self.checker.bundle(tile, data)
                    for ready in self.checker.ready():
                        self.checker.hash_tile(ready, await self._need(ready))
                except MalformedError as e:
                    raise UnusableInput(str(e)) from e
                yield entries
            try:
                self.checker.finish()
            except MalformedError as e:
                raise UnusableInput(str(e)) from e
        finally:
            for task in ahead:
                task.cancel()
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved: the failure that matters was raised above


async def tile_lines(reader: TileReader, note: str, operator: NoteVerifier) -> AsyncIterator[bytes]:
    """The export stream of the tile set (no stored nodes: the tiles are checked instead)."""
    cp = reader.checkpoint
    yield header_line(Header(cp.origin, str(operator), -1, cp.size, False)).rstrip(b"\n")
    async for entries in reader.bundles():
        for entry in entries:
            yield entry
    if cp.size:
        yield checkpoint_line(cp.size, note).rstrip(b"\n")
    yield end_line(cp.size).rstrip(b"\n")


async def audit_tiles(source: TileSource, auditor: Auditor) -> AuditOutcome:
    """``verify`` of a tile-served log: the whole log, from record 0 (a checkpoint saved
    earlier is the one the tree must pass through)."""
    started = time.perf_counter()
    label = f"tiles {source.name}"
    try:
        checkpoint, note = await open_tile_checkpoint(source, auditor.operator)
        reader = TileReader(source, checkpoint, auditor.expect)
        await auditor.read(tile_lines(reader, note, auditor.operator))
        outcome = auditor.outcome(label)
        outcome.state_digest = auditor.replay.digest().digest.hex()
        outcome.server_digest = "not compared: tiles carry no state"
    except (AuditFailure, UnusableInput) as e:
        outcome = _failed(auditor, label, e)
    _require_witnesses(auditor, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome
