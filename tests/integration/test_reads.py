"""Reading the log: pages, records by seq and id, checkpoints, inclusion and consistency proofs."""

from __future__ import annotations

from ledger.canonical import canonical_bytes
from ledger.checkpoint import open_checkpoint
from ledger.merkle import leaf_hash
from ledger.proofs import verify_consistency, verify_inclusion
from tests.support import LedgerFixture


async def grow(ledger: LedgerFixture, n: int, prefix: str) -> list[dict]:
    county = ledger.keys["county"]
    from ledger.signing import SigningKey, b64

    items = [
        ledger.sign(
            county, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
        )
        for _ in range(n)
    ]
    return await ledger.client.submit_many(items)


async def test_pages_walk_the_whole_log_in_order(ledger: LedgerFixture) -> None:
    await grow(ledger, 25, "p")
    seqs, after = [], -1
    while True:
        page = await ledger.client.get("/v1/entries", after=after, limit=7)
        for rec in page["items"]:
            body = canonical_bytes({k: rec[k] for k in ("seq", "recorded_at", "entry", "sig")})
            assert leaf_hash(body).hex() == rec["leaf_hash"]
            seqs.append(rec["seq"])
        if page["next"] is None:
            break
        after = page["next"]
    assert seqs == list(range(await ledger.size()))


async def test_record_by_entry_id(ledger: LedgerFixture) -> None:
    [receipt] = await grow(ledger, 1, "id")
    rec = await ledger.client.get(f"/v1/entries/{receipt['seq']}")
    same = await ledger.client.get(f"/v1/entries/by-id/{rec['entry']['id']}")
    assert same == rec


async def test_missing_record_is_404(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/entries/999999")
    assert r.status_code == 404 and r.json()["code"] == "record.not_found"
    r = await ledger.client.http.get("/v1/entries/by-id/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.json()["code"] == "record.not_found"


async def test_inclusion_and_consistency_between_checkpoints(ledger: LedgerFixture) -> None:
    first = await grow(ledger, 3, "c1")
    old = open_checkpoint(first[-1]["checkpoint"], ledger.verifier, origin=ledger.origin)
    await grow(ledger, 11, "c2")
    new = open_checkpoint(await ledger.client.get("/v1/checkpoint"), ledger.verifier)
    at_size = await ledger.client.get("/v1/checkpoint", size=old.size)
    assert open_checkpoint(at_size, ledger.verifier) == old
    proof = await ledger.client.get("/v1/proofs/consistency", **{"from": old.size, "to": new.size})
    verify_consistency(
        old.size, new.size, [bytes.fromhex(h) for h in proof["proof"]], old.root_hash, new.root_hash
    )
    for seq in (0, first[0]["seq"], new.size - 1):
        p = await ledger.client.get("/v1/proofs/inclusion", seq=seq, size=new.size)
        verify_inclusion(
            bytes.fromhex(p["leaf_hash"]),
            seq,
            new.size,
            [bytes.fromhex(h) for h in p["proof"]],
            new.root_hash,
        )


async def test_proof_out_of_range(ledger: LedgerFixture) -> None:
    size = await ledger.size()
    r = await ledger.client.http.get("/v1/proofs/inclusion", params={"seq": size})
    assert r.status_code == 400 and r.json()["code"] == "proof.out_of_range"
    r = await ledger.client.http.get("/v1/proofs/consistency", params={"from": size + 1})
    assert r.status_code == 400 and r.json()["code"] == "proof.out_of_range"
    r = await ledger.client.http.get("/v1/checkpoint", params={"size": size + 5})
    assert r.status_code == 404 and r.json()["code"] == "checkpoint.not_found"


async def test_orgs_list_and_one(ledger: LedgerFixture) -> None:
    await ledger.register("county", "qiaotou", "township", "桥头镇")
    page = await ledger.client.get("/v1/orgs", type="township")
    assert "qiaotou" in [o["id"] for o in page["items"]]
    org = await ledger.client.get("/v1/orgs/qiaotou")
    assert org["name"] == "桥头镇" and org["parent"] == "county" and len(org["keys"]) == 1
    r = await ledger.client.http.get("/v1/orgs/nowhere")
    assert r.status_code == 404 and r.json()["code"] == "org.not_found"


async def test_nul_and_odd_ids_are_refused_not_500(ledger: LedgerFixture) -> None:
    for path, params in (
        ("/v1/orgs/%00", None),
        ("/v1/parties/%00", None),
        ("/v1/orgs", {"parent": "\x00"}),
        ("/v1/orgs", {"after": "a b"}),
        ("/v1/parties/%00/personal", None),
    ):
        r = await ledger.client.http.get(path, params=params)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
