"""The witness protocol (C2SP tlog-witness): the ``add-checkpoint`` request, and what a witness
decides about it, as pure code over the witness's last cosigned state.

A request body is ``old <size>\\n``, zero to 63 consistency proof lines (one base64 hash
each), an empty line, then the signed checkpoint note. The witness answers, in this order of
checks: 400 for a malformed body or an old size above the checkpoint's; 404 for an origin it
does not follow; 403 when no signature verifies against a key it trusts for that origin; 409
with its own size (``text/x.tlog.size``) when the old size is not the size it last cosigned;
409 when that size equals the checkpoint's but the roots differ; 422 when the consistency
proof does not verify. Only then may it persist the new checkpoint and cosign.

The statuses are the spec's, so the refusals carry them (``status``) beside their category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, NoteVerifier, open_note, parse_note
from ledger.errors import Category, IntegrityError, MalformedError, Rejection
from ledger.merkle import EMPTY_ROOT, HASH_SIZE
from ledger.proofs import verify_consistency
from ledger.signing import b64, decode_b64

MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request: the old size, the proof, the checkpoint note text."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class Cosigned:
    """What a witness keeps per origin: the latest checkpoint it cosigned (size, root, note)."""

    size: int
    root_hash: bytes
    note: str


class WitnessRefusal(Rejection):
    """An ``add-checkpoint`` refused; ``status`` is the HTTP status the spec fixes for it, and
    ``size`` the witness's own size where the answer must carry it (409 on the old size)."""

    def __init__(
        self, status: int, code: str, message: str, category: Category, size: int | None = None
    ) -> None:
        super().__init__(code, message, category=category)
        self.status = status
        self.size = size


def malformed(message: str) -> WitnessRefusal:
    return WitnessRefusal(400, "witness.malformed", message, Category.MALFORMED)


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body, or a 400 ``WitnessRefusal`` naming what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(f"request body is not UTF-8: {e}") from e
    first, newline, rest = text.partition("\n")
    if not newline:
        raise malformed("request body must start with an 'old <size>' line ending in a newline")
    old = _OLD.fullmatch(first)
    if old is None or int(old.group(1)) >= 2**64:
        raise malformed(f"first line must be 'old <size>' (decimal, no leading zeros), found {first[:80]!r}")
    proof: list[bytes] = []
    while True:
        line, newline, after = rest.partition("\n")
        if not newline:
            raise malformed("request body has no empty line before the checkpoint")
        rest = after
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise malformed(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
        try:
            proof.append(decode_b64(line, size=HASH_SIZE, what=f"proof line {len(proof) + 1}"))
        except MalformedError as e:
            raise malformed(str(e)) from e
    return AddCheckpoint(int(old.group(1)), tuple(proof), rest)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body a log sends (the client side of ``parse_add_checkpoint``)."""
    return "".join([f"old {old_size}\n", *(b64(h) + "\n" for h in proof), "\n", note]).encode()


def parse_size_body(text: str) -> int:
    """The size in a 409 answer's ``text/x.tlog.size`` body (``<decimal>\\n``)."""
    if not text.endswith("\n") or not re.fullmatch(r"0|[1-9][0-9]{0,19}", text[:-1]):
        raise MalformedError(f"a tlog size body is a decimal and a newline, found {text[:40]!r}")
    return int(text[:-1])


def check_add_checkpoint(
    request: AddCheckpoint,
    trusted: Mapping[str, Sequence[NoteVerifier]],
    cosigned: Cosigned | None,
) -> Checkpoint:
    """The checkpoint a witness may cosign for ``request``, or the ``WitnessRefusal`` the spec
    requires; ``trusted`` maps each origin the witness follows to its log keys, ``cosigned``
    is what the witness last cosigned for the request's origin (None: never).

    The caller holds its state for this origin from reading ``cosigned`` until it has stored
    the returned checkpoint: the check and the update are one step (see the spec's race)."""
    try:
        note = parse_note(request.note)
        checkpoint = Checkpoint.from_body(note.body)
    except MalformedError as e:
        raise malformed(f"checkpoint: {e}") from e
    keys = trusted.get(checkpoint.origin)
    if not keys:
        raise WitnessRefusal(
            404,
            "witness.unknown_origin",
            f"this witness does not follow {checkpoint.origin!r}",
            Category.NOT_FOUND,
        )
    if not any(_signed_by(request.note, key) for key in keys):
        raise WitnessRefusal(
            403,
            "witness.untrusted",
            f"no signature on the checkpoint verifies against a key trusted for {checkpoint.origin!r}",
            Category.FORBIDDEN,
        )
    if request.old_size > checkpoint.size:
        raise malformed(f"old size {request.old_size} is above the checkpoint's size {checkpoint.size}")
    if checkpoint.size == 0 and checkpoint.root_hash != EMPTY_ROOT:
        # A tree of no leaves has one root: any other is an invalid checkpoint, never cosigned.
        raise malformed("a checkpoint of size 0 must carry the empty tree's root")
    size = cosigned.size if cosigned else 0
    if request.old_size != size:
        raise WitnessRefusal(
            409,
            "witness.old_size_mismatch",
            f"old size {request.old_size} is not the size this witness cosigned, {size}",
            Category.CONFLICT,
            size=size,
        )
    root = cosigned.root_hash if cosigned else EMPTY_ROOT
    if size == checkpoint.size and size > 0 and root != checkpoint.root_hash:
        raise WitnessRefusal(
            409,
            "witness.root_mismatch",
            f"a checkpoint of size {size} with another root than the one cosigned: a split view",
            Category.CONFLICT,
        )
    try:
        verify_consistency(size, checkpoint.size, request.proof, root, checkpoint.root_hash)
    except (IntegrityError, MalformedError) as e:
        raise WitnessRefusal(
            422,
            "witness.bad_proof",
            f"no consistency from the cosigned size {size} to {checkpoint.size}: {e}",
            Category.INVALID,
        ) from e
    return checkpoint


def _signed_by(note: str, key: NoteVerifier) -> bool:
    try:
        open_note(note, key)
    except (IntegrityError, MalformedError):
        return False
    return True
