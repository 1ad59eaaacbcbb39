"""What an entry's rule will read, found ahead of its batch (``reads_ahead``, outside the writer
lock), is what the batch would find itself: the same rows to prefetch for every example of
every kind under every version, the payload decoded once; found under another version than the
one in force it is not used, and an entry whose payload does not decode is still refused at
admission as before."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contracts.engine import Decodings, ReadsAhead, reads_ahead, rows_to_prefetch
from contracts.examples import EXAMPLES, example
from contracts.registry import RecordContext, Rule
from contracts.rulebook import RULEBOOK
from ledger.entry import SignedEntry, build_entry, parse_submission
from ledger.signing import SigningKey

ORIGIN = "test.rural-ledger/ahead"
KEY = SigningKey.generate()


def signed(kind: str, payload: dict[str, Any]) -> SignedEntry:
    entry = build_entry(
        origin=ORIGIN,
        actor="county",
        key_id=KEY.key_id,
        kind=kind,
        payload=payload,
        entry_id=str(uuid.uuid4()),
        signed_at="2026-01-01T00:00:00.000000Z",
    )
    return parse_submission({"entry": entry, "sig": KEY.sign_entry(entry)}, ORIGIN)


def batch() -> list[SignedEntry]:
    return [signed(kind, example(kind)) for kind in EXAMPLES] + [
        signed("key.added", {"org": "county", "public_key": "not base64"}),
        signed("household.registered", {"unknown": 1}),
        signed("no.such_kind", {}),
    ]


@pytest.mark.parametrize("version", RULEBOOK.versions)
def test_rows_found_ahead_are_the_rows_the_batch_finds(version: int) -> None:
    entries = batch()
    plain = rows_to_prefetch(entries, version, Decodings())
    decodings = Decodings()
    ahead: list[ReadsAhead | None] = [reads_ahead(s, version) for s in entries]
    assert all(a is not None for a in ahead)
    assert rows_to_prefetch(entries, version, decodings, ahead) == plain
    for s, found in zip(entries, ahead, strict=True):
        assert found is not None
        if found.payload is not None:  # decoded ahead: admission does not decode it again
            assert found.rule is not None
            assert decodings.payload(found.rule, s) is found.payload


def test_rows_found_under_another_version_are_not_used() -> None:
    entries = batch()
    first, current = RULEBOOK.versions[0], RULEBOOK.current
    stale: list[ReadsAhead | None] = [reads_ahead(s, first) for s in entries]
    decodings = Decodings()
    assert rows_to_prefetch(entries, current, decodings, stale) == rows_to_prefetch(
        entries, current, Decodings()
    )
    listed = next(s for s in entries if s.kind == "exchange.listed")  # revised since version 1
    rule = RULEBOOK.in_force("exchange.listed", current)
    assert rule is not None
    assert decodings.payload(rule, listed) is not None


def test_a_payload_that_does_not_decode_is_found_with_no_rows_and_no_payload() -> None:
    bad = signed("key.added", {"org": "county", "public_key": 7})
    found = reads_ahead(bad, RULEBOOK.current)
    assert found is not None and found.payload is None and found.hints == ()
    unknown = reads_ahead(signed("no.such_kind", {}), RULEBOOK.current)
    assert unknown == ReadsAhead(RULEBOOK.current, None, None, ())


def test_a_prefetch_that_fails_is_left_to_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(payload: Any, rec: RecordContext) -> list[Any]:
        raise ZeroDivisionError("a bug in a prefetch")

    rule = RULEBOOK.in_force("key.added", RULEBOOK.current)
    assert rule is not None
    broken: Rule[Any] = Rule(rule.kind, rule.payload_type, rule.apply, failing, rule.version, rule.signed_by)
    monkeypatch.setitem(RULEBOOK._in_force[RULEBOOK.current], "key.added", broken)
    entry = signed("key.added", example("key.added"))
    assert reads_ahead(entry, RULEBOOK.current) is None
    with pytest.raises(ZeroDivisionError):
        rows_to_prefetch([entry], RULEBOOK.current, Decodings(), [None])
