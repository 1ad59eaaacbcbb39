"""A batch that was stored is never answered "nothing was changed": when its receipts (the
inclusion proofs read after COMMIT) cannot be read, the answer is 503 ``receipts.unavailable``
naming each entry's seq, and resubmitting the same entries later returns their receipts and
adds nothing.

The fault is a real one, in the real database: as the database owner, the test revokes SELECT
on ``merkle_nodes`` from the role the service acts as (``rural_ledger_service``). The append
transaction only writes that table (COPY needs INSERT alone) once the appender has its tree
head cached, which one submission before the fault ensures; the receipts read it after COMMIT
(stored nodes of the older part of the tree are needed for every proof, since the ledger is
not empty). So the commit succeeds and only the receipts fail, which the test checks: the
records are found at the answered seqs, through the owner's connection and through
``GET /v1/entries/{seq}`` (which reads the records table only).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from api.client import check_receipt
from ledger.signing import KeyFile, SigningKey
from tests.support import LedgerFixture, township_payload

SERVICE_ROLE = "rural_ledger_service"
NODES = "merkle_nodes"
TIMEOUT = 60
_serial = itertools.count(200)


def township(n: int) -> dict[str, object]:
    return township_payload(f"rcpt-{n}", f"回执{n}镇", n)


def valid(ledger: LedgerFixture) -> dict[str, Any]:
    return ledger.sign(ledger.keys["county"], "org.registered", township(next(_serial)))


def unknown_key(ledger: LedgerFixture) -> dict[str, Any]:
    """Well formed, refused at admission: signed with a key no organisation registered."""
    return ledger.sign(KeyFile("county", SigningKey.generate()), "org.registered", township(next(_serial)))


async def post(ledger: LedgerFixture, body: dict[str, Any]) -> Any:
    return await asyncio.wait_for(ledger.client.http.post("/v1/entries", json=body), TIMEOUT)


async def record_count(owner: asyncpg.Connection) -> int:
    return int(await owner.fetchval("SELECT count(*) FROM records"))


@asynccontextmanager
async def owner_connection(ledger: LedgerFixture) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(ledger.url)
    try:
        yield conn
    finally:
        await conn.close()


@asynccontextmanager
async def nodes_unreadable(owner: asyncpg.Connection) -> AsyncIterator[None]:
    """The service role may no longer SELECT the Merkle nodes (it may still INSERT them)."""
    await owner.execute(f"REVOKE SELECT ON {NODES} FROM {SERVICE_ROLE}")
    try:
        assert not await owner.fetchval("SELECT has_table_privilege($1, $2, 'SELECT')", SERVICE_ROLE, NODES)
        assert await owner.fetchval("SELECT has_table_privilege($1, $2, 'INSERT')", SERVICE_ROLE, NODES)
        yield
    finally:
        await owner.execute(f"GRANT SELECT ON {NODES} TO {SERVICE_ROLE}")


async def warm_up(ledger: LedgerFixture) -> None:
    """One submission with the privilege in place, so that the appender caches its tree head
    and the next batch's transaction need not read the nodes."""
    r = await post(ledger, valid(ledger))
    assert r.status_code == 200, r.text
    check_receipt(r.json(), ledger.verifier, ledger.origin)


