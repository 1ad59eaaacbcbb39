"""The auditor's replayed state on disk (``api.audit.disk_state``): the same rows, equality
lookups, rule versions and state digest as the replay in memory, for logs of every kind of
entry; memory that stays the same whatever the number of rows; entry ids with the seq that
first used them."""

from __future__ import annotations

import gc
import sqlite3
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from api.audit.disk_state import DiskState, SqliteEntryIds
from contracts.audit import AuditReplay, MemoryState, ReplayedState
from contracts.orgs import Org, OrgKey
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import MemoryReader, key_of, make, primary_key_columns
from ledger.entry import parse_submission
from ledger.verify import AuditFailure, EntryIds, EntryIdSet, VerifiedRecord
from tests.unit.contracts.harness import ORIGIN
from tests.unit.contracts.situations import prepared

# Situations whose logs, together, write rows of most projection tables, and update and
# delete some of them.
KINDS = (
    "shares.certificate_issued",
    "quota.used",
    "voucher.cashed_out",
    "exchange.certificate_issued",
    "dividend.declared",
    "household.split",
    "land.contracts_exchanged",
    "homestead.transferred",
    "household.member_removed",
)


def verified(records: Iterable[dict[str, Any]]) -> list[VerifiedRecord]:
    return [
        VerifiedRecord(
            r["seq"], r["recorded_at"], parse_submission({"entry": r["entry"], "sig": r["sig"]}, ORIGIN)
        )
        for r in records
    ]


def rows(state: ReplayedState, model: type[SQLModel]) -> list[dict[str, Any]]:
    return sorted((r.model_dump() for r in state.rows_of(model)), key=repr)


def replay_in_chunks(replay: AuditReplay, records: list[VerifiedRecord], size: int) -> None:
    for start in range(0, len(records), size):
        replay.apply_all(records[start : start + size], {})


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[DiskState]:
    # A cache and a flush far smaller than the log: rows go to disk and come back from it.
    with DiskState(tmp_path, cache_rows=7, flush_rows=5) as state:
        yield state


@pytest.mark.parametrize("kind", KINDS)
def test_a_replay_on_disk_rebuilds_the_replay_in_memory(kind: str, disk: DiskState) -> None:
    s = prepared(kind)
    s.example()
    records = verified(s.h.records)
    in_memory = AuditReplay(MemoryState())
    for record in records:
        in_memory.apply(record)
    on_disk = AuditReplay(disk)
    replay_in_chunks(on_disk, records, 3)
    assert on_disk.size == in_memory.size == len(records)
    assert on_disk.versions_used() == in_memory.versions_used()
    filled = 0
    for model in PROJECTION_MODELS:
        assert rows(disk, model) == rows(in_memory.memory, model), model.__name__
        filled += bool(rows(disk, model))
    assert filled > 3
    assert on_disk.digest() == in_memory.digest()


def test_the_logs_write_most_tables_and_change_rows() -> None:
    """What the test above covers: rows of most tables, rows replaced and rows deleted."""
    tables: set[type] = set()
    replaced = deleted = 0
    for kind in KINDS:
        s = prepared(kind)
        s.example()
        replay = AuditReplay(MemoryState())
        for record in verified(s.h.records):
            state = replay.memory
            assert isinstance(state, MemoryState)
            before = {(m, k): r for m, t in state.tables.items() for k, r in t.items()}
            replay.apply(record)
            after = {(m, k): r for m, t in state.tables.items() for k, r in t.items()}
            deleted += len(before.keys() - after.keys())
            replaced += sum(1 for k, r in after.items() if k in before and before[k] is not r)
            tables |= {m for m, _ in after}
    assert len(tables) >= len(PROJECTION_MODELS) // 2
    assert replaced > 10 and deleted > 0


def test_a_record_refused_on_disk_leaves_the_records_before_it_applied(disk: DiskState) -> None:
    s = prepared("voucher.issued")
    records = verified(s.h.records)
    bad = VerifiedRecord(len(records), records[-1].recorded_at, records[-1].signed)  # a replayed entry
    replay = AuditReplay(disk)
    with pytest.raises(AuditFailure) as caught:
        replay.apply_all([*records, bad], {})
    assert caught.value.seq == len(records)
    assert replay.size == len(records)
    expected = AuditReplay(MemoryState())
    for record in records:
        expected.apply(record)
    assert replay.digest() == expected.digest()


def org(i: int, parent: str | None) -> Org:
    return make(Org, id=f"org-{i}", name=f"名称{i}", type="township", parent_id=parent, registered_seq=i)


