"""Two server processes and eight concurrent clients append 20,000 entries to one ledger."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.client import check_receipt, signed_entry
from api.home import Home
from api.service.database import asyncpg_url
from api.service.genesis import init_ledger
from ledger.checkpoint import NoteVerifier, open_checkpoint
from ledger.proofs import verify_consistency
from ledger.signing import SigningKey, b64
from tests.log_checks import check_checkpoints_consistent, iter_pages

ENTRIES = 20_000
CLIENTS = 8
PER_REQUEST = 250


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
async def two_servers(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[list[str], Home, NoteVerifier, str]]:
    url = await database_factory()
    home = Home(Path(tmp_path_factory.mktemp("home")))
    genesis = await init_ledger(asyncpg_url(url), home, "test.rural-ledger/concurrency", "county", "荣成市")
    env = {**os.environ, "DATABASE_URL": url, "RURAL_LEDGER_HOME": str(home.root)}
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.http.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        for p in ports
    ]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        async with httpx.AsyncClient() as http:
            for base in bases:
                for _ in range(300):
                    try:
                        if (await http.get(f"{base}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(f"server {base} did not start")
        yield bases, home, NoteVerifier.from_string(genesis.operator_key), genesis.origin
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


async def send_all(bases: list[str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``CLIENTS`` concurrent clients, alternating between the servers; results in item order."""
    results: list[dict[str, Any] | None] = [None] * len(items)
    chunks = [range(i, min(i + PER_REQUEST, len(items))) for i in range(0, len(items), PER_REQUEST)]

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=120) as http:
            for chunk in chunks[n::CLIENTS]:
                r = await http.post("/v1/entries", json={"entries": [items[i] for i in chunk]})
                assert r.status_code == 200, r.text
                for i, result in zip(chunk, r.json()["results"], strict=True):
                    results[i] = result

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return results  # type: ignore[return-value]


async def test_two_servers_eight_clients(two_servers: tuple[list[str], Home, NoteVerifier, str]) -> None:
    bases, home, verifier, origin = two_servers
    county = home.org_key("county")
    items = [
        signed_entry(
            county,
            origin,
            "key.added",
            {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
        )
        for _ in range(ENTRIES)
    ]

    receipts = await send_all(bases, items)
    errors = [r for r in receipts if "error" in r]
    assert not errors, errors[:3]
    first = 2  # after genesis and the rule version's adoption
    assert sorted(r["seq"] for r in receipts) == list(range(first, first + ENTRIES))

    with httpx.Client(base_url=bases[0], timeout=60) as http:
        final = open_checkpoint(http.get("/v1/checkpoint").text, verifier, origin=origin)
        assert final.size == ENTRIES + first
        seqs = [rec["seq"] for rec in iter_pages(http, "/v1/entries", -1)]
        assert seqs == list(range(final.size)), "seqs are not gapless"

        # Every receipt verifies offline against its own checkpoint, and that checkpoint is
        # consistent with the final one.
        checked: dict[int, bool] = {}
        for receipt in receipts:
            cp = check_receipt(receipt, verifier, origin)
            if cp.size not in checked:
                proof = http.get("/v1/proofs/consistency", params={"from": cp.size, "to": final.size}).json()[
                    "proof"
                ]
                verify_consistency(
                    cp.size, final.size, [bytes.fromhex(h) for h in proof], cp.root_hash, final.root_hash
                )
                checked[cp.size] = True

        # Every stored checkpoint is signed and consistent with the one before it.
        assert check_checkpoints_consistent(http, verifier, origin)[0] == final.size

    # Resubmitting every entry, to both servers, adds nothing and answers the same seqs.
    again = await send_all(list(reversed(bases)), items)
    assert [r["seq"] for r in again] == [r["seq"] for r in receipts]
    with httpx.Client(base_url=bases[1]) as http:
        assert http.get("/healthz").json()["size"] == ENTRIES + first