def assert_receipts_unavailable(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "2"
    body = r.json()
    assert body["code"] == "receipts.unavailable" and body["status"] == 503, body
    assert "nothing was changed" not in body["detail"], body["detail"]
    assert "nothing was stored" not in body["detail"], body["detail"]
    assert "stored" in body["detail"] and "resubmit" in body["detail"], body["detail"]
    results: list[dict[str, Any]] = body["results"]
    return results


async def assert_stored_at(
    ledger: LedgerFixture, owner: asyncpg.Connection, item: dict[str, Any], seq: int
) -> None:
    entry_id = await owner.fetchval("SELECT entry_id::text FROM records WHERE seq = $1", seq)
    assert entry_id == item["entry"]["id"], (seq, entry_id)
    r = await asyncio.wait_for(ledger.client.http.get(f"/v1/entries/{seq}"), TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["id"] == item["entry"]["id"]


async def test_a_stored_list_whose_receipts_cannot_be_read(ledger: LedgerFixture) -> None:
    await warm_up(ledger)
    items = [valid(ledger) for _ in range(3)]
    async with owner_connection(ledger) as owner:
        size = await ledger.size()
        assert await record_count(owner) == size
        async with nodes_unreadable(owner):
            r = await post(ledger, {"entries": items})
            results = assert_receipts_unavailable(r)
            assert results == [{"seq": size}, {"seq": size + 1}, {"seq": size + 2}], results
            # The fault hit after COMMIT: the batch and its checkpoint are stored.
            assert await record_count(owner) == size + 3
            assert await ledger.size() == size + 3
            for item, result in zip(items, results, strict=True):
                await assert_stored_at(ledger, owner, item, result["seq"])
        print(f"\nunder the fault: 503 receipts.unavailable, seqs {[x['seq'] for x in results]}")

        r = await post(ledger, {"entries": items})
        assert r.status_code == 200, r.text
        receipts = r.json()["results"]
        assert [x["seq"] for x in receipts] == [size, size + 1, size + 2], receipts
        for receipt in receipts:
            check_receipt(receipt, ledger.verifier, ledger.origin)
        assert await record_count(owner) == size + 3
        assert await ledger.size() == size + 3
        print(f"resubmitted: 200, seqs {[x['seq'] for x in receipts]}, size {size + 3}")


async def test_a_stored_single_entry_whose_receipt_cannot_be_read(ledger: LedgerFixture) -> None:
    await warm_up(ledger)
    item = valid(ledger)
    async with owner_connection(ledger) as owner:
        size = await ledger.size()
        async with nodes_unreadable(owner):
            r = await post(ledger, item)
            assert assert_receipts_unavailable(r) == [{"seq": size}]
            assert await record_count(owner) == size + 1
            assert await ledger.size() == size + 1
            await assert_stored_at(ledger, owner, item, size)

        r = await post(ledger, item)
        assert r.status_code == 200, r.text
        receipt = r.json()
        assert receipt["seq"] == size
        check_receipt(receipt, ledger.verifier, ledger.origin)
        assert await record_count(owner) == size + 1
        assert await ledger.size() == size + 1
        print(f"\nsingle entry: 503 then 200 at seq {size}")


async def test_refusals_keep_their_place_among_the_stored_seqs(ledger: LedgerFixture) -> None:
    """A list with an entry refused at parsing and one refused at admission: the 503 names the
    stored entries' seqs and the refusals' problems, each in its place."""
    await warm_up(ledger)
    first, unsigned, unknown, last = valid(ledger), valid(ledger), unknown_key(ledger), valid(ledger)
    unsigned = {**unsigned, "sig": "not base64!"}
    items = [first, unsigned, unknown, last]
    async with owner_connection(ledger) as owner:
        size = await ledger.size()
        async with nodes_unreadable(owner):
            results = assert_receipts_unavailable(await post(ledger, {"entries": items}))
            assert len(results) == 4, results
            assert results[0] == {"seq": size} and results[3] == {"seq": size + 1}, results
            assert results[1]["error"]["code"] == "signature.malformed", results
            assert results[2]["error"]["code"] == "signature.unknown_key", results
            assert await record_count(owner) == size + 2
            await assert_stored_at(ledger, owner, first, size)
            await assert_stored_at(ledger, owner, last, size + 1)

        r = await post(ledger, {"entries": [first, last]})
        assert r.status_code == 200, r.text
        receipts = r.json()["results"]
        assert [x["seq"] for x in receipts] == [size, size + 1]
        for receipt in receipts:
            check_receipt(receipt, ledger.verifier, ledger.origin)
        assert await record_count(owner) == size + 2
        assert await ledger.size() == size + 2
