"""The log as static tiles (C2SP tlog-tiles): paths, tile and bundle encodings, and the
reference tile set of a sequence of entries (its checks against a checkpoint are
``ledger.tile_checker``).

A tile set is a folder (or a URL prefix) holding::

    checkpoint                      the signed checkpoint (C2SP signed note)
    tile/<L>/<N>[.p/<W>]            hash tiles: 256 hashes (8,192 bytes) when full, W when partial
    tile/entries/<N>[.p/<W>]        entry bundles: the entries of the level-0 tile of the same N

``<N>`` is written in groups of three digits, every group but the last prefixed with ``x``
(1234067 is ``x001/x234/067``). Hash tile ``N`` at level ``L`` holds the hashes of the complete
subtrees of tree level ``8·L`` with indices ``256·N .. 256·N + W - 1``: level 0 the leaf hashes,
level ``L > 0`` the roots of the full tiles of level ``L - 1``.

**What an entry is here.** Each entry of a bundle is one record's exact canonical bytes
(RFC 8785 JCS of ``{"entry", "recorded_at", "seq", "sig"}``), the bytes whose RFC 6962 leaf
hash ``SHA-256(0x00 || bytes)`` is the ledger's leaf: so a reader recomputes every leaf hash
from the bundles, and the tree from the leaves, without trusting the hash tiles. In a bundle
each entry is prefixed with its length as a big-endian uint16, so an entry holds at most
65,535 bytes (``MAX_ENTRY``); the spec has no form for a longer one (see
``api.service.tiles_store`` for what the publisher does with such a record).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ledger.errors import MalformedError
from ledger.merkle import HASH_SIZE, CompactRange, leaf_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # hashes in a full tile, entries in a full bundle
MAX_ENTRY = 0xFFFF  # an entry's length is a big-endian uint16
MAX_LEVEL = 63  # the spec's bound on <L>; a tree of fewer than 2**64 leaves has levels 0 to 7
ENTRIES = -1  # the "level" of an entry bundle
MAX_TREE = 2**64  # checkpoints carry sizes below 2**64 (ledger.checkpoint)

_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")
MAX_PATH = 128  # longer than any path of a tree of 2**64 leaves


@dataclass(frozen=True, order=True, slots=True)
class Tile:
    """A hash tile (``level >= 0``) or an entry bundle (``level == ENTRIES``) of ``width``
    hashes or entries (``TILE_WIDTH``: full)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_bundle(self) -> bool:
        return self.level == ENTRIES

    @property
    def tree_level(self) -> int:
        """The Merkle tree level whose hashes the tile holds (bundles: the leaves')."""
        return 0 if self.is_bundle else TILE_HEIGHT * self.level

    @property
    def first_seq(self) -> int:
        """The first record under the tile."""
        return (self.index * TILE_WIDTH) << self.tree_level

    def path(self) -> str:
        level = "entries" if self.is_bundle else str(self.level)
        partial = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{partial}"

    def __str__(self) -> str:
        return self.path()


def encode_index(n: int) -> str:
    """``<N>`` of a tile path: 3-digit groups, all but the last prefixed with ``x``."""
    if n < 0:
        raise MalformedError(f"a tile index is never negative, found {n}")
    text = f"{n % 1000:03d}"
    n //= 1000
    while n:
        text = f"x{n % 1000:03d}/{text}"
        n //= 1000
    return text


def max_index(level: int) -> int:
    """The highest tile index a tree of fewer than 2**64 leaves has at ``level``."""
    height = TILE_HEIGHT * (max(level, 0) + 1)
    return (MAX_TREE - 1) >> height


def parse_tile_path(path: str) -> Tile:
    """The tile a path names, exactly as ``Tile.path`` writes it (no leading zeros, no stray
    ``x``, a width of 1 to 255), or ``MalformedError``."""
    m = _PATH.fullmatch(path) if len(path) <= MAX_PATH else None
    if m is None:
        raise MalformedError(f"{path[:MAX_PATH]!r} is not a tile path tile/<L>/<N>[.p/<W>]")
    level = ENTRIES if m[1] == "entries" else int(m[1])
    if level > MAX_LEVEL:
        raise MalformedError(f"tile level {level} is above {MAX_LEVEL}")
    width = int(m[3]) if m[3] else TILE_WIDTH
    if m[3] and width >= TILE_WIDTH:
        raise MalformedError(f"a partial tile has a width of 1 to 255, found {width}")
    index = int(m[2].replace("x", "").replace("/", ""))
    tile = Tile(level, index, width)
    if tile.path() != path:
        raise MalformedError(f"{path!r} is not written as the spec writes tile {tile.path()!r}")
    if index > max_index(level):
        raise MalformedError(f"{path!r} is beyond any tree of fewer than 2**64 leaves")
    return tile


