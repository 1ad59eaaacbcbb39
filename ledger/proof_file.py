"""Offline proof files (C2SP tlog-proof): a record's index, its inclusion path and the signed
checkpoint with witness cosignatures, checkable with no network::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <seq>
    <base64 hash>            (the inclusion path, leaf's sibling first)
    ...
    <empty line>
    <the checkpoint note, verbatim, cosignature lines included>

``verify_proof`` checks, given the record's leaf hash and a policy (the operator key, the
witness keys, how many of them must have cosigned): the operator's signature on the
checkpoint, the inclusion of the leaf at the index under the checkpoint's root, and the
cosignatures. The extra data is not authenticated and is never trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint, parse_note
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import HASH_SIZE
from ledger.proofs import verify_inclusion
from ledger.signing import b64, decode_b64
from ledger.witness import Cosignature, CosignerVerifier, cosignatures

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PATH = 64
_INDEX = re.compile(r"index (0|[1-9][0-9]{0,19})")


@dataclass(frozen=True)
class ProofFile:
    index: int
    path: tuple[bytes, ...]
    note: str
    extra: bytes | None = None

    def text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [b64(h) for h in self.path]
        return "".join(line + "\n" for line in lines) + "\n" + self.note


@dataclass(frozen=True)
class ProvenRecord:
    checkpoint: Checkpoint
    index: int
    witnessed_by: tuple[Cosignature, ...]


def parse_proof(text: str | bytes) -> ProofFile:
    """Parse a proof file, naming the first malformed line (``MalformedError``)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedError(f"proof file is not UTF-8: {e}") from e
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise MalformedError("proof file has no empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise MalformedError(f"proof file must start with {HEADER!r}, found {lines[0][:60]!r}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = decode_b64(rest.pop(0).removeprefix("extra "), what="extra data")
    if not rest or not (index := _INDEX.fullmatch(rest[0])) or int(index.group(1)) >= 2**64:
        raise MalformedError("proof file needs an 'index <n>' line (decimal, no leading zeros)")
    path = rest[1:]
    if len(path) > MAX_PATH:
        raise MalformedError(f"an inclusion path has at most {MAX_PATH} hashes, found {len(path)}")
    hashes = tuple(
        decode_b64(h, size=HASH_SIZE, what=f"inclusion path line {i + 1}") for i, h in enumerate(path)
    )
    parse_note(note)  # the checkpoint must at least be a note
    return ProofFile(int(index.group(1)), hashes, note, extra)


def verify_proof(
    proof: ProofFile,
    leaf_hash: bytes,
    operator: NoteVerifier,
    witnesses: Sequence[CosignerVerifier] = (),
    min_witnesses: int | None = None,
) -> ProvenRecord:
    """Check ``proof`` for the record whose leaf hash is ``leaf_hash``; ``min_witnesses``
    (default: every one of ``witnesses``) of the witnesses must have cosigned. Raises
    ``IntegrityError`` (``ProofError`` for a path that does not reach the root)."""
    checkpoint = open_checkpoint(proof.note, operator, origin=operator.name)
    try:
        verify_inclusion(leaf_hash, proof.index, checkpoint.size, proof.path, checkpoint.root_hash)
    except MalformedError as e:
        raise IntegrityError(f"the inclusion path does not fit record {proof.index}: {e}") from e
    found = tuple(cosignatures(parse_note(proof.note), witnesses))
    need = len(witnesses) if min_witnesses is None else min_witnesses
    if len(found) < need:
        missing = sorted({w.name for w in witnesses} - {c.name for c in found})
        raise IntegrityError(
            f"{len(found)} of the witnesses cosigned the checkpoint, {need} required "
            f"(missing: {', '.join(missing)})"
        )
    return ProvenRecord(checkpoint, proof.index, found)
