"""Ed25519 signatures over entries, key ids and key files.

An entry signature is Ed25519 over ``b"rural-ledger/entry/v1\\n" + JCS(entry)``; a key id is the
first 8 bytes of SHA-256 of the raw 32-byte public key, in lowercase hex.

Every signature check in the project, the service's, the auditor's, a checkpoint's, a
witness's cosignature, a signed request's, is ``verify_signature``: libsodium's
``crypto_sign_verify_detached`` rule set (through PyNaCl), so that the service and an auditor
can never disagree about a signature. ``cryptography`` makes the keys and the signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from ledger.canonical import canonical_bytes
from ledger.errors import MalformedError

ENTRY_SIGNATURE_CONTEXT = b"rural-ledger/entry/v1\n"
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def key_id_of(public_key: bytes) -> str:
    """The key id of a raw Ed25519 public key: hex of the first 8 bytes of its SHA-256."""
    return hashlib.sha256(public_key).digest()[:8].hex()


def entry_message(entry_bytes: bytes) -> bytes:
    """The exact bytes an entry signature covers, given the entry's canonical bytes."""
    return ENTRY_SIGNATURE_CONTEXT + entry_bytes


def decode_b64(text: str, *, size: int | None = None, what: str) -> bytes:
    """Canonical standard base64 (of exactly ``size`` bytes when given), or ``MalformedError``
    naming ``what``.

    Only the one encoding of the bytes is accepted: padding bits that are not zero would let
    the same signature travel as several strings, so that one entry could be stored under a
    signature text its signer never sent and their own submission be refused as a conflict."""
    raw = decode_b64_lax(text, what=what)
    if size is not None and len(raw) != size:
        raise MalformedError(f"{what} must be {size} bytes, found {len(raw)}")
    require_canonical_b64(text, raw, what=what)
    return raw


def decode_b64_lax(text: str, *, what: str) -> bytes:
    """Standard base64, padding bits unchecked: only for a caller that checks the length
    first and then calls ``require_canonical_b64``."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as e:
        raise MalformedError(f"{what} is not standard base64") from e


def require_canonical_b64(text: str, raw: bytes, *, what: str) -> None:
    if b64(raw) != text:
        raise MalformedError(f"{what} is not canonical base64 (padding bits must be zero)")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``,
    under libsodium's rules (docs/architecture.md, "Signature rule set"): S must be below the
    group order L, neither the public key nor R may be of small order, the public key must be
    a canonical encoding of a curve point, R must be the canonical encoding of [S]B - [k]A
    (the equation without the cofactor). Mixed-order keys are not refused.

    PyNaCl offers the check only as ``crypto_sign_open`` over signature || message, which is
    libsodium's detached check followed by a copy of the message; the sizes are checked here
    first, since a short signature would take its last bytes from the message, and libsodium
    reads 32 bytes of public key whatever it is given."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        crypto_sign_open(signature + message, public_key)
    except BadSignatureError:
        return False
    return True


def verify_batch(work: Iterable[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Ed25519 checks of (public key, signature, message) triples, in order.

    The service and the auditor run this in spawned worker processes, which import this
    module to unpickle it: keep its imports cheap (nothing of SQL, HTTP or the rules)."""
    return [verify_signature(public_key, signature, message) for public_key, signature, message in work]


@dataclass(frozen=True)
class SigningKey:
    """An organisation's Ed25519 private key, with the public half and its key id."""

    private: Ed25519PrivateKey
    public_key: bytes
    key_id: str

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.from_seed(Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(private, public, key_id_of(public))

    @property
    def seed(self) -> bytes:
        return self.private.private_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def sign_entry(self, entry: dict[str, Any]) -> str:
        """Sign an entry object; returns the standard-base64 signature."""
        return b64(self.sign(entry_message(canonical_bytes(entry))))


@dataclass(frozen=True)
class KeyFile:
    """What an organisation's key file holds: whose key it is and the key itself."""

    org: str
    key: SigningKey

    def write(self, path: Path) -> None:
        """Write the key file with mode 0600; never overwrites an existing file."""
        doc = {
            "org": self.org,
            "key_id": self.key.key_id,
            "private_key": b64(self.key.seed),
            "public_key": b64(self.key.public_key),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        try:
            doc = json.loads(path.read_text())
            seed = decode_b64(doc["private_key"], size=32, what="private_key")
            org = str(doc["org"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise MalformedError(f"{path} is not a readable key file: {e}") from e
        key = SigningKey.from_seed(seed)
        if doc.get("key_id", key.key_id) != key.key_id:
            raise MalformedError(f"{path}: key_id does not match the private key")
        return cls(org, key)
