"""The one Ed25519 acceptance rule, libsodium's, behind ``ledger.signing.verify_signature``
(docs/architecture.md, "Signature rule set"), proved with vectors.

RFC 8032's vectors must verify. Every edge case has its expected outcome asserted: those of
"Taming the many EdDSAs" (Chalkias et al.), kept in ``ledger/data/ed25519_vectors.json``, and
ones built here with ``tests.ed25519_support``, each whose refusal is a rule's (the bare
equation holds) recorded as such. The service's batch check, checkpoint notes and witness
cosignatures must give the same answer as ``verify_signature`` for every vector.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from ledger.errors import IntegrityError
from ledger.note_keys import NoteSignature
from ledger.signing import SigningKey, verify_batch, verify_signature
from ledger.witness import CosignerVerifier, cosigned_message
from tests import ed25519_support as ed

DATA = json.loads((Path(__file__).parent / "ledger" / "data" / "ed25519_vectors.json").read_text())


@dataclass(frozen=True)
class Vector:
    """A signature check and the answer libsodium's rules give; ``equation`` is what the bare
    equation [S]B = R + [k]A says (None where the vector is not about it)."""

    name: str
    public_key: bytes
    signature: bytes
    message: bytes
    accepted: bool
    equation: bool | None = None


RFC8032 = [
    Vector(
        v["name"],
        bytes.fromhex(v["public_key"]),
        bytes.fromhex(v["signature"]),
        bytes.fromhex(v["message"]),
        True,
    )
    for v in DATA["rfc8032"]["vectors"]
]
SPECCHECK = [
    Vector(
        f"speccheck-{c['case']}-{c['name']}",
        bytes.fromhex(c["public_key"]),
        bytes.fromhex(c["signature"]),
        bytes.fromhex(c["message"]),
        c["libsodium"],
    )
    for c in DATA["speccheck"]["cases"]
]

# --- vectors built here -----------------------------------------------------------------------
# Each message is a checkpoint body (note envelope) or the cosignature/v1 message over one
# (cosignature envelope), so that the note and witness paths can carry the vector whole; the
# messages are searched (``grind``) for a challenge k that makes the case what it claims.

ORIGIN = "ledger.example/ed25519-vectors"
ROOT = hashlib.sha256(b"ed25519 vectors").digest()
COSIGNED_BODY = Checkpoint(ORIGIN, 7, ROOT).body().decode()
Envelope = Callable[[int], bytes]


def checkpoint_body(n: int) -> bytes:
    return Checkpoint(ORIGIN, n, ROOT).body()


def cosignature_message(n: int) -> bytes:
    return cosigned_message(COSIGNED_BODY, n)


A = ed.secret_scalar(b"ed25519 vectors: the signer") % ed.L  # a prime-order key [a]B
R_NONCE = ed.secret_scalar(b"ed25519 vectors: the nonce") % ed.L
TORSION = ed.torsion_points()  # TORSION[i] = [i]T8, T8 of order 8
T8 = TORSION[1]

# Every 32-byte string that names a point of small order: the 8 canonical encodings, then the
# non-canonical ones: x = 0 with the sign bit set (y = 1 and y = -1), and y = p, p + 1 (y >= p).
SMALL_ORDER = [ed.encode(t) for t in TORSION] + [
    ed.encoding(1, 1),
    ed.encoding(ed.P - 1, 1),
    ed.encoding(ed.P, 0),
    ed.encoding(ed.P, 1),
    ed.encoding(ed.P + 1, 0),
    ed.encoding(ed.P + 1, 1),
]
CANONICAL_SMALL_ORDER = set(SMALL_ORDER[:8])


def grind(envelope: Envelope, r_enc: bytes, a_enc: bytes, wanted: Callable[[int], bool]) -> bytes:
    """The first message whose challenge k = H(R || A || M) is ``wanted``."""
    for n in itertools.count():
        message = envelope(n)
        if wanted(ed.challenge(r_enc, a_enc, message)):
            return message
    raise AssertionError("unreachable")


def kills(torsion: ed.Point, t: ed.Point = T8) -> Callable[[int], bool]:
    """k for which ``torsion`` + [k]``t`` is the identity (both of order dividing 8)."""
    return lambda k: ed.equal(ed.add(torsion, ed.mul(k % 8, t)), ed.IDENTITY)


def signed(
    name: str,
    envelope: Envelope,
    *,
    accepted: bool,
    a_point: ed.Point,
    r_point: ed.Point,
    s_of: Callable[[int], int],
    wanted: Callable[[int], bool] = lambda k: True,
    a_enc: bytes | None = None,
    r_enc: bytes | None = None,
    equation: bool | None = None,
) -> Vector:
    """A vector with R = ``r_point`` (sent as ``r_enc``) and S = ``s_of(k)``, by key
    ``a_point`` (sent as ``a_enc``), over the first message whose k is ``wanted``."""
    a_enc = a_enc or ed.encode(a_point)
    r_enc = r_enc or ed.encode(r_point)
    message = grind(envelope, r_enc, a_enc, wanted)
    s = s_of(ed.challenge(r_enc, a_enc, message))
    return Vector(name, a_enc, r_enc + s.to_bytes(32, "little"), message, accepted, equation)


def constructed(envelope: Envelope) -> list[Vector]:
    prime_key = ed.mul(A, ed.B)
    mixed_key = ed.add(prime_key, T8)
    nonce = ed.mul(R_NONCE, ed.B)
    honest = signed(
        "prime-order-A-honest",
        envelope,
        accepted=True,
        a_point=prime_key,
        r_point=nonce,
        s_of=lambda k: (R_NONCE + k * A) % ed.L,
        equation=True,
    )
    s_honest = int.from_bytes(honest.signature[32:], "little")
    vectors = [
        honest,
        Vector(
            "S-plus-L",
            honest.public_key,
            honest.signature[:32] + (s_honest + ed.L).to_bytes(32, "little"),
            honest.message,
            False,
            True,
        ),
        Vector("wrong-message", honest.public_key, honest.signature, envelope(1), False),
        Vector("signature-truncated", honest.public_key, honest.signature[:63], honest.message, False),
        Vector("signature-one-byte-long", honest.public_key, honest.signature + b"\0", honest.message, False),
        Vector("public-key-truncated", honest.public_key[:31], honest.signature, honest.message, False),
        Vector(
            "R-bit-flipped",
            honest.public_key,
            bytes([honest.signature[0] ^ 1]) + honest.signature[1:],
            honest.message,
            False,
        ),
        # A key of mixed order, [a]B + T8: refused by no rule; the equation without the
        # cofactor decides, so it holds only when 8 divides k.
        signed(
            "mixed-order-A-cofactorless-equation-holds",
            envelope,
            accepted=True,
            a_point=mixed_key,
            r_point=nonce,
            s_of=lambda k: (R_NONCE + k * A) % ed.L,
            wanted=lambda k: k % 8 == 0,
            equation=True,
        ),
        signed(
            "mixed-order-A-only-cofactored-equation-holds",
            envelope,
            accepted=False,
            a_point=mixed_key,
            r_point=nonce,
            s_of=lambda k: (R_NONCE + k * A) % ed.L,
            wanted=lambda k: k % 8 != 0,
            equation=False,
        ),
        signed(
            "mixed-order-A-and-R-cofactorless-equation-holds",
            envelope,
            accepted=True,
            a_point=mixed_key,
            r_point=ed.add(nonce, TORSION[3]),
            s_of=lambda k: (R_NONCE + k * A) % ed.L,
            wanted=kills(TORSION[3]),
            equation=True,
        ),
        signed(
            "prime-order-A-mixed-order-R-only-cofactored-equation-holds",
            envelope,
            accepted=False,
            a_point=prime_key,
            r_point=ed.add(nonce, T8),
            s_of=lambda k: (R_NONCE + k * A) % ed.L,
            equation=False,
        ),
        signed(
            "prime-order-A-identity-R",
            envelope,
            accepted=False,
            a_point=prime_key,
            r_point=ed.IDENTITY,
            s_of=lambda k: k * A % ed.L,
            equation=True,
        ),
    ]
    for enc in SMALL_ORDER:
        point = ed.decode(enc)
        assert point is not None
        kind = "small-order" if enc in CANONICAL_SMALL_ORDER else "non-canonical-small-order"
        # A key of small order: [k]A vanishes for k a multiple of its order, so S = r holds.
        vectors.append(
            signed(
                f"{kind}-A-{enc.hex()}",
                envelope,
                accepted=False,
                a_point=point,
                a_enc=enc,
                r_point=nonce,
                s_of=lambda k: R_NONCE,
                wanted=kills(ed.IDENTITY, point),
                equation=True,
            )
        )
        # R of small order, with the mixed key's torsion part cancelling it: S = [k]a holds.
        vectors.append(
            signed(
                f"{kind}-R-{enc.hex()}",
                envelope,
                accepted=False,
                a_point=mixed_key,
                r_point=point,
                r_enc=enc,
                s_of=lambda k: k * A % ed.L,
                wanted=kills(point),
                equation=True,
            )
        )
    return vectors


NOTE_VECTORS = constructed(checkpoint_body)
COSIGNATURE_VECTORS = constructed(cosignature_message)
EVERY_VECTOR = RFC8032 + SPECCHECK + NOTE_VECTORS + COSIGNATURE_VECTORS


def names(vectors: list[Vector]) -> list[str]:
    return [v.name for v in vectors]


# --- RFC 8032 section 7.1 ---------------------------------------------------------------------


@pytest.mark.parametrize("vector", DATA["rfc8032"]["vectors"], ids=lambda v: v["name"])
def test_rfc8032_vector_is_made_by_cryptography_and_verified(vector: dict[str, str]) -> None:
    key = SigningKey.from_seed(bytes.fromhex(vector["secret_key"]))
    message = bytes.fromhex(vector["message"])
    assert key.public_key.hex() == vector["public_key"]
    assert key.sign(message).hex() == vector["signature"]
    assert verify_signature(key.public_key, bytes.fromhex(vector["signature"]), message)
    assert not verify_signature(key.public_key, bytes.fromhex(vector["signature"]), message + b"\0")


def test_rfc8032_vectors_are_the_five_of_section_7_1() -> None:
    assert names(RFC8032) == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    assert len(RFC8032[3].message) == 1023
    assert RFC8032[4].message == hashlib.sha512(b"abc").digest()


# --- the edge cases ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", SPECCHECK + NOTE_VECTORS, ids=names(SPECCHECK + NOTE_VECTORS))
def test_edge_case_outcome(vector: Vector) -> None:
    assert verify_signature(vector.public_key, vector.signature, vector.message) is vector.accepted


ABOUT_THE_EQUATION = [v for v in NOTE_VECTORS if v.equation is not None]


@pytest.mark.parametrize("vector", ABOUT_THE_EQUATION, ids=names(ABOUT_THE_EQUATION))
def test_the_equation_says_what_the_vector_claims(vector: Vector) -> None:
    """A refusal where the equation holds is a rule's: the vector tests that rule."""
    assert ed.permissive_verify(vector.public_key, vector.signature, vector.message) is vector.equation
    if "only-cofactored" in vector.name:
        assert ed.cofactored_verify(vector.public_key, vector.signature, vector.message)


