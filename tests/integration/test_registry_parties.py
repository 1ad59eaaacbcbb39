"""Registering persons: personal fields checked at the boundary, never in the ledger."""

from __future__ import annotations

import dataclasses
import random

import msgspec
import pytest

from api.client import Person
from tests.registry_support import Village, new_person, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    return await village(ledger, "zhangcun", "zhangcun-xiazhuang")


async def submit_person(v: Village, person: Person, mutate=None):  # type: ignore[no-untyped-def]
    item = await v.fx.client.person_entry(v.key, person, clock=v.fx.clock)
    if mutate:
        mutate(item)
    before = await v.fx.size()
    r = await v.fx.client.http.post("/v1/entries", json=item)
    return r, before


async def expect(v: Village, r, before: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= r.status_code < 500 and r.json()["code"] == code, r.text
    assert await v.fx.size() == before


async def test_person_registered_and_personal_fields_kept_apart(v: Village) -> None:
    person = await v.person()
    page = await v.fx.client.get("/v1/entries", after=-1, limit=1000)
    text = msgspec.json.encode(page).decode()
    for secret in (person.name, person.id_number, person.phone):
        assert secret not in text
    public = await v.fx.client.get(f"/v1/parties/{person.party}")
    assert person.name not in msgspec.json.encode(public).decode()


async def test_same_resident_id_twice(v: Village) -> None:
    person = await v.person()
    twin = dataclasses.replace(person, party=new_person(random.Random(99)).party)
    r, before = await submit_person(v, twin)
    await expect(v, r, before, "party.duplicate_person")


async def test_party_id_reused(v: Village) -> None:
    person = await v.person()
    other = dataclasses.replace(new_person(random.Random(5)), party=person.party)
    r, before = await submit_person(v, other)
    await expect(v, r, before, "party.already_registered")


async def test_bad_check_digit(v: Village) -> None:
    person = new_person(random.Random(11))
    bad = person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1")
    item = await v.fx.client.person_entry(v.key, person, clock=v.fx.clock)
    item["personal"]["id_number"] = bad
    before = await v.fx.size()
    r = await v.fx.client.http.post("/v1/entries", json=item)
    await expect(v, r, before, "personal.invalid_id_number")
    assert "check character" in r.json()["detail"]


async def test_impossible_birth_date(v: Village) -> None:
    blind = v.fx.client.blind_index(v.key, "371003199002300011", clock=v.fx.clock)
    from api.client import SubmitError

    with pytest.raises(SubmitError) as e:
        await blind
    assert e.value.code == "personal.invalid_id_number"


async def test_commitment_does_not_match(v: Village) -> None:
    def other_name(item):  # type: ignore[no-untyped-def]
        item["personal"]["name"] = "张冒名"

    r, before = await submit_person(v, new_person(random.Random(12)), other_name)
    await expect(v, r, before, "personal.commitment_mismatch")


async def test_sex_inconsistent_with_id(v: Village) -> None:
    def flip(item):  # type: ignore[no-untyped-def]
        item["personal"]["sex"] = "F" if item["personal"]["sex"] == "M" else "M"

    r, before = await submit_person(v, new_person(random.Random(13)), flip)
    await expect(v, r, before, "personal.inconsistent")


async def test_unkeyed_blind_index_refused(v: Village) -> None:
    import hashlib

    person = new_person(random.Random(14))

    def unkeyed(item):  # type: ignore[no-untyped-def]
        # the index a client could compute without the operator's key: refused
        digest = hashlib.sha256(person.id_number.encode()).hexdigest()
        item["entry"]["payload"]["blind_index"] = digest

    item = await v.fx.client.person_entry(v.key, person, clock=v.fx.clock)
    unkeyed(item)
    from api.client import signed_entry

    resigned = signed_entry(v.key, v.fx.origin, "party.registered", item["entry"]["payload"])
    resigned["personal"] = item["personal"]
    before = await v.fx.size()
    r = await v.fx.client.http.post("/v1/entries", json=resigned)
    await expect(v, r, before, "personal.blind_index_mismatch")


async def test_personal_fields_missing(v: Village) -> None:
    def drop(item):  # type: ignore[no-untyped-def]
        del item["personal"]

    r, before = await submit_person(v, new_person(random.Random(15)), drop)
    await expect(v, r, before, "personal.missing")


async def test_personal_fields_on_another_kind(v: Village) -> None:
    item = v.fx.sign(v.key, "member.confirmed", {"party": new_person(random.Random(16)).party})
    item["personal"] = {"name": "x"}
    before = await v.fx.size()
    r = await v.fx.client.http.post("/v1/entries", json=item)
    await expect(v, r, before, "personal.unexpected")


async def test_personal_data_needs_a_governing_org(v: Village, ledger: LedgerFixture) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    anonymous = await ledger.client.http.get(path)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.required"
    other = await village(ledger, "gushan", "gushan-dongcun")
    foreign = await ledger.client.http.get(path, auth=ledger.client.signed_by(other.key, clock=ledger.clock))
    assert foreign.status_code == 403 and foreign.json()["code"] == "auth.forbidden"
    for org in (v.village, v.township, "county"):  # the village and everything above it
        r = await ledger.client.http.get(
            path, auth=ledger.client.signed_by(ledger.keys[org], clock=ledger.clock)
        )
        assert r.status_code == 200 and r.json()["id_number"] == person.id_number


async def test_stale_or_forged_request_signature(v: Village, ledger: LedgerFixture) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    from datetime import timedelta

    stale = ledger.client.signed_by(v.key, clock=lambda: ledger.clock() - timedelta(minutes=10))
    r = await ledger.client.http.get(path, auth=stale)
    assert r.status_code == 401 and r.json()["code"] == "auth.stale"
    r = await ledger.client.http.get(
        path,
        headers={
            "Authorization": f'Signature key="{v.key.key.key_id}",ts="2026-03-01T08:00:00Z",'
            f'nonce="{"n" * 16}",sig="{"A" * 86}=="'
        },
    )
    assert r.status_code == 401 and r.json()["code"] in ("auth.bad_signature", "auth.stale")


async def test_erasure_leaves_the_ledger_verifiable(v: Village, ledger: LedgerFixture) -> None:
    from api.client import check_receipt
    from ledger.checkpoint import open_checkpoint

    person = await v.person()
    auth = ledger.client.signed_by(v.key, clock=ledger.clock)
    erased = await ledger.client.http.delete(f"/v1/parties/{person.party}/personal", auth=auth)
    assert erased.status_code == 200 and erased.json()["erased"] is True
    gone = await ledger.client.http.get(f"/v1/parties/{person.party}/personal", auth=auth)
    assert gone.status_code == 404 and gone.json()["code"] == "personal.erased"
    # The party's record still proves its inclusion in the signed tree.
    party = await ledger.client.get(f"/v1/parties/{person.party}")
    cp = open_checkpoint(await ledger.client.get("/v1/checkpoint"), ledger.verifier)
    proof = await ledger.client.get("/v1/proofs/inclusion", seq=party["registered_seq"], size=cp.size)
    check_receipt(
        {
            "seq": proof["seq"],
            "leaf_hash": proof["leaf_hash"],
            "inclusion_proof": proof["proof"],
            "checkpoint": await ledger.client.get("/v1/checkpoint"),
        },
        ledger.verifier,
        ledger.origin,
    )
