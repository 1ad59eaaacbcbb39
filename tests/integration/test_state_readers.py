"""One contract for both state backends: the SQL reader the live appender uses (projection
tables in a real PostgreSQL database made by the migrations) and the in-memory reader the
offline verifier uses must answer every read the same way, alone and under ``StagedState``.

Every case below is a plain function of a ``Backend`` holding the same committed rows; the one
test at the end runs each case against each backend, so no backend can skip a case. Answers are
compared with what the rows say, worked out here in Python, not with the other backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import pytest
import pytest_asyncio
from sqlalchemy import Connection, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from api.service.database import asyncpg_url, make_engine
from api.service.migrate import migrate
from api.service.projections import PREFETCH_CHUNK, SqlReader, table_of, write_rows
from contracts.households import Household
from contracts.membership import Membership
from contracts.shares import ShareHolding
from contracts.state import Delete, Key, MemoryReader, Put, StagedState, StateReader, key_of, make
from ledger.store import LedgerMeta, write_meta

Staged = dict[type[SQLModel], dict[Key, SQLModel | None]]


def household(id: str, collective_id: str, seq: int, status: str = "active") -> Household:
    return make(
        Household,
        id=id,
        collective_id=collective_id,
        head_party=f"head-of-{id}",
        status=status,
        house_given_up=False,
        registered_seq=seq,
    )


def membership(party_id: str, collective_id: str, household_id: str | None, status: str) -> Membership:
    return make(
        Membership,
        party_id=party_id,
        collective_id=collective_id,
        household_id=household_id,
        status=status,
        basis="birth",
        notice_end=date(2026, 3, 31) if status == "in_notice" else date(2026, 1, 31),
        admitted_seq=10,
        status_seq=11,
        ended_reason="moved_away" if status == "ended" else None,
        rights_retained_until=None,
    )


def holding(
    collective_id: str, holder: str, household_id: str | None, units: int, pledged: int = 0
) -> ShareHolding:
    return make(
        ShareHolding,
        collective_id=collective_id,
        holder=holder,
        household_id=household_id,
        units=units,
        pledged_units=pledged,
        income_only=holder == "p-9",
    )


# Written in reverse key order, so that a backend answering in storage order is not in key order
# by chance. Edge values: NULL and "" household ids, a holder in two collectives, "c-10" sorting
# before "c-2", zero units, a NULL date.
ROWS: list[SQLModel] = [
    *reversed(
        [
            household("h-1", "c-1", 1),
            household("h-2", "c-2", 2),
            household("h-3", "c-1", 3, "dissolved"),
            household("h-4", "c-2", 4),
            household("h-5", "c-1", 5),
        ]
    ),
    *reversed(
        [
            membership("p-1", "c-1", "h-1", "active"),
            membership("p-2", "c-1", "h-1", "in_notice"),
            membership("p-3", "c-1", None, "active"),
            membership("p-4", "c-2", "", "ended"),
            membership("p-5", "c-2", "h-2", "active"),
            membership("p-6", "c-1", None, "ended"),
        ]
    ),
    *reversed(
        [
            holding("c-1", "collective", None, 100),
            holding("c-1", "p-1", "h-1", 10),
            holding("c-1", "p-2", "h-1", 5, pledged=5),
            holding("c-10", "p-1", "h-9", 3),
            holding("c-2", "p-1", None, 7),
            holding("c-2", "p-5", "", 0),
            holding("c-2", "p-9", None, 2),
        ]
    ),
]


# Enough households that prefetching them takes more than one chunk of the SQL reader, two per
# collective; keys and collectives between them are absent.
BIG = PREFETCH_CHUNK + 501
BIG_ROWS: list[SQLModel] = [household(f"h-{i:05d}", f"big-{i // 4:05d}", i) for i in range(0, 2 * BIG, 2)]


class Backend(Protocol):
    def reader(self) -> StateReader:
        """A reader of the committed rows, with nothing cached yet."""

    def commit(self, changes: Staged) -> None:
        """Make drained changes the committed rows, as the appender or the verifier does."""


def expected(rows: Iterable[SQLModel], model: type[SQLModel], **where: Any) -> list[dict[str, Any]]:
    """The rows of ``model`` whose columns equal ``where``, in primary-key order."""
    found = [r for r in rows if type(r) is model and all(getattr(r, c) == v for c, v in where.items())]
    return dumps(sorted(found, key=key_of))


def dumps(rows: Iterable[SQLModel | None]) -> list[dict[str, Any]]:
    return [r.model_dump() if r is not None else {} for r in rows]


def unordered(rows: Iterable[SQLModel]) -> list[dict[str, Any]]:
    """``load_where`` promises no order; compare its answers in key order."""
    return dumps(sorted(rows, key=key_of))


@dataclass(frozen=True)
class Case:
    check: Callable[[Backend], None]
    rows: list[SQLModel]


CASES: list[Case] = []


def case(rows: list[SQLModel] = ROWS) -> Callable[[Callable[[Backend], None]], Callable[[Backend], None]]:
    def register(check: Callable[[Backend], None]) -> Callable[[Backend], None]:
        CASES.append(Case(check, rows))
        return check

    return register


# load


@case()
def load_finds_a_row_by_its_key(b: Backend) -> None:
    reader = b.reader()
    for row in ROWS:
        loaded = reader.load(type(row), key_of(row))
        assert loaded is not None and loaded.model_dump() == row.model_dump()


@case()
def load_answers_none_for_an_absent_key(b: Backend) -> None:
    reader = b.reader()
    assert reader.load(Household, ("h-0",)) is None
    assert reader.load(Household, ("",)) is None
    assert reader.load(Membership, ("h-1",)) is None  # a key of another table
    assert reader.load(ShareHolding, ("c-1", "p-5")) is None  # p-5 holds in c-2 only
    assert reader.load(ShareHolding, ("p-1", "c-1")) is None  # the key's parts swapped
    assert reader.load(ShareHolding, ("c-1", "")) is None
    # Asked twice (the SQL reader caches absent keys too): still absent.
    assert reader.load(Household, ("h-0",)) is None


@case()
def load_tells_composite_keys_apart(b: Backend) -> None:
    reader = b.reader()
    units = {
        collective: getattr(reader.load(ShareHolding, (collective, "p-1")), "units", None)
        for collective in ("c-1", "c-2", "c-10", "c-3")
    }
    assert units == {"c-1": 10, "c-2": 7, "c-10": 3, "c-3": None}


# load_where


@case()
def load_where_on_one_column(b: Backend) -> None:
    reader = b.reader()
    for model, where in [
        (Household, {"collective_id": "c-1"}),
        (Household, {"collective_id": "c-2"}),
        (Household, {"status": "dissolved"}),
        (Membership, {"status": "active"}),
        (Membership, {"household_id": "h-1"}),
        (ShareHolding, {"holder": "p-1"}),
        (ShareHolding, {"collective_id": "c-1"}),  # the first column of the composite key
        (ShareHolding, {"income_only": True}),
    ]:
        assert unordered(reader.load_where(model, where)) == expected(ROWS, model, **where), (model, where)


@case()
def load_where_on_several_columns(b: Backend) -> None:
    reader = b.reader()
    for model, where in [
        (Membership, {"collective_id": "c-1", "status": "active"}),
        (Membership, {"status": "active", "collective_id": "c-1"}),  # the same, written the other way
        (Membership, {"collective_id": "c-2", "household_id": "h-2", "status": "active"}),
        (Household, {"collective_id": "c-1", "status": "active"}),
        (ShareHolding, {"collective_id": "c-1", "holder": "p-2"}),  # the whole key
        (ShareHolding, {"collective_id": "c-1", "household_id": "h-1"}),
    ]:
        assert unordered(reader.load_where(model, where)) == expected(ROWS, model, **where), (model, where)


@case()
def load_where_matching_nothing_is_empty(b: Backend) -> None:
    reader = b.reader()
    assert reader.load_where(Household, {"collective_id": "c-9"}) == []
    assert reader.load_where(Household, {"collective_id": "c-1", "status": "gone"}) == []
    assert reader.load_where(Membership, {"collective_id": "c-2", "status": "in_notice"}) == []
    assert reader.load_where(ShareHolding, {"collective_id": "c-1", "holder": "p-5"}) == []


@case()
def load_where_on_null_empty_zero_and_false(b: Backend) -> None:
    reader = b.reader()
    for model, where in [
        (Membership, {"household_id": None}),  # NULL matches NULL (IS NULL), not ""
        (Membership, {"household_id": ""}),  # "" matches "" only
        (Membership, {"ended_reason": None}),
        (Membership, {"rights_retained_until": None}),
        (Membership, {"collective_id": "c-1", "household_id": None}),
        (ShareHolding, {"household_id": None}),
        (ShareHolding, {"household_id": ""}),
        (ShareHolding, {"collective_id": "c-2", "household_id": None}),
        (ShareHolding, {"units": 0}),
        (ShareHolding, {"pledged_units": 0}),
        (ShareHolding, {"income_only": False}),
        (Membership, {"notice_end": date(2026, 3, 31)}),
    ]:
        want = expected(ROWS, model, **where)
        assert want, (model, where)  # each edge value is held by some row
        assert unordered(reader.load_where(model, where)) == want, (model, where)
    assert reader.load_where(Household, {"collective_id": ""}) == []
    assert reader.load_where(Membership, {"household_id": " "}) == []
    assert reader.load_where(ShareHolding, {"units": -1}) == []


# StagedState.find: primary-key order whatever the backend


@case()
def find_answers_in_primary_key_order(b: Backend) -> None:
    state = StagedState(b.reader())
    for model, where in [
        (Household, {"collective_id": "c-1"}),
        (Membership, {"household_id": None}),
        (Membership, {"collective_id": "c-1"}),
        (ShareHolding, {"holder": "p-1"}),  # c-1 < c-10 < c-2, as tuples of strings sort
        (ShareHolding, {"household_id": None}),
    ]:
        found = state.find(model, **where)
        assert [key_of(r) for r in found] == sorted(key_of(r) for r in found)
        assert dumps(found) == expected(ROWS, model, **where), (model, where)


@case()
def find_merges_staged_rows_in_primary_key_order(b: Backend) -> None:
    state = StagedState(b.reader())
    state.stage([Put(household("h-0", "c-1", 90)), Put(household("h-4a", "c-1", 91))])
    state.stage([Put(holding("c-1", "p-0", None, 1)), Put(holding("c-0", "p-1", None, 1))])
    assert [h.id for h in state.find(Household, collective_id="c-1")] == ["h-0", "h-1", "h-3", "h-4a", "h-5"]
    assert [key_of(h) for h in state.find(ShareHolding, holder="p-1")] == [
        ("c-0", "p-1"),
        ("c-1", "p-1"),
        ("c-10", "p-1"),
        ("c-2", "p-1"),
    ]
    assert [key_of(h) for h in state.find(ShareHolding, household_id=None)] == [
        ("c-0", "p-1"),
        ("c-1", "collective"),
        ("c-1", "p-0"),
        ("c-2", "p-1"),
        ("c-2", "p-9"),
    ]


# Prefetch hints change no answer


KEYS: dict[type[SQLModel], list[Key]] = {
    Household: [("h-1",), ("h-0",), ("h-4",), ("h-1",), ("",)],
    Membership: [("p-3",), ("p-7",), ("p-4",)],
    ShareHolding: [("c-1", "p-1"), ("c-2", "p-1"), ("p-1", "c-1"), ("c-3", "p-1"), ("c-2", "p-5")],
}
FINDS: list[tuple[type[SQLModel], str, list[Any]]] = [
    (Household, "collective_id", ["c-1", "c-9", "c-1", ""]),
    (Membership, "household_id", ["h-1", None, "", "h-8"]),
    (Membership, "status", ["ended", "active", "suspended"]),
    (ShareHolding, "household_id", [None, "h-1", ""]),
    (ShareHolding, "holder", ["p-1", "collective", "p-404"]),
]


def answers(reader: StateReader) -> list[Any]:
    """Every load and every find the hints above are about, and a few they are not."""
    out: list[Any] = [dumps([reader.load(m, k)]) for m, keys in KEYS.items() for k in keys]
    for model, column, values in FINDS:
        out += [unordered(reader.load_where(model, {column: v})) for v in values]
    out.append(unordered(reader.load_where(Membership, {"collective_id": "c-1", "household_id": None})))
    out.append(unordered(reader.load_where(ShareHolding, {"collective_id": "c-2", "holder": "p-1"})))
    out.append(dumps([reader.load(Household, ("h-5",))]))
    return out


def hint(reader: StateReader) -> None:
    for model, keys in KEYS.items():
        reader.load_many(model, keys)
    for model, column, values in FINDS:
        reader.find_many(model, column, values)


@case()
def hints_change_no_answer(b: Backend) -> None:
    plain = answers(b.reader())
    hinted = b.reader()
    hint(hinted)
    assert answers(hinted) == plain
    # Hints given after the reads, and given twice, change nothing either.
    late = b.reader()
    first = answers(late)
    hint(late)
    hint(late)
    assert answers(late) == first == plain
    # The answers are the rows' own.
    assert plain[0] == expected(ROWS, Household, id="h-1")
    assert plain[1] == [{}]


@case()
def hints_change_no_answer_under_staged_changes(b: Backend) -> None:
    def reads(state: StagedState) -> list[Any]:
        return [
            dumps(state.find(Household, collective_id="c-1")),
            dumps(state.find(Membership, household_id=None)),
            dumps(state.find(ShareHolding, household_id="h-1")),
            dumps([state.get(Household, "h-3"), state.get(ShareHolding, "c-1", "p-2")]),
        ]

    def staged(reader: StateReader, hinted: bool) -> StagedState:
        state = StagedState(reader)
        state.stage(
            [
                Delete(household("h-3", "c-1", 3, "dissolved")),
                Put(membership("p-1", "c-1", None, "settled_in_town")),
                Put(holding("c-1", "p-2", None, 5)),
            ]
        )
        if hinted:  # the hints arrive after staging, as prefetches of a later record might
            hint(reader)
        return state

    assert reads(staged(b.reader(), hinted=True)) == reads(staged(b.reader(), hinted=False))


@case(rows=BIG_ROWS)
def hints_larger_than_a_prefetch_chunk_change_no_answer(b: Backend) -> None:
    present = {key_of(r): r.model_dump() for r in BIG_ROWS}
    # Present and absent keys interleaved, more than two chunks' worth.
    keys = [(f"h-{i:05d}",) for i in range(2 * BIG)]
    collectives = [f"big-{j:05d}" for j in range(BIG + 10)]
    hinted = b.reader()
    hinted.load_many(Household, keys)
    hinted.find_many(Household, "collective_id", collectives)
    for k in keys:
        assert dumps([hinted.load(Household, k)]) == [present.get(k, {})], k
    members: dict[str, list[SQLModel]] = {}
    for row in BIG_ROWS:
        members.setdefault(row.collective_id, []).append(row)  # type: ignore[attr-defined]
    for c in collectives:
        want = unordered(members.get(c, []))
        assert unordered(hinted.load_where(Household, {"collective_id": c})) == want, c
    assert sum(bool(members.get(c)) for c in collectives) == BIG // 2 + 1  # and as many absent
    # A sample across the chunk boundaries, read without hints.
    plain = b.reader()
    for i in (0, 1, PREFETCH_CHUNK - 1, PREFETCH_CHUNK, PREFETCH_CHUNK + 1, 2 * PREFETCH_CHUNK, 2 * BIG - 1):
        k = (f"h-{i:05d}",)
        assert dumps([plain.load(Household, k)]) == dumps([hinted.load(Household, k)]), k
    for j in (0, PREFETCH_CHUNK // 2, BIG // 2, BIG + 9):
        where = {"collective_id": f"big-{j:05d}"}
        assert unordered(plain.load_where(Household, where)) == unordered(hinted.load_where(Household, where))


# StagedState over each backend


@case()
def staged_put_of_a_new_row_is_seen_by_get_and_find(b: Backend) -> None:
    for find_first in (True, False):  # the staged index built before the change, or after
        state = StagedState(b.reader())
        if find_first:
            assert [h.id for h in state.find(Household, collective_id="c-2")] == ["h-2", "h-4"]
        new = household("h-6", "c-2", 6)
        state.stage([Put(new)])
        assert state.get(Household, "h-6") is new
        assert [h.id for h in state.find(Household, collective_id="c-2")] == ["h-2", "h-4", "h-6"]
        assert [h.id for h in state.find(Household, collective_id="c-2", status="active")] == [
            "h-2",
            "h-4",
            "h-6",
        ]
        assert [h.id for h in state.find(Household, collective_id="c-1", status="active")] == ["h-1", "h-5"]
        assert state.find(Household, collective_id="c-6") == []
        assert state.get(Household, "h-7") is None


@case()
def staged_replacing_put_moves_a_row_between_index_values(b: Backend) -> None:
    for find_first in (True, False):  # the staged index built before the change, or after
        state = StagedState(b.reader())
        if find_first:
            assert [h.id for h in state.find(Household, collective_id="c-2")] == ["h-2", "h-4"]
            assert len(state.find(Membership, household_id=None)) == 2
        moved = household("h-1", "c-2", 1)
        state.stage([Put(moved)])
        assert state.get(Household, "h-1") is moved
        assert [h.id for h in state.find(Household, collective_id="c-1")] == ["h-3", "h-5"]
        assert [h.id for h in state.find(Household, collective_id="c-2")] == ["h-1", "h-2", "h-4"]
        # Moved again: out of c-2, into c-3; the first move leaves nothing behind.
        again = household("h-1", "c-3", 1)
        state.stage([Put(again)])
        assert [h.id for h in state.find(Household, collective_id="c-2")] == ["h-2", "h-4"]
        assert state.find(Household, collective_id="c-3") == [again]
        # A column set to NULL and back, on a composite-key row.
        state.stage([Put(membership("p-1", "c-1", None, "active"))])
        assert [m.party_id for m in state.find(Membership, household_id=None)] == ["p-1", "p-3", "p-6"]
        assert [m.party_id for m in state.find(Membership, household_id="h-1")] == ["p-2"]
        state.stage([Put(holding("c-1", "p-1", None, 10)), Put(holding("c-2", "p-1", "h-1", 7))])
        assert [key_of(h) for h in state.find(ShareHolding, household_id="h-1")] == [
            ("c-1", "p-2"),
            ("c-2", "p-1"),
        ]
        assert [key_of(h) for h in state.find(ShareHolding, household_id=None)] == [
            ("c-1", "collective"),
            ("c-1", "p-1"),
            ("c-2", "p-9"),
        ]


@case()
def staged_delete_hides_a_row_from_get_and_find(b: Backend) -> None:
    state = StagedState(b.reader())
    h3 = state.get(Household, "h-3")
    assert h3 is not None
    state.stage([Delete(h3)])
    assert state.get(Household, "h-3") is None
    assert [h.id for h in state.find(Household, collective_id="c-1")] == ["h-1", "h-5"]
    assert state.find(Household, status="dissolved") == []
    p2 = state.get(ShareHolding, "c-1", "p-2")
    assert p2 is not None
    state.stage([Delete(p2)])
    assert state.get(ShareHolding, "c-1", "p-2") is None
    assert [key_of(h) for h in state.find(ShareHolding, household_id="h-1")] == [("c-1", "p-1")]
    # Put back after the delete, then a staged new row deleted again.
    state.stage([Put(h3), Put(household("h-7", "c-1", 7)), Delete(household("h-7", "c-1", 7))])
    assert state.get(Household, "h-7") is None
    assert [h.id for h in state.find(Household, collective_id="c-1")] == ["h-1", "h-3", "h-5"]


@case()
def drain_hands_over_the_changes_and_reads_fall_back_to_committed_rows(b: Backend) -> None:
    reader = b.reader()
    state = StagedState(reader)
    committed = [
        dumps(state.find(Household, collective_id="c-1")),
        dumps(state.find(Membership, status="active")),
    ]
    changes = [
        Put(household("h-1", "c-2", 1)),
        Put(household("h-6", "c-1", 6)),
        Delete(household("h-3", "c-1", 3, "dissolved")),
        Put(membership("p-3", "c-1", "h-5", "settled_in_town")),
        Put(holding("c-1", "p-1", None, 12, pledged=2)),
        Delete(holding("c-2", "p-5", "", 0)),
    ]
    state.stage(changes)

    def reads(s: StagedState) -> list[Any]:
        return [
            dumps(s.find(Household, collective_id="c-1")),
            dumps(s.find(Household, collective_id="c-2")),
            dumps(s.find(Membership, status="active")),
            dumps(s.find(Membership, household_id="h-5")),
            dumps(s.find(ShareHolding, household_id=None)),
            dumps(s.find(ShareHolding, collective_id="c-2")),
            dumps(
                [
                    s.get(Household, "h-3"),
                    s.get(ShareHolding, "c-2", "p-5"),
                    s.get(ShareHolding, "c-1", "p-1"),
                ]
            ),
        ]

    overlaid = reads(state)
    drained = state.drain()
    assert drained == {
        Household: {("h-1",): changes[0].row, ("h-6",): changes[1].row, ("h-3",): None},
        Membership: {("p-3",): changes[3].row},
        ShareHolding: {("c-1", "p-1"): changes[4].row, ("c-2", "p-5"): None},
    }
    assert state.drain() == {}
    # Nothing staged any more: the committed rows again, though the staged indexes were built.
    assert [
        dumps(state.find(Household, collective_id="c-1")),
        dumps(state.find(Membership, status="active")),
    ] == (committed)
    assert state.get(Household, "h-6") is None
    assert state.get(Household, "h-3") is not None
    # Committed, the drained changes read as they did staged.
    b.commit(drained)
    assert reads(StagedState(b.reader())) == overlaid


# The backends


class MemoryBackend:
    def __init__(self, rows: list[SQLModel]) -> None:
        self.memory = MemoryReader()
        self.memory.apply(_by_model(rows))

    def reader(self) -> StateReader:
        return self.memory

    def commit(self, changes: Staged) -> None:
        self.memory.apply(changes)


class SqlBackend:
    """Projection tables read and written through one connection, inside a transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def reader(self) -> StateReader:
        return SqlReader(self.conn, {})

    def commit(self, changes: Staged) -> None:
        for model, rows in changes.items():
            write_rows(self.conn, model, rows)


