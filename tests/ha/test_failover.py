"""Failover with no acknowledged loss: etcd, Patroni and three PostgreSQL 15 instances on
loopback ports (``tests.ha.cluster``, synchronous replication), the real ``rural-ledger serve``
connected with the multi-host URL that follows the leader, 8 clients appending through the HTTP
API. The primary's postmaster is killed with SIGKILL under load; the clients go on, retrying
every 503 with the same entries, until each has appended on the new primary. Then: a new leader;
every acknowledged entry on it at its acknowledged seq with its leaf hash; seqs gapless; every
stored checkpoint signed and consistent with the next, and every checkpoint a client saw (in a
receipt or from ``/v1/checkpoint``) the stored one of its size; only 200 and 503 (with
``Retry-After``) answered; the self-check re-run on the new server; resubmitting every entry
adds nothing. It prints the failover time: from the kill to the first append acknowledged.

Skipped off CI when Patroni, etcd or PostgreSQL 15 is missing; on CI (``CI`` set) it fails."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.client import check_receipt, signed_entry
from ledger.checkpoint import open_checkpoint
from ledger.signing import KeyFile, SigningKey, b64
from tests.ha.cluster import Cluster, Node, missing_tools, patroni_cluster
from tests.log_checks import check_checkpoints_consistent, iter_pages
from tests.reliability.harness import ORIGIN, Serve

CLIENTS = 8
BATCH = 5
LOAD_BEFORE_KILL = 3.0  # seconds of appends on the first primary
APPENDS_AFTER = 3  # each client appends this many batches on the new primary, then stops
RETRY_PAUSE = 0.25  # a client waits min(Retry-After, this): the failover time is then measured finely
FAILOVER_WITHIN = 90.0
MISSING = missing_tools()

pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"), reason=f"the failover test needs {', '.join(MISSING)}"
)


@dataclass
class Tally:
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable_codes: Counter[str] = field(default_factory=Counter)
    seen_checkpoints: set[str] = field(default_factory=set)
    killed_at: float | None = None
    first_after_kill: float | None = None  # when the first append sent after the kill was acknowledged


def key_added(root: KeyFile) -> dict[str, Any]:
    return signed_entry(
        root, ORIGIN, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
    )


async def append_until_acknowledged(
    http: httpx.AsyncClient, batch: list[dict[str, Any]], tally: Tally
) -> None:
    """Post ``batch`` until it is acknowledged: every 503 is retried with the same entries."""
    while True:
        began = time.monotonic()
        r = await http.post("/v1/entries", json={"entries": batch})
        tally.statuses[r.status_code] += 1
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) >= 1, r.headers
            tally.unavailable_codes[r.json()["code"]] += 1
            await asyncio.sleep(min(int(r.headers["Retry-After"]), RETRY_PAUSE))
            continue
        assert r.status_code == 200, r.text
        for item, result in zip(batch, r.json()["results"], strict=True):
            assert "error" not in result, result
            entry_id = item["entry"]["id"]
            if entry_id in tally.acked:  # acknowledged twice (a retry): the same seq both times
                assert tally.acked[entry_id]["seq"] == result["seq"]
            tally.acked[entry_id] = result
            tally.seen_checkpoints.add(result["checkpoint"])
        if tally.killed_at is not None and began > tally.killed_at and tally.first_after_kill is None:
            tally.first_after_kill = time.monotonic()
        return


async def client(base_url: str, root: KeyFile, tally: Tally, stop: asyncio.Event) -> None:
    after_kill = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while not stop.is_set() and after_kill < APPENDS_AFTER:
            batch = [key_added(root) for _ in range(BATCH)]
            for item in batch:
                tally.sent[item["entry"]["id"]] = item
            killed = tally.killed_at is not None
            await append_until_acknowledged(http, batch, tally)
            after_kill += killed


async def checkpoint_reader(base_url: str, tally: Tally, stop: asyncio.Event) -> None:
    """A witness-like reader: the latest checkpoint, all along."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while not stop.is_set():
            r = await http.get("/v1/checkpoint")
            tally.statuses[r.status_code] += 1
            assert r.status_code in (200, 503), r.text
            if r.status_code == 200:
                tally.seen_checkpoints.add(r.text)
            await asyncio.sleep(0.1)


