"""``rural-ledger bench verify``: how fast ``verify`` checks a large ledger, beside the Ed25519
verify-only rate measured in the same run, and the verifier's peak memory.

It builds the ledger through the real appender (pre-signed ``key.added`` entries submitted to
``LedgerService.submit``, as ``bench append`` does), exports it as a bundle (timed), then runs
``rural-ledger verify`` on the bundle in a child process, so that its peak RSS is its own.
With ``--reuse DIR`` the bundle is kept in DIR and a later run verifies it again directly.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path

import msgspec

from api.audit.export import write_bundle
from api.cli.bench import drop_database, rate, scratch_database
from api.client import signed_entry
from api.home import Home
from api.service.database import make_engine
from api.service.genesis import init_ledger
from api.service.service import LedgerService
from ledger.signing import KeyFile, SigningKey, b64, entry_message, verify_signature

SIGN_CHUNK = 20_000
REQUEST = 500
CLIENTS = 8
REFERENCE_SAMPLE = 20_000


def sign_chunk(seed: bytes, origin: str, n: int) -> list[dict[str, object]]:
    """``n`` key.added entries by the county, each adding a fresh key (in a worker process)."""
    county = KeyFile("county", SigningKey.from_seed(seed))
    return [
        signed_entry(
            county,
            origin,
            "key.added",
            {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
        )
        for _ in range(n)
    ]


async def build_bundle(records: int, folder: Path) -> float:
    """Append ``records - 1`` key.added entries after the genesis record, export the ledger
    into ``folder``; returns the export's records/s."""
    url, scratch = await scratch_database()
    home = Home(Path(tempfile.mkdtemp(prefix="rl-bench-verify-home-")))
    genesis = await init_ledger(url, home, "bench.rural-ledger/verify", "county", "bench")
    county = home.org_key("county")
    engine = make_engine(url, ledger=home.origin())
    service = await LedgerService.open(engine, home.operator_signer(), max_batch=2000)
    gate = asyncio.Semaphore(CLIENTS)

    async def client(chunk: list[dict[str, object]]) -> None:
        async with gate:
            results = await service.submit(chunk)
        refused = [r for r in results if isinstance(r, Exception)]
        if refused:
            raise RuntimeError(f"benchmark entries refused: {refused[:3]}")

    # Entries are signed in another process, a chunk ahead of the one being appended.
    loop = asyncio.get_running_loop()
    signer = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    chunks = [min(SIGN_CHUNK, records - 1 - i) for i in range(0, records - 1, SIGN_CHUNK)]
    started, done = time.perf_counter(), 1
    ahead = [loop.run_in_executor(signer, sign_chunk, county.key.seed, genesis.origin, n) for n in chunks[:2]]
    for k, n in enumerate(chunks):
        items = await ahead[k]
        if k + 2 < len(chunks):
            ahead.append(
                loop.run_in_executor(signer, sign_chunk, county.key.seed, genesis.origin, chunks[k + 2])
            )
        await asyncio.gather(*(client(items[i : i + REQUEST]) for i in range(0, n, REQUEST)))
        ahead[k] = None  # type: ignore[call-overload]
        done += n
        print(
            f"\r  building: {done:,}/{records:,} records "
            f"({rate(done, time.perf_counter() - started):,.0f}/s)",
            end="",
            flush=True,
        )
    print()
    signer.shutdown()
    await service.close()
    await engine.dispose()
    engine = make_engine(url, pool_size=2, ledger=home.origin())
    try:
        written = await write_bundle(engine, folder)
    finally:
        await engine.dispose()
    if scratch:
        await drop_database(scratch)
    shutil.copy(home.operator_pub_file, folder / "operator.pub")
    return rate(written.size, written.seconds)


def verify_only_rate(folder: Path) -> float:
    """Ed25519 verify-only, one core, over the first signatures of the bundle's records."""
    stream = folder / "ledger.jsonl"
    work = []
    with stream.open("rb") as f:
        for line in islice(f, REFERENCE_SAMPLE * 4):
            if line.startswith(b'{"entry":'):
                doc = msgspec.json.decode(line)
                work.append((doc["entry"], doc["sig"]))
    keys = {}
    from ledger.canonical import canonical_bytes
    from ledger.signing import decode_b64, key_id_of

    for entry, _ in work:  # the genesis registers the county's key, the rest use it
        for text in entry["payload"].get("public_keys", []):
            raw = decode_b64(text, size=32, what="public key")
            keys[key_id_of(raw)] = raw
    triples = [
        (keys[e["key"]], decode_b64(s, size=64, what="sig"), entry_message(canonical_bytes(e)))
        for e, s in work[:REFERENCE_SAMPLE]
    ]
    t = time.perf_counter()
    for public_key, signature, message in triples:
        verify_signature(public_key, signature, message)
    return rate(len(triples), time.perf_counter() - t)


def run_verify_bench(records: int, reuse: Path | None) -> int:
    folder = (reuse or Path(tempfile.mkdtemp(prefix="rl-bench-verify-"))) / "bundle"
    print(f"rural-ledger bench verify: {records:,} records, bundle in {folder}")
    export_rate = None
    if not (folder / "ledger.jsonl").exists():
        export_rate = asyncio.run(build_bundle(records, folder))
    size = json.loads((folder / "manifest.json").read_text())["size"]
    reference = verify_only_rate(folder)
    started = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli.main",
            "verify",
            str(folder),
            "--operator-key",
            str(folder / "operator.pub"),
            "--json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if child.returncode != 0:
        print(child.stdout, child.stderr, sep="\n")
        print(f"  verify exited {child.returncode}")
        return 1
    report = json.loads(child.stdout)
    verify_rate = rate(size, seconds)
    print(f"  ledger            {size:,} records, {(folder / 'ledger.jsonl').stat().st_size / 1e6:,.0f} MB")
    if export_rate is not None:
        print(f"  export            {export_rate:10,.0f} records/s")
    print(
        f"  verify            {verify_rate:10,.0f} records/s  ({seconds:.1f} s wall, "
        f"status {report['status']}, state digest {report['state_digest'][:16]}...)"
    )
    print(
        f"  Ed25519 verify    {reference:10,.0f} signatures/s, one core   "
        f"verify = {verify_rate / reference:6.1%} of it (target >= 60%)"
    )
    print(
        f"  peak RSS          {report.get('peak_rss_mb', peak_kb / 1024):10,.0f} MB verifier, "
        f"{peak_kb / 1024:,.0f} MB largest process"
    )
    return 0
