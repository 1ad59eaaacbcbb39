"""The genesis record, checked by the same engine the appender and the verifier run."""

from __future__ import annotations

import uuid

import pytest

from contracts.engine import admit
from contracts.errors import RuleViolation
from contracts.state import MemoryReader, StagedState
from ledger.entry import build_entry, parse_submission
from ledger.signing import SigningKey, b64

ORIGIN = "test.example/genesis"
KEY = SigningKey.from_seed(bytes(32))


def signed(kind: str, payload: dict, actor: str = "county"):  # type: ignore[no-untyped-def]
    entry = build_entry(
        origin=ORIGIN,
        actor=actor,
        key_id=KEY.key_id,
        kind=kind,
        payload=payload,
        entry_id=str(uuid.uuid4()),
        signed_at="2026-01-01T00:00:00.000000Z",
    )
    return parse_submission({"entry": entry, "sig": KEY.sign_entry(entry)}, ORIGIN)


def root(**over: object) -> dict:
    return {
        "id": "county",
        "name": "文登区",
        "type": "county",
        "parent": None,
        "public_keys": [b64(KEY.public_key)],
        "area_code": "371003",
        **over,
    }


def test_genesis_registers_the_root() -> None:
    admit(StagedState(MemoryReader()), signed("org.registered", root()), 0, "2026-01-01T00:00:00Z")


def test_genesis_must_be_an_org_registration() -> None:
    with pytest.raises(RuleViolation) as e:
        admit(StagedState(MemoryReader()), signed("policy.set", {"numbers": {}}), 0, "2026-01-01T00:00:00Z")
    assert e.value.code == "ledger.bad_genesis"


def test_root_must_be_a_county_acting_for_itself() -> None:
    with pytest.raises(RuleViolation) as e:
        admit(
            StagedState(MemoryReader()),
            signed("org.registered", root(type="township", area_code="371003100")),
            0,
            "2026-01-01T00:00:00Z",
        )
    assert e.value.code == "org.bad_root"


def test_genesis_signed_by_a_stranger() -> None:
    other = SigningKey.from_seed(bytes([1]) * 32)
    with pytest.raises(RuleViolation) as e:
        admit(
            StagedState(MemoryReader()),
            signed("org.registered", root(public_keys=[b64(other.public_key)])),
            0,
            "2026-01-01T00:00:00Z",
        )
    assert e.value.code == "signature.unknown_key"
