"""Reads from a replica (``RURAL_LEDGER_READ_URL``), never writes, and never behind what a read
names: the real ``serve`` on the Patroni cluster of ``tests.ha.cluster``, reading from its
asynchronous replica, whose replay the test pauses (``pg_wal_replay_pause``) so that it lags
for certain. Then the latest checkpoint comes from the replica (an earlier size, signed and
consistent with the primary's), while a proof, a record, a page and a checkpoint at the size
just acknowledged are served by the primary; appends go on (a write sent to the replica would
fail). Once replay resumes, the replica's latest catches up.

Skipped off CI when Patroni, etcd or PostgreSQL 15 is missing; on CI it fails."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.client import check_receipt
from ledger.checkpoint import open_checkpoint
from ledger.proofs import verify_consistency
from tests.ha.cluster import Cluster, missing_tools, patroni_cluster
from tests.ha.test_failover import create_database, key_added
from tests.reliability.harness import ORIGIN, Serve

MISSING = missing_tools()
pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("CI"), reason=f"the replica test needs {', '.join(MISSING)}"
)


class ServeWithReplica(Serve):
    read_url: str = ""

    def env(self) -> dict[str, str]:
        # No breaker: a replica not yet reachable while the cluster settles (its database not
        # replayed yet) would send the reads this test makes of the paused replica to the primary.
        return {
            **super().env(),
            "RURAL_LEDGER_READ_URL": self.read_url,
            "RURAL_LEDGER_READ_BREAKER_SECONDS": "0",
        }


async def replay(url: str, paused: bool) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
    finally:
        await conn.close()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if MISSING:
        pytest.fail(f"CI must run the replica test: missing {', '.join(MISSING)}")
    with patroni_cluster() as c:
        yield c


def test_reads_from_a_lagging_replica_never_fall_behind_what_they_name(
    cluster: Cluster, tmp_path: Path
) -> None:
    leader = cluster.start()
    replica = cluster.by_name(next(m["name"] for m in cluster.members() if m["role"] == "replica"))
    asyncio.run(create_database(cluster.node_url(leader, "postgres")))
    serve = ServeWithReplica(tmp_path / "home", cluster.database_url)
    serve.read_url = cluster.node_url(replica)
    serve.init()
    serve.start()
    verifier = serve.verifier
    try:
        with httpx.Client(base_url=serve.base_url, timeout=30) as http:
            first = http.post("/v1/entries", json={"entries": [key_added(serve.root_key)]}).json()["results"][
                0
            ]
            base = first["seq"] + 1
            wait_for_size(http, base)  # the replica has caught up with the first entry
            asyncio.run(replay(cluster.node_url(replica), paused=True))

            receipts = [
                http.post("/v1/entries", json={"entries": [key_added(serve.root_key)]}) for _ in range(3)
            ]
            assert all(r.status_code == 200 for r in receipts), [r.text for r in receipts]  # writes: primary
            last = receipts[-1].json()["results"][0]
            size = last["seq"] + 1
            check_receipt(last, verifier, ORIGIN)

            stale = open_checkpoint(http.get("/v1/checkpoint").text, verifier, origin=ORIGIN)
            assert stale.size == base < size  # the latest, from the paused replica
            proof = http.get("/v1/proofs/consistency", params={"from": stale.size, "to": size})
            assert proof.status_code == 200, proof.text  # names size: the primary answers
            current = open_checkpoint(http.get("/v1/checkpoint", params={"size": size}).text, verifier)
            verify_consistency(
                stale.size,
                size,
                [bytes.fromhex(h) for h in proof.json()["proof"]],
                stale.root_hash,
                current.root_hash,
            )
            inclusion = http.get("/v1/proofs/inclusion", params={"seq": last["seq"], "size": size})
            assert inclusion.status_code == 200, inclusion.text
            assert inclusion.json()["proof"] == last["inclusion_proof"]
            record = http.get(f"/v1/entries/{last['seq']}")
            assert record.status_code == 200 and record.json()["leaf_hash"] == last["leaf_hash"]
            page = http.get("/v1/entries", params={"after": base - 1}).json()["items"]
            assert page == []  # a page the replica holds (none past its end) is served by it
            page = http.get("/v1/entries", params={"after": base}).json()["items"]
            assert [r["seq"] for r in page] == list(range(base + 1, size))  # past its end: the primary

            assert http.get(f"/verify/{last['seq']}").status_code == 200  # the public page: the primary
            assert http.get("/checkpoint", params={"size": size}).status_code == 200
            assert http.get("/checkpoint").status_code == 200  # the replica's latest

            asyncio.run(replay(cluster.node_url(replica), paused=False))
            wait_for_size(http, size)
    finally:
        serve.kill()


def wait_for_size(http: httpx.Client, size: int, within: float = 30.0) -> None:
    """Until the latest checkpoint (the replica's) is of ``size``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        r = http.get("/v1/checkpoint")
        if r.status_code == 200 and r.text.split("\n")[1] == str(size):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the replica's latest checkpoint did not reach size {size} within {within} s")
