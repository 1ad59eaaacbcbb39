"""Abuse limits through the real app served over loopback TCP: per client address, per key for
the entries it signs and for its signed requests. Past a limit: 429 ``request.rate_limited`` with
``Retry-After``, nothing stored; another address or key is unaffected."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.client import LedgerClient
from api.console.accounts import add_user
from api.home import Home
from api.http.app import Settings, create_app
from api.http.rate_limits import RateLimits, TokenBuckets
from api.service.database import asyncpg_url, make_engine
from api.service.genesis import Genesis, init_ledger
from ledger.signing import SigningKey, b64
from tests.conftest import FakeClock
from tests.integration.test_console_accounts import CSRF_INPUT, PASSWORD
from tests.support import LedgerFixture

ORIGIN = "test.rural-ledger/rate-limits"
SLOW = 0.001  # tokens a second: nothing refills while a test runs


@asynccontextmanager
async def served(url: str, home_dir: Path, limits: RateLimits) -> AsyncIterator[tuple[str, Genesis]]:
    """The real app with ``limits``, served on a free loopback port: its base URL and genesis."""
    clock = FakeClock()
    home = Home(home_dir)
    genesis = await init_ledger(asyncpg_url(url), home, ORIGIN, "county", "威海市文登区", clock)
    app = create_app(Settings(home=home, database_url=asyncpg_url(url), clock=clock, rate_limits=limits))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):  # at most 30 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", genesis
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def ledger_from(
    served_ledger: tuple[str, Genesis], home_dir: Path, address: str = "127.0.0.1"
) -> AsyncIterator[LedgerFixture]:
    """A client of the served ledger whose connections come from loopback ``address``."""
    base, genesis = served_ledger
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=60) as http:
        clock = FakeClock()  # the served ledger's clock stands at the same moment
        client = LedgerClient(http=http, origin=ORIGIN, clock=clock)
        home = Home(home_dir)
        fx = LedgerFixture("", home, genesis, client, clock)
        fx.keys["county"] = home.org_key("county")
        await client.origin()
        yield fx


def key_entries(fx: LedgerFixture, signer: str, n: int) -> list[dict]:
    return [
        fx.sign(
            fx.keys[signer], "key.added", {"org": signer, "public_key": b64(SigningKey.generate().public_key)}
        )
        for _ in range(n)
    ]


def assert_rate_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "request.rate_limited"
    assert int(r.headers["retry-after"]) >= 1


async def test_an_address_past_its_limit_is_refused_and_stores_nothing(
    database_factory: object, tmp_path: Path
) -> None:
    limits = RateLimits(per_address=SLOW, address_burst=6, per_key=0)
    async with (
        served(await database_factory(), tmp_path, limits) as base,
        ledger_from(base, tmp_path, "127.0.0.1") as flood,
        ledger_from(base, tmp_path, "127.0.0.2") as other,
    ):
        for _ in range(6):
            assert (await flood.client.http.get("/healthz")).status_code == 200
        assert_rate_limited(await flood.client.http.get("/healthz"))
        [item] = key_entries(flood, "county", 1)
        assert_rate_limited(await flood.client.http.post("/v1/entries", json=item))
        assert (await other.client.http.get("/healthz")).status_code == 200
        r = await other.client.http.get(f"/v1/entries/by-id/{item['entry']['id']}")
        assert r.status_code == 404
        assert await other.size() == 2  # genesis and the rule adoption


async def test_a_key_past_its_entry_limit_is_refused_counting_entries_not_requests(
    database_factory: object, tmp_path: Path
) -> None:
    limits = RateLimits(per_address=0, per_key=SLOW, key_burst=10)
    async with served(await database_factory(), tmp_path, limits) as base, ledger_from(base, tmp_path) as fx:
        await fx.register("county", "town", "township")  # 1 county entry
        results = await fx.client.submit_many(key_entries(fx, "county", 5))
        assert all("seq" in r for r in results)
        size = await fx.size()
        # 4 tokens left: a request of 5 entries is refused whole, although it is one request
        refused = key_entries(fx, "county", 5)
        assert_rate_limited(await fx.client.http.post("/v1/entries", json={"entries": refused}))
        assert await fx.size() == size
        for item in refused:
            r = await fx.client.http.get(f"/v1/entries/by-id/{item['entry']['id']}")
            assert r.status_code == 404
        under = await fx.client.submit_many(key_entries(fx, "county", 4))
        assert all("seq" in r for r in under)
        # the township's key has its own bucket
        town = await fx.client.submit_many(key_entries(fx, "town", 10))
        assert all("seq" in r for r in town)
        assert await fx.size() == size + 4 + 10


async def test_a_key_past_its_signed_request_limit_is_refused(
    database_factory: object, tmp_path: Path
) -> None:
    limits = RateLimits(per_address=0, per_key=SLOW, key_burst=3)
    async with served(await database_factory(), tmp_path, limits) as base, ledger_from(base, tmp_path) as fx:
        town = await fx.register("county", "town", "township")
        path = f"/v1/parties/{uuid.uuid4()}/personal"
        # the county's bucket: 1 token went to the registration, 2 are left
        for _ in range(2):
            r = await fx.client.http.get(path, auth=fx.client.signed_by(fx.keys["county"], fx.clock))
            assert r.status_code != 429, r.text
        assert_rate_limited(
            await fx.client.http.get(path, auth=fx.client.signed_by(fx.keys["county"], fx.clock))
        )
        r = await fx.client.http.get(path, auth=fx.client.signed_by(town, fx.clock))
        assert r.status_code != 429, r.text
        assert (await fx.client.http.get("/healthz")).status_code == 200


def test_buckets_refill_at_their_rate_up_to_the_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=10, burst=20, clock=lambda: now[0])
    assert buckets.take("a", 20) == 0
    assert buckets.take("a", 5) == pytest.approx(0.5)
    now[0] = 0.5
    assert buckets.take("a", 5) == 0
    now[0] = 100.0
    assert buckets.take("a", 21) == 0  # above the burst: passes once full, leaving a debt
    assert buckets.take("a", 1) == pytest.approx(0.2)
    assert TokenBuckets(rate=0, burst=0).take("a", 10**6) == 0  # 0 = off


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RURAL_LEDGER_RATE_PER_ADDRESS", "0")
    monkeypatch.setenv("RURAL_LEDGER_RATE_KEY_BURST", "7")
    limits = RateLimits.from_env()
    assert limits.per_address == 0 and limits.key_burst == 7
    assert limits.per_key == RateLimits().per_key


async def test_a_body_past_the_size_limit_is_not_held_for_counting(
    database_factory: object, tmp_path: Path
) -> None:
    limits = RateLimits(per_address=0, per_key=SLOW, key_burst=10)
    async with served(await database_factory(), tmp_path, limits) as base, ledger_from(base, tmp_path) as fx:
        body = b'{"entries": [' + b" " * (17 * 1024 * 1024) + b"]}"
        r = await fx.client.http.post(
            "/v1/entries", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["code"] == "request.too_large", r.text
        assert await fx.size() == 2  # genesis and the rule adoption


async def sign_in_from(
    base: str, address: str, username: str, password: str, html: bool = True
) -> httpx.Response:
    """One sign-in at the console from loopback ``address``: the form's token and cookie, then
    the POST (the cookie sent by hand: it is Secure, and this is loopback HTTP)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=60) as http:
        form = await http.get("/console/login")
        token = CSRF_INPUT.findall(form.text)[0]
        cookie = form.headers["set-cookie"].split(";", 1)[0]
        return await http.post(
            "/console/login",
            data={"csrf": token, "username": username, "password": password},
            headers={"cookie": cookie, "accept": "text/html" if html else "application/json"},
        )


