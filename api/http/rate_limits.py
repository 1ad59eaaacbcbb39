"""Abuse limits: token buckets per client address (every request) and per signing key (every
entry submitted under the key, and every signed request by it), answered 429 ``request.rate_limited``
with ``Retry-After``; and the console's failed sign-ins per client address (``sign_in_*``: many
usernames guessed from one address, which the per-user lock-out does not see), counted by the
sign-in route itself.

The buckets live in this process's memory: with N server processes the effective limits are N
times the configured ones, and a restart refills every bucket."""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.http.problems import PROBLEM_MEDIA_TYPE, problem
from ledger.errors import Category

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BUCKETS = 100_000  # past this, buckets full again are forgotten (they hold nothing)
MAX_COUNTED_BODY = 16 * 1024 * 1024
KEY_ID = re.compile(r'key="([0-9a-f]{16})"')
ENV_PREFIX = "RURAL_LEDGER_RATE_"


@dataclass(frozen=True)
class RateLimits:
    """Rates per second and bursts; a rate of 0 turns that limit off."""

    per_address: float = 1_000.0  # requests per second from one client address
    address_burst: int = 5_000
    per_key: float = 20_000.0  # entries (and signed requests) per second under one key
    key_burst: int = 100_000
    sign_in_per_address: float = 0.1  # failed console sign-ins a second from one address
    sign_in_burst: int = 20

    @classmethod
    def from_env(cls) -> RateLimits:
        """Defaults, overridden by ``RURAL_LEDGER_RATE_PER_ADDRESS``, ``..._ADDRESS_BURST``,
        ``..._PER_KEY``, ``..._KEY_BURST``, ``..._SIGN_IN_PER_ADDRESS`` and ``..._SIGN_IN_BURST``."""
        base = cls()

        def read(name: str, default: float) -> float:
            raw = os.environ.get(ENV_PREFIX + name)
            return default if raw is None or raw.strip() == "" else float(raw)

        return cls(
            per_address=read("PER_ADDRESS", base.per_address),
            address_burst=int(read("ADDRESS_BURST", base.address_burst)),
            per_key=read("PER_KEY", base.per_key),
            key_burst=int(read("KEY_BURST", base.key_burst)),
            sign_in_per_address=read("SIGN_IN_PER_ADDRESS", base.sign_in_per_address),
            sign_in_burst=int(read("SIGN_IN_BURST", base.sign_in_burst)),
        )

    def sign_in_buckets(self) -> TokenBuckets:
        """The failed sign-ins' buckets, one per client address."""
        return TokenBuckets(self.sign_in_per_address, self.sign_in_burst)


@dataclass
class TokenBuckets:
    """One bucket per name, refilled at ``rate`` tokens a second up to ``burst``."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, name: str) -> float:
        """The seconds until ``name``'s bucket holds one token (0: it holds one now); takes none."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.get(name, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, name: str, cost: int) -> float:
        """Takes ``cost`` tokens and returns 0, or returns the seconds to wait and takes none.
        A cost above the burst passes once the bucket is full, leaving it in debt."""
        if self.rate <= 0 or cost <= 0:
            return 0.0
        now = self.clock()
        tokens, at = self._buckets.get(name, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        needed = min(float(cost), float(self.burst))
        if tokens < needed:
            self._buckets[name] = (tokens, now)
            return (needed - tokens) / self.rate
        self._buckets[name] = (tokens - cost, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [n for n, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
        for n in full:
            del self._buckets[n]


class _SignedBy(msgspec.Struct):
    key: Any = None  # every other field of the entry is skipped, not decoded


class _Item(msgspec.Struct):
    entry: _SignedBy | None = None


class _Submission(msgspec.Struct):
    entry: _SignedBy | None = None
    entries: list[msgspec.Raw] | None = None


def entries_per_key(body: bytes) -> dict[str, int]:
    """How many entries of a submission each signing key id signs. A body or item that is not
    a submission counts for nothing here: the route refuses it."""
    try:
        doc = msgspec.json.decode(body, type=_Submission)
    except (msgspec.DecodeError, RecursionError):
        return {}
    signers = [doc.entry] if doc.entries is None else [_signer(raw) for raw in doc.entries]
    counts: dict[str, int] = {}
    for signer in signers:
        if signer is not None and isinstance(signer.key, str):
            counts[signer.key[:64]] = counts.get(signer.key[:64], 0) + 1
    return counts


def _signer(raw: msgspec.Raw) -> _SignedBy | None:
    try:
        return msgspec.json.decode(raw, type=_Item).entry
    except (msgspec.DecodeError, RecursionError):
        return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


def signed_request_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            found = KEY_ID.search(value.decode("latin-1"))
            return found.group(1) if found else None
    return None


async def read_body(receive: Receive) -> tuple[list[Message], bytes]:
    """The body messages read, and their bytes: the whole body, or the first messages past
    MAX_COUNTED_BODY (the app refuses a body that large; the rest is left for it to read)."""
    messages: list[Message] = []
    body = bytearray()
    while len(body) <= MAX_COUNTED_BODY:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return messages, bytes(body)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


async def refuse(send: Send, wait: float, detail: str) -> None:
    body = msgspec.json.encode(problem(Category.RATE_LIMITED, "request.rate_limited", detail))
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def rate_limit_middleware(limits: RateLimits) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware factory applying ``limits``; both kinds of bucket are checked before
    the route runs, so a refused request stores nothing."""
    addresses = TokenBuckets(limits.per_address, limits.address_burst)
    keys = TokenBuckets(limits.per_key, limits.key_burst)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            wait = addresses.take(client_address(scope), 1)
            if wait:
                await refuse(send, wait, "too many requests from this address")
                return
            signer = signed_request_key(scope)
            if signer is not None and (wait := keys.take(signer, 1)):
                await refuse(send, wait, f"too many signed requests by key {signer}")
                return
            if (
                limits.per_key > 0
                and scope["method"] == "POST"
                and scope["path"].rstrip("/") == "/v1/entries"
            ):
                messages, body = await read_body(receive)
                for key, count in entries_per_key(body).items():
                    if wait := keys.take(key, count):
                        await refuse(send, wait, f"too many entries signed by key {key}")
                        return
                receive = replaying(messages, receive)
            await app(scope, receive, send)

        return limited

    return wrap
