"""The self-check runs again when the writer finds itself on another server (docs/ha.md): each
connection carries the identity of the server it reached, and a batch on a server the check
has not passed on re-runs it under the writer lock, before admitting anything. Here the
"other server" is made by forgetting which one was checked, as a failover would; on a log that
adds up the append goes on, on one that does not (a record added behind the service's back, so
the record count disagrees with the checkpoint) every write is refused with 503
``ledger.read_only`` while reads go on; likewise on a server that lacks the last checkpoint
this service committed. (The real failover: ``tests/ha/test_failover.py``.)"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.service import database
from api.service.service import LedgerService
from ledger.self_check import SERVER_INFO_KEY
from tests.conftest import FakeClock
from tests.support import LedgerFixture, open_ledger, owner_connection, township_payload


def service_of(fx: LedgerFixture) -> LedgerService:
    service: LedgerService = fx.client.http.app.state.service  # type: ignore[attr-defined]
    return service


async def append(fx: LedgerFixture, serial: int) -> Any:
    body = fx.sign(
        fx.keys["county"], "org.registered", township_payload(f"sc-{serial}", f"自检{serial}镇", serial)
    )
    return await fx.client.http.post("/v1/entries", json={"entries": [body]})


async def server_identity(service: LedgerService) -> object:
    async with service.engine.connect() as conn:
        return conn.info.get(SERVER_INFO_KEY)


async def test_a_batch_on_a_server_not_yet_checked_runs_the_self_check_first(
    ledger: LedgerFixture, caplog: pytest.LogCaptureFixture
) -> None:
    service = service_of(ledger)
    here = await server_identity(service)
    assert here is not None and service.appender.checked_server == here  # checked at start-up
    service.appender.checked_server = "the server before a failover"
    with caplog.at_level(logging.WARNING, logger="rural_ledger.appender"):
        r = await append(ledger, 1)
    assert r.status_code == 200, r.text
    assert "appending on another server" in caplog.text
    assert service.appender.checked_server == here
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rural_ledger.appender"):
        assert (await append(ledger, 2)).status_code == 200
    assert "appending on another server" not in caplog.text  # checked once per server


async def test_a_server_whose_log_does_not_add_up_gets_no_writes(
    database_factory: Any, tmp_path: Path
) -> None:
    url = await database_factory()
    async with open_ledger(url, tmp_path, FakeClock()) as fx:
        assert (await append(fx, 3)).status_code == 200
        owner = await owner_connection(url)
        try:  # a record no checkpoint covers: what a server that lost its checkpoint would hold
            await owner.execute(
                "INSERT INTO records (seq, entry_id, kind, actor, recorded_at, body, leaf_hash)"
                " SELECT seq + 1, gen_random_uuid(), kind, actor, recorded_at, body, leaf_hash"
                " FROM records ORDER BY seq DESC LIMIT 1"
            )
        finally:
            await owner.close()
        service = service_of(fx)
        service.appender.checked_server = "the server before a failover"
        for serial in (4, 5):
            r = await append(fx, serial)
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "ledger.read_only"
            assert "records stored" in r.json()["detail"]
        health = (await fx.client.http.get("/healthz")).json()
        assert health["status"] == "read-only"
        assert (await fx.client.http.get("/v1/checkpoint")).status_code == 200


async def test_a_server_without_the_last_checkpoint_committed_gets_no_writes(
    database_factory: Any, tmp_path: Path
) -> None:
    """What a promoted replica that was not the synchronous standby would be: its log adds up,
    but it lacks (or has another) checkpoint this service committed. Made here by telling the
    appender it committed a checkpoint of another root at the current size."""
    async with open_ledger(await database_factory(), tmp_path, FakeClock()) as fx:
        r = await append(fx, 6)
        assert r.status_code == 200
        service = service_of(fx)
        size, root = service.appender.committed_tip or (0, b"")
        assert size == r.json()["results"][0]["seq"] + 1 and len(root) == 32
        service.appender.committed_tip = (size, bytes(32))
        service.appender.checked_server = "the server before a failover"
        r = await append(fx, 7)
        assert r.status_code == 503 and r.json()["code"] == "ledger.read_only", r.text
        assert f"has another checkpoint of size {size}" in r.json()["detail"]
        assert (await fx.client.http.get("/healthz")).json()["status"] == "read-only"


async def test_a_server_that_will_not_say_which_it_is_still_serves(
    ledger: LedgerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identity query refused (a managed server restricting a function): the connection is
    made all the same, acting as the service role, and no re-check is asked for."""
    monkeypatch.setattr(database, "SERVER_IDENTITY_SQL", "SELECT no_such_function()")
    engine = database.make_engine(database.asyncpg_url(ledger.url), pool_size=1)
    try:
        async with engine.connect() as conn:
            assert SERVER_INFO_KEY not in conn.info
            assert await conn.scalar(text("SELECT current_user")) == "rural_ledger_service"
    finally:
        await engine.dispose()


async def test_on_a_server_that_will_not_say_which_it_is_the_head_is_checked_each_batch(
    database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server identity, so no failover can be seen: a batch still checks that the stored
    checkpoint at the cached head's size has its root. Made here by giving that checkpoint
    another root behind the service's back, as a new primary of the same size would."""
    from ledger import appender

    url = await database_factory()
    async with open_ledger(url, tmp_path, FakeClock()) as fx:
        monkeypatch.setattr(appender, "SERVER_INFO_KEY", "no identity on this connection")
        assert (await append(fx, 8)).status_code == 200  # the head now cached
        assert (await append(fx, 9)).status_code == 200  # and checked, it holds
        size = service_of(fx).appender.committed_tip[0]  # type: ignore[index]
        owner = await owner_connection(url)
        try:
            await owner.execute("ALTER TABLE checkpoints DISABLE TRIGGER ALL")
            await owner.execute("UPDATE checkpoints SET root_hash = sha256(root_hash) WHERE size = $1", size)
            await owner.execute("ALTER TABLE checkpoints ENABLE TRIGGER ALL")
        finally:
            await owner.close()
        for serial in (10, 11):
            r = await append(fx, serial)
            assert r.status_code == 503 and r.json()["code"] == "ledger.read_only", r.text
            assert f"has another checkpoint of size {size}" in r.json()["detail"]
        owner = await owner_connection(url)
        try:
            assert await owner.fetchval("SELECT count(*) FROM records") == size
        finally:
            await owner.close()
