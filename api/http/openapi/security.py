"""The signed request (``api.http.auth``) as an OpenAPI security scheme, and the operations
that require it: those whose handler takes the ``caller`` dependency."""

from __future__ import annotations

from typing import Any

from api.http.auth import MAX_SKEW

SCHEME = "signedRequest"
SIGNED_BY = "caller"  # the dependency that authenticates the request (api.http.dependencies)

SIGNED_REQUEST: dict[str, Any] = {
    "type": "apiKey",
    "in": "header",
    "name": "Authorization",
    "description": (
        'A request signed with an organisation\'s ledger key: `Signature key="KEY_ID",ts="TS",'
        'nonce="NONCE",sig="SIG"`, where `SIG` is the standard base64 Ed25519 signature by the '
        "current (not revoked) ledger key `KEY_ID` (16 hex digits) over\n\n"
        "```\nrural-ledger/request/v2\nORIGIN\nMETHOD\nPATH?QUERY\nTS\nNONCE\nSHA256HEX(body)\n```\n\n"
        "(lines joined by `\\n`; `ORIGIN` is this ledger's origin, `METHOD` upper case, `PATH?QUERY` "
        "as sent, the hash of an empty body for a request without one). `TS` is RFC 3339 UTC within "
        f"{int(MAX_SKEW.total_seconds() // 60)} minutes of the ledger's clock; `NONCE` is 16 to 64 "
        "characters of `A-Za-z0-9_-`, new for every request (a replay is refused with 401 "
        "`auth.replayed`). The caller is the key's organisation. `api.client.LedgerClient.signed_by` "
        "signs requests so."
    ),
}


def requirement() -> list[dict[str, list[str]]]:
    return [{SCHEME: []}]
