"""Two county ledgers in one database: appended at once by concurrent clients, each keeps its
own seqs, tree and checkpoints and verifies on its own; the database itself (row-level
security, keys led by ``ledger_id``) keeps a connection opened for one ledger to that ledger's
rows; and one ledger's writer lock never holds up the other's appends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.auditor import AuditOutcome
from api.cli.main import parser
from api.cli.verify import run_verify
from api.reads.history import ByColumn, ByKey, row_as_of, rows_as_of, touching_seqs
from api.service.database import asyncpg_url, make_engine
from contracts.orgs import Org, OrgKey
from contracts.rulebook import PROJECTION_MODELS
from ledger.ddl import SERVICE_ROLE
from ledger.signing import b64
from ledger.store import lock_writer
from tests.integration.audit_support import populate
from tests.integration.many_ledgers_support import (
    WITHOUT_POLICY,
    InFlight,
    checkpoints_are_prefixes,
    fresh_key,
    keyed_tables,
    latest_checkpoint,
    ledger_key_problems,
    ledger_numbers,
    mixed_entries,
    pages,
    record_origin,
    rows_by_ledger,
    send_concurrently,
    submit_all,
    two_ledgers,
)
from tests.support import LedgerFixture

Ledgers = tuple[LedgerFixture, LedgerFixture]
CLIENTS = 4  # per ledger, all eight at once
TOWNS, KEYS, PER_REQUEST = 24, 120, 6
AS_OF_ALL = 2**62  # a seq past every record
RLS_REFUSAL = "new row violates row-level security policy"


@pytest.fixture(scope="module")
async def ledgers(database_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ledgers]:
    """Two ledgers in one database, filled with the same registry (the same org ids, persons
    and codes; keys of their own), and one township each that the other lacks. Ledger B's
    extra township comes first, so the shared rows sit at other seqs in the two ledgers."""
    url = await database_factory()
    homes = [Path(tmp_path_factory.mktemp("home-a")), Path(tmp_path_factory.mktemp("home-b"))]
    async with two_ledgers(url, homes) as (a, b):

        async def fill_b() -> None:
            await b.register("county", "only-b", "township")
            await populate(b)

        await asyncio.gather(populate(a), fill_b())
        await a.register("county", "only-a", "township")
        yield a, b


@pytest.fixture
async def owner(ledgers: Ledgers) -> AsyncIterator[asyncpg.Connection]:
    """The database's owner: not subject to row-level security, it sees every ledger's rows."""
    conn = await asyncpg.connect(ledgers[0].url)
    try:
        yield conn
    finally:
        await conn.close()


async def verify_live(fx: LedgerFixture, operator_key: str) -> AuditOutcome:
    """``rural-ledger verify`` against ``fx``'s own app, trusting ``operator_key``."""
    args = parser().parse_args(
        ["verify", str(fx.client.http.base_url), "--operator-key", operator_key, "--workers", "0", "--quiet"]
    )
    return await run_verify(args, http=fx.client.http)


