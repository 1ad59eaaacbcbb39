"""Free-text notes beside entries: stored only with an admitted entry, never in the ledger,
shown to and erased by the entry's actor and the organisations above it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
import pytest

from api.client import Person
from tests.registry_support import Village, new_person, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    await ledger.origin_ready()
    return await village(ledger, "zhangcun", "zhangcun-xiazhuang")


def note_text() -> str:
    """A 四至 as written on paper, with a marker no other text holds."""
    return f"东至张三地\n西至沟\t南至路 {uuid.uuid4().hex}"


async def person_with_note(v: Village, note: Any, person: Person | None = None) -> dict[str, Any]:
    item = await v.fx.client.person_entry(v.key, person or new_person(v.rng), clock=v.fx.clock)
    item["note"] = note
    return item


def note_path(entry_id: str) -> str:
    return f"/v1/entries/by-id/{entry_id}/note"


async def read_note(fx: LedgerFixture, entry_id: str, org: str) -> Any:
    return await fx.client.http.get(
        note_path(entry_id), auth=fx.client.signed_by(fx.keys[org], clock=fx.clock)
    )


async def ledger_text(fx: LedgerFixture) -> str:
    """Every record body, every /v1/entries page and the export stream, as text."""
    texts = []
    after = -1
    while after is not None:
        page = await fx.client.get("/v1/entries", after=after, limit=1000)
        texts.append(msgspec.json.encode(page).decode())
        after = page["next"]
    export = await fx.client.http.get("/v1/export")
    assert export.status_code == 200, export.text
    texts.append(export.text)
    for seq in range(await fx.size()):
        texts.append((await fx.client.http.get(f"/v1/entries/{seq}")).text)
    return "\n".join(texts)


async def test_note_kept_apart_and_shown_to_governing_orgs(v: Village, ledger: LedgerFixture) -> None:
    text = note_text()
    item = await person_with_note(v, text)
    entry_id = item["entry"]["id"]
    r = await ledger.client.http.post("/v1/entries", json=item)
    assert r.status_code == 200, r.text
    record = (await ledger.client.http.get(f"/v1/entries/by-id/{entry_id}")).json()
    assert "note" not in record and text.split()[-1] not in msgspec.json.encode(record).decode()
    for org in (v.village, v.township, "county"):
        r = await read_note(ledger, entry_id, org)
        assert r.status_code == 200, r.text
        assert r.json()["note"] == text and r.json()["actor"] == v.village
        assert r.json()["created_at"].endswith("Z")  # RFC 3339 UTC, as every time on the wire
    other = await village(ledger, "gushan", "gushan-dongcun")
    sibling = await village(ledger, "zhangcun", "zhangcun-dongzhuang")
    for org in (other.township, other.village, sibling.village):
        r = await read_note(ledger, entry_id, org)
        assert r.status_code == 403 and r.json()["code"] == "note.forbidden", r.text
    anonymous = await ledger.client.http.get(note_path(entry_id))
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.required"
    everything = await ledger_text(ledger)
    marker = text.split()[-1]
    assert marker not in everything and "东至张三地" not in everything


async def test_refused_entry_leaves_no_note(v: Village, ledger: LedgerFixture) -> None:
    person = await v.person()
    twin = new_person(v.rng)
    twin = Person(person.party, twin.name, twin.id_number, twin.sex, twin.birth_date, twin.phone)
    item = await person_with_note(v, note_text(), twin)  # party id already registered
    r = await ledger.client.http.post("/v1/entries", json=item)
    assert r.status_code == 422 and r.json()["code"] == "party.already_registered", r.text
    r = await read_note(ledger, item["entry"]["id"], v.village)
    assert r.status_code == 404 and r.json()["code"] == "note.not_found"


async def post(fx: LedgerFixture, doc: Any) -> Any:
    """POST as JSON with ASCII escapes, so that a lone surrogate can be sent."""
    return await fx.client.http.post(
        "/v1/entries", content=json.dumps(doc), headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x" * 2001,
        "东至\x00西至",
        "a\rb",
        "a\x1fb",
        "a\x7fb",
        "a\ufffeb",
        "a\uffffb",
        42,
        None,
        True,
        ["东至路"],
        {"text": "东至路"},
    ],
)
async def test_bad_note_refused_alone(v: Village, ledger: LedgerFixture, bad: Any) -> None:
    good1, guilty, good2 = [await person_with_note(v, n) for n in (note_text(), bad, note_text())]
    before = await ledger.size()
    r = await post(ledger, {"entries": [good1, guilty, good2]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert "error" not in results[0] and "error" not in results[2], results
    assert results[1]["error"]["code"] == "note.invalid" and results[1]["error"]["status"] == 422
    assert await ledger.size() == before + 2
    assert (await read_note(ledger, guilty["entry"]["id"], v.village)).status_code == 404
    for good in (good1, good2):
        assert (await read_note(ledger, good["entry"]["id"], v.village)).status_code == 200
    single = await person_with_note(v, bad)
    r = await post(ledger, single)
    assert r.status_code == 422 and r.json()["code"] == "note.invalid", r.text
    assert await ledger.size() == before + 2


async def test_lone_surrogate_in_a_note(v: Village, ledger: LedgerFixture) -> None:
    """JSON that holds a lone surrogate is refused whole by the body decoder, before any
    entry or note is looked at: nothing is stored."""
    for bad in ("a\ud800b", "a\udc00b"):
        item = await person_with_note(v, bad)
        before = await ledger.size()
        r = await post(ledger, item)
        assert r.status_code == 400 and r.json()["code"] == "request.malformed_json", r.text
        assert await ledger.size() == before
        assert (await read_note(ledger, item["entry"]["id"], v.village)).status_code == 404


async def test_longest_note_and_person_without_note(v: Village, ledger: LedgerFixture) -> None:
    longest = "东" * 2000
    item = await person_with_note(v, longest)
    assert (await ledger.client.http.post("/v1/entries", json=item)).status_code == 200
    assert (await read_note(ledger, item["entry"]["id"], v.village)).json()["note"] == longest
    plain = await ledger.client.person_entry(v.key, new_person(v.rng), clock=ledger.clock)
    assert (await ledger.client.http.post("/v1/entries", json=plain)).status_code == 200
    r = await read_note(ledger, plain["entry"]["id"], v.village)
    assert r.status_code == 404 and r.json()["code"] == "note.not_found"
    r = await read_note(ledger, str(uuid.uuid4()), v.village)
    assert r.status_code == 404 and r.json()["code"] == "note.not_found"


async def test_erasure_by_governing_orgs_only(v: Village, ledger: LedgerFixture) -> None:
    items = [await person_with_note(v, note_text()) for _ in range(2)]
    for item in items:
        assert (await ledger.client.http.post("/v1/entries", json=item)).status_code == 200
    other = await village(ledger, "wenshan", "wenshan-beicun")
    for item, eraser in zip(items, (v.village, "county"), strict=True):
        entry_id = item["entry"]["id"]
        record = (await ledger.client.http.get(f"/v1/entries/by-id/{entry_id}")).json()
        path = note_path(entry_id)
        r = await ledger.client.http.delete(path)
        assert r.status_code == 401
        for org in (other.township, other.village):
            r = await ledger.client.http.delete(
                path, auth=ledger.client.signed_by(ledger.keys[org], clock=ledger.clock)
            )
            assert r.status_code == 403 and r.json()["code"] == "note.forbidden", r.text
        assert (await read_note(ledger, entry_id, v.village)).status_code == 200
        r = await ledger.client.http.delete(
            path, auth=ledger.client.signed_by(ledger.keys[eraser], clock=ledger.clock)
        )
        assert r.status_code == 200 and r.json()["erased"] is True, r.text
        for org in (v.village, v.township):
            r = await read_note(ledger, entry_id, org)
            assert r.status_code == 404 and r.json()["code"] == "note.not_found"
        r = await ledger.client.http.delete(
            path, auth=ledger.client.signed_by(ledger.keys[eraser], clock=ledger.clock)
        )
        assert r.status_code == 404 and r.json()["code"] == "note.not_found"
        after = (await ledger.client.http.get(f"/v1/entries/by-id/{entry_id}")).json()
        assert after == record
