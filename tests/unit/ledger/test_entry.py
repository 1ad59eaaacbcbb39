"""Entry parsing and record bytes."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import canonical_bytes
from ledger.entry import Record, build_entry, format_time, parse_submission, parse_time
from ledger.errors import Rejection
from ledger.signing import KeyFile, SigningKey, key_id_of

KEY = SigningKey.from_seed(bytes(range(32)))
ORIGIN = "test.example/ledger"


def submission(body: dict[str, object], **over: object) -> dict[str, object]:
    entry = build_entry(
        origin=ORIGIN,
        actor="county",
        key_id=KEY.key_id,
        kind="org.registered",
        payload=body,
        entry_id=str(uuid.UUID(int=7)),
        signed_at="2026-01-02T03:04:05.000000Z",
    )
    entry.update(over)
    return {"entry": entry, "sig": KEY.sign_entry(entry)}


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20))
payloads = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        json_leaf,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    ),
    max_size=5,
)


@given(payloads, st.integers(0, 2**40))
def test_spliced_record_bytes_equal_the_canonical_encoding(payload: dict, seq: int) -> None:
    signed = parse_submission(submission(payload), ORIGIN)
    at = "2026-11-29T12:00:00.123456Z"
    spliced = Record.from_signed(seq, at, signed)
    assert spliced == Record.make(seq, at, signed.entry, signed.sig)
    assert spliced.body == canonical_bytes(
        {"seq": seq, "recorded_at": at, "entry": signed.entry, "sig": signed.sig}
    )


def test_key_id_is_sha256_prefix() -> None:
    import hashlib

    assert KEY.key_id == hashlib.sha256(KEY.public_key).hexdigest()[:16] == key_id_of(KEY.public_key)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("v", 2, "entry.unsupported_version"),
        ("v", True, "entry.unsupported_version"),
        ("id", "not-a-uuid", "entry.malformed"),
        ("id", str(uuid.UUID(int=0xABCDEF)).upper(), "entry.malformed"),
        ("kind", "Org.Registered", "entry.malformed"),
        ("actor", "", "entry.malformed"),
        ("key", "XYZ", "entry.malformed"),
        ("signed_at", "2026-01-02 03:04:05", "entry.malformed"),
        ("payload", [], "entry.malformed"),
        ("ledger", "other/ledger", "entry.wrong_ledger"),
        ("user", "not-a-uuid", "entry.malformed"),
        ("user", str(uuid.UUID(int=0xABCDEF)).upper(), "entry.malformed"),
        ("user", 5, "entry.malformed"),
        ("user", None, "entry.malformed"),
    ],
)
def test_each_bad_field_is_named(field: str, value: object, code: str) -> None:
    with pytest.raises(Rejection) as e:
        parse_submission(submission({}, **{field: value}), ORIGIN)
    assert e.value.code == code


def test_extra_field_refused() -> None:
    item = submission({})
    item["entry"]["extra"] = 1  # type: ignore[index]
    with pytest.raises(Rejection, match="unexpected"):
        parse_submission(item, ORIGIN)


def test_the_acting_user_is_part_of_what_is_signed_and_recorded() -> None:
    """An entry may name the organisation's user who acted (a pseudonymous UUID): the field
    is signed with the rest, so nobody can add, change or strip it without breaking the
    signature, and it is in the record's bytes."""
    user = str(uuid.UUID(int=42))
    item = submission({}, user=user)
    signed = parse_submission(item, ORIGIN)
    assert signed.entry["user"] == user
    assert b'"user":"' + user.encode() + b'"' in Record.from_signed(1, "2026-01-02T03:04:06Z", signed).body
    plain = submission({})
    assert plain["sig"] != item["sig"] and "user" not in plain["entry"]  # type: ignore[operator]
    built = build_entry(
        origin=ORIGIN,
        actor="county",
        key_id=KEY.key_id,
        kind="org.registered",
        payload={},
        entry_id=str(uuid.UUID(int=7)),
        signed_at="2026-01-02T03:04:05.000000Z",
        user=user,
    )
    assert built == item["entry"]


def test_time_round_trip() -> None:
    t = parse_time("2026-11-29T12:00:00.5Z")
    assert format_time(t) == "2026-11-29T12:00:00.500000Z"
    with pytest.raises(ValueError):
        parse_time("2026-11-29T12:00:00+08:00")


def test_key_file_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.key"
    KeyFile("county", KEY).write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert KeyFile.read(path).key.key_id == KEY.key_id
    with pytest.raises(FileExistsError):
        KeyFile("county", KEY).write(path)