def test_lookups_by_column_follow_rows_written_replaced_and_deleted(disk: DiskState) -> None:
    memory = MemoryReader()

    def both(changes: dict[Any, Any]) -> None:
        disk.apply({Org: changes})
        memory.apply({Org: changes})

    def same(**where: Any) -> None:
        found = sorted(key_of(r) for r in disk.load_where(Org, where))
        assert found == sorted(key_of(r) for r in memory.load_where(Org, where))

    rows = [org(i, "county" if i % 2 else "town") for i in range(20)]
    both({key_of(r): r for r in rows[:10]})
    same(parent_id="county")  # the index is made here, from the rows written so far
    both({key_of(r): r for r in rows[10:]})
    moved = rows[3].model_copy(update={"parent_id": "town"})
    both({key_of(moved): moved, key_of(rows[4]): None})
    for parent in ("county", "town", "nowhere"):
        same(parent_id=parent)
    same(parent_id="town", type="township")
    assert disk.load(Org, ("org-4",)) is None
    assert disk.load(Org, ("org-3",)) == moved


def keys(n: int, start: int = 0) -> dict[Any, Any]:
    made = [
        make(OrgKey, key_id=f"{i:016x}", org_id="county", public_key="k" * 44, added_seq=i)
        for i in range(start, start + n)
    ]
    return {key_of(r): r for r in made}


def python_bytes_after(state: ReplayedState, rows: int, first: int = 0, batch: int = 100) -> int:
    """Bytes Python holds after writing rows ``first ..`` (``rows`` of them) to ``state`` and
    reading some back."""
    for start in range(first, first + rows, batch):
        orgs = {(f"org-{i}",): org(i, "county") for i in range(start, start + batch // 2)}
        state.apply({OrgKey: keys(batch, start), Org: orgs})
        state.load(OrgKey, (f"{start:016x}",))
        state.load(Org, (f"org-{start}",))
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.parametrize("settle", [2_000])
def test_memory_on_disk_does_not_grow_with_the_rows(tmp_path: Path, settle: int) -> None:
    tracemalloc.start()
    try:
        with DiskState(tmp_path, cache_rows=200, flush_rows=100) as disk:
            first = python_bytes_after(disk, settle)
            held = disk.memory_rows()
            again = python_bytes_after(disk, 3 * settle, settle)  # 4 times the rows in all
            assert disk.memory_rows() <= 2 * 200 + 100  # in both tables together
            assert disk.memory_rows() == held
            assert sum(1 for _ in disk.rows_of(OrgKey)) == 4 * settle
            assert sum(1 for _ in disk.rows_of(Org)) == 2 * settle
        memory = MemoryState()
        small = python_bytes_after(memory, settle)
        large = python_bytes_after(memory, 3 * settle, settle)
    finally:
        tracemalloc.stop()
    grown_in_memory = large - small
    assert grown_in_memory > 1_000 * settle  # the same rows in memory: hundreds of bytes each
    assert again - first < grown_in_memory / 50


@pytest.mark.parametrize(
    "make_ids",
    [
        lambda _: EntryIdSet(),
        lambda d: d.entry_ids,
        lambda _: SqliteEntryIds(sqlite3.connect(":memory:", isolation_level=None), pending=2),
    ],
    ids=["memory", "disk", "disk-written-every-two"],
)
def test_entry_ids_remember_the_first_record_that_used_them(make_ids: Any, disk: DiskState) -> None:
    ids: EntryIds = make_ids(disk)
    assert isinstance(ids, EntryIdSet | SqliteEntryIds)
    ids.update([5])  # restored: used before any record checked now
    assert ids.add_all([10, 11, 12], 0)
    assert not ids.seen_before(11, 1) and ids.seen_before(11, 2)
    assert not ids.add_all([13, 13], 3)  # repeated within
    assert not ids.seen_before(13, 3) and ids.seen_before(13, 4)
    assert not ids.add_all([14, 10], 5)  # used before
    assert ids.seen_before(10, 6) and not ids.seen_before(14, 5)
    assert ids.seen_before(5, 0)
    ids.add(20, 7)
    ids.add(20, 9)
    assert not ids.seen_before(20, 7) and ids.seen_before(20, 9)
    assert list(ids.ascending()) == [5, 10, 11, 12, 13, 14, 20]


def test_the_folder_goes_when_the_state_is_closed(tmp_path: Path) -> None:
    state = DiskState(tmp_path)
    state.apply({Org: {("x",): org(1, None)}})
    assert state.digest() is not None and any(state.folder.iterdir())
    state.close()
    assert not state.folder.exists()


def test_every_projection_model_has_a_primary_key() -> None:
    """The rows are stored by it."""
    assert all(primary_key_columns(m) for m in PROJECTION_MODELS)
