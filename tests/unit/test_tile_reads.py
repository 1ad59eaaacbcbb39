"""Reading a tile-served log (``api.audit.tiles``): the checkpoint bound to the operator key's
name, and every read bounded by what the tile kind can hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.audit.tiles import FolderTiles, open_tile_checkpoint
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
