"""Reads marked for the replica (``RURAL_LEDGER_READ_URL``) with a replica that cannot be
reached: the primary serves them, and writes never depended on it. And with the "replica"
being the primary's own database, the same answers as without one. (A real lagging replica is
tested in ``tests/ha/test_read_replica.py``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.pool import QueuePool

from api.client import check_receipt
from api.service.database import READ_URL_VARIABLE
from api.service.service import LedgerService
from tests.conftest import FakeClock
from tests.reliability.harness import free_port
from tests.support import LedgerFixture, open_ledger, township_payload

READS = (
    "/v1/checkpoint",
    "/v1/checkpoints",
    "/v1/entries?after=-1",
    "/v1/entries/1",
    "/v1/proofs/inclusion?seq=1",
    "/v1/proofs/consistency?from=1",
    "/v1/export?nodes=false",
)


async def answers(fx: LedgerFixture) -> dict[str, tuple[int, bytes]]:
    out = {}
    for path in READS:
        r = await fx.client.http.get(path)
        out[path] = (r.status_code, r.content)
    return out


async def append(fx: LedgerFixture, serial: int) -> Any:
    body = fx.sign(
        fx.keys["county"], "org.registered", township_payload(f"rr-{serial}", f"副本{serial}镇", serial)
    )
    r = await fx.client.http.post("/v1/entries", json={"entries": [body]})
    assert r.status_code == 200, r.text
    [receipt] = r.json()["results"]
    check_receipt(receipt, fx.verifier, fx.origin)
    return receipt


@pytest_asyncio.fixture(loop_scope="session")
async def unreachable_replica(
    database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LedgerFixture]:
    monkeypatch.setenv(READ_URL_VARIABLE, f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    async with open_ledger(await database_factory(), tmp_path, FakeClock()) as fx:
        yield fx


async def test_reads_are_served_by_the_primary_while_the_replica_is_unreachable(
    unreachable_replica: LedgerFixture,
) -> None:
    fx = unreachable_replica
    receipt = await append(fx, 1)
    got = await answers(fx)
    assert {path: status for path, (status, _) in got.items()} == dict.fromkeys(READS, 200)
    inclusion = await fx.client.http.get("/v1/proofs/inclusion", params={"seq": receipt["seq"]})
    assert inclusion.json()["proof"] == receipt["inclusion_proof"]
    assert (await fx.client.http.get("/healthz")).status_code == 200


async def test_a_replica_is_read_from_for_the_reads_marked_for_it(
    database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await database_factory()
    monkeypatch.setenv(READ_URL_VARIABLE, url)  # a "replica" on the primary's own data
    async with open_ledger(url, tmp_path, FakeClock()) as fx:
        receipt = await append(fx, 2)
        service: LedgerService = fx.client.http.app.state.service  # type: ignore[attr-defined]
        assert service.read_engine is not None
        replica = service.read_engine.pool
        assert isinstance(replica, QueuePool) and replica.checkedin() == 0  # writes never use it
        got = await answers(fx)
        assert {path: status for path, (status, _) in got.items()} == dict.fromkeys(READS, 200)
        assert replica.checkedin() >= 1
        record = await fx.client.http.get(f"/v1/entries/{receipt['seq']}")
        assert record.json()["leaf_hash"] == receipt["leaf_hash"]
