"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519 keys.

A checkpoint body is ``<origin>\\n<size>\\n<base64 root>\\n`` plus optional extension lines.
A note is the body, a blank line, then signature lines ``— <name> <base64(keyhash || sig)>``.
Keys are note keys (``ledger.note_keys``) of algorithm 0x01, in the string forms of Go's
``golang.org/x/mod/sumdb/note``, so any signed-note implementation can check our checkpoints
and we can check theirs.

Parsing (``parse_note``, ``Checkpoint.from_body``) names each malformed field
(``MalformedError``); ``open_checkpoint`` then verifies (``IntegrityError``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger import note_keys
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import HASH_SIZE
from ledger.note_keys import SIGNATURE_PREFIX, NoteSignature, check_name
from ledger.signing import b64, decode_b64

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # as Go's note.Open: bounds the work an attacker can cause
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


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
        lines = [self.origin, str(self.size), b64(self.root_hash), *self.extensions]
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
        root_hash = decode_b64(root, what="checkpoint root hash")
        return cls(origin, int(size), root_hash, tuple(extensions))


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
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedError(f"signature line {line!r} does not start with '— '")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    check_name(name, "signature key name")
    raw = decode_b64(encoded, what=f"signature by {name}")
    if len(raw) < 5:
        raise MalformedError(f"signature by {name} has {len(raw)} bytes, needs at least 5")
    return NoteSignature(name, raw[:4], raw[4:])


class NoteVerifier(note_keys.Verifier):
    """A named Ed25519 public key that checks note signatures (algorithm 0x01)."""

    algorithm = ALG_ED25519
    what = "verifier key"


class NoteSigner(note_keys.Signer):
    """A named Ed25519 private key that signs notes (algorithm 0x01)."""

    algorithm = ALG_ED25519
    what = "signer key"

    def verifier(self) -> NoteVerifier:
        return NoteVerifier.of(self.name, self.public_key())

    def sign(self, message: bytes) -> NoteSignature:
        return NoteSignature(self.name, self.key_hash, self.sign_bytes(message))


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: ``(signer key string, verifier key string)``."""
    signer = NoteSigner.generate(name)
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