async def test_two_ledgers_appended_at_once_stay_independent_and_each_verifies(
    ledgers: Ledgers, owner: asyncpg.Connection
) -> None:
    a, b = ledgers
    before = [await fx.size() for fx in ledgers]
    # The same seed: the same entry ids and org ids in both ledgers, signed by each's county.
    items = [mixed_entries(fx, TOWNS, KEYS, seed=16) for fx in ledgers]
    assert [i["entry"]["id"] for i in items[0]] == [i["entry"]["id"] for i in items[1]]

    in_flight = InFlight()
    answered = await asyncio.gather(
        *(
            send_concurrently(fx, batch, CLIENTS, PER_REQUEST, in_flight)
            for fx, batch in zip(ledgers, items, strict=True)
        )
    )
    requests = 2 * len(items[0]) // PER_REQUEST
    assert in_flight.both_at_once > requests // 2, "the two ledgers' appends did not overlap"
    sizes = [await fx.size() for fx in ledgers]
    numbers = await ledger_numbers(owner)
    assert set(numbers) == {a.origin, b.origin}
    for fx, start, size, receipts, batch in zip(ledgers, before, sizes, answered, items, strict=True):
        # Each ledger numbered its own entries on from its own size, none lost or doubled.
        assert size == start + len(batch)
        assert sorted(r["seq"] for r in receipts) == list(range(start, size))
        records = await pages(fx.client.http, "/v1/entries", -1)
        assert [r["seq"] for r in records] == list(range(size)), "seqs are not gapless from 0"
        assert {r["entry"]["ledger"] for r in records} == {fx.origin}
        checkpoint = await latest_checkpoint(fx)
        assert checkpoint.size == size
        assert await checkpoints_are_prefixes(fx) > len(batch) // (CLIENTS * PER_REQUEST)

        outcome = await verify_live(fx, fx.genesis.operator_key)
        assert outcome.status == "intact", outcome.as_json()
        assert (outcome.origin, outcome.size, outcome.checkpoint_size) == (fx.origin, size, size)
        assert outcome.records_checked == size
        assert outcome.checkpoint_note.strip() == (await fx.client.http.get("/v1/checkpoint")).text.strip()

    # Neither ledger verifies under the other's operator key: each checkpoint is its own.
    assert (await verify_live(a, b.genesis.operator_key)).status != "intact"
    assert (await verify_live(b, a.genesis.operator_key)).status != "intact"
    roots = [(await latest_checkpoint(fx)).root_hash for fx in ledgers]
    assert roots[0] != roots[1]

    # The owner's view: the two logs are all the records, each record of its own ledger.
    ids = [numbers[fx.origin] for fx in ledgers]
    assert await rows_by_ledger(owner, "records") == dict(zip(ids, sizes, strict=True))
    for fx, number, size in zip(ledgers, ids, sizes, strict=True):
        bodies = await owner.fetch("SELECT body FROM records WHERE ledger_id = $1", number)
        assert {record_origin(r["body"]) for r in bodies} == {fx.origin}
        assert await owner.fetchval("SELECT max(size) FROM checkpoints WHERE ledger_id = $1", number) == size
    shared_ids = await owner.fetchval(
        "SELECT count(*) FROM records x JOIN records y USING (entry_id)"
        " WHERE x.ledger_id = $1 AND y.ledger_id = $2",
        *ids,
    )
    assert shared_ids == len(items[0])  # the same entry ids, each ledger holding its own

    # Resubmitting everything, to both at once, answers the same seqs and adds nothing.
    again = await asyncio.gather(*(submit_all(fx, batch) for fx, batch in zip(ledgers, items, strict=True)))
    for receipts, seqs in zip(answered, again, strict=True):
        assert seqs == [r["seq"] for r in receipts]
    assert [await fx.size() for fx in ledgers] == sizes
    assert await rows_by_ledger(owner, "records") == dict(zip(ids, sizes, strict=True))

    # An entry signed for one ledger is refused by the other, which stays as it was.
    r = await b.client.http.post("/v1/entries", json=items[0][0])
    assert r.status_code == 422 and r.json()["code"] == "entry.wrong_ledger", r.text
    assert await b.size() == sizes[1]


async def test_database_keeps_a_connection_to_its_own_ledger(
    ledgers: Ledgers, owner: asyncpg.Connection
) -> None:
    a, b = ledgers
    numbers = await ledger_numbers(owner)
    mine, theirs = numbers[a.origin], numbers[b.origin]
    tables = [t for t in await keyed_tables(owner) if t not in WITHOUT_POLICY]
    counts = {t: await rows_by_ledger(owner, t) for t in tables}
    engine = make_engine(asyncpg_url(a.url), ledger=a.origin, pool_size=1)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT current_user")) == SERVICE_ROLE
            # Every table shows A's rows and only them, however B's are asked for.
            for table in tables:
                visible = await conn.scalar(text(f'SELECT count(*) FROM "{table}"'))
                assert visible == counts[table].get(mine, 0), table
                asked = text(f'SELECT count(*) FROM "{table}" WHERE ledger_id = :b')
                assert await conn.scalar(asked, {"b": theirs}) == 0, table
            both = {t for t in tables if counts[t].get(mine) and counts[t].get(theirs)}
            assert {"records", "merkle_nodes", "checkpoints", "orgs", "org_keys", "memberships"} <= both
            assert len(both) >= 10, sorted(both)

            # No row for B may be written: a copy of one of A's rows, relabelled B, is refused.
            for table in sorted(both):
                await refused_by_policy(conn, table, relabel_copy(table), {"b": theirs})
            # Nor may one of A's rows be moved to B.
            await refused_by_policy(
                conn, "orgs", "UPDATE orgs SET ledger_id = :b WHERE id = 'only-a'", {"b": theirs}
            )

            # B's projection rows cannot be changed or removed: none is there to touch.
            projections = sorted(both & {m.__tablename__ for m in PROJECTION_MODELS})
            assert len(projections) >= 5, projections
            for table in projections:
                for sql in (
                    f'UPDATE "{table}" SET ledger_id = ledger_id WHERE ledger_id = :b',
                    f'DELETE FROM "{table}" WHERE ledger_id = :b',
                ):
                    assert (await conn.execute(text(sql), {"b": theirs})).rowcount == 0, sql
            # B's own township, named by its key alone, is not there either.
            assert (await conn.execute(text("UPDATE orgs SET name = 'x' WHERE id = 'only-b'"))).rowcount == 0
            assert (await conn.execute(text("DELETE FROM org_keys WHERE org_id = 'only-b'"))).rowcount == 0
            await conn.rollback()
    finally:
        await engine.dispose()
    assert {t: await rows_by_ledger(owner, t) for t in tables} == counts  # nothing changed


