"""``rural-ledger bench http``: reads and submits through the real app over loopback, beside
the bare reference app (``api.cli.bench_reference``) answering the same requests with the same
crypto and no database, in the same run.

The ledger (``records`` records, built by the appender) is served by ``rural-ledger serve``, one
process. Reads: a page of 100 records after a random seq, the latest checkpoint, an inclusion
proof of a random record. Submits: ``POST /v1/entries`` of one signed ``key.added`` entry a
request (the full receipt: checkpoint and inclusion proof), and of 100 a request under
``Prefer: return=minimal`` (what a bulk loader sends). The reference gets the very same request
bodies and checks every signature and hashes every record's bytes, as the service does before
its rules and its database. Each is ``concurrency`` requests in flight: requests/s (entries/s
for the bulk submit), p50 and p99.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from api.cli.bench_ledgers import ROOT, bench_ledgers, sign_key_added
from api.cli.bench_load import Load, Send, drive
from api.cli.bench_reference import ORIGIN_VARIABLE, PUBLIC_KEY_VARIABLE
from api.cli.bench_report import BenchResult, Row
from api.cli.bench_serve import reference, service
from ledger.signing import b64

PAGE = 100
BULK = 100
READS = ("record page", "checkpoint", "inclusion proof")
SUBMITS = ("submit 1 entry", f"submit {BULK} entries, minimal")
WARMUP = 50
JSON = {"content-type": "application/json"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HttpOptions:
    records: int = 10_000  # the ledger's size before the submits
    requests: int = 2000  # reads per operation, and single-entry submits
    bulk_requests: int = 50  # requests of BULK entries
    concurrency: int = 8


def reader(operation: str, size: int, count: int) -> Send:
    rng = random.Random(f"{operation}/{size}")
    seqs = [rng.randrange(size) for _ in range(count)]
    if operation == "record page":
        return lambda client, i: client.get("/v1/entries", params={"after": seqs[i] - 1, "limit": PAGE})
    if operation == "checkpoint":
        return lambda client, i: client.get("/v1/checkpoint")
    return lambda client, i: client.get("/v1/proofs/inclusion", params={"seq": seqs[i], "size": size})


def poster(bodies: list[bytes], minimal: bool) -> Send:
    headers = {**JSON, "prefer": "return=minimal"} if minimal else JSON
    return lambda client, i: client.post("/v1/entries", content=bodies[i], headers=headers)


def bodies_of(entries: list[dict[str, object]], per_request: int) -> list[bytes]:
    if per_request == 1:
        return [msgspec.json.encode(e) for e in entries]
    return [
        msgspec.json.encode({"entries": entries[i : i + per_request]})
        for i in range(0, len(entries), per_request)
    ]


async def measure(
    base: str, size: int, options: HttpOptions, single: list[bytes], bulk: list[bytes]
) -> dict[str, Load]:
    out: dict[str, Load] = {}
    for operation in READS:
        send = reader(operation, size, WARMUP + options.requests)
        out[operation] = await drive(base, send, options.requests, options.concurrency, WARMUP)
    out[SUBMITS[0]] = await drive(base, poster(single, False), options.requests, options.concurrency, WARMUP)
    out[SUBMITS[1]] = await drive(base, poster(bulk, True), options.bulk_requests, options.concurrency, 2)
    return out


async def http_bench(options: HttpOptions, progress: Progress) -> BenchResult:
    async with bench_ledgers("http", [options.records], None, progress) as ledgers:
        root = ledgers.home.org_key(ROOT)
        progress("http: signing the entries to submit")
        entries = sign_key_added(root.key.seed, ledgers.origin, WARMUP + options.requests)
        single = bodies_of(entries, 1)
        bulk = bodies_of(
            sign_key_added(root.key.seed, ledgers.origin, BULK * (2 + options.bulk_requests)), BULK
        )
        settings = {ORIGIN_VARIABLE: ledgers.origin, PUBLIC_KEY_VARIABLE: b64(root.key.public_key)}
        async with reference(settings) as bare:
            progress(f"http: serving {options.records:,} records")
            async with service(ledgers.home, ledgers.url(options.records)) as base:
                real = await measure(base, options.records, options, single, bulk)
            progress("http: the reference")
            ref = await measure(bare, options.records, options, single, bulk)
    return report(options, real, ref)


def report(options: HttpOptions, real: dict[str, Load], bare: dict[str, Load]) -> BenchResult:
    result = BenchResult("http")
    for operation in (*READS, *SUBMITS):
        scale = BULK if operation == SUBMITS[1] else 1
        unit = "entries/s" if operation in SUBMITS else "requests/s"
        r, b = real[operation], bare[operation]
        result.rows.append(
            Row(
                "http",
                f"{operation}, {options.concurrency} in flight",
                r.per_second * scale,
                unit,
                "bare handler" + (", same crypto" if operation in SUBMITS else ""),
                b.per_second * scale,
                note=f"p50/p99 {r.percentile_ms(50):.2f}/{r.percentile_ms(99):.2f} ms "
                f"(bare {b.percentile_ms(50):.2f}/{b.percentile_ms(99):.2f})",
            )
        )
    result.figures = {
        "records": options.records,
        "per_request": {SUBMITS[0]: 1, SUBMITS[1]: BULK},
        "service": {k: v.as_json() for k, v in real.items()},
        "reference": {k: v.as_json() for k, v in bare.items()},
    }
    return result
