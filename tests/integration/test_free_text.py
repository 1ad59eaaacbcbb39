"""Payload text through the real HTTP API: text PostgreSQL or the canonical form cannot hold is
refused as the entry's own 422, nothing of it is stored, and its neighbours in a batch commit;
free text (a 四至 naming a neighbour, a revocation remark) is refused."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from ledger.signing import KeyFile, SigningKey
from tests.registry_support import village
from tests.support import LedgerFixture

JSON = {"content-type": "application/json"}


@pytest.fixture
async def size_unchanged(ledger: LedgerFixture):  # type: ignore[no-untyped-def]
    before = await ledger.size()
    yield
    assert await ledger.size() == before, "a refused entry changed the ledger"


def township(ledger: LedgerFixture, org_id: str, name: str | None = None) -> dict[str, Any]:
    return ledger.sign(
        ledger.keys["county"], "org.registered", ledger.org_payload("county", org_id, "township", name)
    )


def assert_refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "payload.invalid"
    assert field in r.json()["detail"]


@pytest.mark.usefixtures("size_unchanged")
async def test_nul_in_org_name_refused(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.post("/v1/entries", json=township(ledger, "t-nul", "文登\x00镇"))
    assert_refused(r, "name")


async def test_nul_in_revocation_reason_refused(ledger: LedgerFixture) -> None:
    spare = await ledger.register("county", "t-spare", "township")
    before = await ledger.size()
    r = await ledger.submit(
        ledger.keys["county"], "key.revoked", {"key_id": spare.key.key_id, "reason": "lost\x00"}
    )
    assert_refused(r, "reason")
    assert await ledger.size() == before


@pytest.mark.usefixtures("size_unchanged")
@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\udc00x"])
async def test_escaped_lone_surrogate_refused(ledger: LedgerFixture, escape: str) -> None:
    """What a client can really send: the JSON escape in the body bytes (no signature can cover
    it, the canonical form has no bytes for it)."""
    item = township(ledger, "t-esc", "PLACEHOLDER")
    body = msgspec.json.encode(item).replace(b"PLACEHOLDER", escape.encode())
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "request.malformed_json"


@pytest.mark.usefixtures("size_unchanged")
@pytest.mark.parametrize("char", ["\x00", "\x1f", "\x7f", "\ufffe", "\uffff"])
async def test_signed_control_text_refused(ledger: LedgerFixture, char: str) -> None:
    """Validly signed; the body carries the JSON escape (or the raw character)."""
    item = township(ledger, "t-ctl", f"文登{char}镇")
    body = msgspec.json.encode(item)
    assert char.encode() in body or f"\\u{ord(char):04x}".encode() in body
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert_refused(r, "name")


async def test_batch_with_nul_commits_its_neighbours(ledger: LedgerFixture) -> None:
    before = await ledger.size()
    results = await ledger.client.submit_many(
        [
            township(ledger, "t-batch-1"),
            township(ledger, "t-batch-2", "镇\x00"),
            township(ledger, "t-batch-3"),
        ]
    )
    assert "seq" in results[0] and "seq" in results[2], results
    assert results[1]["error"]["code"] == "payload.invalid"
    assert results[1]["error"]["status"] == 422
    assert await ledger.size() == before + 2


@pytest.mark.parametrize("side", ["刘秀英承包地", "李家地", "路", "12345", "road "])
async def test_boundary_free_text_refused(ledger: LedgerFixture, side: str) -> None:
    if "v-land" not in ledger.keys:
        await village(ledger, "t-land", "v-land")
    key = ledger.keys["v-land"]
    code = ledger.codes["v-land"] + "0100001"
    before = await ledger.size()
    r = await ledger.submit(
        key,
        "land.contract_issued",
        {
            "contract": "C-FREE",
            "household": "00000000-0000-4000-8000-000000000000",
            "certificate_no": "CERT-1",
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": [
                {
                    "code": code,
                    "area_m2": 100,
                    "land_class": "arable",
                    "boundaries": {"east": side, "south": "road", "west": "ditch", "north": "river"},
                }
            ],
        },
    )
    assert_refused(r, "east")
    assert await ledger.size() == before


@pytest.mark.usefixtures("size_unchanged")
@pytest.mark.parametrize("reason", ["张三丢了", "x", ""])
async def test_revocation_reason_is_enumerated(ledger: LedgerFixture, reason: str) -> None:
    spare = KeyFile("x", SigningKey.generate())
    r = await ledger.submit(
        ledger.keys["county"], "key.revoked", {"key_id": spare.key.key_id, "reason": reason}
    )
    assert_refused(r, "reason")
