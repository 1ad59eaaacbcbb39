"""``rural-ledger mirror URL DIR``: a checked copy of a tile-served log, kept current.

Each run fetches the log's checkpoint (its signature checked with ``--operator-key``) and the
tiles it has that the mirror's own checkpoint did not (full tiles are immutable: one already
in the mirror is never fetched again), into ``DIR/.staging``. It then checks the whole tile
set, the mirror's older files included, against the new checkpoint (``api.audit.tiles``):
every leaf hash recomputed from the entry bundles, every hash tile, the root, and the tree
passing through the mirror's previous checkpoint (consistency). Only then are the new files
moved into place and the checkpoint replaced, last; a failed check leaves the mirror as it
was. So a file changed on the mirror is caught by the next run, as by ``verify``.

Exit 0 when the mirror is current, 1 when the log or the mirror fails a check (tampering, a
split view), 2 when the source is unusable (unreachable, not a tile set, another ledger).
``--follow`` runs again every ``--interval`` seconds until a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.audit.tiles import FolderTiles, HttpTiles, TileReader, TileSource, fetch_tile, open_tile_checkpoint
from api.cli.verify import read_key
from api.service.tiles_writer import CHECKPOINT, holding, missing_full_tiles, prune_partials, write_file
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.tiles import Tile, decode_bundle, decode_hash_tile, parse_tile_path, tiles_between, tiles_of
from ledger.verify import AuditFailure, UnusableInput

STAGING = ".staging"
FETCH_AHEAD = 8


@dataclass
class MirrorOutcome:
    status: str  # "current" (nothing new), "updated", "tampered", "unusable"
    size: int = 0
    previous: int = 0
    fetched: int = 0
    seconds: float = 0.0
    problem: str = ""

    @property
    def exit_code(self) -> int:
        return {"current": 0, "updated": 0, "tampered": 1}.get(self.status, 2)

    def line(self) -> str:
        if self.problem:
            return f"rural-ledger mirror: {self.status.upper()}: {self.problem}"
        return (
            f"rural-ledger mirror: {self.status}, size {self.size:,} (was {self.previous:,}), "
            f"{self.fetched:,} files fetched, every tile checked ({self.seconds:.1f} s)"
        )


def mirror_checkpoint(folder: Path, operator: NoteVerifier) -> Checkpoint | None:
    """The mirror's own checkpoint, its signature checked; None for a new mirror."""
    path = folder / CHECKPOINT
    if not path.exists():
        return None
    try:
        return open_checkpoint(path.read_bytes(), operator)
    except (IntegrityError, MalformedError) as e:
        raise AuditFailure("checkpoint.signature", f"the mirror's own checkpoint {path}: {e}") from e


async def _fetch(source: TileSource, tiles: list[Tile], staging: Path) -> None:
    async def one(tile: Tile) -> None:
        data = await fetch_tile(source, tile)
        if data is None:
            raise UnusableInput(f"{source.name} has no {tile}, which its checkpoint needs")
        write_file(staging / tile.path(), data)

    for i in range(0, len(tiles), FETCH_AHEAD):
        await asyncio.gather(*(one(t) for t in tiles[i : i + FETCH_AHEAD]))


async def mirror_once(source: TileSource, folder: Path, operator: NoteVerifier) -> MirrorOutcome:
    """One run; see the module docstring."""
    started = time.perf_counter()
    try:
        new, note = await open_tile_checkpoint(source, operator)  # before DIR is made
        folder.mkdir(parents=True, exist_ok=True)
        with holding(folder):
            return await _update(source, folder, operator, new, note, started)
    except AuditFailure as f:
        return MirrorOutcome("tampered", problem=f"{f.code}: {f.reason}")
    except (UnusableInput, MalformedError, OSError) as e:
        return MirrorOutcome("unusable", problem=str(e))


