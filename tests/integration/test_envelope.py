"""The request envelope through the real HTTP API: JSON media types only, one value per key,
bounded nesting, and one encoding of each signature; nothing stored for any refusal."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from ledger.signing import KeyFile, SigningKey, b64
from tests.support import LedgerFixture
from tests.unit.ledger.test_base64 import with_padding_bits

JSON = {"content-type": "application/json"}


def township(ledger: LedgerFixture, org_id: str) -> dict[str, Any]:
    return ledger.sign(
        ledger.keys["county"], "org.registered", ledger.org_payload("county", org_id, "township")
    )


@pytest.fixture
async def size_unchanged(ledger: LedgerFixture):  # type: ignore[no-untyped-def]
    before = await ledger.size()
    yield
    assert await ledger.size() == before, "a refused request changed the ledger"


def assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "text/json",
    ],
)
async def test_non_json_media_type_refused(
    ledger: LedgerFixture, size_unchanged: None, content_type: str | None
) -> None:
    body = msgspec.json.encode(township(ledger, "mediatype"))
    headers = {"content-type": content_type} if content_type else {}
    r = await ledger.client.http.post("/v1/entries", content=body, headers=headers)
    if content_type is None:  # the client may add none: make sure none went
        assert "content-type" not in r.request.headers
    assert_problem(r, 415, "request.unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON; charset="UTF-8"',
        "application/merge-patch+json",
    ],
)
async def test_json_media_types_accepted(ledger: LedgerFixture, content_type: str) -> None:
    body = msgspec.json.encode(township(ledger, f"mt{abs(hash(content_type)) % 10**6}"))
    r = await ledger.client.http.post("/v1/entries", content=body, headers={"content-type": content_type})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/parties/blind-index", b'{"id_number": "x"}'),
        ("/v1/witness/cosignatures", b'{"size": 1, "witness_key": "x", "cosignature": "y"}'),
    ],
)
async def test_other_json_routes_refuse_non_json(ledger: LedgerFixture, path: str, body: bytes) -> None:
    await ledger.client.origin()
    r = await ledger.client.http.post(
        path,
        content=body,
        headers={"content-type": "text/plain"},
        auth=ledger.client.signed_by(ledger.keys["county"], ledger.clock),
    )
    assert_problem(r, 415, "request.unsupported_media_type")


def repeat_key(body: bytes, inner: bytes, key: bytes, first: bytes) -> bytes:
    """``body`` with ``"key": first,`` put before the first occurrence of ``inner``."""
    at = body.index(inner)
    return body[:at] + b'"' + key + b'":' + first + b"," + body[at:]


async def test_duplicate_key_in_entry_refused(ledger: LedgerFixture, size_unchanged: None) -> None:
    item = township(ledger, "dupkey")
    body = msgspec.json.encode(item)
    # a reader keeping the first value would see another organisation than one keeping the last
    twice = repeat_key(body, b'"id":"dupkey"', b"id", b'"dupkey2"')
    assert msgspec.json.decode(twice)["entry"]["payload"]["id"] == "dupkey"
    r = await ledger.client.http.post("/v1/entries", content=twice, headers=JSON)
    assert_problem(r, 400, "request.duplicate_key")
    assert "'id'" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"entry": {}, "entry": {}, "sig": ""}',
        b'{"entries": [{"entry": {"v": 1, "v": 1}, "sig": ""}]}',
        b'{"entries": [{"entry": {"payload": {"a": {"b": {"c": 1, "c": 1}}}}, "sig": ""}]}',
        b'{"entry": {"k": "\\u003a", "k": 1}, "sig": ""}',
    ],
)
async def test_duplicate_key_at_any_depth_refused(
    ledger: LedgerFixture, size_unchanged: None, body: bytes
) -> None:
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert_problem(r, 400, "request.duplicate_key")


async def test_escaped_colons_and_quotes_are_not_duplicates(
    ledger: LedgerFixture, size_unchanged: None
) -> None:
    body = b'{"entry": {"a\\"": "\\u003a", "a": "x:\\\\"}, "sig": "?"}'
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert r.json()["code"] != "request.duplicate_key", r.text
    assert r.status_code == 400


@pytest.mark.parametrize("depth", [65, 1200, 100_000])
async def test_deep_nesting_refused(ledger: LedgerFixture, size_unchanged: None, depth: int) -> None:
    body = b'{"entry": ' + b"[" * depth + b"]" * depth + b', "sig": ""}'
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert_problem(r, 400, "request.too_deep")


async def test_deep_nesting_refused_on_the_blind_index(ledger: LedgerFixture) -> None:
    body = b'{"id_number": ' + b"[" * 1200 + b"]" * 1200 + b"}"
    path = "/v1/parties/blind-index"
    await ledger.client.origin()
    r = await ledger.client.http.post(
        path, content=body, headers=JSON, auth=ledger.client.signed_by(ledger.keys["county"], ledger.clock)
    )
    assert_problem(r, 400, "request.too_deep")


async def test_brackets_inside_strings_do_not_count(ledger: LedgerFixture, size_unchanged: None) -> None:
    body = b'{"entry": {"x": "' + b"[" * 1200 + b'"}, "sig": ""}'
    r = await ledger.client.http.post("/v1/entries", content=body, headers=JSON)
    assert r.status_code == 400 and r.json()["code"] == "entry.malformed", r.text


async def test_signature_with_padding_bits_refused_and_signer_still_accepted(ledger: LedgerFixture) -> None:
    item = township(ledger, "paddingbits")
    other = dict(item, sig=with_padding_bits(item["sig"]))
    assert base64.b64decode(other["sig"]) == base64.b64decode(item["sig"])
    size = await ledger.size()
    r = await ledger.client.http.post("/v1/entries", json=other)
    assert_problem(r, 400, "signature.malformed")
    assert await ledger.size() == size
    receipt = await ledger.client.submit(item)  # the signer's own submission is not a conflict
    assert receipt["seq"] == size


async def test_public_key_with_padding_bits_refused(ledger: LedgerFixture, size_unchanged: None) -> None:
    key = KeyFile("paddedkey", SigningKey.generate())
    payload = ledger.org_payload("county", "paddedkey", "township", key=key)
    payload["public_keys"] = [with_padding_bits(b64(key.key.public_key))]
    r = await ledger.submit(ledger.keys["county"], "org.registered", payload)
    assert_problem(r, 422, "key.malformed")
    assert "canonical" in r.json()["detail"]
