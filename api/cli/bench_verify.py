"""``rural-ledger bench verify``: how fast ``verify`` checks a large ledger, beside the Ed25519
verify-only rate measured in the same run on the same number of processes, and the verifier's
peak memory.

It builds the ledger through the real appender (pre-signed ``key.added`` entries submitted to
``LedgerService.submit``, as ``bench append`` does), exports it as a bundle (timed), then runs
``rural-ledger verify`` on the bundle in a child process, so that its peak RSS is its own (and
its workers' theirs). With ``--reuse DIR`` the bundle is kept in DIR and a later run verifies
it again directly.

The reference: libsodium's verify-only rate over signatures of the bundle's own records, with
as many processes verifying at once as ``verify`` has workers, measured just before ``verify``
and just after it (the figure is their mean: on a machine shared with other work, the load
may change while ``verify`` runs).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec

from api.audit.export import write_bundle
from api.cli.bench import drop_database, rate, scratch_database
from api.cli.bench_ledgers import stop_embedded
from api.client import signed_entry
from api.home import Home
from api.service.database import make_engine
from api.service.genesis import init_ledger
from api.service.service import LedgerService
from ledger.canonical import canonical_bytes
from ledger.signing import KeyFile, SigningKey, b64, decode_b64, entry_message, key_id_of, verify_signature

SIGN_CHUNK = 20_000
REQUEST = 500
CLIENTS = 8
REFERENCE_SAMPLE = 4_000  # signatures each reference process verifies, over and over
REFERENCE_SECONDS = 3.0
VERIFY_TARGET = 0.6  # issue 17: verify at >= 60% of the verify-only rate on as many processes
RSS_TARGET_MB = 300

Progress = Callable[[str], None]
Work = list[tuple[bytes, bytes, bytes]]


def progress_line(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


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


async def build_bundle(records: int, folder: Path, progress: Progress) -> float:
    """Append key.added entries after the genesis and the rule adoption, ``records`` records in
    all, export the ledger
    into ``folder``; returns the export's records/s. The scratch database is removed."""
    scratch_folder = Path(tempfile.mkdtemp(prefix="rl-bench-verify-"))
    try:
        return await _build_in(records, folder, scratch_folder, progress)
    finally:
        if not os.environ.get("DATABASE_URL"):
            stop_embedded(scratch_folder)
        shutil.rmtree(scratch_folder, ignore_errors=True)


async def _build_in(records: int, folder: Path, scratch_folder: Path, progress: Progress) -> float:
    url, scratch = await scratch_database(scratch_folder)
    home = Home(scratch_folder / "home")
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
    done = 2  # init_ledger's: the genesis, then the adoption of the current rules
    chunks = [min(SIGN_CHUNK, records - done - i) for i in range(0, records - done, SIGN_CHUNK)]
    started = time.perf_counter()
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
        progress(
            f"building: {done:,}/{records:,} records ({rate(done, time.perf_counter() - started):,.0f}/s)"
        )
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


def reference_work(folder: Path, n: int = REFERENCE_SAMPLE) -> Work:
    """(public key, signature, message) of the bundle's first ``n`` entries after the genesis,
    which registers the key that signs them all."""
    keys: dict[str, bytes] = {}
    work: Work = []
    with (folder / "ledger.jsonl").open("rb") as f:
        for line in islice(f, 4 * (n + 1) + 8):
            if not line.startswith(b'{"entry":'):
                continue
            doc = msgspec.json.decode(line)
            entry = doc["entry"]
            for text in entry["payload"].get("public_keys", []):
                raw = decode_b64(text, size=32, what="public key")
                keys[key_id_of(raw)] = raw
            if entry["key"] in keys and len(work) < n:
                work.append(
                    (
                        keys[entry["key"]],
                        decode_b64(doc["sig"], size=64, what="sig"),
                        entry_message(canonical_bytes(entry)),
                    )
                )
    return work


def verify_for(work: Work, seconds: float) -> float:
    """Signatures/s of one process checking ``work`` over and over for ``seconds``."""
    started, checked = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - started) < seconds:
        for public_key, signature, message in work:
            verify_signature(public_key, signature, message)
        checked += len(work)
    return checked / elapsed


def verify_only_rate(work: Work, processes: int, seconds: float | None = None) -> float:
    """Signatures/s of ``processes`` processes verifying at once (spawned, like verify's
    workers) for ``seconds`` (default ``REFERENCE_SECONDS``): the sum of their rates over the
    same stretch of time."""
    seconds = REFERENCE_SECONDS if seconds is None else seconds
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(verify_for, [work[:10]] * processes, [0.05] * processes))  # all started
        return sum(pool.map(verify_for, [work] * processes, [seconds] * processes))