async def test_failed_sign_ins_from_one_address_are_limited_whoever_they_name(
    database_factory: object, tmp_path: Path
) -> None:
    """Three failures from one address, each naming another user (so no user is locked), and
    that address is refused before any password is checked, the right one too; another
    address signs in; successful sign-ins cost nothing."""
    url = await database_factory()
    limits = RateLimits(per_address=0, per_key=0, sign_in_per_address=SLOW, sign_in_burst=3)
    async with served(url, tmp_path, limits) as (base, _):
        engine = make_engine(asyncpg_url(url), service_role=False, pool_size=1)
        try:
            async with engine.connect() as conn:
                await add_user(conn, "county", "county_officer", "officer-ok", PASSWORD, FakeClock()())
        finally:
            await engine.dispose()
        for _ in range(5):  # successes are not failures
            assert (await sign_in_from(base, "127.0.0.3", "officer-ok", PASSWORD)).status_code == 303
        for name in ("guess-a", "guess-b", "officer-ok"):
            assert (await sign_in_from(base, "127.0.0.1", name, "wrong password")).status_code == 401
        limited = await sign_in_from(base, "127.0.0.1", "officer-ok", PASSWORD)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "rl_session" not in limited.headers.get("set-cookie", "")
        assert "从本地址登录失败的次数过多" in limited.text, limited.text
        problem_ = await sign_in_from(base, "127.0.0.1", "officer-ok", PASSWORD, html=False)
        assert problem_.status_code == 429 and problem_.json()["code"] == "console.sign_in_limited"
        assert (await sign_in_from(base, "127.0.0.2", "officer-ok", PASSWORD)).status_code == 303
