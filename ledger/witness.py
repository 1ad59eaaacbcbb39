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

Keys are note keys (``ledger.note_keys``) with algorithm byte 0x04: verifier
``<name>+<hex key id>+<base64(0x04 || public key)>``, signer
``PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger import note_keys
from ledger.checkpoint import Checkpoint, Note
from ledger.errors import IntegrityError, MalformedError, ProofError
from ledger.note_keys import NoteSignature
from ledger.proofs import verify_consistency

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signature covers, for checkpoint ``body`` at ``timestamp``."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedError(f"cosignature timestamp must be in [0, 2**63), found {timestamp}")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


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


class CosignerVerifier(note_keys.Verifier):
    """A witness's public key, which checks its cosignatures (algorithm 0x04)."""

    algorithm = ALG_COSIGNATURE_V1
    what = "witness verifier key"

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
        if not self.verify(message, signature.signature[8:]):
            raise IntegrityError(f"invalid cosignature by witness {self.name}")
        return Cosignature(
            str(self), self.name, timestamp, signature.signature[8:], Checkpoint.from_body(body)
        )


class CosignerSigner(note_keys.Signer):
    """A witness's private key (algorithm 0x04)."""

    algorithm = ALG_COSIGNATURE_V1
    what = "witness signer key"

    def verifier(self) -> CosignerVerifier:
        return CosignerVerifier.of(self.name, self.public_key())

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """Cosign checkpoint ``body``. Only after ``advance`` accepted it: see the module."""
        signature = self.sign_bytes(cosigned_message(body, timestamp))
        return Cosignature(str(self.verifier()), self.name, timestamp, signature, Checkpoint.from_body(body))


def generate_cosigner(name: str) -> tuple[str, str]:
    """A new witness key pair for ``name``: ``(signer key string, verifier key string)``."""
    signer = CosignerSigner.generate(name)
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
