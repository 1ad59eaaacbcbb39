"""``recorded_at`` never goes backwards, through the real HTTP API on real PostgreSQL: a ledger
clock stepped back (NTP, a restored VM) records the next batch at the last record's time, also
when another server process appended the last record, and the log still verifies."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient

from api.client import LedgerClient
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from ledger.entry import parse_time
from ledger.signing import SigningKey, b64
from tests.conftest import FakeClock
from tests.integration.audit_support import verify
from tests.support import LedgerFixture


async def add_key(client: LedgerClient, fx: LedgerFixture) -> str:
    """Append one entry through ``client``; the recorded_at of its record."""
    receipt = await client.append(
        fx.keys["county"], "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
    )
    page = await client.get("/v1/entries", after=receipt["seq"] - 1, limit=1)
    [record] = page["items"]
    assert record["seq"] == receipt["seq"]
    return str(record["recorded_at"])


async def test_a_clock_stepped_back_records_at_the_last_time(ledger: LedgerFixture) -> None:
    clock = ledger.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=5)
    last = await add_key(ledger.client, ledger)
    clock.advance(hours=-3)
    assert await add_key(ledger.client, ledger) == last
    assert await add_key(ledger.client, ledger) == last  # still behind: still the last time
    clock.advance(hours=4)
    assert parse_time(await add_key(ledger.client, ledger)) == clock.now
    assert (await verify(ledger)).status == "intact"


async def test_a_process_behind_another_records_at_the_others_last_time(ledger: LedgerFixture) -> None:
    """A second server process whose clock is an hour behind: after the first one appends, the
    second's cached head is stale, and it must take the last time from the database too."""
    ahead = ledger.clock
    assert isinstance(ahead, FakeClock)
    behind = FakeClock(ahead.now - timedelta(hours=1))
    app = create_app(Settings(home=ledger.home, database_url=asyncpg_url(ledger.url), clock=behind))
    async with AsyncTestClient(app=app, timeout=60) as http:
        other = LedgerClient(http=http, origin=ledger.origin, clock=behind)
        first = await add_key(ledger.client, ledger)
        assert parse_time(await add_key(other, ledger)) == parse_time(first)  # nothing cached yet
        ahead.advance(minutes=10)
        behind.advance(minutes=10)
        later = await add_key(ledger.client, ledger)
        assert parse_time(later) == ahead.now
        assert await add_key(other, ledger) == later  # its cached head went stale
        behind.now = ahead.now + timedelta(seconds=1)
        assert parse_time(await add_key(other, ledger)) == behind.now
    assert (await verify(ledger)).status == "intact"
