"""Two county ledgers in one database, served by one app that routes each request by its
``Host`` (``api.http.ledgers``): each host appends to and reads its own ledger only, an entry
signed for one ledger is refused at the other's host, an unknown host is 404 ``ledger.unknown``
and reaches neither, and one ledger alone still answers every host."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from api.cli.main import main
from api.client import signed_entry
from api.home import Home
from api.http.app import Settings
from api.http.ledgers import ledgers_app
from api.http.rate_limits import RateLimits
from api.service.database import asyncpg_url
from api.service.genesis import init_ledger
from ledger.checkpoint import NoteVerifier, generate_signer, open_checkpoint
from ledger.signing import KeyFile, SigningKey, b64
from tests.conftest import FakeClock
from tests.served import serve

WENDENG = "wendeng.ledger.test/log"
RONGCHENG = "rongcheng.ledger.test/log"


@dataclass
class County:
    origin: str
    home: Home
    app: AsyncTestClient  # type: ignore[type-arg]
    host: str  # what its requests carry as Host

    async def get(self, path: str) -> Any:
        return await self.app.get(path, headers={"host": self.host})

    async def post(self, path: str, item: dict[str, Any]) -> Any:
        return await self.app.post(path, json=item, headers={"host": self.host})

    @property
    def county(self) -> KeyFile:
        return self.home.org_key("county")

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_string(self.home.operator_pub_file.read_text().strip())

    def key_added(self, clock: Callable[[], datetime]) -> dict[str, Any]:
        """A ``key.added`` of the county's root organisation, signed for its own ledger."""
        payload = {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
        return signed_entry(self.county, self.origin, "key.added", payload, signed_at=clock())

    async def checkpoint(self) -> tuple[str, int]:
        r = await self.get("/v1/checkpoint")
        assert r.status_code == 200, r.text
        cp = open_checkpoint(r.text, self.verifier)  # signed by this county's operator key
        return cp.origin, cp.size


def settings(url: str, home: Home, clock: FakeClock) -> Settings:
    limits = replace(RateLimits.from_env(), sign_in_per_address=0)
    return Settings(home=home, database_url=asyncpg_url(url), clock=clock, rate_limits=limits)


@dataclass
class Counties:
    url: str
    clock: FakeClock
    wendeng: County
    rongcheng: County
    any_host: AsyncTestClient  # type: ignore[type-arg]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def counties(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Counties]:
    """Two ledgers initialised in one database, each with its home, served by one dispatcher."""
    url = await database_factory()
    clock = FakeClock()
    homes = {o: Home(Path(tmp_path_factory.mktemp("county"))) for o in (WENDENG, RONGCHENG)}
    await init_ledger(asyncpg_url(url), homes[WENDENG], WENDENG, "county", "威海市文登区", clock)
    await init_ledger(
        asyncpg_url(url), homes[RONGCHENG], RONGCHENG, "county", "威海市荣成市", clock, "371082"
    )
    app = ledgers_app([settings(url, homes[WENDENG], clock), settings(url, homes[RONGCHENG], clock)])
    async with AsyncTestClient(app=app, base_url="http://ledger.test", timeout=60) as http:
        yield Counties(
            url,
            clock,
            County(WENDENG, homes[WENDENG], http, "wendeng.ledger.test"),
            # Hosts are compared without case, trailing dot or port.
            County(RONGCHENG, homes[RONGCHENG], http, "RongCheng.Ledger.Test.:8443"),
            http,
        )


async def test_each_host_appends_to_its_own_ledger(counties: Counties) -> None:
    w, r, clock = counties.wendeng, counties.rongcheng, counties.clock
    before_w, before_r = await w.checkpoint(), await r.checkpoint()
    for _ in range(3):
        got = await w.post("/v1/entries", w.key_added(clock))
        assert got.status_code == 200, got.text
    got = await r.post("/v1/entries", r.key_added(clock))
    assert got.status_code == 200, got.text
    assert got.json()["seq"] == before_r[1]  # its own seqs, from its own head

    assert await w.checkpoint() == (WENDENG, before_w[1] + 3)
    assert await r.checkpoint() == (RONGCHENG, before_r[1] + 1)
    health = [(await c.get("/healthz")).json() for c in (w, r)]
    assert [(h["origin"], h["size"]) for h in health] == [
        (WENDENG, before_w[1] + 3),
        (RONGCHENG, before_r[1] + 1),
    ]


async def test_an_entry_for_one_ledger_is_refused_at_the_others_host(counties: Counties) -> None:
    w, r, clock = counties.wendeng, counties.rongcheng, counties.clock
    sizes = await w.checkpoint(), await r.checkpoint()
    got = await r.post("/v1/entries", w.key_added(clock))
    assert got.status_code == 422, got.text
    assert got.json()["code"] == "entry.wrong_ledger"
    assert RONGCHENG in got.json()["detail"]
    assert (await w.checkpoint(), await r.checkpoint()) == sizes


async def test_records_are_read_from_the_hosts_ledger_only(counties: Counties) -> None:
    w, r = counties.wendeng, counties.rongcheng
    first = [(await c.get("/v1/entries/0")).json() for c in (w, r)]
    assert [e["entry"]["ledger"] for e in first] == [WENDENG, RONGCHENG]


@pytest.mark.parametrize("host", ["ledger.test", "wendeng.ledger.test.example", "", "[::1]:8000"])
async def test_an_unknown_host_is_404_ledger_unknown(counties: Counties, host: str) -> None:
    sizes = await counties.wendeng.checkpoint(), await counties.rongcheng.checkpoint()
    entry = counties.wendeng.key_added(counties.clock)
    for method, path in (("POST", "/v1/entries"), ("GET", "/v1/checkpoint"), ("GET", "/healthz")):
        got = await counties.any_host.request(method, path, json=entry, headers={"host": host})
        assert got.status_code == 404, got.text
        assert got.headers["content-type"] == "application/problem+json"
        assert got.json()["code"] == "ledger.unknown"
        assert got.json()["status"] == 404
    assert (await counties.wendeng.checkpoint(), await counties.rongcheng.checkpoint()) == sizes


async def test_an_unknown_host_gets_no_body_to_head(counties: Counties) -> None:
    got = await counties.any_host.head("/healthz")
    assert (got.status_code, got.content) == (404, b"")


async def test_one_ledger_answers_every_host(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = await database_factory()
    clock = FakeClock()
    home = Home(Path(tmp_path_factory.mktemp("one")))
    await init_ledger(asyncpg_url(url), home, WENDENG, "county", "威海市文登区", clock)
    async with AsyncTestClient(app=ledgers_app([settings(url, home, clock)]), timeout=60) as http:
        for host in ("testserver.local", "ledger.test", "rongcheng.ledger.test", "10.0.0.7:8000"):
            got = await http.get("/healthz", headers={"host": host})
            assert (got.status_code, got.json()["origin"]) == (200, WENDENG), got.text


async def connections_to(url: str) -> int:
    """Sessions open on ``url``'s database, other than this one. A closed engine's are gone
    when its dispose returns: asyncpg waits for the server to close, which it does last."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def test_a_ledger_that_cannot_start_stops_those_started(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url, elsewhere = await database_factory(), await database_factory()
    clock = FakeClock()
    wendeng, ghost = (Home(Path(tmp_path_factory.mktemp(n))) for n in ("wendeng", "ghost"))
    await init_ledger(asyncpg_url(url), wendeng, WENDENG, "county", "威海市文登区", clock)
    # A home whose ledger is in another database: it cannot start on this one.
    await init_ledger(asyncpg_url(elsewhere), ghost, "ghost.ledger.test/log", "county", "某县", clock)
    app = ledgers_app([settings(url, wendeng, clock), settings(url, ghost, clock)])
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await inbox.put({"type": "lifespan.startup"})
    with pytest.raises(Exception):  # noqa: B017 (reported first, then raised as Litestar does)
        await app({"type": "lifespan"}, inbox.get, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "the ledger 'ghost.ledger.test/log'" in sent[0]["message"]
    assert "ledger.unknown" in sent[0]["message"]  # what make_engine says of it
    assert await connections_to(url) == 0  # wendeng started, then was shut down


async def test_serve_with_several_homes_routes_by_host(counties: Counties) -> None:
    """``rural-ledger serve --home A --home B``, over real HTTP."""
    w, r = counties.wendeng, counties.rongcheng
    homes = ("--home", str(w.home.root), "--home", str(r.home.root))
    async with serve(counties.url, w.home, *homes) as server, httpx.AsyncClient(base_url=server.base) as http:
        assert "2 ledgers by host name" in server.log()
        for host, origin in (("wendeng.ledger.test", WENDENG), ("rongcheng.ledger.test:80", RONGCHENG)):
            got = await http.get("/healthz", headers={"host": host})
            assert (got.status_code, got.json()["origin"]) == (200, origin), got.text
        before = await w.checkpoint()
        item = w.key_added(lambda: datetime.now(UTC))  # the served ledgers keep the real time
        got = await http.post("/v1/entries", json=item, headers={"host": "rongcheng.ledger.test"})
        assert (got.status_code, got.json()["code"]) == (422, "entry.wrong_ledger")
        got = await http.post("/v1/entries", json=item, headers={"host": "wendeng.ledger.test"})
        assert got.status_code == 200, got.text
        assert await w.checkpoint() == (WENDENG, before[1] + 1)
        got = await http.get("/v1/checkpoint", headers={"host": "example.test"})
        assert (got.status_code, got.json()["code"]) == (404, "ledger.unknown")
        # The health check (the image's) asks each ledger served, by its first host name.
        health = [sys.executable, "-m", "api.cli.main", "health", "--timeout", "10"]
        env = {**os.environ, "RURAL_LEDGER_PORT": server.base.rsplit(":", 1)[1].rstrip("/")}
        env["RURAL_LEDGER_HOMES"] = os.pathsep.join([str(w.home.root), str(r.home.root)])
        done = await asyncio.to_thread(subprocess.run, health, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "Host: wendeng.ledger.test" in done.stdout and "Host: rongcheng.ledger.test" in done.stdout


def test_serve_refuses_homes_it_cannot_serve(
    counties: Counties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each in one line, exit 2, before any process starts."""
    w, r = (str(c.home.root) for c in (counties.wendeng, counties.rongcheng))
    ghost = Home(tmp_path / "ghost")
    ghost.write_operator_key(*generate_signer("ghost.ledger.test/log"))  # a ledger made elsewhere
    (Path(r) / "hosts").write_text("wendeng.ledger.test\n")
    monkeypatch.setenv("DATABASE_URL", counties.url)
    try:
        assert main(["serve", "--home", w, "--home", r]) == 2
        assert "the host 'wendeng.ledger.test' names two ledgers" in capsys.readouterr().err
    finally:
        (Path(r) / "hosts").unlink()
    assert main(["serve", "--home", w, "--home", str(ghost.root)]) == 2
    assert "not 'ghost.ledger.test/log'" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL")
    assert main(["serve", "--home", w, "--home", r]) == 2
    assert "set DATABASE_URL" in capsys.readouterr().err
