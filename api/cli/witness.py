"""``rural-ledger witness``: a second party that cosigns the ledger's checkpoints.

One run: fetch the latest checkpoint, check the operator's signature, check a consistency
proof from the last checkpoint this witness cosigned (kept in its state file), cosign
(C2SP tlog-cosignature v1) and post the cosignature to the server. A checkpoint that does not
extend the one cosigned before is a split view: the witness refuses, writes the evidence
(both signed notes and the proof) beside its state file, and exits 1.

Crash states: the state file is replaced (write, fsync, rename) before the cosignature is
posted, so a crash in between leaves a witness that remembers a checkpoint the server has no
cosignature for yet: the next run cosigns the same or a larger tree, which is consistent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.audit.tiles import FolderTiles, HttpTiles, TileSource
from api.cli.verify import read_key
from api.cli.witness_tiles import tile_consistency_proof
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.witness import CosignerSigner, SplitView, advance, generate_cosigner


@dataclass
class WitnessOutcome:
    status: str  # cosigned, split_view, unusable
    message: str
    size: int | None = None
    evidence: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return {"cosigned": 0, "split_view": 1}.get(self.status, 2)


def load_or_create_key(path: Path, name: str | None) -> CosignerSigner:
    if path.exists():
        return CosignerSigner.from_string(path.read_text().strip())
    if not name:
        raise MalformedError(f"no witness key at {path}: give --name to create one")
    signer_text, verifier_text = generate_cosigner(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer_text + "\n")
    path.with_name(path.name + ".pub").write_text(verifier_text + "\n")
    return CosignerSigner.from_string(signer_text)


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    partial.rename(path)


async def _get(http: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    r = await http.get(path, params=params)
    if r.status_code != 200:
        raise MalformedError(f"GET {path} answered {r.status_code}: {r.text[:300]}")
    return r


async def witness_once(
    http: httpx.AsyncClient | None,
    operator: NoteVerifier,
    signer: CosignerSigner,
    state: Path,
    now: int | None = None,
    tiles: TileSource | None = None,
) -> WitnessOutcome:
    """One witnessing round against the server behind ``http``; see the module docstring.
    With ``tiles``, the checkpoint and the proof come from that tile-served log instead, and
    the cosignature is posted to ``http`` if given (else it is in the outcome's details)."""
    try:
        offered_note = await _offered(http, tiles)
        try:
            offered = open_checkpoint(offered_note, operator)
        except IntegrityError as e:
            return WitnessOutcome("split_view", f"the latest checkpoint is not the operator's: {e}")
        seen: Checkpoint | None = None
        seen_note = state.read_text() if state.exists() else ""
        if seen_note:
            seen = open_checkpoint(seen_note, operator, origin=offered.origin)
        proof: list[bytes] = []
        if seen is not None and seen.size <= offered.size and tiles is not None:
            proof = await tile_consistency_proof(tiles, seen.size, offered.size)
        elif seen is not None and seen.size <= offered.size and http is not None:
            doc = (
                await _get(http, "/v1/proofs/consistency", **{"from": seen.size, "to": offered.size})
            ).json()
            proof = [bytes.fromhex(h) for h in doc["proof"]]
        advance(seen, seen_note, offered, offered_note, proof)
    except SplitView as e:
        evidence = state.with_name(state.name + f".split-view-{int(time.time())}.json")
        evidence.write_text(
            json.dumps(
                {
                    "reason": str(e),
                    "cosigned": e.seen,
                    "offered": e.offered,
                    "proof": [h.hex() for h in e.proof],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return WitnessOutcome("split_view", str(e), evidence=str(evidence))
    except (MalformedError, IntegrityError, httpx.HTTPError, KeyError, ValueError) as e:
        return WitnessOutcome("unusable", str(e))
    body = offered_note[: offered_note.index("\n\n") + 1]
    cosignature = signer.cosign(body, int(time.time()) if now is None else now)
    _replace(state, offered_note)  # remember before telling anyone (see the crash states)
    if http is None:
        return WitnessOutcome(
            "cosigned",
            f"cosigned checkpoint of size {offered.size}",
            size=offered.size,
            details={"cosignature": cosignature.line()},
        )
    r = await http.post(
        "/v1/witness/cosignatures",
        json={"size": offered.size, "witness_key": str(signer.verifier()), "cosignature": cosignature.line()},
    )
    if r.status_code != 201:
        return WitnessOutcome(
            "unusable", f"the server refused the cosignature: {r.text[:300]}", size=offered.size
        )
    return WitnessOutcome(
        "cosigned", f"cosigned checkpoint of size {offered.size}", size=offered.size, details=r.json()
    )


async def _offered(http: httpx.AsyncClient | None, tiles: TileSource | None) -> str:
    """The checkpoint note offered: the tile set's, else the server's latest."""
    if tiles is not None:
        raw = await tiles.get("checkpoint")
        if raw is None:
            raise MalformedError(f"{tiles.name} has no checkpoint: not a tile-served log")
        return raw.decode("utf-8", errors="replace")
    if http is None:
        raise MalformedError("nothing to witness: give a server or a tile-served log")
    return (await _get(http, "/v1/checkpoint")).text


def cmd_witness(args: argparse.Namespace) -> int:
    if args.url == "serve":
        from api.cli.witness_serve import cmd_witness_serve

        return cmd_witness_serve(args)
    if not args.operator_key:
        print("rural-ledger witness: give --operator-key", file=sys.stderr)
        return 2
    try:
        operator = NoteVerifier.from_string(read_key(args.operator_key))
        if not args.key:
            raise MalformedError("give --key FILE (the witness's key file)")
        signer = load_or_create_key(Path(args.key), args.name)
    except (MalformedError, OSError) as e:
        print(f"rural-ledger witness: {e}", file=sys.stderr)
        return 2
    state = Path(args.state) if args.state else Path(args.key).with_suffix(".checkpoint")

    async def run() -> WitnessOutcome:
        if not args.tiles:
            async with httpx.AsyncClient(base_url=args.url.rstrip("/"), timeout=60) as http:
                return await witness_once(http, operator, signer, state)
        async with httpx.AsyncClient(timeout=60) as client:
            tiles: TileSource = (
                FolderTiles(Path(args.url)) if Path(args.url).is_dir() else HttpTiles(client, args.url)
            )
            if not args.submit:
                return await witness_once(None, operator, signer, state, tiles=tiles)
            async with httpx.AsyncClient(base_url=args.submit.rstrip("/"), timeout=60) as http:
                return await witness_once(http, operator, signer, state, tiles=tiles)

    outcome = asyncio.run(run())
    if args.json:
        print(
            json.dumps(
                {
                    "status": outcome.status,
                    "message": outcome.message,
                    "size": outcome.size,
                    "evidence": outcome.evidence,
                    "witness_key": str(signer.verifier()),
                    "cosignature": outcome.details.get("cosignature"),
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"rural-ledger witness: {outcome.status}: {outcome.message}")
        print(f"  witness key  {signer.verifier()}")
        if outcome.evidence:
            print(f"  evidence     {outcome.evidence}")
        if "cosignature" in outcome.details:
            print(f"  cosignature  {outcome.details['cosignature']}", end="")
    return outcome.exit_code


def add_witness_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from api.cli.witness_serve import add_serve_options

    w = sub.add_parser(
        "witness",
        help="cosign the latest checkpoint if it extends the last one; `witness serve`: a tlog-witness",
    )
    w.add_argument("url", metavar="URL|serve", help="the ledger server's base URL, or `serve`")
    w.add_argument("--operator-key", help="the operator's verifier key (or file); for serve, as --log")
    w.add_argument("--key", metavar="FILE", help="the witness's key file")
    w.add_argument("--name", help="create the key file with this witness name if it is missing")
    w.add_argument(
        "--state",
        metavar="FILE",
        help="one run: the last cosigned checkpoint (default: the key file with .checkpoint); "
        "serve: its SQLite state (default: the key file with .witness.db)",
    )
    w.add_argument(
        "--tiles", action="store_true", help="URL is a tile-served log's prefix or folder (C2SP tlog-tiles)"
    )
    w.add_argument(
        "--submit", metavar="URL", help="with --tiles: the ledger service to post the cosignature to"
    )
    w.add_argument("--json", action="store_true")
    add_serve_options(w)
    w.set_defaults(fn=cmd_witness)
