"""The database side: append-only triggers, the service role, and projections that the log
rebuilds exactly when replayed in memory."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest
from sqlalchemy import text

from api.service.database import SERVICE_ROLE, asyncpg_url, make_engine
from contracts.replay import Replay
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import primary_key_columns
from tests.support import LedgerFixture

LOG_TABLES = ("records", "merkle_nodes", "checkpoints", "ledger_meta")


@pytest.fixture
async def owner(ledger: LedgerFixture):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(ledger.url)
    yield conn
    await conn.close()


@pytest.mark.parametrize("table", LOG_TABLES)
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET created_at = now()", "DELETE FROM {t}", "TRUNCATE {t} CASCADE"]
)
async def test_owner_cannot_change_the_log(
    ledger: LedgerFixture, owner: asyncpg.Connection, table: str, statement: str
) -> None:
    await ledger.register("county", f"t-{abs(hash((table, statement))) % 10**6}", "township")
    sql = statement.format(t=table)
    if table in ("records", "merkle_nodes") and "UPDATE" in sql:
        sql = (
            f"UPDATE {table} SET hash = hash" if table == "merkle_nodes" else "UPDATE records SET kind = kind"
        )
    if table == "checkpoints" and "UPDATE" in sql:
        sql = "UPDATE checkpoints SET note = note"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await owner.execute(sql)


@pytest.mark.parametrize("table", LOG_TABLES)
async def test_service_role_has_no_update_privilege(owner: asyncpg.Connection, table: str) -> None:
    for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
        assert not await owner.fetchval(
            "SELECT has_table_privilege($1, $2, $3)", SERVICE_ROLE, table, privilege
        )
    assert await owner.fetchval("SELECT has_table_privilege($1, $2, 'INSERT')", SERVICE_ROLE, table)


async def test_replay_rebuilds_the_projection_tables(
    ledger: LedgerFixture, owner: asyncpg.Connection
) -> None:
    county = ledger.keys["county"]
    await ledger.register("county", "rongcheng-jiedao", "township")
    await ledger.register("rongcheng-jiedao", "dongshan-cun", "village_collective")
    await ledger.register("county", "weihai-exchange", "exchange_center")
    spare = await ledger.register("county", "spare", "developer")
    await ledger.client.append(county, "key.revoked", {"key_id": spare.key.key_id, "reason": "retired"})

    bodies = await owner.fetch("SELECT body FROM records ORDER BY seq")
    replay = Replay(ledger.origin).apply_all(msgspec.json.decode(r["body"]) for r in bodies)
    assert replay.size == len(bodies) == await ledger.size()
    for model in PROJECTION_MODELS:
        table = model.__table__.name  # type: ignore[attr-defined]
        pk = primary_key_columns(model)
        rows = await owner.fetch(f"SELECT * FROM {table} ORDER BY {', '.join(pk)}")
        in_db = [{k: v for k, v in r.items() if k != "ledger_id"} for r in rows]
        in_memory = sorted(
            (row.model_dump() for row in replay.memory.tables.get(model, {}).values()),
            key=lambda d: tuple(d[c] for c in pk),
        )
        assert in_memory == in_db, f"{table} differs between replay and projection"
        if table in ("orgs", "org_keys"):
            assert in_db, f"{table} is empty: the comparison proves nothing"


async def test_service_connections_stay_in_the_service_role(ledger: LedgerFixture) -> None:
    """SET ROLE is transactional: a role set inside a transaction that is rolled back is gone,
    so the role must still be in force after a rollback, on a reused and on a new connection."""
    engine = make_engine(asyncpg_url(ledger.url), pool_size=1)
    try:
        for _ in range(2):
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT current_user")) == SERVICE_ROLE
                await conn.rollback()
        await engine.dispose()
        async with engine.begin() as conn:
            assert await conn.scalar(text("SELECT current_user")) == SERVICE_ROLE
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE projection_history SET deleted = deleted",
        "DELETE FROM projection_history",
        "TRUNCATE projection_history",
    ],
)
async def test_owner_cannot_change_the_projection_history(owner: asyncpg.Connection, statement: str) -> None:
    """The history of every projection row is kept as the log is: only appended."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await owner.execute(statement)
