"""``rural-ledger bench append``: entries/s through the appender (signatures checked, rules
run, records, Merkle nodes, projections and checkpoints stored), beside two references
measured in the same run on the same machine: the Ed25519 verify-only rate over the same
signatures, and a raw asyncpg COPY of the same record rows."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from api.client import signed_entry
from api.home import Home
from api.service.database import asyncpg_url, embedded_url
from api.service.genesis import init_ledger
from api.service.service import LedgerService
from ledger.canonical import canonical_bytes
from ledger.entry import Record, format_time, parse_submission
from ledger.signing import SigningKey, b64, entry_message, verify_signature


async def scratch_database() -> tuple[str, str | None]:
    """A fresh database: on DATABASE_URL's server (dropped afterwards), else embedded."""
    server = os.environ.get("DATABASE_URL")
    if not server:
        return embedded_url(Path(tempfile.mkdtemp(prefix="rl-bench-"))), None
    plain = asyncpg_url(server).replace("postgresql+asyncpg://", "postgresql://")
    name = f"rl_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(plain)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base, _, _ = plain.rpartition("/")
    return asyncpg_url(f"{base}/{name}"), name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(
        asyncpg_url(os.environ["DATABASE_URL"]).replace("postgresql+asyncpg://", "postgresql://")
    )
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


CLIENTS = 8
REQUEST = 500


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


async def run_append_bench(entries: int, batch: int) -> int:
    from api.service.database import make_engine

    url, scratch = await scratch_database()
    home = Home(Path(tempfile.mkdtemp(prefix="rl-bench-home-")))
    genesis = await init_ledger(url, home, "bench.rural-ledger/append", "county", "bench")
    county = home.org_key("county")
    items = [
        signed_entry(
            county,
            genesis.origin,
            "key.added",
            {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
        )
        for _ in range(entries)
    ]
    print(f"rural-ledger bench append: {entries} key.added entries, batches of {batch}")

    # Reference 1: Ed25519 verify only, over the same messages and signatures.
    messages = [
        (
            entry_message(canonical_bytes(i["entry"])),
            SigningKey.from_seed(county.key.seed).public_key,
            parse_submission(i, genesis.origin).signature,
        )
        for i in items
    ]
    t = time.perf_counter()
    for message, public, signature in messages:
        verify_signature(public, signature, message)
    verify_rate = rate(entries, time.perf_counter() - t)

    # The appender, as the service runs it for 8 clients sending 500 entries a request: shape
    # checks, signatures (ahead, on both cores), rules, records, nodes, projections, checkpoints.
    engine = make_engine(url, ledger=home.origin())
    service = await LedgerService.open(engine, home.operator_signer(), max_batch=batch)
    gate = asyncio.Semaphore(CLIENTS)

    async def client(chunk: list[dict[str, Any]]) -> None:
        async with gate:
            results = await service.submit(chunk)
        refused = [r for r in results if isinstance(r, Exception)]
        if refused:
            raise RuntimeError(f"benchmark entries refused: {refused[:3]}")

    t = time.perf_counter()
    await asyncio.gather(*(client(items[i : i + REQUEST]) for i in range(0, entries, REQUEST)))
    append_rate = rate(entries, time.perf_counter() - t)
    await service.close()
    await engine.dispose()

    # Reference 2: raw COPY of the same record rows into an unindexed copy of the table.
    now = datetime.now(UTC)
    rows = []
    for seq, item in enumerate(items, start=10**9):
        r = Record.make(seq, format_time(now), item["entry"], item["sig"])
        rows.append((seq, uuid.UUID(item["entry"]["id"]), "key.added", "county", now, r.body, r.leaf))
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute("CREATE TEMP TABLE copy_ref (LIKE records)")
    t = time.perf_counter()
    await conn.copy_records_to_table(
        "copy_ref",
        records=rows,
        columns=["seq", "entry_id", "kind", "actor", "recorded_at", "body", "leaf_hash"],
    )
    copy_rate = rate(entries, time.perf_counter() - t)
    await conn.close()
    if scratch:
        await drop_database(scratch)

    print(f"  appender          {append_rate:10,.0f} entries/s")
    print(
        f"  Ed25519 verify    {verify_rate:10,.0f} signatures/s   "
        f"appender = {append_rate / verify_rate:6.1%} of it (target >= 40%)"
    )
    print(
        f"  raw COPY records  {copy_rate:10,.0f} rows/s         "
        f"appender = {append_rate / copy_rate:6.1%} of it"
    )
    print(f"  target 5,000 entries/s: {'met' if append_rate >= 5000 else 'NOT met'}")
    return 0