def test_the_small_order_encodings_name_the_eight_torsion_points() -> None:
    points = [ed.decode(enc) for enc in SMALL_ORDER]
    assert all(p is not None and ed.order_divides(p, 8) for p in points)
    assert len(CANONICAL_SMALL_ORDER) == 8
    assert ed.encode(T8).hex() == "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
    assert not ed.order_divides(T8, 4)
    assert [ed.encode(t) for t in TORSION].count(bytes([1]) + bytes(31)) == 1  # the identity, once


def test_the_speccheck_cases_refuse_all_but_the_mixed_order_one() -> None:
    assert [v.accepted for v in SPECCHECK] == [i == 3 for i in range(12)]


# --- every side gives the same answer ---------------------------------------------------------


def test_the_batch_check_gives_the_same_answers() -> None:
    work = [(v.public_key, v.signature, v.message) for v in EVERY_VECTOR]
    assert verify_batch(work) == [v.accepted for v in EVERY_VECTOR]


@pytest.mark.parametrize("verifier", [NoteVerifier, CosignerVerifier])
def test_the_note_key_verifiers_give_the_same_answers(
    verifier: type[NoteVerifier] | type[CosignerVerifier],
) -> None:
    answers = [verifier.of("v", v.public_key).verify(v.message, v.signature) for v in EVERY_VECTOR]
    assert answers == [v.accepted for v in EVERY_VECTOR]