def level_widths(size: int) -> Iterator[tuple[int, int, int]]:
    """``(level, full tiles, partial width)`` for each hash tile level a tree of ``size`` has."""
    level = 0
    while level <= MAX_LEVEL and (count := size >> (TILE_HEIGHT * level)):
        yield level, count >> TILE_HEIGHT, count & (TILE_WIDTH - 1)
        level += 1


def tiles_between(old: int, new: int) -> list[Tile]:
    """What a tree of ``new`` leaves has and one of ``old`` does not have in the same form:
    the hash tiles and bundles completed since ``old``, and the partial ones of ``new``.
    With ``old == 0``, the whole tile set of ``new``, bundles first, then level by level."""
    if not 0 <= old <= new:
        raise MalformedError(f"need 0 <= old <= new, found {old}, {new}")
    before = {lv: (f, w) for lv, f, w in level_widths(old)}
    out: list[Tile] = []
    for level, full, width in level_widths(new):
        old_full, old_width = before.get(level, (0, 0))
        kinds = (ENTRIES, level) if level == 0 else (level,)
        for kind in kinds:
            out += [Tile(kind, n) for n in range(old_full, full)]
            if width and (full, width) != (old_full, old_width):
                out.append(Tile(kind, full, width))
    return sorted(out, key=lambda t: (t.level != ENTRIES, t.level, t.index))


def tiles_of(size: int) -> list[Tile]:
    """The whole tile set of a tree of ``size`` leaves (no tile for an empty tree)."""
    return tiles_between(0, size)


def partial_of(tile: Tile, size: int) -> bool:
    """Whether ``tile`` is a partial tile of the tree of ``size`` (not an older size's)."""
    count = size >> tile.tree_level
    return not tile.full and tile.index == count >> TILE_HEIGHT and tile.width == count % TILE_WIDTH


def within(tile: Tile, size: int) -> bool:
    """Whether a tree of ``size`` leaves holds everything ``tile`` holds: its hashes (or
    entries) all exist. A partial tile of an older, smaller size is within a larger tree."""
    if tile.level > MAX_LEVEL or tile.index > max_index(tile.level):
        return False
    return tile.index * TILE_WIDTH + tile.width <= size >> tile.tree_level


def encode_hash_tile(hashes: list[bytes]) -> bytes:
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedError("a hash tile holds 1 to 256 hashes of 32 bytes")
    return b"".join(hashes)


def decode_hash_tile(data: bytes, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise MalformedError(f"a tile of width {width} has {width * HASH_SIZE} bytes, found {len(data)}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: list[bytes], first_seq: int = 0) -> bytes:
    """An entry bundle; ``MalformedError`` for an entry longer than ``MAX_ENTRY`` bytes,
    naming its seq (``first_seq`` is the seq of the first entry)."""
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY:
            raise MalformedError(
                f"record {first_seq + i} is {len(entry):,} bytes: an entry bundle holds entries "
                f"of at most {MAX_ENTRY:,} bytes (C2SP tlog-tiles, uint16 lengths)"
            )
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes, width: int) -> list[bytes]:
    """Exactly ``width`` length-prefixed entries, nothing after them."""
    entries: list[bytes] = []
    at = 0
    while at < len(data) and len(entries) < width:
        if at + 2 > len(data):
            raise MalformedError(f"bundle entry {len(entries)} has a cut-off length")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise MalformedError(f"bundle entry {len(entries)} runs past the end of the bundle")
        entries.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    if len(entries) != width or at != len(data):
        raise MalformedError(
            f"a bundle of width {width} holds {len(entries)} entries and {len(data) - at} bytes more"
        )
    return entries


def partial_from_full(tile: Tile, full: bytes) -> bytes:
    """The bytes of partial ``tile`` cut from its full tile's (or full bundle's): what a
    reader does when the partial one is gone (the spec lets a log remove it once the full
    one exists). ``MalformedError`` when ``full`` is not a full tile."""
    if tile.is_bundle:
        entries = decode_bundle(full, TILE_WIDTH)[: tile.width]
        return b"".join(len(e).to_bytes(2, "big") + e for e in entries)
    return encode_hash_tile(decode_hash_tile(full, TILE_WIDTH)[: tile.width])


def tile_set(entries: Sequence[bytes]) -> dict[Tile, bytes]:
    """The whole tile set (hash tiles and bundles, no checkpoint) of a log of ``entries``,
    built in memory: the reference the stored tiles must equal, and what tests tamper with."""
    levels: dict[int, list[bytes]] = {}

    def keep(level: int, _index: int, h: bytes) -> None:
        if level % TILE_HEIGHT == 0:
            levels.setdefault(level // TILE_HEIGHT, []).append(h)

    tree = CompactRange()
    for entry in entries:
        tree.append(leaf_hash(entry), keep)
    out: dict[Tile, bytes] = {}
    for tile in tiles_of(len(entries)):
        first = tile.index * TILE_WIDTH
        if tile.is_bundle:
            out[tile] = encode_bundle(list(entries[first : first + tile.width]), first)
        else:
            out[tile] = encode_hash_tile(levels[tile.level][first : first + tile.width])
    return out