async def load_through_failover(serve: Serve, cluster: Cluster, leader: Node, tally: Tally) -> None:
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(client(serve.base_url, serve.root_key, tally, stop)) for _ in range(CLIENTS)
    ]
    reader = asyncio.create_task(checkpoint_reader(serve.base_url, tally, stop))
    await asyncio.sleep(LOAD_BEFORE_KILL)
    assert tally.acked, f"nothing acknowledged before the kill: {tally.statuses}"
    tally.killed_at = time.monotonic()
    cluster.kill_postmaster(leader)
    try:
        await asyncio.wait_for(asyncio.gather(*clients), timeout=FAILOVER_WITHIN)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(reader, *clients, return_exceptions=True), timeout=70)
    await reader  # its assertion, if it failed


async def create_database(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute("CREATE DATABASE ledger")
    finally:
        await conn.close()


async def count_records(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM records"))
    finally:
        await conn.close()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if MISSING:
        pytest.fail(f"CI must run the failover test: missing {', '.join(MISSING)}")
    with patroni_cluster() as c:
        yield c


def test_failover_loses_no_acknowledged_entry(cluster: Cluster, tmp_path: Path) -> None:
    began = time.monotonic()
    leader = cluster.start()
    asyncio.run(create_database(cluster.node_url(leader, "postgres")))
    serve = Serve(tmp_path / "home", cluster.database_url)
    serve.init()
    serve.start()
    tally = Tally()
    try:
        asyncio.run(load_through_failover(serve, cluster, leader, tally))
        new_leader = cluster.wait_leader(30, other_than=leader)
        check_log_after_failover(serve, cluster, new_leader, tally)
    finally:
        serve.kill()
    assert tally.killed_at is not None and tally.first_after_kill is not None
    failover = tally.first_after_kill - tally.killed_at
    print(
        f"\nfailover {leader.name} -> {new_leader.name}: first append acknowledged "
        f"{failover:.2f} s after the kill; answers {dict(tally.statuses)}, 503 codes "
        f"{dict(tally.unavailable_codes)}; {len(tally.sent)} entries sent, {len(tally.acked)} "
        f"acknowledged; {len(tally.seen_checkpoints)} checkpoints seen; "
        f"{time.monotonic() - began:.1f} s in all"
    )
    assert time.monotonic() - began < 180


def check_log_after_failover(serve: Serve, cluster: Cluster, new_leader: Node, tally: Tally) -> None:
    assert set(tally.statuses) <= {200, 503}, tally.statuses
    assert tally.statuses[503] > 0, "no 503 at all: the failover was not seen"
    assert "appending on another server" in serve.log_tail(10**7), "no self-check after the failover"
    verifier = serve.verifier
    with httpx.Client(base_url=serve.base_url, timeout=60) as http:
        records = list(iter_pages(http, "/v1/entries", -1))
        assert [r["seq"] for r in records] == list(range(len(records)))  # gapless
        by_seq = {r["seq"]: r for r in records}
        for entry_id, receipt in tally.acked.items():
            check_receipt(receipt, verifier, ORIGIN)
            stored = by_seq[receipt["seq"]]
            assert stored["entry"]["id"] == entry_id
            assert stored["leaf_hash"] == receipt["leaf_hash"]
        ids = [r["entry"]["id"] for r in records[1:]]
        assert len(ids) == len(set(ids))
        assert set(tally.sent) <= set(ids)  # every entry was retried until acknowledged

        latest, _ = check_checkpoints_consistent(http, verifier, ORIGIN)
        assert latest == len(records)
        for note in tally.seen_checkpoints:
            seen = open_checkpoint(note, verifier, origin=ORIGIN)
            r = http.get("/v1/checkpoint", params={"size": seen.size})
            assert r.status_code == 200, r.text
            assert open_checkpoint(r.text, verifier, origin=ORIGIN).root_hash == seen.root_hash

        items = list(tally.sent.values())
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            r = http.post("/v1/entries", json={"entries": chunk})
            assert r.status_code == 200, r.text
            for item, result in zip(chunk, r.json()["results"], strict=True):
                assert result["seq"] == tally.acked[item["entry"]["id"]]["seq"], result
        assert http.get("/healthz").json()["size"] == len(records)  # resubmission added nothing
    assert asyncio.run(count_records(cluster.node_url(new_leader))) == len(records)
