"""Checking a whole tile set (``ledger.tiles``) against a signed checkpoint, as a reader
fetches it: the leaf hashes recomputed from the entry bundles, every hash tile compared with
the subtrees those leaves make, the root with the checkpoint's, and, given a checkpoint
checked earlier, that the tree passes through it. Failures are ``AuditFailure``s naming the
tile and the first record concerned."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.checkpoint import Checkpoint
from ledger.errors import MalformedError
from ledger.merkle import CompactRange, leaf_hash
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, Tile, decode_bundle, decode_hash_tile, tiles_of, within
from ledger.verify import AuditFailure


@dataclass
class TileChecker:
    """Checks one tile set against ``checkpoint``, fed in log order.

    Feed every bundle of the tree in index order (``bundle``), and each hash tile once
    ``ready`` names it (``hash_tile``); then ``finish``. The leaf hashes are recomputed from
    the bundles' entries, every hash tile is compared with the subtrees those leaves make,
    and the root with the checkpoint's. With ``expect`` (a checkpoint checked earlier, as
    a mirror keeps), the tree must pass through it: consistency, proven by recomputation.
    Memory: at most 256 hashes per level, and the compact range.
    """

    checkpoint: Checkpoint
    expect: Checkpoint | None = None
    tree: CompactRange = field(default_factory=CompactRange)
    _expected: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)
    _ready: list[Tile] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.expect is not None and self.expect.size > self.checkpoint.size:
            raise AuditFailure(
                "log.split_view",
                f"the log's checkpoint has size {self.checkpoint.size}, smaller than the "
                f"{self.expect.size} checked earlier: it has been truncated",
                seq=self.checkpoint.size,
            )

    def bundles(self) -> list[Tile]:
        """The bundles of the tree, in the order they must be fed."""
        return [t for t in tiles_of(self.checkpoint.size) if t.is_bundle]

    def bundle(self, tile: Tile, data: bytes) -> list[bytes]:
        """Check one bundle's form and take its entries' leaves; returns the entries."""
        if not tile.is_bundle or tile.first_seq != self.tree.size or not within(tile, self.checkpoint.size):
            raise MalformedError(f"bundle {tile} out of order: the checker is at record {self.tree.size}")
        try:
            entries = decode_bundle(data, tile.width)
        except MalformedError as e:
            raise AuditFailure("bundle.malformed", f"{tile}: {e}", seq=tile.first_seq) from e
        for entry in entries:
            self.tree.append(leaf_hash(entry), self._on_node)
            if self.expect is not None and self.tree.size == self.expect.size:
                self._check_expected()
        if self.tree.size == self.checkpoint.size:
            for (level, index), hashes in sorted(self._expected.items()):
                if len(hashes) < TILE_WIDTH:  # the tree's partial tiles
                    self._ready.append(Tile(level, index, len(hashes)))
        return entries

    def ready(self) -> list[Tile]:
        """The hash tiles whose hashes the bundles fed so far determine, to check now."""
        out, self._ready = self._ready, []
        return out

    def hash_tile(self, tile: Tile, data: bytes) -> None:
        expected = self._expected.pop((tile.level, tile.index), None)
        if expected is None or len(expected) != tile.width:
            raise MalformedError(f"tile {tile} is not one the checker expects now")
        try:
            hashes = decode_hash_tile(data, tile.width)
        except MalformedError as e:
            raise AuditFailure("tile.malformed", f"{tile}: {e}", seq=tile.first_seq) from e
        for i, (theirs, mine) in enumerate(zip(hashes, expected, strict=True)):
            if theirs != mine:
                first = (tile.index * TILE_WIDTH + i) << tile.tree_level
                last = first + (1 << tile.tree_level) - 1
                raise AuditFailure(
                    "tile.mismatch",
                    f"{tile} hash {i} (records {first}-{last}) is {theirs.hex()}, the "
                    f"entry bundles give {mine.hex()}",
                    seq=first,
                )

    def finish(self) -> None:
        """Every bundle and tile was fed: the root must be the checkpoint's."""
        cp = self.checkpoint
        if self.tree.size != cp.size or self._ready or self._expected:
            raise MalformedError(f"the tile set was not fed whole ({self.tree.size} of {cp.size} records)")
        if self.tree.root() != cp.root_hash:
            raise AuditFailure(
                "checkpoint.root_mismatch",
                f"the operator signed root {cp.root_hash.hex()} for size {cp.size}, the entry "
                f"bundles give {self.tree.root().hex()}",
                seq=0,
            )

    def _on_node(self, level: int, index: int, h: bytes) -> None:
        if level % TILE_HEIGHT:
            return
        key = (level // TILE_HEIGHT, index >> TILE_HEIGHT)
        hashes = self._expected.setdefault(key, [])
        hashes.append(h)
        if len(hashes) == TILE_WIDTH:
            self._ready.append(Tile(*key))

    def _check_expected(self) -> None:
        assert self.expect is not None
        root = self.tree.root()
        if root != self.expect.root_hash:
            raise AuditFailure(
                "log.split_view",
                f"the checkpoint checked earlier has root {self.expect.root_hash.hex()} at size "
                f"{self.expect.size}, these tiles give {root.hex()}: the log has been rewritten since",
                seq=self.expect.size - 1,
            )
