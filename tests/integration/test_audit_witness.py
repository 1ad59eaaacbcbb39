"""Witnesses against the real app: cosign, store and serve cosignatures, `verify` requiring N
known witnesses, and a witness refusing a split view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.cli.witness import load_or_create_key, witness_once
from ledger.checkpoint import parse_note
from ledger.witness import CosignerSigner, CosignerVerifier, generate_cosigner
from tests.conftest import FakeClock
from tests.integration.audit_support import populate, verify
from tests.integration.test_audit_tamper import truncate_and_regrow
from tests.support import LedgerFixture, open_ledger


@pytest.fixture
async def fresh(database_factory: object, tmp_path: Path) -> AsyncIterator[LedgerFixture]:
    url = await database_factory()  # type: ignore[operator]
    async with open_ledger(url, tmp_path / "home", FakeClock()) as fx:
        await populate(fx)
        yield fx


def witness(name: str) -> CosignerSigner:
    return CosignerSigner.from_string(generate_cosigner(name)[0])


async def test_witnesses_cosign_and_verify_requires_them(fresh: LedgerFixture, tmp_path: Path) -> None:
    w1, w2 = witness("w1.example/witness"), witness("w2.example/witness")
    for w in (w1, w2):
        outcome = await witness_once(fresh.client.http, fresh.verifier, w, tmp_path / w.name[:2])
        assert outcome.status == "cosigned", outcome.message
    size = await fresh.size()
    note = await fresh.client.get("/v1/checkpoint/cosigned")
    assert {s.name for s in parse_note(note).signatures} == {fresh.origin, w1.name, w2.name}
    listed = await fresh.client.get("/v1/witness/cosignatures", size=size)
    assert {i["witness_key"] for i in listed["items"]} == {str(w1.verifier()), str(w2.verifier())}

    keys = ["--witness", str(w1.verifier()), "--witness", str(w2.verifier())]
    outcome = await verify(fresh, None, *keys, "--min-witnesses", "2")
    assert outcome.status == "intact", outcome.as_json()
    assert (outcome.witnessed_size, outcome.witnessed_by) == (size, (w1.name, w2.name))

    stranger = str(witness("w3.example/witness").verifier())
    outcome = await verify(fresh, None, "--witness", stranger, "--min-witnesses", "1")
    assert outcome.status == "tampered" and outcome.failure is not None
    assert outcome.failure.code == "witness.insufficient"


async def test_a_witness_refuses_a_split_view(fresh: LedgerFixture, tmp_path: Path) -> None:
    w = witness("w1.example/witness")
    state = tmp_path / "w1.checkpoint"
    assert (await witness_once(fresh.client.http, fresh.verifier, w, state)).status == "cosigned"
    cosigned = state.read_text()
    size = await fresh.size()
    await truncate_and_regrow(fresh, size - 4, 10)
    outcome = await witness_once(fresh.client.http, fresh.verifier, w, state)
    assert outcome.status == "split_view" and outcome.exit_code == 1
    assert f"not consistent with the cosigned checkpoint of size {size}" in outcome.message
    assert state.read_text() == cosigned  # it did not move on
    assert outcome.evidence and Path(outcome.evidence).exists()
    new_size = await fresh.size()
    assert (await fresh.client.get("/v1/witness/cosignatures", size=new_size))["items"] == []


async def test_a_witness_refuses_a_shrunk_log(fresh: LedgerFixture, tmp_path: Path) -> None:
    w = witness("w1.example/witness")
    state = tmp_path / "w1.checkpoint"
    assert (await witness_once(fresh.client.http, fresh.verifier, w, state)).status == "cosigned"
    await truncate_and_regrow(fresh, await fresh.size() - 4, 1)
    outcome = await witness_once(fresh.client.http, fresh.verifier, w, state)
    assert outcome.status == "split_view" and "smaller than the cosigned" in outcome.message


async def test_witness_key_file_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "witness.key"
    created = load_or_create_key(path, "w.example/one")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path, None).verifier() == created.verifier()
    assert (
        CosignerVerifier.from_string((path.parent / "witness.key.pub").read_text().strip())
        == created.verifier()
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "request.malformed_json"),
        (b'{"size": 1}', 400, "witness.malformed"),
        (b'{"size": 1, "witness_key": "nope", "cosignature": "x"}', 400, "witness.bad_key"),
    ],
)
async def test_cosignature_route_refuses_malformed_bodies(
    fresh: LedgerFixture, body: bytes, status: int, code: str
) -> None:
    r = await fresh.client.http.post(
        "/v1/witness/cosignatures", content=body, headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_cosignature_route_refuses_a_wrong_signature(fresh: LedgerFixture) -> None:
    w = witness("w1.example/witness")
    note = await fresh.client.get("/v1/checkpoint")
    other = await fresh.client.get("/v1/checkpoint", size=1)
    size = int(note.split("\n")[1])
    line = w.cosign(parse_note(other).body, 1_700_000_000).line()  # cosigns another checkpoint
    r = await fresh.client.http.post(
        "/v1/witness/cosignatures", json={"size": size, "witness_key": str(w.verifier()), "cosignature": line}
    )
    assert (r.status_code, r.json()["code"]) == (422, "witness.bad_cosignature")
    r = await fresh.client.http.post(
        "/v1/witness/cosignatures",
        json={"size": 10**9, "witness_key": str(w.verifier()), "cosignature": line},
    )
    assert (r.status_code, r.json()["code"]) == (404, "checkpoint.not_found")