def relabel_copy(table: str) -> str:
    """An INSERT of one of the connection's visible rows of ``table`` with ``ledger_id`` :b."""
    return (
        f'INSERT INTO "{table}" SELECT (jsonb_populate_record(NULL::"{table}", to_jsonb(t)'
        f" || jsonb_build_object('ledger_id', CAST(:b AS integer)))).* FROM \"{table}\" t LIMIT 1"
    )


async def refused_by_policy(conn: AsyncConnection, table: str, sql: str, params: dict[str, Any]) -> None:
    """``sql`` fails on ``table``'s row-level security policy (42501), and is rolled back."""
    with pytest.raises(DBAPIError) as refused:
        await conn.execute(text(sql), params)
    await conn.rollback()
    assert getattr(refused.value.orig, "sqlstate", None) == "42501", refused.value
    assert f'{RLS_REFUSAL} for table "{table}"' in str(refused.value.orig)


async def test_history_reads_keep_to_the_connections_ledger(
    ledgers: Ledgers, owner: asyncpg.Connection
) -> None:
    """``projection_history`` has no policy (migration 0015): its readers filter by ledger."""
    numbers = await ledger_numbers(owner)
    a, b = ledgers
    for fx, other, only, not_mine in ((a, b, "only-a", "only-b"), (b, a, "only-b", "only-a")):
        mine, theirs = numbers[fx.origin], numbers[other.origin]
        # B's history holds what A's reads must not show (so this can fail).
        assert await owner.fetchval(
            "SELECT count(*) FROM projection_history"
            " WHERE ledger_id = $1 AND model = 'orgs' AND key = $2::jsonb",
            theirs,
            f'["{not_mine}"]',
        )
        registered = {
            r["id"]: r["registered_seq"]
            for r in await owner.fetch("SELECT id, registered_seq FROM orgs WHERE ledger_id = $1", mine)
        }
        theirs_village = await owner.fetchval(
            "SELECT registered_seq FROM orgs WHERE ledger_id = $1 AND id = 'village-a'", theirs
        )
        assert theirs_village != registered["village-a"]
        engine = make_engine(asyncpg_url(fx.url), ledger=fx.origin, pool_size=1)
        try:
            async with engine.connect() as conn:
                orgs = await rows_as_of(conn, Org, AS_OF_ALL)
                assert {v.row.id: v.row.registered_seq for v in orgs} == registered
                assert only in registered and not_mine not in registered
                assert await row_as_of(conn, Org, (not_mine,), AS_OF_ALL) is None
                village = await row_as_of(conn, Org, ("village-a",), AS_OF_ALL)
                assert village is not None and village.seq == registered["village-a"]
                keys = await rows_as_of(conn, OrgKey, AS_OF_ALL, where={"org_id": "village-a"})
                assert [v.row.public_key for v in keys] == [b64(fx.keys["village-a"].key.public_key)]
                assert (
                    await touching_seqs(conn, [ByKey(Org, (not_mine,))], after=-1, before=AS_OF_ALL, limit=9)
                    == []
                )
                touched = await touching_seqs(
                    conn, [ByColumn(OrgKey, "org_id", "village-a")], after=-1, before=AS_OF_ALL, limit=9
                )
                assert touched == [registered["village-a"]]
        finally:
            await engine.dispose()


