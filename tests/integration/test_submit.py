"""Submitting entries through the real HTTP API: receipts, idempotency, and every kind of bad
input answered with its problem code and nothing stored."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pytest

from api.client import check_receipt
from ledger.checkpoint import open_checkpoint
from ledger.proofs import verify_inclusion
from ledger.signing import KeyFile, SigningKey, b64
from tests.support import LedgerFixture

_serial = iter(range(100, 1000))


def township(org_id: str, key: KeyFile | None = None) -> dict[str, object]:
    key = key or KeyFile(org_id, SigningKey.generate())
    return {
        "id": org_id,
        "name": f"{org_id}镇",
        "type": "township",
        "parent": "county",
        "public_keys": [b64(key.key.public_key)],
        "area_code": f"371003{next(_serial)}",
    }


async def test_receipt_verifies_offline(ledger: LedgerFixture) -> None:
    receipt = await ledger.client.submit(
        ledger.sign(ledger.keys["county"], "org.registered", township("boyu"))
    )
    cp = check_receipt(receipt, ledger.verifier, ledger.origin)
    assert cp.size == receipt["seq"] + 1
    record = await ledger.client.get(f"/v1/entries/{receipt['seq']}")
    assert record["leaf_hash"] == receipt["leaf_hash"]
    assert set(record) == {"seq", "recorded_at", "entry", "sig", "leaf_hash"}


async def test_resubmission_is_idempotent(ledger: LedgerFixture) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("gushan"))
    first = await ledger.client.submit(item)
    size = await ledger.size()
    again = await ledger.client.submit(item)
    assert again["seq"] == first["seq"] and again["leaf_hash"] == first["leaf_hash"]
    assert await ledger.size() == size
    check_receipt(again, ledger.verifier, ledger.origin)


async def test_same_id_different_entry_is_refused(ledger: LedgerFixture) -> None:
    entry_id = str(uuid.uuid4())
    await ledger.client.submit(
        ledger.sign(ledger.keys["county"], "org.registered", township("zhangcun"), entry_id=entry_id)
    )
    size = await ledger.size()
    r = await ledger.submit(ledger.keys["county"], "org.registered", township("lidao"), entry_id=entry_id)
    assert r.status_code == 409 and r.json()["code"] == "entry.id_conflict"
    assert await ledger.size() == size


async def expect_problem(ledger: LedgerFixture, response: object, status: int, code: str) -> None:
    size_before = getattr(expect_problem, "size", None)
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["status"] == status and body["detail"]
    del size_before


@pytest.fixture
async def size_unchanged(ledger: LedgerFixture):  # type: ignore[no-untyped-def]
    before = await ledger.size()
    yield
    assert await ledger.size() == before, "a refused submission changed the ledger"


async def test_malformed_json(ledger: LedgerFixture, size_unchanged: None) -> None:
    r = await ledger.client.http.post(
        "/v1/entries", content=b'{"entry": {', headers={"content-type": "application/json"}
    )
    await expect_problem(ledger, r, 400, "request.malformed_json")


async def test_body_not_a_submission(ledger: LedgerFixture, size_unchanged: None) -> None:
    r = await ledger.client.http.post("/v1/entries", json=[1, 2, 3])
    await expect_problem(ledger, r, 400, "request.malformed")


async def test_entry_missing_fields(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x1"))
    del item["entry"]["signed_at"]
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 400, "entry.malformed")


async def test_entry_with_float_has_no_canonical_form(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x2"))
    item["entry"]["payload"]["area"] = 1.5
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 400, "entry.malformed")


async def test_unknown_kind(ledger: LedgerFixture, size_unchanged: None) -> None:
    r = await ledger.submit(ledger.keys["county"], "land.teleported", {"to": "moon"})
    await expect_problem(ledger, r, 422, "entry.unknown_kind")


async def test_wrong_ledger_origin(ledger: LedgerFixture, size_unchanged: None) -> None:
    from api.client import signed_entry

    item = signed_entry(ledger.keys["county"], "another.ledger/x", "org.registered", township("x3"))
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 422, "entry.wrong_ledger")


async def test_unsupported_version(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x4"))
    item["entry"]["v"] = 2
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 400, "entry.unsupported_version")


async def test_bad_signature(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x5"))
    item["entry"]["payload"]["name"] = "篡改镇"  # signed text no longer matches
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 422, "signature.invalid")


async def test_signature_not_base64(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x6"))
    item["sig"] = "not base64!"
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 400, "signature.malformed")


async def test_signature_wrong_length(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x7"))
    item["sig"] = base64.b64encode(b"\x00" * 63).decode()
    r = await ledger.client.http.post("/v1/entries", json=item)
    await expect_problem(ledger, r, 400, "signature.malformed")


async def test_unknown_key(ledger: LedgerFixture, size_unchanged: None) -> None:
    stranger = KeyFile("county", SigningKey.generate())
    r = await ledger.submit(stranger, "org.registered", township("x8"))
    await expect_problem(ledger, r, 422, "signature.unknown_key")


async def test_key_of_another_org(ledger: LedgerFixture) -> None:
    key = await ledger.register("county", "nanhai", "township")
    before = await ledger.size()
    r = await ledger.submit(key, "org.registered", township("x9"), actor="county")
    await expect_problem(ledger, r, 403, "signature.key_not_actors")
    assert await ledger.size() == before


async def test_revoked_key(ledger: LedgerFixture) -> None:
    key = await ledger.register("county", "wendeng-x", "township")
    await ledger.client.append(
        ledger.keys["county"], "key.revoked", {"key_id": key.key.key_id, "reason": "lost"}
    )
    before = await ledger.size()
    r = await ledger.submit(
        key, "key.added", {"org": "wendeng-x", "public_key": b64(SigningKey.generate().public_key)}
    )
    await expect_problem(ledger, r, 403, "signature.revoked_key")
    assert await ledger.size() == before


async def test_payload_failing_schema(ledger: LedgerFixture, size_unchanged: None) -> None:
    payload = township("x10")
    payload["public_keys"] = "not a list"
    r = await ledger.submit(ledger.keys["county"], "org.registered", payload)
    await expect_problem(ledger, r, 422, "payload.invalid")


async def test_payload_with_unknown_field(ledger: LedgerFixture, size_unchanged: None) -> None:
    payload = township("x11")
    payload["secret_note"] = "x"
    r = await ledger.submit(ledger.keys["county"], "org.registered", payload)
    await expect_problem(ledger, r, 422, "payload.invalid")


async def test_oversized_body(ledger: LedgerFixture, size_unchanged: None) -> None:
    r = await ledger.client.http.post(
        "/v1/entries",
        content=b"[" + b"0," * (9 * 1024 * 1024) + b"0]",
        headers={"content-type": "application/json"},
    )
    await expect_problem(ledger, r, 413, "request.too_large")


async def test_too_many_entries(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = ledger.sign(ledger.keys["county"], "org.registered", township("x12"))
    r = await ledger.client.http.post("/v1/entries", json={"entries": [item] * 5001})
    await expect_problem(ledger, r, 413, "request.too_many_entries")


async def test_batch_answers_each_entry_and_commits_the_good_ones(ledger: LedgerFixture) -> None:
    county = ledger.keys["county"]
    good1 = ledger.sign(county, "org.registered", township("batch-a"))
    bad = ledger.sign(county, "org.registered", township("batch-a"))  # registered twice
    unknown = ledger.sign(county, "no.such_kind", {})
    good2 = ledger.sign(county, "org.registered", township("batch-b"))
    before = await ledger.size()
    results = await ledger.client.submit_many([good1, bad, unknown, good2])
    assert results[1]["error"]["code"] == "org.already_registered"
    assert results[2]["error"]["code"] == "entry.unknown_kind"
    assert results[3]["seq"] == results[0]["seq"] + 1 == before + 1
    for r in (results[0], results[3]):
        check_receipt(r, ledger.verifier, ledger.origin)
    assert await ledger.size() == before + 2


async def test_minimal_receipts_hold_seq_and_leaf_and_are_provable_later(ledger: LedgerFixture) -> None:
    county = ledger.keys["county"]
    minimal = [ledger.sign(county, "org.registered", township(f"minimal-{i}")) for i in range(3)]
    full = [ledger.sign(county, "org.registered", township(f"full-{i}")) for i in range(2)]
    # Submitted together, so they may share a group commit: each gets the receipt it asked for.
    answers = await asyncio.gather(
        ledger.client.http.post(
            "/v1/entries", json={"entries": minimal}, headers={"Prefer": "respond-async, return=minimal"}
        ),
        ledger.client.submit_many(full),
    )
    r = answers[0]
    assert r.status_code == 200 and r.headers["preference-applied"] == "return=minimal"
    receipts = r.json()["results"]
    assert all(set(x) == {"seq", "leaf_hash"} for x in receipts)
    for receipt in answers[1]:
        check_receipt(receipt, ledger.verifier, ledger.origin)
    cp = open_checkpoint(await ledger.client.get("/v1/checkpoint"), ledger.verifier)
    for receipt in receipts:
        p = await ledger.client.get("/v1/proofs/inclusion", seq=receipt["seq"], size=cp.size)
        assert p["leaf_hash"] == receipt["leaf_hash"]
        verify_inclusion(
            bytes.fromhex(receipt["leaf_hash"]),
            receipt["seq"],
            cp.size,
            [bytes.fromhex(h) for h in p["proof"]],
            cp.root_hash,
        )
    single = await ledger.client.http.post(
        "/v1/entries",
        json=ledger.sign(county, "org.registered", township("minimal-one")),
        headers={"Prefer": "return=minimal"},
    )
    assert set(single.json()) == {"seq", "leaf_hash"}
    plain = await ledger.client.http.post(
        "/v1/entries", json=ledger.sign(county, "org.registered", township("plain-one"))
    )
    assert "preference-applied" not in plain.headers and "inclusion_proof" in plain.json()
