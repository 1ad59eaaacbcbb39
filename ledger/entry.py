"""Entries (what an organisation signs) and records (what the ledger stores and hashes).

Entry: ``{"v":1, "ledger":ORIGIN, "id":UUID, "kind":K, "actor":ORG, "key":KEY_ID,
"signed_at":RFC3339, "payload":{...}}``, and optionally ``"user":UUID``, the pseudonymous id of
the organisation's user who acted (the console names every act's user so; the rules never read
it). Record: ``{"seq", "recorded_at", "entry", "sig"}``; its canonical (RFC 8785) bytes are the
Merkle leaf input and are stored verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.canonical import canonical_bytes
from ledger.errors import Category, MalformedError, Rejection
from ledger.merkle import leaf_hash
from ledger.signing import SIGNATURE_SIZE, decode_b64

ENTRY_VERSION = 1
ENTRY_FIELDS = frozenset({"v", "ledger", "id", "kind", "actor", "key", "signed_at", "payload"})
OPTIONAL_ENTRY_FIELDS = frozenset({"user"})
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
KIND_PATTERN = re.compile(r"^[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31}){1,3}$")
ACTOR_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
KEY_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
SIG_CHARS = re.compile(r"^[A-Za-z0-9+/=]*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def format_time(t: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` and microseconds: the ledger's one time format."""
    if t.tzinfo is None:
        raise ValueError("naive datetime: the ledger's clock must be timezone-aware")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 UTC time with ``Z``; raises ``ValueError`` when it is not one."""
    if not isinstance(text, str) or not RFC3339_UTC.match(text):
        raise ValueError(f"expected an RFC 3339 UTC time ending in Z, found {text!r}")
    # The pattern leaves fromisoformat only the calendar to check (it raises ValueError for a
    # 13th month or a 60th second); digits past the microsecond are truncated.
    return datetime.fromisoformat(text).astimezone(UTC)


def _malformed(message: str) -> Rejection:
    return Rejection("entry.malformed", message, category=Category.MALFORMED)


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """A parsed, shape-checked submission, immutable: what was checked of it later (its
    signature ahead of admission, its admission) travels in objects of its own, never in
    fields of the entry that one layer sets and another trusts."""

    entry: dict[str, Any]
    entry_bytes: bytes
    sig: str
    signature: bytes

    @property
    def id(self) -> str:
        return str(self.entry["id"])

    @property
    def kind(self) -> str:
        return str(self.entry["kind"])

    @property
    def actor(self) -> str:
        return str(self.entry["actor"])

    @property
    def key_id(self) -> str:
        return str(self.entry["key"])

    @property
    def payload(self) -> dict[str, Any]:
        """The payload object as submitted (shared, not a copy: never mutate it)."""
        return self.entry["payload"]  # type: ignore[no-any-return]


def parse_submission(item: Any, origin: str) -> SignedEntry:
    """Check a submitted ``{"entry": {...}, "sig": "..."}`` against the entry format.

    Raises ``Rejection`` with code ``entry.malformed``, ``entry.wrong_ledger``,
    ``entry.unsupported_version`` or ``signature.malformed``; checks no signature.
    """
    if not isinstance(item, dict) or set(item) != {"entry", "sig"}:
        raise _malformed('a submission is an object with exactly "entry" and "sig"')
    entry, sig = item["entry"], item["sig"]
    if not isinstance(entry, dict):
        raise _malformed('"entry" must be an object')
    _check_entry_shape(entry)
    if entry["ledger"] != origin:
        raise Rejection(
            "entry.wrong_ledger",
            f"entry is for ledger {entry['ledger']!r}, this is {origin!r}",
            category=Category.INVALID,
        )
    if not isinstance(sig, str):
        raise Rejection("signature.malformed", '"sig" must be a base64 string', category=Category.MALFORMED)
    try:
        signature = decode_b64(sig, size=SIGNATURE_SIZE, what="sig")
    except MalformedError as e:
        raise Rejection("signature.malformed", str(e), category=Category.MALFORMED) from e
    try:
        entry_bytes = canonical_bytes(entry)
    except MalformedError as e:
        raise _malformed(f"entry has no canonical form: {e}") from e
    return SignedEntry(entry, entry_bytes, sig, signature)


def _check_entry_shape(entry: dict[str, Any]) -> None:
    missing, extra = ENTRY_FIELDS - set(entry), set(entry) - ENTRY_FIELDS - OPTIONAL_ENTRY_FIELDS
    if missing or extra:
        raise _malformed(f"entry fields: missing {sorted(missing)}, unexpected {sorted(extra)}")
    if entry["v"] != ENTRY_VERSION or isinstance(entry["v"], bool):
        raise Rejection(
            "entry.unsupported_version",
            f"entry version must be {ENTRY_VERSION}, found {entry['v']!r}",
            category=Category.MALFORMED,
        )
    if not isinstance(entry["ledger"], str) or not entry["ledger"]:
        raise _malformed('"ledger" must be a non-empty string')
    for field, pattern in (
        ("id", UUID_PATTERN),
        ("kind", KIND_PATTERN),
        ("actor", ACTOR_PATTERN),
        ("key", KEY_ID_PATTERN),
        ("signed_at", RFC3339_UTC),
    ):
        if not isinstance(entry[field], str) or not pattern.match(entry[field]):
            raise _malformed(f'"{field}" does not match {pattern.pattern}: {entry[field]!r}')
    if not isinstance(entry["payload"], dict):
        raise _malformed('"payload" must be an object')
    if "user" in entry and not (isinstance(entry["user"], str) and UUID_PATTERN.match(entry["user"])):
        raise _malformed(f'"user" does not match {UUID_PATTERN.pattern}: {entry["user"]!r}')


@dataclass(frozen=True, slots=True)
class Record:
    """A record as stored and hashed; ``body`` is its canonical bytes, ``leaf`` its leaf hash."""

    seq: int
    recorded_at: str
    entry: dict[str, Any]
    sig: str
    body: bytes
    leaf: bytes

    @classmethod
    def make(cls, seq: int, recorded_at: str, entry: dict[str, Any], sig: str) -> Record:
        body = canonical_bytes({"entry": entry, "recorded_at": recorded_at, "seq": seq, "sig": sig})
        return cls(seq, recorded_at, entry, sig, body, leaf_hash(body))

    @classmethod
    def from_signed(cls, seq: int, recorded_at: str, signed: SignedEntry) -> Record:
        """``make`` for an entry whose canonical bytes are known: the record's canonical form is
        spliced around them (JCS orders the keys entry, recorded_at, seq, sig), which is
        byte-identical to encoding the whole record and saves encoding the entry again."""
        if not RFC3339_UTC.match(recorded_at) or not SIG_CHARS.match(signed.sig):
            raise MalformedError("recorded_at or sig has characters that need escaping")
        body = b"".join(
            (
                b'{"entry":',
                signed.entry_bytes,
                b',"recorded_at":"',
                recorded_at.encode(),
                b'","seq":',
                str(seq).encode(),
                b',"sig":"',
                signed.sig.encode(),
                b'"}',
            )
        )
        return cls(seq, recorded_at, signed.entry, signed.sig, body, leaf_hash(body))

    def as_json(self) -> dict[str, Any]:
        """The HTTP shape: the four hashed fields plus ``leaf_hash`` for convenience."""
        return {
            "seq": self.seq,
            "recorded_at": self.recorded_at,
            "entry": self.entry,
            "sig": self.sig,
            "leaf_hash": self.leaf.hex(),
        }


def build_entry(
    *,
    origin: str,
    actor: str,
    key_id: str,
    kind: str,
    payload: dict[str, Any],
    entry_id: str,
    signed_at: str,
    user: str | None = None,
) -> dict[str, Any]:
    """An unsigned entry object in the ledger's format (naming the acting ``user`` if given)."""
    entry = {
        "v": ENTRY_VERSION,
        "ledger": origin,
        "id": entry_id,
        "kind": kind,
        "actor": actor,
        "key": key_id,
        "signed_at": signed_at,
        "payload": payload,
    }
    return entry if user is None else {**entry, "user": user}
