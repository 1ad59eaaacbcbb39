"""``verify`` of a seeded county with its replayed state on disk and its checks made ahead in
worker processes gives the state digest of the replay in memory, which is the digest the
service computes over its projection tables, byte for byte, offline and against the live
server."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.audit.auditor import Auditor, audit_bundle
from api.audit.export import write_bundle
from api.cli.main import parser
from api.cli.verify import run_verify
from api.home import Home
from api.http.app import Settings, create_app
from api.http.routes.audit import state_digest
from api.service.database import asyncpg_url, make_engine
from ledger.checkpoint import NoteVerifier
from seed.command import init_for_story
from seed.runner import DEFAULT_START, SeedOptions, seed_ledger

MakeDatabase = Callable[[], Coroutine[Any, Any, str]]
ORIGIN = "test.rural-ledger/on-disk"
OPTIONS = SeedOptions(villages=2, seed=5, years=7, households=(20, 32))


@pytest.fixture(scope="module")
async def county(database_factory: MakeDatabase, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A seeded county: its database, home, operator key, bundle and the service's digest."""
    url = await database_factory()
    folder = tmp_path_factory.mktemp("on-disk")
    home = Home(folder / "home")
    home.root.mkdir()
    home.blind_index_file.write_text("6f" * 32 + "\n")
    operator_key = await init_for_story(home, asyncpg_url(url), ORIGIN, DEFAULT_START)
    await seed_ledger(home, asyncpg_url(url), OPTIONS)
    engine = make_engine(asyncpg_url(url), pool_size=2, ledger=home.origin())
    try:
        await write_bundle(engine, folder / "bundle")
        async with engine.connect() as conn:
            size, digest = await conn.run_sync(state_digest)
    finally:
        await engine.dispose()
    return url, home, operator_key, folder / "bundle", size, digest.digest.hex()


def verify_args(source: str, operator_key: str, workers: int) -> Any:
    return parser().parse_args(
        ["verify", source, "--operator-key", operator_key, "--workers", str(workers), "--quiet"]
    )


async def test_a_bundle_on_disk_with_workers_gives_the_digest_in_memory_and_the_services(county: Any) -> None:
    _, _, operator_key, bundle, size, service_digest = county
    on_disk = await run_verify(verify_args(str(bundle), operator_key, 2))
    in_memory = await audit_bundle(bundle, Auditor(NoteVerifier.from_string(operator_key), in_memory=True))
    assert on_disk.status == in_memory.status == "intact", on_disk.as_json()
    assert on_disk.size == in_memory.size == size > 1_000
    assert on_disk.rule_versions == in_memory.rule_versions
    assert on_disk.state_digest == in_memory.state_digest == service_digest
    assert on_disk.workers_peak_rss_mb is not None and on_disk.peak_rss_mb


async def test_the_live_server_matches_the_state_on_disk(county: Any) -> None:
    url, home, operator_key, _, _, _ = county
    async with AsyncTestClient(app=create_app(Settings(home=home, database_url=asyncpg_url(url)))) as http:
        outcome = await run_verify(verify_args("http://testserver", operator_key, 2), http=http)
    assert outcome.status == "intact", outcome.as_json()
    assert outcome.server_digest == "match"