async def test_no_history_row_of_another_ledger_can_be_written(
    ledgers: Ledgers, owner: asyncpg.Connection
) -> None:
    """``projection_history`` has no policy, but its statement trigger refuses rows of another
    ledger in any INSERT, however many rows of the connection's own come with them."""
    numbers = await ledger_numbers(owner)
    a, b = ledgers
    before = await rows_by_ledger(owner, "projection_history")
    engine = make_engine(asyncpg_url(a.url), ledger=a.origin, pool_size=1)
    try:
        async with engine.connect() as conn:
            for labels in ([numbers[b.origin]], [numbers[a.origin], numbers[b.origin]]):
                with pytest.raises(DBAPIError) as refused:
                    await conn.execute(
                        text(
                            "INSERT INTO projection_history (ledger_id, seq, model, key, row, deleted) "
                            "SELECT l, 0, 'orgs', '[\"x\"]', '{}', false FROM unnest(CAST(:l AS integer[])) l"
                        ),
                        {"l": labels},
                    )
                await conn.rollback()
                assert getattr(refused.value.orig, "sqlstate", None) == "42501", refused.value
                assert "rows of another ledger are refused" in str(refused.value.orig)
    finally:
        await engine.dispose()
    assert await rows_by_ledger(owner, "projection_history") == before


async def test_writer_lock_is_per_ledger(ledgers: Ledgers, owner: asyncpg.Connection) -> None:
    a, b = ledgers
    sizes = [await fx.size() for fx in ledgers]
    key_for = {
        fx.origin: fx.sign(fx.keys["county"], "key.added", {"org": "county", "public_key": fresh_key()})
        for fx in ledgers
    }
    engine = make_engine(asyncpg_url(a.url), ledger=a.origin, pool_size=1)
    try:
        async with engine.connect() as holder:
            await holder.run_sync(lock_writer)  # A's writer lock, held until the rollback below
            holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
            append_a = asyncio.create_task(a.client.submit(key_for[a.origin]))
            # B appends while A's lock is held and A's own append waits for it.
            receipt_b = await asyncio.wait_for(b.client.submit(key_for[b.origin]), timeout=60)
            assert receipt_b["seq"] == sizes[1]
            done, _ = await asyncio.wait({append_a}, timeout=2.0)
            assert not done, "A appended while another transaction held A's writer lock"
            waiting = await owner.fetch(
                "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder_pid
            )
            assert len(waiting) == 1, waiting  # A's appender, on A's ledger_meta row
            await holder.rollback()
        receipt_a = await asyncio.wait_for(append_a, timeout=60)
    finally:
        await engine.dispose()
    assert receipt_a["seq"] == sizes[0]
    assert [await fx.size() for fx in ledgers] == [sizes[0] + 1, sizes[1] + 1]


async def test_every_table_is_keyed_by_ledger(owner: asyncpg.Connection) -> None:
    """A migration that adds a table, key or index without ``ledger_id`` in front, or a table
    without row-level security, fails here."""
    assert await ledger_key_problems(owner) == []


async def test_schema_guard_names_what_a_forgetful_migration_left_out(owner: asyncpg.Connection) -> None:
    scratch = owner.transaction()
    await scratch.start()
    try:
        await owner.execute(
            "CREATE TABLE forgetful (id text PRIMARY KEY, org text UNIQUE);"
            "CREATE INDEX forgetful_org ON forgetful (org, id);"
            "CREATE TABLE half_keyed (ledger_id integer NOT NULL"
            " DEFAULT current_setting('rural_ledger.ledger')::integer, id text,"
            " PRIMARY KEY (ledger_id, id), FOREIGN KEY (id) REFERENCES forgetful (id));"
            "ALTER TABLE half_keyed ENABLE ROW LEVEL SECURITY"
        )
        problems = {str(p) for p in await ledger_key_problems(owner)}
    finally:
        await scratch.rollback()  # the tables were never there
    assert problems == {
        "forgetful: primary key forgetful_pkey is not led by ledger_id",
        "forgetful: unique constraint forgetful_org_key is not led by ledger_id",
        "forgetful: btree index forgetful_pkey is not led by ledger_id",
        "forgetful: btree index forgetful_org_key is not led by ledger_id",
        "forgetful: btree index forgetful_org is not led by ledger_id",
        "forgetful: ledger_id missing, nullable or not the connection's ledger",
        "forgetful: row-level security is not enabled",
        "forgetful: no policy keeps it to the connection's ledger",
        "half_keyed: foreign key half_keyed_id_fkey is not led by ledger_id",
        "half_keyed: foreign key half_keyed_id_fkey refers to a key not led by ledger_id",
        "half_keyed: no policy keeps it to the connection's ledger",
    }
