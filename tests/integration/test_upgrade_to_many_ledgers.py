"""A database of one ledger made before migration 0015 upgrades in place: its rows become
ledger 1's, the log verifies and appends go on at the next seq, and another county's ledger
can then be added beside it.

The old database is made as it was: migrated to revision 0014, then given the rows of a
ledger built by today's service (every column 0014 knows; ``ledger_id`` is 0015's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection

from api.client import LedgerClient
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import NO_LEDGER, asyncpg_url, make_engine
from api.service.genesis import init_ledger
from api.service.migrate import alembic_config, migrate
from tests.conftest import FakeClock
from tests.integration.audit_support import populate, verify
from tests.support import LedgerFixture, open_ledger


async def _migrate_to(url: str, revision: str) -> None:
    def upgrade(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    engine = make_engine(asyncpg_url(url), service_role=False, pool_size=1, ledger=NO_LEDGER)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade)
    finally:
        await engine.dispose()


async def _copy_rows(source: str, target: str) -> dict[str, int]:
    """Every row of ``source`` into ``target`` (at 0014), the columns ``target`` has."""
    src, dst = await asyncpg.connect(source), await asyncpg.connect(target)
    copied: dict[str, int] = {}
    try:
        tables = await dst.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
        )
        for (table,) in tables:
            columns = [
                r["column_name"]
                for r in await dst.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = $1 ORDER BY ordinal_position",
                    table,
                )
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = await src.fetch(f"SELECT {names} FROM {table}")
            if rows:
                await dst.copy_records_to_table(table, records=[tuple(r) for r in rows], columns=columns)
            copied[table] = len(rows)
    finally:
        await src.close()
        await dst.close()
    return copied


async def test_a_one_ledger_database_upgrades_and_takes_another_ledger(
    database_factory: Any, tmp_path: Path
) -> None:
    clock = FakeClock()
    built, old = await database_factory(), await database_factory()
    async with open_ledger(built, tmp_path / "home", clock) as fx:
        await populate(fx)
        size, checkpoint = await fx.size(), (await fx.client.http.get("/v1/checkpoint")).text
    await _migrate_to(old, "0014")
    copied = await _copy_rows(built, old)
    assert copied["records"] == size and copied["ledger_meta"] == 1 and copied["memberships"] > 0

    await migrate(make_engine(asyncpg_url(old), service_role=False, pool_size=1, ledger=NO_LEDGER))
    owner = await asyncpg.connect(old)
    try:
        numbers = {
            t: await owner.fetchval(f"SELECT array_agg(DISTINCT ledger_id) FROM {t}")
            for t, n in copied.items()
            if n and t != "ledger_meta"
        }
        assert set(map(tuple, numbers.values())) == {(1,)}, numbers  # every old row is ledger 1's
    finally:
        await owner.close()

    async with serve(fx, old, clock) as again:
        assert await again.size() == size
        assert (await again.client.http.get(f"/v1/checkpoint?size={size}")).text == checkpoint
        outcome = await verify(again)
        assert outcome.status == "intact", outcome.as_json()
        receipt = await again.client.append(
            fx.keys["county"], "org.registered", again.org_payload("county", "after-upgrade", "township")
        )
        assert receipt["seq"] == size  # gapless across the upgrade

    other = await init_ledger(
        asyncpg_url(old), Home(tmp_path / "other"), "other.rural-ledger/county", "c2", "其他区", clock
    )
    assert other.receipt.seq == 0  # a log of its own, from seq 0
    async with serve(fx, old, clock) as first:
        assert await first.size() == size + 1
        assert (await verify(first)).status == "intact"


@asynccontextmanager
async def serve(fx: LedgerFixture, url: str, clock: FakeClock) -> AsyncIterator[LedgerFixture]:
    """``fx``'s ledger served by a new app on the database at ``url``."""
    settings = Settings(home=fx.home, database_url=asyncpg_url(url), clock=clock)
    async with AsyncTestClient(app=create_app(settings), timeout=120) as http:
        yield replace(fx, url=url, client=LedgerClient(http=http, origin=fx.origin, clock=clock))
