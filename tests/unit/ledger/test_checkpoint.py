"""Signed-note checkpoints: interoperability with Go's sumdb/note, and one test per bad input."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    generate_signer,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
)
from ledger.errors import IntegrityError, MalformedError

# golang.org/x/mod/sumdb/note note_test.go
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

ORIGIN = "ledger.example/weihai"
ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()
SKEY, VKEY = generate_signer(ORIGIN)
SIGNER, VERIFIER = NoteSigner.from_string(SKEY), NoteVerifier.from_string(VKEY)


def signed(body: str) -> str:
    """A note over ``body`` with a valid signature, so only the body can be at fault."""
    return sign_note(body, SIGNER)


# --- interoperability with Go's golang.org/x/mod/sumdb/note ---------------------------------


def test_go_signature_reproduced_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, NoteSigner.from_string(PETER_SKEY)) == GO_TEXT + "\n" + PETER_SIG


def test_go_note_with_two_signatures_opens_for_each_key() -> None:
    text = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    for vkey in (PETER_VKEY, ENOCH_VKEY):
        note = open_note(text, NoteVerifier.from_string(vkey))
        assert note.body == GO_TEXT
        assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
        assert note.text() == text


def test_go_key_strings_round_trip() -> None:
    signer = NoteSigner.from_string(PETER_SKEY)
    assert str(signer) == PETER_SKEY
    assert str(signer.verifier()) == PETER_VKEY == str(NoteVerifier.from_string(PETER_VKEY))
    assert signer.key_hash.hex() == "c74f20a3"
    assert PETER_SKEY[-20:] not in repr(signer)  # the seed stays out of logs


def test_go_invalid_signature_rejected() -> None:
    bad = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(IntegrityError, match=r"invalid note signature for key PeterNeumann\+c74f20a3"):
        open_note(bad, NoteVerifier.from_string(PETER_VKEY))


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
    ids=["wrong-key-length", "unknown-algorithm"],
)
def test_go_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(MalformedError, match="must be 0x01 \\(Ed25519\\) and 32 bytes"):
        NoteVerifier.from_string(vkey)


@pytest.mark.parametrize(
    ("key", "parse"), [(PETER_VKEY, NoteVerifier.from_string), (PETER_SKEY, NoteSigner.from_string)]
)
def test_go_mangled_keys_rejected(key: str, parse) -> None:  # type: ignore[no-untyped-def]
    """As Go's TestNewVerifier/TestNewSigner: every proper substring and one-char change fails."""
    mangled = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)} - {key}
    mangled |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    accepted = []
    for text in mangled:
        try:
            parse(text)
            accepted.append(text)
        except MalformedError:
            pass
    assert accepted == []


# --- round trip -----------------------------------------------------------------------


def test_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 42, ROOT)
    assert open_checkpoint(sign_checkpoint(checkpoint, SIGNER), VERIFIER, ORIGIN) == checkpoint


def test_body_format() -> None:
    assert Checkpoint(ORIGIN, 0, ROOT).body() == f"{ORIGIN}\n0\n{ROOT_B64}\n".encode()


def test_note_format() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), SIGNER)
    body, sig_line = note.split("\n\n")
    assert body == f"{ORIGIN}\n7\n{ROOT_B64}"
    raw = base64.b64decode(sig_line.removeprefix(f"\u2014 {ORIGIN} ").removesuffix("\n"))
    assert raw[:4] == VERIFIER.key_hash and len(raw) == 68


def test_generated_key_strings_parse_back() -> None:
    assert str(SIGNER) == SKEY and str(VERIFIER) == VKEY
    assert SIGNER.verifier() == VERIFIER


def test_extension_lines_kept() -> None:
    note = signed(f"{ORIGIN}\n3\n{ROOT_B64}\nTimestamp: 1679349379\n")
    assert open_checkpoint(note, VERIFIER).extensions == ("Timestamp: 1679349379",)


def test_accepts_note_bytes() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), SIGNER).encode()
    assert open_checkpoint(note, VERIFIER).size == 1


def test_unknown_key_signature_ignored_and_kept() -> None:
    witness_skey, _ = generate_signer("witness.example")
    note = sign_checkpoint(Checkpoint(ORIGIN, 9, ROOT), SIGNER)
    cosigned = note + NoteSigner.from_string(witness_skey).sign(b"anything").line()
    assert open_checkpoint(cosigned, VERIFIER).size == 9
    assert [s.name for s in parse_note(cosigned).signatures] == [ORIGIN, "witness.example"]


# --- malformed notes --------------------------------------------------------------------


def test_missing_blank_line() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), SIGNER).replace("\n\n", "\n")
    with pytest.raises(MalformedError, match="no blank line before its signatures"):
        open_checkpoint(note, VERIFIER)


def test_no_signature_lines() -> None:
    with pytest.raises(MalformedError, match="no signature lines"):
        parse_note(f"{ORIGIN}\n1\n{ROOT_B64}\n\n")


def test_last_signature_line_without_newline() -> None:
    with pytest.raises(MalformedError, match="does not end with a newline"):
        parse_note(GO_TEXT + "\n" + PETER_SIG[:-1])


def test_signature_line_with_hyphen_instead_of_em_dash() -> None:
    with pytest.raises(MalformedError, match="does not start with '— '"):
        parse_note(GO_TEXT + "\n" + "-" + PETER_SIG[1:])


