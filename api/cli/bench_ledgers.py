"""Ledgers of given sizes for the benchmarks, built through the real appender and kept for reuse.

Every size is a database of its own on one PostgreSQL server (``DATABASE_URL``'s, else an
embedded one in the benchmark's folder), and all of them hold the same ledger (one home: one
origin, one operator key) at different sizes. The smallest is appended to from its genesis;
each larger one starts as a copy of the largest smaller one (``CREATE DATABASE ... TEMPLATE``, a
copy of its files) and appends the rest, so that 10k, 100k and 1M records cost 1M appends.
Entries are ``key.added`` by the root, signed in another process a chunk ahead of the one being
appended, and submitted to ``LedgerService.submit`` as ``bench append`` submits them: the
records, Merkle nodes, projections and checkpoints are the appender's own, so the ledger
verifies like any other.

With a kept folder (``--reuse DIR``) the home, the embedded server's files and a note of the
databases (``DIR/ledgers.json``) stay, and a later run serves the sizes already built as they
are. A ledger is never grown in place past a size it was noted at: a kept ledger always has
exactly the size it is named for. Without one, everything is dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from api.client import signed_entry
from api.home import Home
from api.service.database import asyncpg_url, embedded_url, make_engine
from api.service.genesis import init_ledger
from api.service.service import LedgerService
from ledger import store
from ledger.signing import KeyFile, SigningKey, b64

ROOT = "county"
NOTE = "ledgers.json"
SIGN_CHUNK = 20_000  # entries signed at once, in the signing process
REQUEST = 500  # entries a submission, as 8 clients of the service send them
CLIENTS = 8
MAX_BATCH = 2000  # the service's default group-commit batch

Progress = Callable[[str], None]


def sign_key_added(seed: bytes, origin: str, n: int) -> list[dict[str, Any]]:
    """``n`` ``key.added`` entries by the root, each adding a fresh key (in the signing process)."""
    root = KeyFile(ROOT, SigningKey.from_seed(seed))
    return [
        signed_entry(
            root, origin, "key.added", {"org": ROOT, "public_key": b64(SigningKey.generate().public_key)}
        )
        for _ in range(n)
    ]


def plain(url: str) -> str:
    """``url`` as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@dataclass
class BenchLedgers:
    """The benchmark's ledgers: one home, one server, a database per size."""

    folder: Path
    home: Home
    origin: str
    server: str  # the server's maintenance database, asyncpg dialect URL
    prefix: str  # of the databases' names
    kept: bool
    databases: dict[int, str]  # size: database name
    embedded: bool

    def url(self, size: int) -> str:
        return make_url(self.server).set(database=self.databases[size]).render_as_string(hide_password=False)

    def note(self) -> None:
        doc = {"origin": self.home.origin(), "prefix": self.prefix, "databases": self.databases}
        (self.folder / NOTE).write_text(json.dumps(doc, indent=2) + "\n")


async def admin(ledgers: BenchLedgers) -> asyncpg.Connection:
    return await asyncpg.connect(plain(ledgers.server))


async def database_exists(ledgers: BenchLedgers, name: str) -> bool:
    conn = await admin(ledgers)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def copy_database(ledgers: BenchLedgers, source: str, target: str) -> None:
    """``target`` as a copy of ``source``, which no connection may hold meanwhile."""
    conn = await admin(ledgers)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await conn.close()


async def ledger_size(url: str, origin: str) -> int:
    engine = make_engine(url, pool_size=1, ledger=origin)
    try:
        async with engine.connect() as conn:
            latest = await conn.run_sync(store.latest_checkpoint)
    finally:
        await engine.dispose()
    return latest.size if latest else 0


