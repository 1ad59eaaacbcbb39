"""Named Ed25519 keys in the string forms of C2SP signed notes, and the signature lines they make.

One base for every kind of note key; a kind is its algorithm byte (0x01: checkpoint note
signatures, ``ledger.checkpoint``; 0x04: ``cosignature/v1`` witness cosignatures,
``ledger.witness``). The strings are those of Go's ``golang.org/x/mod/sumdb/note``:

- verifier key ``<name>+<hex keyhash>+<base64(alg || public key)>``;
- signer key ``PRIVATE+KEY+<name>+<hex keyhash>+<base64(alg || private seed)>``;
- keyhash = ``SHA-256(name || "\\n" || alg || public key)[:4]``.

A signature line is ``— <name> <base64(keyhash || signature)>``; what the signature bytes
cover, and what follows the key hash, is the kind's business.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import ClassVar, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import MalformedError
from ledger.signing import b64, decode_b64_lax, require_canonical_b64, verify_signature

SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_HASH = re.compile(r"[0-9a-fA-F]{8}")


def check_name(name: str, what: str = "key name") -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedError(f"{what} {name!r} must be non-empty, without spaces or '+'")


def parse_key(text: str, what: str, algorithm: int) -> tuple[str, bytes, bytes]:
    """``(name, key hash, 32-byte key)`` from ``<name>+<hex keyhash>+<base64(alg || key)>``."""
    name, _, rest = text.partition("+")
    hash16, _, key64 = rest.partition("+")
    check_name(name)
    if not _KEY_HASH.fullmatch(hash16):
        raise MalformedError(f"{what} hash {hash16!r} is not 8 hex digits")
    raw = decode_b64_lax(key64, what=what)
    if len(raw) != 33 or raw[0] != algorithm:
        raise MalformedError(
            f"{what} must be 0x{algorithm:02x} (Ed25519) and 32 bytes, found {len(raw)} bytes"
        )
    require_canonical_b64(key64, raw, what=what)
    return name, bytes.fromhex(hash16), raw[1:]


def key_hash(name: str, public_key: bytes, algorithm: int) -> bytes:
    """The 4-byte key hash of an Ed25519 ``public_key`` (raw 32 bytes) under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: ``name`` and ``key_hash`` say which key made ``signature``."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {b64(self.key_hash + self.signature)}\n"


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key of one algorithm; a subclass sets ``algorithm`` and ``what``
    (how its errors name the key)."""

    algorithm: ClassVar[int]
    what: ClassVar[str]

    name: str
    key_hash: bytes
    public_key: bytes

    @classmethod
    def of(cls, name: str, public_key: bytes) -> Self:
        return cls(name, key_hash(name, public_key, cls.algorithm), public_key)

    @classmethod
    def from_string(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex keyhash>+<base64(alg || key)>``, checking the key hash."""
        name, hash4, public = parse_key(vkey, cls.what, cls.algorithm)
        if key_hash(name, public, cls.algorithm) != hash4:
            raise MalformedError(f"{cls.what} hash {hash4.hex()} does not match the key")
        return cls(name, hash4, public)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_hash.hex()}+{b64(bytes([self.algorithm]) + self.public_key)}"

    def made(self, signature: NoteSignature) -> bool:
        """Whether the signature line names this key (its signature is not checked)."""
        return (signature.name, signature.key_hash) == (self.name, self.key_hash)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        return verify_signature(self.public_key, signature, message)


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key of one algorithm; ``seed`` is the 32-byte private seed.
    A subclass sets ``algorithm`` and ``what``, and says which ``Verifier`` is its public half."""

    algorithm: ClassVar[int]
    what: ClassVar[str]

    name: str
    key_hash: bytes
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str) -> Self:
        """A new key for ``name``."""
        check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, key_hash(name, _public_key(seed), cls.algorithm), seed)

    @classmethod
    def from_string(cls, skey: str) -> Self:
        """Parse ``PRIVATE+KEY+<name>+<hex keyhash>+<base64(alg || seed)>``, checking the key hash."""
        if not skey.startswith(PRIVATE_PREFIX):
            raise MalformedError(f"{cls.what} must start with {PRIVATE_PREFIX!r}")
        signer = cls(*parse_key(skey.removeprefix(PRIVATE_PREFIX), cls.what, cls.algorithm))
        if key_hash(signer.name, signer.public_key(), cls.algorithm) != signer.key_hash:
            raise MalformedError(f"{cls.what} hash {signer.key_hash.hex()} does not match the key")
        return signer

    def __str__(self) -> str:
        seed = b64(bytes([self.algorithm]) + self.seed)
        return f"{PRIVATE_PREFIX}{self.name}+{self.key_hash.hex()}+{seed}"

    def public_key(self) -> bytes:
        return _public_key(self.seed)

    def sign_bytes(self, message: bytes) -> bytes:
        """The raw Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
