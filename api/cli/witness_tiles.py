"""Witnessing a tile-served log (C2SP tlog-tiles): its checkpoint, and a consistency proof made
from its hash tiles, so that ``rural-ledger witness --tiles PREFIX`` needs no ledger API.

A proof is a list of complete subtrees (``ledger.proofs.consistency_nodes``); the hash of the
subtree at tree level ``l`` and index ``i`` is the Merkle root of the ``2**(l % 8)`` hashes of
the tile at level ``l // 8`` that it covers, which the tile of the newer tree holds (full, or
partial of the width that tree gives it).
"""

from __future__ import annotations

from api.audit.tiles import TileSource, fetch_tile
from ledger.errors import MalformedError
from ledger.merkle import HASH_SIZE, NodeID, root_from_leaf_hashes
from ledger.proofs import consistency_nodes
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, Tile, decode_hash_tile


async def node_from_tiles(
    source: TileSource, node: NodeID, size: int, cache: dict[Tile, list[bytes]]
) -> bytes:
    """The hash of the complete subtree ``node`` of the tree of ``size`` leaves, from its tiles."""
    tile_level, below = divmod(node.level, TILE_HEIGHT)
    first = node.index << below  # its first hash at the tile level's tree level
    count = size >> (tile_level * TILE_HEIGHT)
    index = first // TILE_WIDTH
    tile = Tile(tile_level, index, min(TILE_WIDTH, count - index * TILE_WIDTH))
    if tile not in cache:
        data = await fetch_tile(source, tile)
        if data is None:
            raise MalformedError(f"{source.name} has no {tile.path()}")
        cache[tile] = decode_hash_tile(data, tile.width)
    hashes = cache[tile][first % TILE_WIDTH : first % TILE_WIDTH + (1 << below)]
    if len(hashes) != 1 << below or any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedError(f"{tile.path()} does not hold subtree {node}")
    return root_from_leaf_hashes(hashes)


async def tile_consistency_proof(source: TileSource, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from ``size1`` to ``size2``, read from the tiles of ``size2``."""
    plan = consistency_nodes(size1, size2)
    cache: dict[Tile, list[bytes]] = {}
    return plan.rehash([await node_from_tiles(source, n, size2, cache) for n in plan.ids])
