"""Signing the story's entries in a process of their own.

The seeder runs the service in its own process (seed/runner.py), so every microsecond it spends
signing, canonicalising and encoding entries is taken from the service's admission and
writes. A one-process pool signs each request's entries and encodes the request body, while
the service admits the request before it; the service then receives bytes, as it would from a
clerk's machine.

The pool reads the organisations' key files from the operator's home (the seeder writes them
before it starts) and the blind-index secret when the seeder computes blind indexes locally.
Signatures are Ed25519, deterministic, so the entries are the same whichever process signs.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from api.client import Person, signed_entry
from api.home import Home
from contracts.parties import blind_index, personal_commitment
from ledger.signing import KeyFile

# (entry id, kind, actor, payload, person or None, blind index or None)
Job = tuple[str, str, str, dict[str, Any], Person | None, str | None]


def salt_for(seed: int, party: str) -> bytes:
    """A person's commitment salt, derived so that reseeding gives the same commitment.
    Seeded people are invented, so a salt anyone with the seed can derive hides nothing real."""
    return hashlib.sha256(f"rural-ledger/seed-salt/v1\n{seed}\n{party}".encode()).digest()


class _Signer:
    """The worker's side: keys read once, entries signed and encoded."""

    def __init__(self, home: Path, seed: int, origin: str, local_blind_index: bool) -> None:
        self.home, self.seed, self.origin = Home(home), seed, origin
        self.secret = self.home.blind_index_secret() if local_blind_index else None
        self.keys: dict[str, KeyFile] = {}

    def key(self, org: str) -> KeyFile:
        key = self.keys.get(org)
        if key is None:
            key = self.keys[org] = self.home.org_key(org)
        return key

    def item(self, job: Job, at: datetime) -> dict[str, Any]:
        entry_id, kind, actor, payload, person, index = job
        personal = None
        if person is not None:
            salt = salt_for(self.seed, person.party)
            fields = person.fields()
            if index is None:
                assert self.secret is not None, "a blind index or the secret to compute it"
                index = blind_index(self.secret, person.id_number)
            payload = {
                "party": person.party,
                "commitment": personal_commitment(fields, salt),
                "blind_index": index,
            }
            personal = {**fields, "salt": salt.hex()}
        item = signed_entry(self.key(actor), self.origin, kind, payload, entry_id=entry_id, signed_at=at)
        if personal is not None:
            item["personal"] = personal
        return item


_worker: _Signer | None = None


def _start(home: Path, seed: int, origin: str, local_blind_index: bool) -> None:
    global _worker
    _worker = _Signer(home, seed, origin, local_blind_index)


def _sign(jobs: list[Job], at: datetime) -> bytes:
    assert _worker is not None
    return msgspec.json.encode({"entries": [_worker.item(job, at) for job in jobs]})


class SigningPool:
    """``await pool.body(jobs, at)``: the ``POST /v1/entries`` body for ``jobs``, signed at
    ``at`` in the pool's process."""

    def __init__(self, home: Path, seed: int, origin: str, local_blind_index: bool) -> None:
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(home, seed, origin, local_blind_index),
        )

    async def body(self, jobs: list[Job], at: datetime) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self.pool, _sign, jobs, at)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