def run_verify(folder: Path, workers: int | None) -> tuple[dict[str, Any], float]:
    """``rural-ledger verify --json`` of the bundle in a child process; its report and wall time."""
    command = [
        sys.executable,
        "-m",
        "api.cli.main",
        "verify",
        str(folder),
        "--operator-key",
        str(folder / "operator.pub"),
        "--json",
        "--quiet",
    ]
    if workers is not None:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    child = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"verify exited {child.returncode}:\n{child.stdout}\n{child.stderr}")
    report: dict[str, Any] = json.loads(child.stdout)
    return report, seconds


def verify_bench(
    records: int, reuse: Path | None, progress: Progress = progress_line, workers: int | None = None
) -> dict[str, Any]:
    """The figures of ``bench verify``: build or reuse the bundle, then the reference, verify,
    the reference again."""
    folder = (reuse or Path(tempfile.mkdtemp(prefix="rl-bench-verify-"))) / "bundle"
    progress(f"verify: {records:,} records, bundle in {folder}")
    export_rate = None
    if not (folder / "ledger.jsonl").exists():
        export_rate = asyncio.run(build_bundle(records, folder, progress))
    size = json.loads((folder / "manifest.json").read_text())["size"]
    processes = workers or os.cpu_count() or 2
    work = reference_work(folder)
    one_core = verify_only_rate(work, 1)
    before = verify_only_rate(work, processes)
    progress(f"verify-only on {processes} processes: {before:,.0f}/s; verifying")
    report, seconds = run_verify(folder, workers)
    after = verify_only_rate(work, processes)
    reference = (before + after) / 2
    verify_rate = rate(size, seconds)
    main_mb = float(report.get("peak_rss_mb") or 0.0)
    worker_mb = float(report.get("workers_peak_rss_mb") or 0.0)
    figures: dict[str, Any] = {
        "records": size,
        "bundle_mb": round((folder / "ledger.jsonl").stat().st_size / 1e6, 1),
        "bundle": str(folder),
        "seconds": round(seconds, 2),
        "records_per_second": round(verify_rate, 1),
        "status": report["status"],
        "state_digest": report["state_digest"],
        "processes": processes,
        "reference": f"Ed25519 verify only, {processes} processes",
        "reference_per_second": round(reference, 1),
        "reference_before_per_second": round(before, 1),
        "reference_after_per_second": round(after, 1),
        "one_core_per_second": round(one_core, 1),
        "ratio": round(verify_rate / reference, 4) if reference else None,
        "target_ratio": VERIFY_TARGET,
        "peak_rss_mb": main_mb,
        "workers_peak_rss_mb": worker_mb,
        "tree_peak_rss_mb": round(main_mb + processes * worker_mb, 1),
        "target_rss_mb": RSS_TARGET_MB,
    }
    if export_rate is not None:
        figures["export_per_second"] = round(export_rate, 1)
    return figures


def render(figures: dict[str, Any]) -> str:
    ratio = figures["ratio"] or 0.0
    lines = [
        f"rural-ledger bench verify: {figures['records']:,} records, bundle in {figures['bundle']}",
        f"  ledger            {figures['records']:,} records, {figures['bundle_mb']:,.0f} MB",
    ]
    if "export_per_second" in figures:
        lines.append(f"  export            {figures['export_per_second']:10,.0f} records/s")
    lines += [
        f"  verify            {figures['records_per_second']:10,.0f} records/s  "
        f"({figures['seconds']:.1f} s wall, status {figures['status']}, "
        f"state digest {figures['state_digest'][:16]}...)",
        f"  Ed25519 verify    {figures['reference_per_second']:10,.0f} signatures/s, "
        f"{figures['processes']} processes   verify = {ratio:6.1%} of it (target >= {VERIFY_TARGET:.0%}; "
        f"before {figures['reference_before_per_second']:,.0f}/s, after "
        f"{figures['reference_after_per_second']:,.0f}/s, one core {figures['one_core_per_second']:,.0f}/s)",
        f"  peak RSS          {figures['peak_rss_mb']:10,.0f} MB verifier, "
        f"{figures['workers_peak_rss_mb']:,.0f} MB its largest worker, "
        f"{figures['tree_peak_rss_mb']:,.0f} MB all {figures['processes'] + 1} at most "
        f"(target < {RSS_TARGET_MB} MB)",
    ]
    return "\n".join(lines)


def run_verify_bench(records: int, reuse: Path | None, *, as_json: bool = False) -> dict[str, Any]:
    """``bench verify``: its figures printed, or as one JSON object on standard output."""
    figures = verify_bench(records, reuse)
    print(json.dumps(figures, indent=2) if as_json else render(figures))
    return figures