def _by_model(rows: list[SQLModel]) -> Staged:
    tables: Staged = {}
    for row in rows:
        tables.setdefault(type(row), {})[key_of(row)] = row
    return tables


def _insert(conn: Connection, rows: list[SQLModel]) -> None:
    """The rows, inserted in the order given with plain INSERTs (not the appender's writer)."""
    for model, table_rows in _by_model(rows).items():
        conn.execute(insert(table_of(model)), [r.model_dump() for r in table_rows.values() if r is not None])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def projection_engine(database_factory: Any) -> AsyncIterator[AsyncEngine]:
    """A fresh database with every migration applied, read and written as the service role."""
    url = asyncpg_url(await database_factory())
    owner = make_engine(url, service_role=False, pool_size=1)
    try:
        await migrate(owner)
        async with owner.begin() as conn:  # the ledger whose rows these are
            await conn.run_sync(write_meta, LedgerMeta("readers.test/ledger", "readers"), datetime.now(UTC))
    finally:
        await owner.dispose()
    engine = make_engine(url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["memory", "sql"])
def engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    """The backend a case runs on: the SQL one's engine, or ``None`` for the in-memory one (which
    then needs no database)."""
    if request.param == "memory":
        return None
    return request.getfixturevalue("projection_engine")  # type: ignore[no-any-return]


async def run(engine: AsyncEngine | None, contract: Case) -> None:
    if engine is None:
        contract.check(MemoryBackend(contract.rows))
        return

    def check(conn: Connection) -> None:
        _insert(conn, contract.rows)
        contract.check(SqlBackend(conn))

    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.run_sync(check)
        finally:
            await transaction.rollback()  # the next case starts from the same rows


@pytest.mark.parametrize("contract", CASES, ids=[c.check.__name__ for c in CASES])
async def test_state_reader_contract(engine: AsyncEngine | None, contract: Case) -> None:
    await run(engine, contract)
