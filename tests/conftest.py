"""Test fixtures: a real PostgreSQL (``DATABASE_URL``'s server, or an embedded one), a fresh
database per ledger, and the real HTTP app in front of it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import settings
from sqlalchemy.engine import make_url

from tests.support import LedgerFixture, open_ledger

# No per-example deadline: timing on a loaded two-core machine says nothing about correctness.
settings.register_profile("rural-ledger", deadline=None)
settings.load_profile("rural-ledger")


class FakeClock:
    """The ledger's clock, under the test's control."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server URL (its maintenance database) that tests may create databases on."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url.replace("postgresql+asyncpg://", "postgresql://")
        return
    from api.service.database import embedded_url

    home = tmp_path_factory.mktemp("embedded-pg")
    yield embedded_url(home).replace("postgresql+asyncpg://", "postgresql://")


def _plain_dsn(url: str) -> str:
    u = make_url(url)
    return u.render_as_string(hide_password=False)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_factory(server_url: str) -> AsyncIterator[object]:
    """Makes fresh databases on the test server and drops them at the end of the session."""
    made: list[str] = []
    admin_dsn = _plain_dsn(server_url)

    async def make() -> str:
        name = f"rl_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        made.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    conn = await asyncpg.connect(admin_dsn)
    try:
        for name in made:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ledger(
    database_factory: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LedgerFixture]:
    """A fresh ledger (database, home, genesis) served by the real app, shared by a module."""
    url = await database_factory()  # type: ignore[operator]
    async with open_ledger(url, Path(tmp_path_factory.mktemp("home")), FakeClock()) as fx:
        yield fx
