"""``rural-ledger bench proofs``: inclusion proofs, consistency proofs and record reads through
HTTP at several ledger sizes (10k, 100k and 1M records by default), beside the bare reference
handler (``api.cli.bench_reference``) answering the same requests in the same run.

Each size is its own ledger built by the appender (``api.cli.bench_ledgers``) and served by
``rural-ledger serve`` (one process) over loopback. Per operation: latency with one request in
flight (p50, p99: what one auditor sees), then requests/s with ``concurrency`` in flight. The
requests are the same for the service and the reference: random records (seeded), proofs in
the tree of the ledger's size, consistency from a random earlier size. One proof per size is
checked against the ledger's signed checkpoint first, so the figures are those of a real log.
Before a size is served, its records and Merkle nodes, and their keys, are read once, so that
the operating system's cache holds them as a server's memory would hold its ledger: on a
machine shared with other work they may have been evicted since they were written, and the
figures would then be those of the disk.

Targets (issue 17): at 1M records a p99 under 2 ms, and no more than 1.5 times the 10k figure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from api.cli.bench_ledgers import bench_ledgers, plain
from api.cli.bench_load import Load, Send, drive
from api.cli.bench_reference import ORIGIN_VARIABLE
from api.cli.bench_report import BenchResult, Row
from api.cli.bench_serve import reference, service
from api.home import Home
from ledger.checkpoint import NoteVerifier, open_checkpoint
from ledger.proofs import verify_inclusion

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
OPERATIONS = ("inclusion proof", "consistency proof", "record read")
P99_TARGET_MS = 2.0
GROWTH_TARGET = 1.5
WARMUP = 100

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProofsOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    requests: int = 2000  # a phase, per operation and size
    concurrency: int = 8
    reuse: Path | None = None


def sender(operation: str, size: int, count: int) -> Send:
    """The requests of one operation on a ledger of ``size``: the same on every server."""
    rng = random.Random(f"{operation}/{size}")
    if operation == "inclusion proof":
        seqs = [rng.randrange(size) for _ in range(count)]
        return lambda client, i: client.get("/v1/proofs/inclusion", params={"seq": seqs[i], "size": size})
    if operation == "consistency proof":
        froms = [rng.randrange(1, size) for _ in range(count)]
        return lambda client, i: client.get("/v1/proofs/consistency", params={"from": froms[i], "to": size})
    seqs = [rng.randrange(size) for _ in range(count)]
    return lambda client, i: client.get(f"/v1/entries/{seqs[i]}")


async def measure(base: str, size: int, options: ProofsOptions) -> dict[str, dict[str, Load]]:
    """Per operation, ``latency`` (one in flight) and ``throughput`` (``concurrency``)."""
    count = WARMUP + options.requests
    out: dict[str, dict[str, Load]] = {}
    for operation in OPERATIONS:
        send = sender(operation, size, count)
        out[operation] = {
            "latency": await drive(base, send, options.requests, 1, WARMUP),
            "throughput": await drive(base, send, options.requests, options.concurrency, WARMUP),
        }
    return out


# Each table read whole, and each key through an index-only scan of it (the planner told to
# use the index), as the database owner: every page of what the proofs and records read.
WARM_UP = (
    "SELECT count(*) FROM records",
    "SELECT count(*) FROM merkle_nodes",
    "SET enable_seqscan = off",
    "SET enable_bitmapscan = off",
    "SELECT count(*) FROM (SELECT ledger_id, seq FROM records ORDER BY ledger_id, seq) AS k",
    "SELECT count(*) FROM (SELECT ledger_id, level, idx FROM merkle_nodes"
    " ORDER BY ledger_id, level, idx) AS k",
    "SELECT count(*) FROM (SELECT ledger_id, size FROM checkpoints ORDER BY ledger_id, size) AS k",
)


async def warm_up(url: str) -> None:
    """Read the ledger in ``url`` once (``WARM_UP``), into the operating system's cache."""
    conn = await asyncpg.connect(plain(url))
    try:
        for statement in WARM_UP:
            await conn.execute(statement)
    finally:
        await conn.close()


