"""Shared assertion: a refused entry is answered 4xx with its code and changes nothing."""

from __future__ import annotations

from typing import Any

from ledger.signing import KeyFile
from tests.registry_support import Village


async def refused(
    v: Village, kind: str, payload: dict[str, Any], code: str, key: KeyFile | None = None
) -> dict[str, Any]:
    before = await v.fx.size()
    r = await v.submit(kind, payload, key=key)
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert body["code"] == code, body
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await v.fx.size() == before, "a refused entry changed the ledger"
    return body  # type: ignore[no-any-return]