async def grow(url: str, home: Home, size: int, progress: Progress) -> float:
    """Append to the ledger in ``url`` until it holds ``size`` records; entries/s appended."""
    origin = home.origin()
    assert origin is not None
    have = await ledger_size(url, origin)
    todo = size - have
    if todo <= 0:
        return 0.0
    root = home.org_key(ROOT)
    engine = make_engine(url, ledger=origin)
    service = await LedgerService.open(engine, home.operator_signer(), max_batch=MAX_BATCH)
    gate = asyncio.Semaphore(CLIENTS)

    async def client(chunk: list[dict[str, Any]]) -> None:
        async with gate:
            results = await service.submit(chunk, proofs=False)
        refused = [r for r in results if isinstance(r, Exception)]
        if refused:
            raise RuntimeError(f"benchmark entries refused: {refused[:3]}")

    loop = asyncio.get_running_loop()
    signer = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    chunks = [min(SIGN_CHUNK, todo - i) for i in range(0, todo, SIGN_CHUNK)]
    sign = root.key.seed, origin
    ahead = [loop.run_in_executor(signer, sign_key_added, *sign, n) for n in chunks[:2]]
    started, done = time.perf_counter(), 0
    try:
        for k, n in enumerate(chunks):
            items = await ahead[k]
            if k + 2 < len(chunks):
                ahead.append(loop.run_in_executor(signer, sign_key_added, *sign, chunks[k + 2]))
            await asyncio.gather(*(client(items[i : i + REQUEST]) for i in range(0, n, REQUEST)))
            done += n
            seconds = time.perf_counter() - started
            progress(f"building: {have + done:,}/{size:,} records ({done / seconds:,.0f}/s)")
    finally:
        signer.shutdown(cancel_futures=True)
        await service.close()
        await engine.dispose()
    return done / (time.perf_counter() - started)


async def build(ledgers: BenchLedgers, sizes: list[int], progress: Progress) -> dict[int, float]:
    """Every size of ``sizes`` not yet built: each from the largest one smaller, or the genesis.
    Returns the entries/s of each build."""
    rates: dict[int, float] = {}
    built = {s: n for s, n in ledgers.databases.items() if await database_exists(ledgers, n)}
    if not built or min(sizes) < min(built):
        # A ledger smaller than every one built can only be had from a new genesis, and every
        # size must hold the same ledger: start again.
        await drop_databases(ledgers)
        built = {}
        shutil.rmtree(ledgers.home.root, ignore_errors=True)
    ledgers.databases = built
    for size in sorted(sizes):
        name = f"{ledgers.prefix}_{size}"
        if size in ledgers.databases:
            continue
        smaller = [s for s in ledgers.databases if s < size]
        if smaller:
            await copy_database(ledgers, ledgers.databases[max(smaller)], name)
        else:
            await create_genesis(ledgers, name)
        ledgers.databases[size] = name
        rates[size] = await grow(ledgers.url(size), ledgers.home, size, progress)
        if ledgers.kept:
            ledgers.note()
    return rates


async def create_genesis(ledgers: BenchLedgers, name: str) -> None:
    conn = await admin(ledgers)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(ledgers.server).set(database=name).render_as_string(hide_password=False)
    await init_ledger(url, ledgers.home, ledgers.origin, ROOT, "bench")


@contextlib.asynccontextmanager
async def bench_ledgers(
    purpose: str, sizes: list[int], reuse: Path | None, progress: Progress
) -> AsyncIterator[BenchLedgers]:
    """Ledgers of ``sizes`` records for ``purpose`` (a word: ``proofs``, ``http``); kept in
    ``reuse`` when given, else made in a temporary folder and dropped at the end."""
    folder = (reuse / purpose) if reuse else Path(tempfile.mkdtemp(prefix=f"rl-bench-{purpose}-"))
    folder.mkdir(parents=True, exist_ok=True)
    server_env = os.environ.get("DATABASE_URL")
    server = asyncpg_url(server_env) if server_env else embedded_url(folder)
    tag = hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:8] if reuse else uuid.uuid4().hex[:8]
    prefix = f"rl_bench_{purpose}_{tag}"
    databases: dict[int, str] = {}
    noted = folder / NOTE
    if reuse and noted.exists():
        doc = json.loads(noted.read_text())
        if doc.get("prefix") == prefix:
            databases = {int(k): v for k, v in doc["databases"].items()}
    ledgers = BenchLedgers(
        folder,
        Home(folder / "home"),
        f"bench.rural-ledger/{purpose}",
        server,
        prefix,
        reuse is not None,
        databases,
        not server_env,
    )
    try:
        await build(ledgers, sizes, progress)
        yield ledgers
    finally:
        if not ledgers.kept:
            await drop_all(ledgers)


async def drop_databases(ledgers: BenchLedgers) -> None:
    conn = await admin(ledgers)
    try:
        for name in ledgers.databases.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    ledgers.databases = {}


async def drop_all(ledgers: BenchLedgers) -> None:
    if ledgers.embedded:
        stop_embedded(ledgers.folder)
    else:
        await drop_databases(ledgers)
    shutil.rmtree(ledgers.folder, ignore_errors=True)


def stop_embedded(folder: Path) -> None:
    """Stop the embedded server of ``folder`` (this process started it), before its files go."""
    from pgserver.postgres_server import get_server

    get_server((folder / "pgdata").resolve()).cleanup()