async def _update(
    source: TileSource, folder: Path, operator: NoteVerifier, new: Checkpoint, note: str, started: float
) -> MirrorOutcome:
    staging = folder / STAGING
    try:
        old = mirror_checkpoint(folder, operator)
        if old is not None and old.origin != new.origin:
            raise UnusableInput(f"{folder} mirrors {old.origin!r}, the source is {new.origin!r}")
        previous = old.size if old is not None else 0
        shutil.rmtree(staging, ignore_errors=True)
        wanted: list[Tile] = []
        if new.size >= previous:
            wanted = [
                t for t in tiles_between(previous, new.size) if not (t.full and (folder / t.path()).is_file())
            ]
            wanted += missing_full_tiles(folder, previous, set(wanted))
            await _fetch(source, wanted, staging)
        local = FolderTiles(folder, staging)
        reader = TileReader(local, new, old)  # refuses a shrunk tree
        async for _ in reader.bundles():
            pass
        await check_kept_partials(folder, local, new.size)
        for tile in wanted:
            target = folder / tile.path()
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / tile.path(), target)
        write_file(folder / CHECKPOINT, note.encode())  # last: the set it names is in place
        prune_partials(folder)
        status = "updated" if new.size != previous or wanted else "current"
        return MirrorOutcome(status, new.size, previous, len(wanted), time.perf_counter() - started)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


async def check_kept_partials(folder: Path, checked: TileSource, size: int) -> None:
    """``AuditFailure`` unless each partial tile the mirror keeps from an earlier size (one
    the checked tile set of ``size`` does not name) is the start of the checked tile at its
    level and index: those files are served as they are, and the check read only the current
    ones. (A partial whose full tile is checked is removed after the check, all the same.)"""
    current = {(t.level, t.index): t for t in tiles_of(size)}
    for path in sorted(folder.glob("tile/**/*.p/*")):
        rel = path.relative_to(folder).as_posix()
        try:
            kept = parse_tile_path(rel)
        except MalformedError:
            continue  # not a tile's name: never served as one
        now = current.get((kept.level, kept.index))
        if now == kept:
            continue  # the current tile itself: checked
        if now is None or now.width < kept.width:
            raise AuditFailure("tile.mismatch", f"{rel} is no part of the tree of size {size}")
        data, whole = await checked.get(rel), await fetch_tile(checked, now)
        try:
            if data is None or whole is None:
                raise MalformedError("cannot be read")
            decode = decode_bundle if kept.is_bundle else decode_hash_tile
            if decode(data, kept.width) != decode(whole, now.width)[: kept.width]:
                raise MalformedError(f"is not the start of the checked {now.path()}")
        except MalformedError as e:
            raise AuditFailure("tile.mismatch", f"{rel} (kept from an earlier size) {e}") from e


def source_of(url: str, client: httpx.AsyncClient) -> TileSource:
    if url.startswith(("http://", "https://")):
        return HttpTiles(client, url)
    return FolderTiles(Path(url))


async def run_mirror(args: argparse.Namespace, http: httpx.AsyncClient | None = None) -> MirrorOutcome:
    """Run ``mirror`` as asked; ``http`` replaces the client (tests). With ``--follow``, runs
    until a check fails (or ``--runs`` runs), returning the last outcome."""
    operator = NoteVerifier.from_string(read_key(args.operator_key))
    client = http or httpx.AsyncClient(timeout=120, follow_redirects=True)
    runs = 0
    try:
        while True:
            outcome = await mirror_once(source_of(args.url, client), Path(args.dir), operator)
            runs += 1
            print(outcome.line(), flush=True)
            if not args.follow or outcome.status == "tampered" or (args.runs and runs >= args.runs):
                return outcome
            await asyncio.sleep(args.interval)
    finally:
        if http is None:
            await client.aclose()


def cmd_mirror(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_mirror(args)).exit_code
    except (MalformedError, OSError) as e:
        print(f"rural-ledger mirror: unusable input: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def add_mirror_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    m = sub.add_parser("mirror", help="copy a tile-served log into a folder, check it, keep it current")
    m.add_argument("url", metavar="URL", help="the log's tile prefix (https://host/tiles) or a tile folder")
    m.add_argument("dir", metavar="DIR", help="the mirror's folder (servable as it is)")
    m.add_argument("--operator-key", required=True, help="the operator's verifier key, or a file holding it")
    m.add_argument("--follow", action="store_true", help="keep the mirror current: run again and again")
    m.add_argument("--interval", type=float, default=60.0, help="seconds between runs with --follow")
    m.add_argument("--runs", type=int, default=0, help=argparse.SUPPRESS)  # tests: stop after N
    m.set_defaults(fn=cmd_mirror)
