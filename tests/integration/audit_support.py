"""Helpers for the audit tests: a small but varied ledger, bundles, and `verify` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from api.audit.auditor import AuditOutcome
from api.audit.export import write_bundle
from api.cli.main import parser
from api.cli.verify import run_verify
from api.service.database import asyncpg_url, make_engine
from tests.registry_support import village
from tests.support import LedgerFixture, owner_connection


async def populate(fx: LedgerFixture) -> None:
    """Townships, a village with members, an exchange center, a revoked key."""
    await fx.register("county", "exchange", "exchange_center")
    v = await village(fx, "town-a", "village-a")
    await v.members(3)
    spare = await fx.register("county", "spare-dev", "developer")
    await fx.client.append(fx.keys["county"], "key.revoked", {"key_id": spare.key.key_id, "reason": "lost"})


async def bundle(fx: LedgerFixture, folder: Path, *, nodes: bool = True) -> Path:
    engine = make_engine(asyncpg_url(fx.url), pool_size=2)
    try:
        await write_bundle(engine, folder, nodes=nodes)
    finally:
        await engine.dispose()
    return folder


async def verify(
    fx: LedgerFixture, source: str | Path | None = None, *extra: str, workers: int = 0
) -> AuditOutcome:
    """``rural-ledger verify`` on a bundle, or on the live server when ``source`` is None."""
    args = parser().parse_args(
        [
            "verify",
            str(source or "http://testserver"),
            "--operator-key",
            fx.genesis.operator_key,
            "--workers",
            str(workers),
            "--quiet",
            *extra,
        ]
    )
    return await run_verify(args, http=fx.client.http if source is None else None)


async def owner(fx: LedgerFixture) -> asyncpg.Connection:
    """The database owner, with the append-only triggers off for this session (a tamperer)."""
    conn = await owner_connection(fx.url)
    await conn.execute("SET session_replication_role = replica")
    return conn


def failure(outcome: AuditOutcome) -> dict[str, Any]:
    assert outcome.status == "tampered", outcome.as_json()
    assert outcome.exit_code == 1
    return outcome.as_json()["failure"] or {}
