"""``rural-ledger bench seed``: records/s seeding a county with the real ``rural-ledger seed``
(a child process: the story told, signed and submitted through the real HTTP app, its rules
and appender), beside the appender's entries/s of ``bench append`` in the same run.

Seeding pays for what ``bench append`` does not: telling the story, signing every entry with
the organisations' keys, blind indexes, HTTP and the rules of every kind; the ratio says how
much of the appender's rate survives that. The seeder's rate is its own (``seed.json``: the
seconds of the seeding, without the start-up), the command's whole time beside it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from api.cli.bench import append_bench, drop_database, rate
from api.cli.bench_report import BenchResult, Row
from api.service.database import asyncpg_url

Progress = Callable[[str], None]
ORIGIN = "bench.rural-ledger/seed"
MILLION_RATE = 1_000_000 / 300  # issue 17: a million-record county seeded in under 5 minutes


@dataclass(frozen=True)
class SeedBenchOptions:
    villages: int = 5  # about 2,400 records each
    entries: int = 20_000  # of the append benchmark beside it
    batch: int = 2000


def seed_command(home: Path, villages: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "api.cli.main",
        "--home",
        str(home),
        "seed",
        "--init",
        ORIGIN,
        "--villages",
        str(villages),
        "--quiet",
    ]


async def scratch_server_database() -> tuple[dict[str, str], str | None]:
    """The child's environment: a fresh database on ``DATABASE_URL``'s server (its name, to be
    dropped), else none (the seed command then makes an embedded one in its home)."""
    server = os.environ.get("DATABASE_URL")
    if not server:
        return {}, None
    plain = asyncpg_url(server).replace("postgresql+asyncpg://", "postgresql://")
    name = f"rl_bench_seed_{os.getpid()}_{int(time.time())}"
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = plain.rpartition("/")
    return {"DATABASE_URL": f"{base}/{name}"}, name


async def seed_figures(villages: int, progress: Progress) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="rl-bench-seed-"))
    env, scratch = await scratch_server_database()
    progress(f"seed: seeding {villages} villages with `rural-ledger seed`")
    try:
        started = time.perf_counter()
        done = await asyncio.to_thread(
            subprocess.run,
            seed_command(home, villages),
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"rural-ledger seed exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        state = json.loads((home / "seed.json").read_text())
    finally:
        if scratch:
            await drop_database(scratch)
        shutil.rmtree(home, ignore_errors=True)
    records, seconds = int(state["records"]), float(state["seconds"])
    return {
        "villages": villages,
        "records": records,
        "seconds": seconds,
        "records_per_second": round(rate(records, seconds), 1),
        "command_seconds": round(wall, 2),
    }


async def seed_bench(
    options: SeedBenchOptions, progress: Progress, append: BenchResult | None = None
) -> BenchResult:
    """Seeding beside ``append``, the append benchmark of this run (run here if not given)."""
    seeded = await seed_figures(options.villages, progress)
    if append is None:
        append = await append_bench(options.entries, options.batch, progress)
    append_rate = float(append.figures["append_per_second"])
    entries = int(append.figures["entries"])
    result = BenchResult("seed")
    result.rows = [
        Row(
            "seed",
            f"seeding {options.villages} village{'s' if options.villages != 1 else ''}, "
            f"{seeded['records']:,} records",
            seeded["records_per_second"],
            "records/s",
            f"bench append, {entries:,} entries",
            append_rate,
            target=f"1M records in < 5 min: >= {MILLION_RATE:,.0f}/s",
            met=seeded["records_per_second"] >= MILLION_RATE,
            note=f"{seeded['seconds']:.1f} s seeding, {seeded['command_seconds']:.1f} s the whole command",
        )
    ]
    result.figures = {"seed": seeded, "append": append.figures}
    return result
