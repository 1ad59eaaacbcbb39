"""A seeded county puts no registered person's name, resident ID number or phone number anywhere
in the log: not in a record body, not in the export, not in any public route's answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.audit.export import write_bundle
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url, make_engine
from seed.runner import SeedOptions
from tests.integration.test_seed import MakeDatabase, seeded

OPTIONS = SeedOptions(villages=1, seed=23, years=2, households=(12, 16), streams=1)
MAX_PAGES = 400  # per listing: bounds the crawl however large the story grows


async def personal_data(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch("SELECT name, id_number, phone FROM personal_data")
    finally:
        await conn.close()


async def record_bodies(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT body FROM records ORDER BY seq")
    finally:
        await conn.close()
    # Re-encoded so that a \\u escape in storage cannot hide a name from the search.
    return [msgspec.json.encode(msgspec.json.decode(r["body"])).decode() for r in rows]


class Crawl:
    """Every public answer read, kept as text."""

    def __init__(self, http: AsyncTestClient[Any]) -> None:
        self.http = http
        self.texts: dict[str, str] = {}

    async def get(self, path: str, **params: Any) -> Any:
        r = await self.http.get(path, params=params)
        assert r.status_code == 200, (path, r.text)
        self.texts[f"{path}?{params}"] = r.text
        return r

    async def pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = None
        for _ in range(MAX_PAGES):
            page = (
                await self.get(path, **params, limit=100, **({} if after is None else {"after": after}))
            ).json()
            items += page["items"]
            after = page["next"]
            if after is None:
                return items
        raise AssertionError(f"{path}: more than {MAX_PAGES} pages")


def offending(texts: dict[str, str], needles: set[str]) -> list[tuple[str, str]]:
    return [(where, n) for where, text in texts.items() for n in needles if n in text][:20]


@pytest.fixture(scope="module")
async def county(
    database_factory: MakeDatabase, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Any, set[str], float]:
    started = time.monotonic()
    url, home, _, _ = await seeded(database_factory, tmp_path_factory.mktemp("county") / "c", OPTIONS)
    rows = await personal_data(url)
    needles = {r["name"] for r in rows if len(r["name"]) >= 2}
    needles |= {r["id_number"] for r in rows} | {r["phone"] for r in rows}
    return url, home, needles, time.monotonic() - started


async def test_seed_registered_people(county: tuple[str, Any, set[str], float]) -> None:
    url, _, needles, _ = county
    assert len(await personal_data(url)) >= 20
    assert len(needles) >= 60  # a name, an ID number and a phone for each


async def test_no_personal_data_in_record_bodies(county: tuple[str, Any, set[str], float]) -> None:
    url, _, needles, _ = county
    bodies = await record_bodies(url)
    assert len(bodies) > 100
    assert any("land.contract_issued" in b for b in bodies)
    found = offending({f"record {i}": b for i, b in enumerate(bodies)}, needles)
    assert not found, found


async def test_no_personal_data_in_export(county: tuple[str, Any, set[str], float], tmp_path: Path) -> None:
    url, _, needles, _ = county
    engine = make_engine(asyncpg_url(url), pool_size=2)
    try:
        await write_bundle(engine, tmp_path / "bundle")
    finally:
        await engine.dispose()
    files = {str(p): p.read_text(errors="replace") for p in (tmp_path / "bundle").rglob("*") if p.is_file()}
    assert sum(len(t) for t in files.values()) > 100_000
    found = offending(files, needles)
    assert not found, found


async def test_no_personal_data_in_public_routes(county: tuple[str, Any, set[str], float]) -> None:
    url, home, needles, _ = county
    app = create_app(Settings(home=home, database_url=asyncpg_url(url), clock=lambda: datetime.now(UTC)))
    async with AsyncTestClient(app=app, timeout=120) as http:
        crawl = Crawl(http)
        entries = await crawl.pages("/v1/entries")
        await crawl.get("/v1/export")
        collectives = [o["id"] for o in await crawl.pages("/v1/orgs") if o["type"] == "village_collective"]
        assert collectives
        households = await crawl.pages("/v1/households")
        await crawl.pages("/v1/members")
        contracts = await crawl.pages("/v1/land/contracts")
        await crawl.pages("/v1/land/transfers")
        await crawl.pages("/v1/homesteads")
        certificates = await crawl.pages("/v1/certificates")
        parcels = sorted(
            {
                p["code"]
                for e in entries
                if e["entry"]["kind"] == "land.contract_issued"
                for p in e["entry"]["payload"]["parcels"]
            }
        )
        for code in parcels[:60]:
            await crawl.get(f"/v1/land/parcels/{code}")
        for c in contracts[:30]:
            await crawl.get(f"/v1/land/contracts/{c['id']}")
        for h in households[:30]:
            await crawl.get(f"/v1/households/{h['id']}")
            await crawl.get(f"/v1/households/{h['id']}/rights")
        for c in certificates[:20]:
            await crawl.get(f"/v1/certificates/{c['id']}")
        for collective in collectives:
            await crawl.get(f"/v1/shares/collectives/{collective}")
            await crawl.get(f"/v1/shares/collectives/{collective}/register.csv")
    assert len(parcels) > 20 and len(households) >= 12
    found = offending(crawl.texts, needles)
    assert not found, found
