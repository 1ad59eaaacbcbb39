"""Every base64 field accepts only the one canonical encoding of its bytes."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, parse_note, sign_note
from ledger.errors import MalformedError
from ledger.signing import b64, decode_b64


def with_padding_bits(text: str) -> str:
    """The same bytes with non-zero padding bits: the last data character's unused low bits
    set (for a length with 1 or 2 padding characters)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    data = text.rstrip("=")
    unused = 4 if text.endswith("==") else 2
    last = alphabet.index(data[-1]) | ((1 << unused) - 1)
    return data[:-1] + alphabet[last] + text[len(data) :]


@given(st.binary(min_size=1, max_size=80).filter(lambda raw: len(raw) % 3 != 0))
def test_same_bytes_with_padding_bits_refused(raw: bytes) -> None:
    other = with_padding_bits(b64(raw))
    assert other != b64(raw) and base64.b64decode(other) == raw
    with pytest.raises(MalformedError, match="canonical"):
        decode_b64(other, what="sig")


@given(st.binary(max_size=80))
def test_canonical_round_trip(raw: bytes) -> None:
    assert decode_b64(b64(raw), what="x") == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "QQ",
        "QQ=",
        "QQ==\n",
        " QQ==",
        "QQ==QQ==",
        "Q Q==",
        "QQ-_",
        "QUJD\n",
    ],
)
def test_non_base64_or_non_canonical_refused(text: str) -> None:
    if text == "":
        assert decode_b64(text, what="x") == b""
        return
    with pytest.raises(MalformedError):
        decode_b64(text, what="x")


def test_size_checked() -> None:
    with pytest.raises(MalformedError, match="must be 64 bytes, found 63"):
        decode_b64(b64(os.urandom(63)), size=64, what="sig")


def test_note_signature_with_padding_bits_refused() -> None:
    signer = NoteSigner.from_string(generate_signer("test.example/log")[0])
    note = sign_note("test.example/log\n1\n" + b64(bytes(32)) + "\n", signer)
    b64sig = note.rstrip("\n").rsplit(" ", 1)[1]
    parse_note(note)
    with pytest.raises(MalformedError, match="canonical"):
        parse_note(note.replace(b64sig, with_padding_bits(b64sig)))


def test_root_hash_with_padding_bits_refused() -> None:
    root = b64(bytes(range(32)))
    Checkpoint.from_body(f"test.example/log\n1\n{root}\n")
    with pytest.raises(MalformedError, match="canonical"):
        Checkpoint.from_body(f"test.example/log\n1\n{with_padding_bits(root)}\n")
