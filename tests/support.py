"""Helpers shared by the integration tests: a running ledger and signing organisations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from api.client import LedgerClient, signed_entry
from api.home import Home
from api.http.app import Settings, create_app
from api.http.rate_limits import RateLimits
from api.service.database import asyncpg_url
from api.service.genesis import Genesis, init_ledger
from contracts.rulebook import RULEBOOK
from ledger.checkpoint import NoteVerifier
from ledger.schema import LEDGER_SETTING
from ledger.signing import KeyFile, SigningKey, b64


@dataclass
class LedgerFixture:
    url: str
    home: Home
    genesis: Genesis
    client: LedgerClient
    clock: Callable[[], datetime]
    keys: dict[str, KeyFile] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=lambda: {"county": "371003"})
    serial: int = 0

    @property
    def origin(self) -> str:
        return self.genesis.origin

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_string(self.genesis.operator_key)

    def sign(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        kw.setdefault("signed_at", self.clock())
        return signed_entry(key, self.origin, kind, payload, **kw)

    async def submit(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> Any:
        """Submit and return the raw HTTP response (status and body), for rejection tests."""
        return await self.client.http.post("/v1/entries", json=self.sign(key, kind, payload, **kw))

    async def origin_ready(self) -> str:
        return await self.client.origin()

    async def size(self) -> int:
        return int((await self.client.get("/healthz"))["size"])

    def org_payload(
        self, parent: str, org_id: str, org_type: str, name: str | None = None, key: KeyFile | None = None
    ) -> dict[str, Any]:
        """An ``org.registered`` payload with valid codes under ``parent`` (remembered)."""
        key = key or KeyFile(org_id, SigningKey.generate())
        payload: dict[str, Any] = {
            "id": org_id,
            "name": name or org_id,
            "type": org_type,
            "parent": parent,
            "public_keys": [b64(key.key.public_key)],
        }
        parent_code = self.codes.get(parent, "371003")
        if org_type in ("township", "village_collective"):
            self.serial += 1
            payload["area_code"] = f"{parent_code}{self.serial % 1000:03d}"
        if org_type in ("village_collective", "developer"):
            self.serial += 1
            prefix = "N2" if org_type == "village_collective" else "91"
            payload["credit_code"] = credit_code(prefix, parent_code[:6], self.serial)
        return payload

    async def register(self, parent: str, org_id: str, org_type: str, name: str | None = None) -> KeyFile:
        """Register an organisation under ``parent`` with a fresh key; returns its key file."""
        key = KeyFile(org_id, SigningKey.generate())
        payload = self.org_payload(parent, org_id, org_type, name, key)
        await self.client.append(self.keys[parent], "org.registered", payload)
        self.keys[org_id] = key
        if "area_code" in payload:
            self.codes[org_id] = payload["area_code"]
        return key


def township_payload(org_id: str, name: str, serial: int) -> dict[str, Any]:
    """An ``org.registered`` payload for a township under the county, with a fresh key and the
    9-digit area code ``371003`` + ``serial``."""
    key = KeyFile(org_id, SigningKey.generate())
    return {
        "id": org_id,
        "name": name,
        "type": "township",
        "parent": "county",
        "public_keys": [b64(key.key.public_key)],
        "area_code": f"371003{serial:03d}",
    }


def credit_code(prefix: str, area: str, serial: int) -> str:
    """A valid unified social credit code: prefix, 6-digit area, serial, check character."""
    from contracts.identifiers import credit_code_check_char

    first17 = f"{prefix}{area}{serial:09d}"
    return first17 + credit_code_check_char(first17)


@asynccontextmanager
async def open_ledger(
    url: str,
    home_dir: Path,
    clock: Callable[[], datetime],
    origin: str = "test.rural-ledger/weihai",
    rules_version: int | None = RULEBOOK.current,
) -> AsyncIterator[LedgerFixture]:
    """A new ledger served by the real app; it adopts ``rules_version`` after genesis, as
    ``init`` does (None: no adoption, the ledger runs rule version 1)."""
    home = Home(home_dir)
    genesis = await init_ledger(
        asyncpg_url(url), home, origin, "county", "威海市文登区", clock, rules_version=rules_version
    )
    # Every visitor of a test comes from the test client's one address: the failed sign-ins'
    # limit per address would count all of them as one (it is proven in test_rate_limits).
    limits = replace(RateLimits.from_env(), sign_in_per_address=0)
    settings = Settings(home=home, database_url=asyncpg_url(url), clock=clock, rate_limits=limits)
    app = create_app(settings)
    async with AsyncTestClient(app=app, timeout=120) as http:
        fx = LedgerFixture(url, home, genesis, LedgerClient(http=http, origin=origin, clock=clock), clock)
        fx.keys["county"] = home.org_key("county")
        yield fx


async def owner_connection(url: str, ledger: int = 1) -> asyncpg.Connection:
    """The database owner's connection (not held to one ledger by row-level security), opened
    for ledger ``ledger`` (a test database's first, and mostly only, ledger is number 1) so
    that the rows it puts in behind the API's back are that ledger's."""
    return await asyncpg.connect(url, server_settings={LEDGER_SETTING: str(ledger)})
