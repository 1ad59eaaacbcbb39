"""Reading a tile-served log (``api.audit.tiles``): the checkpoint bound to the operator key's
name, and every read bounded by what the tile kind can hold."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import httpx
import pytest

from api.audit.tiles import FolderTiles, HttpTiles, open_tile_checkpoint, read_limit
from api.cli.mirror import mirror_once
from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.merkle import EMPTY_ROOT
from ledger.verify import AuditFailure

OPERATOR = NoteSigner.from_string(generate_signer("county.example/ledger")[0])


def _folder(tmp_path: Path, note: str) -> FolderTiles:
    (tmp_path / "checkpoint").write_text(note)
    return FolderTiles(tmp_path)


def test_the_checkpoint_of_the_operator_s_own_log_opens(tmp_path: Path) -> None:
    note = sign_checkpoint(Checkpoint(OPERATOR.name, 0, EMPTY_ROOT), OPERATOR)
    checkpoint, served = asyncio.run(open_tile_checkpoint(_folder(tmp_path, note), OPERATOR.verifier()))
    assert checkpoint.origin == OPERATOR.name and served == note


def test_a_checkpoint_the_key_signed_for_another_origin_is_refused(tmp_path: Path) -> None:
    note = sign_checkpoint(Checkpoint("other.example/ledger", 0, EMPTY_ROOT), OPERATOR)
    with pytest.raises(AuditFailure, match=r"origin is 'other\.example/ledger'"):
        asyncio.run(open_tile_checkpoint(_folder(tmp_path, note), OPERATOR.verifier()))


def _served(files: dict[str, tuple[bytes, dict[str, str]]]) -> HttpTiles:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/tiles/")
        if path not in files:
            return httpx.Response(404)
        body, headers = files[path]
        return httpx.Response(200, content=body, headers=headers)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return HttpTiles(client, "http://mirror.test/tiles")


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("checkpoint", 1 << 20),
        ("tile/0/000", 256 * 32),
        ("tile/1/x001/005.p/7", 7 * 32),
        ("tile/entries/000", 256 * (2 + 65535)),
        ("tile/entries/003.p/3", 3 * (2 + 65535)),
    ],
)
def test_each_kind_is_read_up_to_what_it_can_hold(path: str, limit: int) -> None:
    assert read_limit(path) == limit
    exact = _served({path: (b"a" * limit, {})})
    assert asyncio.run(exact.get(path)) == b"a" * limit
    over = _served({path: (b"a" * (limit + 1), {})})
    with pytest.raises(AuditFailure, match=f"more than the {limit:,} bytes"):
        asyncio.run(over.get(path))


def test_a_gzip_bomb_is_stopped_by_what_it_unpacks_to() -> None:
    bomb = gzip.compress(bytes(64 << 20))  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < read_limit("tile/entries/000")
    source = _served({"tile/0/000": (bomb, {"Content-Encoding": "gzip"}), "checkpoint": (bomb, {})})
    with pytest.raises(AuditFailure, match="more than the 8,192 bytes"):
        asyncio.run(source.get("tile/0/000"))
    small = _served({"tile/0/000.p/2": (gzip.compress(bytes(64)), {"Content-Encoding": "gzip"})})
    assert asyncio.run(small.get("tile/0/000.p/2")) == bytes(64)


def test_a_mirror_refuses_an_oversized_checkpoint_as_tampered(tmp_path: Path) -> None:
    note = sign_checkpoint(Checkpoint(OPERATOR.name, 0, EMPTY_ROOT), OPERATOR)
    padded = note.encode() + b"\n" * (2 << 20)
    outcome = asyncio.run(
        mirror_once(_served({"checkpoint": (padded, {})}), tmp_path / "m", OPERATOR.verifier())
    )
    assert outcome.status == "tampered" and "checkpoint.too_large" in outcome.problem
    assert not (tmp_path / "m").exists()


def test_a_file_in_a_tile_folder_is_read_up_to_its_limit(tmp_path: Path) -> None:
    (tmp_path / "tile" / "0").mkdir(parents=True)
    (tmp_path / "tile" / "0" / "001").write_bytes(bytes(256 * 32 + 1))
    with pytest.raises(AuditFailure, match="more than the 8,192 bytes"):
        asyncio.run(FolderTiles(tmp_path).get("tile/0/001"))
