"""The proofs, records and checkpoints read in one statement each (``api.service.tree_reads``):
every answer, refusals included, is the one the transactional reads of ``ledger.store`` and
``ledger.stored_proofs`` make, byte for byte; a proof asked in the latest tree is never older
than the request, when another process appended since this one last looked; and a connection
the server dropped under a read is not handed out again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from api.http.wire.records import ConsistencyProof, InclusionProof, record_of
from api.service import tree_reads
from api.service.database import asyncpg_url, make_engine
from ledger import store, stored_proofs
from ledger.checkpoint import open_checkpoint
from ledger.errors import database_unreachable
from ledger.proofs import verify_consistency, verify_inclusion
from ledger.signing import SigningKey, b64
from tests.support import LedgerFixture


async def grow(ledger: LedgerFixture, n: int) -> list[dict]:
    county = ledger.keys["county"]
    items = [
        ledger.sign(
            county, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
        )
        for _ in range(n)
    ]
    return await ledger.client.submit_many(items)


@pytest_asyncio.fixture(loop_scope="session")
async def engine(ledger: LedgerFixture) -> AsyncIterator[AsyncEngine]:
    """An engine of the ledger's own, as another worker process of the service would have."""
    e = make_engine(asyncpg_url(ledger.url), pool_size=1, ledger=ledger.origin)
    try:
        yield e
    finally:
        await e.dispose()


async def test_every_answer_is_the_transactional_reads_answer(
    ledger: LedgerFixture, engine: AsyncEngine
) -> None:
    for n in (3, 5, 8):  # a checkpoint a batch: sizes in between are asked for too
        await grow(ledger, n)
    latest = await ledger.size()
    async with engine.connect() as conn:
        for size in range(1, latest + 1):
            for seq in range(size):
                rows = await conn.run_sync(store.read_records, seq - 1, 1)
                path = await conn.run_sync(stored_proofs.inclusion_proof, seq, size)
                want = InclusionProof(seq, size, rows[0].leaf_hash.hex(), [h.hex() for h in path])
                r = await ledger.client.http.get("/v1/proofs/inclusion", params={"seq": seq, "size": size})
                assert r.status_code == 200 and r.content == msgspec.json.encode(want), (seq, size)
            for old in range(size + 1):
                path = await conn.run_sync(stored_proofs.consistency_proof, old, size)
                want_c = ConsistencyProof(old, size, [h.hex() for h in path])
                r = await ledger.client.http.get("/v1/proofs/consistency", params={"from": old, "to": size})
                assert r.status_code == 200 and r.content == msgspec.json.encode(want_c), (old, size)
            cp = await conn.run_sync(store.checkpoint_at, size)
            r = await ledger.client.http.get("/v1/checkpoint", params={"size": size})
            if cp is None:
                assert r.status_code == 404 and r.json()["code"] == "checkpoint.not_found"
            else:
                assert r.status_code == 200 and r.text == cp.note
        for seq in range(latest):
            [row] = await conn.run_sync(store.read_records, seq - 1, 1)
            r = await ledger.client.http.get(f"/v1/entries/{seq}")
            assert r.status_code == 200 and r.content == msgspec.json.encode(
                record_of(row.body, row.leaf_hash)
            )
        newest = await conn.run_sync(store.latest_checkpoint)
        await conn.rollback()
    assert newest is not None and newest.size == latest
    assert (await ledger.client.http.get("/v1/checkpoint")).text == newest.note
    by_default = await ledger.client.http.get("/v1/proofs/inclusion", params={"seq": 2})
    named = await ledger.client.http.get("/v1/proofs/inclusion", params={"seq": 2, "size": latest})
    assert by_default.content == named.content
    by_default = await ledger.client.http.get("/v1/proofs/consistency", params={"from": 2})
    named = await ledger.client.http.get("/v1/proofs/consistency", params={"from": 2, "to": latest})
    assert by_default.content == named.content


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        ("inclusion", {"seq": "L"}, "need seq < size <= L, found seq=L size=L"),
        ("inclusion", {"seq": "L+3"}, "need seq < size <= L, found seq=L+3 size=L"),
        ("inclusion", {"seq": "2", "size": "2"}, "need seq < size <= L, found seq=2 size=2"),
        ("inclusion", {"seq": "5", "size": "3"}, "need seq < size <= L, found seq=5 size=3"),
        ("inclusion", {"seq": "0", "size": "L+1"}, "need seq < size <= L, found seq=0 size=L+1"),
        ("consistency", {"from": "L+1"}, "need from <= to <= L, found from=L+1 to=L"),
        ("consistency", {"from": "4", "to": "3"}, "need from <= to <= L, found from=4 to=3"),
        ("consistency", {"from": "1", "to": "L+2"}, "need from <= to <= L, found from=1 to=L+2"),
        ("consistency", {"from": "L+1", "to": "L+2"}, "need from <= to <= L, found from=L+1 to=L+2"),
    ],
)
async def test_a_range_past_the_tree_is_refused_as_before(
    ledger: LedgerFixture, path: str, params: dict[str, str], detail: str
) -> None:
    latest = await ledger.size()

    def at(text: str) -> str:
        for extra in range(3, 0, -1):
            text = text.replace(f"L+{extra}", str(latest + extra))
        return text.replace("L", str(latest))

    r = await ledger.client.http.get(f"/v1/proofs/{path}", params={k: at(v) for k, v in params.items()})
    assert r.status_code == 400
    assert r.json()["code"] == "proof.out_of_range" and r.json()["detail"] == at(detail)


