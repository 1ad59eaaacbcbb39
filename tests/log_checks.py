"""Checks of a served log from outside, over plain HTTP: shared by the concurrency and crash tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from ledger.checkpoint import NoteVerifier, open_checkpoint
from ledger.proofs import verify_consistency


def iter_pages(http: httpx.Client, path: str, after: int) -> Iterator[dict[str, Any]]:
    """Every item of a keyset-paged list (``{"items", "next"}``) after ``after``."""
    while True:
        page = http.get(path, params={"after": after, "limit": 1000}).json()
        yield from page["items"]
        if page["next"] is None:
            return
        after = page["next"]


def check_checkpoints_consistent(http: httpx.Client, verifier: NoteVerifier, origin: str) -> tuple[int, int]:
    """Every stored checkpoint is signed by the operator and consistent with the one before it;
    returns the latest size and how many checkpoints there are."""
    previous, count = None, 0
    for item in iter_pages(http, "/v1/checkpoints", 0):
        cp = open_checkpoint(item["note"], verifier, origin=origin)
        if previous is not None:
            proof = http.get("/v1/proofs/consistency", params={"from": previous.size, "to": cp.size}).json()[
                "proof"
            ]
            verify_consistency(
                previous.size, cp.size, [bytes.fromhex(h) for h in proof], previous.root_hash, cp.root_hash
            )
        previous, count = cp, count + 1
    assert previous is not None, "no checkpoint"
    return previous.size, count
