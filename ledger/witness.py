"""Witnesses: second parties that cosign a log's checkpoints (C2SP tlog-cosignature v1).

A cosignature is a note signature line ``— <name> base64(key id || timestamp || signature)``
where the key id is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``, the timestamp is a
big-endian u64 of POSIX seconds, and the Ed25519 signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint body, every line of it>

It states: as of that time, this is the largest tree head of the log the witness has seen,
and every tree head it saw before is consistent with it. So a witness cosigns a new checkpoint
only after checking a consistency proof from the last one it cosigned (``advance``); a proof
that fails means the log showed it two histories (a split view), and it refuses.

Keys use the signed-note string forms with algorithm byte 0x04: verifier
``<name>+<hex key id>+<base64(0x04 || public key)>``, signer
``PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.checkpoint import Checkpoint, Note, NoteSignature, parse_key
from ledger.errors import IntegrityError, MalformedError, ProofError
from ledger.proofs import verify_consistency

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signature covers, for checkpoint ``body`` at ``timestamp``."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedError(f"cosignature timestamp must be in [0, 2**63), found {timestamp}")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosigner_key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key).digest()[:4]


def _parse(text: str, what: str) -> tuple[str, bytes, bytes]:
    return parse_key(text, what, ALG_COSIGNATURE_V1)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: who made it, over which checkpoint, and when."""

    witness: str  # the witness's verifier key string
    name: str
    timestamp: int
    signature: bytes
    checkpoint: Checkpoint

    def line(self) -> str:
        key_hash = CosignerVerifier.from_string(self.witness).key_hash
        raw = key_hash + struct.pack(">Q", self.timestamp) + self.signature
        return NoteSignature(self.name, raw[:4], raw[4:]).line()


@dataclass(frozen=True, slots=True)
class CosignerVerifier:
    """A witness's public key, which checks its cosignatures."""

    name: str
    key_hash: bytes
    public_key: bytes

    @classmethod
    def from_string(cls, vkey: str) -> CosignerVerifier:
        name, key_hash, public = _parse(vkey, "witness verifier key")
        if cosigner_key_hash(name, public) != key_hash:
            raise MalformedError(f"witness key id {key_hash.hex()} does not match the key")
        return cls(name, key_hash, public)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{key}"

    def made(self, signature: NoteSignature) -> bool:
        return (signature.name, signature.key_hash) == (self.name, self.key_hash)

    def check(self, body: str, signature: NoteSignature) -> Cosignature:
        """The cosignature in ``signature`` over checkpoint ``body``, or ``IntegrityError``."""
        if not self.made(signature):
            raise IntegrityError(f"signature line is not by witness {self.name}")
        if len(signature.signature) != 8 + 64:
            raise IntegrityError(
                f"cosignature by {self.name} must be 72 bytes after the key id, "
                f"found {len(signature.signature)}"
            )
        (timestamp,) = struct.unpack(">Q", signature.signature[:8])
        message = cosigned_message(body, timestamp) if timestamp <= MAX_TIMESTAMP else b""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature.signature[8:], message)
        except (InvalidSignature, ValueError) as e:
            raise IntegrityError(f"invalid cosignature by witness {self.name}") from e
        return Cosignature(
            str(self), self.name, timestamp, signature.signature[8:], Checkpoint.from_body(body)
        )


@dataclass(frozen=True)
class CosignerSigner:
    """A witness's private key."""

    name: str
    key_hash: bytes
    seed: bytes = field(repr=False)

    @classmethod
    def from_string(cls, skey: str) -> CosignerSigner:
        if not skey.startswith("PRIVATE+KEY+"):
            raise MalformedError("witness signer key must start with 'PRIVATE+KEY+'")
        signer = cls(*_parse(skey.removeprefix("PRIVATE+KEY+"), "witness signer key"))
        if signer.verifier().key_hash != signer.key_hash:
            raise MalformedError("witness signer key id does not match the key")
        return signer

    def __str__(self) -> str:
        seed = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_hash.hex()}+{seed}"

    def verifier(self) -> CosignerVerifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return CosignerVerifier(self.name, cosigner_key_hash(self.name, public), public)

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """Cosign checkpoint ``body``. Only after ``advance`` accepted it: see the module."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(cosigned_message(body, timestamp))
        return Cosignature(str(self.verifier()), self.name, timestamp, signature, Checkpoint.from_body(body))


def generate_cosigner(name: str) -> tuple[str, str]:
    """A new witness key pair for ``name``: ``(signer key string, verifier key string)``."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    signer = CosignerSigner(name, cosigner_key_hash(name, public), seed)
    _parse(str(signer.verifier()), "witness verifier key")  # checks the name
    return str(signer), str(signer.verifier())


def cosignatures(note: Note, witnesses: Iterable[CosignerVerifier]) -> list[Cosignature]:
    """The valid cosignatures in ``note`` by any of ``witnesses`` (one per witness); lines by
    other keys are ignored, as signed notes require, and a bad line by a known witness too."""
    found: list[Cosignature] = []
    for witness in witnesses:
        for line in note.signatures:
            if witness.made(line):
                try:
                    found.append(witness.check(note.body, line))
                    break
                except IntegrityError:
                    continue
    return found


class SplitView(IntegrityError):
    """The log showed two histories: a checkpoint not consistent with one seen before.

    Carries both signed notes and the proof that failed, the evidence a witness publishes.
    """

    def __init__(self, message: str, *, seen: str, offered: str, proof: Sequence[bytes]) -> None:
        super().__init__(f"split view: {message}")
        self.seen = seen
        self.offered = offered
        self.proof = list(proof)


def advance(
    seen: Checkpoint | None, seen_note: str, offered: Checkpoint, offered_note: str, proof: Sequence[bytes]
) -> None:
    """Decide whether a witness that last cosigned ``seen`` may cosign ``offered``.

    Preconditions: both notes' operator signatures were checked by the caller, and both are
    for the same origin. Raises ``SplitView`` when ``offered`` is smaller than ``seen``, the
    same size with another root, or not proven to extend it by ``proof``.
    """
    if seen is None:
        return
    if offered.origin != seen.origin:
        raise MalformedError(f"checkpoint is for {offered.origin!r}, the witness follows {seen.origin!r}")
    if offered.size < seen.size:
        raise SplitView(
            f"offered size {offered.size} is smaller than the cosigned {seen.size}",
            seen=seen_note,
            offered=offered_note,
            proof=proof,
        )
    try:
        verify_consistency(seen.size, offered.size, proof, seen.root_hash, offered.root_hash)
    except (ProofError, MalformedError) as e:
        raise SplitView(
            f"checkpoint of size {offered.size} is not consistent with the "
            f"cosigned checkpoint of size {seen.size}: {e}",
            seen=seen_note,
            offered=offered_note,
            proof=proof,
        ) from e