async def test_the_latest_tree_is_read_again_when_another_process_appended(
    ledger: LedgerFixture, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        before = await tree_reads.inclusion(conn, 1, None)
        assert before.size == before.latest == await ledger.size()
    # Another process of the same ledger (the app's own engine and appender) appends.
    await grow(ledger, 4)
    note = await ledger.client.get("/v1/checkpoint")
    checkpoint = open_checkpoint(note, ledger.verifier)
    assert checkpoint.size == before.size + 4
    async with engine.connect() as conn:
        after = await tree_reads.inclusion(conn, 1, None)
        grown = await tree_reads.consistency(conn, before.size, None)
    assert after.size == after.latest == checkpoint.size
    assert after.proof is not None and grown.proof is not None
    verify_inclusion(after.leaf, 1, after.size, after.proof, checkpoint.root_hash)
    assert grown.size == checkpoint.size
    first = await ledger.client.get("/v1/checkpoint", size=before.size)
    verify_consistency(
        before.size,
        grown.size,
        grown.proof,
        open_checkpoint(first, ledger.verifier).root_hash,
        checkpoint.root_hash,
    )


async def test_a_guess_past_the_latest_is_not_answered(ledger: LedgerFixture, engine: AsyncEngine) -> None:
    """The engine remembers a larger latest than its server holds (as after a failover to a
    server behind the old one): the answer is for the latest the server holds."""
    latest = await ledger.size()
    tree_reads._latest_seen[engine.sync_engine] = latest + 50
    try:
        async with engine.connect() as conn:
            got = await tree_reads.inclusion(conn, 0, None)
            grown = await tree_reads.consistency(conn, 1, None)
    finally:
        tree_reads._latest_seen.pop(engine.sync_engine, None)
    assert (got.size, got.latest, grown.size, grown.latest) == (latest, latest, latest, latest)
    assert got.proof is not None and grown.proof is not None


@pytest.mark.parametrize("noticed", [False, True], ids=["under-the-read", "before-the-read"])
async def test_a_connection_the_server_dropped_is_not_given_out_again(
    ledger: LedgerFixture, engine: AsyncEngine, noticed: bool
) -> None:
    """The server ends the connection just before a read (the driver finds out during it) or
    earlier (the driver has seen it close): either way the read fails as the database
    unreachable, and the pool's next connection is a new one."""
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        pid = driver.get_server_pid()
        closed = asyncio.get_running_loop().create_future()
        driver.add_termination_listener(lambda _: closed.done() or closed.set_result(None))
        admin = await asyncpg.connect(ledger.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        if noticed:
            await closed
        with pytest.raises(Exception) as dropped:
            await tree_reads.record(conn, 0)
        assert database_unreachable(dropped.value)
    async with engine.connect() as conn:  # the pool's one connection: a new one
        assert await tree_reads.record(conn, 0) is not None
        again = (await conn.get_raw_connection()).driver_connection
        assert again is not None and again.get_server_pid() != pid
