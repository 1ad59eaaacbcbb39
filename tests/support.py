"""Helpers shared by the integration tests: a running ledger and signing organisations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from api.app import Settings, create_app
from api.client import LedgerClient, signed_entry
from api.database import asyncpg_url
from api.genesis import Genesis, init_ledger
from api.home import Home
from ledger.checkpoint import NoteVerifier
from ledger.signing import KeyFile, SigningKey, b64


@dataclass
class LedgerFixture:
    url: str
    home: Home
    genesis: Genesis
    client: LedgerClient
    clock: Callable[[], datetime]
    keys: dict[str, KeyFile] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return self.genesis.origin

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_string(self.genesis.operator_key)

    def sign(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return signed_entry(key, self.origin, kind, payload, **kw)

    async def submit(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> Any:
        """Submit and return the raw HTTP response (status and body), for rejection tests."""
        return await self.client.http.post("/v1/entries", json=self.sign(key, kind, payload, **kw))

    async def size(self) -> int:
        return int((await self.client.get("/healthz"))["size"])

    async def register(self, parent: str, org_id: str, org_type: str, name: str | None = None
                       ) -> KeyFile:
        """Register an organisation under ``parent`` with a fresh key; returns its key file."""
        key = KeyFile(org_id, SigningKey.generate())
        await self.client.append(self.keys[parent], "org.registered", {
            "id": org_id, "name": name or org_id, "type": org_type, "parent": parent,
            "public_keys": [b64(key.key.public_key)]})
        self.keys[org_id] = key
        return key


@asynccontextmanager
async def open_ledger(url: str, home_dir: Path, clock: Callable[[], datetime],
                      origin: str = "test.rural-ledger/weihai") -> AsyncIterator[LedgerFixture]:
    home = Home(home_dir)
    genesis = await init_ledger(asyncpg_url(url), home, origin, "county", "威海市文登区", clock)
    app = create_app(Settings(home=home, database_url=asyncpg_url(url), clock=clock))
    async with AsyncTestClient(app=app, timeout=120) as http:
        fx = LedgerFixture(url, home, genesis, LedgerClient(http=http, origin=origin), clock)
        fx.keys["county"] = home.org_key("county")
        yield fx
