"""A Python client for the ledger's HTTP API: signs entries with an organisation's key file
and submits them. Used by the tests, the seed generator and the command line."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from api.http.auth import SignedRequests
from api.http.problems import category_of_status
from contracts.parties import personal_commitment
from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.entry import build_entry, format_time
from ledger.errors import Rejection
from ledger.proofs import verify_inclusion
from ledger.signing import KeyFile


def signed_entry(
    key: KeyFile,
    origin: str,
    kind: str,
    payload: dict[str, Any],
    *,
    entry_id: str | None = None,
    signed_at: datetime | None = None,
    actor: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """``{"entry": ..., "sig": ...}`` ready to submit, signed with ``key`` (for the acting
    ``user``, a pseudonymous id, if given)."""
    entry = build_entry(
        origin=origin,
        actor=actor or key.org,
        key_id=key.key.key_id,
        kind=kind,
        payload=payload,
        entry_id=entry_id or str(uuid.uuid4()),
        signed_at=format_time(signed_at or datetime.now(UTC)),
        user=user,
    )
    return {"entry": entry, "sig": key.key.sign_entry(entry)}


MINIMAL = {"prefer": "return=minimal"}  # receipts without inclusion proofs (RFC 7240)


class SubmitError(Rejection):
    """The ledger refused a request; ``problem`` is its RFC 9457 body, and the refusal's
    category is the one its status stands for."""

    def __init__(self, problem: dict[str, Any]) -> None:
        status = problem.get("status")
        super().__init__(
            str(problem.get("code")),
            str(problem.get("detail")),
            category=category_of_status(status if isinstance(status, int) else 500),
        )
        self.problem = problem


def check_receipt(receipt: dict[str, Any], verifier: NoteVerifier, origin: str) -> Checkpoint:
    """Verify a receipt offline: the checkpoint's signature, and the inclusion proof against it."""
    cp = open_checkpoint(receipt["checkpoint"], verifier, origin=origin)
    verify_inclusion(
        bytes.fromhex(receipt["leaf_hash"]),
        receipt["seq"],
        cp.size,
        [bytes.fromhex(h) for h in receipt["inclusion_proof"]],
        cp.root_hash,
    )
    return cp


class LedgerClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        origin: str | None = None,
        timeout: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url or "", timeout=timeout)
        self._origin = origin
        # What ``signed_at`` says when the caller does not: the signer's clock, which the
        # ledger holds within a window around its own.
        self.clock = clock or (lambda: datetime.now(UTC))

    async def __aenter__(self) -> LedgerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def origin(self) -> str:
        if self._origin is None:
            self._origin = str((await self.get("/healthz"))["origin"])
        return self._origin

    async def get(self, path: str, **params: Any) -> Any:
        r = await self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        if r.status_code >= 400:
            raise SubmitError(r.json())
        return r.text if r.headers.get("content-type", "").startswith("text/") else r.json()

    async def sign(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        kw.setdefault("signed_at", self.clock())
        return signed_entry(key, await self.origin(), kind, payload, **kw)

    async def submit(self, item: dict[str, Any]) -> dict[str, Any]:
        """Submit one signed entry; its receipt, or ``SubmitError`` with the problem."""
        r = await self.http.post("/v1/entries", json=item)
        body = r.json()
        if r.status_code >= 400:
            raise SubmitError(body)
        return body  # type: ignore[no-any-return]

    async def submit_many(
        self, items: Sequence[dict[str, Any]], *, minimal: bool = False
    ) -> list[dict[str, Any]]:
        """Submit a list; each result is a receipt or ``{"error": problem}``. ``minimal``
        receipts carry the seq and leaf hash only (``Prefer: return=minimal``)."""
        r = await self.http.post(
            "/v1/entries", json={"entries": list(items)}, headers=MINIMAL if minimal else None
        )
        if r.status_code >= 400:
            raise SubmitError(r.json())
        return r.json()["results"]  # type: ignore[no-any-return]

    async def append(self, key: KeyFile, kind: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Sign and submit one entry."""
        return await self.submit(await self.sign(key, kind, payload, **kw))

    def signed_by(self, key: KeyFile, clock: Callable[[], datetime] | None = None) -> SignedRequests:
        """httpx ``auth=`` that signs a request with ``key`` (reads of personal data)."""
        if self._origin is None:
            raise RuntimeError("call origin() first")
        return SignedRequests(key, self._origin, clock or self.clock)

    async def blind_index(self, key: KeyFile, id_number: str, **kw: Any) -> str:
        r = await self.http.post(
            "/v1/parties/blind-index", json={"id_number": id_number}, auth=self.signed_by(key, **kw)
        )
        if r.status_code >= 400:
            raise SubmitError(r.json())
        return str(r.json()["blind_index"])

    async def person_entry(self, key: KeyFile, person: Person, **kw: Any) -> dict[str, Any]:
        """A signed ``party.registered`` entry with the person's personal fields beside it."""
        clock = kw.pop("clock", None)
        salt = secrets.token_bytes(32)
        fields = person.fields()
        payload = {
            "party": person.party,
            "commitment": personal_commitment(fields, salt),
            "blind_index": await self.blind_index(key, person.id_number, clock=clock),
        }
        item = await self.sign(key, "party.registered", payload, **kw)
        item["personal"] = {**fields, "salt": salt.hex()}
        return item


@dataclass(frozen=True)
class Person:
    """A person's clear personal fields, as a village clerk enters them."""

    party: str
    name: str
    id_number: str
    sex: str
    birth_date: str
    phone: str

    def fields(self) -> dict[str, str]:
        return {
            "name": self.name,
            "id_number": self.id_number,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "phone": self.phone,
        }
