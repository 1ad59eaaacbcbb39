"""C2SP tlog-tiles (``ledger.tiles``): the path encoding against the spec's and the Go
implementation's vectors, the tile set of a tree of every awkward size checked against the
spec's formula, and the checker that catches a changed tile, bundle or checkpoint."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint
from ledger.errors import MalformedError
from ledger.merkle import CompactRange, leaf_hash, root_from_leaf_hashes
from ledger.tile_checker import TileChecker
from ledger.tiles import (
    ENTRIES,
    MAX_ENTRY,
    TILE_WIDTH,
    Tile,
    decode_bundle,
    decode_hash_tile,
    encode_bundle,
    encode_index,
    parse_tile_path,
    partial_from_full,
    tile_set,
    tiles_between,
    tiles_of,
    within,
)
from ledger.verify import AuditFailure

ORIGIN = "test.rural-ledger/tiles"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "000"),
        (5, "005"),
        (255, "255"),
        (999, "999"),
        (1000, "x001/000"),
        (1234, "x001/234"),
        (1234067, "x001/x234/067"),
        (1_000_000, "x001/x000/000"),
        (999_999_999_999_999_999, "x999/x999/x999/x999/x999/999"),
    ],
)
def test_index_is_written_in_x_prefixed_groups(n: int, text: str) -> None:
    assert encode_index(n) == text


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 1234067), "tile/0/x001/x234/067"),
        (Tile(0, 0), "tile/0/000"),
        (Tile(3, 999, 7), "tile/3/999.p/7"),
        (Tile(1, 1000), "tile/1/x001/000"),
        (Tile(0, 1234067, 89), "tile/0/x001/x234/067.p/89"),
        (Tile(2, 0, 1), "tile/2/000.p/1"),
        (Tile(ENTRIES, 273, 112), "tile/entries/273.p/112"),
        (Tile(ENTRIES, 5, 12), "tile/entries/005.p/12"),
        (Tile(ENTRIES, 1_000_000), "tile/entries/x001/x000/000"),
    ],
)
def test_paths_round_trip(tile: Tile, path: str) -> None:
    assert tile.path() == path
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/x1/..",
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x001",  # an x on the last group
        "tile/0/001/234",  # a missing x
        "tile/0/x000/001",  # a leading zero group
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/0/000.p/-1",
        "tile/0/000/",
        "tile/data/000",
        "tile/entries/000.p/",
        "/tile/0/000",
        "tile/0/" + "x999/" * 30 + "999",  # huge N
        "tile/7/x001/000",  # no tree of fewer than 2**64 leaves has it
        "tile/0/000\x00",
        "",
    ],
)
def test_paths_not_written_as_the_spec_writes_them_are_refused(path: str) -> None:
    with pytest.raises(MalformedError):
        parse_tile_path(path)


def test_the_spec_example_of_a_tree_of_70000() -> None:
    hash_tiles = [t for t in tiles_of(70_000) if not t.is_bundle]
    assert sum(t.level == 0 and t.full for t in hash_tiles) == 273
    partials = {t.level: t.width for t in hash_tiles if not t.full}
    assert partials == {0: 112, 1: 17, 2: 1}
    assert [t for t in hash_tiles if t.level == 1 and t.full] == [Tile(1, 0)]
    bundles = [t for t in tiles_of(70_000) if t.is_bundle]
    assert len(bundles) == 274 and bundles[-1] == Tile(ENTRIES, 273, 112)


def test_a_tree_of_256_is_a_full_tile_and_a_level_1_tile_of_width_1() -> None:
    assert tiles_of(256) == [Tile(ENTRIES, 0), Tile(0, 0), Tile(1, 0, 1)]
    assert tiles_of(0) == []


@given(st.integers(0, 300_000), st.integers(0, 300_000))
def test_tiles_between_is_what_the_new_tree_adds(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    added = set(tiles_between(old, new))
    assert added <= set(tiles_of(new))
    assert set(tiles_of(new)) - added <= set(tiles_of(old))
    assert all(within(t, new) for t in added)


def test_bundles_round_trip_and_refuse_what_the_format_cannot_hold() -> None:
    entries = [b"", b"a", b"x" * MAX_ENTRY]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:4] == b"\x00\x01"
    assert decode_bundle(data, 3) == entries
    with pytest.raises(MalformedError, match="record 7 is 65,536 bytes"):
        encode_bundle([b"", b"x" * (MAX_ENTRY + 1)], first_seq=6)
    for bad, width in [(data + b"\x00", 3), (data[:-1], 3), (data, 2), (data, 4), (b"\x00", 1)]:
        with pytest.raises(MalformedError):
            decode_bundle(bad, width)
    with pytest.raises(MalformedError):
        decode_hash_tile(b"\x00" * 33, 1)


def records(n: int) -> list[bytes]:
    return [b'{"entry":{"n":%d},"seq":%d}' % (i, i) for i in range(n)]


def checkpoint_of(entries: list[bytes]) -> Checkpoint:
    return Checkpoint(ORIGIN, len(entries), root_from_leaf_hashes([leaf_hash(e) for e in entries]))


def check(tiles: dict[Tile, bytes], cp: Checkpoint, expect: Checkpoint | None = None) -> list[bytes]:
    """Run the checker as a reader does: bundles in order, each hash tile once ready."""
    by_path = {t.path(): d for t, d in tiles.items()}
    checker = TileChecker(cp, expect)
    out: list[bytes] = []
    for bundle in checker.bundles():
        out += checker.bundle(bundle, by_path[bundle.path()])
        for ready in checker.ready():
            checker.hash_tile(ready, by_path[ready.path()])
    checker.finish()
    return out


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 600, 65_536, 65_537])
def test_a_tile_set_verifies_and_matches_the_spec_formula(n: int) -> None:
    entries = records(n)
    tiles = tile_set(entries)
    assert set(tiles) == set(tiles_of(n))
    assert check(tiles, checkpoint_of(entries)) == entries
    leaves = [leaf_hash(e) for e in entries]
    # MTH(D[(n*256+i) * 256**l : (n*256+i+1) * 256**l]) for the last tile of each level.
    for tile in (t for t in tiles if not t.is_bundle):
        if tile.index != max(t.index for t in tiles if t.level == tile.level):
            continue
        span = TILE_WIDTH**tile.level
        i = tile.width - 1
        start = (tile.index * TILE_WIDTH + i) * span
        assert decode_hash_tile(tiles[tile], tile.width)[i] == root_from_leaf_hashes(
            leaves[start : start + span]
        )


def test_a_changed_level_0_tile_is_caught() -> None:
    entries = records(600)
    tiles = tile_set(entries)
    tile = Tile(0, 1)
    tiles[tile] = tiles[tile][:32] + bytes(32) + tiles[tile][64:]
    with pytest.raises(AuditFailure) as e:
        check(tiles, checkpoint_of(entries))
    assert e.value.code == "tile.mismatch" and e.value.seq == 257


def test_a_changed_bundle_entry_is_caught() -> None:
    entries = records(600)
    tiles = tile_set(entries)
    changed = [*entries]
    changed[520] = changed[520].replace(b'"n":520', b'"n":521')
    tiles[Tile(ENTRIES, 2, 88)] = tile_set(changed)[Tile(ENTRIES, 2, 88)]
    with pytest.raises(AuditFailure) as e:
        check(tiles, checkpoint_of(entries))
    assert (e.value.code, e.value.seq) == ("tile.mismatch", 520)


def test_a_bundle_and_its_tile_changed_together_are_caught_by_the_root() -> None:
    entries = records(600)
    changed = [*entries]
    changed[3] = b'{"entry":{"n":"forged"}}'
    forged = tile_set(changed)
    with pytest.raises(AuditFailure) as e:
        check(forged, checkpoint_of(entries))
    assert e.value.code == "checkpoint.root_mismatch"
    # With more than 65,536 records, the level-1 tile catches it first.
    many = records(65_600)
    forged_many = tile_set(many)
    honest_many = tile_set(many)
    changed_many = [*many]
    changed_many[3] = b"{}"
    redone = tile_set(changed_many[:256])
    forged_many[Tile(ENTRIES, 0)] = redone[Tile(ENTRIES, 0)]
    forged_many[Tile(0, 0)] = redone[Tile(0, 0)]
    assert forged_many != honest_many
    with pytest.raises(AuditFailure) as e:
        check(forged_many, checkpoint_of(many))
    assert (e.value.code, e.value.seq) == ("tile.mismatch", 0)
    assert "tile/1/000" in e.value.reason


def test_a_cut_or_padded_tile_or_bundle_is_caught() -> None:
    entries = records(300)
    for tile in (Tile(0, 0), Tile(ENTRIES, 1, 44)):
        tiles = tile_set(entries)
        tiles[tile] += b"\x00"
        with pytest.raises(AuditFailure) as e:
            check(tiles, checkpoint_of(entries))
        assert e.value.code in ("tile.malformed", "bundle.malformed")


def test_consistency_with_a_checkpoint_checked_earlier() -> None:
    entries = records(700)
    tiles = tile_set(entries)
    earlier = checkpoint_of(entries[:300])
    check(tiles, checkpoint_of(entries), expect=earlier)
    rewritten = Checkpoint(ORIGIN, 300, CompactRange().root())
    with pytest.raises(AuditFailure) as e:
        check(tiles, checkpoint_of(entries), expect=rewritten)
    assert e.value.code == "log.split_view"
    with pytest.raises(AuditFailure) as e:
        check(tile_set(entries[:200]), checkpoint_of(entries[:200]), expect=earlier)
    assert e.value.code == "log.split_view"


def test_a_checkpoint_with_another_root_is_caught() -> None:
    entries = records(10)
    with pytest.raises(AuditFailure) as e:
        check(tile_set(entries), checkpoint_of(records(11)[1:]))
    assert e.value.code == "checkpoint.root_mismatch"
    with pytest.raises(AuditFailure) as e:
        check(tile_set(entries), Checkpoint(ORIGIN, 10, bytes(32)))
    assert e.value.code == "checkpoint.root_mismatch"


def test_a_partial_tile_is_the_start_of_its_full_tile() -> None:
    entries = records(800)
    later, earlier = tile_set(entries), tile_set(entries[:600])
    for partial in (Tile(ENTRIES, 2, 88), Tile(0, 2, 88)):
        full = later[Tile(partial.level, 2)]
        assert partial_from_full(partial, full) == earlier[partial]
    with pytest.raises(MalformedError):
        partial_from_full(Tile(0, 2, 88), earlier[Tile(0, 2, 88)])