@pytest.mark.parametrize("vector", NOTE_VECTORS, ids=names(NOTE_VECTORS))
def test_a_checkpoint_note_opens_exactly_when_accepted(vector: Vector) -> None:
    verifier = NoteVerifier.of(ORIGIN, vector.public_key)
    body = vector.message.decode()
    note = body + "\n" + NoteSignature(ORIGIN, verifier.key_hash, vector.signature).line()
    if vector.accepted:
        assert open_checkpoint(note, verifier, ORIGIN) == Checkpoint.from_body(body)
    else:
        with pytest.raises(IntegrityError, match="invalid note signature"):
            open_checkpoint(note, verifier, ORIGIN)


@pytest.mark.parametrize("vector", COSIGNATURE_VECTORS, ids=names(COSIGNATURE_VECTORS))
def test_a_cosignature_checks_exactly_when_accepted(vector: Vector) -> None:
    witness = CosignerVerifier.of("witness.example/w1", vector.public_key)
    timestamp = int(vector.message.split(b"\n")[1].removeprefix(b"time "))
    line = NoteSignature(witness.name, witness.key_hash, struct.pack(">Q", timestamp) + vector.signature)
    if vector.accepted:
        assert witness.check(COSIGNED_BODY, line).timestamp == timestamp
    else:
        with pytest.raises(IntegrityError, match="cosignature"):
            witness.check(COSIGNED_BODY, line)