def test_unexpected_line_after_signatures() -> None:
    with pytest.raises(MalformedError, match=r"'Unexpected line\.' does not start"):
        parse_note(GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n")


def test_signature_key_name_with_space() -> None:
    with pytest.raises(MalformedError, match="not standard base64"):
        parse_note(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"))


def test_signature_key_name_with_plus() -> None:
    with pytest.raises(MalformedError, match="signature key name 'a\\+b' must be"):
        parse_note(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "a+b"))


def test_signature_too_short() -> None:
    with pytest.raises(MalformedError, match="has 3 bytes, needs at least 5"):
        parse_note(GO_TEXT + "\n— PeterNeumann QUJD\n")


def test_too_many_signatures() -> None:
    with pytest.raises(MalformedError, match="101 signatures, at most 100"):
        parse_note(GO_TEXT + "\n" + PETER_SIG * 101)


def test_control_character_in_note() -> None:
    with pytest.raises(MalformedError, match="control character '\\\\x01'"):
        parse_note("\x01" + GO_TEXT + "\n" + PETER_SIG)


def test_note_not_utf8() -> None:
    with pytest.raises(MalformedError, match="not valid UTF-8"):
        parse_note(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode())


# --- malformed checkpoint bodies (validly signed, so only the body is at fault) ------------


def test_too_few_lines() -> None:
    with pytest.raises(MalformedError, match="needs 3 lines, found 2"):
        open_checkpoint(signed(f"{ORIGIN}\n1\n"), VERIFIER)


def test_empty_origin() -> None:
    with pytest.raises(MalformedError, match="origin line is empty"):
        open_checkpoint(signed(f"\n1\n{ROOT_B64}\n"), VERIFIER)


@pytest.mark.parametrize(
    "size",
    ["12a", "-1", "007", "+5", " 5", "", "１２", "18446744073709551616"],
    ids=[
        "not-a-number",
        "negative",
        "leading-zeros",
        "plus-sign",
        "space",
        "empty",
        "fullwidth-digits",
        "2**64",
    ],
)
def test_bad_size(size: str) -> None:
    with pytest.raises(MalformedError, match=r"checkpoint size .* is not a decimal without leading zeros"):
        open_checkpoint(signed(f"{ORIGIN}\n{size}\n{ROOT_B64}\n"), VERIFIER)


def test_bad_base64_root() -> None:
    with pytest.raises(MalformedError, match="checkpoint root hash is not standard base64"):
        open_checkpoint(signed(f"{ORIGIN}\n1\n{ROOT_B64[:-2]}!\n"), VERIFIER)


def test_hex_root_instead_of_base64() -> None:
    with pytest.raises(MalformedError, match="root hash must be 32 bytes, found 48"):
        open_checkpoint(signed(f"{ORIGIN}\n1\n{ROOT.hex()}\n"), VERIFIER)


def test_wrong_root_length() -> None:
    short = base64.b64encode(ROOT[:31]).decode()
    with pytest.raises(MalformedError, match="root hash must be 32 bytes, found 31"):
        open_checkpoint(signed(f"{ORIGIN}\n1\n{short}\n"), VERIFIER)


def test_empty_extension_line() -> None:
    with pytest.raises(MalformedError, match="must be one non-empty line"):
        Checkpoint.from_body(f"{ORIGIN}\n1\n{ROOT_B64}\n\n")


def test_body_without_final_newline() -> None:
    with pytest.raises(MalformedError, match="must end with a newline"):
        Checkpoint.from_body(f"{ORIGIN}\n1\n{ROOT_B64}")


@pytest.mark.parametrize(
    ("origin", "size", "root"), [("a\nb", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 1, ROOT[:31])]
)
def test_checkpoint_refuses_bad_fields(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(MalformedError):
        Checkpoint(origin, size, root)


def test_sign_note_refuses_body_without_final_newline() -> None:
    with pytest.raises(MalformedError, match="must end with a newline"):
        sign_note("abc", SIGNER)


def test_generate_signer_refuses_bad_name() -> None:
    with pytest.raises(MalformedError, match="must be non-empty, without spaces or '\\+'"):
        generate_signer("two words")


# --- verification failures --------------------------------------------------------------


def test_no_signature_for_this_key() -> None:
    other, _ = generate_signer(ORIGIN)  # same name, another key: another key hash
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), NoteSigner.from_string(other))
    with pytest.raises(IntegrityError, match=f"no signature by key {ORIGIN}\\+{VERIFIER.key_hash.hex()}"):
        open_checkpoint(note, VERIFIER)


def test_bad_signature() -> None:
    body = Checkpoint(ORIGIN, 1, ROOT).body()
    signature = SIGNER.sign(body)
    forged = type(signature)(signature.name, signature.key_hash, bytes(64))
    with pytest.raises(IntegrityError, match="invalid note signature"):
        open_checkpoint(body.decode() + "\n" + forged.line(), VERIFIER)


def test_tampered_body() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 10, ROOT), SIGNER).replace("\n10\n", "\n11\n")
    with pytest.raises(IntegrityError, match="invalid note signature"):
        open_checkpoint(note, VERIFIER)


def test_wrong_origin() -> None:
    note = sign_checkpoint(Checkpoint("other.example/log", 1, ROOT), SIGNER)
    with pytest.raises(
        IntegrityError, match=r"origin is 'other\.example/log', expected 'ledger\.example/weihai'"
    ):
        open_checkpoint(note, VERIFIER, ORIGIN)
