"""Who is asking: requests signed with an organisation's ledger key.

``Authorization: Signature key="KEY_ID",ts="RFC3339",nonce="NONCE",sig="BASE64"`` where ``sig``
is Ed25519 over ``rural-ledger/request/v2\\n ORIGIN \\n METHOD \\n PATH?QUERY \\n TS \\n NONCE
\\n SHA256HEX(body)``. The key must be registered in the ledger and not revoked, ``ts`` within
five minutes of the server's clock, and the nonce (16 to 64 characters of ``A-Za-z0-9_-``) not
used by the key before: a request is served once. The caller is the key's organisation; roles
come from its place in the tree.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.problems import ApiProblem
from contracts.orgs import Org, OrgKey
from ledger.entry import format_time, parse_time
from ledger.errors import Category
from ledger.signing import KeyFile, b64, decode_b64, verify_signature

REQUEST_CONTEXT = b"rural-ledger/request/v2\n"
MAX_SKEW = timedelta(minutes=5)
HEADER = re.compile(
    r'^Signature key="([0-9a-f]{16})",ts="([^"]+)",nonce="([A-Za-z0-9_-]{16,64})",'
    r'sig="([A-Za-z0-9+/=]+)"$'
)
_REMEMBER = text(
    "INSERT INTO request_nonces (key_id, nonce, signed_at) VALUES (:key, :nonce, :at) ON CONFLICT DO NOTHING"
)
_FORGET = text("DELETE FROM request_nonces WHERE signed_at < :before")


def request_message(origin: str, method: str, target: str, ts: str, nonce: str, body: bytes) -> bytes:
    parts = (origin, method.upper(), target, ts, nonce, hashlib.sha256(body).hexdigest())
    return REQUEST_CONTEXT + "\n".join(parts).encode()


class SignedRequests(httpx.Auth):
    """httpx authentication that signs every request with an organisation's key file."""

    requires_request_body = True

    def __init__(
        self, key: KeyFile, origin: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.key, self.origin, self.clock = key, origin, clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        ts = format_time(self.clock())
        nonce = secrets.token_urlsafe(18)
        target = request.url.raw_path.decode()
        sig = self.key.key.sign(
            request_message(self.origin, request.method, target, ts, nonce, request.content)
        )
        request.headers["Authorization"] = (
            f'Signature key="{self.key.key.key_id}",ts="{ts}",nonce="{nonce}",sig="{b64(sig)}"'
        )
        yield request


@dataclass(frozen=True)
class Caller:
    """An authenticated organisation and the chain of organisations above it."""

    org: Org
    ancestors: tuple[str, ...]

    def governs(self, org_id: str | None, chain: tuple[str, ...]) -> bool:
        """True when the caller is ``org_id`` or one of its ancestors (``chain``)."""
        return org_id is not None and (self.org.id == org_id or self.org.id in chain)


async def org_chain(session: AsyncSession, org_id: str | None) -> tuple[str, ...]:
    """The ancestors of ``org_id``, nearest first."""
    chain: list[str] = []
    current = await session.get(Org, org_id) if org_id else None
    while current is not None and current.parent_id and len(chain) < 16:
        chain.append(current.parent_id)
        current = await session.get(Org, current.parent_id)
    return tuple(chain)


async def first_use(engine: AsyncEngine, key_id: str, nonce: str, at: datetime, now: datetime) -> bool:
    """Remember a verified request's nonce; False when the key used it before.

    Committed on a connection of its own, before the request is served: a crash after this
    leaves the nonce spent and the request unserved, and the client signs it anew. Nonces of
    requests now too old to pass the skew check are forgotten."""
    async with engine.begin() as conn:
        inserted = await conn.execute(_REMEMBER, {"key": key_id, "nonce": nonce, "at": at})
        await conn.execute(_FORGET, {"before": now - MAX_SKEW})
    return bool(inserted.rowcount)


async def authenticate(
    session: AsyncSession,
    nonces: AsyncEngine,
    origin: str,
    header: str | None,
    method: str,
    target: str,
    body: bytes,
    now: datetime,
) -> Caller:
    """The organisation that signed this request, or a 401 problem saying why not. Keys and
    organisations are read through ``session``; the nonce is committed through ``nonces``."""
    if not header:
        raise ApiProblem(
            Category.UNAUTHORISED,
            "auth.required",
            "sign the request with an organisation key (Authorization: Signature key=...,ts=...,sig=...)",
        )
    match = HEADER.match(header)
    if not match:
        raise ApiProblem(
            Category.UNAUTHORISED, "auth.malformed", "the Authorization header is not a Signature"
        )
    key_id, ts, nonce, sig = match.groups()
    try:
        at = parse_time(ts)
        signature = decode_b64(sig, size=64, what="sig")
    except ValueError as e:
        raise ApiProblem(Category.UNAUTHORISED, "auth.malformed", str(e)) from e
    if abs(now - at) > MAX_SKEW:
        raise ApiProblem(
            Category.UNAUTHORISED, "auth.stale", f"request time {ts} is not within 5 minutes of now"
        )
    key = await session.get(OrgKey, key_id)
    if key is None or key.revoked_seq is not None:
        raise ApiProblem(
            Category.UNAUTHORISED, "auth.unknown_key", f"key {key_id} is not a current ledger key"
        )
    public = decode_b64(key.public_key, size=32, what="public key")
    message = request_message(origin, method, target, ts, nonce, body)
    if not verify_signature(public, signature, message):
        raise ApiProblem(Category.UNAUTHORISED, "auth.bad_signature", "the request signature does not verify")
    if not await first_use(nonces, key_id, nonce, at, now):
        raise ApiProblem(
            Category.UNAUTHORISED,
            "auth.replayed",
            "this signed request was already served; sign each request with a new nonce",
        )
    org = await session.get(Org, key.org_id)
    if org is None:
        raise ApiProblem(Category.UNAUTHORISED, "auth.unknown_key", f"key {key_id} has no organisation")
    return Caller(org, await org_chain(session, org.id))
