"""Signed requests are served once: a replayed Authorization header is refused on every
signed route, whatever the request, and a fresh nonce is served."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from api.http.auth import REQUEST_CONTEXT, SignedRequests, request_message
from ledger.entry import format_time
from ledger.signing import b64
from tests.registry_support import Village, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    await ledger.origin_ready()
    return await village(ledger, "noncezhen", "noncezhen-nancun")


def signed_header(v: Village, method: str, path: str, body: bytes = b"") -> str:
    auth = v.fx.client.signed_by(v.key, clock=v.fx.clock)
    request = v.fx.client.http.build_request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    return str(next(auth.auth_flow(request)).headers["Authorization"])


async def send(v: Village, method: str, path: str, header: str, body: bytes = b"") -> object:
    return await v.fx.client.http.request(
        method, path, content=body, headers={"authorization": header, "content-type": "application/json"}
    )


@pytest.mark.parametrize("route", ["read", "blind-index"])
async def test_replayed_request_refused(v: Village, route: str) -> None:
    if route == "read":
        person = await v.person()
        method, path, body = "GET", f"/v1/parties/{person.party}/personal", b""
    else:
        method, path, body = "POST", "/v1/parties/blind-index", b'{"id_number": "x"}'
    header = signed_header(v, method, path, body)
    first = await send(v, method, path, header, body)
    assert first.status_code in (200, 422), first.text  # type: ignore[attr-defined]
    again = await send(v, method, path, header, body)
    assert again.status_code == 401, again.text  # type: ignore[attr-defined]
    assert again.json()["code"] == "auth.replayed"  # type: ignore[attr-defined]
    fresh = await send(v, method, path, signed_header(v, method, path, body), body)
    assert fresh.status_code == first.status_code  # type: ignore[attr-defined]


async def test_replayed_erasure_refused(v: Village) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    header = signed_header(v, "DELETE", path)
    first = await send(v, "DELETE", path, header)
    assert first.status_code == 200, first.text  # type: ignore[attr-defined]
    again = await send(v, "DELETE", path, header)
    assert again.json()["code"] == "auth.replayed"  # type: ignore[attr-defined]


async def test_nonce_reused_in_another_request_refused(v: Village) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    auth = SignedRequests(v.key, v.fx.origin, v.fx.clock)
    nonce = "same-nonce-twice-0123"

    def header(ts_offset: int) -> str:
        ts = format_time(v.fx.clock() + timedelta(seconds=ts_offset))
        sig = auth.key.key.sign(request_message(v.fx.origin, "GET", path, ts, nonce, b""))
        return f'Signature key="{v.key.key.key_id}",ts="{ts}",nonce="{nonce}",sig="{b64(sig)}"'

    assert (await send(v, "GET", path, header(0))).status_code == 200  # type: ignore[attr-defined]
    r = await send(v, "GET", path, header(1))
    assert r.json()["code"] == "auth.replayed"  # type: ignore[attr-defined]


async def test_header_without_nonce_refused(v: Village) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    ts = format_time(v.fx.clock())
    message = (
        REQUEST_CONTEXT.replace(b"v2", b"v1")
        + "\n".join(
            (v.fx.origin, "GET", path, ts, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        ).encode()
    )
    header = f'Signature key="{v.key.key.key_id}",ts="{ts}",sig="{b64(v.key.key.sign(message))}"'
    r = await send(v, "GET", path, header)
    assert r.status_code == 401 and r.json()["code"] == "auth.malformed"  # type: ignore[attr-defined]


async def test_nonces_older_than_the_window_are_forgotten(v: Village) -> None:
    person = await v.person()
    path = f"/v1/parties/{person.party}/personal"
    header = signed_header(v, "GET", path)
    assert (await send(v, "GET", path, header)).status_code == 200  # type: ignore[attr-defined]
    conn = await asyncpg.connect(v.fx.url)
    try:
        seen = await conn.fetchval("SELECT count(*) FROM request_nonces")
        assert seen >= 1
        v.fx.clock.advance(minutes=6)  # type: ignore[attr-defined]
        stale = await send(v, "GET", path, header)
        assert stale.json()["code"] == "auth.stale"  # type: ignore[attr-defined]
        assert (await send(v, "GET", path, signed_header(v, "GET", path))).status_code == 200  # type: ignore[attr-defined]
        assert await conn.fetchval("SELECT count(*) FROM request_nonces") == 1
    finally:
        await conn.close()
