"""The witness protocol (C2SP tlog-witness) as pure code: parsing ``add-checkpoint`` bodies and
the status each request gets, in the spec's order of checks."""

from __future__ import annotations

import pytest

from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.merkle import CompactRange, NodeID, leaf_hash
from ledger.proofs import consistency_nodes
from ledger.signing import b64
from ledger.witness_protocol import (
    AddCheckpoint,
    Cosigned,
    WitnessRefusal,
    add_checkpoint_body,
    check_add_checkpoint,
    parse_add_checkpoint,
    parse_size_body,
)

ORIGIN = "example.com/log"
LOG = NoteSigner.from_string(generate_signer(ORIGIN)[0])
IMPOSTOR = NoteSigner.from_string(generate_signer(ORIGIN)[0])
NODES: dict[NodeID, bytes] = {}
TREE = CompactRange()
ROOTS = [TREE.root()]
for i in range(40):
    TREE.append(leaf_hash(i.to_bytes(4, "big")), lambda lv, ix, h: NODES.update({NodeID(lv, ix): h}))
    ROOTS.append(TREE.root())
TRUSTED = {ORIGIN: [LOG.verifier()]}
HASH = b64(bytes(32))


def note(size: int, signer: NoteSigner = LOG, origin: str = ORIGIN, root: bytes | None = None) -> str:
    return sign_checkpoint(Checkpoint(origin, size, ROOTS[size] if root is None else root), signer)


def proof(a: int, b: int) -> list[bytes]:
    plan = consistency_nodes(a, b)
    return plan.rehash([NODES[i] for i in plan.ids])


def state(size: int) -> Cosigned:
    return Cosigned(size, ROOTS[size], note(size))


def refusal(request: AddCheckpoint, cosigned: Cosigned | None) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as e:
        check_add_checkpoint(request, TRUSTED, cosigned)
    return e.value


def test_a_body_round_trips() -> None:
    body = add_checkpoint_body(10, proof(10, 20), note(20))
    assert body.startswith(b"old 10\n") and b"\n\nexample.com/log\n20\n" in body
    assert parse_add_checkpoint(body) == AddCheckpoint(10, tuple(proof(10, 20)), note(20))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "must start with an 'old <size>' line"),
        (b"old 10", "must start with an 'old <size>' line"),
        (b"old 010\n\n", "first line must be 'old <size>'"),
        (b"old -1\n\n", "first line must be 'old <size>'"),
        (b"old  1\n\n", "first line must be 'old <size>'"),
        (b"Old 1\n\n", "first line must be 'old <size>'"),
        (b"old 18446744073709551616\n\n", "first line must be 'old <size>'"),
        (b"old 1\n" + HASH.encode() + b"\n", "no empty line before the checkpoint"),
        (b"old 1\nnot base64!\n\n", "proof line 1"),
        (b"old 1\n" + b64(bytes(31)).encode() + b"\n\n", "must be 32 bytes"),
        (b"old 1\n" + (HASH + "\n").encode() * 64 + b"\n", "at most 63 lines"),
        (b"old 1\n\n\xff\xfe", "not UTF-8"),
    ],
    ids=[
        "empty",
        "no-newline",
        "leading-zero",
        "negative",
        "two-spaces",
        "capital-old",
        "size-2**64",
        "no-empty-line",
        "bad-base64",
        "short-hash",
        "64-proof-lines",
        "not-utf8",
    ],
)
def test_a_malformed_body_is_400(body: bytes, match: str) -> None:
    with pytest.raises(WitnessRefusal, match=match) as e:
        parse_add_checkpoint(body)
    assert e.value.status == 400 and e.value.code == "witness.malformed"


@pytest.mark.parametrize(
    "text",
    ["not a note\n", "example.com/log\n5\n\n", "example.com/log\nfive\nAAAA\n\n— x AAAAAAAA\n"],
    ids=["no-signatures", "no-root", "bad-size"],
)
def test_a_malformed_checkpoint_is_400(text: str) -> None:
    assert refusal(AddCheckpoint(0, (), text), None).status == 400


def test_the_first_checkpoint_is_taken_from_old_zero() -> None:
    assert check_add_checkpoint(AddCheckpoint(0, (), note(7)), TRUSTED, None).size == 7


def test_an_unknown_origin_is_404() -> None:
    other = NoteSigner.from_string(generate_signer("other.example/log")[0])
    r = refusal(AddCheckpoint(0, (), note(3, other, "other.example/log")), None)
    assert (r.status, r.code) == (404, "witness.unknown_origin")


def test_a_checkpoint_signed_by_another_key_is_403() -> None:
    r = refusal(AddCheckpoint(0, (), note(3, IMPOSTOR)), None)
    assert (r.status, r.code) == (403, "witness.untrusted")


def test_signatures_by_unknown_keys_are_ignored() -> None:
    theirs = note(3, IMPOSTOR)
    both = note(3) + theirs[theirs.index("\n\n") + 2 :]
    assert check_add_checkpoint(AddCheckpoint(0, (), both), TRUSTED, None).size == 3


def test_an_old_size_above_the_checkpoint_is_400() -> None:
    r = refusal(AddCheckpoint(9, (), note(5)), state(9))
    assert r.status == 400 and "above the checkpoint's size" in r.message


@pytest.mark.parametrize(("old", "held"), [(5, None), (8, 10), (0, 10), (12, 10)])
def test_an_old_size_not_the_witness_s_is_409_with_its_size(old: int, held: int | None) -> None:
    r = refusal(
        AddCheckpoint(old, tuple(proof(old, 20)) if old else (), note(20)), state(held) if held else None
    )
    assert (r.status, r.code, r.size) == (409, "witness.old_size_mismatch", held or 0)


def test_the_same_size_again_is_cosigned_and_another_root_is_409() -> None:
    assert check_add_checkpoint(AddCheckpoint(10, (), note(10)), TRUSTED, state(10)).size == 10
    r = refusal(AddCheckpoint(10, (), note(10, root=ROOTS[11])), state(10))
    assert (r.status, r.code, r.size) == (409, "witness.root_mismatch", None)


def test_a_consistent_checkpoint_is_cosigned() -> None:
    assert (
        check_add_checkpoint(AddCheckpoint(10, tuple(proof(10, 37)), note(37)), TRUSTED, state(10)).size == 37
    )


def test_a_bad_proof_is_422() -> None:
    good = proof(10, 37)
    for bad in ([bytes(32), *good[1:]], good[:-1], [*good, bytes(32)], []):
        r = refusal(AddCheckpoint(10, tuple(bad), note(37)), state(10))
        assert (r.status, r.code) == (422, "witness.bad_proof")


def test_a_fork_is_422() -> None:
    """Another history of 37 leaves: its root is not reached from the cosigned 10."""
    fork = note(37, root=ROOTS[38])
    r = refusal(AddCheckpoint(10, tuple(proof(10, 37)), fork), state(10))
    assert r.status == 422


def test_a_proof_from_zero_must_be_empty() -> None:
    r = refusal(AddCheckpoint(0, (bytes(32),), note(5)), None)
    assert r.status == 422


def test_the_409_size_body() -> None:
    assert parse_size_body("123\n") == 123
    for bad in ("123", "0123\n", "-1\n", "\n", "1 2\n"):
        with pytest.raises(ValueError, match="a tlog size body"):
            parse_size_body(bad)


def test_an_empty_checkpoint_with_another_root_is_400_never_cosigned() -> None:
    assert check_add_checkpoint(AddCheckpoint(0, (), note(0)), TRUSTED, None).size == 0
    r = refusal(AddCheckpoint(0, (), note(0, root=ROOTS[5])), None)
    assert (r.status, r.code) == (400, "witness.malformed")
    assert "size 0" in r.message
