"""Consistency proofs read from a tile-served log (``api.cli.witness_tiles``) are the proofs the
RFC defines: checked against in-memory trees across tile and level boundaries."""

from __future__ import annotations

import pytest

from api.cli.witness_tiles import tile_consistency_proof
from ledger.errors import MalformedError
from ledger.merkle import leaf_hash, root_from_leaf_hashes
from ledger.proofs import verify_consistency
from ledger.tiles import Tile, tile_set


class DictTiles:
    """A tile set held in memory, as a ``TileSource``."""

    def __init__(self, tiles: dict[Tile, bytes]) -> None:
        self.files = {t.path(): data for t, data in tiles.items()}
        self.name = "memory"

    async def get(self, path: str) -> bytes | None:
        return self.files.get(path)


ENTRIES = [b"record %d" % i for i in range(70_000)]
LEAVES = [leaf_hash(e) for e in ENTRIES]


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, 2), (3, 7), (6, 8), (17, 255), (255, 256), (256, 257), (200, 513), (1000, 65_536), (65_535, 70_000)],
)
async def test_a_proof_from_tiles_verifies(a: int, b: int) -> None:
    source = DictTiles(tile_set(ENTRIES[:b]))
    proof = await tile_consistency_proof(source, a, b)
    verify_consistency(a, b, proof, root_from_leaf_hashes(LEAVES[:a]), root_from_leaf_hashes(LEAVES[:b]))


async def test_a_missing_tile_is_said() -> None:
    source = DictTiles({})
    with pytest.raises(MalformedError, match=r"memory has no tile/0/000\.p/9"):
        await tile_consistency_proof(source, 3, 9)
