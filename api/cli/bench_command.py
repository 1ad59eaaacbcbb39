"""``rural-ledger bench [append|verify|proofs|http|seed|all] [--json]``: each benchmark's figures
beside a reference measured in the same run, as one table, or with ``--json`` as one JSON
document (every figure, the machine's cores and load, the versions of PostgreSQL, Python and
libsodium). Progress goes to standard error, so the document alone is on standard output.

``verify`` is ``api.cli.bench_verify``'s; ``all`` runs it in a child process of its own (its peak
memory is that process tree's, not this one's with every server it started), asking it for
JSON. Until ``run_verify_bench`` takes ``as_json``, its printed lines are read for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from api.cli.bench_report import BenchResult, Row, machine, print_table

BENCHES = ("append", "verify", "proofs", "http", "seed")
VERIFY_TARGET = 0.6  # issue 17: verify at >= 60% of the verify-only rate, same processes
RSS_TARGET_MB = 300


def progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def run_one(what: str, args: argparse.Namespace, done: dict[str, BenchResult]) -> BenchResult:
    if what == "append":
        from api.cli.bench import append_bench

        return asyncio.run(append_bench(args.entries, args.batch, progress))
    if what == "verify":
        return verify_in_child(args) if args.what == "all" else verify_here(args)
    if what == "proofs":
        from api.cli.bench_proofs import ProofsOptions, parse_sizes, proofs_bench

        sizes = parse_sizes(args.sizes)
        options = ProofsOptions(sizes, args.requests, args.concurrency, reuse_folder(args))
        return asyncio.run(proofs_bench(options, progress))
    if what == "http":
        from api.cli.bench_http import HttpOptions, http_bench

        http = HttpOptions(args.http_records, args.requests, args.bulk_requests, args.concurrency)
        return asyncio.run(http_bench(http, progress))
    from api.cli.bench_seed import SeedBenchOptions, seed_bench

    seed = SeedBenchOptions(args.villages, args.entries, args.batch)
    return asyncio.run(seed_bench(seed, progress, done.get("append")))


def reuse_folder(args: argparse.Namespace) -> Path | None:
    return Path(args.reuse) if args.reuse else None


def verify_here(args: argparse.Namespace) -> BenchResult:
    """``bench verify`` in this process; its figures as it reports them (JSON, or printed)."""
    from api.cli.bench_verify import run_verify_bench as verify_bench

    run_verify_bench: Any = verify_bench  # ``as_json`` or not: see the module's docstring
    if "as_json" in inspect.signature(run_verify_bench).parameters:
        if not args.json:
            run_verify_bench(args.records, reuse_folder(args))
            return BenchResult("verify")
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            run_verify_bench(args.records, reuse_folder(args), as_json=True)
        return verify_result(json.loads(captured.getvalue()))
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = run_verify_bench(args.records, reuse_folder(args))
    text = captured.getvalue()
    print(text, file=sys.stderr if args.json else sys.stdout, end="")
    if code != 0:
        raise RuntimeError(f"bench verify exited {code}")
    return verify_result(figures_from_text(text))


def verify_in_child(args: argparse.Namespace) -> BenchResult:
    command = [
        sys.executable,
        "-m",
        "api.cli.main",
        "bench",
        "verify",
        "--records",
        str(args.records),
        "--json",
    ]
    if args.reuse:
        command += ["--reuse", args.reuse]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench verify exited {done.returncode}:\n{done.stdout}")
    return BenchResult("verify", **result_parts(json.loads(done.stdout)))


def result_parts(doc: dict[str, Any]) -> dict[str, Any]:
    """The rows and figures of the one benchmark in a ``--json`` document."""
    [bench] = doc["benches"].values()
    return {
        "rows": [Row(**{k: v for k, v in r.items() if k != "ratio"}) for r in bench["rows"]],
        "figures": bench["figures"],
    }


FIGURE_LINES = {
    "records": r"ledger\s+([\d,]+) records",
    "records_per_second": r"\n\s*verify\s+([\d,.]+) records/s",
    "seconds": r"records/s\s+\(([\d.]+) s wall",
    "reference_per_second": r"Ed25519 verify\s+([\d,.]+) signatures/s",
    "peak_rss_mb": r"peak RSS\s+([\d,.]+) MB",
}


def figures_from_text(text: str) -> dict[str, Any]:
    """``bench verify``'s figures from its printed lines (what it printed before ``as_json``)."""
    figures: dict[str, Any] = {"printed": text.strip()}
    for name, pattern in FIGURE_LINES.items():
        found = re.search(pattern, "\n" + text)
        if found:
            figures[name] = float(found.group(1).replace(",", ""))
    reference = re.search(r"signatures/s, ([^\n]*?)\s{2,}verify =", text)
    figures["reference"] = (
        f"Ed25519 verify only, {reference.group(1)}" if reference else "Ed25519 verify only"
    )
    return figures


