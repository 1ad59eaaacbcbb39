"""``rural-ledger bench append``: entries/s through the appender (signatures checked, rules
run, records, Merkle nodes, projections and checkpoints stored), beside references measured in
the same run on the same machine: the Ed25519 verify-only rate over the same signatures
(libsodium, one core), a raw asyncpg COPY of the same record rows, and the INSERT from unnested
arrays the appender writes them with. Also the scratch databases every benchmark uses."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.bench_ledgers import stop_embedded
from api.cli.bench_report import BenchResult, Row, print_table
from api.client import signed_entry
from api.home import Home
from api.service.database import asyncpg_url, embedded_url
from api.service.genesis import init_ledger
from api.service.service import LedgerService
from ledger import store
from ledger.canonical import canonical_bytes
from ledger.entry import Record, format_time, parse_submission
from ledger.schema import LEDGER_DEFAULT
from ledger.signing import SigningKey, b64, entry_message, verify_signature


async def scratch_database(folder: Path | None = None) -> tuple[str, str | None]:
    """A fresh database and its name: on DATABASE_URL's server (for ``drop_database``), else
    embedded in ``folder`` (a new temporary one if not given) and no name."""
    server = os.environ.get("DATABASE_URL")
    if not server:
        return embedded_url(folder or Path(tempfile.mkdtemp(prefix="rl-bench-"))), None
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
VERIFY_TARGET = 0.5  # issue 17: the appender at >= 50% of the one-core verify-only rate


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


async def append_bench(entries: int, batch: int, progress: Callable[[str], None] = print) -> BenchResult:
    """The appender and its references on a scratch database, removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="rl-bench-append-"))
    try:
        return await append_in(folder, entries, batch, progress)
    finally:
        if not os.environ.get("DATABASE_URL"):
            stop_embedded(folder)
        shutil.rmtree(folder, ignore_errors=True)


async def append_in(folder: Path, entries: int, batch: int, progress: Callable[[str], None]) -> BenchResult:
    from api.service.database import make_engine

    url, scratch = await scratch_database(folder)
    home = Home(folder / "home")
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
    progress(f"append: {entries:,} key.added entries, batches of {batch}")

    # Reference 1: Ed25519 verify only (libsodium, one core), over the same messages and signatures.
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

    # References 2 and 3: the same record rows into an unindexed copy of the table, by a raw
    # COPY, and by the INSERT from unnested arrays the appender writes with (ledger.store:
    # COPY FROM is refused under row-level security).
    now = datetime.now(UTC)
    rows = []
    for seq, item in enumerate(items, start=10**9):
        r = Record.make(seq, format_time(now), item["entry"], item["sig"])
        rows.append((1, seq, uuid.UUID(item["entry"]["id"]), "key.added", "county", now, r.body, r.leaf))
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute("CREATE TEMP TABLE copy_ref (LIKE records)")
    t = time.perf_counter()
    await conn.copy_records_to_table(
        "copy_ref",
        records=rows,
        columns=["ledger_id", "seq", "entry_id", "kind", "actor", "recorded_at", "body", "leaf_hash"],
    )
    copy_rate = rate(entries, time.perf_counter() - t)
    await conn.close()
    unnest_rate = await unnest_insert_rate(engine, [row[1:] for row in rows])
    await engine.dispose()
    if scratch:
        await drop_database(scratch)

    result = BenchResult("append")
    result.rows = [
        Row(
            "append",
            f"appender, {entries:,} entries",
            append_rate,
            "entries/s",
            "Ed25519 verify only, one core",
            verify_rate,
            target=f">= {VERIFY_TARGET:.0%}",
            met=append_rate >= VERIFY_TARGET * verify_rate,
        ),
        Row(
            "append",
            f"appender, {entries:,} entries",
            append_rate,
            "entries/s",
            "raw COPY of the records",
            copy_rate,
        ),
        Row(
            "append",
            f"appender, {entries:,} entries",
            append_rate,
            "entries/s",
            "INSERT from unnest, the records",
            unnest_rate,
        ),
    ]
    result.figures = {
        "entries": entries,
        "batch": batch,
        "clients": CLIENTS,
        "per_request": REQUEST,
        "append_per_second": round(append_rate, 1),
        "verify_only_per_second": round(verify_rate, 1),
        "copy_rows_per_second": round(copy_rate, 1),
        "unnest_insert_rows_per_second": round(unnest_rate, 1),
    }
    return result


async def unnest_insert_rate(engine: AsyncEngine, rows: list[tuple[Any, ...]]) -> float:
    """Rows/s of ``ledger.store.insert_rows`` of ``rows`` into an unindexed temporary copy of
    the records table, in one transaction."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TEMP TABLE unnest_ref (LIKE records) ON COMMIT DROP"))
        await conn.execute(
            text(f"ALTER TABLE unnest_ref ALTER COLUMN ledger_id SET DEFAULT {LEDGER_DEFAULT}")
        )
        t = time.perf_counter()
        await conn.run_sync(store.insert_rows, "unnest_ref", store.RECORD_COLUMNS, rows)
        return rate(len(rows), time.perf_counter() - t)


async def run_append_bench(entries: int, batch: int) -> int:
    """``bench append`` as a table."""
    print_table((await append_bench(entries, batch)).rows)
    return 0
