"""Offline proof files (C2SP tlog-proof): the format round-trips, and a change of any byte of
the file, or of the record, makes it fail."""

from __future__ import annotations

import pytest

from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.errors import IntegrityError, LedgerError, MalformedError
from ledger.merkle import CompactRange, NodeID, leaf_hash
from ledger.proof_file import HEADER, ProofFile, parse_proof, verify_proof
from ledger.proofs import inclusion_nodes
from ledger.witness import CosignerSigner, generate_cosigner

ORIGIN = "example.com/log"
LOG = NoteSigner.from_string(generate_signer(ORIGIN)[0])
WITNESS = CosignerSigner.from_string(generate_cosigner("witness.example/w1")[0])
OTHER = CosignerSigner.from_string(generate_cosigner("witness.example/w2")[0])
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(21)]
NODES: dict[NodeID, bytes] = {}
TREE = CompactRange()
for h in LEAVES:
    TREE.append(h, lambda lv, ix, x: NODES.update({NodeID(lv, ix): x}))
CHECKPOINT = Checkpoint(ORIGIN, 21, TREE.root())
NOTE = sign_checkpoint(CHECKPOINT, LOG) + WITNESS.cosign(CHECKPOINT.body().decode(), 1700000000).line()


def proof_of(index: int, extra: bytes | None = None) -> ProofFile:
    plan = inclusion_nodes(index, 21)
    return ProofFile(index, tuple(plan.rehash([NODES[i] for i in plan.ids])), NOTE, extra)


def holds(text: bytes, leaf: bytes, witnesses: list[CosignerSigner] | None = None) -> bool:
    try:
        keys = [w.verifier() for w in (witnesses if witnesses is not None else [WITNESS])]
        verify_proof(parse_proof(text), leaf, LOG.verifier(), keys)
    except LedgerError:
        return False
    return True


def test_the_file_has_the_spec_s_shape_and_round_trips() -> None:
    p = proof_of(13, extra=b"certificate 7")
    text = p.text()
    assert text.startswith(f"{HEADER}\nextra Y2VydGlmaWNhdGUgNw==\nindex 13\n")
    assert f"\n\n{ORIGIN}\n21\n" in text and text.endswith(NOTE)
    assert parse_proof(text) == p
    proven = verify_proof(p, LEAVES[13], LOG.verifier(), [WITNESS.verifier()])
    assert (proven.index, proven.checkpoint, [c.name for c in proven.witnessed_by]) == (
        13,
        CHECKPOINT,
        [WITNESS.name],
    )


@pytest.mark.parametrize("index", [0, 1, 12, 20])
def test_every_record_s_proof_holds_and_only_for_its_leaf(index: int) -> None:
    text = proof_of(index).text().encode()
    assert holds(text, LEAVES[index])
    assert not holds(text, LEAVES[(index + 1) % 21])


def test_a_change_of_any_byte_makes_it_fail() -> None:
    """Every byte but the extra data's, which the spec leaves unauthenticated."""
    text = proof_of(12, extra=b"x").text().encode()
    assert holds(text, LEAVES[12])
    extra = range(text.index(b"\nextra ") + len(b"\nextra "), text.index(b"\nindex "))
    for i in range(len(text)):
        for flip in (0x01, 0x20):
            changed = text[:i] + bytes([text[i] ^ flip]) + text[i + 1 :]
            if i in extra:
                continue
            assert not holds(changed, LEAVES[12]), f"byte {i} ^ {flip:#x} still holds"


def test_a_missing_cosignature_fails() -> None:
    text = proof_of(3).text().encode()
    assert holds(text, LEAVES[3], [])
    assert not holds(text, LEAVES[3], [WITNESS, OTHER])
    with pytest.raises(
        IntegrityError,
        match=r"1 of the witnesses cosigned the checkpoint, 2 required \(missing: witness.example/w2\)",
    ):
        verify_proof(parse_proof(text), LEAVES[3], LOG.verifier(), [WITNESS.verifier(), OTHER.verifier()])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no empty line before its checkpoint"),
        ("c2sp.org/tlog-proof@v2\nindex 1\n\n" + NOTE, "must start with"),
        ("c2sp.org/tlog-proof@v1\n\n" + NOTE, "needs an 'index <n>' line"),
        ("c2sp.org/tlog-proof@v1\nindex 01\n\n" + NOTE, "needs an 'index <n>' line"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n" + NOTE, "must be 32 bytes"),
        ("c2sp.org/tlog-proof@v1\nindex 1\n\nnot a note", "no blank line"),
    ],
    ids=["empty", "other-version", "no-index", "leading-zero", "short-hash", "no-note"],
)
def test_a_malformed_file_is_refused(text: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_proof(text)
