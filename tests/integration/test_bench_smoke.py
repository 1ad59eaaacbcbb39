"""``rural-ledger bench proofs|http|seed --json`` at tiny sizes, run as a user runs them (a
subprocess, on the tests' PostgreSQL server or an embedded one): the document has every part,
and every figure measured is positive. No figure is compared with a speed: timings on a shared
two-core machine say nothing about correctness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

MACHINE_KEYS = {"cores", "load_before", "load_after", "platform", "versions"}
VERSION_KEYS = {"python", "postgresql", "libsodium"}
LOAD_KEYS = {"requests", "concurrency", "seconds", "per_second", "p50_ms", "p99_ms"}


def bench(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "bench", *args, "--json"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def check_document(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The machine, the versions and the rows of ``name``; returns its rows."""
    assert doc["machine"].keys() >= MACHINE_KEYS
    assert doc["machine"]["cores"] >= 1
    assert len(doc["machine"]["load_before"]) == 3
    versions = doc["machine"]["versions"]
    assert versions.keys() >= VERSION_KEYS and all(versions[k] for k in VERSION_KEYS)
    assert list(doc["benches"]) == [name]
    rows = doc["benches"][name]["rows"]
    assert rows and doc["rows"] == rows
    for row in rows:
        assert row["bench"] == name and row["measure"] and row["unit"]
        assert row["value"] > 0, row
        if row["reference"]:
            assert row["reference_value"] > 0, row
            assert row["ratio"] == pytest.approx(row["value"] / row["reference_value"], rel=1e-3)
    return rows  # type: ignore[no-any-return]


def check_load(load: dict[str, Any], requests: int) -> None:
    assert load.keys() >= LOAD_KEYS
    assert load["requests"] == requests
    assert load["per_second"] > 0 and load["seconds"] > 0
    assert 0 < load["p50_ms"] <= load["p99_ms"]


def test_bench_proofs_measures_each_size_against_the_reference() -> None:
    doc = bench("proofs", "--sizes", "20,45", "--requests", "20", "--concurrency", "2")
    rows = check_document(doc, "proofs")
    assert len(rows) == 2 * 3 + 3  # three operations at each size, and their growth
    figures = doc["benches"]["proofs"]["figures"]
    assert figures["sizes"] == [20, 45]
    for size in ("20", "45"):
        for server in ("service", "reference"):
            ops = figures["by_size"][size][server]
            assert set(ops) == {"inclusion proof", "consistency proof", "record read"}
            for phases in ops.values():
                assert phases["latency"]["concurrency"] == 1
                assert phases["throughput"]["concurrency"] == 2
                for load in phases.values():
                    check_load(load, 20)


def test_bench_http_measures_reads_and_submits_against_the_reference() -> None:
    doc = bench(
        "http", "--http-records", "20", "--requests", "20", "--bulk-requests", "2", "--concurrency", "2"
    )
    rows = check_document(doc, "http")
    assert [r["unit"] for r in rows] == ["requests/s"] * 3 + ["entries/s"] * 2
    figures = doc["benches"]["http"]["figures"]
    assert figures["service"].keys() == figures["reference"].keys()
    for server in ("service", "reference"):
        for operation, load in figures[server].items():
            check_load(load, 2 if operation.startswith("submit 100") else 20)


def test_bench_seed_measures_seeding_against_the_appender() -> None:
    doc = bench("seed", "--villages", "1", "--entries", "300")
    [row] = check_document(doc, "seed")
    assert row["unit"] == "records/s"
    figures = doc["benches"]["seed"]["figures"]
    assert figures["seed"]["villages"] == 1 and figures["seed"]["records"] > 1000
    assert figures["append"]["entries"] == 300
    for name in ("append_per_second", "verify_only_per_second", "copy_rows_per_second"):
        assert figures["append"][name] > 0
