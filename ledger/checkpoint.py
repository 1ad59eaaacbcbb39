"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519 keys.

A checkpoint body is ``<origin>\\n<size>\\n<base64 root>\\n`` plus optional extension lines.
A note is the body, a blank line, then signature lines ``— <name> <base64(keyhash || sig)>``.
Keys use the string forms of Go's ``golang.org/x/mod/sumdb/note``, so any signed-note
implementation can check our checkpoints and we can check theirs:

- verifier key ``<name>+<hex keyhash>+<base64(0x01 || public key)>``;
- signer key ``PRIVATE+KEY+<name>+<hex keyhash>+<base64(0x01 || private seed)>``;
- keyhash = ``SHA-256(name || "\\n" || 0x01 || public key)[:4]``.

Parsing (``parse_note``, ``Checkpoint.from_body``) names each malformed field
(``MalformedError``); ``open_checkpoint`` then verifies (``IntegrityError``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import HASH_SIZE
from ledger.signing import (
    decode_b64,
    decode_b64_lax,
    require_canonical_b64,
    verify_signature,
)

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # as Go's note.Open: bounds the work an attacker can cause
_SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_KEY_HASH = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _b64decode(text: str, what: str) -> bytes:
    return decode_b64(text, what=what)


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_name(name: str, what: str = "key name") -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedError(f"{what} {name!r} must be non-empty, without spaces or '+'")


def parse_key(text: str, what: str, algorithm: int = ALG_ED25519) -> tuple[str, bytes, bytes]:
    """``(name, key hash, 32-byte key)`` from ``<name>+<hex keyhash>+<base64(alg || key)>``
    (algorithm 0x01: note signatures; 0x04: witness cosignatures)."""
    name, _, rest = text.partition("+")
    hash16, _, key64 = rest.partition("+")
    _check_name(name)
    if not _KEY_HASH.fullmatch(hash16):
        raise MalformedError(f"{what} hash {hash16!r} is not 8 hex digits")
    raw = decode_b64_lax(key64, what=what)
    if len(raw) != 33 or raw[0] != algorithm:
        raise MalformedError(
            f"{what} must be 0x{algorithm:02x} (Ed25519) and 32 bytes, found {len(raw)} bytes"
        )
    require_canonical_b64(key64, raw, what=what)
    return name, bytes.fromhex(hash16), raw[1:]


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash of an Ed25519 ``public_key`` (raw 32 bytes) under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: ``size`` leaves with Merkle root ``root_hash``, in the log ``origin``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or _CONTROL.search(line):
                raise MalformedError(f"checkpoint line {line!r} must be one non-empty line")
        if not 0 <= self.size < 2**64:
            raise MalformedError(f"checkpoint size must be in [0, 2**64), found {self.size}")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedError(
                f"checkpoint root hash must be {HASH_SIZE} bytes, found {len(self.root_hash)}"
            )

    def body(self) -> bytes:
        """The note text that is signed, UTF-8 encoded."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines).encode()

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body, naming the first field that is malformed."""
        if not text.endswith("\n"):
            raise MalformedError("checkpoint body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedError(f"checkpoint body needs 3 lines, found {len(lines)}")
        origin, size, root, *extensions = lines
        if not origin:
            raise MalformedError("checkpoint origin line is empty")
        if not _SIZE.fullmatch(size) or int(size) >= 2**64:
            raise MalformedError(f"checkpoint size {size!r} is not a decimal without leading zeros")
        root_hash = _b64decode(root, "checkpoint root hash")
        return cls(origin, int(size), root_hash, tuple(extensions))


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: ``name`` and ``key_hash`` say which key made ``signature``."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {_b64encode(self.key_hash + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed but unverified signed note: the ``body`` text and every signature line."""

    body: str
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        return self.body + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(text: str | bytes) -> Note:
    """Split a signed note into body and signature lines; verify nothing.

    The note must be UTF-8 without control characters other than newline, and end with
    a blank line followed by 1 to 100 signature lines, each ending with a newline.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedError(f"note is not valid UTF-8: {e}") from e
    if bad := _CONTROL.search(text):
        raise MalformedError(f"note contains control character {bad.group()!r}")
    split = text.rfind("\n\n")
    if split < 0:
        raise MalformedError("note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise MalformedError("note has no signature lines")
    if not block.endswith("\n"):
        raise MalformedError("note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedError(f"note has {len(lines)} signatures, at most {MAX_SIGNATURES} allowed")
    return Note(body, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedError(f"signature line {line!r} does not start with '— '")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    _check_name(name, "signature key name")
    raw = _b64decode(b64, f"signature by {name}")
    if len(raw) < 5:
        raise MalformedError(f"signature by {name} has {len(raw)} bytes, needs at least 5")
    return NoteSignature(name, raw[:4], raw[4:])


@dataclass(frozen=True)
class NoteVerifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    key_hash: bytes
    public_key: bytes

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex keyhash>+<base64(0x01 || key)>``, checking the key hash."""
        name, hash4, public = parse_key(vkey, "verifier key")
        if key_hash(name, public) != hash4:
            raise MalformedError(f"verifier key hash {hash4.hex()} does not match the key")
        return cls(name, hash4, public)

    def __str__(self) -> str:
        key = _b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_hash.hex()}+{key}"

    def made(self, signature: NoteSignature) -> bool:
        """Whether the signature line names this key (its signature is not checked)."""
        return (signature.name, signature.key_hash) == (self.name, self.key_hash)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        return verify_signature(self.public_key, signature, message)


@dataclass(frozen=True)
class NoteSigner:
    """A named Ed25519 private key that signs notes; ``seed`` is the 32-byte private seed."""

    name: str
    key_hash: bytes
    seed: bytes = field(repr=False)

    @classmethod
    def from_string(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex keyhash>+<base64(0x01 || seed)>``."""
        if not skey.startswith("PRIVATE+KEY+"):
            raise MalformedError("signer key must start with 'PRIVATE+KEY+'")
        signer = cls(*parse_key(skey.removeprefix("PRIVATE+KEY+"), "signer key"))
        if signer.verifier().key_hash != signer.key_hash:
            raise MalformedError(f"signer key hash {signer.key_hash.hex()} does not match the key")
        return signer

    def __str__(self) -> str:
        seed = _b64encode(bytes([ALG_ED25519]) + self.seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{seed}"

    def verifier(self) -> NoteVerifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return NoteVerifier(self.name, key_hash(self.name, public), public)

    def sign(self, message: bytes) -> NoteSignature:
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)
        return NoteSignature(self.name, self.key_hash, signature)


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: ``(signer key string, verifier key string)``."""
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    signer = NoteSigner(name, key_hash(name, public), seed)
    return str(signer), str(signer.verifier())


def sign_note(body: str, signer: NoteSigner) -> str:
    """The signed note for ``body`` (which must end with a newline), with one signature."""
    if not body.endswith("\n") or _CONTROL.search(body):
        raise MalformedError("note body must end with a newline and hold no control characters")
    return Note(body, (signer.sign(body.encode()),)).text()


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note, signed by ``signer``."""
    return sign_note(checkpoint.body().decode(), signer)


def open_note(note_text: str | bytes, verifier: NoteVerifier) -> Note:
    """Parse a signed note and check its signature by ``verifier``; return the whole note.

    Signature lines by other keys (witness cosignatures, say) are ignored, as the spec
    says, but kept in the returned ``Note``.
    """
    note = parse_note(note_text)
    key = f"{verifier.name}+{verifier.key_hash.hex()}"
    mine = next((s for s in note.signatures if verifier.made(s)), None)
    if mine is None:
        raise IntegrityError(f"note has no signature by key {key}")
    if not verifier.verify(note.body.encode(), mine.signature):
        raise IntegrityError(f"invalid note signature for key {key}")
    return note


def open_checkpoint(note_text: str | bytes, verifier: NoteVerifier, origin: str | None = None) -> Checkpoint:
    """The checkpoint in a note signed by ``verifier``, checked to be for ``origin`` if given."""
    checkpoint = Checkpoint.from_body(open_note(note_text, verifier).body)
    if origin is not None and checkpoint.origin != origin:
        raise IntegrityError(f"checkpoint origin is {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint
