"""Witness cosignatures (C2SP tlog-cosignature v1) and the witness's consistency rule."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest

from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, parse_note, sign_checkpoint
from ledger.errors import IntegrityError, MalformedError
from ledger.merkle import CompactRange
from ledger.proofs import consistency_nodes
from ledger.witness import (
    CosignerSigner,
    CosignerVerifier,
    SplitView,
    advance,
    cosignatures,
    cosigned_message,
    generate_cosigner,
)

ORIGIN = "example.com/log"
WITNESS = CosignerSigner.from_string(generate_cosigner("witness.example/w1")[0])


def test_the_signed_message_is_the_spec_s() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == (b"cosignature/v1\ntime 1679315147\n" + body.encode())


def test_key_id_uses_algorithm_byte_4() -> None:
    v = WITNESS.verifier()
    expected = hashlib.sha256(v.name.encode() + b"\n\x04" + v.public_key).digest()[:4]
    assert v.key_hash == expected
    assert base64.b64decode(str(v).split("+", 2)[2])[0] == 0x04


def test_a_cosignature_line_round_trips() -> None:
    body = Checkpoint(ORIGIN, 5, b"\x01" * 32).body().decode()
    cos = WITNESS.cosign(body, 1_700_000_000)
    line = parse_note(body + "\n" + cos.line()).signatures[0]
    assert struct.unpack(">Q", line.signature[:8]) == (1_700_000_000,)
    checked = WITNESS.verifier().check(body, line)
    assert (checked.timestamp, checked.checkpoint.size) == (1_700_000_000, 5)


def test_a_cosignature_of_another_body_is_refused() -> None:
    body = Checkpoint(ORIGIN, 5, b"\x01" * 32).body().decode()
    other = Checkpoint(ORIGIN, 6, b"\x01" * 32).body().decode()
    line = parse_note(body + "\n" + WITNESS.cosign(other, 1).line()).signatures[0]
    with pytest.raises(IntegrityError, match="invalid cosignature"):
        WITNESS.verifier().check(body, line)


def test_cosignatures_ignores_unknown_and_bad_lines() -> None:
    operator = NoteSigner.from_string(generate_signer(ORIGIN)[0])
    body = Checkpoint(ORIGIN, 5, b"\x01" * 32).body().decode()
    stranger = CosignerSigner.from_string(generate_cosigner("stranger.example")[0])
    note = parse_note(
        sign_checkpoint(Checkpoint(ORIGIN, 5, b"\x01" * 32), operator)
        + WITNESS.cosign(body, 1).line()
        + stranger.cosign(body, 1).line()
    )
    assert [c.name for c in cosignatures(note, [WITNESS.verifier()])] == [WITNESS.name]
    assert cosignatures(note, []) == []


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "name+zz+AAAA",
        "name+01020304+AQ==",
        "a b+01020304+" + base64.b64encode(b"\x04" + b"\0" * 32).decode(),
    ],
)
def test_malformed_witness_keys_are_named(vkey: str) -> None:
    with pytest.raises(MalformedError):
        CosignerVerifier.from_string(vkey)


def test_a_wrong_key_id_is_refused() -> None:
    name, _, key = str(WITNESS.verifier()).split("+", 2)
    with pytest.raises(MalformedError, match="does not match"):
        CosignerVerifier.from_string(f"{name}+00000000+{key}")


def tree(n: int, salt: bytes = b"") -> tuple[CompactRange, dict[tuple[int, int], bytes]]:
    nodes: dict[tuple[int, int], bytes] = {}
    t = CompactRange()
    for i in range(n):
        t.append(
            hashlib.sha256(salt + i.to_bytes(4, "big")).digest(),
            lambda lv, ix, h: nodes.__setitem__((lv, ix), h),
        )
    return t, nodes


def proof(nodes: dict[tuple[int, int], bytes], m: int, n: int) -> list[bytes]:
    plan = consistency_nodes(m, n)
    return plan.rehash([nodes[tuple(i)] for i in plan.ids])  # type: ignore[index]


def test_advance_accepts_an_extension() -> None:
    t5, _ = tree(5)
    t9, nodes = tree(9)
    advance(Checkpoint(ORIGIN, 5, t5.root()), "", Checkpoint(ORIGIN, 9, t9.root()), "", proof(nodes, 5, 9))


def test_advance_refuses_a_rewritten_history() -> None:
    t5, _ = tree(5)
    t9, nodes = tree(9, salt=b"other")
    with pytest.raises(SplitView, match="not consistent"):
        advance(
            Checkpoint(ORIGIN, 5, t5.root()), "a", Checkpoint(ORIGIN, 9, t9.root()), "b", proof(nodes, 5, 9)
        )


def test_advance_refuses_a_smaller_tree() -> None:
    t5, _ = tree(5)
    t3, _ = tree(3)
    with pytest.raises(SplitView, match="smaller"):
        advance(Checkpoint(ORIGIN, 5, t5.root()), "", Checkpoint(ORIGIN, 3, t3.root()), "", [])


def test_advance_refuses_same_size_other_root() -> None:
    t5, _ = tree(5)
    with pytest.raises(SplitView):
        advance(Checkpoint(ORIGIN, 5, t5.root()), "", Checkpoint(ORIGIN, 5, b"\x02" * 32), "", [])
