"""kill -9 of ``serve`` at random moments while 4 clients submit, 5 times, restarting it on the
same database each time. Afterwards: every acknowledged entry is at the seq its receipt named
(same entry id, same leaf hash), seqs are gapless, every checkpoint is signed and consistent with
the one before it, resubmitting every entry ever sent answers acknowledged ones with their seq
and stores nothing twice, and no process ``serve`` started outlives it."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.client import check_receipt, signed_entry
from ledger.signing import KeyFile, SigningKey, b64
from tests.log_checks import check_checkpoints_consistent, iter_pages
from tests.reliability.harness import (
    ORIGIN,
    Serve,
    command_of,
    descendants,
    scratch_database,
    server_url,
    wait_gone,
)

CRASHES = 5
CLIENTS = 4
BATCH = 10
LOAD_SECONDS = (0.3, 1.5)  # the kill comes at a random moment in this span of load
GONE_WITHIN = 5.0


@dataclass
class Tally:
    """What the clients sent and what the service acknowledged, by entry id."""

    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)


def key_added(root: KeyFile) -> dict[str, Any]:
    return signed_entry(
        root, ORIGIN, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
    )


async def client(base_url: str, root: KeyFile, tally: Tally, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        while not stop.is_set():
            batch = [key_added(root) for _ in range(BATCH)]
            for item in batch:
                tally.sent[item["entry"]["id"]] = item
            try:
                r = await http.post("/v1/entries", json={"entries": batch})
            except httpx.HTTPError:
                return  # the server is gone: what was not acknowledged may or may not be stored
            assert r.status_code == 200, r.text
            for item, result in zip(batch, r.json()["results"], strict=True):
                assert "error" not in result, result
                tally.acked[item["entry"]["id"]] = result


async def load_then_kill(serve: Serve, tally: Tally, rng: random.Random) -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client(serve.base_url, serve.root_key, tally, stop)) for _ in range(CLIENTS)]
    await asyncio.sleep(rng.uniform(*LOAD_SECONDS))
    await asyncio.to_thread(serve.kill)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    with scratch_database(server_url(tmp_path / "pg")) as url:
        s = Serve(tmp_path / "home", url)
        s.init()
        try:
            yield s
        finally:
            s.kill()


def test_kill_9_under_load_loses_nothing_acknowledged(serve: Serve) -> None:
    began = time.monotonic()
    rng = random.Random(10)
    tally = Tally()
    verifier = serve.verifier
    for crash in range(CRASHES):
        serve.start()
        assert serve.proc is not None
        started = descendants(serve.proc.pid)
        acked_before, sent_before = len(tally.acked), len(tally.sent)
        asyncio.run(load_then_kill(serve, tally, rng))
        left, waited = wait_gone(started, GONE_WITHIN)
        assert not left, [command_of(p) for p in left]
        print(
            f"\ncrash {crash + 1}: sent {len(tally.sent) - sent_before}, acknowledged "
            f"{len(tally.acked) - acked_before}; {len(started)} descendants gone in "
            f"{waited:.2f} s",
            end="",
        )

    serve.start()
    with httpx.Client(base_url=serve.base_url, timeout=30) as http:
        records = list(iter_pages(http, "/v1/entries", -1))
        assert [r["seq"] for r in records] == list(range(len(records)))
        by_seq = {r["seq"]: r for r in records}
        for entry_id, receipt in tally.acked.items():
            check_receipt(receipt, verifier, ORIGIN)
            stored = by_seq[receipt["seq"]]
            assert stored["entry"]["id"] == entry_id
            assert stored["leaf_hash"] == receipt["leaf_hash"]
        ids = [r["entry"]["id"] for r in records[1:]]
        assert len(ids) == len(set(ids))
        unacked_found = sum(1 for i in ids if i not in tally.acked)

        latest, checkpoints = check_checkpoints_consistent(http, verifier, ORIGIN)
        assert latest == len(records)

        items = list(tally.sent.values())
        added = 0
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            results = http.post("/v1/entries", json={"entries": chunk}).json()["results"]
            for item, result in zip(chunk, results, strict=True):
                assert "error" not in result, result
                acked = tally.acked.get(item["entry"]["id"])
                if acked is not None:
                    assert result["seq"] == acked["seq"]
                elif result["seq"] >= len(records):
                    added += 1
        size = http.get("/healthz").json()["size"]
        assert size == 2 + len(tally.sent) == len(records) + added  # genesis, adoption, all sent
        again = http.post("/v1/entries", json={"entries": items[:500]}).json()["results"]
        assert http.get("/healthz").json()["size"] == size
        assert all("error" not in r for r in again)
    elapsed = time.monotonic() - began
    print(
        f"\n{len(tally.sent)} sent, {len(tally.acked)} acknowledged, all found; "
        f"{unacked_found} unacknowledged found stored; resubmitted {len(items)}, "
        f"{added} added, ledger size {size}, checkpoints {checkpoints}, {elapsed:.1f} s"
    )
    assert elapsed < 90