async def check_real(base: str, size: int, home: Home) -> None:
    """The ledger served has ``size`` records, and a proof from it checks against its signed
    checkpoint under the operator's key."""
    verifier = NoteVerifier.from_string(home.operator_pub_file.read_text().strip())
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        note = (await client.get("/v1/checkpoint")).text
        checkpoint = open_checkpoint(note, verifier)
        if checkpoint.size != size:
            raise RuntimeError(f"the ledger served holds {checkpoint.size} records, not {size}")
        seq = size // 3
        proof = (await client.get("/v1/proofs/inclusion", params={"seq": seq, "size": size})).json()
        record = (await client.get(f"/v1/entries/{seq}")).json()
    if proof["leaf_hash"] != record["leaf_hash"]:
        raise RuntimeError(f"record {seq}'s leaf hash differs from its proof's")
    path = [bytes.fromhex(h) for h in proof["proof"]]
    verify_inclusion(bytes.fromhex(proof["leaf_hash"]), seq, size, path, checkpoint.root_hash)


async def proofs_bench(options: ProofsOptions, progress: Progress) -> BenchResult:
    sizes = tuple(sorted(set(options.sizes)))
    measured: dict[int, dict[str, dict[str, dict[str, Load]]]] = {}
    async with (
        bench_ledgers("proofs", list(sizes), options.reuse, progress) as ledgers,
        reference({ORIGIN_VARIABLE: ledgers.origin}) as bare,
    ):
        for size in sizes:
            progress(f"proofs: serving {size:,} records")
            await warm_up(ledgers.url(size))
            async with service(ledgers.home, ledgers.url(size)) as base:
                await check_real(base, size, ledgers.home)
                real = await measure(base, size, options)
            progress(f"proofs: the reference at {size:,}")
            measured[size] = {"service": real, "reference": await measure(bare, size, options)}
    return report(sizes, measured)


def report(sizes: tuple[int, ...], measured: dict[int, dict[str, dict[str, dict[str, Load]]]]) -> BenchResult:
    result = BenchResult("proofs")
    smallest, largest = sizes[0], sizes[-1]
    for size in sizes:
        for operation in OPERATIONS:
            real = measured[size]["service"][operation]
            bare = measured[size]["reference"][operation]
            latency, bare_latency = real["latency"], bare["latency"]
            proof = operation != "record read"
            at_target = size == largest and proof and largest >= 1_000_000
            result.rows.append(
                Row(
                    "proofs",
                    f"{operation} p99, {size:,} records",
                    latency.percentile_ms(99),
                    "ms",
                    "bare handler p99",
                    bare_latency.percentile_ms(99),
                    target=f"p99 < {P99_TARGET_MS:g} ms" if at_target else "",
                    met=latency.percentile_ms(99) < P99_TARGET_MS if at_target else None,
                    note=f"p50 {latency.percentile_ms(50):.2f} (bare {bare_latency.percentile_ms(50):.2f}); "
                    f"{real['throughput'].per_second:,.0f}/s at {real['throughput'].concurrency} "
                    f"(bare {bare['throughput'].per_second:,.0f}/s)",
                )
            )
    if largest > smallest:
        for operation in OPERATIONS:
            big = measured[largest]["service"][operation]["latency"].percentile_ms(99)
            small = measured[smallest]["service"][operation]["latency"].percentile_ms(99)
            proof = operation != "record read"
            result.rows.append(
                Row(
                    "proofs",
                    f"{operation} p99 growth, {smallest:,} to {largest:,}",
                    big,
                    "ms",
                    f"p99 at {smallest:,}",
                    small,
                    target=f"<= {GROWTH_TARGET:g}x" if proof else "",
                    met=big <= GROWTH_TARGET * small if proof else None,
                )
            )
    result.figures = {
        "sizes": list(sizes),
        "by_size": {
            str(size): {
                server: {
                    operation: {phase: load.as_json() for phase, load in phases.items()}
                    for operation, phases in ops.items()
                }
                for server, ops in measured[size].items()
            }
            for size in sizes
        },
    }
    return result


def parse_sizes(text: str) -> tuple[int, ...]:
    """``10000,100000,1000000`` (``_`` and ``k``/``M`` suffixes allowed: ``10k,100k,1M``)."""
    sizes: list[int] = []
    for part in text.split(","):
        word = part.strip().replace("_", "").lower()
        scale = {"k": 1_000, "m": 1_000_000}.get(word[-1:], 1)
        value = int(float(word[:-1]) * scale) if scale > 1 else int(word)
        if value < 3:
            raise ValueError(f"a ledger size must be at least 3 records (the genesis holds 2), found {value}")
        sizes.append(value)
    return tuple(sizes)