def verify_result(figures: dict[str, Any]) -> BenchResult:
    records = int(figures.get("records", 0))
    rate = float(figures.get("records_per_second", 0.0))
    reference = float(figures.get("reference_per_second", 0.0)) or None
    rows = [
        Row(
            "verify",
            f"verify, {records:,} records",
            rate,
            "records/s",
            str(figures.get("reference", "Ed25519 verify only")),
            reference,
            target=f">= {VERIFY_TARGET:.0%}",
            met=None if reference is None else rate >= VERIFY_TARGET * reference,
        )
    ]
    if "peak_rss_mb" in figures:
        rss = float(figures["peak_rss_mb"])
        rows.append(
            Row(
                "verify",
                f"verify peak RSS, {records:,} records",
                rss,
                "MB",
                target=f"< {RSS_TARGET_MB} MB",
                met=rss < RSS_TARGET_MB,
            )
        )
    return BenchResult("verify", rows, figures)


def cmd_bench(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()
    todo = BENCHES if args.what == "all" else (args.what,)
    done: dict[str, BenchResult] = {}
    for what in todo:
        progress(f"bench {what}")
        done[what] = run_one(what, args, done)
    rows = [row for result in done.values() for row in result.rows]
    if args.json:
        doc = {
            "machine": machine(load_before),
            "rows": [r.as_json() for r in rows],
            "benches": {name: result.as_json() for name, result in done.items()},
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif rows:
        print_table(rows)
        cores, load = os.cpu_count(), os.getloadavg()
        print(f"\n{cores} cores; load average {load_before[0]:.2f} before, {load[0]:.2f} after")
    return 0


def add_bench_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser(
        "bench",
        help="benchmarks, each beside a reference measured in the same run (docs/performance.md)",
    )
    b.add_argument("what", choices=[*BENCHES, "all"])
    b.add_argument(
        "--json", action="store_true", help="one JSON document with every figure, on standard output"
    )
    b.add_argument("--entries", type=int, default=20_000, help="append (and seed's reference): entries")
    b.add_argument("--batch", type=int, default=2000, help="append: the group-commit batch")
    b.add_argument("--records", type=int, default=1_000_000, help="verify: ledger size")
    b.add_argument(
        "--reuse", metavar="DIR", help="verify and proofs: keep the ledgers built here, or use those kept"
    )
    b.add_argument(
        "--sizes", default="10k,100k,1M", help="proofs: ledger sizes, comma-separated (default 10k,100k,1M)"
    )
    b.add_argument("--requests", type=int, default=2000, help="proofs and http: timed requests a measure")
    b.add_argument("--concurrency", type=int, default=8, help="proofs and http: requests in flight")
    b.add_argument("--http-records", type=int, default=10_000, help="http: ledger size before the submits")
    b.add_argument("--bulk-requests", type=int, default=50, help="http: requests of 100 entries")
    b.add_argument("--villages", type=int, default=5, help="seed: villages of the seeded county")
    b.set_defaults(fn=cmd_bench)
